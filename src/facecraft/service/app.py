"""``create_app``: the FastAPI app of ``facecraft serve``. The one place errors become HTTP statuses.

The lifespan opens the job store (applying its restart policy), starts the worker pool and the
retention sweep, and stops them on shutdown (running jobs go back to the queue).
"""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from facecraft import __version__
from facecraft.errors import (
    CorruptMediaError,
    EmptyMediaError,
    FacecraftError,
    ImageTooLargeError,
    MediaNotFoundError,
    NoFaceError,
    NoVideoStreamError,
    SelectionError,
    UnsupportedCodecError,
    UnsupportedFormatError,
)
from facecraft.service.api import router
from facecraft.service.errors import (
    EmptyUploadError,
    InvalidOptionError,
    JobNotFoundError,
    JobStateError,
    QueueFullError,
    UploadNotFoundError,
    UploadTooLargeError,
    WrongKindError,
)
from facecraft.service.face_picker import FacePicker
from facecraft.service.guard import GuardMiddleware, body_limit_for
from facecraft.service.retention import sweep
from facecraft.service.runner import JobRunner, LibraryRunner
from facecraft.service.settings import ServiceSettings
from facecraft.service.state import ServiceState
from facecraft.service.store import JobStore
from facecraft.service.uploads import RejectedUploadError
from facecraft.service.worker import WorkerPool

STATIC_DIR = Path(__file__).parent / "static"

HTTP_STATUSES: tuple[tuple[type[FacecraftError], int], ...] = (
    (JobNotFoundError, 404),
    (UploadNotFoundError, 404),
    (MediaNotFoundError, 404),
    (JobStateError, 409),
    (QueueFullError, 429),
    (UploadTooLargeError, 413),
    (ImageTooLargeError, 413),
    (EmptyUploadError, 400),
    (EmptyMediaError, 400),
    (UnsupportedFormatError, 415),
    (NoVideoStreamError, 415),
    (UnsupportedCodecError, 415),
    (CorruptMediaError, 422),
    (WrongKindError, 422),
    (InvalidOptionError, 422),
    (SelectionError, 422),
    (NoFaceError, 422),
)
DEFAULT_ERROR_STATUS = 422
"""Any other FacecraftError is about the request (a file or an option the library refused)."""

_log = logging.getLogger("facecraft.service")


def http_status(error: FacecraftError) -> int:
    """The HTTP status for a typed error (a refused upload: the status of the media error under it)."""
    if isinstance(error, RejectedUploadError):
        error = error.cause
    for kind, status in HTTP_STATUSES:
        if isinstance(error, kind):
            return status
    return DEFAULT_ERROR_STATUS


PATTERN_HINTS = {
    "faces": "choose all, largest, index:N (N counts faces from the left, from 0) or reference",
    "job_id": "a job id is 32 lowercase hex digits, as POST /api/jobs returns it",
}
UPLOAD_ID_HINT = "an upload id is 32 lowercase hex digits, as POST /api/uploads returns it"


def validation_sentence(error: RequestValidationError) -> str:
    """FastAPI's list of problems as one sentence: "invalid 'blend': Input should be ..."."""
    parts = []
    for problem in error.errors():
        where = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(where) or "request"
        kind = problem.get("type")
        if kind == "missing":
            parts.append(f"'{field}' is required")
        elif kind == "string_pattern_mismatch" and (field in PATTERN_HINTS or field.endswith("upload_id")):
            parts.append(f"invalid '{field}': {PATTERN_HINTS.get(field, UPLOAD_ID_HINT)}")
        else:
            parts.append(f"invalid '{field}': {problem.get('msg', 'not allowed')}")
    return "; ".join(parts) or "the request is not valid"


class _Sweeper:
    """Runs the retention sweep now and then every ``sweep_every_s`` on a thread of its own."""

    def __init__(self, store: JobStore, settings: ServiceSettings) -> None:
        self._store = store
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="facecraft-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sweep(self._store, self._settings)
            except Exception:  # a failed sweep must not end the thread; it is retried later
                _log.exception("retention sweep failed")
            self._stop.wait(self._settings.sweep_every_s)


def create_app(settings: ServiceSettings, runner: JobRunner | None = None) -> FastAPI:
    """The app; ``runner`` defaults to the library's swap pipeline (tests pass a fake)."""
    job_runner = runner if runner is not None else LibraryRunner(settings.config_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for folder in (settings.uploads_dir, settings.jobs_dir, settings.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        store = JobStore(settings.db_path)
        pool = WorkerPool(store, job_runner, settings.jobs_dir, settings.workers)
        sweeper = _Sweeper(store, settings)
        app.state.service = ServiceState(settings, store, pool, FacePicker())
        pool.start()
        sweeper.start()
        try:
            yield
        finally:
            sweeper.stop()
            if not pool.stop(settings.shutdown_timeout_s):
                _log.warning("a job did not stop in time; it is handled when the server starts again")
            store.close()

    app = FastAPI(
        title="facecraft",
        version=__version__,
        description="Face-swap jobs whose every output is marked as synthetic.",
        lifespan=lifespan,
    )
    app.add_middleware(
        GuardMiddleware, token=settings.token, body_limit=body_limit_for(settings.max_upload_bytes)
    )
    _add_error_handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        page = STATIC_DIR / "index.html"
        if not page.is_file():
            raise JobStateError("the web page is not installed; reinstall facecraft with its 'serve' extra")
        return FileResponse(page, media_type="text/html")

    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def on_facecraft_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, FacecraftError)
        status = http_status(error)
        headers = {}
        if isinstance(error, QueueFullError):
            headers["Retry-After"] = str(error.retry_after_s)
        return JSONResponse({"detail": str(error)}, status_code=status, headers=headers)

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return JSONResponse({"detail": validation_sentence(error)}, status_code=422)

    app.add_exception_handler(FacecraftError, on_facecraft_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)

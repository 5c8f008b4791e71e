"""The REST API under /api (see the contract in the module's routes). No logic of its own beyond
turning requests into calls on the store, the uploads and the worker pool; errors are typed and mapped
to HTTP statuses in :mod:`facecraft.service.app`."""

import asyncio
import datetime as dt
import json
import mimetypes
import time
from collections.abc import AsyncIterator
from pathlib import Path as FsPath
from typing import Annotated, get_args

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from facecraft import __version__
from facecraft.blend.compositor import FOREHEAD_MODES, BlendMode, ColorMode, CompositeSettings, ForeheadMode
from facecraft.media.writer import VideoCodec
from facecraft.pipeline.swap_builder import photo_swapper_names
from facecraft.provenance.verify import verify
from facecraft.service import schemas
from facecraft.service.errors import (
    InvalidOptionError,
    JobNotFoundError,
    JobStateError,
    QueueFullError,
    UploadNotFoundError,
    WrongKindError,
)
from facecraft.service.jobs import JobFiles, JobNames, JobOptions, JobRecord, JsonDict, job_json, result_name
from facecraft.service.state import ServiceState, get_state
from facecraft.service.store import UploadRecord
from facecraft.service.uploads import MediaFacts, StoredFile, link_or_copy, new_id, remove_tree, store_upload

ID_PATTERN = r"^[0-9a-f]{32}$"
FACES_PATTERN = r"^(all|largest|reference|index:[0-9]{1,3})$"
FACE_CHOICES = ("all", "largest", "index:N", "reference")
FACES_HELP = "all | largest | index:N (from GET /api/uploads/{id}/faces) | reference (+ reference_upload_id)"
EVENTS_EVERY_S = 0.25
RETRY_AFTER_S = 10
DELETE_WAIT_S = 5.0
MAX_SECONDS = 7 * 24 * 3600.0
MAX_OFFSET = 10**9

State = Annotated[ServiceState, Depends(get_state)]
JobId = Annotated[str, Path(pattern=ID_PATTERN, description="A job id (32 hex digits).")]
UploadId = Annotated[str, Path(pattern=ID_PATTERN, description="An upload id (32 hex digits).")]
FormId = Annotated[str | None, Form(pattern=ID_PATTERN)]

DEFAULT_BLEND: BlendMode = CompositeSettings().blend
DEFAULT_COLOR: ColorMode = CompositeSettings().color

router = APIRouter(prefix="/api", responses=schemas.ERRORS)


@router.get("/health", response_model=schemas.Health)
def health() -> JsonDict:
    return {"status": "ok", "version": __version__}


@router.get("/options", response_model=schemas.Options)
def options(state: State) -> JsonDict:
    return {
        "swappers": list(photo_swapper_names()),
        "blend": list(get_args(BlendMode)),
        "color": list(get_args(ColorMode)),
        "faces": list(FACE_CHOICES),
        "codecs": list(get_args(VideoCodec)),
        "forehead": list(FOREHEAD_MODES),
        "max_upload_bytes": state.settings.max_upload_bytes,
        "defaults": {
            "swapper": "mesh",
            "blend": DEFAULT_BLEND,
            "color": DEFAULT_COLOR,
            "codec": "h264",
            "forehead": "auto",
        },
    }


# --- uploads -------------------------------------------------------------------------------------


@router.post("/uploads", status_code=201, response_model=schemas.Upload)
def create_upload(state: State, file: Annotated[UploadFile, File()]) -> JsonDict:
    """Store an image or video for later use by a job (probed now; refused when unreadable)."""
    settings = state.settings
    stored = store_upload(file.file, file.filename, settings.uploads_dir, settings.max_upload_bytes)
    record = UploadRecord(
        id=stored.path.stem,
        kind=stored.facts.kind,
        name=stored.name,
        file=stored.path.name,
        size_bytes=stored.size_bytes,
        width=stored.facts.width,
        height=stored.facts.height,
        duration_s=stored.facts.duration_s,
        created_at=_now(state),
    )
    state.store.add_upload(record)
    return record.to_json()


@router.get("/uploads/{upload_id}/faces", response_model=schemas.Faces)
def upload_faces(state: State, upload_id: UploadId) -> JsonDict:
    """The faces in an uploaded target, in ``index:N`` order, with thumbnails."""
    upload = _upload(state, upload_id)
    path = state.settings.uploads_dir / upload.file
    time_s, picks = state.picker.pick(path, upload.kind, upload.duration_s)
    return {
        "upload_id": upload.id,
        "frame_time_s": round(time_s, 3),
        "faces": [pick.to_json() for pick in picks],
    }


# --- jobs ----------------------------------------------------------------------------------------


@router.post("/jobs", status_code=201, response_model=schemas.Job)
def create_job(
    state: State,
    source: Annotated[UploadFile | None, File(description="Photo of the person to swap in.")] = None,
    target: Annotated[UploadFile | None, File(description="Video or image whose faces are replaced.")] = None,
    source_upload_id: FormId = None,
    target_upload_id: FormId = None,
    reference_upload_id: FormId = None,
    faces: Annotated[str, Form(pattern=FACES_PATTERN, description=FACES_HELP)] = "all",
    swapper: Annotated[str, Form(description="One of GET /api/options 'swappers'.")] = "mesh",
    blend: Annotated[BlendMode, Form()] = DEFAULT_BLEND,
    color: Annotated[ColorMode, Form()] = DEFAULT_COLOR,
    codec: Annotated[VideoCodec, Form()] = "h264",
    crf: Annotated[int, Form(ge=0, le=51)] = 18,
    label: Annotated[str, Form(max_length=100, description="Visible caption; empty: none.")] = "",
    start_s: Annotated[float | None, Form(ge=0, le=MAX_SECONDS, allow_inf_nan=False)] = None,
    end_s: Annotated[float | None, Form(gt=0, le=MAX_SECONDS, allow_inf_nan=False)] = None,
    report: Annotated[bool, Form()] = True,
    forehead: Annotated[
        ForeheadMode,
        Form(
            description="auto: the forehead is swapped, fading out, when the photo's is clear (no fringe); "
            "on: always; off: the face stops above the brows."
        ),
    ] = "auto",
    keep_occluders: Annotated[
        bool, Form(description="Keep the source photo's glasses, fringe or hand instead of filling them.")
    ] = False,
    glasses: Annotated[
        bool, Form(description="Draw glasses found in the source photo rigidly over the swapped face.")
    ] = True,
    keep_lips: Annotated[
        bool, Form(description="Keep the target's own lips (for a source photo with a pout or a grin).")
    ] = False,
    target_glasses: Annotated[
        bool, Form(description="Keep the glasses the target wears in the video on the swapped face.")
    ] = True,
    outline: Annotated[
        bool, Form(description="Give the face the source's outline too (the hair beside it follows).")
    ] = False,
) -> JsonDict:
    """Queue a swap of ``source`` into ``target`` (files, or ids from POST /api/uploads)."""
    job_options = _check_options(
        JobOptions(
            faces,
            swapper,
            blend,
            color,
            codec,
            crf,
            label.strip() or None,
            start_s,
            end_s,
            report,
            forehead,
            keep_occluders,
            glasses,
            keep_lips,
            target_glasses,
            outline,
        ),
        reference_upload_id,
    )
    if state.store.count_queued() >= state.settings.max_queued:
        raise QueueFullError(state.settings.max_queued, RETRY_AFTER_S)
    job_id = new_id()
    folder = state.settings.jobs_dir / job_id
    folder.mkdir(parents=True)
    try:
        job = _add_job(
            state,
            job_id,
            job_options,
            (source, source_upload_id),
            (target, target_upload_id),
            reference_upload_id,
        )
    except BaseException:
        remove_tree(folder)
        raise
    state.pool.wake()
    return _job_json(state, job)


@router.get("/jobs", response_model=schemas.JobList)
def list_jobs(
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JsonDict:
    """Jobs, newest first."""
    jobs, total = state.store.list_jobs(limit, offset)
    return {"jobs": [_job_json(state, job) for job in jobs], "total": total}


@router.get("/jobs/{job_id}", response_model=schemas.Job)
def get_job(state: State, job_id: JobId) -> JsonDict:
    return _job_json(state, _job(state, job_id))


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`event: job` … `event: end`"}},
)
async def job_events(state: State, job_id: JobId, request: Request) -> StreamingResponse:
    """Server-sent events: ``job`` (the job JSON) on every change, then ``end`` once it is finished."""
    job = await asyncio.to_thread(_job, state, job_id)
    stream = _event_stream(state, job.id, request)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


@router.get("/jobs/{job_id}/result", response_class=FileResponse)
def job_result(state: State, job_id: JobId) -> FileResponse:
    """The finished, marked output (409 until the job is done)."""
    job = _job(state, job_id)
    if job.status != "done" or job.files.result is None:
        raise JobStateError(f"job {job.id} is {job.status}; its result can be downloaded once it is done")
    path = state.settings.jobs_dir / job.id / job.files.result
    return _file(path, f"facecraft-{job.id[:8]}{path.suffix}", "attachment")


@router.get("/jobs/{job_id}/target", response_class=FileResponse)
def job_target(state: State, job_id: JobId) -> FileResponse:
    """The original target, for side-by-side playback."""
    job = _job(state, job_id)
    path = state.settings.jobs_dir / job.id / job.files.target
    return _file(path, f"target-{job.id[:8]}{path.suffix}", "inline")


@router.post("/jobs/{job_id}/cancel", status_code=202, response_model=schemas.Job)
def cancel_job(state: State, job_id: JobId) -> JsonDict:
    """Cancel a queued job at once, or ask a running one to stop (it ends as ``cancelled``)."""
    job = _job(state, job_id)
    if job.is_terminal:
        raise JobStateError(f"job {job.id} is already {job.status}; there is nothing to cancel")
    _request_cancel(state, job.id)
    return _job_json(state, _job(state, job.id))


@router.delete("/jobs/{job_id}", status_code=204, response_class=Response)
def delete_job(state: State, job_id: JobId) -> Response:
    """Cancel the job if needed, then delete its files and its record."""
    job = _job(state, job_id)
    if not job.is_terminal:
        _request_cancel(state, job.id)
        _wait_until_stopped(state, job.id, DELETE_WAIT_S)
    state.store.delete_job(job.id)
    remove_tree(state.settings.jobs_dir / job.id)
    return Response(status_code=204)


# --- verify --------------------------------------------------------------------------------------


@router.post("/verify")
def verify_upload(state: State, file: Annotated[UploadFile, File()]) -> JSONResponse:
    """The same report as ``facecraft verify --json`` (keys ``watermark``, ``c2pa``, ``record``); the
    header ``X-Facecraft-Marked`` says ``true`` or ``false``, like the command's exit code."""
    settings = state.settings
    stored = store_upload(file.file, file.filename, settings.tmp_dir, settings.max_upload_bytes)
    try:
        report = verify(stored.path, config_dir=settings.config_dir)
        marked = "true" if report.marked else "false"
        return JSONResponse(report.to_json(), headers={"X-Facecraft-Marked": marked})
    finally:
        stored.path.unlink(missing_ok=True)


# --- helpers -------------------------------------------------------------------------------------


def _now(state: ServiceState) -> dt.datetime:
    return dt.datetime.fromtimestamp(state.store.now(), dt.UTC)


def _job(state: ServiceState, job_id: str) -> JobRecord:
    job = state.store.get_job(job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return job


def _upload(state: ServiceState, upload_id: str) -> UploadRecord:
    upload = state.store.get_upload(upload_id)
    if upload is None or not (state.settings.uploads_dir / upload.file).is_file():
        raise UploadNotFoundError(upload_id)
    return upload


def _job_json(state: ServiceState, job: JobRecord) -> JsonDict:
    return job_json(job, state.store.queue_position(job))


def _check_options(options: JobOptions, reference_upload_id: str | None) -> JobOptions:
    names = photo_swapper_names()
    if options.swapper not in names:
        raise InvalidOptionError(
            f"swapper '{options.swapper}' is not available here; choose one of: {', '.join(names)} "
            "(trained models swap from the command line: facecraft swap --model MODEL_DIR)"
        )
    if options.start_s is not None and options.end_s is not None and options.end_s <= options.start_s:
        raise InvalidOptionError(
            f"end_s ({options.end_s}) must be after start_s ({options.start_s}); give a later end"
        )
    if options.faces == "reference" and reference_upload_id is None:
        raise InvalidOptionError(
            "faces=reference needs a photo of the person to replace: upload it and give reference_upload_id"
        )
    return options


Input = tuple[UploadFile | None, str | None]


def _add_job(
    state: ServiceState,
    job_id: str,
    options: JobOptions,
    source: Input,
    target: Input,
    reference_upload_id: str | None,
) -> JobRecord:
    folder = state.settings.jobs_dir / job_id
    src = _input(state, "source", source, folder)
    tgt = _input(state, "target", target, folder)
    ref = _input(state, "reference", (None, reference_upload_id), folder) if reference_upload_id else None
    for role, stored in (("source", src), ("reference", ref)):
        if stored is not None and stored.facts.kind != "image":
            raise WrongKindError(
                f"the {role} must be a photo, but '{stored.name}' is a video; choose an image of the person"
            )
    files = JobFiles(
        src.path.name,
        tgt.path.name,
        None if ref is None else ref.path.name,
        result_name(tgt.facts.kind, options.codec),
    )
    names = JobNames(src.name, tgt.name, None if ref is None else ref.name)
    job = state.store.add_job(job_id, options, files, names, state.settings.max_queued)
    if job is None:
        raise QueueFullError(state.settings.max_queued, RETRY_AFTER_S)
    return job


def _input(state: ServiceState, role: str, given: Input, folder: FsPath) -> StoredFile:
    """One input of a new job, as a file in the job's folder: uploaded now, or linked from an upload."""
    upload_file, upload_id = given
    if upload_file is not None and upload_id is not None:
        raise InvalidOptionError(f"give the {role} as a file or as {role}_upload_id, not both")
    if upload_file is not None:
        limit = state.settings.max_upload_bytes
        stored = store_upload(upload_file.file, upload_file.filename, folder, limit)
        path = stored.path.replace(folder / f"{role}{stored.facts.suffix}")
        return StoredFile(path, stored.name, stored.size_bytes, stored.facts)
    if upload_id is None:
        raise InvalidOptionError(
            f"the {role} is missing: send it as a file '{role}' or give {role}_upload_id"
        )
    upload = _upload(state, upload_id)
    path = folder / f"{role}{FsPath(upload.file).suffix}"
    link_or_copy(state.settings.uploads_dir / upload.file, path)
    return StoredFile(path, upload.name, upload.size_bytes, _facts(upload))


def _facts(upload: UploadRecord) -> MediaFacts:
    return MediaFacts(upload.kind, upload.width, upload.height, upload.duration_s, FsPath(upload.file).suffix)


def _request_cancel(state: ServiceState, job_id: str) -> None:
    if state.store.cancel_queued(job_id):
        return
    job = state.store.get_job(job_id)
    if job is not None and job.status == "running":
        state.store.mark_cancel_requested(job_id)
        state.pool.cancel(job_id)


def _wait_until_stopped(state: ServiceState, job_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = state.store.get_job(job_id)
        if job is None or job.is_terminal or job.status == "queued":
            return
        time.sleep(0.05)


def _file(path: FsPath, download_name: str, disposition: str) -> FileResponse:
    if not path.is_file():
        raise JobStateError(f"the file '{download_name}' is no longer on the server (it may have expired)")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(
        path, media_type=media_type, filename=download_name, content_disposition_type=disposition
    )


async def _event_stream(state: ServiceState, job_id: str, request: Request) -> AsyncIterator[str]:
    last = ""
    while True:
        job = await asyncio.to_thread(state.store.get_job, job_id)
        if job is None:
            yield _event("end", json.dumps({"id": job_id, "detail": "the job was deleted"}))
            return
        text = json.dumps(_job_json(state, job))
        if text != last:
            last = text
            yield _event("job", text)
        if job.is_terminal:
            yield _event("end", text)
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENTS_EVERY_S)


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"

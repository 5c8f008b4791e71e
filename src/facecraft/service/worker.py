"""The worker pool: N threads take queued jobs in submission order and run them through a ``JobRunner``.

Progress goes to the store at most ~4 times a second. Each running job has a cancel event; a user's
cancel ends it as ``cancelled``, a server stop puts it back in the queue (it runs again on the next
start). A runner that does not stop within the stop timeout is abandoned: its row stays ``running``
and the store's restart policy handles it when the server starts again.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.pipeline.swap import CancelledError
from facecraft.service.jobs import JobOutcome, JobRecord, JobSpec, JsonDict
from facecraft.service.runner import JobRunner
from facecraft.service.store import JobResult, JobStore
from facecraft.service.uploads import public_message

PROGRESS_EVERY_S = 0.25
IDLE_POLL_S = 0.5
SHUTDOWN_NOTE = "interrupted by a server shutdown; it runs again when the server starts"
DEFAULT_RESULT = "result.mp4"
INTERNAL_ERROR = "internal error while running the job ({kind}); the server log has the details"

_log = logging.getLogger("facecraft.service")


def job_spec(job: JobRecord, jobs_dir: Path) -> JobSpec:
    folder = jobs_dir / job.id
    files = job.files
    return JobSpec(
        job_id=job.id,
        source=folder / files.source,
        target=folder / files.target,
        output=folder / (files.result or DEFAULT_RESULT),
        options=job.options,
        reference=None if files.reference is None else folder / files.reference,
    )


def path_names(job: JobRecord, jobs_dir: Path) -> dict[str, str]:
    """Server paths of a job's files -> the names the user knows (for messages and reports)."""
    folder = jobs_dir / job.id
    pairs = {
        str(folder / job.files.source): job.names.source,
        str(folder / job.files.target): job.names.target,
        str(folder): "the job folder",
    }
    if job.files.reference and job.names.reference:
        pairs[str(folder / job.files.reference)] = job.names.reference
    # The library's messages also name files by their bare name ("source photo 'source.jpg'"); full
    # paths are longer, so they are replaced first.
    for private, public in list(pairs.items()):
        if public != "the job folder":
            pairs[Path(private).name] = public
    return pairs


@dataclass(slots=True)
class _Throttle:
    every_s: float
    last: float = field(default=0.0)

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            return True
        return False


class WorkerPool:
    """``start`` the threads, ``wake`` them when a job is queued, ``cancel`` a running job, ``stop``."""

    def __init__(self, store: JobStore, runner: JobRunner, jobs_dir: Path, workers: int) -> None:
        self._store = store
        self._runner = runner
        self._jobs_dir = jobs_dir
        self._count = workers
        self._threads: list[threading.Thread] = []
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._cancels: dict[str, threading.Event] = {}
        self._user_cancelled: set[str] = set()

    def start(self) -> None:
        for number in range(self._count):
            thread = threading.Thread(target=self._loop, name=f"facecraft-job-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def cancel(self, job_id: str) -> None:
        """Ask a running (or just claimed) job to stop; it ends as ``cancelled``."""
        with self._lock:
            self._user_cancelled.add(job_id)
            self._cancels.setdefault(job_id, threading.Event()).set()

    def stop(self, timeout_s: float) -> bool:
        """Stop taking jobs, tell running ones to stop, wait up to ``timeout_s``; True if all stopped."""
        self._stopping.set()
        with self._lock:
            for event in self._cancels.values():
                event.set()
        self.wake()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            job = self._store.claim_next()
            if job is None:
                with self._wake:
                    self._wake.wait(IDLE_POLL_S)
                continue
            self._run_one(job)

    def _cancel_event(self, job_id: str) -> threading.Event:
        with self._lock:
            event = self._cancels.setdefault(job_id, threading.Event())
            if self._stopping.is_set():
                event.set()
            return event

    def _run_one(self, job: JobRecord) -> None:
        cancel = self._cancel_event(job.id)
        if job.cancel_requested:
            cancel.set()
        throttle = _Throttle(PROGRESS_EVERY_S)

        def on_progress(done: int, total: int | None) -> None:
            if throttle.ready() and not self._stopping.is_set():
                self._store.update_progress(job.id, done, total)

        try:
            outcome = self._runner.run(job_spec(job, self._jobs_dir), on_progress, cancel)
            result = self._done(job, outcome)
        except CancelledError:
            result = self._cancelled(job)
        except FacecraftError as error:
            result = JobResult("failed", error=public_message(error, path_names(job, self._jobs_dir)))
        except Exception as error:  # a bug must not kill the worker thread
            _log.exception("job %s failed", job.id)
            result = JobResult("failed", error=INTERNAL_ERROR.format(kind=type(error).__name__))
        finally:
            with self._lock:
                self._cancels.pop(job.id, None)
                user_cancelled = job.id in self._user_cancelled
                self._user_cancelled.discard(job.id)
        self._write(job, result, user_cancelled)

    def _done(self, job: JobRecord, outcome: JobOutcome) -> JobResult:
        names = path_names(job, self._jobs_dir)
        return JobResult(
            "done",
            notes=tuple(public_message(note, names) for note in outcome.notes),
            timings=outcome.timings_json(),
            report=_scrub(outcome.report, names),
            provenance=_scrub(outcome.provenance, names),
            result_file=outcome.output.name,
            frames_done=outcome.frames,
        )

    def _cancelled(self, job: JobRecord) -> JobResult:
        return JobResult("cancelled", notes=("cancelled while running; no output was written",))

    def _write(self, job: JobRecord, result: JobResult, user_cancelled: bool) -> None:
        try:
            if result.status == "cancelled" and self._stopping.is_set() and not user_cancelled:
                self._store.requeue(job.id, SHUTDOWN_NOTE)
            else:
                self._store.finish(job.id, result)
        except Exception:  # the store was closed under an abandoned runner
            _log.warning("could not record the end of job %s (the server is stopping)", job.id)


def _scrub(data: JsonDict | None, names: dict[str, str]) -> JsonDict | None:
    """The JSON with server paths replaced by the user's names."""
    if data is None:
        return None
    text = json.dumps(data)
    for private, public in sorted(names.items(), key=lambda item: -len(item[0])):
        text = text.replace(json.dumps(private)[1:-1], json.dumps(public)[1:-1])
    scrubbed: JsonDict = json.loads(text)
    return scrubbed

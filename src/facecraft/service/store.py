"""The SQLite job store: jobs and uploads in ``data_dir/jobs.sqlite3`` (stdlib sqlite3, WAL).

One connection is shared by every thread behind a lock; each call is short (no call holds the lock
while a swap runs).

Restart policy (applied when the store opens): jobs still marked ``running`` were cut off by a stop.
Each is put back in the queue once, keeping its place (it runs first), with the note "restarted after
the server stopped"; a job that was cut off again after that restart is marked ``failed`` with that
reason, so a job that crashes the server cannot do so forever. Queued jobs stay queued in submission
order. No job is lost.
"""

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from facecraft.service.jobs import (
    JobFiles,
    JobNames,
    JobOptions,
    JobProgress,
    JobRecord,
    JobStatus,
    JsonDict,
    UploadKind,
)

MAX_RESTARTS = 1
RESTART_NOTE = "restarted after the server stopped"
RESTART_FAILED = (
    "the server stopped while this job was running, and again after it was restarted once; "
    "submit it again (if it keeps failing, try a shorter slice of the target)"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    options TEXT NOT NULL,
    files TEXT NOT NULL,
    names TEXT NOT NULL,
    frames_done INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER,
    error TEXT,
    notes TEXT NOT NULL DEFAULT '[]',
    timings TEXT,
    report TEXT,
    provenance TEXT,
    restarts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status_seq ON jobs (status, seq);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    duration_s REAL,
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """An uploaded file kept under ``uploads/<file>`` (a generated name) until the retention sweep."""

    id: str
    kind: UploadKind
    name: str
    file: str
    size_bytes: int
    width: int
    height: int
    duration_s: float | None
    created_at: dt.datetime

    def to_json(self) -> JsonDict:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
        }


@dataclass(frozen=True, slots=True)
class JobResult:
    """How a run ended, as the worker writes it back."""

    status: JobStatus
    error: str | None = None
    notes: tuple[str, ...] = ()
    timings: JsonDict | None = None
    report: JsonDict | None = None
    provenance: JsonDict | None = None
    result_file: str | None = None
    frames_done: int | None = None


class JobStore:
    """Jobs and uploads in SQLite. Thread-safe; ``clock`` gives epoch seconds (tests move it)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self.recovered = self._recover()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def now(self) -> float:
        return self._clock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- restart ---------------------------------------------------------------------------------

    def _recover(self) -> tuple[str, ...]:
        """Apply the restart policy (module doc); return the ids of the jobs it touched."""
        with self._tx() as conn:
            rows = conn.execute("SELECT id, restarts, notes FROM jobs WHERE status = 'running'").fetchall()
            for row in rows:
                notes = [*json.loads(row["notes"]), RESTART_NOTE]
                if row["restarts"] >= MAX_RESTARTS:
                    conn.execute(
                        "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                        (RESTART_FAILED, self.now(), row["id"]),
                    )
                    continue
                conn.execute(
                    "UPDATE jobs SET status = 'queued', restarts = restarts + 1, notes = ?, "
                    "started_at = NULL, frames_done = 0 WHERE id = ?",
                    (json.dumps(notes), row["id"]),
                )
        return tuple(str(row["id"]) for row in rows)

    # --- jobs ------------------------------------------------------------------------------------

    def add_job(
        self, job_id: str, options: JobOptions, files: JobFiles, names: JobNames, max_queued: int
    ) -> JobRecord | None:
        """Insert a queued job; None when ``max_queued`` jobs are already waiting (checked atomically)."""
        with self._tx() as conn:
            (queued,) = conn.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()
            if queued >= max_queued:
                return None
            conn.execute(
                "INSERT INTO jobs (id, status, created_at, options, files, names) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    "queued",
                    self.now(),
                    json.dumps(options.to_json()),
                    _files_json(files),
                    _names_json(names),
                ),
            )
        job = self.get_job(job_id)
        assert job is not None
        return job

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job_from_row(row)

    def list_jobs(self, limit: int, offset: int) -> tuple[list[JobRecord], int]:
        """Newest first, and the total count."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM jobs ORDER BY seq DESC LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
            (total,) = self._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()
        return [_job_from_row(row) for row in rows], int(total)

    def queue_position(self, job: JobRecord) -> int | None:
        """1 for the next job to run; None unless queued."""
        if job.status != "queued":
            return None
        with self._lock:
            (ahead,) = self._conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND seq < ?", (job.seq,)
            ).fetchone()
        return int(ahead) + 1

    def count_queued(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()
        return int(count)

    def claim_next(self) -> JobRecord | None:
        """Mark the oldest queued job running and return it (None when the queue is empty)."""
        with self._tx() as conn:
            row = conn.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET status = 'running', started_at = ?, finished_at = NULL WHERE id = ?",
                (self.now(), row["id"]),
            )
        return self.get_job(str(row["id"]))

    def update_progress(self, job_id: str, frames_done: int, frames_total: int | None) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE jobs SET frames_done = ?, frames_total = ? WHERE id = ? AND status = 'running'",
                (frames_done, frames_total, job_id),
            )

    def finish(self, job_id: str, result: JobResult) -> None:
        """Write how a running job ended."""
        with self._tx() as conn:
            query = "SELECT notes, files, frames_done FROM jobs WHERE id = ?"
            row = conn.execute(query, (job_id,)).fetchone()
            if row is None:
                return
            files = json.loads(row["files"]) | {"result": result.result_file}
            frames_done = row["frames_done"] if result.frames_done is None else result.frames_done
            conn.execute(
                "UPDATE jobs SET status = ?, finished_at = ?, error = ?, notes = ?, timings = ?, report = ?, "
                "provenance = ?, files = ?, frames_done = ? WHERE id = ?",
                (
                    result.status,
                    self.now(),
                    result.error,
                    json.dumps([*json.loads(row["notes"]), *result.notes]),
                    _dumps(result.timings),
                    _dumps(result.report),
                    _dumps(result.provenance),
                    json.dumps(files),
                    frames_done,
                    job_id,
                ),
            )

    def requeue(self, job_id: str, note: str) -> None:
        """Put a running job back at its place in the queue (it was stopped by a server shutdown)."""
        with self._tx() as conn:
            row = conn.execute("SELECT notes FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            conn.execute(
                "UPDATE jobs SET status = 'queued', started_at = NULL, frames_done = 0, notes = ? "
                "WHERE id = ? AND status = 'running'",
                (json.dumps([*json.loads(row["notes"]), note]), job_id),
            )

    def cancel_queued(self, job_id: str) -> bool:
        """Cancel the job if it is still queued; False when it is not (any more)."""
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE jobs SET status = 'cancelled', finished_at = ?, cancel_requested = 1 "
                "WHERE id = ? AND status = 'queued'",
                (self.now(), job_id),
            )
        return cursor.rowcount == 1

    def mark_cancel_requested(self, job_id: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))

    def delete_job(self, job_id: str) -> bool:
        with self._lock:
            cursor = self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return cursor.rowcount == 1

    def finished_before(self, cutoff: float) -> list[str]:
        """Ids of terminal jobs that finished before ``cutoff`` (epoch seconds)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ?",
                (cutoff,),
            ).fetchall()
        return [str(row["id"]) for row in rows]

    def all_job_ids(self) -> set[str]:
        with self._lock:
            rows = self._conn.execute("SELECT id FROM jobs").fetchall()
        return {str(row["id"]) for row in rows}

    # --- uploads ---------------------------------------------------------------------------------

    def add_upload(self, upload: UploadRecord) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO uploads (id, kind, name, file, size_bytes, width, height, duration_s, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.id,
                    upload.kind,
                    upload.name,
                    upload.file,
                    upload.size_bytes,
                    upload.width,
                    upload.height,
                    upload.duration_s,
                    upload.created_at.timestamp(),
                ),
            )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return None if row is None else _upload_from_row(row)

    def delete_upload(self, upload_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def uploads_before(self, cutoff: float) -> list[UploadRecord]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM uploads WHERE created_at < ?", (cutoff,)).fetchall()
        return [_upload_from_row(row) for row in rows]

    def all_upload_files(self) -> set[str]:
        with self._lock:
            rows = self._conn.execute("SELECT file FROM uploads").fetchall()
        return {str(row["file"]) for row in rows}


def _dumps(value: JsonDict | None) -> str | None:
    return None if value is None else json.dumps(value)


def _loads(text: str | None) -> JsonDict | None:
    return None if text is None else cast(JsonDict, json.loads(text))


def _moment(epoch_s: float | None) -> dt.datetime | None:
    return None if epoch_s is None else dt.datetime.fromtimestamp(epoch_s, dt.UTC)


def _files_json(files: JobFiles) -> str:
    return json.dumps(
        {"source": files.source, "target": files.target, "reference": files.reference, "result": files.result}
    )


def _names_json(names: JobNames) -> str:
    return json.dumps({"source": names.source, "target": names.target, "reference": names.reference})


def _job_from_row(row: sqlite3.Row) -> JobRecord:
    files = json.loads(row["files"])
    names = json.loads(row["names"])
    created = _moment(row["created_at"])
    assert created is not None
    return JobRecord(
        id=row["id"],
        seq=row["seq"],
        status=row["status"],
        created_at=created,
        options=JobOptions.from_json(json.loads(row["options"])),
        files=JobFiles(files["source"], files["target"], files.get("reference"), files.get("result")),
        names=JobNames(names["source"], names["target"], names.get("reference")),
        started_at=_moment(row["started_at"]),
        finished_at=_moment(row["finished_at"]),
        progress=JobProgress(row["frames_done"], row["frames_total"]),
        error=row["error"],
        notes=tuple(json.loads(row["notes"])),
        timings=_loads(row["timings"]),
        report=_loads(row["report"]),
        provenance=_loads(row["provenance"]),
        restarts=row["restarts"],
        cancel_requested=bool(row["cancel_requested"]),
    )


def _upload_from_row(row: sqlite3.Row) -> UploadRecord:
    created = _moment(row["created_at"])
    assert created is not None
    return UploadRecord(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        file=row["file"],
        size_bytes=row["size_bytes"],
        width=row["width"],
        height=row["height"],
        duration_s=row["duration_s"],
        created_at=created,
    )

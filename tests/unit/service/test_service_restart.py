"""Jobs survive a restart: queued jobs run in order, a job cut off while running is queued again once
(then failed with the reason), a clean stop puts running jobs back; and the retention sweep."""

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from facecraft.service.app import create_app
from facecraft.service.jobs import JobFiles, JobNames, JobOptions
from facecraft.service.retention import sweep
from facecraft.service.settings import ServiceSettings
from facecraft.service.store import RESTART_FAILED, RESTART_NOTE, JobStore
from facecraft.service.worker import SHUTDOWN_NOTE
from unit.service.service_fakes import FakeRunner, image_bytes, submit, wait_for


def test_a_crash_with_jobs_queued_and_running_loses_none(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(shutdown_timeout_s=0.3)
    gate = threading.Event()
    stuck = FakeRunner(gate, ignore_cancel=True)  # like a runner stuck in native code
    with TestClient(create_app(settings, stuck)) as client:
        running = submit(client)
        assert stuck.running.wait(5)
        queued = [submit(client)["id"] for _ in range(3)]
        assert wait_for(client, str(running["id"]), {"running"})
    # the stop timed out: the running row is left as it was, as after a crash
    after = FakeRunner()
    try:
        with TestClient(create_app(settings, after)) as client:
            restarted = wait_for(client, str(running["id"]), {"done"})
            assert RESTART_NOTE in restarted["notes"]
            for job_id in queued:
                assert wait_for(client, str(job_id), {"done"})["notes"] == ["made from 'them.png'"]
            assert after.started == [running["id"], *queued]  # the cut-off job keeps its place
            assert client.get("/api/jobs").json()["total"] == 4
    finally:
        gate.set()


def test_a_job_cut_off_twice_fails_with_the_reason(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    files, names = JobFiles("s.png", "t.png"), JobNames("me.png", "them.png")
    store.add_job("a" * 32, JobOptions(), files, names, max_queued=16)
    store.add_job("b" * 32, JobOptions(), files, names, max_queued=16)
    assert store.claim_next() is not None  # a is running
    store.close()
    store = JobStore(tmp_path / "jobs.sqlite3")
    assert store.recovered == ("a" * 32,)
    job = store.get_job("a" * 32)
    assert job is not None and job.status == "queued" and job.restarts == 1 and job.notes == (RESTART_NOTE,)
    claimed = store.claim_next()
    assert claimed is not None and claimed.id == "a" * 32  # first in line again
    store.close()
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.get_job("a" * 32)
    assert job is not None and job.status == "failed" and job.error == RESTART_FAILED
    other = store.get_job("b" * 32)
    assert other is not None and other.status == "queued"
    store.close()


def test_a_clean_stop_puts_the_running_job_back(make_settings: Callable[..., ServiceSettings]) -> None:
    settings = make_settings()
    gate = threading.Event()
    polite = FakeRunner(gate)  # honours the stop
    with TestClient(create_app(settings, polite)) as client:
        job = submit(client)
        assert polite.running.wait(5)
    store = JobStore(settings.db_path)
    record = store.get_job(str(job["id"]))
    assert record is not None and record.status == "queued" and SHUTDOWN_NOTE in record.notes
    assert record.restarts == 0
    store.close()
    with TestClient(create_app(settings, FakeRunner())) as client:
        assert wait_for(client, str(job["id"]), {"done"})["status"] == "done"


def test_retention_sweeps_old_uploads_and_finished_jobs_only(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(retention_hours=1.0)
    gate = threading.Event()
    with TestClient(create_app(settings, FakeRunner(gate))) as client:
        upload = client.post("/api/uploads", files={"file": ("a.png", image_bytes(), "image/png")}).json()
        waiting = submit(client)
        gate.set()
        wait_for(client, str(waiting["id"]), {"done"})
        gate.clear()
        queued = submit(client)
        stray = settings.uploads_dir / "deadbeef.part"
        stray.write_bytes(b"left by a crash")
        old = time.time() - 7200
        os.utime(stray, (old, old))
    later = time.time() + 2 * 3600
    store = JobStore(settings.db_path, clock=lambda: later)
    counts = sweep(store, settings)
    assert (counts.uploads, counts.jobs) == (1, 1) and counts.strays >= 1
    assert store.get_upload(str(upload["id"])) is None and list(settings.uploads_dir.iterdir()) == []
    assert store.get_job(str(waiting["id"])) is None and not (settings.jobs_dir / str(waiting["id"])).exists()
    kept = store.get_job(str(queued["id"]))
    assert kept is not None and kept.status in ("queued", "running")
    assert (settings.jobs_dir / str(queued["id"]) / kept.files.target).is_file()
    store.close()

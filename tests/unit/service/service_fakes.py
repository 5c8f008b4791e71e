"""Fakes and helpers for the service tests: a runner without models, synthetic images, job polling."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi.testclient import TestClient

from facecraft.errors import FacecraftError
from facecraft.pipeline.swap import CancelledError
from facecraft.service.jobs import JobOutcome, JobSpec
from facecraft.service.runner import ProgressCallback

FAKE_FRAMES = 5


class FakeRunner:
    """Reports progress over a few frames, honours cancel, and copies the target as the "result".

    ``gate``: when given, the run waits on it before each frame (still honouring cancel unless
    ``ignore_cancel``: then it simulates a runner stuck in native code). ``error``: raised instead.
    """

    def __init__(
        self,
        gate: threading.Event | None = None,
        *,
        ignore_cancel: bool = False,
        error: FacecraftError | None = None,
        frame_s: float = 0.01,
    ) -> None:
        self.gate = gate
        self.ignore_cancel = ignore_cancel
        self.error = error
        self.frame_s = frame_s
        self.started: list[str] = []
        self.references: list[Path | None] = []
        self.finished: list[str] = []
        self.running = threading.Event()

    def run(self, spec: JobSpec, on_progress: ProgressCallback, cancel: threading.Event) -> JobOutcome:
        self.started.append(spec.job_id)
        self.references.append(spec.reference)
        self.running.set()
        assert spec.source.is_file() and spec.target.is_file()
        assert spec.source.stem == "source" and spec.target.stem == "target"
        if self.error is not None:
            raise self.error
        for done in range(1, FAKE_FRAMES + 1):
            self._wait(cancel)
            time.sleep(self.frame_s)
            on_progress(done, FAKE_FRAMES)
        shutil.copyfile(spec.target, spec.output)
        self.finished.append(spec.job_id)
        return JobOutcome(
            output=spec.output,
            frames=FAKE_FRAMES,
            seconds=0.05,
            stage_ms={"swap": 1.0},
            notes=(f"made from '{spec.target}'",),
            report={"frames": FAKE_FRAMES, "quality": {"identity": 0.5}} if spec.options.report else None,
            provenance={"watermark": {"found": True}, "c2pa": {"state": "valid"}, "record": None},
        )

    def _wait(self, cancel: threading.Event) -> None:
        while self.gate is not None and not self.gate.wait(0.01):
            if cancel.is_set() and not self.ignore_cancel:
                raise CancelledError()
        if cancel.is_set() and not self.ignore_cancel:
            raise CancelledError()


def image_bytes(suffix: str = ".png", size_wh: tuple[int, int] = (96, 64)) -> bytes:
    """A synthetic colour gradient (no face) encoded as PNG or JPEG."""
    width, height = size_wh
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    frame = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2).astype(np.uint8)
    ok, encoded = cv2.imencode(suffix, frame)
    assert ok
    return bytes(encoded.tobytes())


def wait_for(client: TestClient, job_id: str, statuses: set[str], timeout_s: float = 10.0) -> dict[str, Any]:
    """Poll the job until its status is one of ``statuses``; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stayed {job['status']}, wanted {sorted(statuses)}")
        time.sleep(0.02)


def submit(client: TestClient, **fields: str) -> dict[str, Any]:
    """POST /api/jobs with a PNG source and target; 201 expected."""
    files = {
        "source": ("me.png", image_bytes(), "image/png"),
        "target": ("them.png", image_bytes(size_wh=(80, 60)), "image/png"),
    }
    response = client.post("/api/jobs", files=files, data=fields)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job

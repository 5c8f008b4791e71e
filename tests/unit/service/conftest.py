"""Fixtures for the service tests: settings in tmp_path, a fake runner, a client, a tiny real MP4."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from facecraft.media.writer import FrameWriter
from facecraft.service.app import create_app
from facecraft.service.settings import ServiceSettings
from unit.service.service_fakes import FakeRunner


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., ServiceSettings]:
    def make(**overrides: object) -> ServiceSettings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "config_dir": tmp_path / "config",
            "shutdown_timeout_s": 2.0,
        }
        values.update(overrides)
        return ServiceSettings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def fake_runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def client(make_settings: Callable[..., ServiceSettings], fake_runner: FakeRunner) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), fake_runner)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def mp4_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 12-frame H.264 MP4 (64x48, 12 fps), made with facecraft's own writer."""
    path = tmp_path_factory.mktemp("video") / "tiny.mp4"
    with FrameWriter(path, fps=12, preset="ultrafast") as writer:
        for number in range(12):
            frame = np.full((48, 64, 3), (number * 20) % 256, dtype=np.uint8)
            writer.write(frame)
    return path.read_bytes()

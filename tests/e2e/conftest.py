"""Fixtures for the end-to-end tests: a real facecraft server on loopback, and Debian's chromium.

The server is the real app (``facecraft.service.app.create_app``) under uvicorn in a background thread,
on a port the OS picks, with its data and config dirs under pytest's tmp dir. Tests that need an
optional part (the ``serve`` extra, playwright, schemathesis, chromium) skip with the reason when it is
missing.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from facecraft.service.jobs import JobOutcome, JobSpec
    from facecraft.service.runner import JobRunner, ProgressCallback

CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
SERVER_TOKEN = "e2e-token-5b0d1c"
_START_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 20.0
_APT_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class LiveServer:
    """A running server: its base URL (no trailing slash) and the dirs it writes to."""

    base_url: str
    data_dir: Path
    config_dir: Path


@contextmanager
def run_live_server(
    tmp_dir: Path, runner: "JobRunner | None" = None, workers: int = 1, token: str | None = None
) -> Iterator[LiveServer]:
    """Serve ``create_app`` on 127.0.0.1 (a free port) until the block ends, then stop it cleanly."""
    pytest.importorskip("fastapi", reason="the web app needs the 'serve' extra: pip install -e '.[serve]'")
    uvicorn = pytest.importorskip("uvicorn", reason="the web app needs the 'serve' extra")
    app_module = pytest.importorskip("facecraft.service.app", reason="facecraft.service.app is not there yet")
    settings_module = pytest.importorskip("facecraft.service.settings")

    data_dir = tmp_dir / "data"
    config_dir = tmp_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_module.ServiceSettings(
        data_dir=data_dir, config_dir=config_dir, workers=workers, token=token
    )
    app = app_module.create_app(settings, runner=runner)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, config_dir=config_dir)
    finally:
        server.should_exit = True
        thread.join(timeout=_STOP_TIMEOUT_S)
        listener.close()


def _wait_started(server: object, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not getattr(server, "started", False):
        if not thread.is_alive():
            raise RuntimeError("the test server stopped while starting (see the log above)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the test server did not start within {_START_TIMEOUT_S:.0f} s")
        time.sleep(0.05)


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing (as root only); skips when impossible."""
    if CHROMIUM_PATH.exists():
        return CHROMIUM_PATH
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM_PATH} is missing; install it with: sudo apt-get install -y chromium")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = [apt_get, "install", "-y", "--no-install-recommends", "chromium"]
    for attempt in ([install], [[apt_get, "update"], install]):
        try:
            for command in attempt:
                subprocess.run(command, check=True, env=env, capture_output=True, timeout=_APT_TIMEOUT_S)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            continue
        if CHROMIUM_PATH.exists():
            return CHROMIUM_PATH
    pytest.skip(f"could not install chromium with apt-get; {CHROMIUM_PATH} is missing")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return ensure_chromium()


class InstantRunner:
    """A ``JobRunner`` that "finishes" at once: the result is a copy of the target (no swap, no models).

    For the API fuzz test, so fuzzed jobs exercise the queue, the store and the endpoints, not the pipeline.
    """

    def run(self, spec: "JobSpec", on_progress: "ProgressCallback", cancel: threading.Event) -> "JobOutcome":
        from facecraft.service.jobs import JobOutcome

        spec.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spec.target, spec.output)
        on_progress(1, 1)
        return JobOutcome(
            output=spec.output, frames=1, seconds=0.001, notes=("instant test runner: no swap",)
        )


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator["Browser"]:
    """Headless chromium driven by playwright (never ``playwright install``: Debian's build is used)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=list(CHROMIUM_ARGS)
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with its real job runner (real swaps)."""
    with run_live_server(tmp_path_factory.mktemp("web")) as server:
        yield server


@pytest.fixture(scope="module")
def web_url(web_server: LiveServer) -> str:
    """Base URL of the real server (no trailing slash)."""
    return web_server.base_url


@pytest.fixture(scope="module")
def web_config_dir(web_server: LiveServer) -> Path:
    """The facecraft config dir the real server signs with (its local CA and record store)."""
    return web_server.config_dir


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with ``InstantRunner``: every job finishes at once."""
    with run_live_server(tmp_path_factory.mktemp("fuzz"), runner=InstantRunner()) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_url(fuzz_server: LiveServer) -> str:
    return fuzz_server.base_url


@pytest.fixture(scope="session")
def server_token() -> str:
    """The token ``token_url``'s server wants."""
    return SERVER_TOKEN


@pytest.fixture(scope="module")
def token_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a server that wants ``Authorization: Bearer`` + ``SERVER_TOKEN`` (instant runner)."""
    with run_live_server(
        tmp_path_factory.mktemp("token"), runner=InstantRunner(), token=SERVER_TOKEN
    ) as server:
        yield server.base_url

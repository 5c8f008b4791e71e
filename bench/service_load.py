"""Load benchmark of the web service: many jobs at once against one server with a few workers.

One process serves the app (this script re-run with ``--serve``: ``create_app`` under uvicorn; or, with
``--cli``, ``facecraft serve``) on loopback with a data dir and a config dir in /tmp. This process is
the client: it uploads a small real input once (d30.jpg onto a one-second slice of d18.mp4 when
../shared/media exists, else a synthetic picture, whose jobs end as "failed: no face"), submits
``--jobs`` jobs at the same instant from as many threads, waits for them and checks:

- every submission is answered 201 or 429, and no accepted job is lost (each 201 id is in GET /api/jobs);
- accepted jobs start in submission (creation) order and never more than ``--workers`` run at once;
- the server's peak resident memory (VmHWM of /proc/PID/status) stays under ``--max-rss-mib``.

Run:  .venv/bin/python bench/service_load.py [--jobs 20] [--workers 2] [--slice-s 1.0] [--cli] [--synthetic]
Prints a table; exits 1 when a check fails.
"""

import argparse
import datetime as dt
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

MEDIA_DIR = Path(__file__).resolve().parents[2] / "shared" / "media"
START_TIMEOUT_S = 60.0
FINISH_TIMEOUT_S = 900.0
POLL_EVERY_S = 0.5
TERMINAL = frozenset({"done", "failed", "cancelled"})
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Submission:
    index: int
    status_code: int
    job_id: str | None
    retry_after: str | None
    detail: str | None


@dataclass(slots=True)
class LoadResult:
    workers: int
    inputs: str
    max_rss_mib: float
    submissions: list[Submission] = field(default_factory=list)
    jobs: list[dict[str, object]] = field(default_factory=list)  # oldest first, as the server lists them
    missing_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    idle_rss_mib: float = 0.0
    peak_rss_mib: float = 0.0
    timed_out: bool = False

    @property
    def accepted(self) -> list[Submission]:
        return [s for s in self.submissions if s.status_code == 201]

    @property
    def refused(self) -> list[Submission]:
        return [s for s in self.submissions if s.status_code == 429]

    @property
    def unexpected(self) -> list[Submission]:
        return [s for s in self.submissions if s.status_code not in (201, 429)]

    def count(self, status: str) -> int:
        return sum(1 for job in self.jobs if job.get("status") == status)

    @property
    def order_ok(self) -> bool:
        """Each accepted job started no earlier than every job created before it (the listing's order)."""
        starts = [_moment(job.get("started_at")) for job in self.jobs]
        known = [start for start in starts if start is not None]
        return len(known) == len(starts) and all(a <= b for a, b in itertools.pairwise(known))

    @property
    def max_running(self) -> int:
        """Most jobs running at the same moment, from their started_at / finished_at."""
        edges: list[tuple[dt.datetime, int]] = []
        for job in self.jobs:
            start, end = _moment(job.get("started_at")), _moment(job.get("finished_at"))
            if start is not None and end is not None:
                edges += [(start, 1), (end, -1)]
        running = peak = 0
        for _, step in sorted(edges):  # an end sorts before a start at the same instant
            running += step
            peak = max(peak, running)
        return peak

    def mean_s(self, since: str, until: str) -> float | None:
        spans = []
        for job in self.jobs:
            start, end = _moment(job.get(since)), _moment(job.get(until))
            if start is not None and end is not None:
                spans.append((end - start).total_seconds())
        return sum(spans) / len(spans) if spans else None

    @property
    def ok(self) -> bool:
        return (
            not self.unexpected
            and not self.missing_ids
            and not self.timed_out
            and self.order_ok
            and self.max_running <= self.workers
            and self.peak_rss_mib <= self.max_rss_mib
            and self.count("done") + self.count("failed") == len(self.accepted)
        )


def _moment(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


# --- the server process -----------------------------------------------------------------------------


def serve_only(port: int, data_dir: Path, workers: int) -> int:
    """Child mode: the app under uvicorn until terminated."""
    import uvicorn

    from facecraft.service.app import create_app
    from facecraft.service.settings import ServiceSettings

    settings = ServiceSettings(
        data_dir=data_dir, config_dir=data_dir / "config", port=port, workers=workers, max_queued=16
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    return 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
        return port


def server_command(use_cli: bool, port: int, data_dir: Path, workers: int) -> list[str]:
    common = ["--port", str(port), "--data-dir", str(data_dir), "--workers", str(workers)]
    if use_cli:
        facecraft = shutil.which("facecraft") or str(Path(sys.executable).with_name("facecraft"))
        return [facecraft, "serve", "--host", "127.0.0.1", *common]
    return [sys.executable, str(Path(__file__).resolve()), "--serve", *common]


@contextmanager
def running_server(use_cli: bool, tmp_dir: Path, workers: int) -> Iterator[tuple[int, str]]:
    """Start the server process; yield (pid, base URL); stop it (SIGTERM, then SIGKILL)."""
    port = free_port()
    data_dir = tmp_dir / "service"
    env = os.environ | {"XDG_CONFIG_HOME": str(tmp_dir / "xdg-config"), "XDG_DATA_HOME": str(tmp_dir)}
    log = (tmp_dir / "server.log").open("wb")
    process = subprocess.Popen(
        server_command(use_cli, port, data_dir, workers), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, tmp_dir / "server.log")
        yield process.pid, base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer within {START_TIMEOUT_S:.0f} s")


def rss_mib(pid: int, key: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (now) of a process, in MiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"/proc/{pid}/status has no {key}")


# --- the client ------------------------------------------------------------------------------------


def make_inputs(tmp_dir: Path, synthetic: bool) -> tuple[Path, Path, str]:
    """(source photo, target, description): real media when present, else a synthetic picture."""
    photo, video = MEDIA_DIR / "images" / "d30.jpg", MEDIA_DIR / "videos" / "d18.mp4"
    if photo.is_file() and video.is_file() and not synthetic:
        return photo, video, "d30.jpg onto d18.mp4"
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    picture = cv2.GaussianBlur(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8), (9, 9), 0)
    path = tmp_dir / "synthetic.png"
    cv2.imwrite(str(path), picture)
    return path, path, "synthetic picture (no face: jobs fail by design)"


def upload(client: httpx.Client, path: Path) -> str:
    with path.open("rb") as handle:
        response = client.post("/api/uploads", files={"file": (path.name, handle)})
    response.raise_for_status()
    upload_id: str = response.json()["id"]
    return upload_id


def submit_all(base_url: str, form: dict[str, str], count: int) -> list[Submission]:
    """POST /api/jobs ``count`` times at the same instant, one thread (and connection) each."""
    barrier = threading.Barrier(count)
    results: list[Submission | None] = [None] * count

    def submit(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            barrier.wait()
            response = client.post("/api/jobs", data=form)
        body = response.json()
        results[index] = Submission(
            index=index,
            status_code=response.status_code,
            job_id=body.get("id") if response.status_code == 201 else None,
            retry_after=response.headers.get("retry-after"),
            detail=body.get("detail"),
        )

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [result for result in results if result is not None]


def wait_finished(client: httpx.Client, ids: set[str], result: LoadResult) -> None:
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    while True:
        listing = client.get("/api/jobs", params={"limit": 500}).json()
        seen = [job for job in reversed(listing["jobs"]) if job["id"] in ids]
        result.jobs = seen
        result.missing_ids = sorted(ids - {job["id"] for job in seen})
        if all(job["status"] in TERMINAL for job in seen):
            return
        if time.monotonic() > deadline:
            result.timed_out = True
            return
        time.sleep(POLL_EVERY_S)


def run_load(args: argparse.Namespace, tmp_dir: Path) -> LoadResult:
    source, target, described = make_inputs(tmp_dir, args.synthetic)
    result = LoadResult(workers=args.workers, inputs=described, max_rss_mib=args.max_rss_mib)
    with running_server(args.cli, tmp_dir, args.workers) as (pid, base_url):
        result.idle_rss_mib = rss_mib(pid, "VmRSS")
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            form = {
                "source_upload_id": upload(client, source),
                "target_upload_id": upload(client, target),
                "faces": "largest",
                "label": "AI-generated",
                "report": "true" if args.report else "false",
            }
            if source != target:
                form["end_s"] = str(args.slice_s)
            began = time.monotonic()
            result.submissions = submit_all(base_url, form, args.jobs)
            wait_finished(client, {s.job_id for s in result.accepted if s.job_id}, result)
            result.seconds = time.monotonic() - began
        result.peak_rss_mib = rss_mib(pid, "VmHWM")
    return result


def print_table(result: LoadResult) -> None:
    mean_run = result.mean_s("started_at", "finished_at")
    mean_wait = result.mean_s("created_at", "started_at")
    rows = [
        ("inputs", result.inputs),
        ("workers", str(result.workers)),
        ("submitted at once", str(len(result.submissions))),
        ("accepted (201)", str(len(result.accepted))),
        ("refused (429)", str(len(result.refused))),
        ("other answers", ", ".join(f"{s.status_code}: {s.detail}" for s in result.unexpected) or "none"),
        ("lost (201 id not listed)", str(len(result.missing_ids))),
        ("completed (done)", str(result.count("done"))),
        ("failed", str(result.count("failed"))),
        ("order ok (start order = creation order)", "yes" if result.order_ok else "NO"),
        ("most running at once", f"{result.max_running} (limit {result.workers})"),
        ("mean run per job s", "n/a" if mean_run is None else f"{mean_run:.2f}"),
        ("mean wait in queue s", "n/a" if mean_wait is None else f"{mean_wait:.2f}"),
        ("server RSS idle MiB", f"{result.idle_rss_mib:.0f}"),
        ("server peak RSS MiB (VmHWM)", f"{result.peak_rss_mib:.0f} (limit {result.max_rss_mib:.0f})"),
        ("total seconds (submit to last finish)", f"{result.seconds:.1f}"),
        ("timed out", "YES" if result.timed_out else "no"),
        ("all checks", "PASS" if result.ok else "FAIL"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':<{width}} | value")
    print(f"|{'-' * (width + 2)}|------")
    for name, value in rows:
        print(f"| {name:<{width}} | {value}")
    retry = {s.retry_after for s in result.refused}
    if retry:
        print(f"429 answers carried Retry-After: {', '.join(sorted(r or 'missing' for r in retry))}")
    failed = [job for job in result.jobs if job.get("status") == "failed"]
    if failed:
        print(f"first failure: {failed[0].get('error')}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20, help="jobs submitted at the same instant")
    parser.add_argument("--workers", type=int, default=2, help="jobs the server runs at once")
    parser.add_argument("--slice-s", type=float, default=1.0, help="seconds of the target video per job")
    parser.add_argument("--report", action="store_true", help="also measure quality in every job (slower)")
    parser.add_argument("--max-rss-mib", type=float, default=2048.0, help="peak server memory allowed")
    parser.add_argument("--synthetic", action="store_true", help="use a synthetic picture, not real media")
    parser.add_argument("--cli", action="store_true", help="serve with 'facecraft serve' instead of uvicorn")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.serve:
        return serve_only(args.port, args.data_dir, args.workers)
    with tempfile.TemporaryDirectory(prefix="facecraft-load-") as tmp:
        result = run_load(args, Path(tmp))
    print_table(result)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

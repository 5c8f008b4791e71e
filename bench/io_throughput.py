"""Decode + re-encode throughput: FrameReader -> FrameWriter against the ffmpeg command line.

Target (media issue): our frames per second >= 0.9 x ffmpeg's, same input, same encoder settings
(libx264, same CRF and preset, yuv420p, threads left to the defaults on both sides, audio copied).

    .venv/bin/python bench/io_throughput.py [--video ../shared/media/videos/s18.mp4] [--repeats 5]

Needs the ``ffmpeg`` program (Debian: ``apt-get install -y ffmpeg``). Two ffmpeg runs are timed:
"ffmpeg" hands decoded YUV straight to the encoder; "ffmpeg+bgr" also converts every frame to BGR
and back, the round trip our pipeline must make to give numpy BGR frames to the face stages.
Runs are interleaved (ours, ffmpeg, ffmpeg+bgr, ours, ...) and medians reported, because the
machine may be shared. CPU seconds (user + system, all threads) are printed beside wall time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import PRESETS, FrameWriter, Preset

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "videos" / "s18.mp4"
TARGET_RATIO = 0.9


@dataclass(frozen=True, slots=True)
class Timing:
    wall_s: float
    cpu_s: float


def run_ours(video: Path, out: Path, crf: int, preset: Preset) -> None:
    with (
        FrameReader(video) as reader,
        FrameWriter(out, fps=reader.info.fps, crf=crf, preset=preset, audio_from=video) as writer,
    ):
        for frame in reader:
            writer.write(frame.image_bgr, frame.time_s)


def ffmpeg_command(video: Path, out: Path, crf: int, preset: str, bgr_round_trip: bool) -> list[str]:
    """The ffmpeg equivalent of run_ours: decode, encode libx264 CRF/preset yuv420p, copy audio."""
    filters = ["-vf", "format=bgr24,format=yuv420p"] if bgr_round_trip else []
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(video),
        "-map", "0:v:0", "-map", "0:a:0?", *filters,
        "-c:v", "libx264", "-crf", str(crf), "-preset", preset, "-pix_fmt", "yuv420p",
        "-c:a", "copy", str(out),
    ]  # fmt: skip


def time_in_process(action: Callable[[], None]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    action()
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return Timing(wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def time_child(command: list[str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timing(wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def report(name: str, timings: list[Timing], frames: int) -> float:
    fps = [frames / t.wall_s for t in timings]
    median_fps = statistics.median(fps)
    cpu_ms = statistics.median(t.cpu_s for t in timings) / frames * 1000
    runs = " ".join(f"{f:.1f}" for f in fps)
    print(f"{name:<11} median {median_fps:6.1f} fps   cpu {cpu_ms:5.1f} ms/frame   runs: {runs}")
    return median_fps


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--preset", default="medium", choices=PRESETS)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is not installed, so there is nothing to compare with: apt-get install -y ffmpeg")
        return 2
    info = probe(args.video)
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(
        f"video: {args.video} {info.width}x{info.height}, {info.frame_count} frames, {float(info.fps):g} fps"
    )
    print(f"encoder: libx264 crf={args.crf} preset={args.preset} yuv420p, default threads; audio copied")
    print(f"ours: FrameReader -> FrameWriter (PyAV {_pyav_version()}); ffmpeg: {version}")
    with tempfile.TemporaryDirectory() as folder:
        results = measure(args, Path(folder), info.frame_count)
    ours, plain, bgr = (report(name, timings, info.frame_count) for name, timings in results.items())
    print(f"ratio ours/ffmpeg     = {ours / plain:.2f}  (target >= {TARGET_RATIO})")
    print(f"ratio ours/ffmpeg+bgr = {ours / bgr:.2f}")
    return 0 if ours / plain >= TARGET_RATIO else 1


def measure(args: argparse.Namespace, folder: Path, frames: int) -> dict[str, list[Timing]]:
    plain = ffmpeg_command(args.video, folder / "ffmpeg.mp4", args.crf, args.preset, bgr_round_trip=False)
    bgr = ffmpeg_command(args.video, folder / "ffmpeg-bgr.mp4", args.crf, args.preset, bgr_round_trip=True)
    print("ffmpeg command:     " + " ".join(plain))
    print("ffmpeg+bgr command: " + " ".join(bgr))
    results: dict[str, list[Timing]] = {"ours": [], "ffmpeg": [], "ffmpeg+bgr": []}
    out = folder / "ours.mp4"
    for repeat in range(args.repeats):
        results["ours"].append(time_in_process(lambda: run_ours(args.video, out, args.crf, args.preset)))
        results["ffmpeg"].append(time_child(plain))
        results["ffmpeg+bgr"].append(time_child(bgr))
        print(
            f"repeat {repeat + 1}/{args.repeats}: "
            + ", ".join(f"{k} {v[-1].wall_s:.2f} s" for k, v in results.items())
        )
    return results


def _pyav_version() -> str:
    import av

    return str(av.__version__)


if __name__ == "__main__":
    raise SystemExit(main())

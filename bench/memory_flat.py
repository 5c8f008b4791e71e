"""Peak memory of decode + re-encode does not grow with video length.

Target (media issue): peak RSS for a 60 s 720p video within 10% of that for a 10 s one.

    .venv/bin/python bench/memory_flat.py [--video ../shared/media/videos/s18.mp4]

Both inputs are made first by looping the frames of ``--video`` through FrameWriter (ultrafast
preset, so making them is quick). Each measured run, FrameReader -> FrameWriter (CRF 18, preset
medium, the defaults), happens in a fresh child process that reports its own peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "videos" / "s18.mp4"
LENGTHS_S = (10, 60)
TARGET_GROWTH = 0.10


def make_looped(source: Path, out: Path, seconds: int) -> None:
    """Write ``seconds`` of video by replaying ``source``'s frames from the start as often as needed."""
    with FrameReader(source) as reader:
        fps = reader.info.fps
    wanted = round(seconds * fps)
    with FrameWriter(out, fps=fps, preset="ultrafast") as writer:
        while writer.frames_written < wanted:
            with FrameReader(source) as reader:
                for frame in reader:
                    if writer.frames_written == wanted:
                        break
                    writer.write(frame.image_bgr)


def transcode(video: Path, out: Path) -> int:
    """The measured work; returns how many frames went through."""
    with FrameReader(video) as reader, FrameWriter(out, fps=reader.info.fps) as writer:
        for frame in reader:
            writer.write(frame.image_bgr, frame.time_s)
        return writer.frames_written


def peak_rss_mb_in_child(video: Path, out: Path) -> tuple[float, int]:
    command = [sys.executable, __file__, "--child", str(video), str(out)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    peak_kb, frames = result.stdout.split()
    return int(peak_kb) / 1024, int(frames)


def child(video: Path, out: Path) -> int:
    frames = transcode(video, out)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, frames)  # ru_maxrss is in KiB on Linux
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    peaks: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for seconds in LENGTHS_S:
            looped = Path(folder) / f"loop{seconds}s.mp4"
            make_looped(args.video, looped, seconds)
            peak_mb, frames = peak_rss_mb_in_child(looped, Path(folder) / "out.mp4")
            peaks.append(peak_mb)
            print(f"{seconds:>3} s 720p ({frames} frames): peak RSS {peak_mb:.1f} MiB")
    ratio = peaks[1] / peaks[0]
    print(f"ratio 60 s / 10 s = {ratio:.3f}  (target < {1 + TARGET_GROWTH:.2f})")
    print(f"command: {sys.executable} {__file__} --video {args.video}")
    return 0 if ratio < 1 + TARGET_GROWTH else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""What the content gate costs, and how far ordinary footage stays from its threshold.

Speed (issue 5: the gate must be a small fraction of a swap, which runs at about 30 fps): ms per
sampled 720p frame for the NudeNet detector, and the gate's whole time on a 10 s 720p clip (s18.mp4's
frames looped to 300 frames at 30 fps) against a plain decode of the same clip, at the default sampling
(every 0.5 s) and at the issue's floor (every 1 s).

False-alarm headroom (``--scan``): every frame of every video and every photo in ../shared/media through
the detector, with the highest score any refused class reaches per file (the threshold is 0.4).

    .venv/bin/python bench/gate_speed.py [--repeats 3] [--threads 0] [--scan]
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from facecraft.media.image import read_image
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.safety import REFUSED_LABELS, ContentGate, ContentPolicy, NudityDetector
from facecraft.safety.gate import DEFAULT_THRESHOLD
from facecraft.types import Frame

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
SWAP_FPS = 30.0
"""The swap's speed on a 720p clip, for the gate's share of a whole job."""


def load_frames(path: Path, limit: int) -> list[Frame]:
    with FrameReader(path) as reader:
        return [frame.image_bgr for _, frame in zip(range(limit), reader, strict=False)]


def make_clip(frames: list[Frame], path: Path, seconds: float, fps: int = 30) -> Path:
    with FrameWriter(path, fps=fps, preset="veryfast", crf=20) as writer:
        for index in range(round(seconds * fps)):
            writer.write(frames[index % len(frames)])
    return path


def ms_per_frame(detector: NudityDetector, frames: list[Frame], repeats: int) -> float:
    for frame in frames[:3]:
        detector.detect(frame)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for frame in frames:
            detector.detect(frame)
        runs.append((time.perf_counter() - start) / len(frames) * 1000)
    return statistics.median(runs)


def decode_seconds(path: Path) -> float:
    start = time.perf_counter()
    with FrameReader(path) as reader:
        for _ in reader:
            pass
    return time.perf_counter() - start


def gate_seconds(gate: ContentGate, path: Path, repeats: int) -> tuple[float, int]:
    runs, checked = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        checked = gate.check_video(path).frames_checked
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), checked


def speed(args: argparse.Namespace) -> None:
    detector = NudityDetector(num_threads=args.threads)
    source = MEDIA / "videos" / "s18.mp4"
    frames = load_frames(source, 300)
    print(f"detector: {ms_per_frame(detector, frames[::10], args.repeats):.1f} ms per 1280x720 frame")
    photo = read_image(MEDIA / "images" / "d30.jpg")
    print(f"detector: {ms_per_frame(detector, [photo], args.repeats):.1f} ms per 600x900 photo")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(frames, Path(tmp) / "clip720p.mp4", seconds=10.0)
        info = probe(clip)
        swap_s = info.frame_count / SWAP_FPS
        decode_s = statistics.median(decode_seconds(clip) for _ in range(args.repeats))
        print(f"clip: {info.width}x{info.height}, {info.duration_s:.1f} s, {info.frame_count} frames")
        print(f"decode only: {decode_s:.2f} s; a swap at {SWAP_FPS:.0f} fps: {swap_s:.1f} s")
        for interval_s in (0.5, 1.0):
            gate = ContentGate(detector, ContentPolicy(sample_interval_s=interval_s))
            total_s, checked = gate_seconds(gate, clip, args.repeats)
            print(
                f"gate every {interval_s} s: {checked} frames checked, {total_s:.2f} s total "
                f"({total_s - decode_s:.2f} s over decoding), {total_s / swap_s:.0%} of the swap's time"
            )


def scan(detector: NudityDetector) -> None:
    worst = 0.0
    for path in sorted((MEDIA / "images").rglob("*.jpg")):
        top = top_refused(detector, [read_image(path)])
        worst = max(worst, top)
        print(f"{path.name}: highest refused-class score {top:.3f}")
    for path in sorted((MEDIA / "videos").glob("*.mp4")):
        with FrameReader(path) as reader:
            top = top_refused(detector, (frame.image_bgr for frame in reader))
        worst = max(worst, top)
        print(f"{path.name} (every frame): highest refused-class score {top:.3f}")
    print(f"worst over all ordinary media: {worst:.3f} (threshold {DEFAULT_THRESHOLD})")


def top_refused(detector: NudityDetector, frames: Iterable[Frame]) -> float:
    return max(
        (f.score for frame in frames for f in detector.detect(frame) if f.label in REFUSED_LABELS),
        default=0.0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all cores)")
    parser.add_argument("--scan", action="store_true", help="also scan all ordinary media (minutes)")
    args = parser.parse_args()
    speed(args)
    if args.scan:
        scan(NudityDetector(min_score=0.02, num_threads=args.threads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Detection + mesh (+ iris) with tracking: median milliseconds per 720p frame with one face.

Target (issue 2): at most 8 ms median per 720p frame, single process, on the 2-core dev machine.

    .venv/bin/python bench/analysis_speed.py [--video ../shared/media/videos/s18.mp4] [--threads 1]

Frames are decoded first, so only analysis is timed.
"""

import argparse
import statistics
import time
from pathlib import Path

from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import AnalysisConfig, build_analyzer, build_tracker

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "videos" / "s18.mp4"
TARGET_MS = 8.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--detect-every", type=int, default=10)
    args = parser.parse_args()
    with FrameReader(args.video) as reader:
        frames = [(f.image_bgr, f.time_s) for f in reader]
    config = AnalysisConfig(num_threads=args.threads, detect_every=args.detect_every)
    analyzer = build_analyzer(config)
    timings_ms: list[float] = []
    face_counts: list[int] = []
    for _ in range(2):  # second pass is the measured one (warm caches)
        tracker = build_tracker(analyzer, config)
        timings_ms, face_counts = [], []
        for image, time_s in frames:
            start = time.perf_counter()
            faces = tracker.update(image, time_s)
            timings_ms.append((time.perf_counter() - start) * 1000)
            face_counts.append(len(faces))
    height, width = frames[0][0].shape[:2]
    median = statistics.median(timings_ms)
    p90 = statistics.quantiles(timings_ms, n=10)[-1]
    print(f"video: {args.video.name} {width}x{height}, {len(frames)} frames, threads={args.threads}")
    print(f"frames with exactly one face: {sum(c == 1 for c in face_counts)}/{len(frames)}")
    print(f"detector runs: {tracker.detector_runs}")
    print(f"median {median:.2f} ms/frame, p90 {p90:.2f} ms, mean {statistics.fmean(timings_ms):.2f} ms")
    print(f"target <= {TARGET_MS} ms median: {'PASS' if median <= TARGET_MS else 'FAIL'}")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())

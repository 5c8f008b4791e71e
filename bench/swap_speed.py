"""Whole-swap speed against a plain decode-and-encode of the same clip, measured side by side.

Target (issue 3): on s18.mp4 (1280x720, one face) the swap runs at least 0.5x as fast as a plain
transcode with the same encoder settings, and faster than real time on the 2-core machine.

    .venv/bin/python bench/swap_speed.py [--source d30.jpg] [--target s18.mp4] [--repeats 3]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from facecraft.cli.runtime import tune_allocator
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.pipeline.background import BackgroundWriter
from facecraft.pipeline.marking import MarkingOptions
from facecraft.pipeline.swap import EncodeOptions, SwapRequest, run_swap
from facecraft.pipeline.swap_builder import SwapConfig, build_swap, build_swap_marking

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def transcode_seconds(target: Path, output: Path, encode: EncodeOptions) -> float:
    info = probe(target)
    start = time.perf_counter()
    with (
        FrameReader(target) as reader,
        FrameWriter(output, fps=info.fps, crf=encode.crf, preset=encode.preset, audio_from=target) as writer,
        BackgroundWriter(writer) as background,
    ):
        for frame in reader:
            background.write(frame.image_bgr, frame.time_s)
        background.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=MEDIA / "images" / "d30.jpg")
    parser.add_argument("--target", type=Path, default=MEDIA / "videos" / "s18.mp4")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tune_allocator()  # as the facecraft command does
    encode = EncodeOptions()
    info = probe(args.target)
    config = SwapConfig(source=args.source)
    components = build_swap(config)
    swap_s, plain_s, stage_ms = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            plain_s.append(transcode_seconds(args.target, Path(tmp) / "plain.mp4", encode))
            request = SwapRequest(args.target, Path(tmp) / "swap.mp4", encode=encode)
            marking = build_swap_marking(config, request, MarkingOptions(config_dir=Path(tmp) / "config"))
            report = run_swap(request, components, marking)
            swap_s.append(report.seconds)
            stage_ms = report.stage_ms
    frames = info.frame_count
    swap_fps, plain_fps = frames / statistics.median(swap_s), frames / statistics.median(plain_s)
    ratio = swap_fps / plain_fps
    realtime = swap_fps / float(info.fps)
    print(
        f"target {args.target.name} {info.width}x{info.height}, {frames} frames at {float(info.fps):.2f} fps"
    )
    print(f"encoder: libx264 crf {encode.crf} preset {encode.preset}; median of {args.repeats} runs")
    print(
        f"plain transcode: {plain_fps:.1f} fps   swap: {swap_fps:.1f} fps   ratio {ratio:.2f} (target >= 0.5)"
    )
    print(f"real-time factor: {realtime:.2f}x (target > 1)")
    print("swap stage ms/frame (main thread): " + ", ".join(f"{k} {v:.1f}" for k, v in stage_ms.items()))
    ok = ratio >= 0.5 and realtime > 1.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

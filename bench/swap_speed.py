"""Whole-swap speed against a plain decode-and-encode of the same clip, measured side by side.

Target (issue 3): on s18.mp4 (1280x720, one face) the swap runs at least 0.5x as fast as a plain
transcode with the same encoder settings, and faster than real time on the 2-core machine.

Prints the time to the first frame (loading the models and the source, then the runner's own setup:
the gate on the source photo, preparing the swapper, opening the files), the runner's per-stage
milliseconds per frame on its main thread ("read" and "write" are waits for the decoder and the
encoder), the real-time factor over the clip's duration, CPU seconds per run and the load average
(other work on the machine slows both sides; the ratio is measured side by side, interleaved, and each
pair's own ratio is printed too: on this shared machine they spread by about +-0.05 from run to run).

    .venv/bin/python bench/swap_speed.py [--source d30.jpg] [--target s18.mp4] [--repeats 3]
        [--watermark-share]

``--watermark-share`` also runs, in each round, the swap with its watermark stage replaced by a pass-through
(a measurement only: the command line cannot leave the mark out; the marked and the unmarked swap take turns
going first) and prints that ratio, the files' sizes and the mark stage's own milliseconds: what the mark
costs the swap, its own stage plus x264 coding its pattern.
"""

import argparse
import dataclasses
import os
import resource
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
from facecraft.pipeline.swap import EncodeOptions, SwapComponents, SwapReport, SwapRequest, run_swap
from facecraft.pipeline.swap_builder import SwapConfig, build_swap, build_swap_marking
from facecraft.types import Frame

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


class PassThrough:
    """A frame stage that changes nothing (stands in for the watermark in ``--watermark-share``)."""

    def process(self, frame_bgr: Frame, index: int, time_s: float) -> Frame:
        return frame_bgr


def swap_once(
    config: SwapConfig,
    components: SwapComponents,
    target: Path,
    output: Path,
    encode: EncodeOptions,
    marked: bool = True,
) -> SwapReport:
    """One swap of ``target`` to ``output``; with ``marked`` False its watermark stage is passed through
    (``--watermark-share``)."""
    request = SwapRequest(target, output, encode=encode)
    marking = build_swap_marking(config, request, MarkingOptions(config_dir=output.parent / "config"))
    if not marked:
        marking = dataclasses.replace(marking, watermark=PassThrough())
    return run_swap(request, components, marking)


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


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=MEDIA / "images" / "d30.jpg")
    parser.add_argument("--target", type=Path, default=MEDIA / "videos" / "s18.mp4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default=None, help="x264 preset for both runs (default: the swap's).")
    parser.add_argument(
        "--no-lookahead", action="store_true", help="the tracker's causal smoothing instead (no frames wait)"
    )
    parser.add_argument(
        "--watermark-share",
        action="store_true",
        help="also time the swap with the watermark stage passed through",
    )
    args = parser.parse_args()
    tune_allocator()  # as the facecraft command does
    print(f"load average before: {load_average()} ({os.cpu_count()} cores)")
    encode = EncodeOptions() if args.preset is None else EncodeOptions(preset=args.preset)
    info = probe(args.target)
    config = SwapConfig(source=args.source, lookahead=None) if args.no_lookahead else SwapConfig(args.source)
    started = time.perf_counter()
    components = build_swap(config)
    load_s = time.perf_counter() - started
    swap_s: list[float] = []
    plain_s: list[float] = []
    cpu_swap: list[float] = []
    cpu_plain: list[float] = []
    reports: list[SwapReport] = []
    unmarked: list[SwapReport] = []
    sizes_mb: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            before = cpu_seconds()
            plain_s.append(transcode_seconds(args.target, Path(tmp) / "plain.mp4", encode))
            cpu_plain.append(cpu_seconds() - before)
            if args.watermark_share and len(plain_s) % 2 == 0:  # every other round, the unmarked first
                unmarked.append(
                    swap_once(config, components, args.target, Path(tmp) / "unmarked.mp4", encode, False)
                )
            before = cpu_seconds()
            reports.append(swap_once(config, components, args.target, Path(tmp) / "swap.mp4", encode))
            cpu_swap.append(cpu_seconds() - before)
            swap_s.append(reports[-1].seconds)
            if args.watermark_share and len(plain_s) % 2 == 1:
                unmarked.append(
                    swap_once(config, components, args.target, Path(tmp) / "unmarked.mp4", encode, False)
                )
            if args.watermark_share:
                sizes_mb = [
                    (Path(tmp) / n).stat().st_size / 1e6 for n in ("plain.mp4", "swap.mp4", "unmarked.mp4")
                ]
    frames = info.frame_count
    duration_s = frames / float(info.fps)
    swap_fps, plain_fps = frames / statistics.median(swap_s), frames / statistics.median(plain_s)
    ratio = swap_fps / plain_fps
    realtime = duration_s / statistics.median(swap_s)
    setup_s = statistics.median(r.setup_s for r in reports)
    stage_ms = {k: statistics.median(r.stage_ms.get(k, 0.0) for r in reports) for k in reports[-1].stage_ms}
    print(
        f"target {args.target.name} {info.width}x{info.height}, {frames} frames at {float(info.fps):.2f} fps "
        f"({duration_s:.2f} s)"
    )
    print(f"encoder: libx264 crf {encode.crf} preset {encode.preset}; median of {args.repeats} runs")
    print(
        f"time to first frame: {load_s + setup_s:.2f} s (models and source {load_s:.2f} s, "
        f"runner setup {setup_s:.2f} s)"
    )
    print("plain transcode s: " + ", ".join(f"{s:.2f}" for s in plain_s))
    print("swap s:            " + ", ".join(f"{s:.2f}" for s in swap_s))
    pair_ratios = [plain / swap for plain, swap in zip(plain_s, swap_s, strict=True)]
    print("ratio of each side-by-side pair: " + ", ".join(f"{r:.2f}" for r in pair_ratios))
    print(
        f"CPU s per frame: plain {1000 * statistics.median(cpu_plain) / frames:.1f} ms, "
        f"swap {1000 * statistics.median(cpu_swap) / frames:.1f} ms"
    )
    print(
        f"plain transcode: {plain_fps:.1f} fps   swap: {swap_fps:.1f} fps   ratio {ratio:.2f} (target >= 0.5)"
    )
    print(f"real-time factor: {realtime:.2f}x over the clip's {duration_s:.2f} s (target > 1)")
    print("swap stage ms/frame (main thread): " + ", ".join(f"{k} {v:.1f}" for k, v in stage_ms.items()))
    if unmarked:
        unmarked_s = [r.seconds for r in unmarked]
        unmarked_ratio = statistics.median(plain_s) / statistics.median(unmarked_s)
        pairs = ", ".join(f"{p / u:.2f}" for p, u in zip(plain_s, unmarked_s, strict=True))
        mark_ms = [
            statistics.median(r.stage_ms.get("mark", 0.0) for r in runs) for runs in (reports, unmarked)
        ]
        print("unmarked swap s:   " + ", ".join(f"{s:.2f}" for s in unmarked_s) + f" (pairs' ratios {pairs})")
        print(
            f"watermark share: ratio {ratio:.2f} marked, {unmarked_ratio:.2f} with the mark passed through; "
            f"mark stage {mark_ms[0]:.1f} / {mark_ms[1]:.1f} ms/frame; "
            f"files plain {sizes_mb[0]:.2f} MB, swap {sizes_mb[1]:.2f} MB, unmarked swap {sizes_mb[2]:.2f} MB"
        )
    print(f"load average after: {load_average()}")
    ok = ratio >= 0.5 and realtime > 1.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

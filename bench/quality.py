"""Swap quality on issue 3's real pairs (a Markdown table plus contact sheets), and the recorder's cost.

    .venv/bin/python bench/quality.py [--overhead]             # swap each pair, then evaluate it
    .venv/bin/python bench/quality.py --swapped-dir DIR        # evaluate outputs already made
    .venv/bin/python bench/quality.py --self                   # each target against itself (the ideal)
    .venv/bin/python bench/quality.py --marked-copy            # each target re-encoded with the mark alone
    .venv/bin/python bench/quality.py --recorder-cost          # ms per 720p frame of the quality recorder
    .venv/bin/python bench/quality.py --keep-occluders --out bench/quality/kept --write-results
                                                               # glasses and fringe kept, forehead too
    ... [--frames 16] [--out bench/quality] [--write-results]

Outputs of a swap are looked for as ``DIR/SOURCE_on_TARGET.mp4`` (stems, e.g. ``d30_on_d18.mp4``). Without
``--swapped-dir`` each pair is swapped with the library (``facecraft.pipeline.swap.run_swap``) with a
background quality recorder attached (as ``facecraft swap --report`` does); with ``--overhead`` the 720p pair
is also swapped without it, which gives the recorder's share of the swap's time (issue 4's target: under
10%). When the swap library cannot be imported yet, the pairs are skipped with a note.
Contact sheets go to ``--out``; ``--write-results`` puts the table into ``bench/RESULTS.md`` between
``<!-- quality:begin -->`` and ``<!-- quality:end -->`` (appended when the markers are missing); with
``--keep-occluders`` (the swap's ``--keep-occluders --forehead``) between ``<!-- quality-kept:begin -->`` and
``<!-- quality-kept:end -->``; with ``--marked-copy`` between ``<!-- quality-marked:begin -->`` and
``<!-- quality-marked:end -->``.

``--marked-copy`` evaluates each target re-encoded as a swap writes it (the swap's encoder settings)
and marked with the invisible watermark, but with no face swapped: the floor every swap's figures sit on.
Its flicker ratio is what the marking and the re-encoding alone add (the mark is drawn in texture, so it
moves with the picture's detail from frame to frame, and x264 codes a pattern fixed to the frame as content
moves under it); its id_to_source is how far the unswapped target is from the source photo.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from facecraft.faces.face import Face
from facecraft.faces.mesh import FaceMesh
from facecraft.media.image import write_image
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.pipeline.builder import build_tracker
from facecraft.pipeline.swap import EncodeOptions
from facecraft.provenance.payload import WatermarkPayload
from facecraft.provenance.watermark import WatermarkStage
from facecraft.quality.background import SwapRecorder, build_swap_recorder
from facecraft.quality.evaluate import EvalInputs, QualityTools, build_quality_tools, evaluate
from facecraft.quality.identity import IdentitySchedule
from facecraft.quality.recorder import QualityRecorder, RecorderSettings
from facecraft.quality.report import REPORT_KEYS, QualityReport
from facecraft.types import Frame

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
BENCH = Path(__file__).resolve().parent
PAIRS = (
    ("d30.jpg", "d18.mp4"),
    ("d30.jpg", "d3.mp4"),
    ("d30.jpg", "s18.mp4"),
    ("d8.jpg", "d20.mp4"),
    ("d8.jpg", "d10.mp4"),
)
"""(source photo, target video) pairs from issue 3's targets."""
MARKERS = "<!-- quality{}:begin -->", "<!-- quality{}:end -->"
OVERHEAD_TARGET = 0.10
OVERHEAD_CLIP = "s18.mp4"
"""The 720p clip the recorder's share of the swap time is measured on."""


@dataclass(frozen=True, slots=True)
class SwapRun:
    """One swap made by the bench: where, how long, and what the recorder attached to it measured.

    recorder_seconds: time spent inside the (inline) recorder during the swap, included in ``seconds``.
    plain_seconds: the same swap without the recorder (only with --overhead).
    """

    output: Path
    seconds: float
    frames: int
    report: QualityReport
    recorder_seconds: float
    plain_seconds: float | None = None

    @property
    def recorder_share(self) -> float:
        """The recorder's time over the swap's own time (what ``--report`` adds), measured in one run."""
        return self.recorder_seconds / max(self.seconds - self.recorder_seconds, 1e-9)


class TimedRecorder:
    """Wraps the swap's recorder, run inline on the swap's thread, and adds up the time spent inside it."""

    def __init__(self, recorder: SwapRecorder) -> None:
        self._recorder = recorder
        self.seconds = 0.0

    def observe(
        self, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, target_faces: Sequence[Face]
    ) -> None:
        started = time.perf_counter()
        self._recorder.observe(index, time_s, target_bgr, output_bgr, target_faces)
        self.seconds += time.perf_counter() - started

    def report(self) -> QualityReport:
        started = time.perf_counter()
        report = self._recorder.report()
        self.seconds += time.perf_counter() - started
        return report


@dataclass(frozen=True, slots=True)
class PairResult:
    name: str
    report: QualityReport
    swap: SwapRun | None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--swapped-dir", type=Path)
    parser.add_argument("--self", dest="against_self", action="store_true")
    parser.add_argument(
        "--marked-copy", action="store_true", help="evaluate each target re-encoded with the watermark alone"
    )
    parser.add_argument("--recorder-cost", action="store_true")
    parser.add_argument("--frames", type=int, default=16, help="identity frames per clip")
    parser.add_argument("--out", type=Path, default=BENCH / "quality")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument(
        "--keep-occluders", action="store_true", help="swap with --keep-occluders --forehead (a second table)"
    )
    parser.add_argument("--only", help="run only this pair, e.g. d30_on_s18")
    parser.add_argument(
        "--overhead", action="store_true", help=f"swap {OVERHEAD_CLIP} also without the recorder, to time it"
    )
    args = parser.parse_args()
    if not (MEDIA / "videos").is_dir():
        print(f"skipped: real media not found at {MEDIA}")
        return 0
    tools = build_quality_tools()
    if args.recorder_cost:
        return recorder_cost(tools)
    results = []
    for source_name, target_name in PAIRS:
        if args.only and args.only != f"{Path(source_name).stem}_on_{Path(target_name).stem}":
            continue
        result = run_pair(source_name, target_name, args, tools)
        if result is not None:
            results.append(result)
    if not results:
        print("no pair evaluated (no swap library yet and no --swapped-dir); try --self for the ideal row")
        return 0
    kind = "swap, --keep-occluders --forehead" if args.keep_occluders else "swap"
    if args.against_self:
        kind = "target itself (ideal)"
    elif args.marked_copy:
        kind = "the target re-encoded and marked, no face swapped (the floor)"
    table = markdown_table(results, kind)
    print(table)
    print_overheads(results)
    if args.write_results:
        write_results(table, "-kept" if args.keep_occluders else "-marked" if args.marked_copy else "")
    return 0


def run_pair(
    source_name: str, target_name: str, args: argparse.Namespace, tools: QualityTools
) -> PairResult | None:
    source, target = MEDIA / "images" / source_name, MEDIA / "videos" / target_name
    name = f"{Path(source_name).stem}_on_{Path(target_name).stem}"
    swap: SwapRun | None = None
    if args.against_self:
        swapped = target
    elif args.marked_copy:
        swapped = marked_copy(target, args.out / "marked" / f"{Path(target_name).stem}.mp4")
    elif args.swapped_dir is not None:
        swapped = args.swapped_dir / f"{name}.mp4"
        if not swapped.is_file():
            print(f"{name}: skipped, {swapped} not found")
            return None
    else:
        measure_plain = args.overhead and target_name == OVERHEAD_CLIP
        swap = swap_with_library(
            source, target, args.out / f"{name}.mp4", tools, measure_plain, args.keep_occluders
        )
        if swap is None:
            print(f"{name}: skipped, the swap library (facecraft.pipeline.swap) cannot be imported yet")
            return None
        swapped = swap.output
    started = time.perf_counter()
    evaluation = evaluate(
        EvalInputs(source, target, swapped, identity_frames=args.frames, sheet_frames=4), tools
    )
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "_self" if args.against_self else "_marked" if args.marked_copy else ""
    sheet_name = f"{name}{suffix}.png"
    write_image(args.out / sheet_name, evaluation.contact_sheet(f"{name}: {swapped.name}"))
    print(f"{name}: evaluated in {time.perf_counter() - started:.1f} s, sheet {args.out / sheet_name}")
    return PairResult(name, evaluation.report, swap)


def marked_copy(target: Path, output: Path) -> Path:
    """``target`` re-encoded as a swap writes it (the swap's encoder settings, its audio kept) and marked with
    the watermark (a fixed payload), with no face swapped (see the module docstring)."""
    encode = EncodeOptions()
    stage = WatermarkStage(WatermarkPayload(record_id=1))
    output.parent.mkdir(parents=True, exist_ok=True)
    info = probe(target)
    with (
        FrameReader(target) as reader,
        FrameWriter(output, fps=info.fps, crf=encode.crf, preset=encode.preset, audio_from=target) as writer,
    ):
        for frame in reader:
            writer.write(stage.process(frame.image_bgr, frame.index, frame.time_s), frame.time_s)
    return output


def swap_with_library(
    source: Path, target: Path, output: Path, tools: QualityTools, measure_plain: bool, keep_occluders: bool
) -> SwapRun | None:
    """Swap with the runner, the swap's quality recorder attached (as ``--report`` would). Adapt here if
    the runner's API moves. With ``measure_plain``, swap once more without it, for the recorder's share."""
    try:
        from facecraft.blend.compositor import CompositeSettings
        from facecraft.pipeline.marking import MarkingOptions
        from facecraft.pipeline.swap import SwapRequest, run_swap
        from facecraft.pipeline.swap_builder import SwapConfig, build_swap, build_swap_marking
    except ImportError:
        return None
    output.parent.mkdir(parents=True, exist_ok=True)
    composite = CompositeSettings(forehead="on" if keep_occluders else "auto")
    config = SwapConfig(source=source, composite=composite, keep_occluders=keep_occluders)
    request = SwapRequest(target, output)
    components = build_swap(config)
    with tempfile.TemporaryDirectory(prefix="facecraft-bench-") as config_dir:  # marking keys
        marking_options = MarkingOptions(config_dir=Path(config_dir))
        plain_seconds = None
        if measure_plain:
            started = time.perf_counter()
            run_swap(request, components, build_swap_marking(config, request, marking_options))
            plain_seconds = time.perf_counter() - started
        duration_s = probe(target).duration_s
        recorder = TimedRecorder(build_swap_recorder(components.source, duration_s, background=False))
        components.observers = (recorder,)
        started = time.perf_counter()
        swap_report = run_swap(request, components, build_swap_marking(config, request, marking_options))
        report = recorder.report()
        seconds = time.perf_counter() - started
    return SwapRun(output, seconds, swap_report.frames, report, recorder.seconds, plain_seconds)


def markdown_table(results: list[PairResult], kind: str) -> str:
    header = "| pair | " + " | ".join(REPORT_KEYS) + " |"
    lines = [
        f"Swap quality ({kind}), `facecraft eval` numbers:",
        "",
        header,
        "|" + "---|" * (len(REPORT_KEYS) + 1),
    ]
    for result in results:
        row = result.report.to_json()
        lines.append(f"| {result.name} | " + " | ".join(_cell(row[key]) for key in REPORT_KEYS) + " |")
    means = [_mean([r.report.to_json()[key] for r in results]) for key in REPORT_KEYS]
    cells = [
        f"{v:.0f}" if key == "frames" and v is not None else _cell(v)
        for key, v in zip(REPORT_KEYS, means, strict=True)
    ]
    lines.append("| **mean** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def print_overheads(results: list[PairResult]) -> None:
    for result in results:
        swap = result.swap
        if swap is None:
            continue
        share = swap.recorder_share
        verdict = "PASS" if share < OVERHEAD_TARGET else "FAIL"
        print(
            f"{result.name}: swap {swap.frames / swap.seconds:.1f} fps with the quality recorder inline, "
            f"{1000 * swap.recorder_seconds / max(swap.frames, 1):.2f} ms/frame in it = {share:.1%} of the "
            f"swap's own time (target < {OVERHEAD_TARGET:.0%}: {verdict})"
        )
        if swap.plain_seconds is not None:
            added = swap.seconds / swap.plain_seconds - 1
            print(
                f"  wall clock: {swap.plain_seconds:.2f} s without, {swap.seconds:.2f} s with (+{added:.1%})"
            )
        print(f"  during-swap report: {swap.report.to_json()}")


def recorder_cost(tools: QualityTools, frames: int = 150) -> int:
    """ms per 720p frame of QualityRecorder.observe on s18 (no identity), and one identity sample's cost."""
    video = MEDIA / "videos" / "s18.mp4"
    with FrameReader(video) as reader:
        decoded = [(f.index, f.time_s, f.image_bgr) for _, f in zip(range(frames), reader, strict=False)]
    tracker = build_tracker(tools.analyzer)
    faces = [tracker.update(image, time_s) for _, time_s, image in decoded]
    rng = np.random.default_rng(0)
    outputs = [_noisy(image, rng) for _, _, image in decoded]
    mesh = FaceMesh(with_iris=False)
    height, width = decoded[0][2].shape[:2]
    print(f"{video.name} {width}x{height}, {len(decoded)} frames, one face; output = target + noise")
    no_identity = IdentitySchedule(max_frames=0)
    presets = {
        "every frame (eval)": RecorderSettings(identity=no_identity),
        "swap preset (--report)": replace(RecorderSettings.for_swap(None), identity=no_identity),
    }
    for label, settings in presets.items():
        recorder = QualityRecorder(mesh, None, None, settings)
        timings = []
        for (index, time_s, image), output, frame_faces in zip(decoded, outputs, faces, strict=True):
            start = time.perf_counter()
            recorder.observe(index, time_s, image, output, frame_faces)
            timings.append(1000 * (time.perf_counter() - start))
        print(
            f"observe, {label}: mean {statistics.fmean(timings):.2f} ms/frame, "
            f"median {statistics.median(timings):.2f} ms (identity not included)"
        )
    face = faces[0][0]
    start = time.perf_counter()
    for _ in range(5):
        tools.identity(decoded[0][2], face)
    embed_ms = 1000 * (time.perf_counter() - start) / 5
    print(f"identity sample: 2 embeddings x {embed_ms:.1f} ms = {2 * embed_ms:.0f} ms per sampled frame")
    return 0


def _noisy(image: Frame, rng: np.random.Generator) -> Frame:
    noise = rng.integers(-2, 3, image.shape, dtype=np.int16)
    noisy: Frame = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return noisy


def write_results(table: str, tag: str = "") -> None:
    path = BENCH / "RESULTS.md"
    text = path.read_text() if path.is_file() else "# Benchmark results\n"
    begin, end = (marker.format(tag) for marker in MARKERS)
    block = f"{begin}\n{table}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        heading = "Swap quality" + (f" ({tag.strip('-')})" if tag else "")
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
    path.write_text(text)
    print(f"table written to {path}")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) >= 0.01 or value == 0 else f"{value:.4f}"
    return str(value)


def _mean(values: list[int | float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


if __name__ == "__main__":
    raise SystemExit(main())

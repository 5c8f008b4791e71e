"""``facecraft eval``: measure a finished swap against its source and target; table, JSON, contact sheet."""

import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from facecraft.cli.progress import frame_progress
from facecraft.media.image import write_image
from facecraft.media.probe import is_image_path, probe
from facecraft.quality.evaluate import DEFAULT_IDENTITY_FRAMES, EvalInputs, build_quality_tools, evaluate
from facecraft.quality.report import QualityReport

SHEET_ROWS = 4
"""Frames shown on the contact sheet."""


@dataclass(frozen=True, slots=True)
class EvalOptions:
    source: Path
    target: Path
    swapped: Path
    frames: int = DEFAULT_IDENTITY_FRAMES
    sheet: Path | None = None
    show_progress: bool = True

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be at least 1, got {self.frames}")


@dataclass(frozen=True, slots=True)
class EvalResult:
    report: QualityReport
    sheet: Path | None

    def json_text(self) -> str:
        """Exactly the report's ten keys, as one JSON object."""
        return json.dumps(self.report.to_json())

    def summary_table(self) -> Table:
        return report_table(self.report)


def run_eval(options: EvalOptions, console: Console) -> EvalResult:
    """Evaluate; write the contact sheet when asked. Typed errors propagate to the CLI adapter."""
    tools = build_quality_tools()
    inputs = EvalInputs(
        options.source,
        options.target,
        options.swapped,
        identity_frames=options.frames,
        sheet_frames=SHEET_ROWS if options.sheet is not None else 0,
    )
    image = is_image_path(options.target)
    total = 1 if image else probe(options.target).frame_count
    with ExitStack() as stack:
        progress = stack.enter_context(
            frame_progress(console, "eval", disable=not options.show_progress or image)
        )
        task = progress.add_task("eval", total=total or None)
        evaluation = evaluate(inputs, tools, on_frame=lambda _index: progress.update(task, advance=1))
    if options.sheet is not None:
        title = f"{options.swapped.name}: {options.source.name} onto {options.target.name}"
        write_image(options.sheet, evaluation.contact_sheet(title))
    return EvalResult(evaluation.report, options.sheet)


def report_table(report: QualityReport) -> Table:
    """The headline numbers with their details and what good looks like (issue 3's targets)."""
    table = Table(title=f"swap quality over {report.frames} frame(s)")
    for column in ("metric", "value", "details", "good"):
        table.add_column(column)
    for row in _rows(report):
        table.add_row(*row)
    if report.details.notes:
        table.caption = "\n".join(report.details.notes)
    return table


def _rows(report: QualityReport) -> list[tuple[str, str, str, str]]:
    d = report.details
    samples = len(d.id_to_source_per_frame) or len(d.id_to_target_per_frame)
    source_detail = f"median {_fmt(d.id_to_source_median)}, worst 10% {_fmt(d.id_to_source_worst10)}"
    return [
        ("face_found", f"{report.face_found:.1%}", f"{d.frames_with_face} frame(s) with a face", "100%"),
        (
            "id_to_source",
            _fmt(report.id_to_source),
            f"{source_detail}, {samples} frame(s)",
            "low (<= 0.45)",
        ),
        ("id_to_target", _fmt(report.id_to_target), f"median {_fmt(d.id_to_target_median)}", "high (> 0.6)"),
        (
            "pose_err_deg",
            _fmt(report.pose_err_deg, 2),
            f"yaw {_fmt(d.yaw_err_deg, 2)}, pitch {_fmt(d.pitch_err_deg, 2)}, roll {_fmt(d.roll_err_deg, 2)}",
            "<= 4",
        ),
        ("mar_corr", _fmt(report.mar_corr), f"mean |diff| {_fmt(d.mar_mean_abs_diff)}", ">= 0.9"),
        ("ear_corr", _fmt(report.ear_corr), f"mean |diff| {_fmt(d.ear_mean_abs_diff)}", "near 1"),
        (
            "flicker_ratio",
            _fmt(report.flicker_ratio),
            f"output {_fmt(d.flicker_output, 2)}, target {_fmt(d.flicker_target, 2)} levels/frame",
            "<= 1.1",
        ),
        ("jitter", _fmt(report.jitter, 4), f"{_fmt(d.jitter_px, 2)} px/frame", "near 0"),
        (
            "seam_ratio",
            _fmt(report.seam_ratio),
            f"output {_fmt(d.seam_energy_output, 0)}, target {_fmt(d.seam_energy_target, 0)}",
            "near 1",
        ),
    ]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"

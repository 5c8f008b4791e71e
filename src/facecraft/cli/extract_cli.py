"""``facecraft extract``: videos and photos in, a faceset folder out (crops, masks, index, contact sheet)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from facecraft.cli.handle import run_or_exit
from facecraft.cli.progress import frame_progress
from facecraft.faceset.crop import FaceType
from facecraft.faceset.filters import (
    DEFAULT_BLUR_FLOOR,
    DEFAULT_BLUR_RELATIVE,
    DEFAULT_DUPLICATE_DISTANCE,
    DEFAULT_DUPLICATE_POSE_DEG,
)
from facecraft.faceset.summary import ExtractSummary

if TYPE_CHECKING:
    from facecraft.faceset.extract import ExtractProgress

FACES_HELP = "Whose face to extract: largest | index:N (N-th face from the left) | reference:PHOTO."


def register(app: typer.Typer) -> None:
    """Add the ``extract`` command to ``app``."""
    app.command("extract")(extract)


def extract(
    inputs: Annotated[list[Path], typer.Argument(help="Videos and photos of one person.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The faceset folder to create.")],
    size: Annotated[
        int, typer.Option(min=32, max=2048, help="Side of the square face crops, in pixels.")
    ] = 256,
    face_type: Annotated[
        FaceType,
        typer.Option(
            help="How much of the head a crop holds: face (brows to chin, some forehead), whole-face, head."
        ),
    ] = "face",
    faces: Annotated[str, typer.Option(help=FACES_HELP)] = "largest",
    every: Annotated[int, typer.Option(min=1, help="Use every N-th video frame.")] = 1,
    min_face_px: Annotated[
        float, typer.Option(min=0, help="Skip faces smaller than this in the frame (pixels).")
    ] = 48.0,
    blur_relative: Annotated[
        float,
        typer.Option(min=0, max=0.99, help="Drop faces less sharp than this fraction of the set's median."),
    ] = DEFAULT_BLUR_RELATIVE,
    blur_floor: Annotated[
        float, typer.Option(min=0, help="Drop faces under this sharpness (variance of the Laplacian).")
    ] = DEFAULT_BLUR_FLOOR,
    duplicate_distance: Annotated[
        float,
        typer.Option(min=0, help="Drop near-copies of a kept face closer than this (0 keeps every face)."),
    ] = DEFAULT_DUPLICATE_DISTANCE,
    duplicate_pose_deg: Annotated[
        float, typer.Option(min=0, help="Faces this close in yaw, pitch and roll may be near-copies.")
    ] = DEFAULT_DUPLICATE_POSE_DEG,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing faceset in the output.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Extract aligned faces of one person from INPUTS into a faceset (for `facecraft train`)."""
    from facecraft.faceset.extract import CONTACT_SHEET_FILE, ExtractOptions, extract_faceset

    out, err = Console(), Console(stderr=True)

    def go() -> ExtractSummary:
        options = ExtractOptions(
            inputs=tuple(inputs),
            output_dir=output,
            size=size,
            face_type=face_type,
            faces=faces,
            every=every,
            min_face_px=min_face_px,
            blur_relative=blur_relative,
            blur_floor=blur_floor,
            duplicate_distance=duplicate_distance,
            duplicate_pose_deg=duplicate_pose_deg,
            force=force,
        )
        with frame_progress(err, "{task.description}", disable=quiet) as progress:
            return extract_faceset(options, on_progress=_ProgressBars(progress))

    summary = run_or_exit(go, err)
    out.print(summary_table(summary))
    err.print(f"faceset written to [bold]{summary.output_dir}[/] (look at {CONTACT_SHEET_FILE} there)")


class _ProgressBars:
    """One bar per input, made when the input starts."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[int, TaskID] = {}

    def __call__(self, update: "ExtractProgress") -> None:
        task = self._tasks.get(update.input_index)
        if task is None:
            task = self._progress.add_task(update.input_path.name, total=update.frames_total)
            self._tasks[update.input_index] = task
        self._progress.update(task, completed=update.frames_done)


def summary_table(summary: ExtractSummary) -> Table:
    """What was kept and dropped, per input and in all, with the pose spread and the time taken."""
    table = Table(title=f"faceset {summary.output_dir}", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for count in summary.per_input:
        table.add_row(Path(count.path).name, f"{count.faces} face(s) from {count.frames_used} frame(s)")
    table.add_section()
    table.add_row("faces kept", str(summary.faces))
    table.add_row("dropped near-duplicates", str(summary.dropped_duplicates))
    table.add_row("dropped blurred", str(summary.dropped_blurred))
    table.add_row("dropped too small", str(summary.dropped_small))
    table.add_row("dropped cut by the frame edge", str(summary.dropped_cut))
    table.add_row("frames without the face", str(summary.frames_without_face))
    table.add_row("pose", summary.pose.describe())
    table.add_row("time", f"{summary.seconds:.1f} s ({summary.frames_per_s:.1f} frames/s)")
    return table

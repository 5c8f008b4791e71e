"""``facecraft swap``: options in, a progress bar while it runs, a short summary out."""

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from facecraft.blend.compositor import CompositeSettings
from facecraft.cli.progress import frame_progress
from facecraft.errors import FacecraftError
from facecraft.faces.selection import SelectionPolicy
from facecraft.media.probe import is_image_path, probe
from facecraft.pipeline.marking import MarkingOptions
from facecraft.pipeline.swap import EncodeOptions, SwapReport, SwapRequest, run_swap
from facecraft.pipeline.swap_builder import SwapConfig, build_swap, build_swap_marking
from facecraft.quality.background import build_swap_recorder


class SwapUsageError(FacecraftError):
    """Swap inputs and options that do not go together."""


@dataclass(frozen=True, slots=True)
class SwapCommand:
    config: SwapConfig
    request: SwapRequest
    marking: MarkingOptions
    report_path: Path | None = None


def split_inputs(inputs: list[Path], model_dir: Path | None) -> tuple[Path | None, Path]:
    """``[SOURCE] TARGET`` as (source or None, target): the source may be left out with ``--model``."""
    if len(inputs) == 2:
        return inputs[0], inputs[1]
    if len(inputs) == 1 and model_dir is not None:
        return None, inputs[0]
    if len(inputs) == 1:
        raise SwapUsageError(
            "name a source photo and a target (facecraft swap SOURCE TARGET -o OUT), or swap with a "
            "trained model, which knows its identity (facecraft swap --model MODEL_DIR TARGET -o OUT)"
        )
    raise SwapUsageError(f"expected SOURCE TARGET (or TARGET with --model), got {len(inputs)} paths")


def resolve_swapper(swapper: str | None, model_dir: Path | None) -> str:
    """The swapper to use: as named, else ``trained`` when a model is named and ``mesh`` otherwise."""
    if swapper is None:
        return "trained" if model_dir is not None else "mesh"
    if model_dir is not None and swapper != "trained":
        raise SwapUsageError(
            f"--model is for the trained swapper, not '{swapper}': drop --model or --swapper {swapper}"
        )
    return swapper


def make_command(
    source: Path | None,
    target: Path,
    output: Path,
    *,
    faces: str,
    swapper: str | None,
    composite: CompositeSettings,
    encode: EncodeOptions,
    start_s: float | None,
    end_s: float | None,
    report_path: Path | None,
    marking: MarkingOptions,
    model_dir: Path | None = None,
    keep_occluders: bool = False,
    glasses: bool = True,
    target_glasses: bool = True,
    outline: bool = False,
) -> SwapCommand:
    """A swap from the command's options; ``swapper`` None picks ``trained`` with a model, else ``mesh``."""
    config = SwapConfig(
        source=source,
        faces=SelectionPolicy.parse(faces),
        swapper=resolve_swapper(swapper, model_dir),
        model_dir=model_dir,
        composite=composite,
        keep_occluders=keep_occluders,
        glasses=glasses,
        target_glasses=target_glasses,
        outline=outline,
    )
    request = SwapRequest(target=target, output=output, start_s=start_s, end_s=end_s, encode=encode)
    return SwapCommand(config, request, marking, report_path)


def run_swap_command(
    command: SwapCommand, console: Console, cancel: threading.Event | None = None
) -> SwapReport:
    components = build_swap(command.config)
    marking = build_swap_marking(command.config, command.request, command.marking)
    recorder = None
    if command.report_path is not None:
        target = command.request.target
        duration_s = None if is_image_path(target) else probe(target).duration_s
        recorder = build_swap_recorder(components.source, duration_s)
        components.observers = (*components.observers, recorder)
    with frame_progress(console, "swap") as progress:
        task = progress.add_task("swap", total=None)

        def on_progress(done: int, expected: int | None) -> None:
            progress.update(task, completed=done, total=expected)

        report = run_swap(command.request, components, marking, on_progress, cancel)
    if command.report_path is not None and recorder is not None:
        data = report.to_json()
        data["quality"] = recorder.report().to_json()
        command.report_path.write_text(json.dumps(data, indent=2) + "\n")
    return report

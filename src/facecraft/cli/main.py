"""The ``facecraft`` command: a thin typer adapter over the library.

It parses options, calls the library, shows progress, and maps typed errors to exit codes. It holds no
logic of its own.
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from facecraft import __version__
from facecraft.blend.compositor import BlendMode, ColorMode, ForeheadMode
from facecraft.cli.handle import run_or_exit
from facecraft.cli.runtime import tune_allocator
from facecraft.faces.selection import SELECTION_HELP
from facecraft.media.writer import Preset, VideoCodec
from facecraft.pipeline.swap_builder import swapper_names

app = typer.Typer(
    name="facecraft",
    help="Responsible face-swap videos: swap, train, mark, guard, detect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)

T = TypeVar("T")


def _run(action: Callable[[], T]) -> T:
    """Run a library call; a typed error becomes a one-line message and its exit code."""
    return run_or_exit(action, _err)


def forehead_mode(flag: bool | None) -> ForeheadMode:
    """``--forehead`` is ``on``, ``--no-forehead`` ``off``, neither ``auto`` (the source photo decides)."""
    if flag is None:
        return "auto"
    return "on" if flag else "off"


def _version(value: bool) -> None:
    if value:
        _out.print(f"facecraft {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """facecraft: every output is marked as synthetic; sexual content is refused."""
    tune_allocator()


@app.command()
def probe(
    path: Annotated[Path, typer.Argument(help="Video or image file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a media file's size, rotation, frame rate, length, codecs and audio streams."""
    from facecraft.cli.describe import describe_media

    info = _run(lambda: describe_media(path))
    if as_json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    table = Table(title=str(path), show_header=False)
    for key, value in info.items():
        table.add_row(key, str(value))
    _out.print(table)


@app.command()
def faces(
    path: Annotated[Path, typer.Argument(help="Video or image file to analyse.")],
    reference: Annotated[
        Path | None, typer.Option(help="Photo of a person: report each face's identity distance to them.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (frames, faces) instead of a table.")
    ] = False,
    overlay: Annotated[
        Path | None,
        typer.Option(help="Write boxes, track ids and the mesh over the input: OUT.png or OUT.mp4."),
    ] = None,
    detect_every: Annotated[int, typer.Option(min=1, help="Run the detector at least every N frames.")] = 10,
) -> None:
    """Find faces with their dense mesh; in videos, track them with stable ids."""
    from facecraft.cli.faces_command import FacesOptions, run_faces

    options = FacesOptions(path, reference, overlay, detect_every, show_progress=not as_json)
    result = _run(lambda: run_faces(options, _err))
    if as_json:
        sys.stdout.write(json.dumps({"frames": result.frames_json}) + "\n")
    else:
        _out.print(result.summary_table())
    if overlay is not None:
        _err.print(f"overlay written to [bold]{overlay}[/]")


@app.command()
def swap(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="[SOURCE] TARGET",
            help="Photo of the person to swap in, then the video or image whose faces are replaced. "
            "With --model, SOURCE may be left out: the trained model knows its identity.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Where to write the result (.mp4, .mov, .mkv, .webm, .jpg, .png)."
        ),
    ],
    faces: Annotated[str, typer.Option(help=f"Which faces to swap: {SELECTION_HELP}.")] = "all",
    swapper: Annotated[
        str | None,
        typer.Option(
            help=f"Swap backend: {' | '.join(swapper_names())}. Default: mesh, or trained with --model.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            metavar="MODEL_DIR",
            help="A trained model's folder (from `facecraft train`) to swap with; implies --swapper trained.",
        ),
    ] = None,
    blend: Annotated[BlendMode, typer.Option(help="How the face is blended in.")] = "multiband",
    color: Annotated[
        ColorMode, typer.Option(help="Colour transfer onto the target's skin and light.")
    ] = "shading",
    forehead: Annotated[
        bool | None,
        typer.Option(
            "--forehead/--no-forehead",
            help="Swap the forehead too, or never (default: swapped, fading out towards the hairline, when "
            "the source photo's forehead is clear; with a fringe the face stops above the brows; a trained "
            "model always swaps its whole face, up to its own mask).",
            show_default=False,
        ),
    ] = None,
    keep_lips: Annotated[
        bool,
        typer.Option(
            "--keep-lips",
            help="Keep the target's own lips (the swap takes the rest of the face): for a source photo "
            "whose mouth is set in an expression (a pout, a grimace, a grin); a neutral source's lips "
            "carry its likeness.",
        ),
    ] = False,
    outline: Annotated[
        bool,
        typer.Option(
            "--outline",
            help="Give the face the source's outline too (its width at the cheeks and jaw; the hair and "
            "background beside it move with it). A closer likeness, at some steadiness and speed.",
        ),
    ] = False,
    keep_occluders: Annotated[
        bool,
        typer.Option(
            "--keep-occluders",
            help="Keep the source photo's glasses, fringe or hand on the face instead of filling them "
            "(a closer likeness; glasses then bend as the head turns).",
        ),
    ] = False,
    glasses: Annotated[
        bool,
        typer.Option(
            "--glasses/--no-glasses",
            help="Draw glasses found in the source photo over the swapped face, rigidly (they do not bend "
            "with the face); --no-glasses leaves them off.",
        ),
    ] = True,
    target_glasses: Annotated[
        bool,
        typer.Option(
            "--target-glasses/--no-target-glasses",
            help="Keep the glasses the target wears in the video on the swapped face (their rims show over "
            "it, and the source photo's glasses are not drawn there); --no-target-glasses paints them over "
            "inside the face (their arms outside it stay).",
        ),
    ] = True,
    crf: Annotated[
        int, typer.Option(min=0, max=63, help="Quality of the video encode (lower is better).")
    ] = 18,
    preset: Annotated[
        Preset, typer.Option(help="Encoder speed preset (slower: smaller files at the same quality).")
    ] = "fast",
    codec: Annotated[VideoCodec, typer.Option(help="Video codec of the output.")] = "h264",
    start: Annotated[
        float | None, typer.Option(min=0, help="Start at this time in the target (seconds).")
    ] = None,
    end: Annotated[
        float | None, typer.Option(min=0, help="Stop at this time in the target (seconds).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a JSON report of the run and its quality (see `eval`) here.")
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Also draw this visible caption on every frame, e.g. 'AI-generated'.")
    ] = None,
    c2pa_cert: Annotated[
        Path | None,
        typer.Option(help="Your C2PA signing certificate chain (PEM); default: a local identity."),
    ] = None,
    c2pa_key: Annotated[Path | None, typer.Option(help="The private key (PEM) for --c2pa-cert.")] = None,
) -> None:
    """Swap the face in SOURCE into TARGET, or a trained model's face (--model MODEL_DIR TARGET).

    The output is marked as synthetic.
    """
    from facecraft.blend.compositor import CompositeSettings
    from facecraft.cli.swap_command import make_command, run_swap_command, split_inputs
    from facecraft.pipeline.marking import MarkingOptions
    from facecraft.pipeline.swap import EncodeOptions

    def go() -> None:
        source, target = split_inputs(inputs, model)
        command = make_command(
            source,
            target,
            output,
            faces=faces,
            swapper=swapper,
            composite=CompositeSettings(
                blend=blend, color=color, forehead=forehead_mode(forehead), keep_lips=keep_lips
            ),
            encode=EncodeOptions(codec=codec, crf=crf, preset=preset),
            start_s=start,
            end_s=end,
            report_path=report,
            marking=MarkingOptions(label=label, cert=c2pa_cert, key=c2pa_key),
            model_dir=model,
            keep_occluders=keep_occluders,
            outline=outline,
            glasses=glasses,
            target_glasses=target_glasses,
        )
        result = run_swap_command(command, _err)
        for note in result.notes:
            _err.print(f"[yellow]note:[/] {note}", highlight=False)
        _err.print(
            f"wrote [bold]{result.output}[/]: {result.frames} frame(s), "
            f"{result.faces_swapped} face(s) swapped, {result.fps:.1f} fps"
        )

    _run(go)


@app.command("eval")
def eval_command(
    source: Annotated[Path, typer.Option("--source", help="The source photo the swap used.")],
    target: Annotated[Path, typer.Option("--target", help="The original target video or image.")],
    swapped: Annotated[Path, typer.Option("--swapped", help="The swapped output to measure.")],
    frames: Annotated[
        int,
        typer.Option("--frames", min=1, help="Frames to embed for identity (~75 ms each)."),
    ] = 16,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON with exactly the report's ten keys instead of a table.")
    ] = False,
    sheet: Annotated[
        Path | None, typer.Option("--sheet", help="Write a contact sheet PNG: target, output and difference.")
    ] = None,
) -> None:
    """Measure a swap: identity, pose, expression, flicker, jitter, seams and coverage."""
    from facecraft.cli.eval_command import EvalOptions, run_eval

    options = EvalOptions(source, target, swapped, frames, sheet, show_progress=not as_json)
    result = _run(lambda: run_eval(options, _err))
    if as_json:
        sys.stdout.write(result.json_text() + "\n")
    else:
        _out.print(result.summary_table())
    if sheet is not None:
        _err.print(f"contact sheet written to [bold]{sheet}[/]")


@app.command()
def verify(
    path: Annotated[Path, typer.Argument(help="Video or image to check for facecraft's marks.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (watermark, c2pa, record) instead of a table.")
    ] = False,
) -> None:
    """Tell whether FILE carries facecraft's marks (exit 0: marked, 1: not marked, 2: error)."""
    from facecraft.cli.verify_command import run_verify_command

    code = _run(lambda: run_verify_command(path, as_json=as_json, console=_out))
    raise typer.Exit(code)


def _register_commands() -> None:
    """Commands that live in their own modules add themselves here (explicit, no scanning)."""
    from facecraft.cli.extract_cli import register as register_extract
    from facecraft.cli.serve_cli import register as register_serve
    from facecraft.cli.train_cli import register as register_train

    register_extract(app)
    register_train(app)
    register_serve(app)


_register_commands()


def run() -> None:  # pragma: no cover - console entry for `python -m facecraft`
    app()

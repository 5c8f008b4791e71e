"""``facecraft train`` and ``facecraft export``: train a swap model on two facesets; re-export it.

PyTorch is imported only when one of these commands runs (it is the ``train`` extra).
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from facecraft.cli.handle import run_or_exit
from facecraft.errors import FacecraftError

if TYPE_CHECKING:
    from facecraft.swap.trained.trainer import StepInfo, TrainResult

DEVICE_HELP = "auto (CUDA when there is a GPU), cpu, or cuda."
T = TypeVar("T")

LOG_LINE_EVERY_S = 30.0
"""Without a terminal (a log file), the progress is printed as a line this often."""

PRESET_HELP = (
    "Model shape: tiny (tests), cpu (64-96 px on a laptop CPU), df (DeepFaceLab SAEHD DF class, for a GPU)."
)


def register(app: typer.Typer) -> None:
    """Add the ``train`` and ``export`` commands to ``app``."""
    app.command("train")(train)
    app.command("export")(export)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--:--"
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class _TrainProgress:
    """A rich bar: step (of N), it/s, the losses, the share of time spent waiting for data, elapsed and
    remaining time."""

    def __init__(self, progress: Progress, total_steps: int | None) -> None:
        self._progress = progress
        self._task: TaskID = progress.add_task("train", total=total_steps, info="starting ...")
        self._last_line_s = 0.0
        self._noted: str | None = None

    def __call__(self, info: "StepInfo") -> None:
        if info.note and info.note != self._noted:  # e.g. compiling failed: say so now, not at the end
            self._progress.console.print(f"[yellow]note:[/] {info.note}", highlight=False)
            self._noted = info.note
        losses = "  ".join(f"{k} {v:.4f}" for k, v in info.losses.items() if v)
        text = (
            f"step {info.step}{'/' + str(info.total_steps) if info.total_steps else ''}  "
            f"{info.it_per_s:5.2f} it/s  {losses}  loader wait {info.loader_wait_share:.0%}  "
            f"elapsed {_clock(info.elapsed_s)}  ETA {_clock(info.remaining_s)}"
        )
        self._progress.update(self._task, completed=info.step, info=text)
        console = self._progress.console
        if not console.is_terminal and time.monotonic() - self._last_line_s >= LOG_LINE_EVERY_S:
            console.print(text, highlight=False, soft_wrap=True)  # a log line where no bar can be drawn
            self._last_line_s = time.monotonic()


def train(
    source: Annotated[
        Path, typer.Option("--source", help="Faceset of the SOURCE person (the face to put in).")
    ],
    target: Annotated[
        Path, typer.Option("--target", help="Faceset of the TARGET footage (faces to replace).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The model directory to write.")],
    size: Annotated[
        int, typer.Option(min=64, max=256, help="Model resolution in pixels (multiple of 16).")
    ] = 64,
    preset: Annotated[str, typer.Option(help=PRESET_HELP)] = "cpu",
    steps: Annotated[int | None, typer.Option(min=1, help="Train until this many steps in all.")] = None,
    minutes: Annotated[float | None, typer.Option(min=0.01, help="Train for this many minutes.")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Faces per identity per step.")] = 8,
    lr: Annotated[
        float | None, typer.Option(min=0.0, help="Learning rate (Adam; default: the preset's).")
    ] = None,
    schedule: Annotated[
        str,
        typer.Option(
            help="Learning rate: constant, or cosine (falls to a tenth by the end of --steps or "
            "--minutes, whichever comes first)."
        ),
    ] = "constant",
    gan_weight: Annotated[
        float, typer.Option(min=0.0, help="Weight of the adversarial loss (0: off).")
    ] = 0.1,
    gan_warmup: Annotated[int, typer.Option(min=0, help="Steps before the adversarial loss starts.")] = 5000,
    eyes_mouth_weight: Annotated[
        float, typer.Option(min=0.0, help="Extra L1 weight on the eyes and mouth (0: none).")
    ] = 3.0,
    preview_every: Annotated[
        int, typer.Option(min=0, help="Steps between preview grids (0: at the end only).")
    ] = 500,
    checkpoint_minutes: Annotated[float, typer.Option(min=0.1, help="Minutes between checkpoints.")] = 10.0,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    workers: Annotated[int, typer.Option(min=0, help="Background data-loading processes (0: in line).")] = 2,
    threads: Annotated[
        int | None, typer.Option(min=1, help="PyTorch CPU threads (default: torch's).")
    ] = None,
    compile_nets: Annotated[
        bool,
        typer.Option(
            "--compile/--no-compile",
            help="torch.compile the training step on CUDA (about 1.8x faster steps at 128 px on an H100).",
        ),
    ] = True,
    compile_mode: Annotated[
        str,
        typer.Option(
            help="How the step is compiled on CUDA: cudagraphs (compiled and replayed as CUDA graphs), "
            "or step (compiled only)."
        ),
    ] = "cudagraphs",
    sharpen: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.99,
            help="Share of --steps at the end trained without the random warp: sharper faces (0: off).",
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed (model init, batches, augmentation).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the model in OUTPUT.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Train a swap model: SOURCE's face drawn with TARGET's expressions (shared encoder, two decoders, GAN).

    Ctrl-C writes a checkpoint and the ONNX export, then stops (exit code 130); --resume continues.
    """
    err = Console(stderr=True)

    def go() -> "TrainResult":
        from facecraft.swap.trained.trainer import TrainOptions
        from facecraft.swap.trained.trainer import train as run_training

        options = TrainOptions(
            source_dir=source,
            target_dir=target,
            model_dir=output,
            size=size,
            preset=preset,
            steps=steps,
            minutes=minutes,
            batch=batch,
            lr=lr,
            schedule=schedule,  # type: ignore[arg-type]
            gan_weight=gan_weight,
            gan_warmup_steps=gan_warmup,
            feature_weight=eyes_mouth_weight,
            preview_every=preview_every,
            checkpoint_minutes=checkpoint_minutes,
            device=device,  # type: ignore[arg-type]
            seed=seed,
            resume=resume,
            num_workers=workers,
            threads=threads,
            compile=compile_nets,
            compile_mode=compile_mode,  # type: ignore[arg-type]
            sharpen=sharpen,
        )
        columns = (TextColumn("train"), BarColumn(), TextColumn("{task.fields[info]}"))
        with Progress(*columns, console=err, disable=quiet) as progress:
            return run_training(options, on_step=_TrainProgress(progress, steps))

    result = run_or_exit(_checked(go), err)
    if result.note:
        err.print(f"[yellow]note:[/] {result.note}", highlight=False)
    losses = ", ".join(f"{k} {v:.4f}" for k, v in result.losses.items() if v)
    err.print(
        f"trained {result.steps} steps in {_clock(result.elapsed_s)} ({result.it_per_s:.2f} it/s); {losses}\n"
        f"model written to [bold]{result.model_dir}[/] ({result.onnx}); "
        f"previews in {result.model_dir / 'previews'}"
    )


def export(
    model_dir: Annotated[Path, typer.Argument(help="A model directory written by 'facecraft train'.")],
    source: Annotated[
        Path | None, typer.Option("--source", help="The source faceset, if it moved since training.")
    ] = None,
) -> None:
    """Re-export MODEL_DIR's newest checkpoint as model.onnx, card.json and source_face.png."""
    err = Console(stderr=True)

    def go() -> Path:
        from facecraft.swap.trained.trainer import export_from_checkpoint

        return export_from_checkpoint(model_dir, source)

    onnx = run_or_exit(_checked(go), err)
    err.print(f"exported [bold]{onnx}[/]")


def _checked(action: Callable[[], T]) -> Callable[[], T]:
    """Turn a missing PyTorch into a message saying which extra to install."""

    def wrapped() -> T:
        try:
            import torch  # noqa: F401
        except ImportError as error:
            raise FacecraftError(
                "training needs PyTorch, which is not installed: pip install 'facecraft[train]'"
            ) from error
        return action()

    return wrapped

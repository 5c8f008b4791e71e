"""The tiny model's training options shared by the trained-swapper tests."""

from dataclasses import replace
from pathlib import Path

from facecraft.swap.trained.trainer import TrainOptions


def tiny_options(facesets: tuple[Path, Path], model_dir: Path, steps: int, **changes: object) -> TrainOptions:
    source, target = facesets
    options = TrainOptions(
        source_dir=source,
        target_dir=target,
        model_dir=model_dir,
        size=32,
        preset="tiny",
        steps=steps,
        batch=4,
        lr=5e-4,
        warmup_steps=2,
        gan_warmup_steps=2,
        preview_every=0,
        log_every=1,
        device="cpu",
        num_workers=0,
        threads=1,
    )
    return replace(options, **changes)  # type: ignore[arg-type]

"""Training speed on this machine's CPU: it/s of the `cpu` preset by resolution and batch, and the `df`
preset (SAEHD DF class) at 128 px, batch 4. Each cell times whole training steps (generator and critic,
GAN on) on augmented batches made beforehand, after a warm-up step, for at least --seconds; the
augmentation's own cost per batch is printed beside it. Others may be using the CPU: the load average
is printed before and after, and the figures are only comparable at a similar load.

    python bench/train_throughput.py [--threads 1] [--seconds 6]
    python bench/train_throughput.py --threads 2 --compare-layout 3 --seconds 15

--compare-layout N alternates N times between the trainer's channels-last networks and batches (its default
since 2026-11-27) and the plain contiguous layout, at 96 px batch 4, and prints each pair.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from facecraft.faceset.index import FacesetIndex
from facecraft.swap.trained.augment import AugmentSettings, identity_grid
from facecraft.swap.trained.dataset import Batch, FaceBank, make_side
from facecraft.swap.trained.nets import SwapModel, count_params, preset_config
from facecraft.swap.trained.trainer import StepRunner, TrainOptions

WIDTHS = (6, 5, 5, 7, 8, 17, 6)
GRID = ((64, 4), (64, 8), (64, 16), (96, 4), (96, 8), (96, 16), (128, 4), (128, 8), (128, 16))


def random_bank(size: int, faces: int = 32) -> FaceBank:
    """Face-sized noise with an oval mask: the step's cost does not depend on the pixels."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(faces, size, size, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    oval = ((xx - size / 2) / (0.35 * size)) ** 2 + ((yy - size / 2) / (0.45 * size)) ** 2 <= 1.0
    masks = np.repeat((oval * 255).astype(np.uint8)[None], faces, axis=0)
    index = FacesetIndex(size=size, face_type="face", inputs=(), entries=())
    return FaceBank(Path(), index, images, masks, np.zeros_like(masks))


def make_batches(size: int, batch: int, count: int) -> tuple[list[Batch], float]:
    """``count`` augmented batch pairs and the milliseconds one took to make."""
    bank = random_bank(size)
    rng = np.random.default_rng(1)
    settings, base = AugmentSettings(), identity_grid(size)
    started = time.perf_counter()
    batches = []
    for _ in range(count):
        a = make_side(bank, rng, batch, settings, base)
        b = make_side(bank, rng, batch, settings, base)
        batches.append({**{f"{k}_a": v for k, v in a.items()}, **{f"{k}_b": v for k, v in b.items()}})
    return batches, (time.perf_counter() - started) / count * 1000.0


def measure(
    preset: str, size: int, batch: int, seconds: float, contiguous: bool = False
) -> tuple[float, float, int]:
    """(it/s, augmentation ms per batch, steps timed); ``contiguous``: undo the channels-last layout."""
    options = TrainOptions(
        Path(), Path(), Path(), size=size, preset=preset, steps=1, batch=batch,
        gan_warmup_steps=0, device="cpu",
    )  # fmt: skip
    runner = StepRunner(preset_config(preset, size, "face"), options, torch.device("cpu"))
    if contiguous:
        runner.model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
        runner.disc.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
        runner.to_device = lambda batch: dict(batch)  # type: ignore[method-assign]
    batches, augment_ms = make_batches(size, batch, 4)
    runner.run_step(batches[0], 0)  # warm-up
    steps, started = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - started < seconds:
        runner.run_step(batches[steps % len(batches)], steps + 1)
        steps += 1
    return steps / (time.perf_counter() - started), augment_ms, steps


def compare_layout(pairs: int, seconds: float) -> None:
    """Contiguous vs channels-last steps of the cpu preset at 96 px, batch 4, alternated."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    for pair in range(pairs):
        for contiguous in (True, False):
            rate = measure("cpu", 96, 4, seconds, contiguous=contiguous)[0]
            rates[contiguous].append(rate)
            name = "contiguous" if contiguous else "channels-last"
            print(f"pair {pair + 1}: {name} {rate:.2f} it/s", flush=True)
    plain, last = np.mean(rates[True]), np.mean(rates[False])
    print(f"mean: contiguous {plain:.2f} it/s, channels-last {last:.2f} it/s ({last / plain - 1:+.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--seconds", type=float, default=6.0, help="minimum timed seconds per cell")
    parser.add_argument("--skip-df", action="store_true")
    parser.add_argument("--compare-layout", type=int, default=0, metavar="N", help="N layout pairs only")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.compare_layout:
        compare_layout(args.compare_layout, args.seconds)
        return
    load_before = os.getloadavg()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPU(s); "
          f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")  # fmt: skip
    for size in (64, 96, 128):
        params = count_params(SwapModel(preset_config("cpu", size, "face")))
        print(f"cpu preset at {size} px: {params / 1e6:.2f} M generator params")
    header = ("preset", "size", "batch", "it/s", "faces/s", "augment ms/batch", "steps")
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, WIDTHS, strict=True)))
    cells = [("cpu", size, batch) for size, batch in GRID]
    if not args.skip_df:
        cells.append(("df", 128, 4))
    for preset, size, batch in cells:
        rate, augment_ms, steps = measure(preset, size, batch, args.seconds)
        row = (preset, size, batch, f"{rate:.2f}", f"{rate * batch * 2:.1f}", f"{augment_ms:.1f}", steps)
        print(" ".join(f"{v:>{w}}" for v, w in zip(row, WIDTHS, strict=True)), flush=True)
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


if __name__ == "__main__":
    main()

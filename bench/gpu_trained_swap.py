"""A GPU-trained model's swap, measured here: the model stays on the GPU machine (a 128 px ``df`` model is
too large to bring back), so the crops travel instead.

    # here: the aligned crops a swap of TARGET feeds a 128 px `face` model, in order
    .venv/bin/python bench/gpu_trained_swap.py record TARGET --card-model PLACEHOLDER -o crops.npz
    # GPU machine: train, export, run the model on the crops (writes $OUT/swapped_K.npz)
    python bench/gpu_train_check.py --source A --target B --crops crops.npz ...
    # here: composite the model's outputs into TARGET and measure it with `facecraft eval`
    .venv/bin/python bench/gpu_trained_swap.py replay TARGET --card-model PLACEHOLDER \\
        --crops crops.npz --swapped DIR --source PHOTO -o swapped.mp4

PLACEHOLDER is any model directory with the same size and face type (``facecraft train --preset tiny
--size 128 --steps 2`` makes one in seconds): its card fixes the crop, and its ONNX session is bypassed.
Both steps run ``facecraft swap`` itself, in this process, with the model call swapped for a recorder
or a player; replay checks that every crop it is fed is the one recorded, so the two runs line up
frame by frame.
"""

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facecraft.cli.main import app
from facecraft.swap.trained.onnx_swapper import TrainedSwapper

ModelCall = Callable[[TrainedSwapper], tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]


def _as_uint8(tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    out: npt.NDArray[np.uint8] = np.rint(tensor * 255.0).astype(np.uint8)
    return out


def run_swap(target: Path, model: Path, out: Path, call: ModelCall, extra: Sequence[str] = ()) -> None:
    """``facecraft swap --model MODEL TARGET -o OUT [EXTRA]`` with the model's forward pass replaced by
    ``call``."""
    original = TrainedSwapper._run
    TrainedSwapper._run = call  # type: ignore[method-assign,assignment]
    try:
        app(["swap", "--model", str(model), str(target), "-o", str(out), *extra], standalone_mode=False)
    finally:
        TrainedSwapper._run = original  # type: ignore[method-assign]


def record(args: argparse.Namespace) -> None:
    crops: list[npt.NDArray[np.uint8]] = []
    original = TrainedSwapper._run

    def recorder(self: TrainedSwapper) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        if self._input.any():  # the constructor's warm-up call feeds a blank crop
            crops.append(_as_uint8(self._input[0]))
        return original(self)

    run_swap(args.target, args.card_model, args.work / "recorded.mp4", recorder)
    np.savez_compressed(args.out, crops=np.stack(crops))
    print(f"{len(crops)} crops of {args.target} written to {args.out}")


def load_swapped(directory: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float16]]:
    parts = sorted(directory.glob("swapped_*.npz"), key=lambda p: int(p.stem.split("_")[1]))
    if not parts:
        raise SystemExit(f"no swapped_K.npz in {directory}")
    loaded = [np.load(p) for p in parts]
    return np.concatenate([p["faces"] for p in loaded]), np.concatenate([p["masks"] for p in loaded])


def replay(args: argparse.Namespace) -> None:
    crops = np.load(args.crops)["crops"]
    faces, masks = load_swapped(args.swapped)
    if len(faces) != len(crops):
        raise SystemExit(f"{len(faces)} swapped faces for {len(crops)} crops")
    position = [0]
    original = TrainedSwapper._run

    def player(self: TrainedSwapper) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        if not self._input.any():
            return original(self)
        i = position[0]
        if i >= len(crops):
            raise RuntimeError(f"the swap asked for more than the {len(crops)} recorded crops")
        difference = int(np.abs(_as_uint8(self._input[0]).astype(np.int16) - crops[i]).max())
        if difference > 1:
            raise RuntimeError(f"crop {i} is off the recorded one by {difference}/255: not the same run")
        position[0] += 1
        face = faces[i : i + 1].astype(np.float32) / np.float32(255.0)
        return face, masks[i : i + 1].astype(np.float32)

    run_swap(args.target, args.card_model, args.out, player, shlex.split(args.swap_args))
    if position[0] != len(crops):
        raise SystemExit(f"the swap used {position[0]} of {len(crops)} recorded crops")
    sheet = args.out.with_suffix(".sheet.png")
    eval_args = ["eval", "--source", str(args.source), "--target", str(args.target)]
    eval_args += ["--swapped", str(args.out), "--json", "--sheet", str(sheet)]
    print("$ facecraft " + " ".join(eval_args), flush=True)
    out = subprocess.run([sys.executable, "-m", "facecraft", *eval_args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"facecraft eval failed: {out.stderr.strip()}")
    print(json.dumps(json.loads(out.stdout), indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("record", "replay"):
        command = sub.add_parser(name)
        command.add_argument("target", type=Path, help="The target video.")
        command.add_argument("--card-model", type=Path, required=True, help="A placeholder model directory.")
        command.add_argument("-o", "--out", type=Path, required=True)
        command.add_argument("--work", type=Path, default=Path("/tmp/facecraft-bench/gpu_swap"))
    replay_parser = sub.choices["replay"]
    replay_parser.add_argument("--crops", type=Path, required=True)
    replay_parser.add_argument("--swapped", type=Path, required=True, help="Folder of swapped_K.npz.")
    replay_parser.add_argument("--source", type=Path, required=True, help="The source person's photo.")
    replay_parser.add_argument(
        "--swap-args", default="", help="More `facecraft swap` options, e.g. '--color lab' (not the crop's)."
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    record(args) if args.command == "record" else replay(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

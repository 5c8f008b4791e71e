"""How much of a swap's flicker is edge content rather than instability.

`facecraft eval`'s flicker_ratio is the output's mean frame-to-frame change inside the face over the
target's own. A face with stronger edges changes more pixels for the same head motion, so that ratio
also grows with contrast. This splits it: over the region the swap changed (where output and target
differ on average by more than ``--threshold`` grey levels, eroded), it reports each video's mean
gradient magnitude (Sobel, grey) and mean frame-to-frame change, and the change per unit of gradient.
A swap whose change per gradient matches the target's moves no more than the target does; the rest of
its flicker is its edges.

    .venv/bin/python bench/flicker_contrast.py TARGET.mp4 OUTPUT.mp4 [OUTPUT2.mp4 ...] [--frames 150]
"""

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.media.reader import FrameReader

Gray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Motion:
    gradient: float
    change: float

    @property
    def change_per_gradient(self) -> float:
        return self.change / max(self.gradient, 1e-9)


def grey_frames(path: Path, count: int) -> list[Gray]:
    frames: list[Gray] = []
    with FrameReader(path) as reader:
        for frame in reader:
            frames.append(cv2.cvtColor(frame.image_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32))
            if len(frames) >= count:
                break
    return frames


def swapped_region(target: list[Gray], output: list[Gray], threshold: float) -> npt.NDArray[np.bool_]:
    mean_diff = np.mean([np.abs(o - t) for o, t in zip(output, target, strict=False)], axis=0)
    changed = (mean_diff > threshold).astype(np.uint8)
    return np.asarray(cv2.erode(changed, np.ones((9, 9), np.uint8)) > 0)


def motion(frames: list[Gray], region: npt.NDArray[np.bool_]) -> Motion:
    gradients = [
        float(np.hypot(cv2.Sobel(f, cv2.CV_32F, 1, 0), cv2.Sobel(f, cv2.CV_32F, 0, 1))[region].mean())
        for f in frames
    ]
    changes = [float(np.abs(b - a)[region].mean()) for a, b in itertools.pairwise(frames)]
    return Motion(gradient=float(np.mean(gradients)), change=float(np.mean(changes)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", type=Path)
    parser.add_argument("outputs", type=Path, nargs="+")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--threshold", type=float, default=6.0, help="grey levels of mean difference")
    args = parser.parse_args()
    target = grey_frames(args.target, args.frames)
    print("| video | region px | gradient | change | change / gradient | change ratio | gradient ratio |")
    print("|---|---|---|---|---|---|---|")
    for path in args.outputs:
        output = grey_frames(path, args.frames)
        region = swapped_region(target, output, args.threshold)
        if not region.any():
            print(f"| {path.name} | 0 | | | | | |")
            continue
        base, swapped = motion(target, region), motion(output, region)
        for name, m in ((f"target ({args.target.name})", base), (path.name, swapped)):
            ratios = f"{m.change / base.change:.2f} | {m.gradient / base.gradient:.2f}"
            print(
                f"| {name} | {int(region.sum())} | {m.gradient:.2f} | {m.change:.3f} | "
                f"{m.change_per_gradient:.4f} | {ratios} |"
            )


if __name__ == "__main__":
    main()

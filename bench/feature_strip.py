"""The eyes or the mouth of the same frames of a target video and of its swaps, one row per video, to judge
blinks, winks, gaze and mouth openings by eye (the metrics only say how well the openings correlate).

Each column is one frame: the band around both eyes (outer eye corners, 1.5 eye-spans wide) or the box
around the mouth (mouth corners, 2 mouth widths wide), found by the face analyser on the target frame and
cut from every video at the same place. The target's eye and mouth openings are printed per frame.

    .venv/bin/python bench/feature_strip.py TARGET.mp4 OUT.png --frames 7,8,9,11 [--region eyes|mouth]
        SWAP.mp4 [SWAP2.mp4 ...]
"""

import argparse
from pathlib import Path

import cv2
import numpy as np

from facecraft.blend.masks import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio
from facecraft.faces.face import mouth_aspect
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.types import Frame

CELLS_WH = {"eyes": (240, 100), "mouth": (200, 160)}
SPANS = {"eyes": ((33, 263), 1.5), "mouth": ((61, 291), 2.0)}
"""Per region: the two points whose distance sets the box, and the box's width in that distance."""


def frames_at(path: Path, indices: list[int]) -> dict[int, Frame]:
    wanted, last, found = set(indices), max(indices), {}
    with FrameReader(path) as reader:
        for frame in reader:
            if frame.index in wanted:
                found[frame.index] = frame.image_bgr
            if frame.index >= last:
                break
    missing = wanted - found.keys()
    if missing:
        raise SystemExit(f"{path} has no frame(s) {sorted(missing)}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("swaps", type=Path, nargs="+")
    parser.add_argument("--frames", required=True, help="comma-separated frame indices")
    parser.add_argument("--region", choices=sorted(SPANS), default="eyes")
    args = parser.parse_args()
    cell_wh = CELLS_WH[args.region]
    (first, second), span = SPANS[args.region]
    indices = [int(v) for v in args.frames.split(",")]
    analyzer = build_analyzer()
    target = frames_at(args.target, indices)
    boxes: dict[int, tuple[int, int, int, int]] = {}
    for index in indices:
        faces = analyzer.analyze(target[index])
        if not faces:
            raise SystemExit(f"no face in frame {index} of {args.target}")
        landmarks = max(faces, key=lambda f: f.area_px).landmarks_478
        right, left = landmarks[first, :2], landmarks[second, :2]
        width = int(span * float(np.linalg.norm(left - right)))
        height = int(width * cell_wh[1] / cell_wh[0])
        cx, cy = (right + left) / 2
        boxes[index] = (int(cx) - width // 2, int(cy) - height // 2, width, height)
        ears = eye_aspect_ratio(landmarks, RIGHT_EYE), eye_aspect_ratio(landmarks, LEFT_EYE)
        opening = mouth_aspect(landmarks)
        print(f"frame {index}: target eye aspect {ears[0]:.3f} / {ears[1]:.3f}, mouth {opening:.3f}")
    rows = []
    for path, frames in [(args.target, target)] + [(p, frames_at(p, indices)) for p in args.swaps]:
        cells = []
        for index in indices:
            x, y, w, h = boxes[index]
            padded = cv2.copyMakeBorder(frames[index], h, h, w, w, cv2.BORDER_CONSTANT)
            cells.append(cv2.resize(padded[y + h : y + 2 * h, x + w : x + 2 * w], cell_wh))
        rows.append(np.hstack(cells))
        print(f"row {len(rows)}: {path}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.vstack(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

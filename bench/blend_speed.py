"""Compositor (masks + colour + blend) milliseconds per stage, per 720p frame with one face.

Target (issue 3): colour + masks + blend at most ~5 ms median per 720p frame with one ~300 px face,
on the 2-core dev machine. Swap results are computed first (not timed), so only the compositor is.
The allocator is tuned as the command line tunes it (``cli/runtime.py``); without that, every frame's
temporaries are mapped and unmapped afresh and the compositor reads 1.5 times slower.

    .venv/bin/python bench/blend_speed.py [--video ../shared/media/videos/s18.mp4]
        [--source ../shared/media/images/d30.jpg] [--frames 90] [--stand-in] [--sheet bench/blend_sheet.png]
        [--cv-threads 1]

``--stand-in`` renders the source by a plain similarity warp instead of the mesh swapper (for timing
the compositor alone while the swapper changes). ``--sheet`` writes a contact sheet: the target, then
each blend and colour mode side by side, for a few frames.
"""

import argparse
import statistics
from pathlib import Path

import cv2
import numpy as np

from facecraft.blend.compositor import CompositeSettings, Compositor
from facecraft.cli.runtime import tune_allocator
from facecraft.faces.alignment import estimate_similarity
from facecraft.faces.face import Face
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer, build_tracker
from facecraft.swap.base import SourceIdentity, SwapResult
from facecraft.swap.mesh import MeshSwapper
from facecraft.swap.source import load_source
from facecraft.types import Frame

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
TARGET_MS = 5.0
STAGES = ("region", "masks", "color", "blend", "total")
MODES = {
    "multiband+shading (default)": CompositeSettings(),
    "feather+shading": CompositeSettings(blend="feather"),
    "multiband+lab": CompositeSettings(color="lab"),
    "multiband, no colour, no detail": CompositeSettings(color="none", detail_weight=0.0),
    "poisson+shading": CompositeSettings(blend="poisson"),
}


class SimilarityStandIn:
    """The source photo warped onto the target by the 5-point similarity: a crude render for timing."""

    def __init__(self, source: SourceIdentity) -> None:
        self.source = source

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult:
        xy = target.landmarks_478[:, :2]
        margin = 0.2 * target.size_px
        x0, y0 = (max(int(v - margin), 0) for v in xy.min(axis=0))
        x1 = min(int(xy[:, 0].max() + margin), frame_bgr.shape[1])
        y1 = min(int(xy[:, 1].max() + margin), frame_bgr.shape[0])
        matrix = estimate_similarity(self.source.face.keypoints_5, target.keypoints_5 - (x0, y0))
        size = (x1 - x0, y1 - y0)
        crop = cv2.warpAffine(self.source.image_bgr, matrix, size, flags=cv2.INTER_LINEAR)
        coverage = cv2.warpAffine(np.ones(self.source.image_bgr.shape[:2], np.float32), matrix, size)
        landmarks = target.landmarks_478.copy()
        landmarks[:, :2] -= (x0, y0)
        to_frame = np.array([[1, 0, x0], [0, 1, y0]], np.float32)
        return SwapResult(np.asarray(crop, np.uint8), np.asarray(coverage, np.float32), to_frame, landmarks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, default=MEDIA / "videos" / "s18.mp4")
    parser.add_argument("--source", type=Path, default=MEDIA / "images" / "d30.jpg")
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--stand-in", action="store_true")
    parser.add_argument("--sheet", type=Path, default=None)
    parser.add_argument("--cv-threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)")
    args = parser.parse_args()
    tune_allocator()  # as `facecraft swap` does: frame-sized temporaries stay in the heap
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)

    analyzer = build_analyzer()
    tracker = build_tracker(analyzer)
    source = load_source(args.source, analyzer)
    swapper: SimilarityStandIn | MeshSwapper
    if args.stand_in:
        swapper = SimilarityStandIn(source)
    else:
        swapper = MeshSwapper()
        swapper.prepare(source)
    work: list[tuple[Frame, Face, SwapResult]] = []
    with FrameReader(args.video) as reader:
        for index, decoded in enumerate(reader):
            if index >= args.frames:
                break
            faces = tracker.update(decoded.image_bgr, decoded.time_s)
            if faces:
                face = max(faces, key=lambda f: f.area_px)
                work.append((decoded.image_bgr, face, swapper.swap(decoded.image_bgr, face)))
    height, width = work[0][0].shape[:2]
    face_px = statistics.median(f.size_px for _, f, _ in work)
    print(
        f"video: {args.video.name} {width}x{height}, {len(work)} frames with a face (median {face_px:.0f} px)"
    )
    print(f"render: {'similarity stand-in' if args.stand_in else 'mesh swapper'} of {args.source.name}")
    print(f"OpenCV threads: {cv2.getNumThreads()}")
    header = " ".join(f"{k:>7s}" for k in (*STAGES, "p10"))
    print(f"{'mode (median ms; p10 of total)':34s} {header}")
    outputs: dict[str, list[Frame]] = {}
    default_total = 0.0
    for name, settings in MODES.items():
        compositor = Compositor(settings)
        rows: list[dict[str, float]] = []
        for _ in range(2):  # the second pass is the measured one (warm caches)
            compositor.reset()
            rows, outputs[name] = [], []
            for frame, face, result in work:
                outputs[name].append(compositor.composite(frame, face, result))
                rows.append(dict(compositor.last_timings_ms))
        medians = {
            k: statistics.median(r.get(k, 0.0) for r in rows)
            for k in ("region", "masks", "color", "blend", "total")
        }
        default_total = default_total or medians["total"]
        p10 = statistics.quantiles([r["total"] for r in rows], n=10)[0]
        print(f"{name:34s} " + " ".join(f"{medians[k]:7.2f}" for k in medians) + f" {p10:7.2f}")
    passed = default_total <= TARGET_MS
    verdict = "PASS" if passed else "FAIL"
    print(f"target <= {TARGET_MS} ms median for the default: {verdict} ({default_total:.2f})")
    if args.sheet is not None:
        _write_sheet(args.sheet, work, outputs)
        print(f"contact sheet: {args.sheet}")
    return 0 if passed else 1


def _write_sheet(
    path: Path, work: list[tuple[Frame, Face, SwapResult]], outputs: dict[str, list[Frame]]
) -> None:
    rows = []
    for index in np.linspace(0, len(work) - 1, 3).astype(int):
        frame, face, _ = work[index]
        x0, y0, x1, y1 = face.bbox_xyxy
        margin = 0.15 * face.size_px
        x0, y0 = int(max(x0 - margin, 0)), int(max(y0 - margin, 0))
        x1, y1 = int(min(x1 + margin, frame.shape[1])), int(min(y1 + margin, frame.shape[0]))
        tiles = [frame[y0:y1, x0:x1]] + [out[index][y0:y1, x0:x1] for out in outputs.values()]
        rows.append(np.hstack([cv2.resize(t, (240, 240 * (y1 - y0) // (x1 - x0))) for t in tiles]))
    height = min(r.shape[0] for r in rows)
    cv2.imwrite(str(path), np.vstack([r[:height] for r in rows]))


if __name__ == "__main__":
    raise SystemExit(main())

"""The target's own glasses: found per track, placed rigidly on each frame, and put back over the swap."""

import dataclasses
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facecraft.blend.compositor import CompositeSettings, Compositor
from facecraft.faces.face import Face, bbox_from_landmarks
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.swap import frame_glasses
from facecraft.swap.base import SourceIdentity, SwapperConfig
from facecraft.swap.frame_glasses import BARE_LOOKS, LOOK_EVERY, LOOKS, FrameGlasses
from facecraft.swap.glasses import ANCHORS
from facecraft.swap.mesh import MeshSwapper, MeshSwapSettings, build_mesh_swapper
from facecraft.swap.source import load_source
from facecraft.swap.triangles import LEFT_EYELIDS, RIGHT_EYELIDS, load_topology
from facecraft.types import FloatArray, Frame, Mask
from unit.swap.test_swap_mesh import RIM, spectacled_source

TOPOLOGY = load_topology()


def target(
    glasses: bool = True, shift_xy: tuple[float, float] = (0.0, 0.0), track_id: int | None = 1
) -> tuple[Frame, Face]:
    """The drawn spectacled face (or the same face without its rims) as a frame of footage."""
    drawn = spectacled_source()
    landmarks = drawn.face.landmarks_478.copy()
    image = drawn.image_bgr
    if not glasses:
        plain = np.abs(image.astype(int) - np.array(RIM)).max(axis=2) < 12
        image = image.copy()
        image[plain] = image[~plain & (image[..., 2] > 150)].mean(axis=0).astype(np.uint8)
    matrix = np.array([[1.0, 0.0, shift_xy[0]], [0.0, 1.0, shift_xy[1]]], dtype=np.float32)
    moved = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderValue=(100, 100, 100))
    landmarks[:, 0] += shift_xy[0]
    landmarks[:, 1] += shift_xy[1]
    return np.asarray(moved, dtype=np.uint8), Face(
        bbox_from_landmarks(landmarks), 0.9, landmarks, track_id=track_id
    )


def rim_pixels(frame: Frame) -> np.ndarray:
    rims: np.ndarray = np.abs(frame.astype(int) - np.array(RIM)).max(axis=2) < 12
    return rims


def openings(face: Face, size_hw: tuple[int, int]) -> np.ndarray:
    """The eye openings shrunk by two pixels (the swap's eyes)."""
    out = np.zeros(size_hw, dtype=np.uint8)
    for lids in (RIGHT_EYELIDS, LEFT_EYELIDS):
        cv2.fillPoly(out, [np.round(face.landmarks_478[list(lids), :2]).astype(np.int32)], 1)
    return cv2.erode(out, np.ones((5, 5), np.uint8)) > 0


def anchors_of(face: Face) -> FloatArray:
    return face.landmarks_478[list(ANCHORS), :2].astype(np.float32)


def test_a_targets_glasses_are_found_and_their_rims_covered_but_not_its_eyes() -> None:
    frame, face = target()
    rims = FrameGlasses(TOPOLOGY).rims(frame, face)
    assert rims is not None
    mask = rims.placed(anchors_of(face), frame.shape[:2])
    on_rims = rim_pixels(frame)
    assert on_rims.sum() > 300
    assert (mask[on_rims] > 0.5).mean() > 0.9  # the frames are kept
    assert mask[openings(face, frame.shape[:2])].max() < 0.1  # the eyes stay the swap's
    assert (mask > 0.5).sum() < 4 * on_rims.sum()  # little of the target's skin comes with them


def test_a_face_without_glasses_has_none() -> None:
    frame, face = target(glasses=False)
    assert not rim_pixels(frame).any()
    assert FrameGlasses(TOPOLOGY).rims(frame, face) is None


@pytest.mark.parametrize("thickness_px", [2, 6, 10])
def test_thin_wire_and_thick_plastic_rims_are_both_found(thickness_px: int) -> None:
    """Up to 3.5% of the face size thick (``RIM_THICKNESS``)."""
    drawn = spectacled_source(thickness_px)
    frame, face = drawn.image_bgr, dataclasses.replace(drawn.face, track_id=1)
    rims = FrameGlasses(TOPOLOGY).rims(frame, face)
    assert rims is not None
    mask = rims.placed(anchors_of(face), frame.shape[:2])
    assert (mask[rim_pixels(frame)] > 0.5).mean() > 0.85


def test_frames_with_closed_or_lowered_eyes_are_not_looked_at() -> None:
    frame, face = target()
    closed = face.landmarks_478.copy()
    for upper, lower in ((160, 144), (159, 145), (158, 153), (385, 380), (386, 374), (387, 373)):
        closed[upper, :2] = closed[lower, :2] - (0.0, 1.0)  # lids shut (under the lower rim's shadows and
        # the lids' own lines look like a lower rim)
    glasses = FrameGlasses(TOPOLOGY)
    assert glasses.rims(frame, dataclasses.replace(face, landmarks_478=closed)) is None
    assert glasses.rims(frame, face) is not None  # the first frame with open eyes is looked at at once


def test_faces_too_small_to_show_rims_are_not_searched() -> None:
    frame, face = target()
    small = np.asarray(cv2.resize(frame, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    landmarks = face.landmarks_478.copy()
    landmarks[:, :2] *= 0.2
    assert FrameGlasses(TOPOLOGY).rims(small, Face(bbox_from_landmarks(landmarks), 0.9, landmarks, 1)) is None


def test_the_rims_follow_the_face_from_frame_to_frame() -> None:
    glasses = FrameGlasses(TOPOLOGY)
    frame, face = target()
    first = glasses.rims(frame, face)
    assert first is not None
    moved_frame, moved_face = target(shift_xy=(14.0, -9.0))
    rims = glasses.rims(moved_frame, moved_face)
    assert rims is not None
    mask = rims.placed(anchors_of(moved_face), moved_frame.shape[:2])
    assert (mask[rim_pixels(moved_frame)] > 0.5).mean() > 0.9


def test_a_track_wears_glasses_while_most_of_its_looks_find_them() -> None:
    glasses = FrameGlasses(TOPOLOGY)
    with_rims, face = target()
    assert glasses.rims(with_rims, face) is not None  # decided on the track's first frame
    without, same_face = target(glasses=False)
    answers = [glasses.rims(without, same_face) is not None for _ in range(LOOKS * LOOK_EVERY)]
    assert answers[0] and not answers[-1]  # one look in four found them: not glasses after all
    glasses.reset()
    assert glasses.rims(without, same_face) is None


def test_the_swap_keeps_the_targets_glasses_instead_of_drawing_the_sources() -> None:
    frame, face = target()
    on_rims = rim_pixels(frame)
    swapper = MeshSwapper(MeshSwapSettings(stabilize=None))
    swapper.prepare(spectacled_source())  # the source wears glasses too
    result = swapper.swap(frame, face)
    assert result.frame_keep is not None
    x0, y0 = (int(v) for v in result.matrix_crop_to_frame[:, 2])
    height, width = result.coverage.shape
    kept = np.zeros(frame.shape[:2], dtype=np.float32)
    kept[y0 : y0 + height, x0 : x0 + width] = result.frame_keep
    assert (kept[on_rims] > 0.5).mean() > 0.9
    settings = CompositeSettings(blend="feather", color="none", detail_weight=0.0)
    out = Compositor(settings).composite(frame, face, result)
    assert np.abs(out[on_rims].astype(int) - frame[on_rims]).mean() < 6.0  # the frame's own rims
    off = MeshSwapper(MeshSwapSettings(stabilize=None, target_glasses=False))
    off.prepare(spectacled_source())
    drawn = off.swap(frame, face)
    assert drawn.frame_keep is None  # painted over; the source's glasses drawn instead
    built = build_mesh_swapper(SwapperConfig(target_glasses=False))
    assert isinstance(built, MeshSwapper) and built.settings.target_glasses is False


def test_the_compositor_puts_the_frame_back_where_the_result_asks_after_blending() -> None:
    frame, face = target(glasses=False)
    swapper = MeshSwapper(MeshSwapSettings(stabilize=None))
    source = spectacled_source()
    swapper.prepare(SourceIdentity(target(glasses=False)[0], source.face))
    result = swapper.swap(frame, face)
    assert result.frame_keep is None
    height, width = int(result.crop_bgr.shape[0]), int(result.crop_bgr.shape[1])
    band = np.zeros((height, width), dtype=np.float32)
    band[height // 2 : height // 2 + 6] = 1.0
    settings = CompositeSettings(blend="multiband", color="shading")
    plain = Compositor(settings).composite(frame, face, result)
    kept = Compositor(settings).composite(frame, face, dataclasses.replace(result, frame_keep=band))
    y0 = int(result.matrix_crop_to_frame[1, 2])
    rows = slice(y0 + height // 2, y0 + height // 2 + 6)
    assert np.array_equal(kept[rows], frame[rows])
    far = slice(y0, y0 + height // 2 - 20)
    assert np.abs(kept[far].astype(int) - plain[far]).max() <= 2  # the rest as blended


@pytest.mark.media
def test_d13s_glasses_are_found_and_kept_and_clips_without_glasses_have_none(media_dir: Path) -> None:
    analyzer = build_analyzer()
    for name, expected in (("d13.mp4", True), ("d18.mp4", False), ("s29.mp4", False)):
        with FrameReader(media_dir / "videos" / name) as reader:
            frame = next(f.image_bgr for f in reader if f.index == 30)
        face = max(analyzer.analyze(frame), key=lambda f: f.area_px)
        assert (FrameGlasses(TOPOLOGY).rims(frame, face) is not None) is expected, name
    with FrameReader(media_dir / "videos" / "d13.mp4") as reader:
        frame = next(f.image_bgr for f in reader if f.index == 30)
    face = max(analyzer.analyze(frame), key=lambda f: f.area_px)
    swapper = build_mesh_swapper(SwapperConfig())
    swapper.prepare(load_source(media_dir / "images" / "d30.jpg", analyzer))
    result = swapper.swap(frame, face)
    assert result.frame_keep is not None
    out = Compositor().composite(frame, face, result)
    x0, y0 = (int(v) for v in result.matrix_crop_to_frame[:, 2])
    height, width = result.coverage.shape
    keep = result.frame_keep > 0.9
    changed = np.abs(
        out[y0 : y0 + height, x0 : x0 + width].astype(int) - frame[y0 : y0 + height, x0 : x0 + width]
    )
    assert keep.sum() > 1500
    assert float(changed[keep].mean()) < 2.0  # the rims are the frame's own
    assert (
        float(changed[(result.coverage > 0.9) & ~(result.frame_keep > 0.0)].mean()) > 10.0
    )  # the face is swapped


def test_looks_are_spaced_by_each_tracks_own_frames() -> None:
    """Two faces in every frame: each track's second and third looks come LOOK_EVERY of its own frames
    apart, not twice as soon."""
    glasses = FrameGlasses(TOPOLOGY)
    with_rims, first = target(track_id=1)
    without, _ = target(glasses=False, track_id=1)
    other_frame, other = target(track_id=2)
    assert glasses.rims(with_rims, first) is not None and glasses.rims(other_frame, other) is not None
    for _ in range(LOOK_EVERY + 3):  # its second look (no rims: 1 of 2 still wears them), not yet the third
        answer = glasses.rims(without, first)
        glasses.rims(other_frame, other)
    assert answer is not None
    for _ in range(LOOK_EVERY):
        answer = glasses.rims(without, first)
    assert answer is None  # the third look: 1 of 3


def test_a_face_without_glasses_is_looked_at_twice_and_a_face_with_them_four_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looks: list[bool] = []
    original = frame_glasses.look_for_rims

    def counted(*args: Any) -> Mask | None:
        found = original(*args)
        looks.append(found is not None)
        return found

    monkeypatch.setattr(frame_glasses, "look_for_rims", counted)
    for glasses_on in (False, True):
        looks.clear()
        frame, face = target(glasses=glasses_on)
        finder = FrameGlasses(TOPOLOGY)
        for _ in range(LOOKS * LOOK_EVERY + 5):
            finder.rims(frame, face)
        assert looks == [glasses_on] * (LOOKS if glasses_on else BARE_LOOKS)

"""The compositor end to end on synthetic frames and swap results."""

import dataclasses
from typing import get_args

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from facecraft.blend import masks
from facecraft.blend.compositor import (
    BLEND_MODES,
    COLOR_MODES,
    FOREHEAD_MODES,
    BlendMode,
    ColorMode,
    CompositeSettings,
    Compositor,
)
from facecraft.faces.face import Face
from facecraft.swap.base import SwapResult
from facecraft.types import Frame
from unit.blend.test_blend_fakes import face_from_landmarks, schematic_landmarks

FRAME_HW = (240, 320)
CENTER = (160.0, 125.0)
FACE = 160.0
RENDER_BGR = (70, 150, 210)


def _frame(seed: int = 0, gain: float = 1.0) -> Frame:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : FRAME_HW[0], 0 : FRAME_HW[1]]
    base = np.stack([60 + 0.3 * xx, 90 + 0.2 * yy, 120 + 0.1 * xx], axis=-1) * gain
    return np.clip(base + rng.normal(0, 2, (*FRAME_HW, 3)), 0, 255).astype(np.uint8)


def _face(track_id: int | None = 0) -> Face:
    return face_from_landmarks(schematic_landmarks(CENTER, FACE), track_id)


def _result(
    face: Face, scale: int = 1, coverage_left_half: bool = False, stripes: bool = False
) -> SwapResult:
    """A flat-coloured render in a crop 20 px around the face, ``scale`` times finer than the frame."""
    x0, y0 = (int(v) - 20 for v in face.bbox_xyxy[:2])
    x1, y1 = (int(v) + 20 for v in face.bbox_xyxy[2:])
    w, h = (x1 - x0) * scale, (y1 - y0) * scale
    rng = np.random.default_rng(1)
    crop = np.clip(np.array(RENDER_BGR) + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8)
    if stripes:  # texture that survives any colour transfer or gradient-domain blend
        crop[:, (np.arange(w) // 3) % 2 == 1] //= 2
    coverage = np.ones((h, w), np.float32)
    if coverage_left_half:
        coverage[:, : w // 2] = 0.0
        crop[:, : w // 2] = 0
    matrix = np.array([[1.0 / scale, 0.0, x0], [0.0, 1.0 / scale, y0]], np.float32)
    landmarks = face.landmarks_478.copy()
    landmarks[:, :2] = (landmarks[:, :2] - (x0, y0)) * scale
    return SwapResult(crop, coverage, matrix, landmarks)


def _crop_box(result: SwapResult) -> tuple[int, int, int, int]:
    m = result.matrix_crop_to_frame
    h, w = result.crop_bgr.shape[:2]
    return int(m[0, 2]), int(m[1, 2]), int(m[0, 2] + w * m[0, 0]), int(m[1, 2] + h * m[1, 1])


def _core(radius: float = 0.12) -> tuple[slice, slice]:
    """A patch of cheek and nose well inside the mask."""
    cx, cy = round(CENTER[0]), round(CENTER[1] + 0.05 * FACE)
    r = round(radius * FACE)
    return slice(cy - r, cy + r), slice(cx - r // 2, cx + r // 2)


@pytest.mark.parametrize("blend", get_args(BlendMode))
def test_composite_returns_a_new_frame_changed_only_inside_the_crop(blend: BlendMode) -> None:
    frame, face = _frame(), _face()
    result = _result(face, stripes=True)
    before = frame.copy()
    out = Compositor(CompositeSettings(blend=blend, color="none")).composite(frame, face, result)
    assert out.shape == frame.shape and out.dtype == np.uint8 and out is not frame
    assert np.array_equal(frame, before), "the input frame is not written to"
    x0, y0, x1, y1 = _crop_box(result)
    outside = np.ones(FRAME_HW, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], frame[outside])
    rows, cols = _core()
    x0, y0 = int(result.matrix_crop_to_frame[0, 2]), int(result.matrix_crop_to_frame[1, 2])
    render = result.crop_bgr[rows.start - y0 : rows.stop - y0, cols.start - x0 : cols.stop - x0]
    swapped = out[rows, cols, 1].astype(float).ravel()
    assert float(np.corrcoef(swapped, render[..., 1].astype(float).ravel())[0, 1]) > 0.9, (
        "the face was swapped"
    )


def test_without_colour_transfer_the_core_is_the_render() -> None:
    frame, face = _frame(), _face()
    settings = CompositeSettings(blend="feather", color="none", detail_weight=0.0)
    out = Compositor(settings).composite(frame, face, _result(face))
    rows, cols = _core()
    assert np.abs(out[rows, cols].astype(float).mean(axis=(0, 1)) - RENDER_BGR).max() < 1.5


@pytest.mark.parametrize("color", ["lab", "shading"])
def test_colour_transfer_gives_the_render_the_targets_tone(color: ColorMode) -> None:
    frame, face = _frame(), _face()
    out = Compositor(CompositeSettings(color=color, detail_weight=0.0)).composite(frame, face, _result(face))
    rows, cols = _core()

    def lab(image: Frame) -> npt.NDArray[np.float64]:
        patch = np.asarray(
            cv2.cvtColor(np.ascontiguousarray(image[rows, cols]), cv2.COLOR_BGR2LAB), np.float64
        )
        return np.asarray(patch.mean(axis=(0, 1)), dtype=np.float64)

    render = np.ascontiguousarray(np.broadcast_to(np.array(RENDER_BGR, np.uint8), frame.shape))
    assert np.abs(lab(out) - lab(frame)).max() < 6.0, "tone of the target's skin"
    assert np.abs(lab(render) - lab(frame)).max() > 20.0, "which the render did not have"


def test_a_render_at_a_finer_scale_is_warped_into_place() -> None:
    frame, face = _frame(), _face()
    settings = CompositeSettings(blend="feather", color="none", detail_weight=0.0)
    fine = _result(face, scale=2)
    out = Compositor(settings).composite(frame, face, fine)
    rows, cols = _core()
    assert np.abs(out[rows, cols].astype(float).mean(axis=(0, 1)) - RENDER_BGR).max() < 1.5
    x0, y0, x1, y1 = _crop_box(fine)
    outside = np.ones(FRAME_HW, bool)
    outside[y0 - 1 : y1 + 2, x0 - 1 : x1 + 2] = False
    assert np.array_equal(out[outside], frame[outside])


def test_where_nothing_was_rendered_the_target_stays() -> None:
    frame, face = _frame(), _face()
    settings = CompositeSettings(blend="multiband", color="none")
    out = Compositor(settings).composite(frame, face, _result(face, coverage_left_half=True))
    rows, _ = _core()
    x_mid = round(CENTER[0])
    left = slice(x_mid - 40, x_mid - 8)
    right = slice(x_mid + 8, x_mid + 40)
    assert np.abs(out[rows, left].astype(int) - frame[rows, left]).max() <= 3
    assert np.abs(out[rows, right].astype(int) - frame[rows, right]).mean() > 20


def test_a_crop_outside_the_frame_leaves_it_untouched() -> None:
    frame, face = _frame(), _face()
    result = _result(face)
    away = SwapResult(
        result.crop_bgr,
        result.coverage,
        np.array([[1.0, 0.0, 2000.0], [0.0, 1.0, 2000.0]], np.float32),
        result.target_landmarks_crop,
    )
    compositor = Compositor()
    out = compositor.composite(frame, face, away)
    assert np.array_equal(out, frame) and out is not frame
    assert "total" in compositor.last_timings_ms


def test_stage_timings_are_reported() -> None:
    frame, face = _frame(), _face()
    compositor = Compositor()
    compositor.composite(frame, face, _result(face))
    timings = compositor.last_timings_ms
    assert set(timings) == {"region", "masks", "color", "blend", "total"}
    assert all(value >= 0.0 for value in timings.values())


def test_a_step_in_the_targets_light_moves_the_colour_gradually_and_reset_forgets() -> None:
    face = _face(track_id=3)
    result = _result(face)
    settings = CompositeSettings(
        blend="feather", color="lab", detail_weight=0.0, color_update_every=1, color_smoothing=0.35
    )
    compositor = Compositor(settings)
    rows, cols = _core()
    dim, bright = _frame(0, gain=0.6), _frame(0, gain=1.2)
    for _ in range(6):
        settled = compositor.composite(dim, face, result)[rows, cols].mean()
    means = [float(settled)]
    for _ in range(10):
        means.append(float(compositor.composite(bright, face, result)[rows, cols].mean()))
    fresh = float(Compositor(settings).composite(bright, face, result)[rows, cols].mean())
    assert np.all(np.diff(means) > -0.5)
    assert means[1] - means[0] < 0.5 * (fresh - means[0]), "one frame after the step is only part of the way"
    assert abs(means[-1] - fresh) < 0.1 * (fresh - means[0]) + 1.0
    compositor.reset()
    assert float(compositor.composite(bright, face, result)[rows, cols].mean()) == pytest.approx(
        fresh, abs=0.5
    )


def test_settings_validate_and_list_their_choices() -> None:
    assert BLEND_MODES == ("multiband", "feather", "poisson")
    assert COLOR_MODES == ("lab", "shading", "none")
    defaults = CompositeSettings()
    assert defaults.blend == "multiband" and defaults.color == "shading"
    assert FOREHEAD_MODES == ("auto", "on", "off") and defaults.forehead == "auto" and defaults.forehead_fade
    # the mesh swapper draws the target's mouth itself, aligned with its render; it draws the source's eyes
    assert defaults.keep_mouth and defaults.keep_eyes and 0.0 < defaults.eye_color < 1.0
    with pytest.raises(ValueError, match="blend mode"):
        CompositeSettings(blend="laplace")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="colour mode"):
        CompositeSettings(color="sepia")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="forehead mode"):
        CompositeSettings(forehead=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="feather"):
        CompositeSettings(feather=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.blend = "feather"  # type: ignore[misc]


def test_frames_that_are_not_bgr_images_are_refused() -> None:
    face = _face()
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        Compositor().composite(np.zeros(FRAME_HW, np.uint8), face, _result(face))


@pytest.mark.parametrize("blend", get_args(BlendMode))
def test_a_face_cut_by_the_frame_edge_is_blended_up_to_the_edge(blend: BlendMode) -> None:
    frame = _frame()
    landmarks = schematic_landmarks((40.0, 125.0), FACE)  # the left third of the face is off the frame
    face = face_from_landmarks(landmarks)
    x0, x1 = 0, int(landmarks[:, 0].max()) + 20
    y0, y1 = int(landmarks[:, 1].min()) - 20, int(landmarks[:, 1].max()) + 20
    crop = np.full((y1 - y0, x1 - x0, 3), RENDER_BGR, np.uint8)
    crop_landmarks = landmarks.copy()
    crop_landmarks[:, :2] -= (x0, y0)
    matrix = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]], np.float32)
    result = SwapResult(crop, np.ones(crop.shape[:2], np.float32), matrix, crop_landmarks)
    settings = CompositeSettings(blend=blend, color="none", detail_weight=0.0)
    out = Compositor(settings).composite(frame, face, result)
    assert out.shape == frame.shape
    if blend != "poisson":
        edge = out[115:135, 0].astype(float).mean(axis=0)
        assert np.abs(edge - RENDER_BGR).max() < 3.0, "the swapped face reaches the frame's edge"
    assert np.array_equal(out[:, x1:], frame[:, x1:])


def test_eye_openings_get_part_of_the_colour_transfer_and_the_mouth_keeps_the_renders_colours() -> None:
    """The mesh swapper draws the source's eyes (they need the skin's tone, or the whites glow) and the
    target's own mouth interior (already in the target's colours)."""
    frame = _frame()
    landmarks = schematic_landmarks(CENTER, FACE, mouth_open=0.1)
    face = face_from_landmarks(landmarks)
    result = _result(face)
    xy = landmarks[:, :2]
    eye_x, eye_y = (round(v) for v in xy[list(masks.RIGHT_EYELIDS)].mean(axis=0))
    mouth_x, mouth_y = (round(v) for v in xy[list(masks.LIPS_INNER)].mean(axis=0))

    def colour_at(eye_color: float) -> tuple[float, float]:
        settings = CompositeSettings(
            blend="feather", color="lab", detail_weight=0.0, keep_mouth=False, keep_eyes=False
        )
        out = Compositor(dataclasses.replace(settings, eye_color=eye_color)).composite(frame, face, result)
        eye = out[eye_y - 1 : eye_y + 2, eye_x - 1 : eye_x + 2].astype(float).mean(axis=(0, 1))
        mouth = out[mouth_y - 1 : mouth_y + 2, mouth_x - 1 : mouth_x + 2].astype(float).mean(axis=(0, 1))
        render = np.array(RENDER_BGR, float)
        return float(np.abs(eye - render).max()), float(np.abs(mouth - render).max())

    untouched, full, default = colour_at(0.0), colour_at(1.0), colour_at(CompositeSettings().eye_color)
    assert untouched[0] < 3.0 and full[0] > 20.0, "eye_color 0 keeps the render's eyes, 1 recolours them"
    assert untouched[0] < default[0] < full[0], "the default recolours the eyes part of the way"
    assert max(untouched[1], full[1], default[1]) < 3.0, "the mouth interior keeps the render's colours"
    with pytest.raises(ValueError, match="eye_color"):
        CompositeSettings(eye_color=1.5)


def test_colour_strength_moves_the_render_part_of_the_way_to_the_targets_tone() -> None:
    frame, face = _frame(), _face()
    result = _result(face)
    rows, cols = _core()

    def core_mean(strength: float) -> npt.NDArray[np.float64]:
        settings = CompositeSettings(blend="feather", color="lab", detail_weight=0.0, color_strength=strength)
        out = Compositor(settings).composite(frame, face, result)
        return np.asarray(out[rows, cols].astype(float).mean(axis=(0, 1)), dtype=np.float64)

    none, half, full = core_mean(0.0), core_mean(0.5), core_mean(1.0)
    assert np.abs(none - RENDER_BGR).max() < 1.5, "strength 0 leaves the render's colours"
    assert np.abs(full - none).max() > 20.0
    assert np.abs(half - 0.5 * (none + full)).max() < 2.0, "strength 0.5 goes half way"
    with pytest.raises(ValueError, match="color_strength"):
        CompositeSettings(color_strength=-0.1)


def test_a_blink_in_a_video_shows_the_targets_eye_by_the_eyes_own_open_level() -> None:
    """An eye narrowed to 55% of how open it has been along its track is a blink (the mesh never draws a
    shut eye shut), so the frame's own eye shows; the same face as a single image (no track, no level)
    keeps the render's eye."""
    frame = _frame()
    settings = CompositeSettings(blend="feather", color="none", detail_weight=0.0)
    narrowed = face_from_landmarks(schematic_landmarks(CENTER, FACE, eye_ear=0.22), 3)
    xy = narrowed.landmarks_478[:, :2]
    eye_x, eye_y = (round(v) for v in xy[list(masks.RIGHT_EYELIDS)].mean(axis=0))

    def error_to_frame(out: Frame) -> float:
        patch = out[eye_y - 1 : eye_y + 2, eye_x - 1 : eye_x + 2].astype(float)
        return float(np.abs(patch - frame[eye_y - 1 : eye_y + 2, eye_x - 1 : eye_x + 2]).mean())

    video = Compositor(settings)
    wide = face_from_landmarks(schematic_landmarks(CENTER, FACE, eye_ear=0.4), 3)
    for _ in range(20):
        video.composite(frame, wide, _result(wide))
    blink = video.composite(frame, narrowed, _result(narrowed))
    image_face = dataclasses.replace(narrowed, track_id=None)
    single = Compositor(settings).composite(frame, image_face, _result(narrowed))
    assert error_to_frame(blink) < 3.0
    assert error_to_frame(single) > 30.0


def test_keep_lips_shows_the_frames_own_lips_through_the_swapped_face() -> None:
    frame, face = _frame(), _face()
    result = _result(face)
    lip_x, lip_y = round(CENTER[0]), round(CENTER[1] + 0.25 * FACE - 0.03 * FACE)  # mid upper lip
    rows, cols = slice(lip_y - 1, lip_y + 2), slice(lip_x - 4, lip_x + 5)
    settings = CompositeSettings(blend="feather", color="none", detail_weight=0.0)
    swapped = Compositor(settings).composite(frame, face, result)
    kept = Compositor(dataclasses.replace(settings, keep_lips=True)).composite(frame, face, result)
    assert np.abs(swapped[rows, cols].astype(float) - RENDER_BGR).mean() < 6.0
    assert np.abs(kept[rows, cols].astype(float) - frame[rows, cols]).max() <= 1.0
    core_rows, core_cols = _core()
    assert np.array_equal(kept[core_rows, core_cols][:10], swapped[core_rows, core_cols][:10]), (
        "the cheeks and nose are swapped as before"
    )


def _shift_map(size_hw: tuple[int, ...], dx: float) -> npt.NDArray[np.float32]:
    """A crop-sized frame move taking every pixel from ``dx`` to its right."""
    ys, xs = np.mgrid[0 : size_hw[0], 0 : size_hw[1]].astype(np.float32)
    return np.dstack([xs + np.float32(dx), ys]).astype(np.float32)


def test_a_frame_move_from_the_swapper_moves_the_frame_around_the_face() -> None:
    """A swapper that reshaped the face's outline says how the frame moves with it: the compositor moves
    what its output holds in the crop, then blends the face over it."""
    frame, face = _frame(), _face()
    plain = _result(face)
    result = dataclasses.replace(plain, frame_move=_shift_map(plain.crop_bgr.shape, 4.0))
    out = Compositor(CompositeSettings(blend="feather", color="none")).composite(frame, face, result)
    x0, y0, x1, y1 = _crop_box(result)
    edge = (slice(y0, y0 + 3), slice(x0, x1 - 5))  # the crop's top rows, far outside the face
    np.testing.assert_array_equal(out[edge], frame[y0 : y0 + 3, x0 + 4 : x1 - 1])
    rows, cols = _core()
    assert abs(float(out[rows, cols].mean()) - float(np.mean(RENDER_BGR))) < 6.0, "the face is still drawn"
    outside = np.ones(FRAME_HW, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], frame[outside])
    with pytest.raises(ValueError, match="frame_move"):
        dataclasses.replace(plain, frame_move=_shift_map(plain.crop_bgr.shape, 4.0)[1:])


def test_a_frame_move_moves_what_an_earlier_face_left_in_the_output() -> None:
    """Two faces in one frame: the second face's frame move carries the output as the first face left it,
    not the frame as it came in (the first face's swap is not undone)."""
    frame, face = _frame(), _face()
    plain = _result(face)
    x0, y0, _, y1 = _crop_box(plain)
    earlier = frame.copy()
    earlier[y0:y1, x0 : x0 + 8] = 255  # what a first face's blending left at the crop's left edge
    result = dataclasses.replace(plain, frame_move=_shift_map(plain.crop_bgr.shape, 0.0))
    out = Compositor(CompositeSettings(blend="feather", color="none")).composite(earlier, face, result)
    assert np.all(out[y0:y1, x0 : x0 + 8] == 255), "the earlier face's pixels stay"


def test_the_forehead_goes_in_when_the_swapper_says_it_is_clear_or_when_asked() -> None:
    frame, face = _frame(), _face()
    result = _result(face, stripes=True)
    clear = dataclasses.replace(result, forehead_clear=True)
    top, glabella = face.landmarks_478[10, 1], face.landmarks_478[9, 1]
    row = round(top + 0.35 * (glabella - top))  # a third of the way down from the mesh's top edge
    middle = slice(round(CENTER[0]) - 5, round(CENTER[0]) + 5)

    def changed(settings: CompositeSettings, swapped: SwapResult) -> float:
        out = Compositor(settings).composite(frame, face, swapped)
        return float(np.abs(out[row, middle].astype(int) - frame[row, middle].astype(int)).mean())

    auto = CompositeSettings(color="none", detail_weight=0.0)
    assert changed(auto, result) < 1.0  # a fringe (or a swapper that does not say): above the brows only
    assert changed(auto, clear) > 5.0  # a clear forehead: swapped, fading out towards the top
    on, off = dataclasses.replace(auto, forehead="on"), dataclasses.replace(auto, forehead="off")
    assert changed(on, result) > 5.0 and changed(off, clear) < 1.0
    unfaded = dataclasses.replace(on, forehead_fade=False)
    assert changed(unfaded, result) > 1.5 * changed(on, result)  # the fade lets the frame show through


def test_the_frames_own_raised_brows_are_covered_when_the_face_stops_above_the_brows() -> None:
    frame, face = _frame(), _face()
    result = _result(face, stripes=True)  # rendered on the unraised brows (the source's proportions)
    raised = face.landmarks_478.copy()
    lifted = [*masks.RIGHT_BROW, 71, 68, 104, 69, 108]
    raised[lifted, 1] -= 0.1 * FACE  # the target raises its right brow
    target = face_from_landmarks(raised, face.track_id)
    brow = raised[list(masks.RIGHT_BROW), :2].mean(axis=0)
    rows = slice(round(float(brow[1])) - 2, round(float(brow[1])) + 3)
    cols = slice(round(float(brow[0])) - 2, round(float(brow[0])) + 3)
    settings = CompositeSettings(color="none", detail_weight=0.0, forehead="off")

    def changed(compositor_target: Face) -> float:
        out = Compositor(settings).composite(frame, compositor_target, result)
        return float(np.abs(out[rows, cols].astype(int) - frame[rows, cols].astype(int)).mean())

    assert changed(face) < 3.0  # with the brows where the render has them, that place stays the frame's
    assert changed(target) > 10.0  # the frame's raised brow is covered by the render

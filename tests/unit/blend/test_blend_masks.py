"""Masks from landmarks: hull area, feathering, mouth and eye holes, skin, sub-pixel smoothness."""

import numpy as np
import pytest

from facecraft.blend import masks
from facecraft.blend.masks import MaskSettings, build_face_masks
from facecraft.swap.triangles import load_topology
from unit.blend.test_blend_fakes import schematic_landmarks

SIZE_HW = (300, 320)
CENTER = (160.0, 130.0)
FACE = 200.0


def _shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _mouth_xy() -> tuple[int, int]:
    return round(CENTER[0]), round(CENTER[1] + 0.25 * FACE)


def _eye_xy() -> tuple[int, int]:
    return round(CENTER[0] - 0.15 * FACE), round(CENTER[1] - 0.08 * FACE)


def test_hull_mask_area_matches_its_outline_and_the_forehead_adds_to_it() -> None:
    landmarks = schematic_landmarks(CENTER, FACE)
    for forehead in (False, True):
        outline = masks.hull_outline(landmarks, include_forehead=forehead)
        mask = masks.hull_mask(landmarks, SIZE_HW, include_forehead=forehead)
        assert mask.dtype == np.float32 and mask.shape == SIZE_HW
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        assert float(mask.sum()) == pytest.approx(_shoelace(outline), rel=0.02)
    below_brows = masks.hull_mask(landmarks, SIZE_HW).sum()
    with_forehead = masks.hull_mask(landmarks, SIZE_HW, include_forehead=True).sum()
    assert with_forehead > 1.1 * below_brows
    top_row = round(CENTER[1] - 0.4 * FACE)  # forehead, above the brows' mesh row
    assert masks.hull_mask(landmarks, SIZE_HW)[top_row].max() == 0.0
    assert masks.hull_mask(landmarks, SIZE_HW, include_forehead=True)[top_row].max() > 0.9


def test_feathered_alpha_rises_monotonically_from_the_edge_and_is_one_in_the_core() -> None:
    landmarks = schematic_landmarks(CENTER, FACE)
    cheek_x = round(CENTER[0] - 0.2 * FACE)
    for feather in (0.04, 0.1):
        alpha = build_face_masks(landmarks, SIZE_HW, MaskSettings(feather=feather)).alpha
        assert np.isfinite(alpha).all() and alpha.min() >= 0.0 and alpha.max() <= 1.0
        profile = alpha[round(CENTER[1]), : cheek_x + 1]  # from outside the face in to the cheek
        assert np.all(np.diff(profile) >= -1e-4), "alpha must not dip on the way in"
        assert profile[0] == 0.0 and profile[-1] == pytest.approx(1.0, abs=1e-3)
        ramp_px = int(((profile > 0.02) & (profile < 0.98)).sum())
        assert abs(ramp_px - 0.83 * feather * FACE) <= 3, (
            "the 2%-98% part of a smoothstep is 83% of its width"
        )


def test_erosion_pulls_the_mask_inside_the_outline() -> None:
    landmarks = schematic_landmarks(CENTER, FACE)
    row = round(CENTER[1])
    edge_x = CENTER[0] - 0.4 * FACE  # the oval's left edge on this row
    for erode in (0.0, 0.05):
        alpha = build_face_masks(landmarks, SIZE_HW, MaskSettings(erode=erode)).alpha
        first_on = int(np.argmax(alpha[row] > 0.01))
        assert first_on >= edge_x + erode * FACE - 2
        assert first_on <= edge_x + erode * FACE + 0.02 * FACE + 3


def test_mouth_hole_is_there_when_the_mouth_is_open_and_not_when_closed() -> None:
    x, y = _mouth_xy()
    closed = build_face_masks(schematic_landmarks(CENTER, FACE, mouth_open=0.0), SIZE_HW, MaskSettings())
    opened = build_face_masks(schematic_landmarks(CENTER, FACE, mouth_open=0.08), SIZE_HW, MaskSettings())
    assert closed.alpha[y - 3 : y + 4, x - 10 : x + 11].min() > 0.97
    assert opened.alpha[y, x] < 0.02
    not_kept = build_face_masks(
        schematic_landmarks(CENTER, FACE, mouth_open=0.08), SIZE_HW, MaskSettings(keep_mouth=False)
    )
    assert not_kept.alpha[y, x] > 0.97


def test_keep_lips_opens_a_hole_over_the_whole_lips_and_leaves_the_rest_of_the_face() -> None:
    x, mouth_y = _mouth_xy()
    cheek_x, cheek_y = x - round(0.15 * FACE), round(CENTER[1] + 0.1 * FACE)
    for mouth_open in (0.0, 0.08):
        gap = 0.5 * mouth_open * FACE  # the schematic lips: 0.06 of the face thick above, 0.07 below
        upper_lip_y, lower_lip_y = round(mouth_y - gap - 0.03 * FACE), round(mouth_y + gap + 0.035 * FACE)
        landmarks = schematic_landmarks(CENTER, FACE, mouth_open=mouth_open)
        swapped = build_face_masks(landmarks, SIZE_HW, MaskSettings())
        kept = build_face_masks(landmarks, SIZE_HW, MaskSettings(keep_lips=True))
        assert swapped.alpha[upper_lip_y, x] > 0.97 and swapped.alpha[lower_lip_y, x] > 0.97
        assert kept.alpha[upper_lip_y, x] < 0.02 and kept.alpha[lower_lip_y, x] < 0.02
        assert kept.alpha[mouth_y, x] < 0.02, "the mouth interior stays kept"
        assert kept.alpha[cheek_y, cheek_x] == pytest.approx(swapped.alpha[cheek_y, cheek_x], abs=1e-6)
        assert np.array_equal(kept.skin, swapped.skin), "colour statistics do not change"
    outer = schematic_landmarks(CENTER, FACE)[list(masks.LIPS_OUTER), :2]
    closed = schematic_landmarks(CENTER, FACE)
    kept = build_face_masks(closed, SIZE_HW, MaskSettings(keep_lips=True))
    hole = build_face_masks(closed, SIZE_HW, MaskSettings()).alpha - kept.alpha
    assert float(hole.sum()) == pytest.approx(_shoelace(outer), rel=0.1), "the hole is the lips' outline"


def test_eyes_are_kept_from_the_target_when_closed_or_looking_away() -> None:
    x, y = _eye_xy()
    settings = MaskSettings()
    open_ahead = build_face_masks(schematic_landmarks(CENTER, FACE, eye_ear=0.3), SIZE_HW, settings)
    shut = build_face_masks(schematic_landmarks(CENTER, FACE, eye_ear=0.05), SIZE_HW, settings)
    away = build_face_masks(schematic_landmarks(CENTER, FACE, gaze=0.35), SIZE_HW, settings)
    assert open_ahead.alpha[y, x] > 0.97
    assert shut.alpha[y, x] < 0.02
    assert shut.alpha[y - round(0.02 * FACE), x] < 0.1, "a shut eye keeps its lids too"
    assert away.alpha[y, x] < 0.02
    half_shut = build_face_masks(
        schematic_landmarks(CENTER, FACE, eye_ear=settings.closed_ear), SIZE_HW, settings
    )
    assert 0.2 < half_shut.alpha[y - round(0.02 * FACE), x] < 0.8, "keeping fades in, it does not switch"
    ignored = build_face_masks(
        schematic_landmarks(CENTER, FACE, eye_ear=0.05), SIZE_HW, MaskSettings(keep_eyes=False)
    )
    assert ignored.alpha[y, x] > 0.97


def test_an_eye_narrowed_well_below_its_own_open_level_counts_as_closed() -> None:
    # The mesh never draws a shut eye shut (s18.mp4's blinks bottom out at 0.16-0.18 against 0.33-0.41
    # open): given the eye's open level, an eye at 55% of it is a blink even above the absolute test.
    x, y = _eye_xy()
    settings = MaskSettings()
    narrowed = schematic_landmarks(CENTER, FACE, eye_ear=0.22)
    lid_y = y - round(0.02 * FACE)
    no_level = build_face_masks(narrowed, SIZE_HW, settings)
    blink = build_face_masks(narrowed, SIZE_HW, settings, open_levels=(0.4, 0.4))
    small_eyes = build_face_masks(narrowed, SIZE_HW, settings, open_levels=(0.24, 0.24))
    assert no_level.alpha[y, x] > 0.97, "without a level only the absolute test applies"
    assert blink.alpha[y, x] < 0.02
    assert blink.alpha[lid_y, x] < 0.1, "the blink keeps the target's lids too"
    assert small_eyes.alpha[y, x] > 0.97, "an eye as open as it usually is stays the source's"
    fading = build_face_masks(narrowed, SIZE_HW, settings, open_levels=(0.22 / 0.64, 0.22 / 0.64))
    assert 0.2 < fading.alpha[lid_y, x] < 0.8, "keeping fades in, it does not switch"
    with pytest.raises(ValueError, match="closed_relative"):
        MaskSettings(closed_relative=1.0)


def test_skin_leaves_out_eyes_brows_and_lips() -> None:
    face_masks = build_face_masks(schematic_landmarks(CENTER, FACE), SIZE_HW, MaskSettings())
    skin = face_masks.skin
    ex, ey = _eye_xy()
    mx, my = _mouth_xy()
    brow_y = round(CENTER[1] - 0.16 * FACE)
    assert skin[ey, ex] == 0.0
    assert skin[my, mx] == 0.0
    assert skin[brow_y, ex] < 0.05
    cheek = skin[round(CENTER[1] + 0.05 * FACE), round(CENTER[0] - 0.2 * FACE)]
    assert cheek > 0.95
    assert face_masks.alpha[my, mx] > 0.97, "a closed mouth's lips are swapped even though they are not skin"


def test_masks_move_smoothly_with_sub_pixel_landmark_motion() -> None:
    settings = MaskSettings()
    previous = build_face_masks(schematic_landmarks(CENTER, FACE), SIZE_HW, settings).alpha
    xs = np.arange(SIZE_HW[1], dtype=np.float64)
    centroids = [float((previous.sum(axis=0) * xs).sum() / previous.sum())]
    for step in range(1, 5):
        shifted = (CENTER[0] + 0.25 * step, CENTER[1])
        alpha = build_face_masks(schematic_landmarks(shifted, FACE), SIZE_HW, settings).alpha
        assert float(np.abs(alpha - previous).max()) < 0.1, "a quarter-pixel move must not pop any pixel"
        centroids.append(float((alpha.sum(axis=0) * xs).sum() / alpha.sum()))
        previous = alpha
    assert np.diff(centroids) == pytest.approx([0.25] * 4, abs=0.03)


def test_mask_settings_refuse_values_that_cannot_work() -> None:
    with pytest.raises(ValueError, match="feather"):
        MaskSettings(feather=0.0)
    with pytest.raises(ValueError, match="erode"):
        MaskSettings(erode=0.7)
    with pytest.raises(ValueError, match="brow_margin"):
        MaskSettings(brow_margin=1.5)
    with pytest.raises(ValueError, match="mask size"):
        build_face_masks(schematic_landmarks(), (0, 10), MaskSettings())


def test_polygon_edges_are_placed_with_sub_pixel_accuracy() -> None:
    square = np.array([[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]])
    for dx in (0.0, 0.3, 0.6):
        mask = masks.polygon_mask(square + np.array([dx, 0.0]), (40, 48))
        xs = np.arange(48, dtype=np.float64)
        centroid = float((mask.sum(axis=0) * xs).sum() / mask.sum())
        assert centroid == pytest.approx(20.0 + dx, abs=0.02)
        assert float(mask.sum()) == pytest.approx(400.0, rel=0.05)


def test_coverage_cuts_the_masks_with_a_soft_edge() -> None:
    landmarks = schematic_landmarks(CENTER, FACE)
    coverage = np.ones(SIZE_HW, np.float32)
    coverage[:, : round(CENTER[0])] = 0.0  # nothing rendered on the image-left half
    covered = build_face_masks(landmarks, SIZE_HW, MaskSettings(), coverage)
    full = build_face_masks(landmarks, SIZE_HW, MaskSettings())
    row = round(CENTER[1] + 0.05 * FACE)
    assert covered.alpha[:, : round(CENTER[0])].max() == 0.0
    assert covered.skin[:, : round(CENTER[0])].max() == 0.0
    right = round(CENTER[0] + 0.1 * FACE)
    assert covered.alpha[row, right] == pytest.approx(full.alpha[row, right], abs=1e-3)
    ramp = covered.alpha[row, round(CENTER[0]) : right]
    assert np.all(np.diff(ramp) >= -1e-4) and 0.0 < ramp[2] < 1.0


def test_a_faded_forehead_ramps_down_from_above_the_brows_to_the_meshs_top() -> None:
    landmarks = schematic_landmarks(CENTER, FACE)
    hard = build_face_masks(landmarks, SIZE_HW, MaskSettings(include_forehead=True)).alpha
    faded = build_face_masks(
        landmarks, SIZE_HW, MaskSettings(include_forehead=True, forehead_fade=True)
    ).alpha
    brows = build_face_masks(landmarks, SIZE_HW, MaskSettings()).alpha
    x = round(CENTER[0])
    brow_line = masks.hull_outline(landmarks)[-6, 1]  # the brows' line at the middle
    top = float(landmarks[10, 1])  # the mesh's top edge at the middle
    column = faded[round(top) : round(brow_line) + 1, x]
    assert np.all(np.diff(column) >= -1e-4), "it must fall steadily towards the top"
    assert np.abs(np.diff(column)).max() < 3.0 / (brow_line - top), "a ramp, not a step"
    quarter, half = (round(top + f * (brow_line - top)) for f in (0.25, 0.5))
    assert faded[quarter, x] < 0.35 and hard[quarter, x] > faded[quarter, x] + 0.2  # mostly the frame
    assert 0.3 < faded[half, x] < 0.7  # halfway up, half and half
    assert faded[round(brow_line) + 8, x] > 0.95  # below the brows' line, the face in full
    below = slice(round(brow_line + 0.1 * FACE) + 2, SIZE_HW[0])  # past the brows mask's own ramp
    np.testing.assert_allclose(faded[below], brows[below], atol=0.02)  # and the same as without forehead


def test_a_faded_forehead_counts_as_skin_for_the_colour_and_a_hard_one_does_not() -> None:
    landmarks = schematic_landmarks(CENTER, FACE)
    brow_line = masks.hull_outline(landmarks)[-6, 1]
    row = round(brow_line - 0.3 * (brow_line - float(landmarks[10, 1])))  # a third of the way up
    x = round(CENTER[0])
    faded = build_face_masks(landmarks, SIZE_HW, MaskSettings(include_forehead=True, forehead_fade=True))
    hard = build_face_masks(landmarks, SIZE_HW, MaskSettings(include_forehead=True))
    assert faded.skin[row, x] > 0.5  # lit like the footage's forehead
    assert hard.skin[row, x] == 0.0  # a trained model's forehead keeps its own light


def _layout_landmarks(angle_degrees: float) -> np.ndarray:
    """The mesh's frontal layout (y down), turned in the image by ``angle_degrees``, in a 320 x 340 canvas."""
    layout = load_topology().layout_468[:, :2].astype(np.float64) * 100.0
    c, s = np.cos(np.radians(angle_degrees)), np.sin(np.radians(angle_degrees))
    points = np.zeros((478, 3), dtype=np.float32)
    points[:468, :2] = layout @ np.array([[c, s], [-s, c]]) + (160.0, 170.0)
    return points


@pytest.mark.parametrize("angle", [0.0, 25.0, 180.0])
def test_the_forehead_fades_out_along_its_whole_top_edge_however_the_head_is_turned(angle: float) -> None:
    landmarks = _layout_landmarks(angle)
    fade = masks.forehead_fade(landmarks, (340, 320))

    def at(index: int) -> float:
        x, y = landmarks[index, :2]
        return float(fade[round(float(y)), round(float(x))])

    assert max(at(i) for i in masks.FOREHEAD_CONTOUR[1:-1]) < 0.05  # the top edge, temples included
    assert min(at(i) for i in (*masks.BROW_TOP, 1, 152)) > 0.99  # the brows and all below: the face
    assert 0.3 < at(151) < 1.0  # the forehead's middle row: on its way out


@pytest.mark.parametrize("angle", [0.0, 25.0, 180.0])
def test_the_forehead_fade_is_the_same_on_any_canvas_and_exactly_one_below_the_brows(angle: float) -> None:
    landmarks = _layout_landmarks(angle)
    fade = masks.forehead_fade(landmarks, (340, 320))
    shifted = landmarks.copy()
    shifted[:, :2] += (40.0, 30.0)
    bigger = masks.forehead_fade(shifted, (420, 400))  # the face with room all round it
    np.testing.assert_allclose(bigger[30:370, 40:360], fade, atol=1e-4)
    line = masks.brow_line(landmarks)
    up = landmarks[10, :2] - line[len(masks.BROW_TOP) // 2]  # the face's up axis (as the fade takes it)
    up /= np.hypot(*up)
    rows, cols = np.mgrid[0:340, 0:320]
    below = cols * up[0] + rows * up[1] < (line @ up).min() - 1e-3
    assert below.any() and np.all(fade[below] == 1.0)  # the face in full, not nearly


def test_a_hull_above_the_brows_covers_the_frames_own_brows_where_they_are_higher() -> None:
    rendered = schematic_landmarks(CENTER, FACE)
    frame = rendered.copy()
    raised = [*masks.RIGHT_BROW, 71, 68, 104, 69, 108]  # the subject's right brow and the row above it
    frame[raised, 1] -= 0.1 * FACE  # the target raises that brow; the render keeps the source's
    brow = frame[list(masks.RIGHT_BROW), :2].mean(axis=0)
    x, y = round(float(brow[0])), round(float(brow[1]))
    alone = build_face_masks(rendered, SIZE_HW, MaskSettings()).alpha
    covered = build_face_masks(rendered, SIZE_HW, MaskSettings(), frame_landmarks=frame)
    assert alone[y, x] < 0.01 and covered.alpha[y, x] > 0.99  # the frame's raised brow no longer shows
    assert np.all(covered.alpha >= alone - 1e-6)  # only ever more of the face
    mx, my = _mouth_xy()
    assert covered.alpha[my, mx] == alone[my, mx]  # the mouth's hole is still cut after the union
    np.testing.assert_array_equal(covered.skin, build_face_masks(rendered, SIZE_HW, MaskSettings()).skin)
    left = slice(round(CENTER[0] + 0.15 * FACE), SIZE_HW[1])  # the other brow stayed: no change
    np.testing.assert_allclose(covered.alpha[:, left], alone[:, left], atol=0.02)


def test_true_box_bounds_the_true_pixels() -> None:
    mask = np.zeros((30, 40), dtype=bool)
    assert masks.true_box(mask) is None
    mask[5, 7] = mask[12, 30] = True
    box = masks.true_box(mask)
    assert box == (slice(5, 13), slice(7, 31))
    assert box is not None and mask[box].sum() == mask.sum()

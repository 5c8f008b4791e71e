"""Alignment: templates, Umeyama similarity, warping into a crop and pasting it back."""

import math

import cv2
import numpy as np
import pytest

from facecraft.faces.alignment import (
    ARCFACE_POINTS_112,
    TEMPLATE_NAMES,
    TEMPLATES,
    AlignTemplate,
    alignment_matrix,
    estimate_similarity,
    get_template,
    invert_affine,
    paste_back,
    transform_points,
    warp_to_crop,
)


def _similarity(scale: float, angle: float, tx: float, ty: float) -> np.ndarray:
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    return np.array([[c, -s, tx], [s, c, ty]], dtype=np.float64)


def _textured_frame(height: int = 360, width: int = 480) -> np.ndarray:
    """A smooth but non-trivial colour image (bilinear resampling of it is nearly lossless)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    blue = 128 + 100 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    green = 128 + 100 * np.cos((xx + yy) / 40.0)
    red = 128 + 100 * np.sin(yy / 17.0)
    return np.asarray(np.clip(np.stack([blue, green, red], axis=-1), 0, 255), dtype=np.uint8)


@pytest.mark.parametrize(
    ("scale", "angle", "tx", "ty"),
    [(1.0, 0.0, 0.0, 0.0), (0.37, 0.3, 12.5, -40.0), (2.5, -2.9, 300.0, 7.0), (1e-2, 1.2, -3.0, 5.0)],
)
def test_estimate_similarity_recovers_a_known_similarity_exactly(
    scale: float, angle: float, tx: float, ty: float
) -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 500, size=(5, 2))
    truth = _similarity(scale, angle, tx, ty)
    dst = src @ truth[:, :2].T + truth[:, 2]
    estimated = estimate_similarity(src, dst)
    assert estimated.shape == (2, 3)
    assert estimated.dtype == np.float32
    np.testing.assert_allclose(estimated, truth, rtol=1e-4, atol=1e-3 * max(1.0, abs(tx), abs(ty)))


def test_estimate_similarity_is_least_squares_and_never_reflects() -> None:
    rng = np.random.default_rng(2)
    src = rng.uniform(0, 100, size=(20, 2))
    mirrored = src * [-1.0, 1.0]  # a reflection cannot be represented
    matrix = estimate_similarity(src, mirrored)
    assert np.linalg.det(matrix[:, :2].astype(np.float64)) > 0
    # Noisy pairs: the fit beats the truth it was built from (least squares).
    truth = _similarity(1.3, 0.2, 5.0, -2.0)
    dst = src @ truth[:, :2].T + truth[:, 2] + rng.normal(0, 0.5, size=src.shape)
    fitted = estimate_similarity(src, dst)
    fit_error = np.square(transform_points(src, fitted) - dst).sum()
    truth_error = np.square(src @ truth[:, :2].T + truth[:, 2] - dst).sum()
    assert fit_error <= truth_error + 1e-3


def test_estimate_similarity_rejects_degenerate_input() -> None:
    with pytest.raises(ValueError, match="coincide"):
        estimate_similarity(np.ones((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="matching"):
        estimate_similarity(np.zeros((5, 2)), np.zeros((4, 2)))


def test_templates_scale_with_the_crop_size() -> None:
    arcface = get_template("arcface")
    np.testing.assert_allclose(arcface.points_px(112), ARCFACE_POINTS_112, atol=1e-4)
    np.testing.assert_allclose(arcface.points_px(224), 2 * np.asarray(ARCFACE_POINTS_112), atol=1e-3)
    assert set(TEMPLATE_NAMES) == set(TEMPLATES)
    for name in TEMPLATE_NAMES:
        unit = get_template(name).points_px(1)
        assert np.all((unit > 0) & (unit < 1)), name
        assert unit[0, 0] < unit[1, 0] and unit[3, 0] < unit[4, 0]  # right eye / mouth corner on the left
        assert unit[:2, 1].max() < unit[2, 1] < unit[3:, 1].min()  # eyes above nose above mouth


def test_ffhq_template_shows_more_of_the_head_than_arcface() -> None:
    def eye_distance(template: AlignTemplate) -> float:
        points = template.points_px(1)
        return float(np.linalg.norm(points[1] - points[0]))

    ffhq, arcface = get_template("ffhq"), get_template("arcface")
    assert eye_distance(ffhq) == pytest.approx(0.25, abs=0.01)  # FFHQ crop side = 4 x eye distance
    assert eye_distance(ffhq) < 0.8 * eye_distance(arcface)
    assert ffhq.points_px(1)[:, 0].mean() == pytest.approx(0.5, abs=0.01)  # centred left-right


def test_get_template_names_the_choices_on_a_typo() -> None:
    with pytest.raises(ValueError, match="arcface"):
        get_template("arcfaec")


def test_alignment_matrix_puts_key_points_on_the_template() -> None:
    template = get_template("arcface")
    truth = _similarity(3.0, 0.4, 200.0, 100.0)  # crop -> frame
    keypoints_frame = transform_points(template.points_px(256), truth.astype(np.float32))
    matrix = alignment_matrix(keypoints_frame, "arcface", 256)
    np.testing.assert_allclose(transform_points(keypoints_frame, matrix), template.points_px(256), atol=1e-2)
    np.testing.assert_allclose(invert_affine(matrix), truth, atol=1e-2)


def test_invert_affine_inverts_and_rejects_singular_matrices() -> None:
    matrix = _similarity(1.7, -0.8, 30.0, 12.0).astype(np.float32)
    inverse = invert_affine(matrix)
    points = np.array([[0.0, 0.0], [100.0, 50.0], [-20.0, 300.0]])
    np.testing.assert_allclose(transform_points(transform_points(points, matrix), inverse), points, atol=1e-3)
    with pytest.raises(ValueError, match="singular"):
        invert_affine(np.zeros((2, 3), dtype=np.float32))


def test_warp_to_crop_then_paste_back_restores_the_frame() -> None:
    frame = _textured_frame()
    original = frame.copy()
    matrix = _similarity(1.0, 0.35, 0.0, 0.0)  # frame -> crop: a pure rotation about ...
    matrix[:, 2] = [128, 128] - matrix[:, :2] @ [240, 180]  # ... the frame point (240, 180)
    matrix_f32 = matrix.astype(np.float32)
    crop = warp_to_crop(frame, matrix_f32, (256, 256))
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8
    mask = np.zeros((256, 256), dtype=np.float32)
    mask[32:224, 32:224] = 1.0
    pasted = paste_back(frame, crop, mask, invert_affine(matrix_f32))
    np.testing.assert_array_equal(frame, original)  # the input frame is left alone
    inside = np.abs(pasted[170:190, 230:250].astype(int) - frame[170:190, 230:250].astype(int))
    assert inside.mean() < 3.0  # two bilinear resamplings of a smooth image
    assert not np.array_equal(pasted, frame)  # the crop really was blended in
    np.testing.assert_array_equal(pasted[:20], frame[:20])  # far outside the mask: untouched
    np.testing.assert_array_equal(pasted[:, :60], frame[:, :60])


def test_paste_back_blends_with_the_mask_only() -> None:
    frame = np.full((100, 120, 3), 50, dtype=np.uint8)
    crop = np.full((40, 40, 3), 250, dtype=np.uint8)
    to_frame = np.array([[1.0, 0.0, 30.0], [0.0, 1.0, 20.0]], dtype=np.float32)  # crop at (30, 20)
    half = np.full((40, 40), 0.5, dtype=np.float32)
    pasted = paste_back(frame, crop, half, to_frame)
    np.testing.assert_array_equal(pasted[30:50, 40:60], 150)  # halfway between 50 and 250
    np.testing.assert_array_equal(pasted[:15], 50)
    np.testing.assert_array_equal(pasted[:, 75:], 50)
    empty = paste_back(frame, crop, np.zeros((40, 40), dtype=np.float32), to_frame)
    np.testing.assert_array_equal(empty, frame)


def test_paste_back_outside_the_frame_changes_nothing() -> None:
    frame = np.full((50, 50, 3), 10, dtype=np.uint8)
    crop = np.full((20, 20, 3), 200, dtype=np.uint8)
    far_away = np.array([[1.0, 0.0, 500.0], [0.0, 1.0, 500.0]], dtype=np.float32)
    pasted = paste_back(frame, crop, np.ones((20, 20), dtype=np.float32), far_away)
    np.testing.assert_array_equal(pasted, frame)


def test_paste_back_at_the_frame_edge_is_clipped() -> None:
    frame = np.zeros((60, 60, 3), dtype=np.uint8)
    crop = np.full((40, 40, 3), 255, dtype=np.uint8)
    half_out = np.array([[1.0, 0.0, -20.0], [0.0, 1.0, 40.0]], dtype=np.float32)  # hangs off two edges
    pasted = paste_back(frame, crop, np.ones((40, 40), dtype=np.float32), half_out)
    assert pasted.shape == frame.shape
    np.testing.assert_array_equal(pasted[45:59, 0:18], 255)
    np.testing.assert_array_equal(pasted[:38], 0)


def test_warp_to_crop_border_modes() -> None:
    frame = np.full((10, 10, 3), 200, dtype=np.uint8)
    shift = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 0.0]], dtype=np.float32)  # columns 0-4 fall outside
    black = warp_to_crop(frame, shift, (10, 10))
    edge = warp_to_crop(frame, shift, (10, 10), border="replicate")
    assert black[5, 1].tolist() == [0, 0, 0]
    assert edge[5, 1].tolist() == [200, 200, 200]
    assert cv2.absdiff(black[:, 6:], edge[:, 6:]).max() == 0

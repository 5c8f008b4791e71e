"""PoseStabilizer: steadies the rigid pose of a still face, keeps expressions, follows motion, resets."""

import math

import numpy as np
import pytest

from facecraft.faces.smoothing import PoseStabilizer, PoseStabilizerSettings

RNG = np.random.default_rng(7)
BASE = RNG.uniform(-100.0, 100.0, (40, 3)) + np.array([300.0, 200.0, 0.0])
REFERENCE = np.arange(30)
"""Points 30..39 play the mouth: they move with expressions and are not used to fit the pose."""
FACE_PX = 200.0


def moved(points: np.ndarray, dx: float, dy: float, angle: float = 0.0) -> np.ndarray:
    centre = points[REFERENCE, :2].mean(axis=0)
    c, s = math.cos(angle), math.sin(angle)
    out = points.copy()
    out[:, :2] = (points[:, :2] - centre) @ np.array([[c, -s], [s, c]]).T + centre + (dx, dy)
    return out


def test_jitter_of_a_still_face_is_reduced() -> None:
    stabilizer = PoseStabilizer(REFERENCE)
    shifts = RNG.normal(0.0, 0.6, (60, 2))
    outputs = [stabilizer(moved(BASE, dx, dy), FACE_PX) for dx, dy in shifts]
    observed = np.abs(np.diff(shifts, axis=0)).mean()
    steadied = np.abs(
        np.diff([o[REFERENCE, :2].mean(axis=0) - BASE[REFERENCE, :2].mean(axis=0) for o in outputs], axis=0)
    ).mean()
    assert steadied < 0.7 * observed


def test_expression_passes_unchanged() -> None:
    stabilizer = PoseStabilizer(REFERENCE)
    stabilizer(BASE, FACE_PX)
    opened = BASE.copy()
    opened[30:, 1] += 12.0  # the "mouth" opens; the pose does not change
    out = stabilizer(opened, FACE_PX)
    np.testing.assert_allclose(
        out[30:, :2] - out[REFERENCE, :2].mean(axis=0),
        opened[30:, :2] - opened[REFERENCE, :2].mean(axis=0),
        atol=0.3,
    )
    np.testing.assert_allclose(out[:, 2], opened[:, 2])


def test_fast_motion_is_followed_without_lag() -> None:
    stabilizer = PoseStabilizer(REFERENCE)
    for step in range(20):
        truth = moved(BASE, 6.0 * step, 0.0, 0.01 * step)  # 3% of the face per frame, turning
        out = stabilizer(truth, FACE_PX)
    np.testing.assert_allclose(out[:, :2], truth[:, :2], atol=0.5)


def test_a_jump_resets_and_reset_forgets() -> None:
    settings = PoseStabilizerSettings(still_weight=0.2)
    stabilizer = PoseStabilizer(REFERENCE, settings)
    stabilizer(BASE, FACE_PX)
    far = moved(BASE, 80.0, 0.0)  # 40% of the face in one frame: a cut or another face
    np.testing.assert_allclose(stabilizer(far, FACE_PX), far)
    stabilizer.reset()
    near = moved(BASE, 1.0, 0.0)
    np.testing.assert_allclose(stabilizer(near, FACE_PX), near)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="still_weight"):
        PoseStabilizerSettings(still_weight=0.0)
    with pytest.raises(ValueError, match="full_speed"):
        PoseStabilizerSettings(full_speed=0.0)


def test_shape_steadying_slows_creeping_points_but_not_expressions() -> None:
    settings = PoseStabilizerSettings(shape_still_weight=0.3)
    creep, jump = PoseStabilizer(REFERENCE, settings), PoseStabilizer(REFERENCE, settings)
    creep(BASE, FACE_PX)
    jump(BASE, FACE_PX)
    crept, opened = BASE.copy(), BASE.copy()
    crept[35, 0] += 0.2  # a tenth of a percent of the face: noise
    opened[35, 1] += 10.0  # five percent of the face in one frame: the mouth opening
    assert creep(crept, FACE_PX)[35, 0] - BASE[35, 0] < 0.1
    assert jump(opened, FACE_PX)[35, 1] - BASE[35, 1] == pytest.approx(10.0, abs=0.2)

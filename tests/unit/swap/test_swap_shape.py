"""Shape transfer: source proportions come over, the target's expression and outline stay."""

import math

import numpy as np
import numpy.typing as npt
import pytest

from facecraft.faces.face import LANDMARK_POINTS, MESH_POINTS
from facecraft.swap.shape import (
    ShapeSettings,
    ShapeTransfer,
    estimate_similarity_3d,
    mouth_and_eyes,
    stable_points,
    still_points,
)
from facecraft.swap.triangles import (
    FACE_OVAL,
    LEFT_EYELIDS,
    LIPS_INNER,
    LIPS_OUTER,
    RIGHT_EYELIDS,
    load_topology,
)

TOPOLOGY = load_topology()
Array = npt.NDArray[np.float64]


def face_landmarks(scale: float = 200.0, centre: tuple[float, float] = (320.0, 240.0)) -> Array:
    """478 landmarks of the frontal layout at ``scale`` pixels per layout unit (iris at the eye centres)."""
    points = np.zeros((LANDMARK_POINTS, 3))
    points[:MESH_POINTS] = TOPOLOGY.layout_468 * scale
    points[:MESH_POINTS, 0] += centre[0]
    points[:MESH_POINTS, 1] += centre[1]
    for start, lids in ((468, RIGHT_EYELIDS), (473, LEFT_EYELIDS)):
        points[start : start + 5] = points[list(lids)].mean(axis=0)
    return points


def rotation_y(degrees: float) -> Array:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def open_mouth(points: Array, amount: float) -> Array:
    """The lower lip's inner and outer contours moved down by ``amount`` pixels (the jaw dropped)."""
    moved = points.copy()
    lower_inner = [324, 318, 402, 317, 14, 87, 178, 88, 95]
    lower_outer = [375, 321, 405, 314, 17, 84, 181, 91, 146]
    moved[lower_inner + lower_outer, 1] += amount
    return moved


def mouth_gap(points: npt.ArrayLike) -> float:
    xy = np.asarray(points, dtype=np.float64)
    return float(xy[14, 1] - xy[13, 1])


def eye_span(points: npt.ArrayLike) -> float:
    xy = np.asarray(points, dtype=np.float64)
    return float(xy[263, 0] - xy[33, 0])


def eye_opening(points: npt.ArrayLike) -> float:
    xy = np.asarray(points, dtype=np.float64)
    return float(xy[145, 1] - xy[159, 1])


def test_similarity_3d_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(3)
    src = rng.normal(size=(40, 3))
    rotation = rotation_y(25.0) @ np.array([[1, 0, 0], [0, 0.8, -0.6], [0, 0.6, 0.8]])
    dst = 1.7 * src @ rotation.T + np.array([5.0, -2.0, 3.0])
    found = estimate_similarity_3d(src, dst)
    assert found.scale == pytest.approx(1.7, rel=1e-6)
    np.testing.assert_allclose(found.rotation, rotation, atol=1e-6)
    np.testing.assert_allclose(found.apply(src), dst, atol=1e-6)


def test_same_face_leaves_the_mesh_unchanged() -> None:
    target = face_landmarks()
    out = ShapeTransfer(TOPOLOGY).transfer(target, target)
    np.testing.assert_allclose(out, target, atol=1e-3)


def test_same_face_in_another_pose_and_size_leaves_the_mesh_unchanged() -> None:
    target = face_landmarks()
    centre = target[:MESH_POINTS].mean(axis=0)
    source = (target - centre) @ rotation_y(20.0).T * 0.6 + np.array([50.0, 80.0, 0.0])
    out = ShapeTransfer(TOPOLOGY).transfer(source, target)
    np.testing.assert_allclose(out[:, :2], target[:, :2], atol=0.05)


def test_source_proportions_come_over() -> None:
    target = face_landmarks()
    source = target.copy()
    source[list({*RIGHT_EYELIDS, 468, 469, 470, 471, 472}), 0] -= 8.0  # eyes set wider apart
    source[list({*LEFT_EYELIDS, 473, 474, 475, 476, 477}), 0] += 8.0
    out = ShapeTransfer(TOPOLOGY).transfer(source, target)
    gained = eye_span(out) - eye_span(target)
    assert gained > 0.6 * (eye_span(source) - eye_span(target))


def test_face_outline_never_moves() -> None:
    target = face_landmarks()
    source = target * np.array([1.15, 0.9, 1.0])  # a wider, shorter face
    source[list(LIPS_OUTER), 1] += 6.0
    out = ShapeTransfer(TOPOLOGY).transfer(source, target)
    np.testing.assert_allclose(out[list(FACE_OVAL)], target[list(FACE_OVAL)], atol=1e-4)


@pytest.mark.parametrize("source_gap, target_gap", [(30.0, 0.0), (0.0, 30.0), (40.0, 10.0)])
def test_mouth_opening_is_the_targets(source_gap: float, target_gap: float) -> None:
    base = face_landmarks()
    source, target = open_mouth(base, source_gap), open_mouth(base, target_gap)
    source[:, 0] = (source[:, 0] - 320.0) * 1.1 + 320.0  # and a wider face, so the offsets are not zero
    for settings in (ShapeSettings(), ShapeSettings(move_mouth=True)):
        out = ShapeTransfer(TOPOLOGY, settings).transfer(source, target)
        assert mouth_gap(out) == pytest.approx(mouth_gap(target), abs=0.01)
        inner = out[list(LIPS_INNER), :2] - target[list(LIPS_INNER), :2]
        assert np.ptp(inner, axis=0).max() < 1e-3  # the lips move as one, or not at all


def test_eye_closure_is_the_targets() -> None:
    target = face_landmarks()
    source = target.copy()
    upper = [173, 157, 158, 159, 160, 161, 246]
    source[upper, 1] += 6.0  # the source's eyes nearly closed
    source[:, 1] = (source[:, 1] - 240.0) * 1.05 + 240.0
    out = ShapeTransfer(TOPOLOGY).transfer(source, target)
    assert eye_opening(out) == pytest.approx(eye_opening(target), rel=0.08)


def test_strength_zero_keeps_the_target() -> None:
    target = face_landmarks()
    source = target * np.array([1.1, 0.95, 1.0])
    out = ShapeTransfer(TOPOLOGY, ShapeSettings(strength=0.0)).transfer(source, target)
    np.testing.assert_allclose(out, target, atol=1e-4)


def test_stable_points_leave_out_lips_and_lids() -> None:
    stable = set(stable_points(TOPOLOGY.layout_468).tolist())
    assert not stable & set(LIPS_INNER) and not stable & set(LIPS_OUTER)
    assert not stable & (set(RIGHT_EYELIDS) - {33, 133})
    assert {33, 133, 362, 263, 1, 4, 168}.issubset(stable)
    assert not stable & set(FACE_OVAL)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="strength"):
        ShapeSettings(strength=-0.1)
    with pytest.raises(ValueError, match="outline"):
        ShapeSettings(outline=2.0)


def test_with_outline_the_face_outline_takes_the_sources_width_not_its_chin() -> None:
    target = face_landmarks()
    source = target.copy()
    source[:, 0] = 320.0 + (source[:, 0] - 320.0) * 1.1  # a wider face ...
    source[152, 1] += 15.0  # ... and a longer chin (the mouth's opening moves the chin too)
    out = ShapeTransfer(TOPOLOGY, ShapeSettings(outline=1.0)).transfer(source, target)
    oval = list(FACE_OVAL)
    wider = np.abs(out[oval, 0] - 320.0) - np.abs(target[oval, 0] - 320.0)
    sideways = np.abs(target[oval, 0] - 320.0) > 40.0
    assert np.all(wider[sideways] > 0.0), "the outline moves out at the sides"
    assert out[152, 1] == pytest.approx(target[152, 1], abs=0.5), "the chin stays at the target's height"
    kept = ShapeTransfer(TOPOLOGY, ShapeSettings(outline=0.0)).transfer(source, target)
    np.testing.assert_allclose(kept[oval], target[oval], atol=1e-4)


def test_the_moving_points_split_into_the_mouth_and_the_eyes() -> None:
    still = still_points(TOPOLOGY.layout_468)
    mouth, eyes = mouth_and_eyes(TOPOLOGY.layout_468, still)
    assert set(mouth).isdisjoint(eyes) and set(mouth) | set(eyes) == set(range(MESH_POINTS)) - set(still)
    assert set(LIPS_INNER) | set(LIPS_OUTER) <= set(mouth)
    lids = (set(LEFT_EYELIDS) | set(RIGHT_EYELIDS)) - set(still)
    assert lids and lids <= set(eyes)

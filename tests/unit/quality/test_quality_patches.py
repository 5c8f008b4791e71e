"""Face patches, frame-to-frame change, landmark jitter and boundary gradient energy on synthetic arrays."""

import numpy as np
import pytest

from face_fakes import landmarks_at
from facecraft.quality.flicker import landmark_jitter_px, mean_abs_change
from facecraft.quality.patches import (
    PatchBox,
    extract_patch,
    hull_mask,
    patch_box,
    safe_ratio,
    to_patch,
)
from facecraft.quality.seams import boundary_band, gradient_energy


def test_patch_box_is_square_around_the_face_and_clamped_to_the_frame() -> None:
    landmarks = landmarks_at((320.0, 240.0), 100.0)
    box = patch_box(landmarks, (640, 480), margin=1.2, size=96)
    assert box is not None
    assert (box.x1 - box.x0) == pytest.approx(box.y1 - box.y0, abs=1)
    assert box.x0 < 320 < box.x1 and box.y0 < 240 < box.y1
    edge = patch_box(landmarks_at((10.0, 10.0), 100.0), (640, 480), margin=1.2, size=96)
    assert edge is not None and (edge.x0, edge.y0) == (0, 0)
    assert patch_box(landmarks_at((-500.0, -500.0), 50.0), (640, 480), 1.2, 96) is None


def test_extract_patch_keeps_content_and_maps_points() -> None:
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[:, 320:] = 200  # right half bright
    box = PatchBox(160, 120, 480, 440, 80)  # 4x shrink (two exact halvings)
    patch = extract_patch(frame, box)
    assert patch.shape == (80, 80, 3)
    assert patch[:, :39].max() == 0 and patch[:, 41:].min() == 200
    corners = to_patch(np.array([[160.0, 120.0], [479.0, 439.0]], dtype=np.float32), box)
    np.testing.assert_allclose(corners, [[-0.375, -0.375], [79.375, 79.375]], atol=1e-4)
    grown = extract_patch(frame, PatchBox(300, 100, 340, 140, 80))  # enlarging uses linear
    assert grown.shape == (80, 80, 3)


def test_hull_mask_covers_the_face_and_not_the_corners() -> None:
    landmarks = landmarks_at((320.0, 240.0), 100.0)
    box = patch_box(landmarks, (640, 480), 1.5, 96)
    assert box is not None
    mask = hull_mask(landmarks, box)
    assert mask[48, 48] and not mask[0, 0] and not mask[95, 95]
    assert 0.3 < mask.mean() < 0.5  # the face spans 1/1.5 of the side: about (2/3)^2 of the area


def test_mean_abs_change() -> None:
    mask = np.ones((8, 8), dtype=bool)
    a = np.full((8, 8, 3), 100, dtype=np.uint8)
    assert mean_abs_change(a, a, mask) == 0.0
    assert mean_abs_change(a, a + 7, mask) == pytest.approx(7.0)
    assert mean_abs_change(a + 7, a, mask) == pytest.approx(7.0)
    assert mean_abs_change(a, a + 7, np.zeros((8, 8), dtype=bool)) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        mean_abs_change(a, a[:4], mask)


def test_landmark_jitter_is_output_motion_beyond_the_target_motion() -> None:
    base = landmarks_at((320.0, 240.0), 100.0)
    shifted = base.copy()
    shifted[:, 0] += 3.0
    shifted[:, 1] += 4.0
    assert landmark_jitter_px(base, shifted, base, base) == pytest.approx(5.0, abs=1e-5)
    assert landmark_jitter_px(base, shifted, base, shifted) == pytest.approx(0.0, abs=1e-6)


def test_gradient_energy_in_the_band_sees_a_step_at_the_boundary() -> None:
    landmarks = landmarks_at((320.0, 240.0), 100.0)
    box = patch_box(landmarks, (640, 480), 1.3, 160)
    assert box is not None
    band = boundary_band(landmarks, box)
    assert band.any() and band.mean() < 0.2
    flat = np.full((160, 160, 3), 90, dtype=np.uint8)
    assert gradient_energy(flat, band) == 0.0
    stepped = flat.copy()
    stepped[hull_mask(landmarks, box)] = 150
    assert gradient_energy(stepped, band) > 1000.0
    assert gradient_energy(stepped, np.zeros_like(band)) == 0.0


def test_safe_ratio_rules() -> None:
    assert safe_ratio(2.0, 4.0) == 0.5
    assert safe_ratio(0.0, 0.0) == 1.0
    assert safe_ratio(1.0, 0.0) is None

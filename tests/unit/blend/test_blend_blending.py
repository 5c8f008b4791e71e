"""Blending: the source inside the mask core, the target outside, nothing invalid in between."""

import numpy as np
import pytest

from facecraft.blend.blending import (
    BLEND_MODES,
    blend_feather,
    blend_multiband,
    blend_poisson,
    pyramid_levels,
)
from facecraft.types import Frame, Mask

H, W = 120, 140


def _images() -> tuple[Frame, Frame]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    target = np.stack([xx, yy, 255 - xx], axis=-1).astype(np.float64) + rng.normal(0, 3, (H, W, 3))
    source = np.full((H, W, 3), (200.0, 60.0, 90.0)) + rng.normal(0, 10, (H, W, 3))
    return np.clip(target, 0, 255).astype(np.uint8), np.clip(source, 0, 255).astype(np.uint8)


def _soft_disc(radius: float, ramp: float) -> Mask:
    yy, xx = np.mgrid[0:H, 0:W]
    distance = np.sqrt((xx - W / 2) ** 2 + (yy - H / 2) ** 2)
    alpha: Mask = np.clip((radius - distance) / ramp, 0.0, 1.0).astype(np.float32)
    return alpha


def _core_and_outside(radius: float, ramp: float, spread: float) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:H, 0:W]
    distance = np.sqrt((xx - W / 2) ** 2 + (yy - H / 2) ** 2)
    return distance < radius - ramp - spread, distance > radius + spread


def test_feather_gives_source_inside_target_outside_and_mixes_between() -> None:
    target, source = _images()
    alpha = _soft_disc(40.0, 12.0)
    out = blend_feather(target, source, alpha)
    assert out.shape == target.shape and out.dtype == np.uint8
    core, outside = _core_and_outside(40.0, 12.0, 0.0)
    assert np.array_equal(out[core], source[core])
    assert np.array_equal(out[outside], target[outside])
    half = np.abs(alpha - 0.5) < 0.02
    expected = 0.5 * (target[half].astype(np.float64) + source[half])
    assert np.abs(out[half] - expected).max() <= 4.0


def test_multiband_gives_source_inside_target_outside() -> None:
    target, source = _images()
    alpha = _soft_disc(40.0, 12.0)
    levels = 3
    out = blend_multiband(target, source, alpha, levels)
    assert out.shape == target.shape and out.dtype == np.uint8
    spread = 2.0 ** (levels + 1)
    core, outside = _core_and_outside(40.0, 12.0, spread)
    assert np.abs(out[core].astype(int) - source[core]).max() <= 2
    assert np.abs(out[outside].astype(int) - target[outside]).max() <= 2
    assert np.array_equal(blend_multiband(target, source, np.ones((H, W), np.float32), levels), source)
    assert np.array_equal(blend_multiband(target, source, np.zeros((H, W), np.float32), levels), target)


def test_multiband_support_keeps_garbage_outside_the_render_out() -> None:
    target, source = _images()
    alpha = _soft_disc(40.0, 12.0)
    support = _soft_disc(41.0, 1.0)
    garbage = source.copy()
    garbage[support == 0] = 0  # a renderer leaves black where it drew nothing
    reference = blend_multiband(target, source, alpha, 3, support)
    with_support = blend_multiband(target, garbage, alpha, 3, support)
    without = blend_multiband(target, garbage, alpha, 3)
    assert np.abs(with_support.astype(int) - reference).max() <= 2
    assert np.abs(without.astype(int) - reference).max() >= 6, "the wide bands would drag the black in"


def test_blends_never_produce_invalid_values_on_extreme_inputs() -> None:
    black = np.zeros((H, W, 3), np.uint8)
    white = np.full((H, W, 3), 255, np.uint8)
    alpha = _soft_disc(40.0, 3.0)
    for out in (
        blend_feather(black, white, alpha),
        blend_multiband(black, white, alpha, 2),
        blend_multiband(white, black, alpha, 2),
    ):
        assert out.dtype == np.uint8 and out.shape == (H, W, 3)
        core, outside = _core_and_outside(40.0, 3.0, 16.0)
        assert out[core].min() in (0, 255) and out[outside].min() in (0, 255)


def test_poisson_works_on_a_small_array_and_leaves_the_outside_alone() -> None:
    target, source = _images()
    alpha = _soft_disc(30.0, 8.0)
    out = blend_poisson(target, source, alpha)
    assert out.shape == target.shape and out.dtype == np.uint8
    _, outside = _core_and_outside(30.0, 8.0, 1.0)
    assert np.array_equal(out[outside], target[outside])
    core, _ = _core_and_outside(30.0, 8.0, 0.0)
    source_grad = np.diff(source[..., 0].astype(float), axis=1)[core[:, 1:]]
    out_grad = np.diff(out[..., 0].astype(float), axis=1)[core[:, 1:]]
    assert float(np.corrcoef(source_grad, out_grad)[0, 1]) > 0.9, "the source's gradients are cloned"
    touching = np.ones((H, W), np.float32)  # a mask up to the border needs the padding
    assert blend_poisson(target, source, touching).shape == target.shape
    assert np.array_equal(blend_poisson(target, source, np.zeros((H, W), np.float32)), target)


def test_shapes_must_agree_and_levels_are_sane() -> None:
    target, source = _images()
    with pytest.raises(ValueError, match="same size"):
        blend_feather(target, source[:-1], _soft_disc(40.0, 12.0))
    with pytest.raises(ValueError, match="levels"):
        blend_multiband(target, source, _soft_disc(40.0, 12.0), 0)
    assert BLEND_MODES == ("multiband", "feather", "poisson")
    assert pyramid_levels(19.0, (300, 300)) == 2
    assert pyramid_levels(200.0, (300, 300)) == 5
    assert pyramid_levels(200.0, (12, 300)) == 1
    assert pyramid_levels(1.0, (300, 300)) == 1

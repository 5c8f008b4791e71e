"""Colour transfer: LAB statistics over a mask, shading, detail, and smoothing across frames."""

import cv2
import numpy as np
import pytest

from facecraft.blend.color import (
    COLOR_MODES,
    ColorInputs,
    ColorMatcher,
    ColorMode,
    ColorSettings,
    ColorStats,
    blend_stats,
    high_pass,
    light_ratio,
    lightness_scale,
    masked_stats,
    shading_maps,
    texture_std,
    transfer_gains,
    transfer_lut,
    transfer_stats,
)
from facecraft.types import Frame, Mask

SIZE = 96


def _lab_noise(seed: int, mean: tuple[float, float, float], std: tuple[float, float, float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(0.0, 1.0, (SIZE, SIZE, 3)) * std + mean).astype(np.float32)


def _disc(radius: float = 36.0) -> Mask:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    inside = (xx - SIZE / 2) ** 2 + (yy - SIZE / 2) ** 2 <= radius**2
    disc: Mask = inside.astype(np.float32)
    return disc


def test_lab_transfer_matches_mean_and_std_over_the_mask_exactly() -> None:
    source = _lab_noise(1, (120.0, 140.0, 135.0), (20.0, 4.0, 6.0))
    target = _lab_noise(2, (160.0, 150.0, 128.0), (30.0, 6.0, 3.0))
    weights = _disc() * np.linspace(0.5, 1.0, SIZE, dtype=np.float32)[np.newaxis, :]  # soft weights too
    source[weights == 0] = 0.0  # what lies outside the mask must not matter
    moved = transfer_stats(source, masked_stats(source, weights), masked_stats(target, weights))
    got, want = masked_stats(moved, weights), masked_stats(target, weights)
    np.testing.assert_allclose(got.mean, want.mean, rtol=0, atol=1e-3)
    np.testing.assert_allclose(got.std, want.std, rtol=1e-4)


def test_contrast_limits_bound_the_scale_and_the_lut_applies_the_same_map() -> None:
    source = ColorStats(np.array([100.0, 128.0, 128.0]), np.array([10.0, 2.0, 8.0]))
    target = ColorStats(np.array([150.0, 130.0, 120.0]), np.array([40.0, 4.0, 2.0]))
    scale, offset = transfer_gains(source, target, ((0.7, 1.4), (0.6, 1.6), (0.6, 1.6)))
    np.testing.assert_allclose(scale, [1.4, 1.6, 0.6], rtol=1e-6)
    np.testing.assert_allclose(scale * source.mean + offset, target.mean, atol=1e-4)
    lut = transfer_lut(scale, offset)
    assert lut.shape == (256, 1, 3) and lut.dtype == np.uint8
    image = np.random.default_rng(3).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    exact = np.clip(image.astype(np.float32) * scale + offset, 0, 255)
    assert np.abs(cv2.LUT(image, lut).astype(np.float32) - exact).max() <= 0.5 + 1e-4


def test_masked_stats_refuses_an_empty_mask() -> None:
    with pytest.raises(ValueError, match="empty"):
        masked_stats(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.float32))


def test_shading_carries_a_constant_lighting_gain_and_a_colour_cast() -> None:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    source = np.stack([80.0 + xx + 0.5 * yy, 128.0 + 0 * xx, 130.0 + 0.1 * yy], axis=-1).astype(np.float32)
    target = source.copy()
    target[..., 0] *= 0.7
    target[..., 1] += 6.0
    weights = _disc()
    gain, shift = shading_maps(source, target, weights, sigma_px=6.0)
    inside = _disc(30.0) > 0
    np.testing.assert_allclose(gain[inside], 0.7, atol=1e-3)
    np.testing.assert_allclose(shift[..., 0][inside], 6.0, atol=1e-3)
    np.testing.assert_allclose(shift[..., 1][inside], 0.0, atol=1e-3)
    assert np.isfinite(gain).all() and np.isfinite(shift).all()
    same_gain, same_shift = shading_maps(source, source, weights, sigma_px=6.0)
    np.testing.assert_allclose(same_gain, 1.0, atol=1e-4)
    np.testing.assert_allclose(same_shift, 0.0, atol=1e-4)


def test_a_light_from_one_side_falls_on_the_face_whole_with_the_plane() -> None:
    """A flat-lit render under a target lit from its left: with the plane the gain carries the target's
    whole left-right ratio; the blur alone, wide enough to keep the target's relief out, carries less."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    source = np.stack([150.0 + 0 * xx, 140.0 + 0 * xx, 140.0 + 0 * yy], axis=-1).astype(np.float32)
    target = source.copy()
    target[..., 0] = 190.0 - 1.0 * xx  # lit from the image's left
    weights = _disc()
    inside = _disc(30.0) > 0
    left, right = inside & (xx < SIZE / 2 - 15), inside & (xx > SIZE / 2 + 15)
    wanted = float(target[..., 0][left].mean() / target[..., 0][right].mean())
    wide = 0.5 * SIZE
    with_plane, _ = shading_maps(source, target, weights, sigma_px=wide, planes=True)
    blur_only, _ = shading_maps(source, target, weights, sigma_px=wide)
    got = float(with_plane[left].mean() / with_plane[right].mean())
    assert got == pytest.approx(wanted, rel=0.02)
    assert float(blur_only[left].mean() / blur_only[right].mean()) < 1.0 + 0.8 * (wanted - 1.0)
    flat_gain, _ = shading_maps(source, source, weights, sigma_px=wide, planes=True)
    np.testing.assert_allclose(flat_gain, 1.0, atol=1e-3)


def test_a_side_lit_render_on_an_evenly_lit_target_is_evened_whole_with_the_planes() -> None:
    """A render lit from its right (a side-lit source photo) under an evenly lit target: with the planes
    the gain takes the render's whole left-right ratio away; the wide blur alone leaves much of it."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    target = np.stack([170.0 + 0 * xx, 140.0 + 0 * xx, 140.0 + 0 * yy], axis=-1).astype(np.float32)
    source = target.copy()
    source[..., 0] = 100.0 + 1.2 * xx  # lit from the image's right
    weights = _disc()
    inside = _disc(30.0) > 0
    left, right = inside & (xx < SIZE / 2 - 15), inside & (xx > SIZE / 2 + 15)
    wide = 0.5 * SIZE

    def evened(planes: bool) -> float:
        gain, _ = shading_maps(source, target, weights, sigma_px=wide, planes=planes)
        lit = source[..., 0] * gain
        return float(lit[left].mean() / lit[right].mean())

    assert evened(True) == pytest.approx(1.0, abs=0.02)
    assert evened(False) < 0.9


def test_a_colour_cast_across_the_render_goes_whole_with_the_planes() -> None:
    """The render's chroma drifting across the face (a lamp's warm cast on one side of the photo) under a
    target of one even hue: with the planes the shift evens it; the wide blur alone leaves much of it."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    target = np.stack([170.0 + 0 * xx, 140.0 + 0 * xx, 140.0 + 0 * yy], axis=-1).astype(np.float32)
    source = target.copy()
    source[..., 2] = 125.0 + 0.4 * xx  # b* (yellowness) rising to the image's right
    weights = _disc()
    inside = _disc(30.0) > 0
    left, right = inside & (xx < SIZE / 2 - 15), inside & (xx > SIZE / 2 + 15)

    def spread(planes: bool) -> float:
        _, shift = shading_maps(source, target, weights, sigma_px=0.5 * SIZE, planes=planes)
        b = source[..., 2] + shift[..., 1]
        return float(b[right].mean() - b[left].mean())

    drift = float(source[..., 2][right].mean() - source[..., 2][left].mean())
    assert abs(spread(True)) < 0.05 * drift
    assert spread(False) > 0.3 * drift


def test_high_pass_keeps_fine_detail_and_drops_the_flat_part() -> None:
    flat = np.full((40, 40), 90.0, np.float32)
    assert np.abs(high_pass(flat, 2.0)).max() < 1e-4
    rng = np.random.default_rng(4)
    grain = rng.normal(0.0, 5.0, (40, 40)).astype(np.float32)
    detail = high_pass(flat + grain, 2.0)
    assert float(np.corrcoef(detail.ravel(), grain.ravel())[0, 1]) > 0.9


def _uniform_bgr(bgr: tuple[int, int, int]) -> Frame:
    return np.full((SIZE, SIZE, 3), bgr, np.uint8)


def _skin_mean_lab(image_bgr: Frame, weights: Mask) -> np.ndarray:
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    return masked_stats(lab, weights).mean


@pytest.mark.parametrize("mode", ["lab", "shading"])
def test_matcher_gives_the_rendered_face_the_target_tone(mode: str) -> None:
    rng = np.random.default_rng(5)
    source = np.clip(_uniform_bgr((90, 110, 150)) + rng.normal(0, 6, (SIZE, SIZE, 3)), 0, 255).astype(
        np.uint8
    )
    target = _uniform_bgr((150, 170, 220))
    skin = _disc()
    matcher = ColorMatcher(ColorSettings(mode=mode, detail_weight=0.0))  # type: ignore[arg-type]
    out = matcher.match(ColorInputs(source, target, skin, face_px=80.0, track_id=None))
    assert out.shape == source.shape and out.dtype == np.uint8
    np.testing.assert_allclose(_skin_mean_lab(out, skin), _skin_mean_lab(target, skin), atol=2.0)
    assert not np.allclose(_skin_mean_lab(source, skin), _skin_mean_lab(target, skin), atol=10.0)


def test_matcher_in_mode_none_without_detail_returns_the_render_as_is() -> None:
    source, target = _uniform_bgr((90, 110, 150)), _uniform_bgr((150, 170, 220))
    matcher = ColorMatcher(ColorSettings(mode="none", detail_weight=0.0))
    assert matcher.match(ColorInputs(source, target, _disc(), 80.0, 1)) is source


def test_detail_weight_carries_the_target_grain() -> None:
    rng = np.random.default_rng(6)
    grain = rng.normal(0.0, 8.0, (SIZE, SIZE, 1))
    source = _uniform_bgr((120, 130, 160))
    target = np.clip(source + grain, 0, 255).astype(np.uint8)
    inputs = ColorInputs(source, target, _disc(), 80.0, None)
    plain = ColorMatcher(ColorSettings(mode="none", detail_weight=0.0)).match(inputs)
    detailed = ColorMatcher(ColorSettings(mode="none", detail_weight=1.0)).match(inputs)
    inside = _disc(30.0) > 0
    assert float(plain[..., 1][inside].std()) < 1.0
    carried = detailed[..., 1].astype(np.float32)[inside]
    assert float(carried.std()) > 3.0
    assert float(np.corrcoef(carried, target[..., 1].astype(np.float32)[inside])[0, 1]) > 0.6


def test_texture_std_measures_texture_and_not_the_light_across_the_face() -> None:
    skin = _disc()
    inside = skin > 0
    _, xx = np.mgrid[0:SIZE, 0:SIZE]
    lit = (100.0 + 1.5 * xx).astype(np.float32)  # light falling off across the face: no texture
    assert float(lit[inside].std()) > 20.0
    assert texture_std(lit, skin, 4.0) < 2.0  # (a little at the disc's rim, where a blur bends a slope)
    grain = np.random.default_rng(8).normal(0.0, 5.0, (SIZE, SIZE)).astype(np.float32)
    assert texture_std(lit + grain, skin, 4.0) == pytest.approx(5.0, rel=0.15)
    with pytest.raises(ValueError, match="empty"):
        texture_std(lit, np.zeros_like(skin), 4.0)


def _textured_bgr(seed: int, amplitude: float) -> Frame:
    """A skin tone with texture of the given amplitude (8-bit levels) and the same light falling across."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 1.0, (SIZE, SIZE)).astype(np.float32)
    texture = np.asarray(cv2.GaussianBlur(noise, (0, 0), 1.0), dtype=np.float32)
    texture *= np.float32(amplitude / float(texture.std()))
    _, xx = np.mgrid[0:SIZE, 0:SIZE]
    light = np.float32(0.6) + np.float32(0.4 / SIZE) * xx.astype(np.float32)
    base = np.array([120.0, 140.0, 185.0], dtype=np.float32)
    bgr = (base + texture[..., np.newaxis]) * light[..., np.newaxis]
    out: Frame = np.clip(bgr, 0, 255).astype(np.uint8)
    return out


def _texture_l(image_bgr: Frame, skin: Mask) -> float:
    lightness = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    return texture_std(lightness, skin, 3.0)


@pytest.mark.parametrize(("face_px", "track_id"), [(60.0, None), (230.0, 3)])
def test_shading_lowers_a_crisp_render_to_the_footage_texture_contrast_and_never_raises_it(
    face_px: float, track_id: int | None
) -> None:
    """At the working scale as it is (60 px) and shrunk to it (230 px), untracked and tracked."""
    skin = _disc()
    settings = ColorSettings(mode="shading", detail_weight=0.0, texture_sigma=0.05)
    crisp, soft, flat = _textured_bgr(1, 16.0), _textured_bgr(2, 8.0), _textured_bgr(2, 4.0)
    lowered = ColorMatcher(settings).match(ColorInputs(crisp, flat, skin, face_px, track_id))
    ratio = _texture_l(lowered, skin) / _texture_l(crisp, skin)
    floor = settings.texture_contrast_min
    assert ratio == pytest.approx(floor, abs=0.07)  # the target has a quarter of the texture: the floor holds
    raised = ColorMatcher(settings).match(ColorInputs(soft, crisp, skin, face_px, track_id))
    assert _texture_l(raised, skin) / _texture_l(soft, skin) == pytest.approx(1.0, abs=0.08)
    off = ColorSettings(mode="shading", detail_weight=0.0, texture_contrast_min=1.0)
    kept = ColorMatcher(off).match(ColorInputs(crisp, soft, skin, face_px, track_id))
    assert _texture_l(kept, skin) / _texture_l(crisp, skin) == pytest.approx(1.0, abs=0.08)


def test_shading_light_off_keeps_the_render_lightness_and_still_carries_the_colour_cast() -> None:
    """A target lit from the right with a blue cast: the light falls on the render only with
    ``shading_light``; the cast and the mean tone come along either way."""
    skin = _disc()
    render = _uniform_bgr((110, 130, 170))
    _, xx = np.mgrid[0:SIZE, 0:SIZE]
    light = (0.55 + 0.9 * xx / SIZE)[..., np.newaxis]
    target = np.clip(np.asarray(_uniform_bgr((170, 130, 120)), np.float32) * light, 0, 255).astype(np.uint8)

    def left_right(image: Frame) -> float:
        lightness = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
        return float(lightness[40:56, 60:70].mean() - lightness[40:56, 26:36].mean())

    lit, unlit = (
        ColorMatcher(ColorSettings(mode="shading", detail_weight=0.0, shading_light=on)).match(
            ColorInputs(render, target, skin, face_px=80.0, track_id=None)
        )
        for on in (True, False)
    )
    assert left_right(target) > 30.0
    assert left_right(lit) > 15.0 and abs(left_right(unlit)) < 3.0
    for out in (lit, unlit):
        np.testing.assert_allclose(_skin_mean_lab(out, skin)[1:], _skin_mean_lab(target, skin)[1:], atol=3.0)
    assert abs(_skin_mean_lab(unlit, skin)[0] - _skin_mean_lab(target, skin)[0]) < 3.0


def test_statistics_follow_a_step_in_the_target_gradually_per_track() -> None:
    skin = _disc()
    source = _uniform_bgr((100, 120, 160))
    dim, bright = _uniform_bgr((90, 100, 130)), _uniform_bgr((170, 185, 230))
    matcher = ColorMatcher(ColorSettings(mode="lab", update_every=1, smoothing=0.35, detail_weight=0.0))
    for _ in range(5):
        settled = matcher.match(ColorInputs(source, dim, skin, 80.0, track_id=7))
    lightness = [_skin_mean_lab(settled, skin)[0]]
    for _ in range(12):
        out = matcher.match(ColorInputs(source, bright, skin, 80.0, track_id=7))
        lightness.append(_skin_mean_lab(out, skin)[0])
    goal = _skin_mean_lab(bright, skin)[0]
    steps = np.diff(lightness)
    assert np.all(steps > -0.5), "the tone moves one way towards the new target"
    assert steps[0] < 0.5 * (goal - lightness[0]), "the first frame after the step goes only part of the way"
    assert abs(lightness[-1] - goal) < 0.05 * (goal - lightness[0]) + 1.0, "and it gets there"
    fresh = ColorMatcher(ColorSettings(mode="lab", detail_weight=0.0))
    jump = fresh.match(ColorInputs(source, bright, skin, 80.0, track_id=None))
    assert abs(_skin_mean_lab(jump, skin)[0] - goal) < 1.5, "without a track there is nothing to smooth"


def test_statistics_are_measured_every_few_frames_and_reset_forgets_tracks() -> None:
    skin = _disc()
    source = _uniform_bgr((100, 120, 160))
    matcher = ColorMatcher(ColorSettings(mode="lab", update_every=3, smoothing=1.0, detail_weight=0.0))
    matcher.match(ColorInputs(source, _uniform_bgr((90, 100, 130)), skin, 80.0, 1))
    first = matcher.tracked_stats(1)
    assert first is not None
    matcher.match(ColorInputs(source, _uniform_bgr((170, 185, 230)), skin, 80.0, 1))
    second = matcher.tracked_stats(1)
    assert second is not None and np.array_equal(second[1].mean, first[1].mean), "not measured on frame 2"
    matcher.match(ColorInputs(source, _uniform_bgr((170, 185, 230)), skin, 80.0, 1))
    matcher.match(ColorInputs(source, _uniform_bgr((170, 185, 230)), skin, 80.0, 1))
    fourth = matcher.tracked_stats(1)
    assert fourth is not None and fourth[1].mean[0] > first[1].mean[0] + 20, "measured again on frame 4"
    matcher.reset()
    assert matcher.tracked_stats(1) is None


def test_blend_stats_moves_the_given_fraction() -> None:
    a = ColorStats(np.zeros(3, np.float32), np.ones(3, np.float32))
    b = ColorStats(np.full(3, 10.0, np.float32), np.full(3, 3.0, np.float32))
    mixed = blend_stats(a, b, 0.25)
    np.testing.assert_allclose(mixed.mean, 2.5)
    np.testing.assert_allclose(mixed.std, 1.5)


def test_color_settings_refuse_nonsense() -> None:
    assert COLOR_MODES == ("lab", "shading", "none")
    with pytest.raises(ValueError, match="colour mode"):
        ColorSettings(mode="sepia")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="update_every"):
        ColorSettings(update_every=0)
    with pytest.raises(ValueError, match="smoothing"):
        ColorSettings(smoothing=0.0)
    with pytest.raises(ValueError, match="texture_contrast_min"):
        ColorSettings(texture_contrast_min=0.0)
    with pytest.raises(ValueError, match="texture_sigma"):
        ColorSettings(texture_sigma=0.0)
    assert ColorSettings(mode="lab").ratio_limits()[0] == (0.7, 1.4)
    assert ColorSettings(texture_contrast_min=0.8).ratio_limits()[0] == (0.8, 1.0)


@pytest.mark.parametrize("mode", ["lab", "shading"])
def test_chroma_contrast_is_lowered_to_the_targets_but_never_raised(mode: ColorMode) -> None:
    """A source whose skin hue varies less than the target's keeps its lips' distance from the skin's hue
    (scaled up, coral lips became neon red); one that varies more is brought down."""
    limits = ColorSettings(mode=mode).ratio_limits()
    source = ColorStats(np.array([150.0, 140.0, 140.0]), np.array([10.0, 2.0, 6.0]))
    target = ColorStats(np.array([150.0, 145.0, 138.0]), np.array([10.0, 4.0, 3.0]))
    scale, offset = transfer_gains(source, target, limits)
    np.testing.assert_allclose(scale[1:], [1.0, 0.6], rtol=1e-6)
    lips = np.array([120.0, 172.0, 155.0], dtype=np.float32)
    moved = lips * scale + offset
    assert moved[1] - target.mean[1] == pytest.approx(lips[1] - source.mean[1], abs=1e-4)


def _stats_l(mean: float, std: float) -> ColorStats:
    return ColorStats(np.array([mean, 128.0, 128.0]), np.array([std, 4.0, 4.0]))


def test_a_dimmer_light_lowers_the_lightness_contrast_by_its_ratio() -> None:
    render = _stats_l(200.0, 10.0)
    assert light_ratio(render, _stats_l(200.0, 10.0)) == pytest.approx(1.0)
    dim = light_ratio(render, _stats_l(150.0, 10.0))
    assert dim == pytest.approx((150.0 + 40.8) / (200.0 + 40.8))  # L* + 16 follows the cube root of the light
    assert lightness_scale(render, _stats_l(150.0, 10.0), 0.6) == pytest.approx(dim)  # the light decides
    assert lightness_scale(render, _stats_l(150.0, 6.0), 0.6) == pytest.approx(0.6)  # the texture does
    assert lightness_scale(render, _stats_l(190.0, 8.0), 0.6) == pytest.approx(0.8)
    assert lightness_scale(render, _stats_l(60.0, 10.0), 0.6) == pytest.approx(0.6)  # never below the floor
    assert lightness_scale(render, _stats_l(240.0, 30.0), 0.6) == pytest.approx(1.0)  # never raised
    assert lightness_scale(render, _stats_l(150.0, 10.0), 1.0) == pytest.approx(1.0)  # turned off


def _lab_to_bgr(lab: np.ndarray) -> Frame:
    out: Frame = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    return out


def test_a_dark_feature_keeps_its_depth_relative_to_the_skin_under_a_dimmer_light() -> None:
    """A band 60 levels below the render's skin, onto a dimmer but grainier target: shifted only, the band
    would keep all 60 levels below a darker skin (d30.jpg's eye make-up on d3.mp4: dark sockets)."""
    skin = _disc()
    render = np.zeros((SIZE, SIZE, 3), dtype=np.float32)
    render[...] = (200.0, 136.0, 140.0)
    band = slice(44, 52)
    render[band, :, 0] = 140.0
    skin[band] = 0.0  # a feature (brows, lashes, lips): not skin
    grain = np.random.default_rng(4).normal(0.0, 20.0, (SIZE, SIZE)).astype(np.float32)
    target = np.zeros_like(render)
    target[...] = (150.0, 140.0, 146.0)
    target[..., 0] += np.asarray(cv2.GaussianBlur(grain, (0, 0), 1.0), dtype=np.float32) * 2.0
    settings = ColorSettings(mode="shading", detail_weight=0.0)
    out = ColorMatcher(settings).match(ColorInputs(_lab_to_bgr(render), _lab_to_bgr(target), skin, 80.0))
    lightness = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    depth = float(lightness[30:38, 40:56].mean() - lightness[band, 40:56].mean())
    expected = 60.0 * (150.0 + 40.8) / (200.0 + 40.8)
    assert depth == pytest.approx(expected, abs=5.0)
    assert abs(float(lightness[30:38, 40:56].mean()) - 150.0) < 8.0  # the skin takes the target's tone

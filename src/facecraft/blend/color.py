"""Colour transfer from the target onto the rendered face: tone, lighting and fine detail.

Three layers:

- tone: mean and standard deviation per LAB channel over the skin (no eyes, brows, lips, mouth) of the
  rendered face are mapped onto the target's (Reinhard-style transfer, with the contrast change bounded).
  Statistics are taken every few frames per track and smoothed exponentially, so the tone never jumps
  from one frame to the next. With shading, the lightness's spread is measured on the skin's texture
  (what a blur of ``texture_sigma`` removes), not on its light, and only ever lowered: a crisp, made-up
  source photo is brought down to the footage's softer contrast (``texture_contrast_min``), and a dimmer
  target lowers it by its light's ratio too (``lightness_scale``).
- shading (colour mode ``shading``): heavily blurred lightness and chroma of the target and of the render
  over the skin (normalised convolutions, so eyes and mouth are filled in from the skin around them) give
  a lightness gain and a chroma shift: the target's light and colour casts fall on the source's texture,
  and the source photo's own casts (a green screen's spill, a coloured lamp) go.
- detail (``detail_weight``): a high-pass of the target's lightness over the skin is added to the
  rendered face, so an upscaled source carries the target's pores and camera grain instead of looking
  plastic.

Work is done in OpenCV's 8-bit LAB (L, a, b scaled to 0..255), with per-channel lookup tables for the
tone and low-resolution images for the statistics and the shading, which keeps a 300-pixel face at about
two milliseconds.
"""

from dataclasses import dataclass, field
from typing import Literal, get_args

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import FloatArray, Frame, Mask

ColorMode = Literal["lab", "shading", "none"]
"""``lab``: tone from LAB statistics over the skin; ``shading``: that plus the target's low-frequency
light and colour casts; ``none``: the rendered colours as they are (fine detail is still carried if
``detail_weight`` asks for it)."""
COLOR_MODES: tuple[str, ...] = get_args(ColorMode)

CHROMA_STD_RATIO_LIMITS: tuple[tuple[float, float], ...] = ((0.6, 1.0), (0.6, 1.0))
"""The a, b contrast limits: lowered to the target's, never raised. The skin's chroma spread is mostly
blotchiness and casts, and scaling it up scales everything else's distance from the skin's hue as well:
d30.jpg's coral lips became neon red on s18.mp4, whose pinker skin varies more (lips a* 182 against
171 in the photo, 2026-11-27; identity unchanged within noise on the five pairs, s18's flicker 1.21 ->
1.18)."""
STD_RATIO_LIMITS: tuple[tuple[float, float], ...] = ((0.7, 1.4), *CHROMA_STD_RATIO_LIMITS)
"""Per LAB channel, the contrast is never scaled beyond these factors (``lab`` mode; with shading, the
lightness's come from ``texture_contrast_min``). Skin statistics mostly measure lighting and a little
texture: a flat-lit source under a contrasty light would otherwise get its blemishes and its eyes'
colour amplified two or three times."""
_GAIN_LIMITS = (0.4, 2.5)
"""Shading gains are clipped here (a dark hole in the rendered face must not become a bright spot)."""
DETAIL_LIMIT = 8.0
"""Carried detail is compressed softly towards this many 8-bit levels: pores and grain (a few levels) pass,
while strong edges of the target's own features (a nose line where the render's nose is elsewhere) fade
instead of ghosting."""
_MIN_WEIGHT = 1e-3
_SHADING_MAX_SIGMA_PX = 6.0
"""Shading blurs wider than this (pixels at the working scale) run at half the resolution."""


@dataclass(frozen=True, slots=True)
class ColorStats:
    """Per-channel mean and standard deviation (3 channels, in the image's units)."""

    mean: FloatArray
    std: FloatArray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        std = np.asarray(self.std, dtype=np.float32).reshape(-1)
        if mean.shape != std.shape:
            raise ValueError(f"mean and std must match, got {mean.shape} and {std.shape}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)


@dataclass(frozen=True, slots=True)
class ColorSettings:
    """How colours are matched. Sizes are fractions of the face size.

    update_every: statistics are measured every this many frames of a track (1 = every frame).
    smoothing: weight of a new measurement in the running statistics (1 = no smoothing).
    shading_sigma: blur of the lighting estimate; larger keeps less of the target's face shape.
    detail_weight: how much of the target's high-pass is added (0 = none).
    detail_sigma: the high-pass keeps structure finer than this.
    work_face_px: statistics and shading are computed at a scale where the face is about this big.
    texture_sigma, texture_contrast_min (``shading`` only): the lightness contrast of the render's skin
        texture (what a blur of ``texture_sigma`` removes) is lowered to the target's, and to the ratio of
        the target's light to the render's where the target is dimmer (``lightness_scale``), never below
        ``texture_contrast_min`` of its own and never raised; 1 turns it off. The whole lightness is
        scaled, features included: a sharp photo's dark lashes and red lips against footage of a softer
        face changed more pixels from frame to frame than the footage itself (d30.jpg onto d18.mp4:
        flicker 1.20 times the target's; 0.99 with the contrast matched, identity 0.41 -> 0.43). The floor
        is 0.55: d18's texture is 0.52 of d30's, and once open mouths were drawn as open as the footage's
        their moving red lips took its flicker to 1.09-1.11 with a floor of 0.6; 1.08 with 0.55, identity
        0.41-0.42 (0.39-0.42 with 0.6); 1.05 with 0.5, but identity 0.42-0.44 (2026-11-28, whole clips). No
        other benchmark pair reaches the floor.
    shading_light (``shading`` only): lay the target's low-frequency light on the face as a lightness
        gain. Off, shading carries only the colour casts: for a render already lit like the target (a
        trained model decodes the target frame's own light), where the gain only adds the target's face
        relief back (d3 onto d10, GPU model: identity 0.557 with it, 0.536 without).
    light_plane (``shading`` only): the target's light, and the render's own, are each taken as a plane
        over the skin plus the blur of the rest (``shading_maps``' ``planes``), so a light from one side
        falls on the face whole and the source photo's side light goes whole. On the five benchmark pairs
        identity and flicker moved within their noise (2026-11-27 for the target's plane, 2026-11-28 for
        the render's); by eye the face sits in s18.mp4's side light instead of looking flat and pale in
        it, and d8.jpg's face is much less dark down one half on evenly lit footage.
    """

    mode: ColorMode = "shading"
    update_every: int = 3
    smoothing: float = 0.35
    shading_sigma: float = 0.08
    detail_weight: float = 0.6
    detail_sigma: float = 0.012
    work_face_px: float = 64.0
    texture_sigma: float = 0.05
    texture_contrast_min: float = 0.55
    shading_light: bool = True
    light_plane: bool = True

    def __post_init__(self) -> None:
        if self.mode not in COLOR_MODES:
            raise ValueError(f"unknown colour mode '{self.mode}'; choose one of {', '.join(COLOR_MODES)}")
        if self.update_every < 1:
            raise ValueError(f"update_every must be at least 1, got {self.update_every}")
        if not 0.0 < self.smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], got {self.smoothing}")
        if not 0.0 <= self.detail_weight <= 2.0:
            raise ValueError(f"detail_weight must be in [0, 2], got {self.detail_weight}")
        if self.shading_sigma <= 0.0 or self.detail_sigma <= 0.0:
            raise ValueError("shading_sigma and detail_sigma must be above 0")
        if self.work_face_px < 16.0:
            raise ValueError(f"work_face_px must be at least 16, got {self.work_face_px}")
        if self.texture_sigma <= 0.0:
            raise ValueError(f"texture_sigma must be above 0, got {self.texture_sigma}")
        if not 0.0 < self.texture_contrast_min <= 1.0:
            raise ValueError(f"texture_contrast_min must be in (0, 1], got {self.texture_contrast_min}")

    def ratio_limits(self) -> tuple[tuple[float, float], ...]:
        """Per LAB channel, the bounds of the contrast scale in this mode."""
        if self.mode == "shading":
            return ((self.texture_contrast_min, 1.0), *CHROMA_STD_RATIO_LIMITS)
        return STD_RATIO_LIMITS


# --- pure functions ------------------------------------------------------------------------------


def masked_stats(image: npt.ArrayLike, weights: Mask) -> ColorStats:
    """Weighted mean and standard deviation of each channel of an H x W x C image."""
    values = np.asarray(image, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if values.shape[:2] != w.shape:
        raise ValueError(f"image {values.shape[:2]} and weights {w.shape} must be the same size")
    total = float(w.sum())
    if total <= _MIN_WEIGHT:
        raise ValueError("the mask is empty; cannot measure colour statistics")
    flat = values.reshape(-1, values.shape[2])
    wf = w.reshape(-1, 1)
    mean = (flat * wf).sum(axis=0) / total
    variance = (((flat - mean) ** 2) * wf).sum(axis=0) / total
    return ColorStats(mean.astype(np.float32), np.sqrt(variance).astype(np.float32))


def texture_std(lightness: FloatArray, weights: Mask, sigma_px: float) -> float:
    """Weighted standard deviation of the lightness's texture: what a (normalised, weighted) blur of
    ``sigma_px`` removes, so the light's gradients across the face do not count."""
    values = np.asarray(lightness, dtype=np.float32)
    low, _ = masked_low_pass(values, weights, sigma_px)
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if total <= _MIN_WEIGHT:
        raise ValueError("the mask is empty; cannot measure texture contrast")
    fine = (values - low).astype(np.float64)
    return float(np.sqrt((w * fine * fine).sum() / total))


def transfer_gains(
    source: ColorStats, target: ColorStats, ratio_limits: tuple[tuple[float, float], ...] | None = None
) -> tuple[FloatArray, FloatArray]:
    """Per-channel (scale, offset) so that ``scale * x + offset`` moves source statistics onto target's.

    ``ratio_limits``: per channel (low, high) bounds of the contrast scale; None matches exactly.
    """
    ratio = target.std / np.maximum(source.std, np.float32(1e-6))
    if ratio_limits is not None:
        low = np.array([limits[0] for limits in ratio_limits], dtype=np.float32)
        high = np.array([limits[1] for limits in ratio_limits], dtype=np.float32)
        ratio = np.minimum(np.maximum(ratio, low), high)
    scale = ratio.astype(np.float32)
    offset = (target.mean - scale * source.mean).astype(np.float32)
    return scale, offset


LIGHTNESS_OFFSET = 16.0 * 255.0 / 100.0
"""CIE L* is 116 Y^(1/3) - 16, so in OpenCV's 8-bit L, ``L + LIGHTNESS_OFFSET`` is proportional to the cube
root of the luminance: a change of light multiplies it (above L*'s linear toe)."""


def light_ratio(source: ColorStats, target: ColorStats) -> float:
    """How much dimmer (under 1) or brighter the target's skin is than the render's, as the factor a change of
    light puts on ``L + LIGHTNESS_OFFSET`` (8-bit LAB means)."""
    source_level = max(float(source.mean[0]) + LIGHTNESS_OFFSET, 1.0)
    return (float(target.mean[0]) + LIGHTNESS_OFFSET) / source_level


def lightness_scale(source: ColorStats, target: ColorStats, contrast_min: float) -> float:
    """The lightness contrast scale of the tone transfer with shading (``texture_contrast_min``): the
    texture spreads' ratio, and never more than the light's ratio, within [``contrast_min``, 1].

    A dimmer light scales every lightness difference down with it; shifted only, a dark feature kept its
    full depth below a much darker skin. d30.jpg onto d3.mp4 (skin L 200 -> 88): her eye make-up
    became dark sockets, her coral lips maroon, and the swapped face changed more from frame to frame
    than the target (flicker 1.09; 0.88 with the light's ratio, identity unchanged).
    """
    texture = float(target.std[0]) / max(float(source.std[0]), 1e-6)
    return float(np.clip(min(texture, light_ratio(source, target)), contrast_min, 1.0))


def transfer_stats(
    image: npt.ArrayLike,
    source: ColorStats,
    target: ColorStats,
    ratio_limits: tuple[tuple[float, float], ...] | None = None,
) -> FloatArray:
    """The image (float, any channel units) with each channel mapped from source to target statistics."""
    scale, offset = transfer_gains(source, target, ratio_limits)
    return (np.asarray(image, dtype=np.float32) * scale + offset).astype(np.float32)


def transfer_lut(scale: FloatArray, offset: FloatArray) -> npt.NDArray[np.uint8]:
    """A 256 x 1 x 3 ``cv2.LUT`` table applying ``scale * x + offset`` per channel to 8-bit images."""
    levels = np.arange(256, dtype=np.float32)[:, np.newaxis] * scale + offset
    return np.clip(np.round(levels), 0, 255).astype(np.uint8).reshape(256, 1, 3)


def blend_stats(previous: ColorStats, measured: ColorStats, weight: float) -> ColorStats:
    """Exponential smoothing: ``previous`` moved ``weight`` of the way towards ``measured``."""
    w = np.float32(weight)
    return ColorStats(
        previous.mean + w * (measured.mean - previous.mean), previous.std + w * (measured.std - previous.std)
    )


def gaussian_blur(image: FloatArray, sigma_px: float) -> FloatArray:
    """Gaussian blur with a kernel of 3 sigma each side; edges replicated."""
    if sigma_px < 0.3:
        return image
    ksize = 2 * int(np.ceil(3.0 * sigma_px)) + 1
    blurred = cv2.GaussianBlur(image, (ksize, ksize), sigma_px, borderType=cv2.BORDER_REPLICATE)
    return np.asarray(blurred, dtype=np.float32)


def masked_low_pass(channel: FloatArray, weights: Mask, sigma_px: float) -> tuple[FloatArray, FloatArray]:
    """Normalised convolution: (blur of channel(s) over the weights, blur of the weights).

    ``channel`` is H x W or H x W x C; ``weights`` H x W.

    Where the weights are 0 (eyes, mouth, background) the result is filled from the weighted pixels
    around; the second array says how much support each pixel had.
    """
    w = np.asarray(weights, dtype=np.float32)
    values = np.asarray(channel, dtype=np.float32)
    support = gaussian_blur(w, sigma_px)
    if values.ndim == 3:
        low = gaussian_blur(values * w[..., np.newaxis], sigma_px)
        return (low / np.maximum(support, np.float32(_MIN_WEIGHT))[..., np.newaxis]).astype(
            np.float32
        ), support
    low = gaussian_blur(values * w, sigma_px)
    return (low / np.maximum(support, np.float32(_MIN_WEIGHT))).astype(np.float32), support


def shading_maps(
    source_lab: FloatArray, target_lab: FloatArray, weights: Mask, sigma_px: float, planes: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Low-frequency corrections that lay the target's light and colour casts on the rendered face.

    Returns (gain H x W, shift H x W x 2): multiply the rendered lightness by ``gain`` and add ``shift`` to
    its a, b channels. Both come from normalised convolutions over ``weights`` (the skin), so eyes, lips
    and mouth are filled in from the skin around them and keep their own contrast. A constant lighting
    gain (``target L = g * source L``) gives ``g`` everywhere the weights reach; far from every weighted
    pixel the corrections fade to none. Colour casts of the source photo (a green screen's spill, a
    coloured lamp) go, and the target's come on.

    planes: each light, the target's and the render's, is taken as a plane over the skin (``skin_plane``)
    plus the blur of what is left. A blur wide enough to keep the target's own face relief out carries
    only part of a light falling from one side (s18.mp4's window: its shaded cheek 42 levels of L darker
    than its lit one; 14 in the swapped face with the blur alone, 37 with the plane), and takes only part
    of the source photo's own side light away (d8.jpg, lit from the image's right: its shaded half about
    100 levels darker; on a frame of d10.mp4, whose face is lit nearly evenly (its left half 17 levels
    darker than its right), the swapped face's left half was 63 darker with the blur alone, 31 with the
    planes).
    """
    if source_lab.shape != target_lab.shape or source_lab.ndim != 3 or source_lab.shape[2] != 3:
        raise ValueError(
            f"source and target must be H x W x 3 LAB, got {source_lab.shape} and {target_lab.shape}"
        )
    if planes:  # each light's broad gradient whole, the blur for what is left of it
        both = skin_plane(np.dstack([target_lab, source_lab]), weights)  # one fit, the same weights
        target_plane, source_plane = both[..., :3], both[..., 3:]
        low_target, support = masked_low_pass(target_lab - target_plane, weights, sigma_px)
        low_target += target_plane
        low_source = _normalised(source_lab - source_plane, weights, support, sigma_px)
        low_source += source_plane
    else:
        low_target, support = masked_low_pass(target_lab, weights, sigma_px)
        low_source = _normalised(source_lab, weights, support, sigma_px)
    confidence = np.clip(support * np.float32(20.0), 0.0, 1.0)
    gain = low_target[..., 0] / np.maximum(low_source[..., 0], np.float32(1.0))
    gain = np.clip(gain, _GAIN_LIMITS[0], _GAIN_LIMITS[1])
    gain = np.float32(1.0) + confidence * (gain - np.float32(1.0))
    shift = (low_target[..., 1:] - low_source[..., 1:]) * confidence[..., np.newaxis]
    return gain.astype(np.float32), shift.astype(np.float32)


def skin_plane(values: FloatArray, weights: Mask) -> FloatArray:
    """Per channel of an H x W x C image, the least-squares plane ``a + b x + c y`` through it weighted by
    ``weights``, drawn over the whole image (a flat image where the weights are too few to tilt it)."""
    height, width = weights.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    design = np.column_stack(
        [
            np.ones(height * width),
            (xs.ravel() - width / 2) / max(width, 1),
            (ys.ravel() - height / 2) / max(height, 1),
        ]
    )
    weighted = design * weights.astype(np.float64).reshape(-1, 1)
    normal = design.T @ weighted + _MIN_WEIGHT * np.eye(3)  # a tiny ridge: no weights, no tilt
    rhs = weighted.T @ values.reshape(height * width, -1).astype(np.float64)
    plane = design @ np.linalg.solve(normal, rhs)
    out: FloatArray = plane.reshape(values.shape).astype(np.float32)
    return out


def _normalised(values: FloatArray, weights: Mask, support: FloatArray, sigma_px: float) -> FloatArray:
    low = gaussian_blur(values * weights[..., np.newaxis], sigma_px)
    return (low / np.maximum(support, np.float32(_MIN_WEIGHT))[..., np.newaxis]).astype(np.float32)


def _soft_limit(values: FloatArray, limit: float) -> FloatArray:
    """``x / (1 + |x| / limit)``: about x for small x, never beyond ``limit``."""
    scale = np.abs(values)
    scale *= np.float32(1.0 / limit)
    scale += np.float32(1.0)
    return (values / scale).astype(np.float32)


def high_pass(channel: FloatArray, sigma_px: float) -> FloatArray:
    """The channel minus its Gaussian blur: detail finer than ``sigma_px``."""
    values = np.asarray(channel, dtype=np.float32)
    return (values - gaussian_blur(values, sigma_px)).astype(np.float32)


# --- the stateful matcher -----------------------------------------------------------------------


@dataclass(slots=True)
class _TrackColor:
    source: ColorStats
    target: ColorStats
    frames_since_update: int = 0
    last_seen: int = 0


@dataclass(frozen=True, slots=True)
class ColorInputs:
    """One face's colour problem, in one region of the frame (all arrays the same H x W).

    source_bgr: the rendered face; target_bgr: the frame under it; skin: where statistics are taken
    (rendered texture present and skin in both); face_px: the face size in these pixels.
    """

    source_bgr: Frame
    target_bgr: Frame
    skin: Mask
    face_px: float
    track_id: int | None = None

    def __post_init__(self) -> None:
        if self.source_bgr.shape != self.target_bgr.shape or self.source_bgr.shape[:2] != self.skin.shape:
            shapes = (self.source_bgr.shape, self.target_bgr.shape, self.skin.shape)
            raise ValueError(f"source, target and skin must be the same size, got {shapes}")


@dataclass(slots=True)
class ColorMatcher:
    """Matches a rendered face to the target, with statistics smoothed per track id.

    Faces without a track id are matched afresh on every call. Tracks unseen for ``forget_after`` calls
    (faces, summed over frames) are dropped, so memory stays bounded over long videos.
    """

    settings: ColorSettings = field(default_factory=ColorSettings)
    forget_after: int = 900
    _tracks: dict[int, _TrackColor] = field(default_factory=dict, init=False, repr=False)
    _calls: int = field(default=0, init=False, repr=False)

    def reset(self) -> None:
        """Forget every track (a new video)."""
        self._tracks.clear()
        self._calls = 0

    def tracked_stats(self, track_id: int) -> tuple[ColorStats, ColorStats] | None:
        """The smoothed (source, target) statistics of a track, if it has any."""
        state = self._tracks.get(track_id)
        return None if state is None else (state.source, state.target)

    def match(self, inputs: ColorInputs) -> Frame:
        """The rendered face with the target's tone, lighting and detail (same size, uint8 BGR)."""
        self._calls += 1
        s = self.settings
        self._forget_old()
        if s.mode == "none" and s.detail_weight == 0.0:
            return inputs.source_bgr
        if float(inputs.skin.sum()) <= _MIN_WEIGHT:
            return inputs.source_bgr
        source_lab = np.asarray(cv2.cvtColor(inputs.source_bgr, cv2.COLOR_BGR2LAB), dtype=np.uint8)
        small = _Small(inputs, source_lab, min(1.0, s.work_face_px / max(inputs.face_px, 1.0)))
        scale, offset = np.ones(3, np.float32), np.zeros(3, np.float32)
        if s.mode != "none":
            source_stats, target_stats = self._stats(inputs.track_id, small)
            scale, offset = transfer_gains(source_stats, target_stats, s.ratio_limits())
            if s.mode == "shading":  # the lightness's contrast follows the light too
                scale[0] = lightness_scale(source_stats, target_stats, s.texture_contrast_min)
                offset[0] = target_stats.mean[0] - scale[0] * source_stats.mean[0]
            source_lab = np.asarray(cv2.LUT(source_lab, transfer_lut(scale, offset)), np.uint8)
        if s.mode == "shading" or s.detail_weight > 0.0:
            small_source = small.source_lab * scale + offset
            source_lab = self._local(source_lab, inputs, small, small_source)
        return np.asarray(cv2.cvtColor(source_lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)

    def _stats(self, track_id: int | None, small: "_Small") -> tuple[ColorStats, ColorStats]:
        state = self._tracks.get(track_id) if track_id is not None else None
        if state is not None and state.frames_since_update + 1 < self.settings.update_every:
            state.frames_since_update += 1
            state.last_seen = self._calls
            return state.source, state.target
        source = self._measure(small.source_lab, small)
        target = self._measure(small.target_lab(), small)
        if track_id is None:
            return source, target
        if state is None:
            state = _TrackColor(source, target)
            self._tracks[track_id] = state
        else:
            weight = self.settings.smoothing
            state.source = blend_stats(state.source, source, weight)
            state.target = blend_stats(state.target, target, weight)
        state.frames_since_update = 0
        state.last_seen = self._calls
        return state.source, state.target

    def _measure(self, lab: FloatArray, small: "_Small") -> ColorStats:
        """Skin statistics; with shading, the lightness's spread is its texture's (``texture_std``)."""
        stats = masked_stats(lab, small.skin)
        if self.settings.mode != "shading":
            return stats
        sigma = max(0.5, self.settings.texture_sigma * small.face_px)
        spread = stats.std.copy()
        spread[0] = texture_std(lab[..., 0], small.skin, sigma)
        return ColorStats(stats.mean, spread)

    def _local(
        self,
        source_lab: npt.NDArray[np.uint8],
        inputs: ColorInputs,
        small: "_Small",
        small_source: FloatArray,
    ) -> npt.NDArray[np.uint8]:
        """Shading (low-frequency lightness gain and chroma shift) and fine detail, on the 8-bit LAB face."""
        s = self.settings
        lightness, chroma_a, chroma_b = cv2.split(source_lab)
        lightness_f = lightness.astype(np.float32)
        size_wh = (lightness.shape[1], lightness.shape[0])
        if s.mode == "shading":
            sigma = s.shading_sigma * inputs.face_px * small.scale
            source_low, target_low, skin_low = small_source, small.target_lab(), small.skin
            while sigma > _SHADING_MAX_SIGMA_PX and min(skin_low.shape) >= 16:
                # the light is smooth: a wide blur loses nothing at half the resolution, and costs a quarter
                source_low, target_low = _half(source_low), _half(target_low)
                skin_low, sigma = _half(skin_low), 0.5 * sigma
            gain, shift = shading_maps(source_low, target_low, skin_low, sigma, planes=s.light_plane)
            maps = np.dstack([gain, shift])
            gain_full, shift_a, shift_b = cv2.split(cv2.resize(maps, size_wh, interpolation=cv2.INTER_LINEAR))
            if s.shading_light:
                lightness_f *= gain_full
            chroma_a = cv2.add(chroma_a, shift_a, dtype=cv2.CV_8U)
            chroma_b = cv2.add(chroma_b, shift_b, dtype=cv2.CV_8U)
        if s.detail_weight > 0.0:
            target_gray = cv2.cvtColor(inputs.target_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
            detail = _soft_limit(high_pass(target_gray, s.detail_sigma * inputs.face_px), DETAIL_LIMIT)
            weight = np.minimum(inputs.skin * np.float32(2.0 * s.detail_weight), np.float32(s.detail_weight))
            detail *= weight
            lightness_f += detail
        np.maximum(lightness_f, np.float32(0.0), out=lightness_f)
        lightness = cv2.convertScaleAbs(lightness_f)
        return np.asarray(cv2.merge([lightness, chroma_a, chroma_b]), dtype=np.uint8)

    def _forget_old(self) -> None:
        stale = [
            key for key, state in self._tracks.items() if self._calls - state.last_seen > self.forget_after
        ]
        for key in stale:
            del self._tracks[key]


class _Small:
    """The inputs at the low working scale, in float LAB (8-bit units); the target converted when asked."""

    def __init__(self, inputs: ColorInputs, source_lab: npt.NDArray[np.uint8], scale: float) -> None:
        height, width = inputs.skin.shape
        self.scale = scale
        self.face_px = inputs.face_px * scale
        self.size_wh = (max(round(width * scale), 1), max(round(height * scale), 1))
        self.source_lab = _shrink(source_lab, self.size_wh)
        self.skin = _shrink(inputs.skin, self.size_wh)
        self._target_bgr = inputs.target_bgr
        self._target_lab: FloatArray | None = None

    def target_lab(self) -> FloatArray:
        if self._target_lab is None:
            small = np.asarray(np.round(_shrink(self._target_bgr, self.size_wh)), dtype=np.uint8)
            self._target_lab = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2LAB), dtype=np.float32)
        return self._target_lab


def _half(image: FloatArray) -> FloatArray:
    return np.asarray(cv2.pyrDown(image), dtype=np.float32)


def _shrink(image: npt.NDArray[np.generic], size_wh: tuple[int, int]) -> FloatArray:
    """Downscale with area averaging (pyramid halvings first, much faster for big factors), as float32."""
    small = np.asarray(image)
    while small.shape[1] >= 2 * size_wh[0] + 2 and small.shape[0] >= 2 * size_wh[1] + 2:
        small = np.asarray(cv2.pyrDown(small))
    if (small.shape[1], small.shape[0]) != size_wh:
        small = np.asarray(cv2.resize(small, size_wh, interpolation=cv2.INTER_AREA))
    return small.astype(np.float32)

"""The compositor: puts a swapper's rendered face into the frame (masks, colour, blending).

Everything happens in one region of the frame around the face (the rendered crop's box, cut to the face
hull plus a margin), so the cost follows the face and not the frame. Colour statistics are smoothed per
track (``Face.track_id``), and each tracked eye's usual open size is followed so blinks are told apart
(``eye_levels.py``); call ``reset`` between videos. Where the result asks for it (``SwapResult.frame_keep``:
the glasses the target wears), the frame's own pixels go back over the blended face last.
"""

import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

import cv2
import numpy as np

from facecraft.blend.blending import (
    BLEND_MODES,
    BlendMode,
    blend_feather,
    blend_multiband,
    blend_poisson,
    pyramid_levels,
)
from facecraft.blend.color import COLOR_MODES, ColorInputs, ColorMatcher, ColorMode, ColorSettings
from facecraft.blend.eye_levels import EyeOpenLevels
from facecraft.blend.masks import (
    FaceMasks,
    MaskSettings,
    brow_line,
    build_face_masks,
    face_size_px,
    hull_outline,
    true_box,
)
from facecraft.blend.mouth_opening import frame_mouth_opening
from facecraft.faces.alignment import crop_bounds_in_frame, transform_points
from facecraft.faces.face import LANDMARK_POINTS, Face
from facecraft.swap.base import SwapResult
from facecraft.swap.surround import move_image
from facecraft.types import Affine, FloatArray, Frame, Mask

__all__ = [
    "BLEND_MODES",
    "COLOR_MODES",
    "FOREHEAD_MODES",
    "BlendMode",
    "ColorMode",
    "CompositeSettings",
    "Compositor",
    "ForeheadMode",
]


ForeheadMode = Literal["auto", "on", "off"]
"""Whether the forehead is swapped: as the source allows (``auto``), always or never."""
FOREHEAD_MODES: tuple[str, ...] = get_args(ForeheadMode)


@dataclass(frozen=True, slots=True)
class CompositeSettings:
    """How a rendered face is put into the frame. Sizes are fractions of the face size.

    blend: ``multiband`` (default), ``feather`` or ``poisson`` (see ``blending.BlendMode``).
    color: ``shading`` (default: tone and lighting), ``lab`` (tone only) or ``none``.
    forehead: ``auto`` (default): the forehead is swapped when the swapper says its source's forehead is
        clear skin (``SwapResult.forehead_clear``: the mesh swapper's photo shows no fringe), else the mask
        stops above the brows so a fringe does not come along; ``on``: always swapped; ``off``: never.
    forehead_fade: a swapped forehead fades out towards the mesh's top edge, from fully the render just
        above the brows to fully the frame at the top. The mesh ends partway up the forehead, and a face
        that went in fully up to there left a line across it (d30.jpg onto d3.mp4 at 6.7 s: her smooth,
        lighter forehead under d3's own creased one). Trained models paint the forehead with a mask of
        their own and keep it off.
    erode, feather: the mask starts ``erode`` inside the face outline and is fully on ``feather`` further in.
    detail_weight: how much of the target's fine detail and grain is carried onto the face (0 = none).
    shading_sigma: blur of the target's lighting that ``shading`` lays on the face; a larger blur keeps
        less of the target's own face relief (its nose and cheekbones), which would read as its identity.
    color_update_every, color_smoothing: colour statistics are measured every this many frames per
        track and moved this fraction of the way towards each measurement.
    color_strength: how far the colour transfer moves the render (1 = all the way to the target's tone
        and light; less keeps some of the source's own skin tone, which is part of its identity).
    keep_mouth: the frame's own mouth interior shows through. On by default: the mesh swapper's own
        rendering of the mouth interior (moved with the shape-transferred lips) showed as a dark box with
        red-orange corners on a half-open mouth (d18 at 3.2 s), while the frame's teeth and tongue, blended
        through the feathered inner-lip mask, look natural.
    mouth_from_pixels: with ``keep_mouth``, what the frame's pixels show as mouth interior (teeth, the
        dark cavity) beyond the mesh's inner lip contour shows through too (``mouth_opening.py``): the
        mesh draws wide-open mouths with lips too thick, so the source's lips covered the target's upper
        teeth and the bottom of its open mouth (d30.jpg onto d18.mp4 at 2.5 s and 4.7 s).
    keep_lips: the frame's own lips show through as well (mouth interior included): for a source photo
        whose mouth is set in an expression. d8.jpg's pout drawn onto d10.mp4 and d20.mp4 kept its pout on
        every frame, and the eval's mesh read those mouths as less open (mouth-opening correlation 0.89;
        0.92 and 0.94 with the frames' lips, identity 0.61 -> 0.60 and 0.49 -> 0.49). Off by default: a
        neutral source's lips carry its likeness (d30.jpg onto d18.mp4: 0.41 -> 0.48).
    keep_eyes: the frame's eyes show through while closed or looking away (closed lids drawn from the
        source's open eyes smear; the target's own read cleanly).
    texture_contrast_min: with ``shading``, the render's lightness contrast is lowered towards the footage's
        texture contrast, never below this fraction of its own (1 = left as it is; see ``ColorSettings``).
    shading_light: with ``shading``, the target's light as a lightness gain too (off: colour casts only;
        see ``ColorSettings``; off for trained models, which draw the target's light themselves).
    eye_color: how much of the skin's colour transfer the eye openings get (0 = the render's colours).
        The mesh swapper draws the source's eyes there by default; untouched, their whites glow against
        the recoloured skin. The mouth interior always keeps the render's colours (the target's own).
    """

    blend: BlendMode = "multiband"
    color: ColorMode = "shading"
    forehead: ForeheadMode = "auto"
    forehead_fade: bool = True
    erode: float = 0.02
    feather: float = 0.07
    detail_weight: float = 0.6
    shading_sigma: float = 0.25
    color_update_every: int = 2
    color_smoothing: float = 0.15
    keep_mouth: bool = True
    mouth_from_pixels: bool = True
    keep_lips: bool = False
    keep_eyes: bool = True
    eye_color: float = 0.7
    color_strength: float = 1.0
    texture_contrast_min: float = 0.55
    shading_light: bool = True

    def __post_init__(self) -> None:
        for name in ("eye_color", "color_strength"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.forehead not in FOREHEAD_MODES:
            choices = ", ".join(FOREHEAD_MODES)
            raise ValueError(f"unknown forehead mode '{self.forehead}'; choose one of {choices}")
        if self.blend not in get_args(BlendMode):
            raise ValueError(f"unknown blend mode '{self.blend}'; choose one of {', '.join(BLEND_MODES)}")
        self.mask_settings(include_forehead=True)
        self.color_settings()

    def mask_settings(self, include_forehead: bool) -> MaskSettings:
        """The masks' settings, with the forehead swapped or not (``forehead`` decides which per face)."""
        return MaskSettings(
            include_forehead=include_forehead,
            forehead_fade=self.forehead_fade,
            erode=self.erode,
            feather=self.feather,
            keep_mouth=self.keep_mouth,
            keep_lips=self.keep_lips,
            keep_eyes=self.keep_eyes,
        )

    def color_settings(self) -> ColorSettings:
        return ColorSettings(
            mode=self.color,
            update_every=self.color_update_every,
            smoothing=self.color_smoothing,
            detail_weight=self.detail_weight,
            shading_sigma=self.shading_sigma,
            texture_contrast_min=self.texture_contrast_min,
            shading_light=self.shading_light,
        )


@dataclass(frozen=True, slots=True)
class _Region:
    """A box of the frame: columns x0..x1 - 1, rows y0..y1 - 1."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def size_hw(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0


class Compositor:
    """Masks, colour-matches and blends rendered faces into frames. One instance per video stream.

    ``last_timings_ms`` holds the stages of the latest ``composite`` call (region, masks, color, blend,
    total) for benchmarks.
    """

    def __init__(self, settings: CompositeSettings = CompositeSettings()) -> None:
        self.settings = settings
        self._brows_masks = settings.mask_settings(include_forehead=False)
        self._forehead_masks = settings.mask_settings(include_forehead=True)
        self._color = ColorMatcher(settings.color_settings())
        self._eye_levels = EyeOpenLevels()
        self.last_timings_ms: MappingProxyType[str, float] = MappingProxyType({})

    def reset(self) -> None:
        """Forget the colour and eye history of every track (call between videos or unrelated images)."""
        self._color.reset()
        self._eye_levels.reset()

    def composite(self, frame_bgr: Frame, target: Face, result: SwapResult) -> Frame:
        """A new frame with the rendered face of ``result`` blended over ``target``."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")
        clock = _Clock()
        landmarks = _frame_landmarks(target, result)
        face_px = face_size_px(landmarks)
        mask_settings = self._mask_settings_for(result)
        frame_brows = _frame_brows(target, result, landmarks, mask_settings)
        region = self._region(frame_bgr, result, landmarks, frame_brows, face_px, mask_settings)
        output = frame_bgr.copy()
        if region is None:
            self.last_timings_ms = clock.done()
            return output
        target_region = frame_bgr[region.y0 : region.y1, region.x0 : region.x1]
        if result.frame_move is not None:  # the frame reshaped with the face (the swapper moved its outline)
            _move_frame(output, result)
            target_region = output[region.y0 : region.y1, region.x0 : region.x1].copy()
        source_region, coverage = _warp_into_region(result, region)
        clock.lap("region")
        origin = np.array([region.x0, region.y0], dtype=np.float32)
        local = (landmarks - origin).astype(np.float32)
        open_levels = self._eye_levels.observe(target.track_id, local) if self.settings.keep_eyes else None
        masks = build_face_masks(
            local,
            region.size_hw,
            mask_settings,
            coverage,
            open_levels,
            frame_landmarks=None if frame_brows is None else frame_brows - origin,
        )
        alpha, skin = masks.alpha, masks.skin
        if self.settings.keep_mouth and self.settings.mouth_from_pixels and not self.settings.keep_lips:
            hole_px = mask_settings.hole_feather * face_px
            opening = frame_mouth_opening(target_region, local, face_px, hole_px)
            if float(opening.max()) > 0.0:
                alpha = np.asarray(alpha * (np.float32(1.0) - opening), dtype=np.float32)
        keep = None if result.frame_keep is None else _mask_into_region(result.frame_keep, result, region)
        if keep is not None:  # the frame's own glasses: not skin, and put back after blending
            skin = np.asarray(skin * (np.float32(1.0) - keep), dtype=np.float32)
        clock.lap("masks")
        if float(alpha.max()) <= 0.0:
            self.last_timings_ms = clock.done()
            return output
        matched = self._color.match(ColorInputs(source_region, target_region, skin, face_px, target.track_id))
        if matched is not source_region:
            if self.settings.color_strength < 1.0:
                weight = float(self.settings.color_strength)
                matched = np.asarray(cv2.addWeighted(matched, weight, source_region, 1.0 - weight, 0.0))
            matched = self._keep_render_colours(matched, source_region, masks)
        clock.lap("color")
        blended = self._blend(target_region, matched, alpha, face_px)
        if keep is not None:
            blended = blend_feather(blended, target_region, keep)
        output[region.y0 : region.y1, region.x0 : region.x1] = blended
        clock.lap("blend")
        self.last_timings_ms = clock.done()
        return output

    def _keep_render_colours(self, matched: Frame, render: Frame, masks: FaceMasks) -> Frame:
        """``matched`` with the render's own colours back where it keeps them: the mouth interior, and the
        eyes but for ``eye_color``. Only the box those masks reach is blended (they are small)."""
        keep_eyes = np.float32(1.0 - self.settings.eye_color)
        holes = masks.mouth > 0.0
        if keep_eyes > 0.0:
            holes |= masks.eyes > 0.0
        box = true_box(holes)
        if box is None:
            return matched
        keep = masks.mouth[box]
        if keep_eyes > 0.0:
            keep = np.maximum(keep, masks.eyes[box] * keep_eyes)
        out = matched.copy()
        out[box] = blend_feather(matched[box], render[box], np.asarray(keep, dtype=np.float32))
        return out

    def _mask_settings_for(self, result: SwapResult) -> MaskSettings:
        """The masks for this face: with the forehead or stopping above the brows (``forehead``)."""
        mode = self.settings.forehead
        if mode == "on" or (mode == "auto" and result.forehead_clear):
            return self._forehead_masks
        return self._brows_masks

    def _region(
        self,
        frame_bgr: Frame,
        result: SwapResult,
        landmarks: FloatArray,
        frame_landmarks: FloatArray | None,
        face_px: float,
        mask_settings: MaskSettings,
    ) -> _Region | None:
        """The frame box the masks and the blend work in: the rendered face's hull, and the line above the
        frame's own brows when the masks reach over them, with a margin for the blend."""
        height, width = frame_bgr.shape[:2]
        crop_h, crop_w = result.crop_bgr.shape[:2]
        bounds = crop_bounds_in_frame((crop_w, crop_h), result.matrix_crop_to_frame, (width, height))
        if bounds is None:
            return None
        outline = hull_outline(landmarks, mask_settings.include_forehead, mask_settings.brow_margin)
        if frame_landmarks is not None:
            outline = np.concatenate([outline, brow_line(frame_landmarks, mask_settings.brow_margin)])
        margin = 2.0 + (2.0 ** (self._levels(face_px) + 1) if self.settings.blend == "multiband" else 0.0)
        x0 = max(bounds[0], int(np.floor(float(outline[:, 0].min()) - margin)))
        y0 = max(bounds[1], int(np.floor(float(outline[:, 1].min()) - margin)))
        x1 = min(bounds[2], int(np.ceil(float(outline[:, 0].max()) + margin)) + 1)
        y1 = min(bounds[3], int(np.ceil(float(outline[:, 1].max()) + margin)) + 1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return _Region(x0, y0, x1, y1)

    def _levels(self, face_px: float) -> int:
        return pyramid_levels(self.settings.feather * face_px, (1 << 16, 1 << 16))

    def _blend(self, target_bgr: Frame, source_bgr: Frame, alpha: Mask, face_px: float) -> Frame:
        mode = self.settings.blend
        if mode == "feather":
            return blend_feather(target_bgr, source_bgr, alpha)
        if mode == "poisson":
            return blend_poisson(target_bgr, source_bgr, alpha)
        levels = pyramid_levels(self.settings.feather * face_px, alpha.shape[:2])
        support = np.clip(alpha * np.float32(4.0), 0.0, 1.0)
        return blend_multiband(target_bgr, source_bgr, alpha, levels, support)


def _frame_brows(
    target: Face, result: SwapResult, rendered: FloatArray, mask_settings: MaskSettings
) -> FloatArray | None:
    """The frame's own landmarks, for masks that stop above the brows to reach over the frame's brows too
    (``build_face_masks``); None where that changes nothing or would be wrong: a swapped forehead covers
    them, a render drawn on the target's own landmarks has the same brows, and a frame the swapper moved
    (``frame_move``) has its brows moved to the rendered ones."""
    if mask_settings.include_forehead or result.frame_move is not None:
        return None
    own = np.asarray(target.landmarks_478[:, :2], dtype=np.float32)
    return None if np.array_equal(own, rendered) else own


def _frame_landmarks(target: Face, result: SwapResult) -> FloatArray:
    """The target's landmarks in frame pixels, from the result (what was rendered) when it has them."""
    crop_landmarks = np.asarray(result.target_landmarks_crop, dtype=np.float32)
    if (
        crop_landmarks.ndim == 2
        and crop_landmarks.shape[0] == LANDMARK_POINTS
        and crop_landmarks.shape[1] >= 2
    ):
        return transform_points(crop_landmarks, result.matrix_crop_to_frame)
    return np.asarray(target.landmarks_478[:, :2], dtype=np.float32)


def _warp_into_region(result: SwapResult, region: _Region) -> tuple[Frame, Mask]:
    """The rendered crop and its coverage in the region's pixels (a plain slice for integer shifts)."""
    local = _local_matrix(result, region)
    height, width = region.size_hw
    inside = _slice_inside(local, region, result.crop_bgr.shape[:2])
    if inside is not None:
        return result.crop_bgr[inside], np.asarray(result.coverage[inside], dtype=np.float32)
    source = cv2.warpAffine(
        result.crop_bgr, local, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(source, dtype=np.uint8), _mask_into_region(result.coverage, result, region)


def _move_frame(frame_bgr: Frame, result: SwapResult) -> None:
    """Move ``frame_bgr`` (in place) inside the result's crop as its ``frame_move`` says. Crops placed by a
    whole-pixel shift (the mesh swapper's) only; others are left as they are."""
    assert result.frame_move is not None
    height, width = frame_bgr.shape[:2]
    crop_h, crop_w = result.frame_move.shape[:2]
    shift = _integer_shift(np.asarray(result.matrix_crop_to_frame, dtype=np.float64))
    if shift is None or min(shift) < 0 or shift[0] + crop_w > width or shift[1] + crop_h > height:
        return
    inside = (slice(shift[1], shift[1] + crop_h), slice(shift[0], shift[0] + crop_w))
    frame_bgr[inside] = move_image(frame_bgr[inside], result.frame_move)


def _mask_into_region(mask: Mask, result: SwapResult, region: _Region) -> Mask:
    """A crop-space mask of ``result`` (its coverage, its ``frame_keep``) in the region's pixels (0 outside
    the crop)."""
    local = _local_matrix(result, region)
    inside = _slice_inside(local, region, mask.shape[:2])
    if inside is not None:
        return np.asarray(mask[inside], dtype=np.float32)
    height, width = region.size_hw
    warped = cv2.warpAffine(
        np.asarray(mask, dtype=np.float32),
        local,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return np.asarray(warped, dtype=np.float32)


def _local_matrix(result: SwapResult, region: _Region) -> Affine:
    """The crop-to-region affine map."""
    local = np.asarray(result.matrix_crop_to_frame, dtype=np.float64).copy()
    local[:, 2] -= (region.x0, region.y0)
    out: Affine = local.astype(np.float32)
    return out


def _slice_inside(local: Affine, region: _Region, crop_hw: tuple[int, ...]) -> tuple[slice, slice] | None:
    """The crop's rows and columns that are the region, when the map is a whole-pixel shift and the region
    lies inside the crop; None when it must be warped."""
    shift = _integer_shift(local)
    if shift is None:
        return None
    height, width = region.size_hw
    x0, y0 = -shift[0], -shift[1]
    if x0 < 0 or y0 < 0 or x0 + width > crop_hw[1] or y0 + height > crop_hw[0]:
        return None
    return slice(y0, y0 + height), slice(x0, x0 + width)


def _integer_shift(local: np.ndarray) -> tuple[int, int] | None:
    if not np.allclose(local[:, :2], np.eye(2), atol=1e-6):
        return None
    tx, ty = float(local[0, 2]), float(local[1, 2])
    if abs(tx - round(tx)) > 1e-4 or abs(ty - round(ty)) > 1e-4:
        return None
    return round(tx), round(ty)


class _Clock:
    """Stage timings in milliseconds."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self._laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._laps[name] = (now - self._last) * 1000.0
        self._last = now

    def done(self) -> MappingProxyType[str, float]:
        self._laps["total"] = (time.perf_counter() - self._start) * 1000.0
        return MappingProxyType(dict(self._laps))

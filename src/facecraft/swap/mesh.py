"""The instant, training-free swapper: the source's face texture carried over the target's face mesh.

Per source (``prepare``): the photo is unwrapped into a frontal texture with what covers the skin filled
(``source.py``), kept at a few resolutions so a small target face is not sampled from a much larger
texture.

Per target face (``swap``):

0. the target's landmarks have their rigid pose steadied per track while the head is nearly still
   (``faces.smoothing.PoseStabilizer``; expressions pass untouched), so landmark noise does not move the
   source's sharp features against the footage;
1. shape transfer (``shape.py``): the target's mesh moves toward the source's proportions, keeping the
   target's expression and face outline;
2. culling: the canonical mesh's triangle normals, turned by the target's head pose, tell which triangles
   face away from the camera; those are not drawn, so turned heads do not smear. The rest are drawn far
   to near, so the nose hides the far cheek; triangles the landmarks fold over (noise at the lip corners
   and the jaw) are drawn first, so they only fill what nothing else covers;
3. one piecewise-affine warp (``warp.py``) renders the face into an axis-aligned crop around the target
   face at frame scale. The mouth opening (and, by default, the eye openings) are drawn from the target
   frame itself, moved along with the shape transfer, so teeth, tongue, blinks and gaze stay the target's
   and line up with the rendered lips and lids;
4. glasses the target wears in the footage (``frame_glasses.py``) are handed to the compositor as
   ``SwapResult.frame_keep``, which puts the frame's own rims back over the face; the source's glasses
   layer is then left off (one pair), and otherwise drawn rigidly over the render.

The render is softened a little (``MeshSwapSettings.soften_px``) to the sharpness of video footage. The
crop holds the frame's own pixels wherever nothing was drawn; ``coverage`` says where texture was
drawn (the face outline, soft at its edge). ``target_landmarks_crop`` are the landmarks as rendered (the
target's, moved by the shape transfer; the outline is the target's own), so masks made from them line up
with the rendered features. Colour, shading, grain and the final mask are the compositor's.
"""

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.face import MESH_POINTS, Face
from facecraft.faces.smoothing import PoseStabilizer, PoseStabilizerSettings
from facecraft.swap.base import SWAPPERS, SourceIdentity, SwapperConfig, SwapResult
from facecraft.swap.frame_glasses import FrameGlasses
from facecraft.swap.glasses import ANCHORS as GLASSES_ANCHORS
from facecraft.swap.glasses import GlassesLayer, draw_glasses
from facecraft.swap.shape import ShapeSettings, ShapeTransfer, facing_camera
from facecraft.swap.source import PreparedSource, SourceSettings, prepare_source
from facecraft.swap.surround import GRID_PX, move_image, move_map, sparse_triangles, surround_band
from facecraft.swap.triangles import (
    FACE_OVAL,
    LEFT_EYE_CORNERS,
    LEFT_EYELIDS,
    RIGHT_EYE_CORNERS,
    RIGHT_EYELIDS,
    MeshTopology,
    load_topology,
    signed_areas,
    triangle_normals,
)
from facecraft.swap.warp import PiecewiseAffineWarper
from facecraft.types import Affine, FloatArray, Frame

EyeSource = Literal["target", "source"]
EYE_SOURCES: tuple[EyeSource, ...] = get_args(EyeSource)

LID_STRIP = 0.12
"""How far outside the mesh's lid margin (fraction of the eye's width) the photo's eye opening reaches."""
MIN_LEVEL_FACE_PX = 48.0
"""Texture levels stop halving once the face would be smaller than this."""
LEVEL_HYSTERESIS = 0.3
"""A texture level is kept until the ideal one differs by this much (in octaves): no sharpness flicker."""
TRACK_GAP_CALLS = 60
"""A track unseen for this many swap calls starts afresh (and its state is dropped)."""


@dataclass(frozen=True, slots=True)
class MeshSwapSettings:
    """Options of the mesh swapper.

    eyes: what fills the eye openings: the target's own eyes (gaze and blinks, moved with the shape
        transfer) or the source's eyes (fanned from the iris centres, so they follow the target's gaze).
    crop_margin: the crop reaches this far (fraction of the face size) beyond the rendered face.
    cull_below: triangles whose normal's turn toward the camera is at most this (cosine) are not drawn.
    stabilize: the rendered face's rigid pose is steadied per track while the head is nearly still
        (``faces.smoothing.PoseStabilizer``): landmark noise of a pixel moves the source's sharp features
        (lashes, lips) against the footage and reads as flicker. None renders at the landmarks as given.
    soften_px: the rendered face gets a Gaussian blur of this sigma (frame pixels): resampled from a
        sharp photo, it is crisper than the video frame around it (which camera optics and compression
        soften), reads as pasted on, and its hard edges shimmer as the face moves. 0 turns it off.
    """

    shape: ShapeSettings = field(default_factory=ShapeSettings)
    source: SourceSettings = field(default_factory=SourceSettings)
    stabilize: PoseStabilizerSettings | None = field(default_factory=PoseStabilizerSettings)
    soften_px: float = 0.8
    target_glasses: bool = True
    eyes: EyeSource = "source"
    crop_margin: float = 0.1
    cull_below: float = 0.0

    def __post_init__(self) -> None:
        if self.eyes not in EYE_SOURCES:
            raise ValueError(f"eyes must be one of {', '.join(EYE_SOURCES)}, got {self.eyes!r}")
        if not 0.0 <= self.crop_margin <= 1.0:
            raise ValueError(f"crop_margin must be in [0, 1], got {self.crop_margin}")
        if not -1.0 <= self.cull_below < 1.0:
            raise ValueError(f"cull_below must be in [-1, 1), got {self.cull_below}")
        if not 0.0 <= self.soften_px <= 5.0:
            raise ValueError(f"soften_px must be in [0, 5], got {self.soften_px}")


@dataclass(frozen=True, slots=True)
class _TextureLevel:
    """One resolution of the source texture: the texture, and per-triangle texture corners (K, 3, 2)."""

    texture_bgra: npt.NDArray[np.uint8]
    face_px: float
    face_corners: FloatArray
    eye_corners: FloatArray
    lid_shifts: tuple[FloatArray, FloatArray]
    """Per eye, how far (texture pixels, per face-triangle corner) the lid margins slide out as it closes."""
    glasses: GlassesLayer | None = None
    """The source's glasses at this level's scale, drawn rigidly over the face (``glasses.py``)."""


@dataclass(frozen=True, slots=True)
class _Source:
    """Everything ``swap`` needs about the prepared source."""

    landmarks_478: FloatArray
    levels: tuple[_TextureLevel, ...]
    eye_openness: tuple[float, float]
    forehead_clear: bool


@dataclass(slots=True)
class _TrackPose:
    stabilizer: PoseStabilizer
    last_call: int = 0


class MeshSwapper:
    """Instant swapper: piecewise-affine warp of the source texture over the target's mesh.

    Not thread-safe (it reuses buffers): one per thread.
    """

    def __init__(self, settings: MeshSwapSettings = MeshSwapSettings(), topology: MeshTopology | None = None):
        self.settings = settings
        self.topology = topology if topology is not None else load_topology()
        self._shape = ShapeTransfer(self.topology, settings.shape)
        self._warper = PiecewiseAffineWarper()
        self._normals = triangle_normals(self.topology.layout_468, self.topology.face_triangles)
        self._face_z_index = self.topology.face_triangles
        self._frame_triangles = sparse_triangles(self.topology.layout_468, FACE_OVAL)
        self._source: _Source | None = None
        self._levels_by_track: dict[int | None, int] = {}
        self._stabilizers: dict[int, _TrackPose] = {}
        self._frame_glasses = FrameGlasses(self.topology)
        self._calls = 0
        self._atlas = np.zeros((0, 0, 4), dtype=np.uint8)
        self._atlas_texture: npt.NDArray[np.uint8] | None = None

    def prepare(self, source: SourceIdentity) -> tuple[str, ...]:
        """Cut, clean and cache the source's texture at a few resolutions; what covered its skin, for the
        user."""
        prepared = prepare_source(source.image_bgr, source.face, self.topology, self.settings.source)
        landmarks = source.face.landmarks_478.astype(np.float32)
        self._source = _Source(
            landmarks_478=landmarks,
            levels=self._texture_levels(prepared),
            eye_openness=(eye_openness(landmarks, RIGHT_EYE), eye_openness(landmarks, LEFT_EYE)),
            forehead_clear=prepared.report.forehead_clear,
        )
        self._levels_by_track.clear()
        self._stabilizers.clear()
        self._frame_glasses.reset()
        return prepared.notes

    def _texture_levels(self, prepared: PreparedSource) -> tuple[_TextureLevel, ...]:
        """The unwrapped texture halved while the face stays above MIN_LEVEL_FACE_PX."""
        uv = prepared.uv_478.astype(np.float64)
        face_corners = uv[self.topology.face_triangles]
        eye_corners = uv[self.topology.eye_triangles]
        shifts = tuple(_lid_shifts(uv, self.topology.face_triangles, eye) for eye in (RIGHT_EYE, LEFT_EYE))
        texture = prepared.texture_bgra
        glasses = prepared.glasses
        face_px = _face_size(uv)
        levels = []
        scale = 1.0
        while True:
            levels.append(
                _TextureLevel(
                    texture_bgra=texture,
                    face_px=face_px * scale,
                    face_corners=_level_coordinates(face_corners, scale),
                    eye_corners=_level_coordinates(eye_corners, scale),
                    lid_shifts=(
                        (shifts[0] * scale).astype(np.float32),
                        (shifts[1] * scale).astype(np.float32),
                    ),
                    glasses=glasses,
                )
            )
            if face_px * scale / 2 < MIN_LEVEL_FACE_PX:
                break
            texture = np.asarray(cv2.pyrDown(texture), dtype=np.uint8)
            glasses = None if glasses is None else glasses.shrunk()
            scale /= 2
        return tuple(levels)

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult:
        """The source's face rendered over ``target`` in a crop of the frame (see the module docstring)."""
        if self._source is None:
            raise RuntimeError("MeshSwapper.swap called before prepare(source)")
        source = self._source
        target_lm = self._steady_landmarks(target)
        rendered = self._shape.transfer(source.landmarks_478, target_lm).astype(np.float64)
        height, width = frame_bgr.shape[:2]
        band = None
        if self._shape.settings.outline > 0.0:  # else the outline is the target's and the frame stays
            hull = list(FACE_OVAL)
            band = surround_band(
                target_lm[hull, :2], rendered[hull, :2], _face_size(target_lm), (width, height)
            )
        x0, y0, x1, y1 = _crop_box(rendered, width, height, self.settings.crop_margin)
        if band is not None:  # the crop holds the whole band
            low = np.floor(band[0].reshape(-1, 2).min(axis=0)) - 2 * GRID_PX  # the map's cells settle to 0
            high = np.ceil(band[0].reshape(-1, 2).max(axis=0)) + 2 * GRID_PX + 1
            x0, y0 = min(x0, max(int(low[0]), 0)), min(y0, max(int(low[1]), 0))
            x1, y1 = max(x1, min(width, int(high[0]))), max(y1, min(height, int(high[1])))
        origin = np.array([x0, y0], dtype=np.float64)
        dst_xy = rendered[:, :2] - origin
        level = self._choose_level(source, _face_size(dst_xy), target.track_id)
        atlas, frame_offset = self._fill_atlas(level.texture_bgra, frame_bgr, (x0, y0, x1, y1))
        src_tri, dst_tri, order = self._triangles(level, target_lm, rendered, dst_xy, frame_offset)
        result = self._warper.warp(atlas, src_tri, dst_tri, order, (x1 - x0, y1 - y0))
        alpha = cv2.extractChannel(result.image, 3)
        coverage = np.asarray(alpha, dtype=np.float32)
        coverage *= np.float32(1.0 / 255.0)
        crop_bgr = frame_bgr[y0:y1, x0:x1].copy()
        frame_move = None
        if band is not None:  # the frame itself, reshaped with the face and the band around it
            face = self._frame_triangles
            target_xy = target_lm[:, :2] - origin
            frame_move = move_map(
                (y1 - y0, x1 - x0),
                np.concatenate([target_xy[face], band[0] - origin]),
                np.concatenate([dst_xy[face], band[1] - origin]),
                self._warper,
            )
            crop_bgr = move_image(crop_bgr, frame_move)
        cv2.copyTo(cv2.cvtColor(result.image, cv2.COLOR_BGRA2BGR), alpha, crop_bgr)
        if self.settings.soften_px > 0.0:  # where texture was drawn; the frame's own pixels stay as they are
            cv2.copyTo(cv2.GaussianBlur(crop_bgr, (0, 0), self.settings.soften_px), alpha, crop_bgr)
        rims = self._frame_glasses.rims(frame_bgr, target) if self.settings.target_glasses else None
        frame_keep = None
        if rims is not None:  # the target's own glasses: their rims go back over the face, no second pair
            anchors = target.landmarks_478[list(GLASSES_ANCHORS), :2] - origin
            frame_keep = rims.placed(anchors.astype(np.float32), (y1 - y0, x1 - x0))
        elif level.glasses is not None:
            draw_glasses(crop_bgr, level.glasses, dst_xy[list(GLASSES_ANCHORS)].astype(np.float32), coverage)
        landmarks_crop = rendered.astype(np.float32)
        landmarks_crop[:, :2] -= origin.astype(np.float32)
        matrix: Affine = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]], dtype=np.float32)
        return SwapResult(
            crop_bgr,
            coverage,
            matrix,
            landmarks_crop,
            frame_keep,
            frame_move,
            forehead_clear=source.forehead_clear,
        )

    def _steady_landmarks(self, target: Face) -> npt.NDArray[np.float64]:
        """The target's landmarks, their rigid pose steadied per track (as given without a track id)."""
        self._calls += 1
        landmarks = target.landmarks_478.astype(np.float64)
        settings = self.settings.stabilize
        if settings is None or target.track_id is None:
            return landmarks
        state = self._stabilizers.get(target.track_id)
        if state is None or self._calls - state.last_call > TRACK_GAP_CALLS:
            state = _TrackPose(PoseStabilizer(self._shape.stable_indices, settings))
            self._stabilizers[target.track_id] = state
        state.last_call = self._calls
        self._forget_old_tracks()
        return state.stabilizer(landmarks, _face_size(landmarks))

    def _forget_old_tracks(self) -> None:
        stale = [k for k, v in self._stabilizers.items() if self._calls - v.last_call > TRACK_GAP_CALLS]
        for key in stale:
            del self._stabilizers[key]

    def _choose_level(self, source: _Source, face_px: float, track_id: int | None) -> _TextureLevel:
        """The texture level whose face is nearest the rendered face's size (within 0.7 to 1.4 times:
        a texture much larger than the face would alias and shimmer as the face moves), with
        hysteresis per track."""
        ideal = math.log2(max(source.levels[0].face_px, 1.0) / max(face_px, 1.0))
        current = self._levels_by_track.get(track_id)
        if current is None or abs(ideal - current) > 0.5 + LEVEL_HYSTERESIS:
            current = int(np.clip(round(ideal), 0, len(source.levels) - 1))
            self._levels_by_track[track_id] = current
        return source.levels[current]

    def _fill_atlas(
        self, texture: npt.NDArray[np.uint8], frame_bgr: Frame, box: tuple[int, int, int, int]
    ) -> tuple[npt.NDArray[np.uint8], FloatArray]:
        """One image holding the source texture and, to its right, the frame's crop (opaque)."""
        x0, y0, x1, y1 = box
        tex_h, tex_w = texture.shape[:2]
        height, width = max(tex_h, y1 - y0), tex_w + (x1 - x0)
        if (
            self._atlas.shape[0] < height
            or self._atlas.shape[1] < width
            or self._atlas_texture is not texture
        ):
            self._atlas = np.zeros(
                (max(height, self._atlas.shape[0]), max(width, self._atlas.shape[1]), 4), np.uint8
            )
            self._atlas[:tex_h, :tex_w] = texture
            self._atlas_texture = texture
        atlas = self._atlas
        atlas[: y1 - y0, tex_w : tex_w + (x1 - x0)] = cv2.cvtColor(
            frame_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2BGRA
        )
        return atlas, np.array([tex_w - x0, -y0], dtype=np.float64)

    def _triangles(
        self,
        level: _TextureLevel,
        target_lm: npt.NDArray[np.float64],
        rendered: npt.NDArray[np.float64],
        dst_xy: npt.NDArray[np.float64],
        frame_offset: FloatArray,
    ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
        """Source corners (atlas pixels), destination corners (crop pixels) and the drawing order."""
        topology = self.topology
        face = topology.face_triangles
        mouth = topology.mouth_triangles
        eyes = topology.eye_triangles
        frame_xy = (target_lm[:, :2] + frame_offset).astype(np.float32)  # target's features, in the atlas
        eye_src = level.eye_corners if self.settings.eyes == "source" else frame_xy[eyes]
        face_src = self._close_lids(level, rendered)
        src = np.concatenate([frame_xy[mouth], eye_src, face_src]).astype(np.float32)
        dst = np.concatenate([dst_xy[mouth], dst_xy[eyes], dst_xy[face]]).astype(np.float32)
        visible = self.facing(target_lm) > self.settings.cull_below
        folded = signed_areas(dst_xy.astype(np.float32), face) <= 0.0
        depth = rendered[face, 2].mean(axis=1)
        far_to_near = np.argsort(-depth, kind="stable")
        # Triangles the landmarks fold over (noise at the lip corners and jaw) only fill what no
        # proper triangle covers, so they go first; then the rest, far to near.
        underlay = far_to_near[(visible & folded)[far_to_near]]
        proper = far_to_near[(visible & ~folded)[far_to_near]]
        openings = len(mouth) + len(eyes)
        order = np.concatenate([np.arange(openings), underlay + openings, proper + openings])
        return src, dst, order

    def _close_lids(self, level: _TextureLevel, rendered: npt.NDArray[np.float64]) -> FloatArray:
        """Texture corners with each eye's lid margins slid outward as far as the target's eye is more
        closed than the source's. The mesh's margins sit inside the visible eye opening, so the source's
        lids carry a strip of iris, white and lashes next to them; over a closing eye that strip would
        show as a ghost of an open eye. Sliding it under the margin (where the target's own eye is
        drawn) keeps the lids clean, continuously, with no change while the eye is as open as the
        source's."""
        assert self._source is not None
        corners = level.face_corners
        moved: FloatArray | None = None
        for eye, shift, source_open in zip(
            (RIGHT_EYE, LEFT_EYE), level.lid_shifts, self._source.eye_openness, strict=True
        ):
            closing = 1.0 - eye_openness(rendered, eye) / max(source_open, 1e-6)
            if closing <= 0.0:
                continue
            if moved is None:
                moved = corners.copy()
            moved += np.float32(min(closing, 1.0)) * shift
        return corners if moved is None else moved

    def facing(self, landmarks: npt.NDArray[np.float64]) -> FloatArray:
        """Per face triangle (``topology.face_triangles``), the cosine between its normal and the
        direction to the camera in the head pose of ``landmarks`` (478 x 3); at most ``cull_below``
        means culled."""
        layout = self.topology.layout_468
        return facing_camera(self._normals, layout, landmarks, self._shape.stable_indices)


@dataclass(frozen=True, slots=True)
class _Eye:
    lids: tuple[int, ...]
    corners: tuple[int, int]
    lid_pairs: tuple[tuple[int, int], ...]
    """Upper and lower margin points facing each other."""


RIGHT_EYE = _Eye(RIGHT_EYELIDS, RIGHT_EYE_CORNERS, ((159, 145), (158, 153), (160, 144)))
LEFT_EYE = _Eye(LEFT_EYELIDS, LEFT_EYE_CORNERS, ((386, 374), (385, 380), (387, 373)))


def eye_openness(landmarks: npt.ArrayLike, eye: _Eye) -> float:
    """Mean lid opening over the eye's width (about 0.3 open, under 0.1 closed)."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(xy[eye.corners[0]] - xy[eye.corners[1]]))
    opening = np.mean([np.linalg.norm(xy[a] - xy[b]) for a, b in eye.lid_pairs])
    return float(opening) / max(width, 1e-6)


def _lid_shifts(uv: npt.NDArray[np.float64], triangles: npt.NDArray[np.int32], eye: _Eye) -> FloatArray:
    """Per face-triangle corner, the outward slide of that eye's lid margin when the eye fully closes
    (zero for corners that are not margin points; the eye corners stay)."""
    margin = [p for p in eye.lids if p not in eye.corners]
    centre = uv[list(eye.lids)].mean(axis=0)
    width = float(np.linalg.norm(uv[eye.corners[0]] - uv[eye.corners[1]]))
    outward = uv[margin] - centre
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-9)
    per_point = np.zeros((uv.shape[0], 2))
    per_point[margin] = outward * LID_STRIP * width
    shifts: FloatArray = per_point[triangles].astype(np.float32)
    return shifts


def _level_coordinates(corners: npt.NDArray[np.float64], scale: float) -> FloatArray:
    """Texture corners at a level ``scale`` times the full size (pixel centres: (x + 0.5) * s - 0.5)."""
    out: FloatArray = ((corners + 0.5) * scale - 0.5).astype(np.float32)
    return out


def _crop_box(
    points: npt.NDArray[np.float64], width: int, height: int, margin: float
) -> tuple[int, int, int, int]:
    """Integer crop box (x0, y0, x1, y1) around the mesh plus a margin, inside the frame."""
    xy = points[:MESH_POINTS, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = margin * float((hi - lo).max()) + 2.0
    x0 = int(np.clip(np.floor(lo[0] - pad), 0, width - 1))
    y0 = int(np.clip(np.floor(lo[1] - pad), 0, height - 1))
    x1 = int(np.clip(np.ceil(hi[0] + pad) + 1, x0 + 1, width))
    y1 = int(np.clip(np.ceil(hi[1] + pad) + 1, y0 + 1, height))
    return x0, y0, x1, y1


def _face_size(xy: npt.NDArray[np.float64]) -> float:
    points = xy[:MESH_POINTS, :2]
    return float((points.max(axis=0) - points.min(axis=0)).max())


@SWAPPERS.register("mesh")
def build_mesh_swapper(config: SwapperConfig) -> MeshSwapper:
    """The instant mesh swapper (no model files; of ``config``, ``keep_occluders``, ``glasses``,
    ``target_glasses`` and ``outline`` apply)."""
    return MeshSwapper(
        MeshSwapSettings(
            shape=ShapeSettings(outline=1.0 if config.outline else 0.0),
            source=SourceSettings(clean=not config.keep_occluders, glasses=config.glasses),
            target_glasses=config.target_glasses,
        )
    )

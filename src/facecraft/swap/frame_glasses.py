"""The target's own glasses, kept on the swapped face.

The swapped face is drawn over the whole face, so a person wearing glasses in the footage lost their
rims inside the face's mask while the temple arms stayed outside it, cut off at the mask's edge (d30.jpg
onto d13.mp4). Glasses sit on the head rigidly, so, per track, a few frames are unwrapped into the
source texture's frontal layout (``source.unwrap``) and searched with the same finder as the source photo
(``glasses.find_glasses``: long thin lines, darker or lighter than the skin, below both eyes in most
directions; on the bundled clips it finds d13's thin half-rim glasses on every frame looked at and
nothing on the eight clips without glasses: ``bench/glasses_detection.py``). Where glasses are found, the
rims' mask, averaged over the looks that found them, is placed on every frame by one affine map fitted on
the eye corners and the nose bridge (``glasses.place_layer``), and the compositor puts the frame's own
pixels back there after blending: the real rims, with their glints and shadows, over the swapped face.

A track decides on its first frame with both eyes open (``MIN_EYE_OPEN``) and refines its mask over
``LOOKS`` looks, ``LOOK_EVERY`` of its frames apart; faces without a track (a still image) are looked at
once.
"""

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.blend.masks import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio
from facecraft.faces.face import Face
from facecraft.swap.glasses import ANCHORS, find_glasses, place_layer
from facecraft.swap.morphology import disc
from facecraft.swap.source import texture_layout, unwrap
from facecraft.swap.triangles import LEFT_BROW, RIGHT_BROW, MeshTopology
from facecraft.types import FloatArray, Frame, Mask

LOOK_FACE_PX = 256.0
"""Frames are searched in a texture where the face is this big (or 1.5 times its size in the frame, if
smaller)."""
MIN_FACE_PX = 64.0
"""Faces smaller than this (frame pixels) are not searched: their rims are a pixel or two wide."""
LOOKS = 4
LOOK_EVERY = 8
BARE_LOOKS = 2
"""A track is looked at on its first frame and then every LOOK_EVERY of its frames, LOOKS times in all, or
BARE_LOOKS times while none of its looks has found glasses (most faces: each look costs about 30 ms on
this machine, so four would add half a millisecond per frame to a 9 s clip)."""
MIN_FOUND = 0.5
"""The track wears glasses while at least this fraction of its looks found them."""
KEEP_RANGE = (0.5, 0.9)
"""A texture pixel's mean rim opacity over the looks that found glasses maps to none up to the first value
and to all from the second: only the rims' core (the finder grows them into their soft edges) and only what
most looks agree on. Wider (0.15 to 0.5), the frame's skin beside the rims came along as a pale band under
d13's lower lens edges on d8.jpg's darker face."""
OPENING_MARGIN = 0.01
"""Around the eye openings (fraction of the face size) nothing is taken: the upper rims often run just
above the lids."""
RIM_THICKNESS = (0.025, 0.045)
"""Rims are looked for up to the first fraction of the face size thick (wire and metal frames, as in the
source photo), and where none are found, up to the second (thick plastic frames: a synthetic face's
6-14 px rims on a 290 px face are found only so). Thin first, because the thicker allowance also takes in
the shadowed creases between the upper rims and the brows of thin frames (d13.mp4). On the bundled media
the second pass finds nothing but a second person with glasses in the group photos, and no clip without
glasses, once frames with lowered lids are left out (``MIN_EYE_OPEN``)."""
BROW_MARGIN = 0.0
"""With the thicker allowance, the brows (the mesh's brow outlines, grown by this fraction of the face size)
are never part of the rims. Grown by 1.5%, they cut off thick frames' upper rims under the brows."""
MIN_EYE_OPEN = 0.18
"""Frames are looked at only while both eyes are at least this open (lid gap over eye width; about 0.3
open): under lowered or closed lids, the shadows below the eyes and the lids' own lines look like a lower
rim (d3.mp4 at 8 s, looking down, was taken for glasses with the thicker rims allowed)."""
TRACK_GAP_CALLS = 60
"""A track unseen for this many calls starts afresh."""


@dataclass(frozen=True, slots=True)
class RimMask:
    """Glasses' rims in texture space: ``alpha`` (float32, 0..1), cropped to where it is not 0, and where
    the anchor points (``glasses.ANCHORS``) sit in it."""

    alpha: Mask
    anchors_uv: FloatArray

    def placed(self, anchors_xy: FloatArray, size_hw: tuple[int, int]) -> Mask:
        """The mask in an image of ``size_hw`` whose anchor points are at ``anchors_xy``."""
        out = np.zeros(size_hw, dtype=np.float32)
        placed = place_layer(self.alpha, self.anchors_uv, anchors_xy, size_hw)
        if placed is not None:
            warped, (x0, y0) = placed
            out[y0 : y0 + warped.shape[0], x0 : x0 + warped.shape[1]] = warped
        return out


@dataclass(slots=True)
class _Track:
    """One track's looks, in a texture layout fixed at its first look."""

    uv: FloatArray
    size_wh: tuple[int, int]
    face_px: float
    alpha_sum: Mask
    looked: int = 0
    found: int = 0
    frames: int = 0
    """How many of this track's frames have been seen (its own count: other faces do not advance it)."""
    last_look: int = 0
    last_call: int = 0
    rims: RimMask | None = None


def look_for_rims(
    frame_bgr: Frame,
    face: Face,
    topology: MeshTopology,
    uv: FloatArray,
    size_wh: tuple[int, int],
    face_px: float,
) -> Mask | None:
    """The rims' opacity (texture-sized float32) found on this frame's face, or None for no glasses."""
    texture, _, drawn = unwrap(frame_bgr, face.landmarks_478, uv, size_wh, topology)
    lightness = cv2.cvtColor(texture, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    nothing_covered = np.zeros(drawn.shape, dtype=bool)
    thin, thick = RIM_THICKNESS
    layer = find_glasses(texture, lightness, nothing_covered, uv, drawn, face_px, OPENING_MARGIN, thin)
    if layer is None:  # thin first: the thicker allowance takes in thin frames' lid creases too
        searched = drawn & ~_brows(uv, drawn.shape, face_px)  # as thick as a plastic rim
        layer = find_glasses(
            texture, lightness, nothing_covered, uv, searched, face_px, OPENING_MARGIN, thick
        )
    if layer is None:
        return None
    alpha: Mask = np.zeros(drawn.shape, dtype=np.float32)
    x0, y0 = layer.origin
    height = min(layer.bgra.shape[0], alpha.shape[0] - y0)
    width = min(layer.bgra.shape[1], alpha.shape[1] - x0)
    opacity = layer.bgra[:height, :width, 3].astype(np.float32) * np.float32(1.0 / 255.0)
    alpha[y0 : y0 + height, x0 : x0 + width] = opacity
    return alpha


def _brows(uv: FloatArray, size_hw: tuple[int, ...], face_px: float) -> npt.NDArray[np.bool_]:
    """The brows in the texture (grown by BROW_MARGIN of the face size): as thick as a plastic rim, they
    would otherwise be kept from the frame with it."""
    brows = np.zeros(size_hw[:2], dtype=np.uint8)
    for brow in (RIGHT_BROW, LEFT_BROW):
        cv2.fillPoly(brows, [np.round(uv[list(brow)]).astype(np.int32)], 1)
    radius = round(BROW_MARGIN * face_px)
    grown = cv2.dilate(brows, disc(radius)) if radius > 0 else brows
    return np.asarray(grown, dtype=bool)


def rims_from_looks(alpha_sum: Mask, found: int, uv: FloatArray) -> RimMask | None:
    """The rims kept from ``found`` looks' summed opacity (``KEEP_RANGE``), cropped, with their anchors."""
    low, high = KEEP_RANGE
    alpha = np.clip((alpha_sum / np.float32(max(found, 1)) - low) / (high - low), 0.0, 1.0).astype(np.float32)
    rows, columns = np.nonzero(alpha)
    if rows.size == 0:
        return None
    x0, y0 = max(int(columns.min()) - 2, 0), max(int(rows.min()) - 2, 0)
    x1, y1 = int(columns.max()) + 3, int(rows.max()) + 3
    anchors = (uv[list(ANCHORS)] - np.array([x0, y0], dtype=np.float32)).astype(np.float32)
    return RimMask(np.ascontiguousarray(alpha[y0:y1, x0:x1]), anchors)


@dataclass(slots=True)
class FrameGlasses:
    """Finds each track's own glasses and places their rims on its frames (see the module docstring).

    Not thread-safe: one per swapper.
    """

    topology: MeshTopology
    _tracks: dict[int, _Track] = field(default_factory=dict, init=False, repr=False)
    _calls: int = field(default=0, init=False, repr=False)

    def reset(self) -> None:
        """Forget every track (a new video)."""
        self._tracks.clear()
        self._calls = 0

    def rims(self, frame_bgr: Frame, face: Face) -> RimMask | None:
        """The rims of the glasses ``face`` wears in the footage, or None (no glasses, or too small)."""
        self._calls += 1
        self._forget_old()
        size = face.size_px
        if size < MIN_FACE_PX:
            return None
        track = self._tracks.get(face.track_id) if face.track_id is not None else None
        if track is None:
            face_px = min(LOOK_FACE_PX, 1.5 * size)
            uv, size_wh = texture_layout(self.topology, face_px)
            track = _Track(uv, size_wh, face_px, np.zeros((size_wh[1], size_wh[0]), dtype=np.float32))
            if face.track_id is not None:
                self._tracks[face.track_id] = track
        track.frames += 1
        due = track.looked == 0 or track.frames - track.last_look >= LOOK_EVERY
        if track.looked < (LOOKS if track.found else BARE_LOOKS) and due and eyes_open(face):
            self._look(track, frame_bgr, face)
        track.last_call = self._calls
        return track.rims if track.found >= max(1, math.ceil(MIN_FOUND * track.looked)) else None

    def _look(self, track: _Track, frame_bgr: Frame, face: Face) -> None:
        track.looked += 1
        track.last_look = track.frames
        alpha = look_for_rims(frame_bgr, face, self.topology, track.uv, track.size_wh, track.face_px)
        if alpha is None:
            return
        track.found += 1
        track.alpha_sum += alpha
        track.rims = rims_from_looks(track.alpha_sum, track.found, track.uv)

    def _forget_old(self) -> None:
        stale = [
            key for key, track in self._tracks.items() if self._calls - track.last_call > TRACK_GAP_CALLS
        ]
        for key in stale:
            del self._tracks[key]


def eyes_open(face: Face) -> bool:
    """Whether both eyes are open enough to look for glasses (``MIN_EYE_OPEN``)."""
    landmarks = face.landmarks_478
    return min(eye_aspect_ratio(landmarks, RIGHT_EYE), eye_aspect_ratio(landmarks, LEFT_EYE)) >= MIN_EYE_OPEN

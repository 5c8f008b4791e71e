"""``QualityRecorder``: watches target and output frames go by and makes a ``QualityReport`` at the end.

Used during a swap (``facecraft swap ... --report OUT.json``, one ``observe`` per frame) and by
``facecraft eval`` (the same calls over a target and a swapped file read in lockstep), so both give the
same numbers for the same frames.

Per frame (a few ms at 720p: every image measure works in small patches around the face):

- the mesh is re-fitted on the output frame from the target face's landmarks (``roi_from_landmarks``),
  and, with ``refit_target`` (default), on the target frame from the same roi, so target and output are
  measured by the same instrument (the target against itself gives pose error 0, correlations 1);
- flicker, jitter, mouth and eye opening, head pose and seams (see their modules).

Identity (dlib, ~75 ms per face) only on the frames an ``IdentitySchedule`` picks: the output face and the
target face of those frames are embedded.

With several faces in a frame, the metrics follow one: the largest face when first seen, followed by its
track id; when that track is gone, the largest face again.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from facecraft.faces.analyzer import LandmarkFitter
from facecraft.faces.face import Face, bbox_from_landmarks
from facecraft.faces.identity import identity_distance
from facecraft.faces.roi import roi_from_landmarks
from facecraft.quality.expression import eye_aspect_ratio, mouth_aspect_ratio
from facecraft.quality.flicker import (
    FLICKER_MARGIN,
    FLICKER_PATCH_PX,
    landmark_jitter_px,
    mean_abs_change,
)
from facecraft.quality.identity import IdentitySampler, IdentitySchedule
from facecraft.quality.patches import BoolArray, PatchBox, extract_patch, hull_mask, patch_box
from facecraft.quality.pose import head_pose, pose_error
from facecraft.quality.report import QualityReport
from facecraft.quality.seams import SEAM_MARGIN, SEAM_PATCH_PX, boundary_band, gradient_energy
from facecraft.quality.series import MetricSeries, build_report
from facecraft.quality.sheet import SHEET_MARGIN, TILE_PX, SheetFrame
from facecraft.types import FloatArray, Frame

Embedder = Callable[[Frame, Face], FloatArray]
"""Face -> identity embedding (``DlibIdentity`` is one)."""


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    """How much to measure.

    identity: which frames to embed. refit_target: measure the target with a fresh mesh fit from the same
    roi as the output's (symmetric: the default; ~1.7 ms per frame at 720p) instead of the landmarks the
    caller passes, which a tracker has smoothed (on d10, the target against itself then gives mar_corr
    0.87 instead of 1). pair_every: 1 measures every frame; N > 2 measures only frames whose index modulo N
    is 0 or 1 (consecutive pairs, so flicker and jitter still see frame-to-frame change) for 2/N of the
    cost. seam_every: seams on every N-th measured frame. sheet_frames: keep crops of this many
    identity-sampled frames for a contact sheet. reuse_target_embedding: compare every identity sample
    with the target face's embedding from its track's first sample (one dlib call per sample instead of
    two; the target person does not change along a track, but pose does, so ``id_to_target`` is a little
    noisier).
    """

    identity: IdentitySchedule = field(default_factory=IdentitySchedule)
    refit_target: bool = True
    pair_every: int = 1
    seam_every: int = 1
    sheet_frames: int = 0
    reuse_target_embedding: bool = False

    @staticmethod
    def for_swap(
        duration_s: float | None,
        identity_interval_s: float = 2.5,
        max_identity_frames: int = 8,
        pair_every: int = 8,
        seam_every: int = 2,
    ) -> "RecorderSettings":
        """For ``facecraft swap --report``, within 10% of a 720p swap's time on two cores: an identity
        sample every 2.5 s (at most 8, spread over the video as it streams), one target embedding per track,
        a quarter of the frames measured (in consecutive pairs), seams on every other measured frame."""
        schedule = IdentitySchedule.over_duration(duration_s, identity_interval_s, max_identity_frames)
        return RecorderSettings(
            identity=schedule, pair_every=pair_every, seam_every=seam_every, reuse_target_embedding=True
        )

    def __post_init__(self) -> None:
        if self.pair_every < 1:
            raise ValueError(f"pair_every must be at least 1, got {self.pair_every}")
        if self.seam_every < 1:
            raise ValueError(f"seam_every must be at least 1, got {self.seam_every}")
        if self.sheet_frames < 0:
            raise ValueError(f"sheet_frames must be 0 or more, got {self.sheet_frames}")


@dataclass(frozen=True, slots=True)
class _Measured:
    """One frame's measured face: landmarks of target and output (None: no face found in the output)."""

    index: int
    track_id: int | None
    target_landmarks: FloatArray
    output_landmarks: FloatArray | None
    size_px: float
    flicker_box: PatchBox
    flicker_mask: BoolArray
    target_patch: Frame
    output_patch: Frame


class QualityRecorder:
    """Accumulates quality metrics frame by frame. One per video; not thread-safe.

    mesh: a landmark fitter for re-fits (``FaceMesh()``: with the iris model the eyelids follow blinks).
    identity: embeds faces for identity samples; ``None`` skips identity (both id numbers ``None``).
    source_embedding: the source photo's embedding; ``None`` leaves ``id_to_source`` ``None``.
    """

    def __init__(
        self,
        mesh: LandmarkFitter,
        identity: Embedder | None = None,
        source_embedding: FloatArray | None = None,
        settings: RecorderSettings = RecorderSettings(),
    ) -> None:
        self._mesh = mesh
        self._identity = identity
        self._source_embedding = source_embedding
        self._settings = settings
        self._sampler = IdentitySampler(settings.identity)
        self._sheet_indices = _sheet_indices(settings)
        self._series = MetricSeries()
        self._previous: _Measured | None = None
        self._primary_track: int | None = None
        self._target_embeddings: dict[int, FloatArray] = {}
        self.sheet_rows: list[SheetFrame] = []

    def note_unpaired(self, frames: int, note: str) -> None:
        """Record frames of one input that had no partner in the other (e.g. different lengths)."""
        self._series.unpaired_frames += frames
        self._series.notes.append(note)

    def observe(
        self, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, target_faces: Sequence[Face]
    ) -> None:
        """Measure one frame: the target as it was, the output as the swap made it, the target's faces."""
        if target_bgr.shape != output_bgr.shape:
            shapes = f"{target_bgr.shape} and {output_bgr.shape}"
            raise ValueError(f"target and output frames differ in shape: {shapes}")
        self._series.frames += 1
        if not self._is_measured(index):
            self._previous = None
            return
        self._series.frames_measured += 1
        face = self._primary(target_faces)
        measured = None if face is None else self._measure(index, target_bgr, output_bgr, face)
        if measured is not None and face is not None:
            self._accumulate(measured, index, time_s, target_bgr, output_bgr, face)
        self._previous = measured

    def report(self) -> QualityReport:
        """The report over every frame observed so far."""
        return build_report(self._series)

    # --- per frame -------------------------------------------------------------------------------

    def _is_measured(self, index: int) -> bool:
        every = self._settings.pair_every
        return every <= 2 or index % every in (0, 1)

    def _primary(self, faces: Sequence[Face]) -> Face | None:
        if not faces:
            return None
        if self._primary_track is not None:
            for face in faces:
                if face.track_id == self._primary_track:
                    return face
        chosen = max(faces, key=lambda f: f.area_px)
        self._primary_track = chosen.track_id
        return chosen

    def _measure(self, index: int, target_bgr: Frame, output_bgr: Frame, face: Face) -> _Measured | None:
        frame_wh = (target_bgr.shape[1], target_bgr.shape[0])
        roi = roi_from_landmarks(face.landmarks_478)
        target_landmarks = face.landmarks_478
        if self._settings.refit_target:
            target_fit = self._mesh.fit(target_bgr, roi)
            if target_fit is not None:
                target_landmarks = target_fit.landmarks_478
        output_fit = self._mesh.fit(output_bgr, roi)
        box = patch_box(target_landmarks, frame_wh, FLICKER_MARGIN, FLICKER_PATCH_PX)
        if box is None:
            return None
        return _Measured(
            index,
            face.track_id,
            target_landmarks,
            None if output_fit is None else output_fit.landmarks_478,
            float(bbox_size(target_landmarks)),
            box,
            hull_mask(target_landmarks, box),
            extract_patch(target_bgr, box),
            extract_patch(output_bgr, box),
        )

    def _accumulate(
        self, now: _Measured, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, face: Face
    ) -> None:
        series = self._series
        previous = self._previous if _follows(self._previous, now) else None
        if previous is not None:
            self._add_flicker(previous, target_bgr, output_bgr)
        if (self._series.frames_measured - 1) % self._settings.seam_every == 0:
            self._add_seams(now.target_landmarks, target_bgr, output_bgr)
        if now.output_landmarks is None:
            return
        series.frames_with_face += 1
        frame_wh = (target_bgr.shape[1], target_bgr.shape[0])
        self._add_expression_and_pose(now.target_landmarks, now.output_landmarks, frame_wh)
        if previous is not None and previous.output_landmarks is not None:
            jitter = landmark_jitter_px(
                previous.output_landmarks,
                now.output_landmarks,
                previous.target_landmarks,
                now.target_landmarks,
            )
            series.jitter_px.append(jitter)
            series.jitter_rel.append(jitter / max(now.size_px, 1.0))
        if self._sampler.is_due(index, time_s):
            self._sampler.mark_taken(index, time_s)
            self._add_identity(now, index, time_s, target_bgr, output_bgr, face.score)

    def _add_flicker(self, previous: _Measured, target_bgr: Frame, output_bgr: Frame) -> None:
        series = self._series
        target_now = extract_patch(target_bgr, previous.flicker_box)
        output_now = extract_patch(output_bgr, previous.flicker_box)
        series.flicker_target += mean_abs_change(previous.target_patch, target_now, previous.flicker_mask)
        series.flicker_output += mean_abs_change(previous.output_patch, output_now, previous.flicker_mask)
        series.flicker_pairs += 1

    def _add_seams(self, target_landmarks: FloatArray, target_bgr: Frame, output_bgr: Frame) -> None:
        frame_wh = (target_bgr.shape[1], target_bgr.shape[0])
        box = patch_box(target_landmarks, frame_wh, SEAM_MARGIN, SEAM_PATCH_PX)
        if box is None:
            return
        target_patch, output_patch = extract_patch(target_bgr, box), extract_patch(output_bgr, box)
        band = boundary_band(target_landmarks, box)
        series = self._series
        series.seam_target += gradient_energy(target_patch, band)
        series.seam_output += gradient_energy(output_patch, band)
        series.seam_frames += 1

    def _add_expression_and_pose(
        self, target_landmarks: FloatArray, output_landmarks: FloatArray, frame_wh: tuple[int, int]
    ) -> None:
        series = self._series
        series.mar.append((mouth_aspect_ratio(target_landmarks), mouth_aspect_ratio(output_landmarks)))
        series.ear.append((eye_aspect_ratio(target_landmarks), eye_aspect_ratio(output_landmarks)))
        target_pose = head_pose(target_landmarks, frame_wh)
        output_pose = head_pose(output_landmarks, frame_wh)
        if target_pose is not None and output_pose is not None:
            series.target_poses.append(target_pose)
            series.output_poses.append(output_pose)

    def _add_identity(
        self, now: _Measured, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, score: float
    ) -> None:
        assert now.output_landmarks is not None
        series = self._series
        series.identity_frames.append(index)
        d_source = d_target = None
        if self._identity is not None:
            output_embedding = self._identity(output_bgr, _face(now.output_landmarks, score))
            target_embedding = self._target_embedding(now, target_bgr, score)
            d_target = identity_distance(output_embedding, target_embedding)
            series.id_to_target.append(d_target)
            if self._source_embedding is not None:
                d_source = identity_distance(output_embedding, self._source_embedding)
                series.id_to_source.append(d_source)
        if self._wants_sheet_row(index):
            self.sheet_rows.append(_sheet_row(now, index, time_s, target_bgr, output_bgr, d_source, d_target))

    def _target_embedding(self, now: _Measured, target_bgr: Frame, score: float) -> FloatArray:
        """The target face's embedding in this frame, or its track's first one when reusing."""
        assert self._identity is not None
        reuse = self._settings.reuse_target_embedding and now.track_id is not None
        if reuse and now.track_id in self._target_embeddings:
            return self._target_embeddings[now.track_id]
        embedding = self._identity(target_bgr, _face(now.target_landmarks, score))
        if reuse and now.track_id is not None:
            self._target_embeddings[now.track_id] = embedding
        return embedding

    def _wants_sheet_row(self, index: int) -> bool:
        taken = len(self.sheet_rows)
        if taken >= self._settings.sheet_frames:
            return False
        wanted = self._sheet_indices
        return wanted is None or (taken < len(wanted) and index >= wanted[taken])


def bbox_size(landmarks_478: FloatArray) -> float:
    """Face size: the larger side of the landmark box, in pixels."""
    x0, y0, x1, y1 = (float(v) for v in bbox_from_landmarks(landmarks_478))
    return max(x1 - x0, y1 - y0)


def _face(landmarks_478: FloatArray, score: float) -> Face:
    return Face(bbox_from_landmarks(landmarks_478), score, landmarks_478)


def _follows(previous: _Measured | None, now: _Measured) -> bool:
    """Whether two measurements are consecutive frames of the same face (so changes between them count)."""
    return previous is not None and previous.index == now.index - 1 and previous.track_id == now.track_id


def _sheet_indices(settings: RecorderSettings) -> tuple[int, ...] | None:
    """Which scheduled identity frames go on the sheet (evenly among them), or ``None``: the first ones."""
    indices = settings.identity.frame_indices
    if indices is None or settings.sheet_frames == 0:
        return None
    count = min(settings.sheet_frames, len(indices))
    if count == 0:
        return ()
    chosen = np.linspace(0, len(indices) - 1, count).round().astype(int)
    return tuple(indices[i] for i in sorted(set(chosen.tolist())))


def _sheet_row(
    now: _Measured,
    index: int,
    time_s: float,
    target_bgr: Frame,
    output_bgr: Frame,
    d_source: float | None,
    d_target: float | None,
) -> SheetFrame:
    assert now.output_landmarks is not None
    frame_wh = (target_bgr.shape[1], target_bgr.shape[0])
    box = patch_box(now.target_landmarks, frame_wh, SHEET_MARGIN, TILE_PX)
    assert box is not None  # the flicker box of the same landmarks exists
    return SheetFrame(
        index,
        time_s,
        extract_patch(target_bgr, box),
        extract_patch(output_bgr, box),
        d_source,
        d_target,
        _frame_pose_error(now.target_landmarks, now.output_landmarks, frame_wh),
        mouth_aspect_ratio(now.target_landmarks),
        mouth_aspect_ratio(now.output_landmarks),
    )


def _frame_pose_error(target: FloatArray, output: FloatArray, frame_wh: tuple[int, int]) -> float | None:
    target_pose, output_pose = head_pose(target, frame_wh), head_pose(output, frame_wh)
    if target_pose is None or output_pose is None:
        return None
    error = pose_error([target_pose], [output_pose])
    return None if error is None else error.mean_deg

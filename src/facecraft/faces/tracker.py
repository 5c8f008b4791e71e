"""Face tracking across video frames.

Each frame, every live track's mesh is re-fitted from its own previous landmarks (cheap, no detector).
The detector runs only every ``detect_every`` frames, or at once when a track is lost or none exists, to
find new faces. Tracks keep their ids through brief misses (a face that comes back near where it left
gets its old id), and landmarks are smoothed with a One-Euro filter, steady at rest and without lag on
fast moves.
"""

from dataclasses import dataclass, field

import numpy as np

from facecraft.faces.analyzer import DUPLICATE_IOU, FaceAnalyzer
from facecraft.faces.face import Face, bbox_from_landmarks, iou_xyxy
from facecraft.faces.lip_edge import lower_lip_to_edge
from facecraft.faces.open_mouth import refine_open_mouth
from facecraft.faces.roi import roi_from_landmarks
from facecraft.faces.smoothing import OneEuroFilter, OneEuroSettings
from facecraft.types import FloatArray, Frame


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """detect_every: run the detector at least every N frames; max_missed: frames a lost track is kept
    for re-identification; revive_distance: how far (in face sizes) a returning face may be from where
    its track was lost; smoothing: the causal filter on emitted landmarks (None: raw, for a centred
    smoothing later, ``faces.lookahead``); refine_open_mouth: open mouths are fitted a second time in a
    larger crop (``faces.open_mouth``) and their lower lip is moved down to the edges the frame shows
    (``faces.lip_edge``)."""

    detect_every: int = 10
    max_missed: int = 30
    revive_distance: float = 0.75
    smoothing: OneEuroSettings | None = field(default_factory=OneEuroSettings)
    refine_open_mouth: bool = True

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {self.detect_every}")
        if self.max_missed < 0:
            raise ValueError(f"max_missed must be 0 or more, got {self.max_missed}")


@dataclass(slots=True)
class _Track:
    """Mutable per-track state, owned by one FaceTracker."""

    track_id: int
    raw_landmarks: FloatArray
    score: float
    smoother: OneEuroFilter | None
    missed: int = 0
    frames_seen: int = 1
    emitted: FloatArray | None = None
    """This frame's landmarks as handed out, when they differ from the fit the track follows (an open
    mouth re-fitted)."""

    @property
    def bbox_xyxy(self) -> FloatArray:
        return bbox_from_landmarks(self.raw_landmarks)

    @property
    def size_px(self) -> float:
        x0, y0, x1, y1 = self.bbox_xyxy
        return float(max(x1 - x0, y1 - y0))

    @property
    def center_xy(self) -> FloatArray:
        x0, y0, x1, y1 = self.bbox_xyxy
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=np.float32)


class FaceTracker:
    """Stateful tracker for one video; make a new one per video."""

    def __init__(self, analyzer: FaceAnalyzer, settings: TrackerSettings = TrackerSettings()) -> None:
        self._analyzer = analyzer
        self._settings = settings
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frame_index = -1
        self.detector_runs = 0

    def update(self, frame_bgr: Frame, time_s: float) -> list[Face]:
        """Faces in this frame, with stable track ids and smoothed landmarks, left to right."""
        self._frame_index += 1
        for track in self._tracks:
            if track.missed > 0:
                track.missed += 1
        lost_now = self._refit_live_tracks(frame_bgr)
        live = [t for t in self._tracks if t.missed == 0]
        due = self._frame_index % self._settings.detect_every == 0
        if due or lost_now or not live:
            self._detect_new_faces(frame_bgr)
        self._drop_duplicates()
        self._forget_old_tracks()
        return self._emit(time_s)

    def _refit_live_tracks(self, frame_bgr: Frame) -> bool:
        lost = False
        for track in self._tracks:
            if track.missed > 0:
                continue
            fit = self._analyzer.mesh.fit(frame_bgr, roi_from_landmarks(track.raw_landmarks))
            if fit is None:
                track.missed = 1
                lost = True
            else:
                track.raw_landmarks = fit.landmarks_478
                track.frames_seen += 1
                track.emitted = (
                    lower_lip_to_edge(
                        frame_bgr, refine_open_mouth(self._analyzer.mesh, frame_bgr, fit.landmarks_478)
                    )
                    if self._settings.refine_open_mouth
                    else None
                )
        return lost

    def _detect_new_faces(self, frame_bgr: Frame) -> None:
        self.detector_runs += 1
        live = [t for t in self._tracks if t.missed == 0]
        for detection in sorted(self._analyzer.detector.detect(frame_bgr), key=lambda d: -d.score):
            owner = next((t for t in live if _covers(t.bbox_xyxy, detection.bbox_xyxy)), None)
            if owner is not None:
                owner.score = detection.score  # refresh the confidence of a tracked face
                continue
            face = self._analyzer.face_from_detection(frame_bgr, detection)
            if face is None or any(iou_xyxy(face.bbox_xyxy, t.bbox_xyxy) > DUPLICATE_IOU for t in live):
                continue
            track = self._revive(face) or self._start(face)
            live.append(track)

    def _revive(self, face: Face) -> _Track | None:
        """Give a returning face the id of the nearest recently lost track, if close enough."""
        center = (face.bbox_xyxy[:2] + face.bbox_xyxy[2:]) / 2
        best: _Track | None = None
        best_distance = self._settings.revive_distance
        for track in self._tracks:
            if track.missed == 0:
                continue
            distance = float(np.linalg.norm(center - track.center_xy)) / max(track.size_px, 1.0)
            size_ratio = face.size_px / max(track.size_px, 1.0)
            if distance < best_distance and 0.5 < size_ratio < 2.0:
                best, best_distance = track, distance
        if best is not None:
            best.raw_landmarks, best.score, best.missed = face.landmarks_478, face.score, 0
            best.emitted = None
            best.frames_seen += 1
        return best

    def _start(self, face: Face) -> _Track:
        smoothing = self._settings.smoothing
        smoother = OneEuroFilter(smoothing) if smoothing is not None else None
        track = _Track(self._next_id, face.landmarks_478, face.score, smoother)
        self._next_id += 1
        self._tracks.append(track)
        return track

    def _drop_duplicates(self) -> None:
        """Two tracks that converged on the same face: keep the one seen longer."""
        live = sorted((t for t in self._tracks if t.missed == 0), key=lambda t: (-t.frames_seen, t.track_id))
        kept: list[_Track] = []
        for track in live:
            if any(iou_xyxy(track.bbox_xyxy, k.bbox_xyxy) > DUPLICATE_IOU for k in kept):
                self._tracks.remove(track)
            else:
                kept.append(track)

    def _forget_old_tracks(self) -> None:
        self._tracks = [t for t in self._tracks if t.missed <= self._settings.max_missed]

    def _emit(self, time_s: float) -> list[Face]:
        faces: list[Face] = []
        for track in self._tracks:
            if track.missed > 0:
                continue
            landmarks = track.raw_landmarks if track.emitted is None else track.emitted
            smoothed = (
                landmarks if track.smoother is None else track.smoother(landmarks, time_s, track.size_px)
            )
            faces.append(Face(bbox_from_landmarks(smoothed), track.score, smoothed, track.track_id))
        return sorted(faces, key=lambda f: float(f.bbox_xyxy[0]))


def _covers(track_bbox: FloatArray, detection_bbox: FloatArray) -> bool:
    """A detection belongs to a live track when its centre lies inside the track's box."""
    cx = (detection_bbox[0] + detection_bbox[2]) / 2
    cy = (detection_bbox[1] + detection_bbox[3]) / 2
    return bool(track_bbox[0] <= cx <= track_bbox[2] and track_bbox[1] <= cy <= track_bbox[3])

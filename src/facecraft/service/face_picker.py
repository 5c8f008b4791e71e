"""Faces in an uploaded target, with thumbnails, so a user can pick which one to replace (``index:N``).

The faces are listed in the order the ``index:N`` policy counts them: each index is resolved through
``FaceSelector`` itself, so the page and the swap can never disagree.
"""

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facecraft.errors import MediaError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import Face
from facecraft.faces.selection import FaceSelector, SelectionPolicy
from facecraft.media.image import read_image
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.service.jobs import JsonDict, UploadKind
from facecraft.types import Frame

SAMPLE_FRACTIONS = (0.0, 0.25, 0.5, 0.75)
"""Where in a video to look for faces (fractions of its length); the first frame with faces wins."""
THUMB_MAX_PX = 160
THUMB_MARGIN = 0.25
JPEG_QUALITY = 85


@dataclass(frozen=True, slots=True)
class FacePick:
    index: int
    face: Face
    thumbnail_jpeg: bytes

    def to_json(self) -> JsonDict:
        return {
            "index": self.index,
            "bbox_xyxy": [round(float(v), 2) for v in self.face.bbox_xyxy],
            "score": round(float(self.face.score), 4),
            "thumbnail": "data:image/jpeg;base64," + base64.b64encode(self.thumbnail_jpeg).decode("ascii"),
        }


def order_for_index_policy(frame_bgr: Frame, faces: list[Face]) -> list[Face]:
    """Faces in ``index:N`` order, each found by a fresh selector for that N (the swap's own code)."""
    tracked = [face.with_track(i) for i, face in enumerate(faces)]
    ordered: list[Face] = []
    for index in range(len(tracked)):
        chosen = FaceSelector(SelectionPolicy("index", index=index)).select(frame_bgr, tracked)
        ordered.extend(chosen[:1])
    return ordered


def thumbnail_jpeg(frame_bgr: Frame, face: Face) -> bytes:
    """A JPEG of the face with a margin around it, at most ``THUMB_MAX_PX`` on its longer side."""
    height, width = frame_bgr.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in face.bbox_xyxy)
    pad = THUMB_MARGIN * max(x1 - x0, y1 - y0)
    left, top = max(0, int(x0 - pad)), max(0, int(y0 - pad))
    right, bottom = min(width, int(x1 + pad) + 1), min(height, int(y1 + pad) + 1)
    crop: np.ndarray = frame_bgr[top:bottom, left:right]
    scale = min(1.0, THUMB_MAX_PX / max(crop.shape[:2]))
    if scale < 1.0:
        size_wh = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size_wh, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(crop), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise MediaError("could not encode a face thumbnail as JPEG")
    return bytes(encoded.tobytes())


class FacePicker:
    """Finds faces in uploads. The analyzer loads on first use and is used by one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._analyzer: FaceAnalyzer | None = None

    def pick(self, path: Path, kind: UploadKind, duration_s: float | None) -> tuple[float, list[FacePick]]:
        """(time of the analysed frame in seconds, the faces in ``index:N`` order)."""
        for time_s, frame_bgr in _sample_frames(path, kind, duration_s):
            faces = self._analyze(frame_bgr)
            if faces:
                ordered = order_for_index_policy(frame_bgr, faces)
                picks = [FacePick(i, f, thumbnail_jpeg(frame_bgr, f)) for i, f in enumerate(ordered)]
                return time_s, picks
        return 0.0, []

    def _analyze(self, frame_bgr: Frame) -> list[Face]:
        with self._lock:
            if self._analyzer is None:
                self._analyzer = build_analyzer()
            return self._analyzer.analyze(frame_bgr)


def _sample_frames(path: Path, kind: UploadKind, duration_s: float | None) -> Iterator[tuple[float, Frame]]:
    """The image, or a few frames spread over the video (decoded one at a time, as they are needed)."""
    if kind == "image":
        yield 0.0, read_image(path)
        return
    length = duration_s or 0.0
    for start_s in sorted({round(fraction * length, 3) for fraction in SAMPLE_FRACTIONS}):
        with FrameReader(path, start_s=start_s or None) as reader:
            frame = next(iter(reader), None)
        if frame is not None:
            yield frame.time_s, frame.image_bgr

"""Face analysis of a whole image or video, frame by frame, as one stream of typed results.

Used by ``facecraft faces`` (table, JSON, overlay) and by anything else that needs faces over time.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import NoFaceError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import Face
from facecraft.faces.identity import DlibIdentity
from facecraft.faces.selection import FaceSelector, SelectionPolicy
from facecraft.faces.tracker import FaceTracker
from facecraft.media.image import read_image
from facecraft.media.probe import is_image_path
from facecraft.media.reader import FrameReader
from facecraft.types import FloatArray, Frame


@dataclass(frozen=True, slots=True)
class FrameFaces:
    """The faces of one frame; ``identity_distances`` (one per face) only when a reference was given."""

    index: int
    time_s: float
    frame_bgr: Frame
    faces: tuple[Face, ...]
    identity_distances: tuple[float, ...] | None = None

    def to_json(self) -> dict[str, object]:
        faces: list[dict[str, object]] = []
        for i, face in enumerate(self.faces):
            item: dict[str, object] = {
                "bbox_xyxy": [round(float(v), 1) for v in face.bbox_xyxy],
                "score": round(face.score, 4),
                "track_id": face.track_id,
            }
            if self.identity_distances is not None:
                item["identity_distance"] = round(self.identity_distances[i], 4)
            faces.append(item)
        return {"index": self.index, "time_s": round(self.time_s, 4), "faces": faces}


def embed_reference(identity: DlibIdentity, analyzer: FaceAnalyzer, photo: Path) -> FloatArray:
    """Identity of the largest face in a reference photo."""
    image_bgr = read_image(photo)
    faces = analyzer.analyze(image_bgr)
    if not faces:
        raise NoFaceError(f"reference photo '{photo}'")
    largest = max(faces, key=lambda f: f.area_px)
    return identity.embed(image_bgr, largest)


def iter_faces(
    path: Path,
    analyzer: FaceAnalyzer,
    make_tracker: Callable[[], FaceTracker],
    selector: FaceSelector | None = None,
) -> Iterator[FrameFaces]:
    """Faces frame by frame: one frame for an image (ids 0, 1, ... left to right), every frame of a video.

    With a reference selector, each face carries its identity distance to the reference.
    """
    if is_image_path(path):
        image_bgr = read_image(path)
        faces = [face.with_track(i) for i, face in enumerate(analyzer.analyze(image_bgr))]
        yield _frame_faces(0, 0.0, image_bgr, faces, selector)
        return
    tracker = make_tracker()
    with FrameReader(path) as reader:
        for frame in reader:
            faces = tracker.update(frame.image_bgr, frame.time_s)
            yield _frame_faces(frame.index, frame.time_s, frame.image_bgr, faces, selector)


def _frame_faces(
    index: int, time_s: float, frame_bgr: Frame, faces: list[Face], selector: FaceSelector | None
) -> FrameFaces:
    if selector is None:
        return FrameFaces(index, time_s, frame_bgr, tuple(faces))
    distances = tuple(selector.distance_to_reference(frame_bgr, f) for f in faces)
    return FrameFaces(index, time_s, frame_bgr, tuple(faces), distances)


def reference_selector(identity: DlibIdentity, reference: FloatArray) -> FaceSelector:
    return FaceSelector(SelectionPolicy("reference"), reference_embedding=reference, embed=identity.embed)

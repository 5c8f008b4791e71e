"""Face analysis of one image: detect every face, then fit the dense mesh (and iris) to each."""

from typing import Protocol

from facecraft.faces.face import Detection, Face, bbox_from_landmarks, iou_xyxy
from facecraft.faces.mesh import MeshFit
from facecraft.faces.roi import FaceRoi, roi_from_detection
from facecraft.types import Frame

DUPLICATE_IOU = 0.5
"""Two meshes whose boxes overlap more than this are the same face."""


class FaceDetector(Protocol):
    def detect(self, frame_bgr: Frame) -> list[Detection]: ...


class LandmarkFitter(Protocol):
    def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None: ...


class FaceAnalyzer:
    """Detector plus mesh. Stateless between calls: for video, ``FaceTracker`` adds time."""

    def __init__(self, detector: FaceDetector, mesh: LandmarkFitter) -> None:
        self.detector = detector
        self.mesh = mesh

    def face_from_detection(self, frame_bgr: Frame, detection: Detection) -> Face | None:
        """Fit the mesh inside a detection; ``None`` when the mesh sees no face there."""
        fit = self.mesh.fit(frame_bgr, roi_from_detection(detection))
        if fit is None:
            return None
        return Face(bbox_from_landmarks(fit.landmarks_478), detection.score, fit.landmarks_478)

    def analyze(self, frame_bgr: Frame) -> list[Face]:
        """All faces in the image, left to right, each with 478 landmarks."""
        faces: list[Face] = []
        for detection in sorted(self.detector.detect(frame_bgr), key=lambda d: -d.score):
            face = self.face_from_detection(frame_bgr, detection)
            if face is None or any(iou_xyxy(face.bbox_xyxy, f.bbox_xyxy) > DUPLICATE_IOU for f in faces):
                continue
            faces.append(face)
        return sorted(faces, key=lambda f: float(f.bbox_xyxy[0]))

"""The one place where names and options become objects. Models load here, when asked, never at import."""

from dataclasses import dataclass

from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.detector import BlazeFaceDetector
from facecraft.faces.identity import DlibIdentity
from facecraft.faces.mesh import FaceMesh
from facecraft.faces.smoothing import OneEuroSettings
from facecraft.faces.tracker import FaceTracker, TrackerSettings


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    num_threads: int = 1
    detect_every: int = 10


def build_analyzer(config: AnalysisConfig = AnalysisConfig()) -> FaceAnalyzer:
    return FaceAnalyzer(
        BlazeFaceDetector(num_threads=config.num_threads), FaceMesh(num_threads=config.num_threads)
    )


def build_tracker(
    analyzer: FaceAnalyzer, config: AnalysisConfig = AnalysisConfig(), smooth: bool = True
) -> FaceTracker:
    """A tracker for one video; ``smooth`` False leaves landmarks raw (for a later centred smoothing)."""
    smoothing = OneEuroSettings() if smooth else None
    return FaceTracker(analyzer, TrackerSettings(detect_every=config.detect_every, smoothing=smoothing))


def build_identity() -> DlibIdentity:
    return DlibIdentity()

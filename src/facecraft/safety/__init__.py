"""The content gate: refuse sexual content in a job's source and target, always on.

``build_content_gate().check_job(source, target)`` raises :class:`ContentRefusedError` (exit code 3)
before any output is written, or returns what it checked.
"""

from facecraft.safety.gate import (
    REFUSED_LABELS,
    ContentCheck,
    ContentGate,
    ContentPolicy,
    ContentRefusedError,
    FindingDetector,
    JobCheck,
    RefusedLabel,
    build_content_gate,
)
from facecraft.safety.nudenet import NUDITY_LABELS, Finding, NudityDetector, NudityLabel

__all__ = [
    "NUDITY_LABELS",
    "REFUSED_LABELS",
    "ContentCheck",
    "ContentGate",
    "ContentPolicy",
    "ContentRefusedError",
    "Finding",
    "FindingDetector",
    "JobCheck",
    "NudityDetector",
    "NudityLabel",
    "RefusedLabel",
    "build_content_gate",
]

"""Extension points of the swap runner, for the parts that act on every output.

- ``FrameStage``: runs on each finished frame after blending and before encoding (the invisible
  watermark and the visible label go here).
- ``OutputStep``: runs once on the complete output file after it is written (C2PA signing, the
  provenance record go here).

Both are passed in by the builder, so the CLI, the web service and the distributed runner mark their
outputs through the same code.
"""

from pathlib import Path
from typing import Protocol

from facecraft.types import Frame


class FrameStage(Protocol):
    def process(self, frame_bgr: Frame, index: int, time_s: float) -> Frame: ...


class OutputStep(Protocol):
    def finish(self, output: Path) -> list[str]:
        """Act on the written output; return notes for the user."""
        ...

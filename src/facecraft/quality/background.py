"""``BackgroundRecorder``: a ``QualityRecorder`` on its own thread, so the swap's report uses idle CPU.

``observe`` only queues references to the frames (no copy): the caller must not change a frame after
passing it (the swap runner does not: decoded frames and composited outputs are fresh arrays). The
queue is bounded, so a recorder that falls behind slows the swap a little instead of holding memory.
The mesh, OpenCV and dlib release the GIL for most of their work, so on two cores the measuring
overlaps the swap's own Python-light stages.
"""

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from facecraft.faces.face import Face
from facecraft.faces.identity import DlibIdentity
from facecraft.faces.mesh import FaceMesh
from facecraft.pipeline.background import BackgroundWorker
from facecraft.quality.recorder import QualityRecorder, RecorderSettings
from facecraft.quality.report import QualityReport
from facecraft.swap.base import SourceIdentity
from facecraft.types import Frame

_Item = tuple[int, float, Frame, Frame, tuple[Face, ...]]


class BackgroundRecorder:
    """Same ``observe`` and ``report`` as ``QualityRecorder``; a thread error is raised by the next call."""

    def __init__(self, recorder: QualityRecorder, max_queued: int = 8) -> None:
        self._recorder = recorder
        self._worker: BackgroundWorker[_Item] = BackgroundWorker(
            lambda item: recorder.observe(*item), "facecraft-quality", max_queued
        )

    @property
    def recorder(self) -> QualityRecorder:
        """The wrapped recorder (read it only after ``report`` or ``close``)."""
        return self._recorder

    def observe(
        self, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, target_faces: Sequence[Face]
    ) -> None:
        self._worker.submit((index, time_s, target_bgr, output_bgr, tuple(target_faces)))

    def report(self) -> QualityReport:
        """Wait for every queued frame, then the report."""
        self.close()
        return self._recorder.report()

    def close(self) -> None:
        self._worker.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._worker.__exit__(kind, error, trace)


class SwapRecorder(Protocol):
    """What the swap runner needs: a ``FrameObserver`` that also gives the report at the end."""

    def observe(
        self, index: int, time_s: float, target_bgr: Frame, output_bgr: Frame, target_faces: Sequence[Face]
    ) -> None: ...

    def report(self) -> QualityReport: ...


def build_swap_recorder(
    source: SourceIdentity | None,
    duration_s: float | None,
    *,
    pair_every: int = 8,
    background: bool = True,
) -> SwapRecorder:
    """The recorder for ``facecraft swap --report`` (loads the mesh and dlib: a fraction of a second).

    One per target: make a new one for each. ``source``: the swap's source (its embedding is computed here
    when it carries none; ``None``: no ``id_to_source``). ``duration_s``: the target's length (``None`` for an
    image), to spread the identity samples. ``background``: measure on a thread of its own (a gain where
    cores are idle; on two busy cores it costs the same as inline).
    """
    identity = DlibIdentity()
    embedding = None
    if source is not None:
        embedding = (
            source.embedding
            if source.embedding is not None
            else identity.embed(source.image_bgr, source.face)
        )
    settings = RecorderSettings.for_swap(duration_s, pair_every=pair_every)
    recorder = QualityRecorder(FaceMesh(with_iris=False), identity, embedding, settings)  # cheap: under 10%
    return BackgroundRecorder(recorder) if background else recorder

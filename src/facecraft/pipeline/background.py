"""Encoding on a background thread, so analysis, swapping and encoding overlap on both cores."""

import queue
import threading
from types import TracebackType
from typing import Self

from facecraft.media.writer import FrameWriter
from facecraft.types import Frame


class BackgroundWriter:
    """Wraps an open ``FrameWriter``: ``write`` queues (bounded, so memory stays flat), a thread encodes.

    An error in the encoder thread is raised again by the next ``write`` or by ``close``.
    """

    def __init__(self, writer: FrameWriter, max_queued: int = 6) -> None:
        self._writer = writer
        self._queue: queue.Queue[tuple[Frame, float] | None] = queue.Queue(maxsize=max_queued)  # None: stop
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="facecraft-encoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain after a failure so the producer never blocks
            frame_bgr, time_s = item
            try:
                self._writer.write(frame_bgr, time_s)
            except BaseException as error:  # re-raised in the caller's thread
                self._error = error

    def write(self, frame_bgr: Frame, time_s: float) -> None:
        self._raise_pending()
        self._queue.put((frame_bgr, time_s))

    def close(self) -> None:
        """Wait until every queued frame is encoded."""
        self._queue.put(None)
        self._thread.join()
        self._raise_pending()

    def _raise_pending(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if kind is None:
            self._raise_pending()

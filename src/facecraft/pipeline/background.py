"""Work handed to a background thread through a bounded queue, so both cores stay busy.

``BackgroundWorker`` is the one mechanism; ``BackgroundWriter`` (encoding) and the quality package's
``BackgroundRecorder`` use it. The queue is bounded, so a slow consumer slows the producer a little
instead of holding memory. An error in the thread is raised again by the next ``submit``, ``raise_error``
or ``close``. Leaving the ``with`` block on an exception drops the items still queued, so a failed or
cancelled run stops at once instead of finishing work whose result is thrown away.
"""

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

from facecraft.media.writer import FrameWriter
from facecraft.types import Frame

T = TypeVar("T")


class BackgroundWorker(Generic[T]):
    """Calls ``handle(item)`` on a thread of its own for every submitted item, in order."""

    def __init__(self, handle: Callable[[T], object], name: str, max_queued: int = 6) -> None:
        self._handle = handle
        self._queue: queue.Queue[tuple[T] | None] = queue.Queue(maxsize=max(1, max_queued))  # None: stop
        self._error: BaseException | None = None
        self._dropping = False  # set when the caller gave up: queued items are skipped
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None or self._dropping:
                continue  # drain after a failure so the producer never blocks
            try:
                self._handle(item[0])
            except BaseException as error:  # re-raised in the caller's thread
                self._error = error

    def submit(self, item: T) -> None:
        self._raise_pending()
        if not self._thread.is_alive():
            raise RuntimeError(f"{self._thread.name} is closed")
        self._queue.put((item,))

    def raise_error(self) -> None:
        """Raise the thread's error now, if it had one (a cheap poll between submits)."""
        self._raise_pending()

    def close(self) -> None:
        """Wait until every submitted item is handled; raise the thread's error, if any."""
        if self._thread.is_alive():
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
        if kind is not None:
            self._dropping = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if kind is None:
            self._raise_pending()


class BackgroundWriter(BackgroundWorker[tuple[Frame, float]]):
    """Wraps an open ``FrameWriter``: ``write`` queues the frame, a thread encodes it."""

    def __init__(self, writer: FrameWriter, max_queued: int = 6) -> None:
        super().__init__(lambda item: writer.write(*item), "facecraft-encoder", max_queued)

    def write(self, frame_bgr: Frame, time_s: float) -> None:
        self.submit((frame_bgr, time_s))

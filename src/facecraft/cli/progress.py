"""The progress display shared by every long-running command (frames, fps, ETA)."""

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class FpsColumn(ProgressColumn):
    """Frames per second, as rich estimates it from recent steps."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:5.1f} fps" if task.speed else "   -- fps", style="progress.data.speed")


def frame_progress(console: Console, label: str, *, disable: bool = False) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        FpsColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable,
    )

"""``facecraft faces``: analyse an image or video, summarise per track, write JSON and an overlay."""

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from facecraft.cli.progress import frame_progress
from facecraft.faces.draw import draw_faces
from facecraft.media.image import write_image
from facecraft.media.probe import is_image_path, probe
from facecraft.media.writer import FrameWriter
from facecraft.pipeline.analyze import FrameFaces, embed_reference, iter_faces, reference_selector
from facecraft.pipeline.builder import AnalysisConfig, build_analyzer, build_identity, build_tracker


@dataclass(frozen=True, slots=True)
class FacesOptions:
    path: Path
    reference: Path | None
    overlay: Path | None
    detect_every: int
    show_progress: bool


@dataclass(slots=True)
class FacesResult:
    frames_json: list[dict[str, object]] = field(default_factory=list)
    frames: int = 0
    tracks: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    distances: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, item: FrameFaces) -> None:
        self.frames += 1
        self.frames_json.append(item.to_json())
        for i, face in enumerate(item.faces):
            key = str(face.track_id) if face.track_id is not None else f"#{i}"
            self.tracks[key].append(face.score)
            if item.identity_distances is not None:
                self.distances[key].append(item.identity_distances[i])

    def summary_table(self) -> Table:
        table = Table(title=f"{self.frames} frame(s), {len(self.tracks)} face track(s)")
        for column in ("face", "frames seen", "mean score", "identity distance"):
            table.add_column(column)
        for key, scores in sorted(self.tracks.items(), key=lambda item: _track_order(item[0])):
            distances = self.distances.get(key)
            shown = f"{sum(distances) / len(distances):.3f}" if distances else "-"
            table.add_row(key, str(len(scores)), f"{sum(scores) / len(scores):.3f}", shown)
        return table


def _track_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def _overlay_labels(item: FrameFaces) -> list[str]:
    labels = []
    for i, face in enumerate(item.faces):
        name = f"id {face.track_id}" if face.track_id is not None else f"#{i}"
        extra = f" d={item.identity_distances[i]:.2f}" if item.identity_distances is not None else ""
        labels.append(f"{name} {face.score:.2f}{extra}")
    return labels


def run_faces(options: FacesOptions, console: Console) -> FacesResult:
    config = AnalysisConfig(detect_every=options.detect_every)
    analyzer = build_analyzer(config)
    selector = None
    if options.reference is not None:
        identity = build_identity()
        selector = reference_selector(identity, embed_reference(identity, analyzer, options.reference))
    image = is_image_path(options.path)
    total = 1 if image else probe(options.path).frame_count
    result = FacesResult()
    stream = iter_faces(options.path, analyzer, lambda: build_tracker(analyzer, config), selector)
    with ExitStack() as stack:
        progress = stack.enter_context(
            frame_progress(console, "faces", disable=not options.show_progress or image)
        )
        task = progress.add_task("faces", total=total or None)
        writer = None
        if options.overlay is not None and not image:
            writer = stack.enter_context(
                FrameWriter(options.overlay, fps=probe(options.path).fps, audio_from=options.path)
            )
        for item in stream:
            result.add(item)
            if options.overlay is not None:
                drawn = draw_faces(item.frame_bgr, list(item.faces), _overlay_labels(item))
                if writer is not None:
                    writer.write(drawn, item.time_s)
                else:
                    write_image(options.overlay, drawn)
            progress.update(task, advance=1)
    return result

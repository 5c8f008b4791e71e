"""Runs one job. ``JobRunner`` is what the worker pool needs; ``LibraryRunner`` is the real one.

``LibraryRunner`` wires the same library calls as ``facecraft swap`` (``build_swap``,
``build_swap_marking``, ``build_swap_recorder``, ``run_swap``) and then verifies the output, so a job's
provenance is exactly what ``facecraft verify --json`` says about the file. A runner raises
``facecraft.pipeline.swap.CancelledError`` when ``cancel`` is set, and FacecraftErrors for refusals.
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from facecraft.blend.compositor import CompositeSettings
from facecraft.faces.selection import SelectionPolicy
from facecraft.media.probe import is_image_path, probe
from facecraft.pipeline.marking import MarkingOptions
from facecraft.pipeline.swap import EncodeOptions, SwapRequest, run_swap
from facecraft.pipeline.swap_builder import SwapConfig, build_swap, build_swap_marking
from facecraft.provenance.verify import verify
from facecraft.quality.background import build_swap_recorder
from facecraft.service.jobs import JobOptions, JobOutcome, JobSpec, JsonDict

ProgressCallback = Callable[[int, int | None], None]
"""(frames done, frames expected or None), as ``run_swap`` reports it."""


class JobRunner(Protocol):
    def run(self, spec: JobSpec, on_progress: ProgressCallback, cancel: threading.Event) -> JobOutcome: ...


def selection_policy(options: JobOptions, reference: Path | None) -> SelectionPolicy:
    if options.faces == "reference":
        return SelectionPolicy("reference", reference_path=reference)
    return SelectionPolicy.parse(options.faces)


class LibraryRunner:
    """The real runner: the library's swap pipeline, its quality recorder and ``verify``.

    config_dir: facecraft's config dir (signing identity, record store); None for the user's.
    """

    def __init__(self, config_dir: Path | None = None) -> None:
        self._config_dir = config_dir

    def run(self, spec: JobSpec, on_progress: ProgressCallback, cancel: threading.Event) -> JobOutcome:
        options = spec.options
        config = SwapConfig(
            source=spec.source,
            faces=selection_policy(options, spec.reference),
            swapper=options.swapper,
            composite=CompositeSettings(
                blend=options.blend,
                color=options.color,
                forehead=options.forehead,
                keep_lips=options.keep_lips,
            ),
            keep_occluders=options.keep_occluders,
            glasses=options.glasses,
            target_glasses=options.target_glasses,
            outline=options.outline,
        )
        request = SwapRequest(
            target=spec.target,
            output=spec.output,
            start_s=options.start_s,
            end_s=options.end_s,
            encode=EncodeOptions(codec=options.codec, crf=options.crf),
        )
        marking_options = MarkingOptions(label=options.label or None, config_dir=self._config_dir)
        components = build_swap(config)
        marking = build_swap_marking(config, request, marking_options)
        recorder = None
        if options.report:
            duration_s = None if is_image_path(spec.target) else probe(spec.target).duration_s
            recorder = build_swap_recorder(components.source, duration_s, background=False)
            components.observers = (*components.observers, recorder)
        swap_report = run_swap(request, components, marking, on_progress, cancel)
        report: JsonDict | None = None
        if recorder is not None:
            report = swap_report.to_json() | {"quality": recorder.report().to_json()}
            report["output"] = spec.output.name
        provenance = verify(spec.output, config_dir=self._config_dir).to_json()
        return JobOutcome(
            output=spec.output,
            frames=swap_report.frames,
            seconds=swap_report.seconds,
            stage_ms=swap_report.stage_ms,
            notes=swap_report.notes,
            report=report,
            provenance=provenance,
        )

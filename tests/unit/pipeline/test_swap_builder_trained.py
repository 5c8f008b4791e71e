"""The swap builder with the trained swapper: a swap may name no source photo (the model's own source
face stands in), the mesh swapper still needs one, and provenance names the model's card."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facecraft.blend.compositor import CompositeSettings
from facecraft.cli.swap_command import SwapUsageError, resolve_swapper, split_inputs
from facecraft.faces.face import Face
from facecraft.media.image import write_image
from facecraft.pipeline import swap_builder
from facecraft.pipeline.marking import Marking, MarkingOptions
from facecraft.pipeline.swap import SwapRequest
from facecraft.pipeline.swap_builder import (
    SourceRequiredError,
    SwapConfig,
    build_swap,
    build_swap_marking,
    composite_settings,
    load_swap_source,
    source_path,
    swap_settings,
    swapper_model,
    swapper_names,
    swapper_threads,
)
from facecraft.provenance.record import InputRole, JsonScalar
from facecraft.registry import Registry
from facecraft.swap.base import SourceIdentity, SwapperConfig, SwapperFactory, SwapResult
from facecraft.swap.trained.card import SOURCE_FACE_FILE, FacesetSummary, ModelCard, ModelCardError
from facecraft.swap.trained.onnx_swapper import TrainedModelError
from facecraft.types import Frame


class FakeSwapper:
    def prepare(self, source: SourceIdentity) -> tuple[str, ...]:
        del source
        return ()

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult:
        raise NotImplementedError


def card_only_model(root: Path, with_source_face: bool = True) -> Path:
    """A model directory with its card (96 px whole-face, 5000 steps) and, if asked, its source face."""
    root.mkdir(parents=True, exist_ok=True)
    ModelCard(
        size=96,
        face_type="whole-face",
        steps=5000,
        source=FacesetSummary("faces/me", 50),
        target=FacesetSummary("faces/clip", 400),
    ).save(root)
    if with_source_face:
        write_image(root / SOURCE_FACE_FILE, np.full((96, 96, 3), 120, np.uint8))
    return root


def test_the_trained_backend_is_registered() -> None:
    assert {"mesh", "trained"} <= set(swapper_names())


def test_a_named_source_photo_is_used_with_either_swapper(tmp_path: Path) -> None:
    photo = tmp_path / "me.jpg"
    assert source_path(SwapConfig(source=photo)) == photo
    assert source_path(SwapConfig(source=photo, swapper="trained", model_dir=tmp_path)) == photo


def test_without_a_source_the_trained_model_brings_its_own_face(tmp_path: Path) -> None:
    config = SwapConfig(source=None, swapper="trained", model_dir=tmp_path / "model")
    assert source_path(config) == tmp_path / "model" / SOURCE_FACE_FILE


def test_without_a_source_the_mesh_swapper_is_refused_before_any_model_loads() -> None:
    with pytest.raises(SourceRequiredError, match="the mesh swapper needs a source photo"):
        build_swap(SwapConfig(source=None))


def test_without_a_source_or_a_model_the_trained_swapper_asks_for_model() -> None:
    with pytest.raises(TrainedModelError, match="--model MODEL_DIR"):
        source_path(SwapConfig(source=None, swapper="trained"))


def test_a_model_without_its_source_face_needs_a_source_photo(tmp_path: Path) -> None:
    model = card_only_model(tmp_path / "model", with_source_face=False)
    config = SwapConfig(source=None, swapper="trained", model_dir=model)
    with pytest.raises(TrainedModelError, match=r"no source_face\.png; name a source photo"):
        load_swap_source(config, analyzer=None)  # type: ignore[arg-type]  # fails before analysing


def test_provenance_names_the_models_source_face_and_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = card_only_model(tmp_path / "my-model")
    seen: dict[str, object] = {}

    def fake_marking(
        inputs: dict[InputRole, Path],
        models: tuple[str, ...],
        options: MarkingOptions,
        settings: dict[str, JsonScalar],
    ) -> Marking:
        seen.update(inputs=inputs, models=models, settings=settings)
        return Marking(watermark=None, label=None, output_steps=(), record_id=0)  # type: ignore[arg-type]

    monkeypatch.setattr(swap_builder, "build_marking", fake_marking)
    config = SwapConfig(source=None, swapper="trained", model_dir=model)
    request = SwapRequest(target=tmp_path / "clip.mp4", output=tmp_path / "out.mp4")
    build_swap_marking(config, request, MarkingOptions())
    assert seen["inputs"] == {"source": model / SOURCE_FACE_FILE, "target": request.target}
    models = seen["models"]
    assert isinstance(models, tuple)
    assert models[-1] == "facecraft trained swapper (my-model card: 5000 steps, 96 px whole-face)"
    assert models[:-1] == swap_builder.MODELS_USED
    settings = seen["settings"]
    assert isinstance(settings, dict) and settings["swapper"] == "trained"


def test_build_swap_gives_the_trained_swapper_its_model_and_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[SwapperConfig] = []
    registry: Registry[SwapperFactory] = Registry("swapper")

    @registry.register("trained")
    def build_fake(config: SwapperConfig) -> FakeSwapper:
        built.append(config)
        return FakeSwapper()

    monkeypatch.setattr(swap_builder, "SWAPPERS", registry)
    monkeypatch.setattr(swap_builder, "build_analyzer", lambda config: None)
    monkeypatch.setattr(swap_builder, "load_swap_source", lambda config, analyzer: None)
    monkeypatch.setattr(swap_builder, "build_content_gate", lambda: None)
    model = tmp_path / "model"
    build_swap(SwapConfig(source=None, swapper="trained", model_dir=model))
    build_swap(SwapConfig(source=None, swapper="trained", model_dir=model, swapper_threads=3))
    assert [(c.model_dir, c.num_threads) for c in built] == [(model, 0), (model, 3)]
    assert swapper_threads(SwapConfig(source=tmp_path)) == 1  # the mesh swapper: the analysis threads


def test_a_trained_model_composites_its_whole_face_up_to_its_own_mask(tmp_path: Path) -> None:
    chosen = CompositeSettings(blend="feather", color="lab")
    trained = composite_settings(SwapConfig(source=None, swapper="trained", composite=chosen))
    assert (trained.forehead, trained.erode, trained.feather) == ("on", 0.0, 0.05)
    assert not trained.forehead_fade  # the model's own mask fades it
    assert (trained.blend, trained.color) == ("feather", "lab")  # the user's choices stay
    assert not trained.shading_light  # the model draws the target's light itself
    mesh = composite_settings(SwapConfig(source=tmp_path, composite=chosen))
    assert mesh == chosen and mesh.forehead == "auto"  # a photo's fringe stays out by default
    assert mesh.shading_light
    request = SwapRequest(tmp_path / "t.mp4", tmp_path / "o.mp4")
    recorded = swap_settings(SwapConfig(source=None, swapper="trained", composite=chosen), request)
    assert recorded["forehead"] == "on" and recorded["lookahead"] is True  # what was really done
    assert recorded["target_glasses"] is True
    unglassed = SwapConfig(source=tmp_path, target_glasses=False)
    assert swap_settings(unglassed, request)["target_glasses"] is False


def test_swapper_model_names(tmp_path: Path) -> None:
    assert swapper_model(SwapConfig(source=tmp_path)) == "facecraft mesh swapper"
    with pytest.raises(ModelCardError, match="not a model directory"):
        swapper_model(SwapConfig(source=None, swapper="trained", model_dir=tmp_path / "missing"))


def test_command_inputs_and_swapper_choice(tmp_path: Path) -> None:
    photo, clip, model = tmp_path / "me.jpg", tmp_path / "clip.mp4", tmp_path / "model"
    assert split_inputs([photo, clip], None) == (photo, clip)
    assert split_inputs([photo, clip], model) == (photo, clip)
    assert split_inputs([clip], model) == (None, clip)
    with pytest.raises(SwapUsageError, match="--model MODEL_DIR TARGET"):
        split_inputs([clip], None)
    with pytest.raises(SwapUsageError, match="got 3 paths"):
        split_inputs([photo, clip, clip], model)
    assert resolve_swapper(None, None) == "mesh"
    assert resolve_swapper(None, model) == "trained"
    assert resolve_swapper("trained", model) == "trained"
    with pytest.raises(SwapUsageError, match="--model is for the trained swapper"):
        resolve_swapper("mesh", model)


def test_swap_with_one_path_and_no_model_exits_with_a_message(tmp_path: Path) -> None:
    from facecraft.cli.main import app

    result = CliRunner().invoke(app, ["swap", str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "out.mp4")])
    assert result.exit_code == 2
    assert "name a source photo and a target" in result.output

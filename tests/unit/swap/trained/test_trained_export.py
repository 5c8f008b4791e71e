"""Export: the ONNX swap path matches PyTorch, with the card and the source face beside it."""

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from facecraft.swap.trained.card import load_card
from facecraft.swap.trained.checkpoint import load_checkpoint
from facecraft.swap.trained.export import INPUT_NAME, OUTPUT_NAMES
from facecraft.swap.trained.nets import SwapModel, swap_module
from facecraft.swap.trained.trainer import export_from_checkpoint, train
from unit.swap.trained.trained_options import tiny_options


@pytest.fixture(scope="module")
def trained(tiny_facesets: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    model_dir = tmp_path_factory.mktemp("export") / "model"
    options = tiny_options(
        tiny_facesets, model_dir, 3, batch=2, lr=None, warmup_steps=100, gan_warmup_steps=5000, log_every=10
    )
    train(options)
    return model_dir


def test_onnx_matches_pytorch(trained: Path) -> None:
    loaded = load_checkpoint(trained)
    model = SwapModel(loaded.config)
    model.load_state_dict(loaded.state["model"])
    faces = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        face, mask = swap_module(model).eval()(faces)
    session = ort.InferenceSession(str(trained / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [INPUT_NAME]
    assert [o.name for o in session.get_outputs()] == list(OUTPUT_NAMES)
    onnx_face, onnx_mask = session.run(list(OUTPUT_NAMES), {INPUT_NAME: faces.numpy()})
    assert onnx_face.shape == (3, 3, 32, 32) and onnx_mask.shape == (3, 1, 32, 32)
    np.testing.assert_allclose(onnx_face, face.numpy(), atol=1e-4)
    np.testing.assert_allclose(onnx_mask, mask.numpy(), atol=1e-4)
    assert float(onnx_face.min()) >= 0.0 and float(onnx_face.max()) <= 1.0


def test_card_and_source_face(trained: Path, tiny_facesets: tuple[Path, Path]) -> None:
    card = load_card(trained)
    assert (card.size, card.face_type, card.steps) == (32, "whole-face", 3)
    assert card.source.path == str(tiny_facesets[0]) and card.source.faces == 18
    assert card.target.faces == 18 and card.losses["loss_a"] > 0
    assert int(card.architecture["generator_params"]) > 0
    # how it was trained: the fixture's options, the learning rate the preset's (none was given)
    assert (
        card.training["lr"] == 5e-4
        and card.training["gan_warmup_steps"] == 5000
        and card.training["batch"] == 2
    )
    assert card.training["eyes_mouth_weight"] == 3.0 and card.training["augment_flip"] is True
    source_face = cv2.imread(str(trained / "source_face.png"))
    assert source_face is not None and source_face.shape == (64, 64, 3)  # the faceset's own resolution


def test_reexport_from_checkpoint(trained: Path) -> None:
    (trained / "model.onnx").unlink()
    path = export_from_checkpoint(trained)
    assert path == trained / "model.onnx" and path.is_file()
    assert load_card(trained).training["lr"] == 5e-4  # the checkpoint keeps the recipe too


def test_a_card_from_before_the_training_options_were_kept_still_loads(trained: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(trained, old, ignore=shutil.ignore_patterns("checkpoints"))
    data = json.loads((old / "card.json").read_text())
    del data["training"]
    (old / "card.json").write_text(json.dumps(data))
    assert load_card(old).training == {}

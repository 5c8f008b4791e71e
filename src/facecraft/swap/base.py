"""The swapper contract: a source identity goes in once, then each target face gives a SwapResult."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from facecraft.faces.face import Face
from facecraft.registry import Registry
from facecraft.types import Affine, FloatArray, Frame, Mask


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """The person to swap in: their photo, the chosen face in it, and what the user should be told.

    notes: plain sentences for the user (for example "2 faces in the source photo; using the largest").
    """

    image_bgr: Frame
    face: Face
    path: Path | None = None
    embedding: FloatArray | None = field(default=None, compare=False)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SwapResult:
    """A swapped face rendered in a crop of the frame.

    crop_bgr: the rendered face (H x W x 3, uint8), in crop pixels.
    coverage: float32 H x W in [0, 1], where crop_bgr holds rendered face texture (0 where nothing was
        drawn, for example culled back-facing triangles). The compositor intersects it with its own masks.
    matrix_crop_to_frame: 2 x 3 affine from crop pixels to frame pixels.
    target_landmarks_crop: the target's 478 landmarks (x, y, z) in crop pixels, as the masks need them.
    frame_keep: float32 H x W in [0, 1] or None: where the frame's own pixels go back over the blended
        result (the glasses the target wears in the footage, ``frame_glasses.py``).
    frame_move: H x W x 2 float32 or None: where the swapper moved a face's outline, how the frame moves
        with it (the face and the band of hair, ears and background around it): for each crop pixel, the
        crop position its content comes from (``surround.move_map``). The compositor moves what its
        output holds there before blending (faces blended into it before included).
    forehead_clear: the source face's forehead is clear skin (no fringe), so the compositor's ``auto``
        forehead swaps it (``CompositeSettings.forehead``).
    """

    crop_bgr: Frame
    coverage: Mask
    matrix_crop_to_frame: Affine
    target_landmarks_crop: FloatArray
    frame_keep: Mask | None = None
    frame_move: FloatArray | None = None
    forehead_clear: bool = False

    def __post_init__(self) -> None:
        if self.crop_bgr.ndim != 3 or self.crop_bgr.shape[2] != 3 or self.crop_bgr.dtype != np.uint8:
            shape, dtype = self.crop_bgr.shape, self.crop_bgr.dtype
            raise ValueError(f"crop_bgr must be H x W x 3 uint8, got {shape} {dtype}")
        if self.coverage.shape != self.crop_bgr.shape[:2]:
            raise ValueError(f"coverage must be {self.crop_bgr.shape[:2]}, got {self.coverage.shape}")
        if self.frame_keep is not None and self.frame_keep.shape != self.crop_bgr.shape[:2]:
            raise ValueError(f"frame_keep must be {self.crop_bgr.shape[:2]}, got {self.frame_keep.shape}")
        if self.frame_move is not None and self.frame_move.shape != (*self.crop_bgr.shape[:2], 2):
            raise ValueError(
                f"frame_move must be {(*self.crop_bgr.shape[:2], 2)}, got {self.frame_move.shape}"
            )
        if self.matrix_crop_to_frame.shape != (2, 3):
            raise ValueError(f"matrix_crop_to_frame must be 2 x 3, got {self.matrix_crop_to_frame.shape}")


class Swapper(Protocol):
    """One backend. ``prepare`` once per source (it returns plain sentences for the user about what it
    found, such as a hand covering the photo's cheek); ``swap`` per target face per frame."""

    def prepare(self, source: SourceIdentity) -> tuple[str, ...]: ...

    def swap(self, frame_bgr: Frame, target: Face) -> SwapResult: ...


@dataclass(frozen=True, slots=True)
class SwapperConfig:
    """Options every swapper factory receives; backends ignore what they do not use."""

    num_threads: int = 1
    model_dir: Path | None = None
    keep_occluders: bool = False
    """The mesh swapper keeps what covers the source's skin (glasses, a fringe) instead of filling it."""
    glasses: bool = True
    """The mesh swapper draws glasses found in the source photo rigidly over the face (False: left off)."""
    target_glasses: bool = True
    """The glasses the target wears in the footage stay: their rims show over the swapped face (the mesh
    swapper then does not draw the source's glasses). False paints them over with the face."""
    outline: bool = False
    """The mesh swapper moves the face's outline to the source's too (its width below the nose), and the
    frame around it with it (``surround.py``)."""


SwapperFactory = Callable[[SwapperConfig], Swapper]
SWAPPERS: Registry[SwapperFactory] = Registry("swapper")

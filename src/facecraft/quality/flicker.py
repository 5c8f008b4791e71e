"""Temporal stability: how much the face region changes from frame to frame, and landmark jitter.

Flicker: the mean absolute change (0-255 levels, all three channels) between consecutive frames inside
the face hull, measured in a ``FLICKER_PATCH_PX`` patch around the previous frame's face (the same region
cut from both frames), for the output and for the target. ``flicker_ratio`` is the output's total over the
target's: 1.0 adds nothing, above 1 the swap flickers more than the footage (``safe_ratio`` rules when the
target never changes: 1.0 if the output does not either, else ``None``).

Jitter: the output's landmark motion that the target's own motion does not explain, mean over the 468 mesh
points of ``|(out_t - out_t-1) - (tgt_t - tgt_t-1)|`` in frame pixels per frame (``jitter_px``); ``jitter``
divides that by the target face's size (larger side of its landmark box), so a face 200 px tall whose output
moves 2 px per frame while the target stands still has ``jitter_px`` 2 and ``jitter`` 0.01.
"""

import numpy as np

from facecraft.faces.face import MESH_POINTS
from facecraft.quality.patches import BoolArray
from facecraft.types import FloatArray, Frame

FLICKER_PATCH_PX = 96
"""Side of the patch flicker is measured in: area-averaged, so sensor noise counts little."""
FLICKER_MARGIN = 1.2
"""The patch spans this many face sizes (the face hull inside it is the measured region)."""


def mean_abs_change(previous_patch: Frame, current_patch: Frame, mask: BoolArray) -> float:
    """Mean |current - previous| over the masked pixels and all channels, in 0-255 levels."""
    if previous_patch.shape != current_patch.shape:
        raise ValueError(f"patches differ in shape: {previous_patch.shape} and {current_patch.shape}")
    if not mask.any():
        return 0.0
    diff = np.abs(current_patch.astype(np.int16) - previous_patch.astype(np.int16))
    return float(diff[mask].mean())


def landmark_jitter_px(
    previous_output: FloatArray,
    current_output: FloatArray,
    previous_target: FloatArray,
    current_target: FloatArray,
) -> float:
    """Mean over mesh points of the output's frame-to-frame motion minus the target's, in pixels."""
    output_motion = current_output[:MESH_POINTS, :2].astype(np.float64) - previous_output[:MESH_POINTS, :2]
    target_motion = current_target[:MESH_POINTS, :2].astype(np.float64) - previous_target[:MESH_POINTS, :2]
    return float(np.linalg.norm(output_motion - target_motion, axis=1).mean())

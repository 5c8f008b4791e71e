"""Training losses: structure (DSSIM), masked L1 with extra weight on eyes and mouth, mask, adversarial.

Images are N x C x H x W float in [0, 1]; masks and weight maps N x 1 x H x W in [0, 1].
"""

from typing import Literal, get_args

import torch
from torch.nn import functional as F  # noqa: N812

GanLoss = Literal["lsgan", "hinge"]
GAN_LOSSES: tuple[str, ...] = get_args(GanLoss)

_SSIM_C1 = 0.01**2
_SSIM_C2 = 0.03**2


def gaussian_window(size_px: int, sigma: float) -> torch.Tensor:
    """A normalised 1-D gaussian (the SSIM window is its outer product with itself)."""
    coords = torch.arange(size_px, dtype=torch.float32) - (size_px - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma * sigma))
    return g / g.sum()


def ssim_window_px(image_px: int) -> int:
    """The SSIM window for an image side: about a twelfth of it, odd, at least 5 (11 at 128 px)."""
    side = max(5, round(image_px / 11.6))
    return side if side % 2 else side + 1


def dssim(pred: torch.Tensor, target: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Structural dissimilarity (1 - SSIM) / 2, averaged; ``window`` from :func:`gaussian_window`.

    The five local means (of x, y, x^2, y^2, xy) come from one separable blur of the stacked maps.
    """
    channels = pred.shape[1]
    stack = torch.cat([pred, target, pred * pred, target * target, pred * target], dim=1)
    groups = stack.shape[1]
    win = window.to(device=pred.device, dtype=pred.dtype)
    size = int(win.shape[0])
    across = win.view(1, 1, 1, size).expand(groups, 1, 1, size)
    down = win.view(1, 1, size, 1).expand(groups, 1, size, 1)
    blurred = F.conv2d(F.conv2d(stack, across, groups=groups), down, groups=groups)
    mu_p, mu_t, pp, tt, pt = torch.split(blurred, channels, dim=1)
    var_p = pp - mu_p * mu_p
    var_t = tt - mu_t * mu_t
    cov = pt - mu_p * mu_t
    ssim = ((2 * mu_p * mu_t + _SSIM_C1) * (2 * cov + _SSIM_C2)) / (
        (mu_p * mu_p + mu_t * mu_t + _SSIM_C1) * (var_p + var_t + _SSIM_C2)
    )
    return ((1.0 - ssim) / 2.0).mean()


def weighted_l1(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    features: torch.Tensor,
    feature_weight: float,
) -> torch.Tensor:
    """L1 inside the face mask, with ``feature_weight`` times more on the eyes and mouth (``features``)."""
    weight = mask + feature_weight * features
    return (weight * (pred - target).abs()).mean()


def mask_loss(pred_mask: torch.Tensor, target_mask: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred_mask, target_mask)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: GanLoss) -> torch.Tensor:
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return ((real_logits - 1.0) ** 2).mean() + (fake_logits**2).mean()


def generator_adv_loss(fake_logits: torch.Tensor, kind: GanLoss) -> torch.Tensor:
    if kind == "hinge":
        return -fake_logits.mean()
    return ((fake_logits - 1.0) ** 2).mean()

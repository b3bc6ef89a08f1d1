"""Losses of the super-resolution core.

All take `(B,3,H,W)` sRGB-encoded RGB in [0,1] (predictions may leave [0,1]
slightly) and return a scalar tensor.
- `pixel_l1`, `pixel_mse`: fidelity terms of the PSNR-oriented stage.
- `hfen_loss` / `hfen`: high-frequency error norm (Ravishankar & Bresler 2011):
  the difference of Laplacian-of-Gaussian filtered luminances (15x15, sigma 1.5).
- `PerceptualLoss`: L1 distance in `FixedFeatureNet` features (no downloads).
- `relativistic_d_loss`, `relativistic_g_loss`: relativistic average GAN
  (Jolicoeur-Martineau 2018, as used by ESRGAN).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from superres.nets.features import FixedFeatureNet

LOG_SIZE = 15
LOG_SIGMA = 1.5


def pixel_l1(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(prediction, target)


def pixel_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(prediction, target)


@functools.lru_cache(maxsize=4)
def log_kernel(size: int = LOG_SIZE, sigma: float = LOG_SIGMA) -> torch.Tensor:
    """(1,1,size,size) zero-sum Laplacian of Gaussian (negative centre)."""
    half = size // 2
    y, x = torch.meshgrid(torch.arange(-half, half + 1.0, dtype=torch.float64),
                          torch.arange(-half, half + 1.0, dtype=torch.float64), indexing="ij")
    r2 = x**2 + y**2
    gauss = torch.exp(-r2 / (2 * sigma**2))
    kernel = (r2 - 2 * sigma**2) / sigma**4 * gauss / gauss.sum()
    # Zero sum: flat regions give exactly zero response on any brightness.
    kernel = kernel - kernel.mean()
    return kernel.float().view(1, 1, size, size)


def laplacian_of_gaussian(image: torch.Tensor) -> torch.Tensor:
    """`(B,C,H,W)` -> `(B,1,H,W)` LoG of the BT.601 luma (replicate padding)."""
    if image.shape[1] == 3:
        image = 0.299 * image[:, 0:1] + 0.587 * image[:, 1:2] + 0.114 * image[:, 2:3]
    elif image.shape[1] != 1:
        image = image.mean(dim=1, keepdim=True)
    kernel = log_kernel().to(image.device, image.dtype)
    pad = LOG_SIZE // 2
    return F.conv2d(F.pad(image, (pad,) * 4, mode="replicate"), kernel)


def hfen_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between LoG responses: a training term that rewards matching edges."""
    return F.l1_loss(laplacian_of_gaussian(prediction), laplacian_of_gaussian(target))


def hfen(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """HFEN metric: ||LoG(pred) - LoG(target)||_2 / ||LoG(target)||_2 (lower is better)."""
    diff = laplacian_of_gaussian(prediction) - laplacian_of_gaussian(target)
    reference = laplacian_of_gaussian(target)
    return diff.norm() / reference.norm().clamp_min(1e-12)


class PerceptualLoss(nn.Module):
    """Mean of per-layer L1 distances between `FixedFeatureNet` features,
    each normalised by the target features' mean magnitude so layers weigh alike."""

    def __init__(self):
        super().__init__()
        self.features = FixedFeatureNet()
        self.features.requires_grad_(False)

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = prediction.new_zeros(())
        pred_feats = self.features(prediction)
        with torch.no_grad():
            target_feats = self.features(target)
        for pred, ref in zip(pred_feats, target_feats):
            total = total + F.l1_loss(pred, ref) / ref.abs().mean().clamp_min(1e-6)
        return total / len(pred_feats)


def relativistic_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """RaGAN discriminator loss: real should look more real than the average fake,
    fake less real than the average real. Pass `fake_logits` computed on detached fakes."""
    real_rel = real_logits - fake_logits.mean()
    fake_rel = fake_logits - real_logits.mean()
    return 0.5 * (F.binary_cross_entropy_with_logits(real_rel, torch.ones_like(real_rel))
                  + F.binary_cross_entropy_with_logits(fake_rel, torch.zeros_like(fake_rel)))


def relativistic_g_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """RaGAN generator loss: the symmetric objective (gradients flow through both
    terms when `real_logits` come from the current discriminator)."""
    real_rel = real_logits - fake_logits.mean()
    fake_rel = fake_logits - real_logits.mean()
    return 0.5 * (F.binary_cross_entropy_with_logits(real_rel, torch.zeros_like(real_rel))
                  + F.binary_cross_entropy_with_logits(fake_rel, torch.ones_like(fake_rel)))


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB for values in [0,1] (prediction clipped first)."""
    mse = F.mse_loss(prediction.clamp(0, 1), target).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))

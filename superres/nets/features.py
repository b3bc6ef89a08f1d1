"""Feature network for the perceptual loss, built without downloaded weights.

Pretrained VGG weights cannot be fetched here, so the features are:
- layer 1: a fixed, hand-designed filter bank on luminance (oriented Gabor
  filters at two frequencies, a Laplacian of Gaussian, Sobel pairs) plus the
  two opponent colour channels; these respond to edges, lines and texture the
  way the first layers of trained networks do;
- layers 2-3: random convolutions drawn from a fixed seed (random deep features
  are known to give useful perceptual distances; the seed makes them identical
  on every machine).
The weights are buffers, not parameters: the loss never trains them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_SEED = 20170


def _gabor(size: int, theta: float, wavelength: float, sigma: float, phase: float) -> torch.Tensor:
    half = size // 2
    y, x = torch.meshgrid(torch.arange(-half, half + 1.0), torch.arange(-half, half + 1.0), indexing="ij")
    xr = x * math.cos(theta) + y * math.sin(theta)
    yr = -x * math.sin(theta) + y * math.cos(theta)
    kernel = torch.exp(-(xr**2 + yr**2) / (2 * sigma**2)) * torch.cos(2 * math.pi * xr / wavelength + phase)
    kernel = kernel - kernel.mean()
    return kernel / kernel.abs().sum()


def _first_layer_bank(size: int = 7) -> torch.Tensor:
    """(K,1,size,size) zero-mean filters on luminance."""
    kernels = []
    for wavelength, sigma in ((3.0, 1.2), (6.0, 2.2)):
        for k in range(4):
            theta = k * math.pi / 4
            for phase in (0.0, math.pi / 2):
                kernels.append(_gabor(size, theta, wavelength, sigma, phase))
    half = size // 2
    y, x = torch.meshgrid(torch.arange(-half, half + 1.0), torch.arange(-half, half + 1.0), indexing="ij")
    r2 = (x**2 + y**2) / (2 * 1.0**2)
    log = (r2 - 1) * torch.exp(-r2)
    log = log - log.mean()
    kernels.append(log / log.abs().sum())
    sobel = torch.zeros(size, size)
    sobel[half - 1:half + 2, half - 1:half + 2] = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8
    kernels += [sobel, sobel.t().clone()]
    return torch.stack(kernels).unsqueeze(1)


class FixedFeatureNet(nn.Module):
    """forward: `(B,3,H,W)` sRGB-encoded RGB in [0,1] -> list of feature maps
    `[(B,K1+2,H,W), (B,K2,H/2,W/2), (B,K3,H/4,W/4)]`."""

    def __init__(self, widths: tuple[int, int] = (48, 64)):
        super().__init__()
        bank = _first_layer_bank()
        self.register_buffer("bank", bank)
        generator = torch.Generator().manual_seed(_SEED)
        in_ch = bank.shape[0] + 2
        for i, width in enumerate(widths):
            weight = torch.randn(width, in_ch, 3, 3, generator=generator) * math.sqrt(2.0 / (in_ch * 9))
            self.register_buffer(f"random_{i}", weight)
            in_ch = width
        self.depth = len(widths)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        r, g, b = image[:, 0:1], image[:, 1:2], image[:, 2:3]
        luma = 0.299 * r + 0.587 * g + 0.114 * b
        opponent = torch.cat([r - g, 0.5 * (r + g) - b], dim=1)
        pad = self.bank.shape[-1] // 2
        edges = F.conv2d(F.pad(luma, (pad,) * 4, mode="reflect"), self.bank)
        # Rectified magnitudes resemble the first ReLU layer of trained nets.
        feat = torch.cat([edges.abs(), opponent], dim=1)
        outputs = [feat]
        for i in range(self.depth):
            feat = F.avg_pool2d(feat, 2)
            feat = F.relu(F.conv2d(feat, getattr(self, f"random_{i}"), padding=1))
            outputs.append(feat)
        return outputs

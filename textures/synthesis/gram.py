"""Gram-matrix texture loss in a multi-scale CNN with fixed random filters.

No pretrained weights can be used here, so the features come from a seeded random
network (after Ustyuzhaninov et al. 2016, made multi-scale with pooling so that large
structures are seen without very large filters). Kept as the comparison loss and as a
quality metric; the synthesis default is the patch sliced-Wasserstein loss.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from imaging.padding import wrap_pad


class RandomFeatureNet(nn.Module):
    """Random 3x3 conv + ReLU layers with 2x average pooling between them.

    Input `(B,C,H,W)` standardised values; returns one feature map per layer.
    `wrap=True` pads circularly (periodic outputs), otherwise by reflection.
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...] = (48, 64, 96, 128),
                 seed: int = 1234) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weights = nn.ParameterList()
        channels = in_channels
        for width in widths:
            weight = torch.randn(width, channels, 3, 3, generator=generator)
            weight *= (2.0 / (channels * 9)) ** 0.5  # He scaling keeps activations O(1)
            self.weights.append(nn.Parameter(weight, requires_grad=False))
            channels = width

    def forward(self, image: torch.Tensor, *, wrap: bool = True) -> list[torch.Tensor]:
        features = []
        x = image
        for index, weight in enumerate(self.weights):
            if index > 0:
                x = F.avg_pool2d(x, 2)
            x = wrap_pad(x, 1) if wrap else F.pad(x, (1, 1, 1, 1), mode="reflect")
            x = F.relu(F.conv2d(x, weight))
            features.append(x)
        return features


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """`(1,K,h,w)` -> `(K,K)` second moments averaged over positions."""
    flat = features.reshape(features.shape[1], -1)
    return flat @ flat.T / flat.shape[1]


class GramLoss:
    """Sum over layers of the relative squared Gram difference to the exemplar.

    exemplar: `(1,C,H,W)` standardised values; ignore is not supported by this loss.
    """

    def __init__(self, exemplar: torch.Tensor, *, seed: int = 1234, **_unused) -> None:
        self.net = RandomFeatureNet(exemplar.shape[1], seed=seed).to(exemplar.device)
        with torch.no_grad():
            self.targets = [gram_matrix(f) for f in self.net(exemplar, wrap=False)]

    def redraw(self, generator: torch.Generator) -> None:
        """Fixed features: nothing to redraw (same interface as PatchSWD)."""

    def __call__(self, output: torch.Tensor, *, wrap: bool = True, subset: int | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        loss = output.new_zeros(())
        for features, target in zip(self.net(output, wrap=wrap), self.targets):
            loss = loss + (gram_matrix(features) - target).pow(2).sum() / target.pow(2).sum()
        return loss


def gram_distance(output: torch.Tensor, exemplar: torch.Tensor, *, seed: int = 1234) -> float:
    """Relative Gram distance of `output` to `exemplar` (both `(1,C,H,W)`, same scaling)."""
    with torch.no_grad():
        return float(GramLoss(exemplar, seed=seed)(output, wrap=True))

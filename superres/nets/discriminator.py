"""VGG-style patch discriminator with spectral normalisation.

Spectral norm bounds each layer's Lipschitz constant, which keeps the short,
small-batch GAN stage stable without batch norm. Global average pooling at the
end lets it judge patches of any size (64 px for x2, 96 px for x4 training).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """forward: `(B,3,H,W)` sRGB-encoded RGB in [0,1] -> `(B,)` raw logits."""

    def __init__(self, features: int = 32):
        super().__init__()
        widths = [features, features * 2, features * 4, features * 4]
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(3, widths[0], 3, padding=1)),
                                   nn.LeakyReLU(0.2, inplace=True)]
        in_ch = widths[0]
        for width in widths:
            layers += [
                spectral_norm(nn.Conv2d(in_ch, width, 4, stride=2, padding=1)),
                nn.LeakyReLU(0.2, inplace=True),
                spectral_norm(nn.Conv2d(width, width, 3, padding=1)),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            in_ch = width
        self.features = nn.Sequential(*layers)
        self.classify = nn.Sequential(
            spectral_norm(nn.Linear(in_ch, in_ch)),
            nn.LeakyReLU(0.2, inplace=True),
            spectral_norm(nn.Linear(in_ch, 1)),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        pooled = self.features(image * 2.0 - 1.0).mean(dim=(2, 3))
        return self.classify(pooled).squeeze(1)

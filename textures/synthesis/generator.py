"""Feed-forward texture generator for fast mode (after Ulyanov et al., Texture Networks).

Noise at several resolutions is processed coarse to fine and merged; every conv pads
circularly and the upsampling is nearest-neighbour, so any output whose size is a
multiple of 2^(scales-1) is exactly periodic. Trained once per exemplar
(`fast_train.py`); then one forward pass per variation.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .colour import ChannelBasis
from .pyramid import resize_periodic


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="circular"),
        nn.LeakyReLU(0.2),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, padding_mode="circular"),
        nn.LeakyReLU(0.2),
    )


class TextureGenerator(nn.Module):
    """Multi-scale noise -> `(B,C,h,w)` texture in standardised units.

    `mean` / `to_white` / `from_white` buffers hold the exemplar's channel basis (colour.py) to map
    back to its units.
    """

    noise_channels = 4

    def __init__(self, out_channels: int, *, scales: int = 5, width: int = 16) -> None:
        super().__init__()
        self.scales = scales
        self.branches = nn.ModuleList(_block(self.noise_channels, width) for _ in range(scales))
        self.joins = nn.ModuleList(_block(2 * width, width) for _ in range(scales - 1))
        self.to_image = nn.Conv2d(width, out_channels, 1)
        self.register_buffer("mean", torch.zeros(1, out_channels, 1, 1))
        self.register_buffer("to_white", torch.eye(out_channels))
        self.register_buffer("from_white", torch.eye(out_channels))

    @property
    def multiple(self) -> int:
        return 2 ** (self.scales - 1)

    def noise(self, batch: int, size: tuple[int, int], generator: torch.Generator) -> list[torch.Tensor]:
        """Noise inputs, coarsest first, for an output of `size` (multiple of `multiple`)."""
        return [torch.rand(batch, self.noise_channels, size[0] >> k, size[1] >> k, generator=generator)
                for k in range(self.scales - 1, -1, -1)]

    def forward(self, noises: list[torch.Tensor]) -> torch.Tensor:
        features = self.branches[0](noises[0])
        for branch, join, noise in zip(self.branches[1:], self.joins, noises[1:]):
            features = F.interpolate(features, scale_factor=2, mode="nearest")
            features = join(torch.cat([features, branch(noise)], dim=1))
        return self.to_image(features)

    @torch.no_grad()
    def sample(self, size: tuple[int, int], *, seed: int) -> torch.Tensor:
        """One variation `(1,C,h,w)` in the exemplar's units; periodic for any size.

        Sizes that are not a multiple of `multiple` are generated at the next multiple
        and resized with wrap-around interpolation, which keeps the tile seamless.
        """
        generator = torch.Generator().manual_seed(int(seed))
        padded = tuple(-(-s // self.multiple) * self.multiple for s in size)
        device = self.mean.device
        noises = [n.to(device) for n in self.noise(1, padded, generator)]
        image = ChannelBasis(self.mean, self.to_white, self.from_white).restore(self(noises))
        return resize_periodic(image, size)

"""Decorrelated (whitened) channels for synthesis.

Synthesis works on channels with zero mean and unit spread so one learning rate fits
every map. Standardising each channel on its own keeps their correlation: in a nearly
grey texture R, G and B move together, the random patch projections then see almost
no variance along the chroma directions, errors there go unpunished, and the output
shows red/green fringes that the exemplar never had. Rotating into the principal axes
of the channels first (PCA whitening) gives every independent direction, chroma
included, unit spread, so the loss weighs it like the others.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

MIN_SPREAD = 0.02  # floor on a direction's standard deviation (flat channels, constant maps)


@dataclass(frozen=True)
class ChannelBasis:
    """`whiten(x) = to_white @ (x - mean)` per pixel, and `restore` its inverse.

    mean: `(1,C,1,1)`; to_white, from_white: `(C,C)`.
    """

    mean: torch.Tensor
    to_white: torch.Tensor
    from_white: torch.Tensor

    @classmethod
    def fit(cls, image: torch.Tensor, ignore: torch.Tensor | None = None) -> "ChannelBasis":
        """Principal axes of the channels of `image` `(1,C,H,W)`, over pixels not in `ignore`
        `(1,1,H,W)` (nonzero = leave out)."""
        channels = image.shape[1]
        flat = image.reshape(channels, -1)
        if ignore is not None:
            flat = flat[:, ignore.reshape(-1) == 0]
        mean = flat.mean(dim=1)
        centred = (flat - mean[:, None]).double()
        covariance = centred @ centred.T / max(centred.shape[1] - 1, 1)
        variances, axes = torch.linalg.eigh(covariance)
        spreads = variances.clamp(min=MIN_SPREAD ** 2).sqrt()
        to_white = (axes / spreads).T
        from_white = axes * spreads
        dtype = image.dtype
        return cls(mean.view(1, -1, 1, 1), to_white.to(dtype), from_white.to(dtype))

    def whiten(self, image: torch.Tensor) -> torch.Tensor:
        """`(B,C,H,W)` in the image's units -> decorrelated unit-spread channels."""
        return torch.einsum("dc,bchw->bdhw", self.to_white, image - self.mean)

    def restore(self, image: torch.Tensor) -> torch.Tensor:
        """Inverse of `whiten`."""
        return torch.einsum("cd,bdhw->bchw", self.from_white, image) + self.mean

"""Make tileable: turn a photo into a seamless tile of the same size and look.

The output is synthesised with circular padding, started from the photo itself with
noise only in a band along the edges, and its interior is pulled back towards the
photo after every step: the band is re-synthesised so that the right edge continues
into the left one (and bottom into top), while the middle stays the photo.
"""
from __future__ import annotations

import torch

from .optimise import Progress, SynthesisSettings, synthesize


def border_weight(size: tuple[int, int], band: float) -> torch.Tensor:
    """`(1,1,h,w)` in [0,1]: exactly 0 within `band`/2 * size of an edge, rising smoothly
    to 1 at `band` * size inside (a free margin, or the anchor would pull the seam back)."""
    def ramp(length: int) -> torch.Tensor:
        position = torch.arange(length, dtype=torch.float32) + 0.5
        width = max(band * length / 2, 1.0)
        distance = torch.minimum(position, length - position) - width
        t = (distance / width).clamp(0.0, 1.0)
        return t * t * (3 - 2 * t)  # smoothstep
    return (ramp(size[0])[:, None] * ramp(size[1])[None, :])[None, None]


def make_tileable(exemplar: torch.Tensor, *, seed: int = 0, band: float = 0.3,
                  settings: SynthesisSettings = SynthesisSettings(),
                  ignore: torch.Tensor | None = None,
                  progress: Progress | None = None) -> torch.Tensor:
    """Seamless `(1,C,H,W)` version of `exemplar` `(1,C,H,W)` (same value units)."""
    size = tuple(exemplar.shape[-2:])
    weight = border_weight(size, band)
    return synthesize(exemplar, size, seed=seed, strength=1.0 - weight, settings=settings,
                      ignore=ignore, anchor=exemplar, anchor_weight=weight,
                      progress=progress)

"""Image pyramids and periodic resampling for coarse-to-fine synthesis."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad


def level_count(exemplar_size: tuple[int, int], coarsest: int = 32) -> int:
    """Number of octaves so that the coarsest exemplar level keeps >= `coarsest` px on its short side."""
    short = min(exemplar_size)
    return max(1, int(math.floor(math.log2(max(short, 1) / coarsest))) + 1)


def downsample(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-average `(B,C,H,W)` down to `size` (h, w); used for exemplars and masks."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="area")


def resize_periodic(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a periodic image `(B,C,H,W)` to `size`, staying periodic.

    The border is interpolated against the opposite edge (one pixel of wrap context),
    so upsampling a tileable level gives a tileable finer level.
    """
    height, width = image.shape[-2:]
    if (height, width) == tuple(size):
        return image
    padded = wrap_pad(image, 1)
    scale_y, scale_x = size[0] / height, size[1] / width
    big = F.interpolate(padded, size=(round((height + 2) * scale_y), round((width + 2) * scale_x)),
                        mode="bilinear", align_corners=False)
    top, left = round(scale_y), round(scale_x)
    big = big[..., top:top + size[0], left:left + size[1]]
    if tuple(big.shape[-2:]) != tuple(size):
        big = F.interpolate(big, size=size, mode="bilinear", align_corners=False)
    return big


def level_sizes(size: tuple[int, int], levels: int) -> list[tuple[int, int]]:
    """Sizes from coarsest to finest, halving per octave; the finest is `size` itself."""
    return [(max(1, round(size[0] / 2 ** k)), max(1, round(size[1] / 2 ** k)))
            for k in range(levels - 1, -1, -1)]

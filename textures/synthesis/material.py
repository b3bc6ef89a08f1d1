"""Material sets: all maps of a material synthesised together so they stay registered.

The maps are stacked into one multi-channel exemplar and synthesised once: every patch
the loss compares holds albedo, normal, roughness... of the same spot, so the output
maps stay aligned pixel for pixel. Normal maps are decoded to vectors before stacking
and renormalised to unit length afterwards. Float maps outside [0,1] (HDR colour, signed
heights) are mapped onto [0,1] for the synthesis and back afterwards, so they keep their range.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from imaging.color import value_range

from .errors import TextureInputError


def is_normal_map(name: str) -> bool:
    """Maps named like 'normal', 'normal_map', 'normalGL' hold tangent-space normals."""
    return "normal" in name.lower()


@dataclass(frozen=True)
class StackLayout:
    """Which channels of the stacked tensor belong to which map."""

    names: tuple[str, ...]
    channels: tuple[int, ...]
    # (offset, span) per map: stacked values are (map - offset) / span; (0, 1) for [0,1] maps.
    ranges: tuple[tuple[float, float], ...] = ()

    def value_range(self, name: str) -> tuple[float, float]:
        return self.ranges[self.names.index(name)] if self.ranges else (0.0, 1.0)

    def slices(self):
        start = 0
        for name, count in zip(self.names, self.channels):
            yield name, slice(start, start + count)
            start += count


def stack_maps(maps: dict[str, np.ndarray]) -> tuple[torch.Tensor, StackLayout]:
    """Stack maps `{name: (H,W,C) float32}` into `(1,sumC,H,W)` with values in [0,1] (normals: [-1,1]).

    Normal maps (C >= 3) are decoded from `0.5n+0.5` in [0,1] to vectors in [-1,1]. Other
    maps in [0,1] are stacked as they are; maps outside it (HDR, signed) by `imaging.color.value_range`.
    Raises TextureInputError when the maps differ in size or a normal map lacks xyz.
    """
    if not maps:
        raise TextureInputError("no texture maps given")
    sizes = {np.asarray(m).shape[:2] for m in maps.values()}
    if len(sizes) != 1:
        raise TextureInputError(f"all maps of a material must have the same size, got {sorted(sizes)}")
    parts, names, channels, ranges = [], [], [], []
    for name, pixels in maps.items():
        pixels = np.asarray(pixels, dtype=np.float32)
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        offset, span = 0.0, 1.0
        if is_normal_map(name):
            if pixels.shape[2] < 3:
                raise TextureInputError(f"normal map {name!r} needs 3 channels (x, y, z)")
            pixels = pixels[..., :3] * 2.0 - 1.0
        else:
            # The output is clamped to the stacked range: without this, HDR and signed maps would be cut.
            offset, span = value_range(pixels)
            pixels = (pixels - offset) / span
        parts.append(torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1))
        names.append(name)
        channels.append(pixels.shape[2])
        ranges.append((offset, span))
    return torch.cat(parts, dim=0)[None], StackLayout(tuple(names), tuple(channels), tuple(ranges))


def unit_normals(vectors: torch.Tensor) -> torch.Tensor:
    """`(B,3,H,W)` vectors -> unit length, z kept >= a small positive value (outward)."""
    vectors = vectors.clone()
    vectors[:, 2:3] = vectors[:, 2:3].clamp(min=1e-3)
    return vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-8)


def unstack_maps(stacked: torch.Tensor, layout: StackLayout) -> dict[str, np.ndarray]:
    """Inverse of `stack_maps` for a synthesised `(1,sumC,h,w)`: `{name: (h,w,C) float32}` in the
    input maps' range ([0,1] for [0,1] maps; normals as `0.5n+0.5`)."""
    maps = {}
    for name, channel_slice in layout.slices():
        part = stacked[:, channel_slice]
        if is_normal_map(name):
            part = unit_normals(part) * 0.5 + 0.5
        offset, span = layout.value_range(name)
        part = part[0].clamp(0.0, 1.0) * span + offset
        maps[name] = part.permute(1, 2, 0).contiguous().numpy().astype(np.float32)
    return maps


def decode_normals(normal_map: np.ndarray) -> np.ndarray:
    """`(H,W,3)` encoded normals in [0,1] -> vectors in [-1,1]."""
    return normal_map[..., :3] * 2.0 - 1.0

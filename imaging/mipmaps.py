"""Mip chains for DDS files: each level the area average of the one before, half its size.

A game engine samples the level that matches the texture's size on screen, so each level must
look like the full texture seen from further away: colour is averaged in linear light (an sRGB
average darkens fine contrast), normal-map vectors are averaged and made unit length again,
data maps (roughness, masks, height) are averaged as they are. Colour under alpha is weighted
by it, so that transparent texels (often black) do not darken a cut-out's edges at a distance;
a data or normal map's fourth channel is averaged on its own like the others.
"""

from __future__ import annotations

import numpy as np

from imaging.color import linear_to_srgb, srgb_to_linear
from imaging.normals import encode_normal_map
from imaging.resize import resize

KINDS = ("color", "linear", "normal")


def mip_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """(height, width) of the levels below a height x width texture, down to 1x1, as DDS stores them."""
    sizes = []
    while height > 1 or width > 1:
        height, width = max(1, height // 2), max(1, width // 2)
        sizes.append((height, width))
    return sizes


def mip_chain(pixels: np.ndarray, *, kind: str = "color", wrap: bool = False) -> list[np.ndarray]:
    """The levels below `pixels`, down to 1x1 (none for a 1x1 image).

    pixels: (H,W) or (H,W,C), C in 1..4 (2 and 4: the last channel is alpha), uint8, uint16 or
        float in [0,1]; "color" values sRGB-encoded, "normal" ones 0.5n+0.5 in R,G,B.
    kind: "color", "linear" or "normal" (see the module docstring).
    wrap: the texture tiles, so averages at its edges take texels from the opposite edge.
    Returns uint8 (H',W',C) levels, each half the size of the one before (rounded down, at least 1).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    from imaging.io import from_float32, to_float32

    values = to_float32(pixels)
    values = values[..., None] if values.ndim == 2 else values
    channels = values.shape[2]
    if kind == "normal" and channels < 3:
        raise ValueError(f"a normal map needs 3 or 4 channels, got {channels}")
    colour_channels = channels - 1 if channels in (2, 4) else channels
    colour, alpha = values[..., :colour_channels], values[..., colour_channels:]
    if kind == "color":
        colour = srgb_to_linear(colour)
    elif kind == "normal":
        colour = colour * 2.0 - 1.0
    # Only colour's alpha is coverage; a data or normal map's 4th channel is often data (smoothness, height).
    weighted = kind == "color" and alpha.shape[2] > 0
    level = np.concatenate([colour * alpha if weighted else colour, alpha], axis=2).astype(np.float32)
    levels = []
    for size in mip_sizes(*values.shape[:2]):
        level = resize(level, size, filter="area", wrap=wrap)
        colour, alpha = level[..., :colour_channels], level[..., colour_channels:]
        if weighted:
            # Where every texel averaged was transparent, its colour is invisible: keep it black.
            colour = colour / np.maximum(alpha, 1e-6) * (alpha > 1e-6)
        if kind == "color":
            colour = linear_to_srgb(np.clip(colour, 0.0, 1.0))
        elif kind == "normal":
            colour = encode_normal_map(colour)
        levels.append(from_float32(np.concatenate([colour, alpha], axis=2), "8"))
    return levels

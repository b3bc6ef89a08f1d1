"""Apply an image-to-image function tile by tile, blending the tiles without seams.

Only one tile at a time goes through `fn`, so its memory (e.g. a network's
activations on the GPU) is bounded by the tile size; results are accumulated
on the CPU. Neighbouring tiles overlap by at least `overlap` input pixels.
Inside each overlap the outer quarter next to a tile's edge gets weight 0
(pixels there saw too little context, e.g. a convolution's zero padding), and
the middle half cross-fades with a raised cosine, so the weights of two
neighbours sum to 1 and the seam is smooth. The image border is padded by
`overlap` pixels (reflected, or wrapped around for tileable textures) so edge
pixels get context too.
"""

import math

import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad


def _tile_starts(length: int, tile: int, overlap: int) -> list:
    """Start offsets of tiles covering [0, length), spread evenly, overlapping >= overlap."""
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def _blend_profile(overlap: int, scale: int) -> torch.Tensor:
    """Weights from a tile's edge inwards, in output pixels: zeros, then a raised-cosine rise."""
    margin = overlap // 4
    ramp = (overlap - 2 * margin) * scale
    rise = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(ramp, dtype=torch.float64) + 0.5) / ramp)
    return torch.cat([torch.zeros(margin * scale, dtype=torch.float64), rise])


def _axis_weights(size: int, fade_in: bool, fade_out: bool, profile: torch.Tensor) -> torch.Tensor:
    weights = torch.ones(size, dtype=torch.float64)
    n = len(profile)
    if fade_in and n:
        weights[:n] = torch.minimum(weights[:n], profile)
    if fade_out and n:
        weights[-n:] = torch.minimum(weights[-n:], profile.flip(0))
    return weights


def _pad(image: torch.Tensor, pad: int, wrap: bool) -> torch.Tensor:
    if pad == 0:
        return image
    if wrap:
        return wrap_pad(image, pad)
    # Reflection needs pad < size; replicate the edge for tiny images.
    mode = "reflect" if pad < min(image.shape[-2:]) else "replicate"
    return F.pad(image, (pad, pad, pad, pad), mode=mode)


def tiled_apply(image, fn, *, tile, overlap, scale=1, wrap=False):
    """Run `fn` over `image` in overlapping tiles and blend the results.

    image: torch (1, C, H, W), any float dtype and device (tiles are cut on
        that device, so put the image where `fn` runs).
    fn: maps a (1, C, h, w) tile, h and w <= tile, to (1, C', h*scale, w*scale).
        It is called under torch.no_grad().
    tile: largest tile side in input pixels, context included; > 2 * overlap.
    overlap: pixels of context shared by neighbouring tiles and added around
        the image border.
    scale: integer output/input size ratio of `fn` (e.g. 4 for 4x super-resolution).
    wrap: take border context from the opposite edge (tileable textures: a
        shift-equivariant `fn` then gives a tileable result); otherwise reflect.
    Returns float32 CPU (1, C', H*scale, W*scale). With `fn` the identity (or
    any per-pixel map, or an upscale whose reach is under overlap // 4 input
    pixels) the result equals `fn` applied to the whole padded image.
    """
    if image.dim() != 4 or image.shape[0] != 1:
        raise ValueError(f"expected a (1,C,H,W) tensor, got {tuple(image.shape)}")
    tile, overlap, scale = int(tile), int(overlap), int(scale)
    if overlap < 0 or tile <= 2 * overlap:
        raise ValueError(f"need 0 <= 2*overlap < tile, got tile={tile}, overlap={overlap}")
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")

    height, width = image.shape[-2:]
    padded = _pad(image, overlap, wrap)
    padded_h, padded_w = padded.shape[-2:]
    profile = _blend_profile(overlap, scale)
    # float32 accumulators: an 8k x 8k RGB result already needs 0.8 GB.
    weight_sum = torch.zeros(padded_h * scale, padded_w * scale)
    output = None

    with torch.no_grad():
        for top in _tile_starts(padded_h, tile, overlap):
            tile_h = min(tile, padded_h)
            weights_y = _axis_weights(tile_h * scale, top > 0, top + tile_h < padded_h, profile)
            for left in _tile_starts(padded_w, tile, overlap):
                tile_w = min(tile, padded_w)
                weights_x = _axis_weights(tile_w * scale, left > 0, left + tile_w < padded_w, profile)
                piece = padded[:, :, top:top + tile_h, left:left + tile_w].contiguous()
                result = fn(piece)
                expected = (tile_h * scale, tile_w * scale)
                if result.dim() != 4 or result.shape[0] != 1 or tuple(result.shape[-2:]) != expected:
                    raise ValueError(f"fn returned {tuple(result.shape)} for a {tuple(piece.shape)} tile; "
                                     f"expected (1, C', {expected[0]}, {expected[1]})")
                if output is None:
                    output = torch.zeros(1, result.shape[1], padded_h * scale, padded_w * scale)
                weights = (weights_y[:, None] * weights_x[None, :]).float()
                rows = slice(top * scale, (top + tile_h) * scale)
                cols = slice(left * scale, (left + tile_w) * scale)
                output[:, :, rows, cols] += result.detach().to("cpu", torch.float32) * weights
                weight_sum[rows, cols] += weights

    crop_rows = slice(overlap * scale, (overlap + height) * scale)
    crop_cols = slice(overlap * scale, (overlap + width) * scale)
    return output[:, :, crop_rows, crop_cols] / weight_sum[crop_rows, crop_cols]

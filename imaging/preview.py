"""Small 8-bit sRGB previews of any decoded image, for thumbnails in the web UI.

Integer images are sRGB: they are downscaled in linear light (averaging
sRGB-encoded values darkens fine detail) and re-encoded. Float/linear images
(EXR, float TIFF; possibly HDR) are tone-mapped: an exposure from a robust
luminance percentile, an extended-Reinhard highlight roll-off, then the sRGB
curve. Alpha is averaged premultiplied so transparent pixels do not bleed
their colour into the thumbnail.
"""

from functools import lru_cache

import numpy as np

from imaging.color import linear_to_srgb, luminance, srgb_to_linear
from imaging.io import Image, to_float32
from imaging.resize import resize

# Luminance percentile that is mapped to 1.0 when an image is brighter than
# that; a percentile (not the max) so a few hot pixels do not darken the rest.
_EXPOSURE_PERCENTILE = 99.0
# Percentile taken as the white point of the roll-off (values above clip).
_WHITE_PERCENTILE = 99.9
_LARGEST_HALF = 65504.0  # infinities become this: bright, but finite under squaring


def _finite_non_negative(colour: np.ndarray) -> np.ndarray:
    colour = np.nan_to_num(np.asarray(colour, np.float32), nan=0.0, posinf=_LARGEST_HALF, neginf=0.0)
    return np.clip(colour, 0.0, _LARGEST_HALF)


@lru_cache(maxsize=2)
def _decode_table(dtype: np.dtype) -> np.ndarray:
    """sRGB code value -> linear float32, for every uint8 or uint16 level.

    A table lookup is ~10x faster than evaluating the curve on large images.
    """
    top = np.iinfo(dtype).max
    return srgb_to_linear(np.arange(top + 1, dtype=np.float64) / top).astype(np.float32)


def _linear_colour(image: Image, colour: np.ndarray) -> np.ndarray:
    """Colour channels of `image` as linear float32."""
    if image.colour_space != "srgb":
        return _finite_non_negative(to_float32(colour))
    if colour.dtype in (np.uint8, np.uint16):
        return _decode_table(colour.dtype)[colour]
    return srgb_to_linear(to_float32(colour))


def needs_tonemapped_preview(image: Image) -> bool:
    """True when the original cannot be shown as-is by a browser: 16-bit, float or linear data."""
    return image.bit_depth != "8" or image.colour_space != "srgb"


def tonemap_to_srgb8(linear_rgb_float: np.ndarray) -> np.ndarray:
    """Tone-map linear (possibly HDR) colour to displayable 8-bit sRGB.

    linear_rgb_float: float (H, W, 3) or (H, W, 1) linear values >= 0 (NaN
    and negative values count as 0, infinities as 65504). Images whose 99th
    luminance percentile is <= 1 keep their exposure (an albedo map stays as
    authored); brighter ones are scaled so that percentile maps to 1. Then per channel
    y = x (1 + x / w^2) / (1 + x) with white point w >= 1 (the identity when
    w = 1, i.e. for data already in [0,1]), then the sRGB curve.
    Returns uint8 with the input's shape. Monotonic in every channel.
    """
    colour = _finite_non_negative(linear_rgb_float)
    lum = luminance(colour) if colour.shape[-1] == 3 else colour
    exposure = 1.0 / max(float(np.percentile(lum, _EXPOSURE_PERCENTILE)), 1.0)
    colour = colour * exposure
    white = max(float(np.percentile(colour, _WHITE_PERCENTILE)), 1.0)
    mapped = colour * (1.0 + colour / (white * white)) / (1.0 + colour) if white > 1.0 else colour
    return np.rint(linear_to_srgb(mapped) * 255.0).astype(np.uint8)


def _preview_size(height: int, width: int, max_size: int) -> tuple:
    scale = min(1.0, max_size / max(height, width))
    return max(1, min(max_size, round(height * scale))), max(1, min(max_size, round(width * scale)))


def make_preview(image: Image, max_size: int = 256) -> np.ndarray:
    """Downscaled, displayable 8-bit sRGB version of a decoded image.

    The longest side becomes <= max_size (never upscaled; area filtering).
    Returns uint8: (h, w) for grey, (h, w, 3) for RGB, (h, w, 4) for RGBA and
    for grey+alpha (grey copied to R, G and B). 16-bit sRGB maps to 8-bit by
    value (65535 -> 255); linear/float data is tone-mapped (tonemap_to_srgb8).
    """
    has_alpha = image.channels in (2, 4)
    colour = image.pixels[..., :-1] if has_alpha else image.pixels
    alpha = np.clip(to_float32(image.pixels[..., -1:]), 0.0, 1.0) if has_alpha else None
    linear = _linear_colour(image, colour)
    height, width = _preview_size(image.height, image.width, max_size)
    if (height, width) != (image.height, image.width):
        if alpha is None:
            linear = resize(linear, (height, width), filter="area")
        else:  # average premultiplied colour, then divide by the averaged alpha
            linear *= alpha  # `linear` is always a fresh array here
            linear = resize(linear, (height, width), filter="area")
            alpha = resize(alpha, (height, width), filter="area")
            linear /= np.maximum(alpha, 1e-8)

    if image.colour_space == "srgb":
        colour8 = np.rint(linear_to_srgb(linear) * 255.0).astype(np.uint8)
    else:
        colour8 = tonemap_to_srgb8(linear)
    if alpha is None:
        return colour8[..., 0] if colour8.shape[-1] == 1 else colour8
    if colour8.shape[-1] == 1:
        colour8 = np.repeat(colour8, 3, axis=-1)
    return np.concatenate([colour8, np.rint(alpha * 255.0).astype(np.uint8)], axis=-1)

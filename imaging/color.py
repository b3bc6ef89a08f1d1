"""Colour curves and luma/luminance, for numpy arrays and torch tensors alike.

Every function accepts a numpy array or a torch tensor and returns the same kind.
torch is never imported here: tensors are recognised by their methods.
"""

import numpy as np

# BT.709 / sRGB primaries: relative luminance of linear RGB.
_BT709 = (0.2126, 0.7152, 0.0722)
# BT.601 luma as used by MATLAB's rgb2ycbcr (the usual super-resolution PSNR convention).
_BT601_Y = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)
_BT601_Y_OFFSET = 16.0 / 255.0


def _is_torch(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _as_float_array(x):
    """numpy input -> float array (float32 kept, other dtypes -> float64)."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64, np.float16):
        x = x.astype(np.float64)
    return x


def srgb_to_linear(x):
    """sRGB-encoded values -> linear light (IEC 61966-2-1 piecewise curve).

    x: numpy array or torch tensor, any shape, float; clipped to [0,1] first.
    Returns the same kind, shape and float dtype, in [0,1].
    """
    if _is_torch(x):
        x = x.clamp(0.0, 1.0)
        return (x / 12.92).where(x <= 0.04045, ((x + 0.055) / 1.055) ** 2.4)
    x = np.clip(_as_float_array(x), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(x.dtype)


def linear_to_srgb(x):
    """Linear light -> sRGB encoding (IEC 61966-2-1 piecewise curve).

    x: numpy array or torch tensor, any shape, float; clipped to [0,1] first
    (tone-map HDR data before calling this). Returns the same kind, shape and
    float dtype, in [0,1].
    """
    if _is_torch(x):
        x = x.clamp(0.0, 1.0)
        # The clamp_min keeps pow away from 0, whose gradient is infinite.
        encoded = 1.055 * x.clamp_min(0.0031308) ** (1.0 / 2.4) - 0.055
        return encoded.where(x > 0.0031308, x * 12.92)
    x = np.clip(_as_float_array(x), 0.0, 1.0)
    encoded = 1.055 * np.maximum(x, 0.0031308) ** (1.0 / 2.4) - 0.055
    return np.where(x <= 0.0031308, x * 12.92, encoded).astype(x.dtype)


def _weighted_channel_sum(x, weights, offset=0.0):
    """Weighted sum of the 3 colour channels, keeping the channel axis.

    numpy: channel-last (..., 3 or 4) -> (..., 1); torch: channel-first
    (B, 3 or 4, H, W) -> (B, 1, H, W). A 4th (alpha) channel is ignored.
    """
    if _is_torch(x):
        if x.dim() != 4 or x.shape[1] not in (3, 4):
            raise ValueError(f"expected a (B,3,H,W) tensor, got {tuple(x.shape)}")
        r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    else:
        x = _as_float_array(x)
        if x.ndim < 1 or x.shape[-1] not in (3, 4):
            raise ValueError(f"expected a channel-last (...,3) array, got {x.shape}")
        r, g, b = x[..., 0:1], x[..., 1:2], x[..., 2:3]
    return offset + weights[0] * r + weights[1] * g + weights[2] * b


def luminance(x):
    """Relative luminance Y with BT.709 weights (0.2126, 0.7152, 0.0722).

    Meaningful for linear RGB. numpy channel-last (..., 3) -> (..., 1);
    torch (B, 3, H, W) -> (B, 1, H, W). The channel axis is kept so the result
    broadcasts against the input. Values in [0,1] for inputs in [0,1].
    """
    return _weighted_channel_sum(x, _BT709)


def rgb_to_y_bt601(x):
    """BT.601 studio-range luma Y' from (sRGB-encoded) RGB in [0,1].

    Y' = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255, so Y' is in
    [16/255, 235/255]: the MATLAB rgb2ycbcr convention used for
    super-resolution PSNR/SSIM. Same layouts as `luminance`.
    """
    return _weighted_channel_sum(x, _BT601_Y, _BT601_Y_OFFSET)


def value_range(values) -> tuple[float, float]:
    """(offset, span) with `(values - offset) / span` in [0,1], for networks and [0,1] stacks.

    Values in [0,1] are left as they are (0, 1); HDR values are scaled by their peak (zero
    stays black, as the sRGB encoding needs); signed ones (heights, displacement) map
    [min, max] onto [0,1].
    """
    low, high = float(values.min()), float(values.max())
    if low >= 0.0:
        return 0.0, max(high, 1.0)
    span = high - low
    return low, span if span > 0.0 else 1.0


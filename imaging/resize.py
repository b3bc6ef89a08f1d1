"""Separable resampling with identical results for numpy and torch inputs.

Filters (PIL-style, weights normalised to sum to 1, edges replicated, or
wrapped around with wrap=True for tileable images):
  bilinear  triangle, support 1
  bicubic   Keys cubic with a = -0.5 (Catmull-Rom), support 2
  lanczos   Lanczos-3, support 3
  area      exact pixel-area overlap (box averaging; nearest-like when upscaling)
With antialias=True a downscale stretches the kernel by the scale factor so
it low-passes before decimating (no aliasing); area always averages.
Kernels with negative lobes (bicubic, lanczos) can overshoot [0,1]; nothing is
clipped here.
"""

import numpy as np

FILTERS = ("bicubic", "lanczos", "area", "bilinear")


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x, a=-0.5):
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = a * (((x - 5.0) * x + 8.0) * x - 4.0)
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _lanczos3(x):
    return np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)


_KERNELS = {"bilinear": (_triangle, 1.0), "bicubic": (_keys_cubic, 2.0), "lanczos": (_lanczos3, 3.0)}


def axis_weights(in_len: int, out_len: int, filter: str, antialias: bool = True, wrap: bool = False):
    """Sparse resampling matrix for one axis.

    Returns (indices, weights), both (out_len, K): output sample i is
    sum_k weights[i, k] * input[indices[i, k]]. Pixel centres sit at +0.5
    (align_corners=False convention). Taps past an edge repeat the edge
    pixel, or come from the opposite edge with `wrap`.
    """
    scale = in_len / out_len
    if filter == "area":
        low = np.arange(out_len) * scale  # output pixel i covers [low, high) of the input
        high = low + scale
        first = np.floor(low).astype(np.int64)
        last = np.ceil(high).astype(np.int64) - 1
        taps = first[:, None] + np.arange(int((last - first).max()) + 1)
        weights = np.clip(np.minimum(taps + 1, high[:, None]) - np.maximum(taps, low[:, None]), 0.0, None)
    elif filter in _KERNELS:
        kernel, support = _KERNELS[filter]
        stretch = max(scale, 1.0) if antialias else 1.0
        support *= stretch
        centre = (np.arange(out_len) + 0.5) * scale - 0.5  # in input pixel indices
        first = np.floor(centre - support).astype(np.int64) + 1
        last = np.ceil(centre + support).astype(np.int64) - 1
        taps = first[:, None] + np.arange(int((last - first).max()) + 1)
        weights = kernel((taps - centre[:, None]) / stretch)
    else:
        raise ValueError(f"filter must be one of {FILTERS}, got {filter!r}")
    weights = weights / weights.sum(axis=1, keepdims=True)
    return (np.mod(taps, in_len) if wrap else np.clip(taps, 0, in_len - 1)), weights


def _resample_numpy(x: np.ndarray, axis: int, indices, weights) -> np.ndarray:
    shape = [1] * x.ndim
    shape[axis] = -1
    out = None
    for k in range(indices.shape[1]):
        term = np.take(x, indices[:, k], axis=axis) * weights[:, k].astype(x.dtype).reshape(shape)
        out = term if out is None else out + term
    return out


def _resample_torch(x, dim: int, indices, weights):
    import torch

    shape = [1] * x.dim()
    shape[dim] = -1
    index = torch.as_tensor(indices, device=x.device)
    weight = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
    out = None
    for k in range(index.shape[1]):
        term = x.index_select(dim, index[:, k]) * weight[:, k].reshape(shape)
        out = term if out is None else out + term
    return out


def resize(x, size, *, filter="bicubic", antialias=True, wrap=False):
    """Resize to size = (height, width); `wrap`: the image tiles (edges wrap around).

    x: numpy float (H, W, C) or (H, W), or torch float (B, C, H, W) on any
    device. Returns the same kind and dtype with the new height and width;
    values are not clipped. numpy and torch give the same numbers.
    """
    height, width = int(size[0]), int(size[1])
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size}")
    is_torch = type(x).__module__.split(".")[0] == "torch"
    if is_torch:
        if x.dim() != 4 or not x.is_floating_point():
            raise ValueError(f"expected a float (B,C,H,W) tensor, got {x.dtype} {tuple(x.shape)}")
        axes, apply = (2, 3), _resample_torch
    else:
        x = np.asarray(x)
        if x.ndim not in (2, 3) or not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"expected a float (H,W,C) array, got {x.dtype} {x.shape} "
                             "(imaging.io.to_float32 converts integer pixels)")
        axes, apply = (0, 1), _resample_numpy
    for axis, new_len in zip(axes, (height, width)):
        old_len = x.shape[axis]
        if old_len != new_len:  # every filter is the identity at scale 1
            x = apply(x, axis, *axis_weights(old_len, new_len, filter, antialias, wrap))
    return x

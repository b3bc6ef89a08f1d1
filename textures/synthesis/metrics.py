"""Texture quality metrics that need no downloaded weights.

All take numpy `(H,W,C)` float arrays in [0,1] (any channel count).
"""
from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F

from .gram import gram_distance as _gram_distance
from .patch_swd import quantile_targets, random_projections, sort_rows


def _tensor(image: np.ndarray) -> torch.Tensor:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]


def seam_score(image: np.ndarray) -> float:
    """Gradient energy across the wrap border / mean gradient energy inside.

    ~1 when the image tiles seamlessly (the wrap step looks like any other step);
    much larger when repeating the image shows a seam.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = image[..., None]
    inside_x = np.mean((image[:, 1:] - image[:, :-1]) ** 2)
    inside_y = np.mean((image[1:] - image[:-1]) ** 2)
    across_x = np.mean((image[:, 0] - image[:, -1]) ** 2)
    across_y = np.mean((image[0] - image[-1]) ** 2)
    return float((across_x + across_y) / max(inside_x + inside_y, 1e-12))


# Interior lines brought to the border by `interior_seam_score`, as fractions of (H, W).
INTERIOR_SHIFTS = ((1 / 2, 1 / 2), (1 / 3, 1 / 5), (2 / 3, 3 / 4), (1 / 5, 2 / 3))


def interior_seam_score(image: np.ndarray) -> float:
    """Median `seam_score` of interior lines: the image rolled so that they sit at the border.

    One line's score is noisy (interior lines of seamless outputs score 0.45-1.5), so a wrap
    line is judged against this rather than against 1.
    """
    image = np.asarray(image)
    height, width = image.shape[:2]
    return float(np.median([seam_score(np.roll(image, (round(fy * height), round(fx * width)), (0, 1)))
                            for fy, fx in INTERIOR_SHIFTS]))


def seam_excess(image: np.ndarray) -> float:
    """Gradient energy across the wrap line over the largest across any interior line, the
    worse of the two directions.

    A seamless tile's wrap line is just one more line, so its energy lies among the
    interior lines' (<= 1 but for rare draws); a seam stands out far above all of them
    (a photo crop: 20-40). Unlike `seam_score` against one reference line, it needs no
    tolerance tuned to the image's size.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = image[..., None]
    across_x = ((np.roll(image, -1, axis=1) - image) ** 2).mean(axis=(0, 2))  # last: the wrap line
    across_y = ((np.roll(image, -1, axis=0) - image) ** 2).mean(axis=(1, 2))
    return float(max(across_x[-1] / max(across_x[:-1].max(), 1e-12),
                     across_y[-1] / max(across_y[:-1].max(), 1e-12)))


def copy_score(output: np.ndarray, exemplar: np.ndarray, *, patch: int = 8, stride: int = 8,
               threshold: float = 0.02) -> float:
    """Share of output patches that are near-verbatim copies of an exemplar patch.

    Output patches on a `stride` grid are compared with every exemplar patch (stride 1);
    a copy is a mean squared difference below `threshold` * exemplar variance.
    """
    out, ex = _tensor(output), _tensor(exemplar)
    variance = float(ex.var())
    queries = F.unfold(out, patch, stride=stride)[0].T          # (n_out, D)
    keys = F.unfold(ex, patch, stride=1)[0].T                   # (n_ex, D)
    key_norms = keys.pow(2).sum(1)
    copies = 0
    for chunk in queries.split(1024):
        distance = chunk.pow(2).sum(1, keepdim=True) + key_norms[None] - 2 * chunk @ keys.T
        nearest = distance.min(dim=1).values.clamp(min=0) / keys.shape[1]
        copies += int((nearest < threshold * variance).sum())
    return copies / queries.shape[0]


def patch_swd(first: np.ndarray, second: np.ndarray, *, patch: int = 7,
              scales: tuple[int, ...] = (1, 2, 4), projections: int = 128, seed: int = 0) -> float:
    """Multi-scale sliced Wasserstein distance between raw patches of two images.

    Fixed seeded projections; patches inside each image only (no wrap). At each scale both
    images are area-averaged over `factor`^2 blocks at every offset (a stride-1 box filter,
    patches taken with dilation `factor`): the patches of the image downsampled on all
    `factor`^2 block grids at once. One fixed grid made the distance depend on where a
    periodic pattern's cells fall on it (a weave shifted by one pixel scored 2.2 or 4.2).
    Returns the mean over scales of the root mean squared quantile difference.
    """
    a, b = _tensor(first), _tensor(second)
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    for factor in scales:
        small_a = F.avg_pool2d(a, factor, stride=1) if factor > 1 else a
        small_b = F.avg_pool2d(b, factor, stride=1) if factor > 1 else b
        filters = random_projections(a.shape[1], patch, projections, generator, torch.device("cpu"))
        values_a = sort_rows(F.conv2d(small_a, filters, dilation=factor).reshape(projections, -1))
        values_b = sort_rows(F.conv2d(small_b, filters, dilation=factor).reshape(projections, -1))
        count = min(values_a.shape[1], values_b.shape[1])
        difference = quantile_targets(values_a, count) - quantile_targets(values_b, count)
        total += float(difference.pow(2).mean().sqrt())
    return total / len(scales)


def self_distance(exemplar: np.ndarray, **kwargs) -> float:
    """Patch SWD between the left and right halves of the exemplar (two disjoint crops)."""
    half = exemplar.shape[1] // 2
    return patch_swd(exemplar[:, :half], exemplar[:, half:], **kwargs)


def relative_patch_swd(output: np.ndarray, exemplar: np.ndarray, **kwargs) -> float:
    """patch_swd(output, exemplar) / self_distance(exemplar): ~1 = as close as the
    texture is to itself, larger = less similar."""
    return patch_swd(output, exemplar, **kwargs) / max(self_distance(exemplar, **kwargs), 1e-12)


def gram_distance(output: np.ndarray, exemplar: np.ndarray) -> float:
    """Relative Gram distance in a fixed random-feature CNN (0 = identical statistics)."""
    return _gram_distance(_tensor(output), _tensor(exemplar))


def diversity(outputs: list[np.ndarray]) -> float:
    """Mean pairwise mean-squared difference between outputs / (2 * mean variance).

    ~1 for unrelated images with the same statistics, 0 for identical ones.
    """
    if len(outputs) < 2:
        return 0.0
    arrays = [np.asarray(o, dtype=np.float64) for o in outputs]
    variance = np.mean([a.var() for a in arrays])
    pairs = [np.mean((a - b) ** 2) for a, b in itertools.combinations(arrays, 2)]
    return float(np.mean(pairs) / max(2 * variance, 1e-12))

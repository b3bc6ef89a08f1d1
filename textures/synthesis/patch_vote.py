"""Nearest-neighbour patch voting (texture optimisation, Kwatra et al. 2005; GPNN, Granot et al. 2022).

Each output patch is replaced by its nearest exemplar patch and overlapping patches are
averaged. Sliced-Wasserstein steps match the *distribution* of patches but leave regular
structure (mortar lines, planks, weave) bent and smeared, because no single patch has to be
a real one; a few votes at the coarse levels snap the layout onto real exemplar patches and
the finer SWD levels then add detail that is not copied. Circular on the output side, so a
tileable output stays tileable.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad


def _pca_basis(keys: torch.Tensor, dims: int) -> torch.Tensor:
    """(D, dims) principal directions of `(N,D)` centred keys (all of them when D <= dims)."""
    if keys.shape[1] <= dims:
        return torch.eye(keys.shape[1], dtype=keys.dtype, device=keys.device)
    sample = keys[torch.linspace(0, keys.shape[0] - 1, min(keys.shape[0], 8192)).long()]
    _, _, v = torch.linalg.svd(sample - sample.mean(0, keepdim=True), full_matrices=False)
    return v[:dims].T


def key_stride(source: torch.Tensor, patch: int, max_keys: int) -> int:
    """Grid step of the source patches so that at most about `max_keys` are searched."""
    count = (source.shape[-2] - patch + 1) * (source.shape[-1] - patch + 1)
    return max(1, math.ceil(math.sqrt(count / max_keys)))


@torch.no_grad()
def nearest_patches(output: torch.Tensor, keys: torch.Tensor, patch: int, *, bad: torch.Tensor | None = None,
                    dims: int = 16, chunk: int = 4096) -> torch.Tensor:
    """Index of the nearest key for every output pixel's (wrapped) patch.

    output: `(1,C,h,w)`; keys: `(N, C*patch^2)` source patches (as `F.unfold` lays them
    out); bad: optional `(N,)` bool, keys never chosen.
    Distances in a PCA space of `dims` dimensions (exact when C*patch^2 <= dims).
    Returns `(h*w,)` long indices into the keys.
    """
    queries = F.unfold(wrap_pad(output, patch // 2), patch)[0].T  # (h*w, C p^2), centred on each pixel
    mean = keys.mean(0, keepdim=True)
    basis = _pca_basis(keys, dims)
    keys_low = (keys - mean) @ basis
    queries_low = (queries - mean) @ basis
    key_norms = keys_low.pow(2).sum(1)
    if bad is not None and not bool(bad.all()):
        key_norms = key_norms.masked_fill(bad, float("inf"))
    found = []
    for part in queries_low.split(chunk):
        found.append(torch.addmm(key_norms[None], part, keys_low.T, alpha=-2).argmin(1))
    return torch.cat(found)


@torch.no_grad()
def vote(output: torch.Tensor, source: torch.Tensor, patch: int, *, ignore: torch.Tensor | None = None,
         dims: int = 16, max_keys: int = 4096) -> torch.Tensor:
    """One voting pass: `(1,C,h,w)` -> `(1,C,h,w)`, each pixel the mean of the pixels
    that the nearest source patches of every output patch covering it put there.

    source: `(1,C,H,W)` (patches inside it only, no wrap), searched on a grid of at most
    about `max_keys` patches (the cost is queries x keys); ignore: optional `(1,1,H,W)`,
    nonzero pixels the chosen patches must not touch.
    """
    _, channels, height, width = output.shape
    stride = key_stride(source, patch, max_keys)
    keys = F.unfold(source, patch, stride=stride)[0]          # (C p^2, N)
    bad = None if ignore is None else F.unfold(ignore.float(), patch, stride=stride)[0].amax(0) > 0
    index = nearest_patches(output, keys.T, patch, bad=bad, dims=dims)
    chosen = keys[:, index].view(channels, patch, patch, height, width)
    radius = patch // 2
    total = torch.zeros(channels, height, width, dtype=output.dtype, device=output.device)
    for dy in range(patch):
        for dx in range(patch):
            # The patch centred on pixel q puts its (dy,dx) entry at q + (dy,dx) - radius.
            total += torch.roll(chosen[:, dy, dx], shifts=(dy - radius, dx - radius), dims=(1, 2))
    return (total / (patch * patch)).unsqueeze(0)

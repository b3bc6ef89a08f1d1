"""Clusters of master-tile pixels that look alike.

A tile is made of a few materials (glaze and grout, thread and gap, metal and
dirt). Pixels of one material share their specular lobe, and pooling their
observations sees the lobe from many more half-vectors than one pixel's
matches do: a rough, barely specular grout pixel alone cannot tell a faint
sharp lobe from a broad one, its cluster can. The fit gives each cluster one
lobe before it lets every pixel go its own way (fit.fit_svbrdf).
"""

from __future__ import annotations

import torch

# Pixels of a cluster smaller than this share of the tile join their nearest
# larger cluster: a handful of pixels pools no more than one pixel does.
MIN_FRACTION = 0.03


def appearance_clusters(albedo: torch.Tensor, count: int, *, iterations: int = 20, seed: int = 0) -> torch.Tensor:
    """k-means of the pixels' colour.

    albedo: (P,3) linear RGB > 0 (the first stage's per-pixel albedo).
    Returns labels (P,) long in [0, K), K <= count, clusters ordered by size
    (0 = largest). Distances are taken on log albedo, so a dark material
    splits from a darker one as readily as a bright from a brighter.
    Deterministic for a seed (k-means++ start).
    """
    features = torch.log(albedo.detach().float().clamp_min(1e-4))
    p = features.shape[0]
    count = max(1, min(int(count), p))
    gen = torch.Generator().manual_seed(seed)
    cpu = features.cpu()
    centres = [cpu[int(torch.randint(p, (1,), generator=gen))]]
    for _ in range(count - 1):
        d2 = torch.cdist(cpu, torch.stack(centres)).amin(1) ** 2
        if float(d2.sum()) <= 0:
            break
        centres.append(cpu[int(torch.multinomial(d2 / d2.sum(), 1, generator=gen))])
    centres = torch.stack(centres).to(features.device)
    for _ in range(iterations):
        labels = torch.cdist(features, centres).argmin(1)
        for j in range(centres.shape[0]):
            members = labels == j
            if members.any():
                centres[j] = features[members].mean(0)
    labels = torch.cdist(features, centres).argmin(1)
    sizes = torch.bincount(labels, minlength=centres.shape[0])
    keep = sizes >= max(1, MIN_FRACTION * p)
    if not keep.any():
        return torch.zeros(p, dtype=torch.long, device=albedo.device)
    kept = torch.nonzero(keep)[:, 0]
    labels = kept[torch.cdist(features, centres[kept]).argmin(1)]
    # Relabel 0..K-1 by decreasing size.
    sizes = torch.bincount(labels, minlength=centres.shape[0])
    order = torch.argsort(sizes, descending=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=order.device)
    return rank[labels].to(albedo.device)

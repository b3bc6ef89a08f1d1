"""Master tile and matches for a stochastic stationary surface (no exact period).

Each master-tile neighbourhood is matched against the whole guide photo by
patch matching in a PCA-reduced patch space. To keep this fast, matches are
searched for master pixels on a coarse grid; the pixels in between inherit
their grid sample's matches shifted by their offset (matching regions are
coherent: if p matches q, p + d matches q + d nearby).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from imaging.color import luminance

from .align import local_contrast
from .maps import SvbrdfMaps

PATCH = 9  # patch side (px)
PCA_DIMS = 12
CANDIDATE_STRIDE = 2  # candidate positions every 2 px
CELL = 4  # candidates per cell side: at most one match per 8x8 px cell
MASTER_STRIDE = 4  # master pixels searched explicitly
MATCHES = 48
EXCLUDE_RADIUS = 16.0  # px around the master itself


def master_origin(centre, side: int, image_size, clipped: np.ndarray):
    """Top-left (x, y) of the side x side master tile, centred on the highlight
    centre and kept inside the photo."""
    h, w = image_size
    x = min(max(centre[0] - side / 2, 0.0), w - 1 - side)
    y = min(max(centre[1] - side / 2, 0.0), h - 1 - side)
    return np.array([x, y], dtype=np.float64)


def patch_features(guide_rgb: np.ndarray) -> torch.Tensor:
    """(D,H,W) PCA coordinates of every PATCH x PATCH neighbourhood of the guide's
    local contrast. guide_rgb: (H,W,3) linear."""
    lum = np.ascontiguousarray(luminance(guide_rgb)[..., 0], dtype=np.float32)
    img = torch.from_numpy(local_contrast(lum, sigma=8.0))[None, None]
    patches = F.unfold(img[..., ::3, ::3], PATCH)  # a sample of patches for the basis
    x = patches[0].T
    x = x - x.mean(0, keepdim=True)
    _, _, v = torch.linalg.svd(x[torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))[:20000]],
                               full_matrices=False)
    basis = v[:PCA_DIMS].reshape(PCA_DIMS, 1, PATCH, PATCH)
    return F.conv2d(img, basis, padding=PATCH // 2)[0]


def match_positions(guide_rgb: np.ndarray, origin, side: int, *, progress=None, span=(0.0, 1.0)) -> np.ndarray:
    """(P,K,2) flash positions of K matches for each master pixel (row-major
    over the side x side tile), the master itself first.

    guide_rgb: (H,W,3) linear guide aligned to the flash photo."""
    feats = patch_features(guide_rgb)
    d, h, w = feats.shape
    border = PATCH // 2 + 1
    cy = torch.arange(border, h - border, CANDIDATE_STRIDE)
    cx = torch.arange(border, w - border, CANDIDATE_STRIDE)
    cy = cy[: (len(cy) // CELL) * CELL]
    cx = cx[: (len(cx) // CELL) * CELL]
    cand = feats[:, cy][:, :, cx]  # (D, Hc, Wc)
    hc, wc = cand.shape[1:]
    cand_flat = cand.reshape(d, -1)
    cand_sq = (cand_flat**2).sum(0)
    # Master samples on a coarse grid (with the last row/column included).
    steps = sorted(set(list(range(0, side, MASTER_STRIDE)) + [side - 1]))
    sy, sx = np.meshgrid(steps, steps, indexing="ij")
    samples = np.stack([sx.ravel() + origin[0], sy.ravel() + origin[1]], 1)  # (S,2) x,y
    sxi = np.clip(np.round(samples[:, 0]).astype(int), 0, w - 1)
    syi = np.clip(np.round(samples[:, 1]).astype(int), 0, h - 1)
    q = feats[:, torch.from_numpy(syi), torch.from_numpy(sxi)].T  # (S, D)
    cell_y = cy.reshape(-1, CELL).float().mean(1)
    cell_x = cx.reshape(-1, CELL).float().mean(1)
    found = np.zeros((len(samples), MATCHES - 1, 2), np.float64)
    chunk = 128
    for start in range(0, len(samples), chunk):
        qs = q[start:start + chunk]
        dist = (qs**2).sum(1, keepdim=True) - 2 * qs @ cand_flat + cand_sq[None]
        dist = dist.reshape(-1, hc // CELL, CELL, wc // CELL, CELL).permute(0, 1, 3, 2, 4)
        dist = dist.reshape(dist.shape[0], hc // CELL, wc // CELL, CELL * CELL)
        best, arg = dist.min(-1)  # best candidate per cell
        # No matches next to the master itself: that is the master, not a repeat.
        sp = torch.from_numpy(samples[start:start + chunk]).float()
        near = ((cell_x[None, None, :] - sp[:, 0, None, None]) ** 2
                + (cell_y[None, :, None] - sp[:, 1, None, None]) ** 2) < EXCLUDE_RADIUS**2
        best = best.masked_fill(near, float("inf")).reshape(best.shape[0], -1)
        top = best.topk(MATCHES - 1, dim=1, largest=False).indices  # (c, K-1)
        iy, ix = top // (wc // CELL), top % (wc // CELL)
        a = arg.reshape(arg.shape[0], -1).gather(1, top)
        py = cy[(iy * CELL + a // CELL)].numpy()
        px = cx[(ix * CELL + a % CELL)].numpy()
        found[start:start + chunk, :, 0] = px
        found[start:start + chunk, :, 1] = py
        if progress is not None:
            progress(span[0] + (span[1] - span[0]) * min(1.0, (start + chunk) / len(samples)), "matching patches")
    # Every master pixel inherits the matches of its nearest grid sample.
    ty, tx = np.mgrid[0:side, 0:side]
    steps_arr = np.asarray(steps)
    ny = np.abs(ty.ravel()[:, None] - steps_arr[None]).argmin(1)
    nx = np.abs(tx.ravel()[:, None] - steps_arr[None]).argmin(1)
    nearest = ny * len(steps) + nx
    master = np.stack([tx.ravel() + origin[0], ty.ravel() + origin[1]], 1)
    offset = master - samples[nearest]
    shifted = found[nearest] + (offset + samples[nearest] - np.round(samples[nearest]))[:, None, :]
    return np.concatenate([master[:, None, :], shifted], axis=1).astype(np.float32)


def coverage(positions: np.ndarray, size, image_size) -> np.ndarray:
    """Tile coordinates (H,W,2) of photo pixels that some match covers (NaN
    elsewhere), for re-rendering."""
    h, w = image_size
    th, tw = size
    uv = np.full((h, w, 2), np.nan, np.float32)
    p, k = positions.shape[:2]
    tv, tu = np.divmod(np.arange(p), tw)
    xi = np.round(positions[..., 0]).astype(int)
    yi = np.round(positions[..., 1]).astype(int)
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    uv[yi[ok], xi[ok], 0] = np.broadcast_to(tu[:, None], (p, k))[ok]
    uv[yi[ok], xi[ok], 1] = np.broadcast_to(tv[:, None], (p, k))[ok]
    return uv


def make_tileable(maps: SvbrdfMaps, overlap: float = 0.25) -> SvbrdfMaps:
    """Seamlessly tileable version of a stochastic tile.

    Offset-and-blend: a copy shifted by half the tile (its seams in the middle)
    is blended in near the borders, where the original has its seams, with
    smooth weights. Anisotropy is blended as (a cos 2phi, a sin 2phi); normals
    are renormalised.
    """
    h, w = maps.shape
    ramp = lambda n: np.clip(np.minimum(np.arange(n) + 0.5, n - np.arange(n) - 0.5) / (overlap * n), 0, 1)
    wgt = (np.outer(ramp(h), np.ones(w)) * np.outer(np.ones(h), ramp(w)))
    wgt = (0.5 - 0.5 * np.cos(math.pi * wgt)).astype(np.float32)

    def blend(a):
        shifted = np.roll(a, (h // 2, w // 2), axis=(0, 1))
        wg = wgt if a.ndim == 2 else wgt[..., None]
        return wg * a + (1 - wg) * shifted

    normal = blend(maps.normal)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True).clip(1e-12)
    vec = blend(np.stack([maps.anisotropy * np.cos(2 * maps.angle), maps.anisotropy * np.sin(2 * maps.angle)], -1))
    return SvbrdfMaps(albedo=blend(maps.albedo), specular=blend(maps.specular), normal=normal.astype(np.float32),
                      roughness=blend(maps.roughness), anisotropy=np.linalg.norm(vec, axis=-1).astype(np.float32),
                      angle=(0.5 * np.arctan2(vec[..., 1], vec[..., 0])).astype(np.float32))

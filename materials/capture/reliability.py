"""Split-half reliability filter for fitted maps.

The same map is fitted twice more, each time from one half of the repeats;
per spatial-frequency ring, the correlation of the two halves (the Fourier
ring correlation, as cryo-EM's Fourier shell correlation) says how much of
the full map's content at that frequency is signal and how much is the
noise of disagreeing matches. The full map is then Wiener-filtered with the
reliability of the full data, 2 c / (1 + c) (Spearman-Brown: twice the
observations, half the noise variance), so frequencies the matches do not
agree on fade towards zero while agreed detail is kept.

Both halves, and the full fit, average matches that are similar rather than
equal neighbourhoods, which flattens agreed detail too (regression dilution);
the halves cannot see that, so `fit.py` sets the gain of the agreed detail from
the master tile's own observations, the only exact ones.
"""

from __future__ import annotations

import torch

# Ring edges in cycles per pixel (0.5 = Nyquist; corners reach 0.71). Narrow
# at low frequency, where most of a map's energy is.
RING_EDGES = (0.0, 0.015, 0.03, 0.05, 0.075, 0.11, 0.16, 0.23, 0.33, 0.5, 0.71)
# A ring with fewer frequency samples than this is merged into the next (small tiles).
MIN_RING_SAMPLES = 8


def _spectrum(x: torch.Tensor, shape, wrap: bool) -> torch.Tensor:
    """(P,C) over `shape` -> (C,H',W') complex spectrum; a tile that does not wrap is
    mirrored to twice its size first, so its borders do not leak a cross of false
    high frequencies into the rings."""
    h, w = shape
    g = x.T.reshape(-1, h, w)
    if not wrap:
        g = torch.cat([g, g.flip(1)], dim=1)
        g = torch.cat([g, g.flip(2)], dim=2)
    return torch.fft.fft2(g)


def ring_weights(half_a: torch.Tensor, half_b: torch.Tensor, shape, wrap: bool):
    """Per-frequency Wiener weights in [0,1] from two half-data estimates.

    half_a, half_b: (P,C) maps over `shape` (P = h*w), fitted from disjoint
    halves of the observations. Returns (weights (H',W') on the spectrum grid of
    `_spectrum`, list of (ring centre in cycles/px, ring correlation))."""
    fa, fb = _spectrum(half_a, shape, wrap), _spectrum(half_b, shape, wrap)
    hh, ww = fa.shape[-2:]
    fy = torch.fft.fftfreq(hh, device=fa.device)[:, None]
    fx = torch.fft.fftfreq(ww, device=fa.device)[None, :]
    radius = torch.sqrt(fx * fx + fy * fy)
    cross = (fa * fb.conj()).real.sum(0)
    power_a, power_b = (fa.abs() ** 2).sum(0), (fb.abs() ** 2).sum(0)
    centres, correlations = [], []
    lo = RING_EDGES[0]
    for hi in RING_EDGES[1:]:
        ring = (radius >= lo) & (radius < hi)
        if int(ring.sum()) < MIN_RING_SAMPLES and hi != RING_EDGES[-1]:
            continue  # widen this ring up to the next edge
        if int(ring.sum()) == 0:
            break
        denom = torch.sqrt(power_a[ring].sum() * power_b[ring].sum()).clamp_min(1e-20)
        correlations.append(float(cross[ring].sum() / denom))
        centres.append(float(radius[ring].mean()))
        lo = hi
    corr = torch.tensor(correlations, dtype=radius.dtype, device=radius.device).clamp_min(0.0)
    reliability = 2 * corr / (1 + corr)
    weights = _interp(radius, torch.tensor(centres, dtype=radius.dtype, device=radius.device), reliability)
    return weights, list(zip(centres, correlations))


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation (numpy.interp) of fp(xp) at x; constant outside."""
    if xp.numel() == 1:
        return torch.full_like(x, float(fp[0]))
    idx = torch.searchsorted(xp, x.reshape(-1).contiguous()).clamp(1, xp.numel() - 1)
    x0, x1 = xp[idx - 1], xp[idx]
    t = ((x.reshape(-1) - x0) / (x1 - x0)).clamp(0, 1)
    return (fp[idx - 1] + t * (fp[idx] - fp[idx - 1])).reshape(x.shape)


def filter_by_halves(full: torch.Tensor, half_a: torch.Tensor, half_b: torch.Tensor, shape, wrap: bool):
    """Full-data map (P,C) over `shape` with each frequency scaled by its
    split-half reliability w. Returns (filtered (P,C), trusted (P,C), rings
    [(cycles/px, correlation)]); `trusted` is the full map filtered by w^2, the
    part of `filtered` that the halves agree on most (for a gain on agreed detail)."""
    h, w = shape
    weights, rings = ring_weights(half_a, half_b, shape, wrap)
    spectrum = _spectrum(full, shape, wrap) * weights
    back = lambda s: torch.fft.ifft2(s).real[:, :h, :w].reshape(full.shape[1], -1).T.contiguous()
    return back(spectrum), back(spectrum * weights), rings

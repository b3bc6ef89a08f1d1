"""Split-half reliability filter for fitted maps.

The same map is fitted twice more, each time from one half of the repeats.
The full map is then filtered per spatial-frequency ring with a weight in
[0, 1], so frequencies the matches do not agree on fade towards zero while
agreed detail is kept. Two ways to get the weights:

- from the two halves alone: per ring, their correlation c (the Fourier ring
  correlation, as cryo-EM's Fourier shell correlation) gives the reliability
  of the full data, 2 c / (1 + c) (Spearman-Brown: twice the observations,
  half the noise variance);
- held out (`fit.held_out_ring_weights`): the weights under which each half's
  map best predicts the other half's observations. The fit uses these: a half
  fit is noisier than half the data alone would make it (fewer steps), so the
  halves' correlation under-rates the full fit's detail (noisy woven fabric:
  2.8 deg filtered by correlation against 2.3 deg unfiltered and 2.1 deg
  with held-out weights).

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


def _radius(shape, wrap: bool, device=None) -> torch.Tensor:
    """(H',W') spatial frequency (cycles/px) of each sample of `_spectrum`'s grid."""
    hh, ww = (shape[0], shape[1]) if wrap else (2 * shape[0], 2 * shape[1])
    fy = torch.fft.fftfreq(hh, device=device)[:, None]
    fx = torch.fft.fftfreq(ww, device=device)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


def rings(shape, wrap: bool, device=None):
    """Frequency rings of a tile: (masks (R,H',W') bool on `_spectrum`'s grid, centres (R,) cycles/px).

    A ring holding fewer than MIN_RING_SAMPLES frequencies is merged into the next."""
    radius = _radius(shape, wrap, device)
    masks, centres = [], []
    lo = RING_EDGES[0]
    for hi in RING_EDGES[1:]:
        ring = (radius >= lo) & (radius < hi)
        if int(ring.sum()) < MIN_RING_SAMPLES and hi != RING_EDGES[-1]:
            continue  # widen this ring up to the next edge
        if int(ring.sum()) == 0:
            break
        masks.append(ring)
        centres.append(float(radius[ring].mean()))
        lo = hi
    return torch.stack(masks), torch.tensor(centres, dtype=radius.dtype, device=device)


def ring_correlations(half_a: torch.Tensor, half_b: torch.Tensor, shape, wrap: bool) -> torch.Tensor:
    """(R,) Fourier ring correlation of two (P,C) maps over `shape`, on the rings of `rings`."""
    fa, fb = _spectrum(half_a, shape, wrap), _spectrum(half_b, shape, wrap)
    masks, _ = rings(shape, wrap, fa.device)
    m = masks.to(fa.real.dtype)
    cross = ((fa * fb.conj()).real.sum(0) * m).sum((1, 2))
    power_a, power_b = ((fa.abs() ** 2).sum(0) * m).sum((1, 2)), ((fb.abs() ** 2).sum(0) * m).sum((1, 2))
    return cross / torch.sqrt(power_a * power_b).clamp_min(1e-20)


def spearman_brown(reliability: torch.Tensor) -> torch.Tensor:
    """Reliability of twice the data from that of half of it: 2 r / (1 + r), r clamped to [0, 1]."""
    r = reliability.clamp(0.0, 1.0)
    return 2 * r / (1 + r)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation (numpy.interp) of fp(xp) at x; constant outside."""
    if xp.numel() == 1:
        return torch.full_like(x, 1.0) * fp[0]
    idx = torch.searchsorted(xp, x.reshape(-1).contiguous()).clamp(1, xp.numel() - 1)
    x0, x1 = xp[idx - 1], xp[idx]
    t = ((x.reshape(-1) - x0) / (x1 - x0)).clamp(0, 1)
    return (fp[idx - 1] + t * (fp[idx] - fp[idx - 1])).reshape(x.shape)


def ring_filter(x: torch.Tensor, weights: torch.Tensor, shape, wrap: bool) -> torch.Tensor:
    """(P,C) map over `shape` with each frequency scaled by its ring's weight.

    weights: (R,) one per ring of `rings`, interpolated linearly between the
    ring centres (no steps in the spectrum, so no ringing). Differentiable in
    `weights` and `x`."""
    h, w = shape
    _, centres = rings(shape, wrap, x.device)
    gain = _interp(_radius(shape, wrap, x.device), centres.to(weights.dtype), weights)
    spectrum = _spectrum(x, shape, wrap) * gain
    return torch.fft.ifft2(spectrum).real[:, :h, :w].reshape(x.shape[1], -1).T.contiguous()


def ring_weights(half_a: torch.Tensor, half_b: torch.Tensor, shape, wrap: bool):
    """Full-data weights in [0,1] per ring from two half-data estimates alone.

    half_a, half_b: (P,C) maps over `shape` (P = h*w), fitted from disjoint
    halves of the observations. Returns ((R,) weights 2c/(1+c), list of
    (ring centre in cycles/px, ring correlation c))."""
    corr = ring_correlations(half_a, half_b, shape, wrap)
    _, centres = rings(shape, wrap, half_a.device)
    return spearman_brown(corr), [(float(f), float(c)) for f, c in zip(centres, corr)]


def filter_by_halves(full: torch.Tensor, half_a: torch.Tensor, half_b: torch.Tensor, shape, wrap: bool,
                     weights: torch.Tensor | None = None):
    """Full-data map (P,C) over `shape` with each frequency ring scaled by its weight w.

    weights: (R,) full-data weights (e.g. held out, see the module docstring);
    default: from the halves' correlation. Returns (filtered (P,C), trusted
    (P,C), rings [(cycles/px, correlation, weight)]); `trusted` is the full map
    filtered by w^2, the part of `filtered` that is most reliable (for a gain
    on agreed detail)."""
    from_halves, correlations = ring_weights(half_a, half_b, shape, wrap)
    weights = from_halves if weights is None else weights.to(from_halves)
    listed = [(f, c, float(w)) for (f, c), w in zip(correlations, weights)]
    return ring_filter(full, weights, shape, wrap), ring_filter(full, weights * weights, shape, wrap), listed

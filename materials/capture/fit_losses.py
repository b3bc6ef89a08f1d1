"""Losses and priors of the SVBRDF fit."""

from __future__ import annotations

import torch

from .shading import render_flash

# log(1 + k x): compresses the highlight so it does not dominate the fit,
# while staying roughly linear for dark values.
LOG_K = 20.0
CHARBONNIER_EPS = 1e-3
# Prior weights (per mean over pixels); roughness/specular/anisotropy vary
# slowly across a material, normals are pulled gently towards flat.
TV_ROUGHNESS = 0.02
TV_SPECULAR = 0.01
TV_ANISOTROPY = 0.01
NORMAL_PULL = 0.002


def observation_error(maps: dict, obs, geometry, idx: torch.Tensor | None, *, squared: bool = False):
    """Per-pixel weighted error sums: (err (P,), weight (P,)), err summed over
    matches and channels. Arguments as `observation_loss`."""
    sel = (lambda t: t) if idx is None else (lambda t: t.index_select(1, idx))
    per_pixel = {k: v.unsqueeze(1) for k, v in maps.items()}  # (P,1,...) broadcast over K
    directions, falloff = geometry.directions(sel(obs.positions))
    pred = render_flash(per_pixel, directions, falloff, sel(obs.gain))
    if obs.room is not None:
        pred = pred + geometry.ambient(sel(obs.room))
    res = torch.log1p(LOG_K * pred.clamp_min(0)) - torch.log1p(LOG_K * sel(obs.flash))
    res = torch.where(sel(obs.clipped), res.clamp(max=0.0), res)
    w = sel(obs.weight)
    if squared:
        err = res * res
    else:
        err = torch.sqrt(res * res + CHARBONNIER_EPS**2) - CHARBONNIER_EPS
    return (err * w).sum((1, 2)), w.sum((1, 2)) * 3


def observation_loss(maps: dict, obs, geometry, idx: torch.Tensor | None, *, squared: bool = False) -> torch.Tensor:
    """Mean weighted Charbonnier (or squared) log-domain error.

    maps: (P,...) tensors; obs: Observations; geometry: FlashGeometry
    (positions -> directions, fall-off); idx: (K',) match indices used
    this step, or None for all. Saturated samples only count when the render
    is darker than the clip level (they are lower bounds).
    """
    err, weight = observation_error(maps, obs, geometry, idx, squared=squared)
    return err.sum() / weight.sum().clamp_min(1e-12)


def total_variation(x: torch.Tensor, shape, wrap: bool) -> torch.Tensor:
    """Mean absolute difference between grid neighbours. x: (P,C) over `shape`."""
    h, w = shape
    g = x.reshape(h, w, -1)
    if wrap:
        dx = g - torch.roll(g, 1, dims=1)
        dy = g - torch.roll(g, 1, dims=0)
    else:
        dx = g[:, 1:] - g[:, :-1]
        dy = g[1:] - g[:-1]
    return dx.abs().mean() + dy.abs().mean()


def prior_loss(maps: dict, params, shape, wrap: bool) -> torch.Tensor:
    """Smoothness of roughness, log-specular and anisotropy; flat-normal pull."""
    return (TV_ROUGHNESS * total_variation(maps["roughness"], shape, wrap)
            + TV_SPECULAR * total_variation(torch.log(maps["specular"] + 1e-3), shape, wrap)
            + TV_ANISOTROPY * total_variation(torch.tanh(params.aniso), shape, wrap)
            + NORMAL_PULL * (params.slopes**2).sum(1).mean())

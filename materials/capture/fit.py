"""Per-pixel SVBRDF fit of a master tile from its flash observations.

Coarse to fine: one shared BRDF (per-pixel albedo only) first, then one lobe
per cluster of pixels that look alike (clusters.py), then every parameter per
pixel, warm-started, with smoothness priors so pixels whose
specular peak is barely observed stay plausible. Last, the normals are fitted
again from each half of the repeats, and the detail that one half's fit does
not share with the other half's observations is filtered out (`reliability.py`). Loss and priors are in
`fit_losses.py`; this module holds the parametrisation and the loop.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, replace

import torch

from . import shading
from .clusters import appearance_clusters
from .reliability import filter_by_halves, ring_filter, rings
from .fit_losses import observation_error, observation_loss, prior_loss


@dataclass
class Observations:
    """What the flash photo says about each master-tile pixel.

    P = tile pixels (row-major over `shape`), K = matches per pixel.
    flash: (P,K,3) linear RGB, divided by the global exposure scale;
    positions: (P,K,2) x,y flash-photo pixels of the matches (the light and
    view directions follow from them, the highlight centre and the camera
    distance, see shading.flash_directions); gain: (P,K,1) guide ratio of
    the match to the master (albedo variation between repeats);
    weight: (P,K,1) >= 0 (0 = no observation); clipped: (P,K,3) bool, the
    sample was saturated, so the truth is at least `flash`.
    shape: (h, w) of the tile; wrap: the tile is periodic (priors wrap).
    room: (P,K,3) linear RGB or None, the room light at the match as the
    guide photo shows it, in the units of `flash`: a flash photo taken in a
    lit room holds that light too, at a level the fit finds
    (FlashGeometry.room_level).
    """

    flash: torch.Tensor
    positions: torch.Tensor
    gain: torch.Tensor
    weight: torch.Tensor
    clipped: torch.Tensor
    shape: tuple
    wrap: bool
    room: torch.Tensor | None = None

    def _apply(self, fn) -> "Observations":
        """fn applied to every per-observation tensor (room too, when present)."""
        return Observations(*(fn(getattr(self, k)) for k in ("flash", "positions", "gain", "weight", "clipped")),
                            self.shape, self.wrap, None if self.room is None else fn(self.room))

    def to(self, device) -> "Observations":
        return self._apply(lambda t: t.to(device))

    def expose(self, scale: float) -> None:
        """Divide the photo's values (flash and room light) by the exposure `scale`."""
        self.flash = self.flash / scale
        if self.room is not None:
            self.room = self.room / scale

    def coarse(self) -> "Observations":
        """Half-resolution observations: 2x2 tile pixels averaged (a block
        whose matches disagree by more than 2 px gets no weight)."""
        h, w = self.shape
        h2, w2 = h // 2, w // 2

        def pool(t, reduce):
            k, c = t.shape[1], t.shape[2]
            g = t.reshape(h, w, k, c)[: 2 * h2, : 2 * w2].reshape(h2, 2, w2, 2, k, c)
            g = g.permute(0, 2, 4, 5, 1, 3).reshape(h2 * w2, k, c, 4)
            return reduce(g)

        spread = pool(self.positions, lambda g: (g.amax(-1) - g.amin(-1)).amax(-1, keepdim=True))
        weight = pool(self.weight, lambda g: g.amin(-1)) * (spread <= 2.0)
        return Observations(pool(self.flash, lambda g: g.mean(-1)), pool(self.positions, lambda g: g.mean(-1)),
                            pool(self.gain, lambda g: g.mean(-1)), weight,
                            pool(self.clipped.float(), lambda g: g.amax(-1)) > 0.5, (h2, w2), self.wrap,
                            None if self.room is None else pool(self.room, lambda g: g.mean(-1)))


@dataclass
class FitSettings:
    global_steps: int = 60
    coarse_steps: int = 150
    pixel_steps: int = 80
    matches_per_step: int = 24  # random subset of the K matches per step (speed)
    learning_rate: float = 0.04
    seed: int = 0
    half_steps: int = 40  # steps of each split-half normal fit (split_half_slopes); 0: no normal filter
    clusters: int = 6  # appearance clusters sharing a lobe before the per-pixel stage (clusters.py)
    cluster_steps: int = 60
    fit_beam: bool = True  # fit the flash beam's fall-off exponent (FlashGeometry.beam)


def inverse_softplus(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp_min(1e-4)
    return x + torch.log(-torch.expm1(-x))


def roughness_logit(roughness: torch.Tensor) -> torch.Tensor:
    """Unconstrained parameter of a roughness in [MIN_ROUGHNESS, 1] (inverse of PixelParameters.maps)."""
    r = ((roughness - shading.MIN_ROUGHNESS) / (1 - shading.MIN_ROUGHNESS)).clamp(1e-3, 1 - 1e-3)
    return torch.log(r / (1 - r))


def anisotropy_from_q(aniso: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,2) unconstrained q ~ a (cos 2phi, sin 2phi) -> (strength (N,1) in [0, 0.9), angle (N,1))."""
    q_len = torch.sqrt((aniso**2).sum(1, keepdim=True) + 1e-8)
    return 0.9 * torch.tanh(q_len), 0.5 * torch.atan2(aniso[:, 1:2], aniso[:, 0:1])


def normal_from_slopes(slopes: torch.Tensor) -> torch.Tensor:
    """(P,2) slopes -> (P,3) unit normals (sx, sy, 1), the tile's mean slope removed first
    (see PixelParameters)."""
    slopes = slopes - slopes.mean(0, keepdim=True)
    return shading.normalize(torch.cat([slopes, torch.ones_like(slopes[:, :1])], dim=1))


class PixelParameters(torch.nn.Module):
    """Unconstrained parameters -> valid maps.

    albedo, specular: softplus -> [0, inf) (the exposure is unknown; the
    caller rescales both into [0,1] after the fit); normal from slopes (sx, sy, 1)
    with the tile's mean slope removed (a flat surface's height field has no net
    gradient over a tile; a net tilt is the highlight centre's job, and without
    this the pixel stages tilt a whole brushed-metal tile by ~3.6 deg to absorb
    lobe misfit);
    roughness: [MIN_ROUGHNESS, 1]; anisotropy from q = a-ish (cos 2phi,
    sin 2phi), which has no 180 degree wrap.
    """

    def __init__(self, albedo, specular, roughness, slopes=None, aniso=None):
        super().__init__()
        p = albedo.shape[0]
        self.albedo = torch.nn.Parameter(inverse_softplus(albedo))
        self.specular = torch.nn.Parameter(inverse_softplus(specular).expand(p, 3).clone())
        self.roughness = torch.nn.Parameter(roughness_logit(roughness).expand(p, 1).clone())
        self.slopes = torch.nn.Parameter(torch.zeros(p, 2) if slopes is None else slopes.expand(p, 2).clone())
        self.aniso = torch.nn.Parameter(torch.full((p, 2), 1e-3) if aniso is None else aniso.expand(p, 2).clone())

    def centred_slopes(self) -> torch.Tensor:
        """(P,2) slopes with the tile's mean slope removed (see the class docstring)."""
        return self.slopes - self.slopes.mean(0, keepdim=True)

    def maps(self) -> dict:
        """Dict for `shading`: vectors (P,3), scalars (P,1)."""
        anisotropy, angle = anisotropy_from_q(self.aniso)
        return {
            "albedo": torch.nn.functional.softplus(self.albedo),
            "specular": torch.nn.functional.softplus(self.specular),
            "normal": normal_from_slopes(self.slopes),
            "roughness": shading.MIN_ROUGHNESS + (1 - shading.MIN_ROUGHNESS) * torch.sigmoid(self.roughness),
            "anisotropy": anisotropy,
            "angle": angle,
        }


class ClusterParameters(PixelParameters):
    """Per-pixel albedo; specular, roughness and anisotropy shared by each
    cluster of pixels; flat normals (the stages before the per-pixel one).

    labels: (P,) long in [0, K); every label 0 is one BRDF for the whole tile.
    specular (1 or K, 3), roughness (1 or K, 1): starting values.
    """

    def __init__(self, albedo, specular, roughness, labels, aniso=None):
        super().__init__(albedo, specular[:1], roughness[:1])
        k = int(labels.max()) + 1
        self.specular = torch.nn.Parameter(inverse_softplus(specular).expand(k, 3).clone())
        self.roughness = torch.nn.Parameter(roughness_logit(roughness).expand(k, 1).clone())
        self.aniso = torch.nn.Parameter(torch.full((k, 2), 1e-3, device=albedo.device) if aniso is None
                                        else aniso.expand(k, 2).clone())
        self.slopes.requires_grad_(False)
        self.register_buffer("labels", labels)

    def maps(self) -> dict:
        m = super().maps()
        for k in ("specular", "roughness", "anisotropy", "angle"):
            m[k] = m[k][self.labels]
        return m


class SharedParameters(ClusterParameters):
    """One BRDF for the whole tile except a per-pixel albedo (the first stage)."""

    def __init__(self, albedo, specular, roughness):
        super().__init__(albedo, specular, roughness, torch.zeros(albedo.shape[0], dtype=torch.long,
                                                                  device=albedo.device))


class FlashGeometry(torch.nn.Module):
    """Highlight centre (x, y), refinable, the fixed camera distance (px), the
    level of the room light in the flash photo (per channel, refinable), and
    the flash beam's fall-off exponent (refinable, see shading.flash_directions)
    about the optical axis `axis` (the photo's centre; default: the highlight)."""

    def __init__(self, centre, distance: float, axis=None):
        super().__init__()
        self.centre0 = torch.tensor([float(centre[0]), float(centre[1])])
        self.shift = torch.nn.Parameter(torch.zeros(2))
        self.distance = float(distance)
        self.axis = None if axis is None else (float(axis[0]), float(axis[1]))
        self.room = torch.nn.Parameter(torch.full((3,), ROOM_START))
        # No beam until fitted (fit_svbrdf turns its gradient on for the shared stage).
        self.beam = torch.nn.Parameter(torch.tensor(0.0), requires_grad=False)

    def centre(self) -> torch.Tensor:
        return self.centre0.to(self.shift.device) + self.shift

    def room_level(self) -> torch.Tensor:
        """(3,) >= 0: how much of the guide's light (Observations.room) the flash photo also holds."""
        return self.room.abs()

    def beam_exponent(self) -> torch.Tensor:
        """() >= 0: m of the cos^m fall-off off the optical axis. Never negative: a
        beam that brightened the corners would stand in for the room light, whose
        even level does the same near the dim corners (a weave lit by the room at a
        quarter of the flash: room level 0.02 found instead of 0.25, with m = -0.6)."""
        return self.beam * self.beam

    def ambient(self, room: torch.Tensor | None) -> torch.Tensor | float:
        """The room light's share of the flash observations: (…,3), or 0 without `room`."""
        return 0.0 if room is None else self.room_level() * room

    def directions(self, positions: torch.Tensor):
        """positions (...,2) -> (directions (...,3), falloff (...,1))."""
        c = self.centre()
        axis = (c[0], c[1]) if self.axis is None else self.axis
        return shading.flash_directions(positions[..., 0], positions[..., 1], (c[0], c[1]), self.distance,
                                        beam=self.beam_exponent(), axis=axis)


def initial_albedo(obs: Observations, geometry: FlashGeometry) -> torch.Tensor:
    """(P,3) robust diffuse estimate: a low percentile of F*pi/(gain*cos*falloff),
    since samples away from the highlight carry little specular. Unclamped."""
    with torch.no_grad():
        dirs, fall = geometry.directions(obs.positions)
        cos = dirs[..., 2:3].clamp_min(0.1)
        flash = obs.flash - geometry.ambient(obs.room)
        est = flash * math.pi / (obs.gain * cos * fall).clamp_min(1e-6)
        est = torch.where(obs.weight > 0, est, torch.full_like(est, float("nan")))
        return torch.nanquantile(est, 0.3, dim=1).nan_to_num(0.3)


# Learning rate of the highlight-centre shift, in pixels per step (decays
# linearly to a tenth over the shared stage, so it can travel tens of pixels
# and still settle).
CENTRE_LR = 1.5
# The room light's level in the flash photo (a fraction of the photo's mean when
# Observations.room is scaled to it, see observations.room_light) starts near none
# and is fitted with the highlight centre in the shared stage and again in the
# coarse per-pixel stage: the flash's light falls off away from the highlight, the
# room's does not, which tells them apart.
ROOM_START = 0.01
ROOM_LR = 0.01
# The flash beam's (and the lens's) fall-off exponent m (cos^m off the optical axis)
# starts near none and is fitted with the highlight centre in the shared stage, then held:
# the diffuse term's cos^3 fall-off (inverse square times the cosine) is fixed by the
# geometry, so a steeper fall-off across the repeats of a pixel is the beam's. Fitted on
# in later stages it traded against the room light's level on pairs that have neither
# (weave: room level 0.06 found, tiles under a beam: normals 1.44 -> 1.72 deg).
BEAM_START = 0.1  # m = 0.01; m is the square of the parameter, whose gradient is 0 at 0
BEAM_LR = 0.1
# A small cost per unit of m: the one lobe of the shared stage otherwise lends its
# misfit to a beam that is not there (weave, stretched: m 0.33, normals 2.39 -> 2.92 deg);
# a real beam gains far more than it costs (m 1.0-1.4 found where the corners get 36 % less).
BEAM_PRIOR = 0.003
# Specular of the metal start of the shared stage, in the fit's exposure units (the albedo
# estimate's 99th percentile is 0.8 there, and for a metal that estimate is mostly specular tail).
METAL_START_SPECULAR = 5.0


def _run(params, geometry, obs, steps, settings, gen, progress, span, with_priors, fit_centre=False,
         fit_room=False):
    groups = [{"params": list(params.parameters()), "lr": settings.learning_rate}]
    if fit_centre:
        groups.append({"params": [geometry.shift], "lr": CENTRE_LR})
    if (fit_centre or fit_room) and obs.room is not None:
        groups.append({"params": [geometry.room], "lr": ROOM_LR})
    if fit_centre and geometry.beam.requires_grad:
        groups.append({"params": [geometry.beam], "lr": BEAM_LR})
    opt = torch.optim.Adam(groups)
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - 0.9 * s / max(steps, 1)) if fit_centre else None
    k_all = obs.flash.shape[1]
    k_sub = min(settings.matches_per_step, k_all)
    for step in range(steps):
        idx = torch.randperm(k_all, generator=gen)[:k_sub].to(obs.flash.device)
        maps = params.maps()
        loss = observation_loss(maps, obs, geometry, idx)
        if with_priors:
            loss = loss + prior_loss(maps, params, obs.shape, obs.wrap)
        if fit_centre and geometry.beam.requires_grad:
            loss = loss + BEAM_PRIOR * geometry.beam_exponent()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if decay is not None:
            decay.step()
        if progress is not None and step % 10 == 0:
            progress(span[0] + (span[1] - span[0]) * step / steps, "fitting maps")
    return params


def _parabola_vertex(x0, x1, x2, y0, y1, y2):
    """(num, den) of the parabola through (x0,y0), (x1,y1), (x2,y2): its vertex is at
    x1 - 0.5 * num / den (den ~0: the points are collinear). Floats or tensors."""
    num = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
    den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
    return num, den


# Roughness values tried per pixel at the end of the fit (see reseed_roughness).
ROUGHNESS_CANDIDATES = (0.06, 0.12, 0.2, 0.3, 0.45, 0.6, 0.8)


def reseed_roughness(params: PixelParameters, obs: Observations, geometry) -> bool:
    """Move each pixel's roughness to the value among ROUGHNESS_CANDIDATES
    (refined by a parabola through its neighbours) that explains its
    observations best, where that beats its current value clearly (by 5 %).

    Gradient steps cannot leave a sharp lobe that no observation sees (its
    gradient is ~0 away from the mirror direction), and Adam's normalised
    steps follow the noise of a faint lobe's tiny gradient: rough, barely
    specular grout can end as a faint sharp lobe. Returns whether any pixel moved.
    """
    with torch.no_grad():
        maps = params.maps()
        err, weight = observation_error(maps, obs, geometry, None)
        current = err / weight.clamp_min(1e-12)
        values = torch.tensor(ROUGHNESS_CANDIDATES, device=current.device)
        scores = torch.stack([observation_error(dict(maps, roughness=torch.full_like(maps["roughness"], float(v))),
                                                obs, geometry, None)[0] / weight.clamp_min(1e-12)
                              for v in ROUGHNESS_CANDIDATES], dim=1)  # (P, C)
        best = scores.argmin(1)
        inner = best.clamp(1, len(values) - 2)
        left, mid, right = (scores.gather(1, (inner + d)[:, None])[:, 0] for d in (-1, 0, 1))
        x0, x1, x2 = values[inner - 1], values[inner], values[inner + 1]
        # Vertex of the parabola through the three (roughness, score) points.
        num, den = _parabola_vertex(x0, x1, x2, left, mid, right)
        vertex = x1 - 0.5 * num / torch.where(den.abs() > 1e-12, den, torch.ones_like(den))
        convex = (right - mid) / (x2 - x1) > (mid - left) / (x1 - x0)
        chosen = torch.where(convex & (den.abs() > 1e-12), vertex.clamp(x0, x2), values[best])[:, None]
        scores_min = scores.gather(1, best[:, None])[:, 0]
        at_vertex = observation_error(dict(maps, roughness=chosen), obs, geometry, None)[0] / weight.clamp_min(1e-12)
        chosen = torch.where((at_vertex <= scores_min)[:, None], chosen, values[best][:, None])
        scores_min = torch.minimum(at_vertex, scores_min)
        # Only a clear gain (5 %) moves a pixel, so noise does not shuffle well-fitted ones.
        better = scores_min < current * 0.95
        roughness = torch.where(better[:, None], chosen, maps["roughness"])
        params.roughness.copy_(roughness_logit(roughness))
    return bool(better.any())


# Specular scales tried per cluster, relative to the shared lobe's (see reseed_cluster_lobes).
SPECULAR_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


def reseed_cluster_lobes(params: ClusterParameters, obs: Observations, geometry) -> None:
    """Give each cluster the lobe, among ROUGHNESS_CANDIDATES x SPECULAR_FACTORS
    (isotropic or with the cluster's current anisotropy), that explains its
    pixels' observations best, where that beats its current lobe.

    A faint lobe's gradient is too weak and noisy for Adam to travel from the
    shared lobe to its own (rough grout started from glazed tiles' r 0.3 stayed
    near it, and leaned on anisotropy to widen it); a search over the whole
    range, pooled over the cluster, does not depend on where it starts.
    """
    with torch.no_grad():
        maps = params.maps()
        labels, k = params.labels, params.specular.shape[0]

        def cluster_error(candidate: dict) -> torch.Tensor:
            err, weight = observation_error(candidate, obs, geometry, None)
            return (torch.zeros(k, device=err.device).index_add_(0, labels, err)
                    / torch.zeros(k, device=err.device).index_add_(0, labels, weight).clamp_min(1e-12))

        best = cluster_error(maps)
        spec0, aniso = params.specular.clone(), params.aniso.clone()
        for isotropic in (False, True):
            aniso_k = torch.full_like(aniso, 1e-3) if isotropic else aniso
            strength, angle = anisotropy_from_q(aniso_k)
            for factor in SPECULAR_FACTORS:
                for r in ROUGHNESS_CANDIDATES:
                    candidate = dict(maps, specular=maps["specular"] * factor,
                                     roughness=torch.full_like(maps["roughness"], r),
                                     anisotropy=strength[labels], angle=angle[labels])
                    score = cluster_error(candidate)
                    better = score < best * 0.98
                    if better.any():
                        best = torch.where(better, score, best)
                        params.specular[better] = inverse_softplus(torch.nn.functional.softplus(spec0[better]) * factor)
                        params.roughness[better] = roughness_logit(torch.full_like(params.roughness[better], r))
                        params.aniso[better] = aniso_k[better]


def _half(obs: Observations, first: int) -> Observations:
    """Every second match from `first` on (1 or 2: the master's own observation, match 0, in neither half)."""
    idx = torch.arange(first, obs.flash.shape[1], 2, device=obs.flash.device)
    return obs._apply(lambda t: t.index_select(1, idx))


def _refit_slopes(params: PixelParameters, slopes: torch.Tensor, obs: Observations, geometry, steps: int,
                  settings: FitSettings, gen, progress, span) -> torch.Tensor:
    """Slopes (P,2) fitted from `slopes` on `obs`, every other map held at `params`."""
    trial = copy.deepcopy(params)
    for name, parameter in trial.named_parameters():
        parameter.requires_grad_(name == "slopes")
    with torch.no_grad():
        trial.slopes.copy_(slopes)
    _run(trial, geometry, obs, steps, settings, gen, progress, span, True)
    return trial.centred_slopes().detach()


def split_half_slopes(coarse_params: PixelParameters, coarse_obs: Observations, fine: PixelParameters,
                      obs: Observations, geometry, settings: FitSettings, gen, *, progress=None, span=(0.0, 1.0)):
    """Normal slopes fitted again from each half of the repeats: ((P,2), (P,2)).

    Odd and even matches (the master's own observation in neither, so the
    halves share no sample). Each half repeats the coarse-to-fine path of the
    slopes on its own: from flat on the half-resolution tile, then warm-started
    from its own coarse result at full resolution, every other map held at the
    full fit. So what the halves agree on comes from their data, not from a
    shared start (a start from the full fit's slopes makes even brushed metal's
    uncorrelated noise look agreed: ring correlations 0.6-0.95). Half the
    matches per step and fewer steps keep both at about the cost of the
    full-resolution stage.
    """
    half_settings = replace(settings, matches_per_step=max(1, settings.matches_per_step // 2))
    flat = torch.zeros_like(coarse_params.slopes)
    halves = []
    for i, first in enumerate((1, 2)):
        a, b = span[0] + (span[1] - span[0]) * i / 2, span[0] + (span[1] - span[0]) * (i + 1) / 2
        coarse = _refit_slopes(coarse_params, flat, _half(coarse_obs, first), geometry, settings.coarse_steps // 2,
                               half_settings, gen, progress, (a, (a + b) / 2))
        start = _upsample(coarse, coarse_obs.shape, obs.shape)
        halves.append(_refit_slopes(fine, start, _half(obs, first), geometry, settings.half_steps, half_settings, gen,
                                    progress, ((a + b) / 2, b)))
    return halves[0], halves[1]


# Held-out ring weights (held_out_ring_weights): Adam steps, matches of each half per
# step, step size, and the start (sigmoid(1) = 0.73: mostly kept).
HELD_OUT_STEPS = 40
HELD_OUT_MATCHES = 8
HELD_OUT_LR = 0.15
HELD_OUT_START = 1.0


def held_out_ring_weights(params: PixelParameters, half_a: torch.Tensor, half_b: torch.Tensor, obs: Observations,
                          geometry, gen, *, progress=None, span=(0.0, 1.0)) -> torch.Tensor:
    """(R,) full-data weights per frequency ring (reliability.rings) for the normal slopes.

    half_a, half_b: (P,2) slopes fitted from the odd and the even matches
    (split_half_slopes). The weights are those under which each half's slopes,
    ring-filtered, best explain the other half's observations (every other map
    held at `params`): cross-validation, so detail that only fits its own
    half's matches (noise, or disagreeing neighbourhoods of a stochastic
    surface) is cut and detail that predicts new observations is kept.

    They are used on the full fit as they are, without the Spearman-Brown step
    up to twice the data: the full fit is the same fit, not an average of two
    independent halves, and a stochastic surface's repeats stay as unlike the
    master with twice as many of them (with the step: leather hard 6.01 deg,
    noisy woven fabric 2.11 deg, brushed metal 4.57 deg; without: 5.93, 2.10,
    4.54 deg; tiles 2.52 against 2.54 deg).
    """
    fixed = {k: v.detach() for k, v in params.maps().items()}
    odd = torch.arange(1, obs.flash.shape[1], 2, device=obs.flash.device)
    even = torch.arange(2, obs.flash.shape[1], 2, device=obs.flash.device)
    count = int(rings(obs.shape, obs.wrap)[1].numel())
    logits = torch.full((count,), HELD_OUT_START, device=obs.flash.device, requires_grad=True)
    opt = torch.optim.Adam([logits], lr=HELD_OUT_LR)

    def error(slopes, idx):
        err, weight = observation_error(dict(fixed, normal=normal_from_slopes(slopes)), obs, geometry, idx)
        return err.sum() / weight.sum().clamp_min(1e-12)

    pick = lambda idx: idx[torch.randperm(idx.numel(), generator=gen)[:HELD_OUT_MATCHES].to(idx.device)]
    for step in range(HELD_OUT_STEPS):
        weights = torch.sigmoid(logits)
        # half_a came from the odd matches: it is judged on the even ones, and the other way round.
        loss = error(ring_filter(half_a, weights, obs.shape, obs.wrap), pick(even)) + \
            error(ring_filter(half_b, weights, obs.shape, obs.wrap), pick(odd))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress is not None and step % 10 == 0:
            progress(span[0] + (span[1] - span[0]) * step / HELD_OUT_STEPS, "filtering normals")
    return torch.sigmoid(logits).detach()


# Gains tried on the agreed normal detail (master_gain), and the drop of the master
# observations' error that a gain must bring to be used (a flat error curve is noise).
DETAIL_GAINS = (1.0, 1.125, 1.25, 1.375, 1.5, 1.75, 2.0)
MIN_GAIN_IMPROVEMENT = 0.02


def master_gain(params: PixelParameters, trusted: torch.Tensor, obs: Observations, geometry) -> float:
    """Gain g >= 1 for the agreed normal detail: slopes + (g - 1) * trusted.

    Chosen by the error of every tile pixel's own observation (match 0: the
    master tile itself, the only sample whose surface is exactly the pixel's),
    on DETAIL_GAINS refined by a parabola through the best and its neighbours;
    1 unless the error drops by MIN_GAIN_IMPROVEMENT at a minimum inside the
    range. Matches of a stochastic surface are similar, not equal,
    neighbourhoods, and their average flattens the normals (leather: ~0.6 of
    the true amplitude in the agreed rings).
    """
    master = torch.zeros(1, dtype=torch.long, device=obs.flash.device)
    base = params.slopes.detach().clone()

    def error(gain: float) -> float:
        params.slopes.copy_(base + (gain - 1) * trusted)
        err, weight = observation_error(params.maps(), obs, geometry, master)
        return float(err.sum() / weight.sum().clamp_min(1e-12))

    with torch.no_grad():
        errors = [error(g) for g in DETAIL_GAINS]
        i = min(range(len(errors)), key=errors.__getitem__)
        best_gain, best_error = DETAIL_GAINS[i], errors[i]
        if 0 < i < len(errors) - 1:
            (x0, x1, x2), (y0, y1, y2) = DETAIL_GAINS[i - 1:i + 2], errors[i - 1:i + 2]
            num, den = _parabola_vertex(x0, x1, x2, y0, y1, y2)
            if abs(den) > 1e-12:
                vertex = x1 - 0.5 * num / den
                vertex_error = error(min(max(vertex, x0), x2))
                if vertex_error < best_error:
                    best_gain, best_error = min(max(vertex, x0), x2), vertex_error
        # An error that keeps falling up to the largest gain rewards the size of the tilt,
        # not its pattern (near the highlight the flash mostly tells the size): brushed
        # metal's barely agreed detail does that. Only an interior minimum is a measured gain.
        if best_error > errors[0] * (1 - MIN_GAIN_IMPROVEMENT) or i == len(errors) - 1:
            best_gain = 1.0
        params.slopes.copy_(base)
    return best_gain


def _upsample(x: torch.Tensor, coarse_shape, shape) -> torch.Tensor:
    """(Pc,C) on coarse_shape -> (P,C) on shape (bilinear)."""
    hc, wc = coarse_shape
    g = x.T.reshape(1, -1, hc, wc)
    g = torch.nn.functional.interpolate(g, size=tuple(shape), mode="bilinear", align_corners=False)
    return g.reshape(x.shape[1], -1).T.contiguous()


def _downsample(x: torch.Tensor, shape) -> torch.Tensor:
    """(P,C) on shape -> (P/4,C) on the half-resolution shape of Observations.coarse (2x2 means)."""
    h, w = shape
    g = x.reshape(h, w, -1)[: h // 2 * 2, : w // 2 * 2]
    return g.reshape(h // 2, 2, w // 2, 2, -1).mean((1, 3)).reshape((h // 2) * (w // 2), -1)


def fit_svbrdf(obs: Observations, centre, distance: float, settings: FitSettings | None = None, *,
               appearance: torch.Tensor | None = None, progress=None, span=(0.0, 1.0), device=None,
               axis=None):
    """Fit the tile's maps.

    centre: first estimate of the highlight centre (x, y), refined in the
    shared-BRDF stage; distance: camera height (px); appearance: (P,3) the
    master pixels' colour in the guide photo (linear RGB > 0), what the
    clusters of pixels sharing a lobe are drawn from (default: the first
    stage's albedo, which on a metal is mostly specular tail).
    Returns (maps dict of (P,...) CPU tensors, refined centre (x, y),
    residual = RMS log-domain error over all observations, timings dict,
    details: {"rings": [(cycles/px, split-half correlation, weight)] of the normal
    filter, "detail_gain": g, "room_level": [r, g, b] the room light found in the
    flash photo, 0 without Observations.room, "beam": m, the flash beam's fall-off
    exponent found (shading.flash_directions)}). axis: (x, y) where the optical axis
    meets the flash photo (its centre), about which the beam falls off.
    progress(fraction, text) is called every few steps with fractions inside
    `span`; exceptions it raises (cancellation) propagate.
    """
    settings = settings or FitSettings()
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    obs = obs.to(device)
    geometry = FlashGeometry(centre, distance, axis).to(device)
    gen = torch.Generator().manual_seed(settings.seed)
    t0 = time.perf_counter()
    s0, s1 = span
    at = lambda f: s0 + (s1 - s0) * f
    # Stage 1: one shared BRDF and the highlight centre, on half resolution, from two starts:
    # a dielectric (F0 0.04) and a metal (specular far above the albedo). From the dielectric
    # start a dark metal ends in a poor minimum where diffuse albedo explains the highlight
    # (brushed metal: log-domain RMS 1.34 against 0.74 from the metal start); the lower loss wins.
    coarse = obs.coarse()
    albedo0 = initial_albedo(coarse, geometry).clamp(0.005, 2.0)
    # The dielectric start draws from `gen` as the single start did, so dielectrics fit as before.
    starts = [(0.04, gen), (METAL_START_SPECULAR, torch.Generator().manual_seed(settings.seed + 1))]
    best = None
    for start, (specular0, start_gen) in enumerate(starts):
        trial_geometry = FlashGeometry(centre, distance, axis).to(device)
        with torch.no_grad():
            trial_geometry.beam.fill_(BEAM_START if settings.fit_beam else 0.0)
        trial_geometry.beam.requires_grad_(settings.fit_beam)
        shared = SharedParameters(albedo0, torch.full((1, 3), specular0, device=device),
                                  torch.full((1, 1), 0.5, device=device)).to(device)
        _run(shared, trial_geometry, coarse, settings.global_steps, settings, start_gen, progress,
             (at(0.1 * start), at(0.1 * start + 0.1)), False, fit_centre=True)
        with torch.no_grad():
            loss = float(observation_loss(shared.maps(), coarse, trial_geometry, None))
        if best is None or loss < best[0]:
            best = (loss, shared, trial_geometry)
    _, shared, geometry = best
    geometry.shift.requires_grad_(False)
    geometry.beam.requires_grad_(False)
    # Stage 1b: one lobe per cluster of pixels that look alike (clusters.py), from the shared one.
    with torch.no_grad():
        g = shared.maps()
        colour = g["albedo"] if appearance is None else _downsample(appearance.to(device), obs.shape)
        labels = appearance_clusters(colour, settings.clusters, seed=settings.seed)
    lobes = shared
    if int(labels.max()) > 0:
        lobes = ClusterParameters(g["albedo"], g["specular"][:1], g["roughness"][:1], labels,
                                  aniso=shared.aniso.detach()).to(device)
        reseed_cluster_lobes(lobes, coarse, geometry)
        _run(lobes, geometry, coarse, settings.cluster_steps, settings, gen, progress, (at(0.2), at(0.25)), False)
    t1 = time.perf_counter()
    # Stage 2: everything per pixel on half resolution, warm-started.
    with torch.no_grad():
        g = lobes.maps()
        per_pixel = PixelParameters(g["albedo"], g["specular"], g["roughness"],
                                    aniso=lobes.aniso.detach()[lobes.labels]).to(device)
    # The room light's level is refined here too: the shared lobe of stage 1 is too coarse
    # a model to split the flash's fall-off from the room's even light (tiles in a lit
    # room: 0.09 of the ~0.17 found there, 0.15 here).
    _run(per_pixel, geometry, coarse, settings.coarse_steps, settings, gen, progress, (at(0.25), at(0.5)), True,
         fit_room=True)
    geometry.room.requires_grad_(False)
    t2 = time.perf_counter()
    # Stage 3: full resolution, warm-started from the upsampled coarse fit.
    with torch.no_grad():
        fine = PixelParameters(torch.full((obs.flash.shape[0], 3), 0.5, device=device),
                               torch.full((1, 3), 0.04, device=device), torch.full((1, 1), 0.5, device=device)).to(device)
        for name in ("specular", "roughness", "slopes", "aniso"):
            getattr(fine, name).copy_(_upsample(getattr(per_pixel, name), coarse.shape, obs.shape))
        # Albedo has full-resolution detail: start from the direct estimate.
        fine.albedo.copy_(inverse_softplus(initial_albedo(obs, geometry).clamp(0.005, 2.0)))
    _run(fine, geometry, obs, settings.pixel_steps, settings, gen, progress, (at(0.5), at(0.8)), True)
    reseed_roughness(fine, obs, geometry)
    t3 = time.perf_counter()
    # Normal detail that one half of the repeats does not share with the other is the
    # noise of disagreeing matches (stochastic surfaces: brushed metal's per-pixel normals
    # were uncorrelated with the truth, 6.3 deg against 4.6 deg for a flat map); it is
    # filtered out per frequency ring (reliability.py) with weights held out between the
    # halves; the agreed detail then gets the gain that the master tile's own
    # observations ask for (master_gain).
    # half_steps 0 leaves the normals unfiltered (a quick fit that only scores the observations).
    ring_table, gain = [], 1.0
    if settings.half_steps > 0:
        half_a, half_b = split_half_slopes(per_pixel, coarse, fine, obs, geometry, settings, gen, progress=progress,
                                           span=(at(0.8), at(0.95)))
        ring_weights = held_out_ring_weights(fine, half_a, half_b, obs, geometry, gen, progress=progress,
                                             span=(at(0.95), at(1.0)))
        with torch.no_grad():
            full = fine.centred_slopes()
            filtered, trusted, ring_table = filter_by_halves(full, half_a, half_b, obs.shape, obs.wrap, ring_weights)
            fine.slopes.copy_(filtered)
            gain = master_gain(fine, trusted, obs, geometry)
            fine.slopes.add_((gain - 1) * trusted)
    t4 = time.perf_counter()
    with torch.no_grad():
        maps = fine.maps()
        residual = float(torch.sqrt(observation_loss(maps, obs, geometry, None, squared=True)))
        c = geometry.centre().cpu()
    return ({k: v.detach().cpu() for k, v in maps.items()}, (float(c[0]), float(c[1])), residual,
            {"fit_global_s": t1 - t0, "fit_coarse_s": t2 - t1, "fit_pixel_s": t3 - t2, "fit_halves_s": t4 - t3},
            {"rings": [(round(f, 4), round(c, 3), round(w, 3)) for f, c, w in ring_table], "detail_gain": round(gain, 3),
             "beam": round(float(geometry.beam_exponent()), 4),
             "room_level": [round(float(v), 4) for v in (geometry.room_level() if obs.room is not None
                                                          else torch.zeros(3))]})

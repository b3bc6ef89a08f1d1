"""Coarse-to-fine optimisation synthesis (pixels optimised directly against a texture loss).

Every loss evaluation on the output uses circular padding, so the result is periodic:
it tiles without a seam. Values are synthesised in whitened units (channels rotated onto
their principal axes, zero mean, unit spread; see colour.py) so one learning rate fits
every map and no colour direction goes unconstrained.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad

from .colour import ChannelBasis
from .gram import GramLoss
from .lattice_guide import find_guide
from .patch_swd import PatchSWD
from .patch_vote import vote
from .pyramid import downsample, level_count, level_sizes, resize_periodic

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SynthesisSettings:
    """Knobs of the optimisation; the defaults meet the 512^2-in-20-s CPU budget."""

    loss: str = "swd"              # "swd" (patch sliced Wasserstein) or "gram" (random CNN)
    patch_size: int = 7
    projections: int = 32          # random directions per draw (48 cost a third more per step)
    redraw_every: int = 2          # steps between new random directions
    steps_coarsest: int = 250      # steps at the coarsest level ...
    steps_finest: int = 30         # ... falling geometrically to this at the finest (15 left thin
                                   # lines and fine grain unfinished: wood 1.78 against 1.30)
    optimiser: str = "adam"       # "adam" or "sliced" (swd only: plain transport steps)
    relaxation: float = 1.0        # sliced: fraction of the full transport step
    learning_rate: float = 0.1     # adam, whitened units (0.03 left the finest levels blurry)
    max_sorted_patches: int = 32768  # stochastic subset per step on large levels
    coarsest: int = 32             # short side of the coarsest exemplar level
    wrap: bool = True              # circular padding -> tileable output
    # Nearest-patch voting (patch_vote.py) ends every level but the finest whose output has at
    # most `vote_max_pixels` pixels: it snaps regular structure onto real exemplar patches.
    # Not at the finest level, where it would copy the exemplar verbatim, nor with an anchor
    # (see `synthesize`). 0 turns it off.
    vote_max_pixels: int = 256 * 256
    vote_iterations: int = 2       # passes per level (a third changed nothing measurable)
    vote_patch: int = 7
    vote_dims: int = 16            # PCA dimensions of the patch search (32: same quality, slower)
    vote_max_keys: int = 4096      # exemplar patches searched (on a grid) per voting pass
    # Strongly periodic exemplars (lattice_guide.py): weight of the lattice phase that joins
    # every patch, so one lattice spans the output. 0 turns it off.
    lattice_guide: float = 6.0

    def with_(self, **changes) -> "SynthesisSettings":
        return replace(self, **changes)


def _shuffled_pixels(image: torch.Tensor, size: tuple[int, int], ignore: torch.Tensor | None,
                     generator: torch.Generator) -> torch.Tensor:
    """White noise with the exemplar's colour distribution: random exemplar pixels."""
    flat = image.reshape(image.shape[1], -1)
    if ignore is not None:
        flat = flat[:, ignore.reshape(-1) == 0]
    picks = torch.randint(0, flat.shape[1], (size[0] * size[1],), generator=generator)
    return flat[:, picks.to(flat.device)].view(1, image.shape[1], size[0], size[1])


def _smooth_noise(noise: torch.Tensor, sigma: float = 1.5, keep_stats: bool = True) -> torch.Tensor:
    """Low-pass `(1,C,h,w)` noise with a periodic Gaussian, keeping each channel's mean/std.

    White-noise starts leave pixel speckle that patch statistics barely see; a smooth
    start lets the coarse level build structure and the finer levels add the detail.
    """
    radius = max(1, int(3 * sigma))
    taps = torch.exp(-torch.arange(-radius, radius + 1, dtype=noise.dtype) ** 2 / (2 * sigma ** 2))
    taps = (taps / taps.sum()).to(noise.device)
    channels = noise.shape[1]
    blurred = wrap_pad(noise, radius)
    blurred = F.conv2d(blurred, taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    blurred = F.conv2d(blurred, taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)
    if not keep_stats:
        return blurred
    mean, std = noise.mean(dim=(2, 3), keepdim=True), noise.std(dim=(2, 3), keepdim=True)
    centred = blurred - blurred.mean(dim=(2, 3), keepdim=True)
    return centred / centred.std(dim=(2, 3), keepdim=True).clamp(min=1e-6) * std + mean


def _tiled_layout(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The exemplar repeated (wrapping) to cover `size`: the 'original layout'."""
    reps_y = -(-size[0] // image.shape[-2])
    reps_x = -(-size[1] // image.shape[-1])
    return image.repeat(1, 1, reps_y, reps_x)[..., :size[0], :size[1]]


def initial_image(exemplar: torch.Tensor, size: tuple[int, int], strength: float | torch.Tensor,
                  ignore: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """Coarsest-level start: mix of the exemplar layout and colour noise.

    strength 0 starts from the exemplar itself (the variation stays close to the
    original arrangement), 1 from pure noise (a completely new arrangement). A
    `(1,1,h,w)` tensor gives a per-pixel strength (make-tileable: noise near the border).
    """
    noise = _smooth_noise(_shuffled_pixels(exemplar, size, ignore, generator))
    if not torch.is_tensor(strength) and strength >= 1.0:
        return noise
    if torch.is_tensor(strength):
        strength = downsample(strength, size)
    layout = _tiled_layout(exemplar, size)
    if ignore is not None:  # ignored regions start as noise so the loss refills them
        hole = _tiled_layout(ignore.float(), size)
        layout = layout * (1 - hole) + noise * hole
    return (1 - strength) * layout + strength * noise


def synthesize(exemplar: torch.Tensor, size: tuple[int, int], *, seed: int,
               strength: float | torch.Tensor = 1.0, settings: SynthesisSettings = SynthesisSettings(),
               ignore: torch.Tensor | None = None, anchor: torch.Tensor | None = None,
               anchor_weight: torch.Tensor | None = None, anchor_strength: float = 0.3,
               progress: Progress | None = None, info: dict | None = None) -> torch.Tensor:
    """Synthesise a texture of `size` (h, w) from `exemplar` `(1,C,H,W)` float.

    strength: 0 (keep the exemplar's layout) .. 1 (new arrangement), or a `(1,1,h,w)` map.
    ignore: optional `(1,1,H,W)` (nonzero = exemplar pixel to leave out).
    anchor / anchor_weight: optional `(1,C,h,w)` image and `(1,1,h,w)` weight in [0,1];
    after every step, output pixels move `anchor_strength * weight` of the way back to the
    anchor (make-tileable keeps the photo's interior this way). Returns `(1,C,h,w)` in the exemplar's value units,
    periodic when `settings.wrap`. The same seed and settings give the same output.
    info: optional dict, filled with what the run found (`lattice`: the exemplar's period
    vectors, their peak correlation and the strain of the output lattice, or None).
    """
    generator = torch.Generator().manual_seed(int(seed))
    basis = ChannelBasis.fit(exemplar, ignore)
    source = basis.whiten(exemplar)
    if anchor is not None:
        anchor = basis.whiten(anchor)
    guide = None
    if settings.lattice_guide > 0 and settings.loss == "swd" and anchor is None:
        # Not with an anchor: make-tileable keeps the photo's own phase, which a fitted
        # lattice would contradict in the free band.
        guide = find_guide(source, tuple(size), weight=settings.lattice_guide, ignore=ignore)
    if info is not None:
        info["lattice"] = None if guide is None else {
            "v1": [round(float(x), 3) for x in guide.lattice.v1],
            "v2": [round(float(x), 3) for x in guide.lattice.v2],
            "strength": round(guide.lattice.strength, 3), "strain": round(guide.strain, 4)}
    component = periodic_output = None
    unit = 1.0  # the optimised variable is (output - periodic part) / unit
    if guide is not None:
        # A new arrangement starts the lattice anywhere; one kept close to the exemplar's
        # layout keeps the exemplar's own phase, so its tiled start lines up with the lattice.
        new_layout = not torch.is_tensor(strength) and strength >= 1.0
        phase_offset = guide.phase_offset(generator if new_layout else None)
        # The mean lattice cell is laid on the output exactly; the optimisation works on the
        # rest (per-cell variation, noise), so the periodic detail stays as crisp as the exemplar's.
        component = guide.periodic_component(source, ignore)
        periodic_output = component.on_output(tuple(size), phase_offset, source.dtype).to(source.device)
        # Adam moves every pixel by about the learning rate per step, whatever the gradient's
        # size. Scaled towards the residual's own spread, that step does not drown a faint
        # residual (thread noise on a weave) in speckle; the full residual spread kept too
        # much of the start and copied exemplar patches (bricks: copy score 0.10 against 0.00
        # with the square root).
        unit = component.residual_spread(source).clamp(0.05, 1.0).sqrt()
    levels = level_count(tuple(exemplar.shape[-2:]), settings.coarsest)
    exemplar_sizes = level_sizes(tuple(exemplar.shape[-2:]), levels)
    output_sizes = level_sizes(tuple(size), levels)
    steps = [round(settings.steps_coarsest * (settings.steps_finest / settings.steps_coarsest)
                   ** (i / max(levels - 1, 1))) for i in range(levels)]
    if levels == 1:
        steps = [settings.steps_coarsest]
    work = [s * h * w for s, (h, w) in zip(steps, output_sizes)]
    done = 0.0
    output = None
    for level, (source_size, output_size) in enumerate(zip(exemplar_sizes, output_sizes)):
        level_source = downsample(source, source_size)
        level_ignore = None if ignore is None else (downsample(ignore.float(), source_size) > 0)
        level_periodic = 0.0
        if periodic_output is not None:
            level_periodic = downsample(periodic_output, output_size)
        if output is None:
            start_source = level_source
            if component is not None:  # the start is residual: the mean cell is added to it
                start_source = level_source - component.on_exemplar(source_size, source.dtype).to(source.device)
            output = initial_image(start_source, output_size, strength, level_ignore, generator) / unit
        else:
            # The [1,2,1] blur evens out bilinear upsampling's alternating line pattern,
            # which otherwise survives as a grid of the coarse pixels.
            output = _smooth_noise(resize_periodic(output, output_size), sigma=1.0, keep_stats=False)
        level_guide = output_guide = None
        if guide is not None:
            level_guide = guide.exemplar_guide(source_size, source.dtype).to(source.device)
            output_guide = guide.output_guide(output_size, phase_offset, source.dtype).to(source.device)
        loss_fn = _make_loss(settings, level_source, level_ignore, level_guide)
        level_anchor = level_weight = None
        if anchor is not None:
            level_anchor = downsample(anchor, output_size)
            level_weight = downsample(anchor_weight, output_size)
        output = output.detach().clone().requires_grad_(True)
        if settings.optimiser == "sliced":  # steps of the size that solves each 1-D transport
            optimiser = torch.optim.SGD([output], lr=settings.relaxation * loss_fn.step_size(output))
        else:
            optimiser = torch.optim.Adam([output], lr=settings.learning_rate)
        subset = settings.max_sorted_patches
        for step in range(steps[level]):
            if step % settings.redraw_every == 0:
                loss_fn.redraw(generator)
            optimiser.zero_grad(set_to_none=True)
            whole = output if periodic_output is None else output * unit + level_periodic
            if hasattr(loss_fn, "gradient"):  # closed-form backward, cheaper than autograd
                _, grad = loss_fn.gradient(whole, wrap=settings.wrap, subset=subset,
                                           generator=generator, output_guide=output_guide)
                output.grad = grad if periodic_output is None else grad * unit
            else:
                loss_fn(output, wrap=settings.wrap, subset=subset, generator=generator).backward()
            optimiser.step()
            if level_anchor is not None:
                with torch.no_grad():
                    output -= anchor_strength * level_weight * (output - level_anchor)
            if progress is not None and step % 10 == 0:
                fraction = (done + work[level] * step / steps[level]) / sum(work)
                progress(fraction, f"level {level + 1}/{levels}")
        # No voting with an anchor: next to the anchored interior the nearest exemplar patch is
        # the anchor's own continuation, so voting would grow it back into the free band
        # (make-tileable: the photo's edges, and with them the seam it is meant to remove).
        # Nor on a periodic exemplar: the laid-down mean cell already holds the regular structure
        # that voting would snap, and averaging the votes blurred the per-cell variation.
        if (anchor is None and guide is None and level < levels - 1
                and output_size[0] * output_size[1] <= settings.vote_max_pixels):
            with torch.no_grad():
                for _ in range(settings.vote_iterations):
                    output = vote(output.detach(), level_source, settings.vote_patch, ignore=level_ignore,
                                  dims=settings.vote_dims, max_keys=settings.vote_max_keys)
        done += work[level]
    if periodic_output is not None:
        output = output.detach() * unit + periodic_output
    result = basis.restore(output.detach())
    if progress is not None:
        progress(1.0, "done")
    return result


def _make_loss(settings: SynthesisSettings, source: torch.Tensor, ignore: torch.Tensor | None,
               guide: torch.Tensor | None = None):
    if settings.loss == "swd":
        return PatchSWD(source, patch_size=settings.patch_size, projections=settings.projections,
                        ignore=ignore, guide=guide)
    if settings.loss == "gram":
        return GramLoss(source)
    raise ValueError(f"unknown loss {settings.loss!r}")

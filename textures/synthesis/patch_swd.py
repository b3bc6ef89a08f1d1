"""Sliced Wasserstein distance between the patch distributions of two images.

Every random projection of a ``p x p x C`` patch is a convolution with one random
unit-norm filter, so projecting all patches is a single ``conv2d``. The 1-D optimal
transport between the projected output and exemplar values is a sort; the loss is the
squared distance between the sorted output values and the exemplar quantiles.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad


def sort_order(values: torch.Tensor) -> torch.Tensor:
    """Argsort of each row of `(K,n)` float values -> int64 `(K,n)`.

    On CPU this uses numpy's vectorised sort on 64-bit keys holding the order-preserving
    integer image of each float32 and its index: several times faster than torch.sort,
    and sorting is the hot spot of the loss.
    """
    if values.device.type != "cpu":
        return torch.sort(values, dim=1).indices
    flat = values.detach().float().contiguous().numpy()
    bits = flat.view(np.int32)
    ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF)  # float order == signed int order
    keys = (ordered.astype(np.int64) << 32) | np.arange(flat.shape[1], dtype=np.int64)
    keys.sort(axis=1)
    return torch.from_numpy(keys & 0xFFFFFFFF)


def sort_rows(values: torch.Tensor) -> torch.Tensor:
    """Rows of `(K,n)` sorted ascending, differentiable through a gather."""
    return values.gather(1, sort_order(values).to(values.device))


def _random_directions(dimension: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """`(count, dimension)` random unit vectors, orthonormal when `count` <= `dimension`."""
    weights = torch.randn(count, dimension, generator=generator)
    if count <= dimension:
        return torch.linalg.qr(weights.T).Q.T.contiguous()
    return weights / weights.norm(dim=1, keepdim=True)


def random_projections(channels: int, patch_size: int, count: int,
                       generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Random unit-norm patch directions as conv filters `(count, channels, p, p)`.

    Orthonormal when `count` <= patch dimension, so that one gradient step of the right
    size moves every patch exactly onto its matched quantile along each direction.
    """
    weights = _random_directions(channels * patch_size * patch_size, count, generator)
    return weights.view(count, channels, patch_size, patch_size).to(device)


def project_patches(image: torch.Tensor, projections: torch.Tensor, *, wrap: bool) -> torch.Tensor:
    """Project every patch of `image` `(1,C,H,W)` onto `projections` `(K,C,p,p)`.

    wrap=True takes patches across the opposite edge (periodic image, H*W patches);
    wrap=False uses only the patches that fit inside. Returns `(K, patch_count)`.
    """
    if wrap:
        image = wrap_pad(image, projections.shape[-1] // 2)
    projected = F.conv2d(image, projections)
    return projected.reshape(projections.shape[0], -1)


def valid_patch_mask(ignore: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Flat bool `(patch_count,)` of inside patches of an exemplar that touch no ignored pixel
    (or, where that leaves too few, whose centre pixel is not ignored).

    ignore: `(1,1,H,W)` float or bool, nonzero = pixel to ignore (logo, stain).
    """
    touched = F.max_pool2d(ignore.float(), patch_size, stride=1).reshape(-1) == 0
    if int(touched.sum()) >= max(16, touched.numel() // 20):
        return touched
    # On coarse levels a dilated mask can swallow everything: fall back to the centres.
    half = patch_size // 2
    centres = ignore.float()[..., half:ignore.shape[-2] - half, half:ignore.shape[-1] - half]
    return centres.reshape(-1) == 0


def quantile_targets(sorted_values: torch.Tensor, count: int) -> torch.Tensor:
    """Values of the sorted rows `(K,N)` at `count` evenly spaced quantiles -> `(K,count)`."""
    n = sorted_values.shape[1]
    positions = ((torch.arange(count, device=sorted_values.device) + 0.5) * (n / count)).long()
    return sorted_values[:, positions.clamp_(max=n - 1)]


class PatchSWD:
    """Sliced Wasserstein loss to one exemplar, with periodically redrawn projections.

    exemplar: `(1,C,H,W)` float (any value range; the synthesis uses standardised
    channels). ignore: optional `(1,1,H,W)` mask of exemplar pixels whose patches are
    left out of the target distribution. guide: optional `(1,G,H,W)` fixed features of
    each exemplar pixel (lattice_guide.py): the value at a patch's centre joins the patch
    as G more dimensions, and the output passes its own `(1,G,h,w)` `output_guide`; the
    guide is matched but never changed.
    """

    def __init__(self, exemplar: torch.Tensor, *, patch_size: int = 7, projections: int = 32,
                 ignore: torch.Tensor | None = None, max_exemplar_patches: int = 32768,
                 guide: torch.Tensor | None = None) -> None:
        if patch_size % 2 == 0:
            raise ValueError("patch_size must be odd (centred patches)")
        self.exemplar = exemplar
        self.patch_size = patch_size
        self.count = projections
        self.keep = None if ignore is None else valid_patch_mask(ignore, patch_size)
        if self.keep is not None and int(self.keep.sum()) < 16:
            raise ValueError("mask leaves too few exemplar patches")
        self.max_exemplar_patches = max_exemplar_patches
        self.guide = guide
        self.filters: torch.Tensor | None = None
        self.guide_directions: torch.Tensor | None = None   # (K, G)
        self.sorted_exemplar: torch.Tensor | None = None

    def redraw(self, generator: torch.Generator) -> None:
        """Draw new projection directions and sort the exemplar's projected patches."""
        channels = self.exemplar.shape[1]
        if self.guide is None:
            self.filters = random_projections(channels, self.patch_size, self.count, generator,
                                              self.exemplar.device)
        else:  # guide dimensions drawn with the patch's, as one orthonormal set of directions
            extra = self.guide.shape[1]
            taps = channels * self.patch_size ** 2
            directions = _random_directions(taps + extra, self.count, generator).to(self.exemplar.device)
            self.filters = directions[:, :taps].reshape(self.count, channels, self.patch_size,
                                                        self.patch_size).contiguous()
            self.guide_directions = directions[:, taps:].contiguous()
        with torch.no_grad():
            values = project_patches(self.exemplar, self.filters, wrap=False)
            if self.guide is not None:
                half = self.patch_size // 2
                inner = self.guide[..., half:self.guide.shape[-2] - half, half:self.guide.shape[-1] - half]
                values = values + self.guide_directions @ inner.reshape(inner.shape[1], -1)
            if self.keep is not None:
                values = values[:, self.keep]
            if values.shape[1] > self.max_exemplar_patches:  # quantiles of a sample suffice
                chosen = torch.randint(0, values.shape[1], (self.max_exemplar_patches,),
                                       generator=generator)
                values = values[:, chosen.to(values.device)]
            self.sorted_exemplar = sort_rows(values)

    def __call__(self, output: torch.Tensor, *, wrap: bool = True, subset: int | None = None,
                 generator: torch.Generator | None = None,
                 output_guide: torch.Tensor | None = None) -> torch.Tensor:
        """Loss (scalar) of `output` `(1,C,h,w)`; `subset` patches sampled at random if set.

        Sorting dominates the cost on large outputs, so the fine levels compare a random
        subset of output patches each step (an unbiased stochastic estimate of the loss).
        """
        if self.filters is None:
            raise RuntimeError("call redraw() first")
        values = project_patches(output, self.filters, wrap=wrap)
        values = values + self._guide_values(output_guide, output.shape[-2:], None, wrap)
        if subset is not None and subset < values.shape[1]:
            chosen = torch.randint(0, values.shape[1], (subset,), generator=generator)
            values = values[:, chosen.to(values.device)]
        sorted_output = sort_rows(values)
        target = quantile_targets(self.sorted_exemplar, sorted_output.shape[1])
        return F.mse_loss(sorted_output, target)

    def gradient(self, output: torch.Tensor, *, wrap: bool = True, subset: int | None = None,
                 generator: torch.Generator | None = None,
                 output_guide: torch.Tensor | None = None) -> tuple[float, torch.Tensor]:
        """Loss and its gradient w.r.t. `output` `(1,C,h,w)`, without autograd.

        Same value as `__call__`. With every patch, the projection is one convolution and
        its backward one convolution with the flipped filters (wrap-padded for a periodic
        output: the adjoint of circular padding). With a random `subset`, only the chosen
        patches are gathered and projected, and their gradient is scattered back: at the
        fine levels that is a fraction of a whole-image convolution.
        """
        if self.filters is None:
            raise RuntimeError("call redraw() first")
        with torch.no_grad():
            source = output.detach()
            _, channels, height, width = source.shape
            size = self.patch_size
            grid = (height, width) if wrap else (height - size + 1, width - size + 1)
            total = grid[0] * grid[1]
            if subset is not None and subset < total:
                chosen = torch.randint(0, total, (subset,), generator=generator).to(source.device)
                pixels = self._patch_pixels(chosen, grid, (height, width), wrap)   # (n, p*p) flat
                flat = source.reshape(channels, -1)
                patches = flat[:, pixels].permute(1, 0, 2).reshape(subset, -1)    # (n, C p p)
                directions = self.filters.reshape(self.count, -1)                 # (K, C p p)
                values = directions @ patches.T                                   # (K, n)
                values = values + self._guide_values(output_guide, (height, width), chosen, wrap)
                residual, loss = self._residual(values)
                scale = 2.0 / residual.numel()
                patch_grad = (residual.T @ directions) * scale                    # (n, C p p)
                grad = torch.zeros_like(flat)
                grad.index_add_(1, pixels.reshape(-1),
                                patch_grad.view(subset, channels, -1).permute(1, 0, 2).reshape(channels, -1))
                return loss, grad.view_as(source)
            half = size // 2
            values = F.conv2d(wrap_pad(source, half) if wrap else source, self.filters).reshape(self.count, -1)
            values = values + self._guide_values(output_guide, (height, width), None, wrap)
            residual, loss = self._residual(values)
            scale = 2.0 / residual.numel()
            residual = residual.view(1, self.count, *grid)
            flipped = self.filters.flip(-1, -2).transpose(0, 1)
            padded = wrap_pad(residual, half) if wrap else F.pad(residual, (size - 1,) * 4)
            return loss, F.conv2d(padded, flipped) * scale

    def _guide_values(self, output_guide: torch.Tensor | None, shape, chosen: torch.Tensor | None,
                      wrap: bool) -> torch.Tensor | float:
        """Guide part `(K, n)` of the projections of the output patches (all, or those at flat
        grid positions `chosen`); 0 without a guide."""
        if self.guide is None:
            return 0.0
        if output_guide is None:
            raise ValueError("this loss has an exemplar guide: pass output_guide")
        if tuple(output_guide.shape[-2:]) != tuple(shape):
            raise ValueError("output_guide must match the output's size")
        if not wrap:  # inside patches only: their centres
            half = self.patch_size // 2
            output_guide = output_guide[..., half:shape[0] - half, half:shape[1] - half]
        flat = output_guide.reshape(output_guide.shape[1], -1)
        if chosen is not None:
            flat = flat[:, chosen]
        return self.guide_directions @ flat

    def _residual(self, values: torch.Tensor) -> tuple[torch.Tensor, float]:
        """`(K,n)` projected values minus their matched exemplar quantiles, and the loss."""
        order = sort_order(values).to(values.device)
        target = quantile_targets(self.sorted_exemplar, values.shape[1])
        residual = torch.empty_like(values).scatter_(1, order, values.gather(1, order) - target)
        return residual, float(residual.pow(2).mean())

    def _patch_pixels(self, chosen: torch.Tensor, grid, shape, wrap: bool) -> torch.Tensor:
        """Flat pixel indices `(n, p*p)` of the patches at flat grid positions `chosen`, in
        the order of the filters' (dy, dx) taps."""
        height, width = shape
        offsets = torch.arange(self.patch_size, device=chosen.device)
        if wrap:  # patch centred on its grid pixel, across the opposite edge
            offsets = offsets - self.patch_size // 2
        rows = chosen // grid[1]
        cols = chosen % grid[1]
        rows = rows[:, None, None] + offsets[None, :, None]
        cols = cols[:, None, None] + offsets[None, None, :]
        if wrap:
            rows, cols = rows % height, cols % width
        return (rows * width + cols).reshape(chosen.shape[0], -1)

    def step_size(self, output: torch.Tensor) -> float:
        """Gradient-descent step that moves patches onto their matched quantiles.

        d(mse)/d(value) = 2 (value - target) / (K * n); every pixel sits in p^2 patches,
        whose votes are averaged, so the full step is K * N / (2 p^2) with N the number
        of output patches (the same with a random subset: fewer votes, larger weight).
        """
        patches = output.shape[-1] * output.shape[-2]
        return self.count * patches / (2.0 * self.patch_size ** 2)

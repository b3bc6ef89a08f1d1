"""Lattice phase guide: keeps periodic exemplars (weave, bricks, tiles) periodic in the output.

Patch statistics are local. On a strongly periodic exemplar the coarse levels of the
pyramid cannot see the period (it is averaged away), so the level where it appears starts
from a layout with no phase and grows domains whose lattices do not line up; every domain
wall is a row of patches the exemplar never had (a dislocated weave, bricks of two courses
merged). Here the exemplar's lattice (two period vectors) gives every exemplar pixel its
lattice phase, and the output gets a phase field of a nearby lattice that fits the output
torus a whole number of times. The phase, as cos/sin of the two lattice coordinates at a
patch's centre, joins every patch as extra guide features (patch_swd.PatchSWD `guide`):
the loss then matches content *at the right phase*, one lattice spans the whole output,
and what varies between seeds is everything that is not periodic (per-brick tone, thread
noise, stains).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from imaging.lattice import Lattice, find_lattice

MAX_HARMONICS = 2048   # half-plane lattice harmonics kept in the periodic component
ESTIMATE_CELLS = 6     # cells a side of the crop the periodic component is estimated on
ESTIMATE_BUDGET = 2 ** 27  # pixels x harmonics of that estimate (about a second of CPU)


@dataclass(frozen=True)
class LatticeGuide:
    """The exemplar's lattice (full-resolution pixels) and the integer lattice counts that
    fit the output torus: the output's lattice coordinates are `counts @ (x/W, y/H)`.

    counts: `(2,2)` int, column j = exemplar lattice coordinates of the output's j-th torus
    period ((W,0) and (0,H)), rounded. strain: largest relative change of a period vector.
    """

    lattice: Lattice
    exemplar_size: tuple[int, int]
    output_size: tuple[int, int]
    counts: np.ndarray
    strain: float
    weight: float

    @property
    def basis(self) -> np.ndarray:
        """`(2,2)` columns v1, v2 (x, y): lattice coordinates (u, v) -> pixel offset."""
        return np.stack([self.lattice.v1, self.lattice.v2], axis=1)

    @property
    def cell_extent(self) -> np.ndarray:
        """(x, y) extent of the cell spanned by v1 and v2, in pixels."""
        return np.abs(self.basis).sum(axis=1)

    @property
    def origin(self) -> np.ndarray:
        """(x, y) exemplar pixel where lattice coordinates are 0: its centre. The lattice
        estimate's small error grows with the distance from this point, and the periodic
        component is estimated around it, so phases are referred to it, not to a corner."""
        return np.array([self.exemplar_size[1] // 2, self.exemplar_size[0] // 2], np.float64)

    def exemplar_guide(self, size: tuple[int, int], dtype=torch.float32) -> torch.Tensor:
        """`(1,4,h,w)` guide of the exemplar at pyramid level size `size` (h, w)."""
        height, width = self.exemplar_size
        ys = (torch.arange(size[0], dtype=torch.float64) + 0.5) * (height / size[0]) - 0.5 - self.origin[1]
        xs = (torch.arange(size[1], dtype=torch.float64) + 0.5) * (width / size[1]) - 0.5 - self.origin[0]
        inverse = torch.linalg.inv(torch.tensor(self.basis, dtype=torch.float64))                        # pixel (x, y) -> lattice (u, v)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        coords = torch.einsum("ij,jhw->ihw", inverse, torch.stack([grid_x, grid_y]))
        return self._encode(coords, dtype)

    def output_guide(self, size: tuple[int, int], offset: tuple[float, float] = (0.0, 0.0),
                     dtype=torch.float32) -> torch.Tensor:
        """`(1,4,h,w)` guide of the output at level size `size`; periodic on the torus.

        offset: lattice-coordinate shift (a seed's own phase origin)."""
        fy = (torch.arange(size[0], dtype=torch.float64) + 0.5) / size[0]
        fx = (torch.arange(size[1], dtype=torch.float64) + 0.5) / size[1]
        grid_y, grid_x = torch.meshgrid(fy, fx, indexing="ij")
        counts = torch.tensor(self.counts, dtype=torch.float64)
        coords = torch.einsum("ij,jhw->ihw", counts, torch.stack([grid_x, grid_y]))
        coords = coords + torch.tensor(offset, dtype=torch.float64).view(2, 1, 1)
        return self._encode(coords, dtype)

    def phase_offset(self, generator: torch.Generator | None) -> tuple[float, float]:
        """A phase origin for `output_guide`/`on_output` that puts output pixel centres on
        exemplar pixel centres (a whole-pixel translation, up to the strain): a sub-pixel
        shift would resample the exemplar's sharpest detail and show its ringing. Random
        with a generator; without one, output pixel (x, y) has exemplar pixel (x, y)'s phase."""
        # Shifts within one cell reach every whole-pixel phase; small ones keep the exemplar
        # lattice's sub-pixel error (times the shift) small.
        reach = int(np.ceil(self.cell_extent.max()))
        shift = np.zeros(2)
        if generator is not None:
            shift = torch.randint(0, max(reach, 1), (2,), generator=generator).double().numpy()
        centre = self.counts @ np.array([0.5 / self.output_size[1], 0.5 / self.output_size[0]])
        # Output pixel (x, y) takes the phase of exemplar pixel (x, y) + shift.
        offset = np.linalg.solve(self.basis, shift - self.origin) - centre
        return float(offset[0] % 1.0), float(offset[1] % 1.0)

    def harmonics(self, cutoff: float = 0.5) -> np.ndarray:
        """`(n,2)` int lattice harmonics (m, n) of one half-plane, DC first, whose spatial
        frequency is at most `cutoff` cycles per exemplar pixel (fewer if there are more
        than MAX_HARMONICS)."""
        to_frequency = np.linalg.inv(self.basis).T                     # (m, n) -> (fx, fy) cycles/px
        reach = int(math.ceil(cutoff * 1.5 * (np.linalg.norm(self.lattice.v1) + np.linalg.norm(self.lattice.v2)))) + 1
        m, n = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
        pairs = np.stack([m.ravel(), n.ravel()], axis=1)
        half = (pairs[:, 0] > 0) | ((pairs[:, 0] == 0) & (pairs[:, 1] >= 0))
        pairs = pairs[half]
        # The exemplar's own band, |fx|, |fy| < cutoff: a square, so the axis-aligned edges of
        # tiles and threads keep all their harmonics, open, because at the Nyquist frequency
        # (m, n) and its mirror alias onto one pixel pattern and would be counted twice; the
        # lowest first.
        frequency = pairs @ to_frequency.T
        radius = np.linalg.norm(frequency, axis=1)
        order = np.argsort(radius, kind="stable")
        pairs, frequency = pairs[order], frequency[order]
        return pairs[np.abs(frequency).max(axis=1) < cutoff * (1 - 1e-3)][:MAX_HARMONICS]

    def periodic_component(self, whitened: torch.Tensor,
                           ignore: torch.Tensor | None = None) -> "PeriodicComponent":
        """Lattice-periodic part of the exemplar `(1,C,H,W)`: its mean over the lattice cells,
        as the Fourier coefficients of the lattice harmonics (Hann-windowed estimate, so
        the cut-off cells at the border leak little). ignore: optional `(1,1,H,W)`, nonzero
        pixels left out of the estimate.

        The cost is pixels x harmonics, so a large exemplar is estimated on a centred crop
        holding at least ESTIMATE_CELLS cells a side (or 256 px), and the harmonic count is
        capped so that the product stays under ESTIMATE_BUDGET (the finest harmonics
        dropped then stay in the residual, which the loss still synthesises at the right
        phase)."""
        height, width = whitened.shape[-2:]
        cell = self.cell_extent
        crop_h = min(height, max(256, int(math.ceil(ESTIMATE_CELLS * cell[1]))))
        crop_w = min(width, max(256, int(math.ceil(ESTIMATE_CELLS * cell[0]))))
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        pairs = self.harmonics()[:max(1, ESTIMATE_BUDGET // (crop_h * crop_w))]
        frequencies = self.frequencies(pairs)                                     # (n,2) fx, fy
        xs = np.arange(left, left + crop_w, dtype=np.float64) - self.origin[0]
        ys = np.arange(top, top + crop_h, dtype=np.float64) - self.origin[1]
        along_x = np.exp(-2j * math.pi * np.outer(xs, frequencies[:, 0]))          # (w, n)
        along_y = np.exp(-2j * math.pi * np.outer(ys, frequencies[:, 1]))          # (h, n)
        window = np.outer(np.hanning(crop_h + 2)[1:-1], np.hanning(crop_w + 2)[1:-1])
        if ignore is not None:
            window = window * (ignore[0, 0, top:top + crop_h, left:left + crop_w].detach().cpu().numpy() == 0)
        image = whitened[0, :, top:top + crop_h, left:left + crop_w].detach().cpu().double().numpy()
        coefficients = []
        for channel in image:
            partial = along_y.T @ (window * channel)                               # (n, w)
            coefficients.append(np.einsum("nw,wn->n", partial, along_x) / window.sum())
        coefficients = np.stack(coefficients)
        if len(pairs) and not pairs[0].any():
            coefficients[:, 0] *= 0.5   # DC: the real signal is twice the half-plane sum's real part
        return PeriodicComponent(self, pairs, coefficients)

    def frequencies(self, pairs: np.ndarray) -> np.ndarray:
        """`(n,2)` spatial frequencies (fx, fy), cycles per exemplar pixel, of harmonics (m, n)."""
        return pairs @ np.linalg.inv(self.basis)            # row (m,n) -> (m,n) A^-1

    def _encode(self, coords: torch.Tensor, dtype) -> torch.Tensor:
        angle = 2 * math.pi * coords
        features = torch.cat([torch.cos(angle), torch.sin(angle)])   # (4,h,w)
        return (self.weight * features).unsqueeze(0).to(dtype)


def torus_counts(lattice: Lattice, output_size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Integer lattice coordinates of the output torus periods, and the strain of the lattice
    that fits them (largest relative change of a period vector)."""
    height, width = output_size
    basis = np.stack([lattice.v1, lattice.v2], axis=1)          # columns v1, v2 (x, y)
    exact = np.linalg.solve(basis, np.array([[width, 0.0], [0.0, height]]))
    counts = np.round(exact).astype(np.int64)
    if round(abs(np.linalg.det(counts))) == 0:
        return counts, math.inf
    fitted = np.array([[width, 0.0], [0.0, height]]) @ np.linalg.inv(counts)   # columns: new v1, v2
    strain = max(float(np.linalg.norm(fitted[:, j] - basis[:, j]) / np.linalg.norm(basis[:, j]))
                 for j in range(2))
    return counts, strain


def find_guide(whitened: torch.Tensor, output_size: tuple[int, int], *, weight: float,
               ignore: torch.Tensor | None = None, min_strength: float = 0.5, min_period: float = 4.0,
               min_repeats: float = 3.0, max_strain: float = 0.05) -> LatticeGuide | None:
    """Lattice guide for exemplar `whitened` `(1,C,H,W)` (synthesis units; the last channel is
    the principal one), or None when it is not clearly periodic: no lattice, a weak one,
    fewer than `min_repeats` periods across the exemplar along either vector, or none that
    fits the output within `max_strain`. ignore: optional `(1,1,H,W)` pixels to leave out."""
    height, width = whitened.shape[-2:]
    principal = whitened[0, -1].detach().cpu().numpy().astype(np.float32)
    if ignore is not None:  # a masked-out logo must not read as structure: flatten it to the mean
        hole = ignore[0, 0].detach().cpu().numpy() != 0
        principal = np.where(hole, principal[~hole].mean() if (~hole).any() else 0.0, principal)
    lattice = find_lattice(principal, min_period=min_period)
    if lattice is None or lattice.strength < min_strength:
        return None
    for vector in (lattice.v1, lattice.v2):
        # Repeats along a vector: how many times it fits across the exemplar in its direction.
        extent = min(width / max(abs(vector[0]), 1e-9), height / max(abs(vector[1]), 1e-9))
        if extent < min_repeats:
            return None
    counts, strain = torus_counts(lattice, output_size)
    if strain > max_strain:
        return None
    return LatticeGuide(lattice, (int(height), int(width)), tuple(output_size), counts, strain, weight)


@dataclass(frozen=True)
class PeriodicComponent:
    """Mean lattice cell of an exemplar as half-plane lattice-harmonic coefficients `(C, n)`
    (complex, DC halved: the signal is twice the real part of their sum), evaluable on the
    exemplar's pixel grid and on the output torus."""

    guide: LatticeGuide
    pairs: np.ndarray
    coefficients: np.ndarray

    def on_exemplar(self, size: tuple[int, int] | None = None, dtype=torch.float32) -> torch.Tensor:
        """`(1,C,h,w)` on the exemplar at pyramid level size `size` (default: full size):
        level pixel centres in full-resolution coordinates, harmonics above the level's
        Nyquist frequency left out (as area downsampling nearly does)."""
        height, width = self.guide.exemplar_size
        size = (height, width) if size is None else size
        ys = (np.arange(size[0]) + 0.5) * (height / size[0]) - 0.5
        xs = (np.arange(size[1]) + 0.5) * (width / size[1]) - 0.5
        return self._evaluate(ys, xs, (0.5 * size[0] / height, 0.5 * size[1] / width), dtype)

    def residual_spread(self, whitened: torch.Tensor, samples: int = 128) -> torch.Tensor:
        """`(1,C,1,1)` standard deviation of exemplar minus periodic part, on a grid of about
        `samples`^2 exemplar pixels (whole-image evaluation is not needed for a spread)."""
        height, width = self.guide.exemplar_size
        ys = np.unique(np.linspace(0, height - 1, min(samples, height)).round().astype(int))
        xs = np.unique(np.linspace(0, width - 1, min(samples, width)).round().astype(int))
        periodic = self._evaluate(ys.astype(np.float64), xs.astype(np.float64), (0.5, 0.5), whitened.dtype)
        picked = whitened[..., ys, :][..., xs].detach().cpu()
        return (picked - periodic).std(dim=(2, 3), keepdim=True).to(whitened.device)

    def _evaluate(self, ys: np.ndarray, xs: np.ndarray, band: tuple[float, float], dtype) -> torch.Tensor:
        frequencies = self.guide.frequencies(self.pairs)
        keep = (np.abs(frequencies[:, 0]) < band[1]) & (np.abs(frequencies[:, 1]) < band[0])
        frequencies, coefficients = frequencies[keep], self.coefficients[:, keep]
        xs, ys = xs - self.guide.origin[0], ys - self.guide.origin[1]
        along_x = np.exp(2j * math.pi * np.outer(xs, frequencies[:, 0]))    # (w, n)
        along_y = np.exp(2j * math.pi * np.outer(ys, frequencies[:, 1]))    # (h, n)
        planes = [2 * (along_y @ (coefficient[:, None] * along_x.T)).real for coefficient in coefficients]
        return torch.from_numpy(np.stack(planes)).unsqueeze(0).to(dtype)

    def on_output(self, size: tuple[int, int], offset: tuple[float, float] = (0.0, 0.0),
                  dtype=torch.float32) -> torch.Tensor:
        """`(1,C,h,w)` on the output torus at its full size `size` (the guide's output size),
        with the same phase origin `offset` as `LatticeGuide.output_guide`. One inverse real
        FFT per channel: the lattice harmonics are whole-number torus frequencies."""
        height, width = size
        torus = self.pairs @ self.guide.counts                  # (m,n) N: integer (kx, ky) per pair
        keep = (np.abs(torus[:, 0]) < width / 2) & (np.abs(torus[:, 1]) < height / 2)
        torus, pairs, coefficients = torus[keep], self.pairs[keep], self.coefficients[:, keep]
        # Output pixel centres sit at (x + 0.5)/W, as in output_guide.
        shift = np.exp(2j * math.pi * (pairs @ np.asarray(offset)
                                       + torus[:, 0] * 0.5 / width + torus[:, 1] * 0.5 / height))
        planes = []
        for channel in coefficients * shift * (height * width):
            # Half spectrum for irfft2: kx > 0 as is (its mirror is implicit), kx < 0 as the
            # mirror's conjugate, kx = 0 with both ky and -ky (that column has no implicit mirror).
            spectrum = np.zeros((height, width // 2 + 1), np.complex128)
            for (kx, ky), term in zip(torus, channel):
                if kx > 0:
                    spectrum[ky % height, kx] += term
                elif kx < 0:
                    spectrum[-ky % height, -kx] += np.conj(term)
                else:
                    spectrum[ky % height, 0] += term
                    spectrum[-ky % height, 0] += np.conj(term)
            planes.append(torch.from_numpy(np.fft.irfft2(spectrum, s=(height, width))).to(dtype))
        return torch.stack(planes).unsqueeze(0)

"""Matrix/TRC ICC profiles read directly, for pixels LittleCMS in Pillow cannot take (16-bit).

Nearly every RGB profile a camera, phone or image editor embeds (Display P3, Adobe RGB,
ProPhoto, sRGB variants) is a matrix/TRC profile: three tone curves (rTRC, gTRC, bTRC) and
three colorants (rXYZ, gXYZ, bXYZ, D50-adapted XYZ, as ICC.1 keeps the connection space).
Converting such pixels to sRGB is then: tone curves to linear, colorant matrix to XYZ (D50),
the sRGB matrix back (Bradford-adapted to D50, as LittleCMS's own sRGB profile), clip
(relative colorimetric), sRGB curve. Profiles built from lookup tables only (A2B0) are not
read here: `parse_matrix_trc` raises for them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from imaging.color import linear_to_srgb

# XYZ (D50) -> linear sRGB: the inverse of sRGB's primaries Bradford-adapted from D65 to D50.
_SRGB_TO_XYZ_D50 = np.array([[0.4360747, 0.3850649, 0.1430804],
                             [0.2225045, 0.7168786, 0.0606169],
                             [0.0139322, 0.0971045, 0.7141733]])
_XYZ_D50_TO_SRGB = np.linalg.inv(_SRGB_TO_XYZ_D50)
_ROWS_PER_CHUNK = 256  # bounds the float working copy (~3 MB per 1000 px of width)


class UnsupportedProfile(ValueError):
    """The profile is not an RGB matrix/TRC profile (or is malformed)."""


@dataclass(frozen=True)
class MatrixTrcProfile:
    curves: tuple[np.ndarray, np.ndarray, np.ndarray]  # each (65536,) float32: 16-bit code -> linear
    to_srgb: np.ndarray  # (3, 3): linear RGB of the profile -> linear sRGB


def parse_matrix_trc(icc: bytes) -> MatrixTrcProfile:
    """Read an RGB matrix/TRC profile's curves and colorants; raises UnsupportedProfile."""
    if len(icc) < 132 or icc[16:20] != b"RGB ":
        raise UnsupportedProfile("not an RGB profile")
    tags = _tag_table(icc)
    missing = [name for name in ("rXYZ", "gXYZ", "bXYZ", "rTRC", "gTRC", "bTRC") if name not in tags]
    if missing:
        raise UnsupportedProfile(f"no matrix/TRC tags ({', '.join(missing)} missing; a lookup-table profile)")
    colorants = np.array([_xyz(tags[name]) for name in ("rXYZ", "gXYZ", "bXYZ")]).T  # columns R, G, B
    codes = np.arange(65536, dtype=np.float64) / 65535.0
    curves = tuple(_curve(tags[name], codes).astype(np.float32) for name in ("rTRC", "gTRC", "bTRC"))
    return MatrixTrcProfile(curves, (_XYZ_D50_TO_SRGB @ colorants).astype(np.float32))


def convert_uint16_to_srgb(pixels: np.ndarray, profile: MatrixTrcProfile) -> np.ndarray:
    """(H,W,3|4) uint16 RGB(A) encoded in `profile` -> the same shape in sRGB, uint16.

    Alpha is copied as it is. Out-of-gamut colours are clipped per channel."""
    out = np.empty_like(pixels)
    if pixels.shape[2] == 4:
        out[..., 3] = pixels[..., 3]
    for top in range(0, pixels.shape[0], _ROWS_PER_CHUNK):
        rows = pixels[top:top + _ROWS_PER_CHUNK]
        linear = np.stack([profile.curves[c][rows[..., c]] for c in range(3)], axis=-1)
        srgb_linear = np.clip(linear @ profile.to_srgb.T, 0.0, 1.0)
        out[top:top + _ROWS_PER_CHUNK, :, :3] = np.rint(linear_to_srgb(srgb_linear) * 65535.0)
    return out


def _tag_table(icc: bytes) -> dict[str, bytes]:
    (count,) = struct.unpack_from(">I", icc, 128)
    if count > 200 or 132 + 12 * count > len(icc):
        raise UnsupportedProfile("malformed tag table")
    tags = {}
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * index)
        if offset + size > len(icc) or size < 8:
            raise UnsupportedProfile(f"tag {signature!r} lies outside the profile")
        tags[signature.decode("latin-1")] = icc[offset:offset + size]
    return tags


def _s15f16(data: bytes, offset: int) -> float:
    return struct.unpack_from(">i", data, offset)[0] / 65536.0


def _xyz(tag: bytes) -> tuple[float, float, float]:
    if tag[:4] != b"XYZ " or len(tag) < 20:
        raise UnsupportedProfile("colorant is not an XYZ tag")
    return tuple(_s15f16(tag, 8 + 4 * i) for i in range(3))


def _curve(tag: bytes, x: np.ndarray) -> np.ndarray:
    """Evaluate a curveType ('curv') or parametricCurveType ('para') at x in [0, 1]."""
    kind = tag[:4]
    if kind == b"curv":
        (count,) = struct.unpack_from(">I", tag, 8)
        if count == 0:
            return x.copy()
        if count == 1:
            return x ** (struct.unpack_from(">H", tag, 12)[0] / 256.0)
        if len(tag) < 12 + 2 * count:
            raise UnsupportedProfile("truncated tone curve")
        table = np.frombuffer(tag, dtype=">u2", count=count, offset=12).astype(np.float64) / 65535.0
        return np.interp(x, np.linspace(0.0, 1.0, count), table)
    if kind == b"para":
        (function,) = struct.unpack_from(">H", tag, 8)
        n_params = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(function)
        if n_params is None or len(tag) < 12 + 4 * n_params:
            raise UnsupportedProfile(f"unknown parametric curve type {function}")
        g, a, b, c, d, e, f = [_s15f16(tag, 12 + 4 * i) for i in range(n_params)] + [0.0] * (7 - n_params)
        if function == 0:
            return x ** g
        if a == 0:
            raise UnsupportedProfile("degenerate parametric curve")
        power = lambda base: np.maximum(base, 0.0) ** g  # noqa: E731 - a negative base is 0 (ICC.1)
        if function == 1:  # CIE 122-1966
            return np.where(x >= -b / a, power(a * x + b), 0.0)
        if function == 2:  # IEC 61966-3
            return np.where(x >= -b / a, power(a * x + b) + c, c)
        if function == 3:  # IEC 61966-2.1 (sRGB)
            return np.where(x >= d, power(a * x + b), c * x)
        return np.where(x >= d, power(a * x + b) + e, c * x + f)
    raise UnsupportedProfile(f"unknown tone curve type {kind!r}")

"""Tangent-space normal maps as files: the one place that knows their encoding.

Files hold `0.5 * n + 0.5` (OpenGL, +Y up), 8/16-bit and float alike; the service writes
float (EXR) normal maps that way too. Float files from elsewhere may hold `n` itself
(values in [-1, 1]); `decode_normal_map` tells the two apart by which reading gives unit
vectors, so both kinds of upload work.
"""

from __future__ import annotations

import numpy as np

FLAT = (0.0, 0.0, 1.0)


def unit_vectors(vectors: np.ndarray, fallback=FLAT) -> np.ndarray:
    """(..., C) float -> unit vectors along the last axis; zero-length ones become `fallback`."""
    vectors = np.asarray(vectors, np.float32)
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    unit = vectors / np.maximum(length, 1e-12)
    return np.where(length > 1e-6, unit, np.asarray(fallback, np.float32)).astype(np.float32)


def holds_raw_vectors(values: np.ndarray) -> bool:
    """True when float (H,W,>=3) values read as unit vectors themselves (`n`, not `0.5n+0.5`)."""
    values = np.asarray(values, np.float32)[..., :3]
    raw_error = abs(float(np.median(np.linalg.norm(values, axis=-1))) - 1.0)
    encoded_error = abs(float(np.median(np.linalg.norm(values * 2.0 - 1.0, axis=-1))) - 1.0)
    return raw_error < encoded_error


def decode_normal_map(values: np.ndarray, is_float: bool) -> np.ndarray:
    """(H,W,>=3) file values (integer files scaled to [0,1]) -> (H,W,3) unit normals.

    Integer files hold `0.5n+0.5`; float files either that or `n` (see module docstring).
    """
    values = np.asarray(values, np.float32)[..., :3]
    vectors = values if is_float and holds_raw_vectors(values) else values * 2.0 - 1.0
    return unit_vectors(vectors)


def encode_normal_map(normals: np.ndarray) -> np.ndarray:
    """(H,W,3) normals (any length) -> (H,W,3) float32 `0.5n+0.5` in [0,1], unit length first."""
    return np.clip(unit_vectors(normals) * 0.5 + 0.5, 0.0, 1.0).astype(np.float32)


def as_encoded_normals(values: np.ndarray) -> np.ndarray:
    """A float normal-map file's (H,W,3|4) values, `n` or `0.5n+0.5`, -> float32 `0.5n+0.5`
    in [0,1] with any 4th channel kept: what the tools take and what files hold."""
    values = np.asarray(values, np.float32)
    if values.ndim != 3 or values.shape[2] < 3:
        return values
    return np.concatenate([encode_normal_map(decode_normal_map(values, is_float=True)), values[..., 3:]], axis=2)


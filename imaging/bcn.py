"""BC4 and BC5 block compression (one and two channels: grey data maps, normal maps' x and y).

Each 4x4 block of a channel keeps two 8-bit endpoints and a 3-bit index per texel into the
eight values from one endpoint to the other (the "8-value" mode, e0 > e1). Endpoints start at
the block's extremes and are refined by least squares on the texels' positions between them,
keeping whichever gives the lower error; that is what lifts a BC4 encoder above the plain
min/max one (Pillow's BC5 encoder leaves about twice the error on noisy blocks).
Decoding is the reader's job (Pillow decodes BC4/BC5 DDS files).
"""

from __future__ import annotations

import numpy as np

BLOCK_BYTES = 8  # per channel and block
_REFINEMENTS = 3
# Index stored for the value k/7 of the way from e0 to e1: e0 is 0, e1 is 1, the six between 2..7.
_INDEX_OF_STEP = np.array([0, 2, 3, 4, 5, 6, 7, 1], np.uint64)


def _blocks(channel: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(H,W) uint8 -> (rows*cols, 16) float64 texels of the 4x4 blocks (edges replicated to fill)."""
    height, width = channel.shape
    rows, cols = (height + 3) // 4, (width + 3) // 4
    padded = np.pad(channel, ((0, rows * 4 - height), (0, cols * 4 - width)), mode="edge").astype(np.float64)
    return padded.reshape(rows, 4, cols, 4).transpose(0, 2, 1, 3).reshape(-1, 16), rows, cols


def _steps(texels: np.ndarray, e0: np.ndarray, e1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest of the eight values for each texel: (step k in 0..7 from e0 towards e1, squared error per block)."""
    span = e1 - e0
    safe = np.where(span == 0, 1.0, span)
    steps = np.clip(np.rint((texels - e0[:, None]) / safe[:, None] * 7), 0, 7)
    steps = np.where(span[:, None] == 0, 0, steps)
    decoded = e0[:, None] + steps / 7 * span[:, None]
    return steps, ((decoded - texels) ** 2).sum(axis=1)


def _endpoints(texels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block: e0 >= e1 as integers, and each texel's step from e0 towards e1."""
    e0, e1 = texels.max(axis=1), texels.min(axis=1)
    steps, error = _steps(texels, e0, e1)
    for _ in range(_REFINEMENTS):
        # Least squares for texel ≈ (1 - w) e0 + w e1 with w = step / 7 held fixed.
        w = steps / 7
        a, b = 1 - w, w
        aa, ab, bb = (a * a).sum(1), (a * b).sum(1), (b * b).sum(1)
        at, bt = (a * texels).sum(1), (b * texels).sum(1)
        det = aa * bb - ab * ab
        ok = np.abs(det) > 1e-9
        det = np.where(ok, det, 1.0)
        new0 = np.clip(np.rint((bb * at - ab * bt) / det), 0, 255)
        new1 = np.clip(np.rint((aa * bt - ab * at) / det), 0, 255)
        new0, new1 = np.maximum(new0, new1), np.minimum(new0, new1)
        new_steps, new_error = _steps(texels, new0, new1)
        better = ok & (new_error < error)
        e0, e1 = np.where(better, new0, e0), np.where(better, new1, e1)
        steps = np.where(better[:, None], new_steps, steps)
        error = np.where(better, new_error, error)
    return e0, e1, steps


def encode_bc4(channel: np.ndarray) -> bytes:
    """(H,W) uint8 -> BC4 blocks, row-major, 8 bytes each: e0, e1, then 16 3-bit indices
    (texels in row-major order within the block, little-endian)."""
    texels, _, _ = _blocks(np.asarray(channel, np.uint8))
    e0, e1, steps = _endpoints(texels)
    # A flat block (e0 == e1) would select the 6-value mode; its indices are all 0 (= e0), which
    # reads the same in either mode.
    indices = _INDEX_OF_STEP[steps.astype(np.int64)]
    packed = (indices << (np.arange(16, dtype=np.uint64) * 3)).sum(axis=1, dtype=np.uint64)
    out = np.empty((len(texels), 8), np.uint8)
    out[:, 0], out[:, 1] = e0, e1
    out[:, 2:] = ((packed[:, None] >> (np.arange(6, dtype=np.uint64) * 8)) & 0xFF).astype(np.uint8)
    return out.tobytes()


def encode_bc5(red: np.ndarray, green: np.ndarray) -> bytes:
    """Two (H,W) uint8 channels -> BC5 blocks: each 4x4 block's BC4 of red, then of green."""
    first = np.frombuffer(encode_bc4(red), np.uint8).reshape(-1, BLOCK_BYTES)
    second = np.frombuffer(encode_bc4(green), np.uint8).reshape(-1, BLOCK_BYTES)
    return np.concatenate([first, second], axis=1).tobytes()

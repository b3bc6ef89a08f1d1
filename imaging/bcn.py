"""Block compression of 4x4 texel blocks: BC1 colour (DXT1, and the colour half of DXT5), BC4
(one channel: grey data maps, DXT5's alpha) and BC5 (two BC4 channels: normal maps' x and y).

BC4 keeps two 8-bit endpoints and a 3-bit index per texel into the eight values from one to the
other (the "8-value" mode, e0 > e1). BC1 keeps two 5:6:5 colours and a 2-bit index into them
and the two colours a third and two thirds of the way between (the 4-colour mode, c0 > c1).
Endpoints start at the block's extremes (for colour, along its principal axis) and are refined
by least squares on the texels' positions between them, keeping whichever gives the lower
error; that is what lifts an encoder above plain min/max endpoints: on photographs +2 to +4 dB
over Pillow's DXT1 encoder, on noisy BC5 blocks a third of its error.
Decoding is the reader's job (Pillow decodes all of them).
"""

from __future__ import annotations

import numpy as np

BLOCK_BYTES = 8  # per channel and block (BC4) or colour block (BC1)
_CHUNK = 1 << 16  # blocks encoded at a time, to bound the memory of the colour search
_REFINEMENTS = 3
# Index stored for the value k/7 of the way from e0 to e1: e0 is 0, e1 is 1, the six between 2..7.
_INDEX_OF_STEP = np.array([0, 2, 3, 4, 5, 6, 7, 1], np.uint64)


def _blocks(channel: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(H,W) uint8 -> (rows*cols, 16) float64 texels of the 4x4 blocks (edges replicated to fill)."""
    height, width = channel.shape
    rows, cols = (height + 3) // 4, (width + 3) // 4
    padded = np.pad(channel, ((0, rows * 4 - height), (0, cols * 4 - width)), mode="edge").astype(np.float64)
    return padded.reshape(rows, 4, cols, 4).transpose(0, 2, 1, 3).reshape(-1, 16), rows, cols


def _least_squares_endpoints(texels: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Endpoints for texel ≈ (1 - w) e0 + w e1, each texel's weight w held fixed (BC1 and BC4 alike).

    texels: (n,16,C) float; w: (n,16) in [0,1]. Returns e0, e1 (n,C) and (n,) whether the
    system was solvable (not when every texel has the same weight)."""
    a = 1 - w
    aa, ab, bb = (a * a).sum(1), (a * w).sum(1), (w * w).sum(1)
    at, bt = (a[:, :, None] * texels).sum(1), (w[:, :, None] * texels).sum(1)
    det = aa * bb - ab * ab
    ok = np.abs(det) > 1e-6
    det = np.where(ok, det, 1.0)[:, None]
    return (bb[:, None] * at - ab[:, None] * bt) / det, (aa[:, None] * bt - ab[:, None] * at) / det, ok


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
        fit0, fit1, ok = _least_squares_endpoints(texels[:, :, None], steps / 7)
        new0, new1 = np.clip(np.rint(fit0[:, 0]), 0, 255), np.clip(np.rint(fit1[:, 0]), 0, 255)
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


# ------------------------------------------------------------------ BC1 colour

# Index stored for the colour k/3 of the way from c0 to c1 (4-colour mode): c0 0, c1 1, between 2, 3.
_BC1_INDEX_OF_STEP = np.array([0, 2, 3, 1], np.uint64)


def _quantise_565(colour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,3) float 0..255 -> (packed 16-bit 5:6:5 values, the colours a decoder expands them to)."""
    top = np.array([31, 63, 31], np.float32)
    bits = np.clip(np.rint(colour * top / 255), 0, top).astype(np.int64)
    packed = bits[:, 0] << 11 | bits[:, 1] << 5 | bits[:, 2]
    expanded = np.stack([bits[:, 0] << 3 | bits[:, 0] >> 2, bits[:, 1] << 2 | bits[:, 1] >> 4,
                         bits[:, 2] << 3 | bits[:, 2] >> 2], axis=1).astype(np.float32)
    return packed, expanded


def _bc1_steps(texels: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest of the four colours from q0 to q1 for each texel: (step k in 0..3, squared error
    per block). The four lie on a line, so the nearest is the one nearest the texel's projection."""
    direction = q1 - q0
    length2 = (direction * direction).sum(axis=1)
    along = ((texels - q0[:, None, :]) * direction[:, None, :]).sum(axis=2) / np.maximum(length2, 1e-6)[:, None]
    steps = np.clip(np.rint(along * 3), 0, 3)
    decoded = q0[:, None, :] + (steps / 3)[:, :, None] * direction[:, None, :]
    return steps, ((texels - decoded) ** 2).sum(axis=(1, 2))


def _principal_axis(centred: np.ndarray) -> np.ndarray:
    """(n,16,3) colours about their block's mean -> (n,3) unit principal axes (power iteration)."""
    r, g, b = centred[..., 0], centred[..., 1], centred[..., 2]
    rr, gg, bb = (r * r).sum(1), (g * g).sum(1), (b * b).sum(1)
    rg, rb, gb = (r * g).sum(1), (r * b).sum(1), (g * b).sum(1)
    x, y, z = np.ones_like(rr), np.ones_like(rr), np.ones_like(rr)
    for _ in range(8):
        x, y, z = rr * x + rg * y + rb * z, rg * x + gg * y + gb * z, rb * x + gb * y + bb * z
        norm = np.maximum(np.sqrt(x * x + y * y + z * z), 1e-12)
        x, y, z = x / norm, y / norm, z / norm
    return np.stack([x, y, z], axis=1)


def _bc1_chunk(texels: np.ndarray) -> np.ndarray:
    """(n,16,3) float32 texels -> (n,8) uint8 BC1 blocks in the 4-colour mode."""
    mean = texels.mean(axis=1)
    centred = texels - mean[:, None, :]
    axis = _principal_axis(centred)
    projection = (centred * axis[:, None, :]).sum(axis=2)
    c0 = mean + projection.max(axis=1)[:, None] * axis
    c1 = mean + projection.min(axis=1)[:, None] * axis
    best = None
    for _ in range(_REFINEMENTS + 1):
        p0, q0 = _quantise_565(np.clip(c0, 0, 255))
        p1, q1 = _quantise_565(np.clip(c1, 0, 255))
        steps, error = _bc1_steps(texels, q0, q1)
        if best is None:
            best = [p0, p1, steps, error]
        else:
            better = error < best[3]
            best = [np.where(better, p0, best[0]), np.where(better, p1, best[1]),
                    np.where(better[:, None], steps, best[2]), np.where(better, error, best[3])]
        fit0, fit1, ok = _least_squares_endpoints(texels, steps / 3)
        c0, c1 = np.where(ok[:, None], fit0, c0), np.where(ok[:, None], fit1, c1)
    p0, p1, steps, _ = best
    indices = _BC1_INDEX_OF_STEP[steps.astype(np.int64)]
    # The 4-colour mode needs c0 > c1 as 16-bit numbers: swap where it is the other way round
    # (indices 0<->1, 2<->3); equal endpoints mean one colour, index 0 everywhere.
    swap = p0 < p1
    p0, p1 = np.where(swap, p1, p0), np.where(swap, p0, p1)
    indices = np.where(swap[:, None], indices ^ np.uint64(1), indices)
    indices = np.where((p0 == p1)[:, None], np.uint64(0), indices).astype(np.uint64)
    packed = (indices << (np.arange(16, dtype=np.uint64) * 2)).sum(axis=1, dtype=np.uint64)
    out = np.empty((len(texels), 8), np.uint8)
    out[:, 0], out[:, 1] = p0 & 0xFF, p0 >> 8
    out[:, 2], out[:, 3] = p1 & 0xFF, p1 >> 8
    out[:, 4:] = ((packed[:, None] >> (np.arange(4, dtype=np.uint64) * 8)) & 0xFF).astype(np.uint8)
    return out


def encode_bc1(rgb: np.ndarray) -> np.ndarray:
    """(H,W,3) uint8 -> (blocks, 8) uint8 BC1 colour blocks in the 4-colour mode (opaque), row-major."""
    rgb = np.asarray(rgb, np.uint8)
    texels = np.stack([_blocks(rgb[..., c])[0] for c in range(3)], axis=2).astype(np.float32)
    return np.concatenate([_bc1_chunk(texels[start:start + _CHUNK])
                           for start in range(0, len(texels), _CHUNK)], axis=0)


def opaque_blocks(alpha: np.ndarray) -> np.ndarray:
    """(H,W) uint8 alpha -> (blocks,) bool: the blocks a DXT1 file shows fully opaque (alpha >= 128)."""
    return (_blocks(np.asarray(alpha, np.uint8))[0] >= 128).all(axis=1)


def encode_bc3(rgba: np.ndarray) -> bytes:
    """(H,W,4) uint8 -> BC3 (DXT5) blocks: each block's BC4 alpha, then its BC1 colour."""
    alpha = np.frombuffer(encode_bc4(rgba[..., 3]), np.uint8).reshape(-1, BLOCK_BYTES)
    return np.concatenate([alpha, encode_bc1(rgba[..., :3])], axis=1).tobytes()

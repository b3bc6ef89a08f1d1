"""EXR files with any channel list, built on the fly for tests (imaging.exr.encode
writes only Y/YA/RGB/RGBA)."""

import struct
import zlib

import numpy as np

from imaging import exr


def float_exr(planes: dict, compression: int = 2) -> bytes:
    """Scanline FLOAT EXR of the given channels (name -> (H, W) values), one line per
    chunk: compression 0 (NONE) or 2 (ZIPS)."""
    names = sorted(planes)  # files list channels by name
    height, width = planes[names[0]].shape
    chlist = b"".join(n.encode() + b"\0" + struct.pack("<iB3xii", 2, 0, 1, 1) for n in names) + b"\0"
    window = struct.pack("<4i", 0, 0, width - 1, height - 1)
    header = exr.MAGIC + struct.pack("<I", 2) + b"".join([
        exr._attribute("channels", "chlist", chlist),
        exr._attribute("compression", "compression", bytes([compression])),
        exr._attribute("dataWindow", "box2i", window),
        exr._attribute("displayWindow", "box2i", window),
        exr._attribute("lineOrder", "lineOrder", b"\0"),
        exr._attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        exr._attribute("screenWindowCenter", "v2f", struct.pack("<2f", 0.0, 0.0)),
        exr._attribute("screenWindowWidth", "float", struct.pack("<f", 1.0)),
    ]) + b"\0"
    chunks = []
    for y in range(height):
        raw = np.concatenate([planes[n][y].astype("<f4") for n in names]).view(np.uint8)
        payload = zlib.compress(exr._apply_zip_filter(raw)) if compression == 2 else raw.tobytes()
        assert compression != 2 or len(payload) < raw.size  # else the decoder reads it as stored raw
        chunks.append(struct.pack("<ii", y, len(payload)) + payload)
    offsets = np.cumsum([len(header) + 8 * height] + [len(c) for c in chunks[:-1]])
    return header + struct.pack(f"<{height}Q", *offsets.tolist()) + b"".join(chunks)


def rgba_and_aovs(n_aovs: int, height: int, width: int) -> dict:
    """Planes for float_exr: R, G, B, A (distinct ramps) and n_aovs extra layers."""
    ramp = np.linspace(-1, 4, height * width, dtype=np.float32).reshape(height, width)
    planes = {c: ramp * (i + 1) for i, c in enumerate("RGBA")}
    planes.update({f"aov{i:03d}.Z": ramp for i in range(n_aovs)})
    return planes

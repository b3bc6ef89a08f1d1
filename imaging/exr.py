"""Minimal OpenEXR codec in numpy: header parsing, scanline decode and encode.

The OpenCV wheel we pin is built without OpenEXR, so EXR is handled here.
Supported: single-part scanline files with NONE, RLE, ZIPS or ZIP compression
and HALF, FLOAT or UINT channels (the common output of texturing tools),
at most MAX_CHANNELS of them.
Tiled, multi-part, deep and PIZ/PXR24/B44/DWA-compressed files raise
ImageFormatError. We always write ZIP-compressed scanline files.

Layout reference: "The OpenEXR File Layout" (openexr.com). All values are
little-endian.
"""

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from imaging.errors import ImageFormatError

MAGIC = b"\x76\x2f\x31\x01"
_TILED, _LONG_NAMES, _DEEP, _MULTIPART = 0x200, 0x400, 0x800, 0x1000

# compression id -> (name, scanlines per chunk); None = not supported here.
_COMPRESSIONS = {
    0: ("NONE", 1), 1: ("RLE", 1), 2: ("ZIPS", 1), 3: ("ZIP", 16),
    4: ("PIZ", None), 5: ("PXR24", None), 6: ("B44", None), 7: ("B44A", None),
    8: ("DWAA", None), 9: ("DWAB", None),
}
_ZIP = 3
# pixel type id -> numpy dtype
_PIXEL_DTYPES = {0: np.dtype("<u4"), 1: np.dtype("<f2"), 2: np.dtype("<f4")}
_HALF, _FLOAT = 1, 2
_HALF_MAX = float(np.finfo(np.float16).max)  # 65504: beyond it float16 rounds to inf
_MAX_HEADER_BYTES = 16 << 20  # a sane header is a few kB; refuse runaway attribute sizes
# RGBA plus a few dozen AOV layers. Every channel is inflated with each chunk,
# used or not, so a header listing thousands of them is a memory bomb.
MAX_CHANNELS = 64


@dataclass(frozen=True)
class ExrChannel:
    name: str
    pixel_type: int  # 0 UINT, 1 HALF, 2 FLOAT
    x_sampling: int
    y_sampling: int


@dataclass(frozen=True)
class ExrHeader:
    width: int
    height: int
    y_min: int  # first scanline's y in file coordinates (dataWindow yMin)
    channels: tuple  # ExrChannel, in file order (sorted by name)
    compression: int
    tiled: bool
    multipart: bool
    deep: bool
    header_end: int  # byte offset of the chunk offset table

    @property
    def picked_channels(self) -> list:
        return pick_channels([c.name for c in self.channels])

    @property
    def bytes_per_pixel(self) -> int:
        """Stored bytes of one pixel, all channels together: what decoding inflates."""
        return sum(_PIXEL_DTYPES[c.pixel_type].itemsize for c in self.channels)


def _read_exact(fp, n: int) -> bytes:
    data = fp.read(n)
    if len(data) != n:
        raise ImageFormatError("truncated EXR header")
    return data


def _read_cstring(fp, limit: int = 256) -> str:
    chars = bytearray()
    while True:
        byte = _read_exact(fp, 1)
        if byte == b"\0":
            return chars.decode("latin-1")
        chars += byte
        if len(chars) > limit:
            raise ImageFormatError("EXR header string too long")


def _parse_chlist(value: bytes) -> tuple:
    channels, pos = [], 0
    while pos < len(value) and value[pos] != 0:
        end = value.find(b"\0", pos)
        if end < 0 or end + 17 > len(value):
            raise ImageFormatError("corrupt EXR channel list")
        name = value[pos:end].decode("latin-1")
        pixel_type, _plinear, x_sampling, y_sampling = struct.unpack_from("<iB3xii", value, end + 1)
        if pixel_type not in _PIXEL_DTYPES:
            raise ImageFormatError(f"unknown EXR pixel type {pixel_type}")
        channels.append(ExrChannel(name, pixel_type, x_sampling, y_sampling))
        if len(channels) > MAX_CHANNELS:
            raise ImageFormatError(f"EXR file has more than {MAX_CHANNELS} channels")
        pos = end + 17
    if not channels:
        raise ImageFormatError("EXR file has no channels")
    return tuple(channels)


def read_header(fp) -> ExrHeader:
    """Parse an EXR header from a binary file object positioned at the magic number.

    Reads only the header bytes (no pixel data), so a huge image can be
    refused cheaply.
    """
    start = fp.tell()
    if _read_exact(fp, 4) != MAGIC:
        raise ImageFormatError("not an EXR file")
    (version,) = struct.unpack("<I", _read_exact(fp, 4))
    if version & 0xFF != 2:
        raise ImageFormatError(f"unsupported EXR version {version & 0xFF}")
    name_limit = 255 if version & _LONG_NAMES else 31
    attrs = {}
    while True:
        name = _read_cstring(fp, name_limit)
        if not name:
            break
        type_name = _read_cstring(fp, name_limit)
        (size,) = struct.unpack("<i", _read_exact(fp, 4))
        if size < 0 or fp.tell() - start + size > _MAX_HEADER_BYTES:
            raise ImageFormatError("corrupt EXR attribute size")
        attrs[name] = (type_name, _read_exact(fp, size))
    try:
        channels = _parse_chlist(attrs["channels"][1])
        x_min, y_min, x_max, y_max = struct.unpack("<4i", attrs["dataWindow"][1])
        compression = attrs["compression"][1][0]
    except (KeyError, struct.error, IndexError) as exc:
        raise ImageFormatError(f"EXR header lacks a required attribute: {exc}") from None
    width, height = x_max - x_min + 1, y_max - y_min + 1
    if width <= 0 or height <= 0:
        raise ImageFormatError("EXR data window is empty")
    return ExrHeader(
        width=width, height=height, y_min=y_min, channels=channels,
        compression=compression, tiled=bool(version & _TILED),
        multipart=bool(version & _MULTIPART), deep=bool(version & _DEEP),
        header_end=fp.tell() - start,
    )


def pick_channels(names: list) -> list:
    """Choose which EXR channels become the (H,W,C) image, in output order.

    R,G,B(,A) -- unprefixed first, else the first layer ("diffuse.R", ...)
    that has all three; else Y(,A) as grey(+alpha); else up to 4 channels in
    file order.
    """
    present = set(names)
    prefixes = [""] + sorted({n.rsplit(".", 1)[0] + "." for n in names if "." in n})
    for prefix in prefixes:
        rgb = [prefix + c for c in "RGB"]
        if present.issuperset(rgb):
            return rgb + ([prefix + "A"] if prefix + "A" in present else [])
    if "Y" in present:
        return ["Y"] + (["A"] if "A" in present else [])
    if len(names) <= 4:
        return list(names)
    raise ImageFormatError(f"cannot map EXR channels {names} to an image")


def _undo_zip_filter(buf: bytes) -> np.ndarray:
    """Reverse the byte predictor and the even/odd byte split applied before zlib."""
    # uint8 arithmetic wraps mod 256, as the predictor does: no wider copies of a big chunk.
    bytes_ = np.frombuffer(buf, np.uint8).copy()
    bytes_[1:] -= 128
    np.cumsum(bytes_, dtype=np.uint8, out=bytes_)
    out = np.empty_like(bytes_)
    half = (len(bytes_) + 1) // 2
    out[0::2], out[1::2] = bytes_[:half], bytes_[half:]
    return out


def _apply_zip_filter(raw: np.ndarray) -> bytes:
    """Even/odd byte split then byte-delta predictor (what OpenEXR does before zlib)."""
    split = np.concatenate([raw[0::2], raw[1::2]]).astype(np.int16)
    split[1:] = (np.diff(split) + 128) & 0xFF
    return split.astype(np.uint8).tobytes()


def _rle_decompress(buf: bytes, expected: int) -> bytes:
    out, pos = bytearray(), 0
    while pos < len(buf) and len(out) < expected:
        count = struct.unpack_from("<b", buf, pos)[0]
        pos += 1
        if count < 0:  # -count literal bytes follow
            out += buf[pos:pos - count]
            pos -= count
        else:  # the next byte repeats count+1 times
            out += buf[pos:pos + 1] * (count + 1)
            pos += 1
    return bytes(out)


def _decompress(payload: bytes, compression: int, expected: int) -> np.ndarray:
    if len(payload) == expected:  # stored raw when compression did not help
        return np.frombuffer(payload, np.uint8)
    if compression == 0:
        raise ImageFormatError("EXR chunk size does not match its scanlines")
    try:
        if compression == 1:
            filtered = _rle_decompress(payload, expected)
        else:
            inflater = zlib.decompressobj()
            filtered = inflater.decompress(payload, expected)  # bounded: no zip bombs
    except (zlib.error, struct.error) as exc:
        raise ImageFormatError(f"corrupt EXR chunk: {exc}") from None
    if len(filtered) != expected:
        raise ImageFormatError("EXR chunk decompressed to the wrong size")
    return _undo_zip_filter(filtered)


def decode(data: bytes) -> np.ndarray:
    """Decode an EXR file to float32 (H, W, C) linear values (not clipped; may be HDR).

    C is 1..4 as chosen by `pick_channels` (grey+alpha comes out as C=2).
    UINT channels are converted to float32 unchanged in value.
    """
    header = read_header(io.BytesIO(data))
    if header.tiled or header.multipart or header.deep:
        raise ImageFormatError("tiled, multi-part and deep EXR files are not supported")
    name, lines_per_chunk = _COMPRESSIONS.get(header.compression, ("unknown", None))
    if lines_per_chunk is None:
        raise ImageFormatError(f"EXR compression {name} is not supported (use ZIP, ZIPS, RLE or NONE)")
    if any(c.x_sampling != 1 or c.y_sampling != 1 for c in header.channels):
        raise ImageFormatError("subsampled EXR channels are not supported")

    width, height = header.width, header.height
    widths = [width * _PIXEL_DTYPES[c.pixel_type].itemsize for c in header.channels]
    line_bytes = sum(widths)
    n_chunks = -(-height // lines_per_chunk)
    table_end = header.header_end + 8 * n_chunks
    if len(data) < table_end:
        raise ImageFormatError("truncated EXR offset table")
    offsets = np.frombuffer(data, "<u8", count=n_chunks, offset=header.header_end)

    wanted = header.picked_channels
    planes = {n: np.empty((height, width), np.float32) for n in wanted}
    filled = np.zeros(height, bool)
    for offset in offsets.tolist():
        if offset + 8 > len(data):
            raise ImageFormatError("truncated EXR file (chunk offset past the end)")
        y, size = struct.unpack_from("<ii", data, offset)
        row = y - header.y_min
        if not 0 <= row < height or size < 0 or offset + 8 + size > len(data):
            raise ImageFormatError("truncated or corrupt EXR chunk")
        rows = min(lines_per_chunk, height - row)
        raw = _decompress(data[offset + 8:offset + 8 + size], header.compression, rows * line_bytes)
        raw = raw.reshape(rows, line_bytes)
        start = 0
        for channel, nbytes in zip(header.channels, widths):
            if channel.name in planes:
                values = raw[:, start:start + nbytes].copy().view(_PIXEL_DTYPES[channel.pixel_type])
                planes[channel.name][row:row + rows] = values
            start += nbytes
        filled[row:row + rows] = True
    if not filled.all():
        raise ImageFormatError("EXR file is missing scanlines")
    return np.stack([planes[n] for n in wanted], axis=-1)


_CHANNEL_NAMES = {1: ["Y"], 2: ["Y", "A"], 3: ["R", "G", "B"], 4: ["R", "G", "B", "A"]}


def _attribute(name: str, type_name: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + type_name.encode() + b"\0" + struct.pack("<i", len(value)) + value


def _clip_to_half(pixels: np.ndarray) -> np.ndarray:
    """Keep bright HDR values finite in half: casting 70000 would silently write inf."""
    if not np.issubdtype(pixels.dtype, np.floating):
        pixels = pixels.astype(np.float32)  # integers overflow half just the same
    if np.isinf(pixels).any():
        raise ValueError("cannot write infinite values to a half-float EXR: clip or fix them first")
    return np.clip(pixels, -_HALF_MAX, _HALF_MAX)  # NaN passes through unchanged


def encode(pixels: np.ndarray, half: bool = False) -> bytes:
    """Encode (H, W, C) or (H, W) float values as a ZIP-compressed scanline EXR.

    C=1 is written as channel Y, 2 as Y+A, 3 as RGB, 4 as RGBA. Values are
    stored as given (linear, not clipped) in float32, or float16 if `half`:
    then finite values beyond +-65504 (the largest half) are clipped to it,
    NaN stays NaN, and infinite input raises ValueError.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in _CHANNEL_NAMES:
        raise ValueError(f"expected (H,W,C) with C in 1..4, got {pixels.shape}")
    if half:
        pixels = _clip_to_half(pixels)
    height, width, n_channels = pixels.shape
    names = _CHANNEL_NAMES[n_channels]
    order = sorted(range(n_channels), key=lambda i: names[i])  # files list channels by name
    dtype = np.dtype("<f2" if half else "<f4")
    pixel_type = _HALF if half else _FLOAT

    chlist = b"".join(
        names[i].encode() + b"\0" + struct.pack("<iB3xii", pixel_type, 0, 1, 1) for i in order
    ) + b"\0"
    window = struct.pack("<4i", 0, 0, width - 1, height - 1)
    header = MAGIC + struct.pack("<I", 2) + b"".join([
        _attribute("channels", "chlist", chlist),
        _attribute("compression", "compression", bytes([_ZIP])),
        _attribute("dataWindow", "box2i", window),
        _attribute("displayWindow", "box2i", window),
        _attribute("lineOrder", "lineOrder", b"\0"),
        _attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        _attribute("screenWindowCenter", "v2f", struct.pack("<2f", 0.0, 0.0)),
        _attribute("screenWindowWidth", "float", struct.pack("<f", 1.0)),
    ]) + b"\0"

    lines_per_chunk = _COMPRESSIONS[_ZIP][1]
    # Per scanline, each channel's row of values, channels in file order.
    planar = np.ascontiguousarray(pixels[:, :, order].astype(dtype).transpose(0, 2, 1))
    chunks = []
    for row in range(0, height, lines_per_chunk):
        raw = planar[row:row + lines_per_chunk].reshape(-1).view(np.uint8)
        packed = zlib.compress(_apply_zip_filter(raw), 6)
        payload = packed if len(packed) < raw.size else raw.tobytes()
        chunks.append(struct.pack("<ii", row, len(payload)) + payload)

    offsets, position = [], len(header) + 8 * len(chunks)
    for chunk in chunks:
        offsets.append(position)
        position += len(chunk)
    return header + struct.pack(f"<{len(offsets)}Q", *offsets) + b"".join(chunks)

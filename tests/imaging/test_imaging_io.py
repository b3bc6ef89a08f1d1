import base64
import io
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage, ImageOps

from imaging import exr
from imaging.color import linear_to_srgb, srgb_to_linear
from imaging.io import (
    ImageFormatError, ImageInfo, ImageTooLargeError, encode_png, from_float32, probe_image,
    read_image, to_float32, write_image,
)
from tests.imaging.exr_files import float_exr, rgba_and_aovs

rng = np.random.default_rng(1234)

# EXR files written by the OpenEXR library (3.5.3) itself, RGBA 3x5 scanline, from
# values = (np.arange(60).reshape(3, 5, 4) - 10) / 4; kept inline (no binary fixtures).
REFERENCE_EXR = {
    "zip_half": (
        "di8xAQIAAABjaGFubmVscwBjaGxpc3QASQAAAEEAAQAAAAAAAAABAAAAAQAAAEIAAQAAAAAAAAABAAAAAQAAAEcA"
        "AQAAAAAAAAABAAAAAQAAAFIAAQAAAAAAAAABAAAAAQAAAABjb21wcmVzc2lvbgBjb21wcmVzc2lvbgABAAAAA2Rh"
        "dGFXaW5kb3cAYm94MmkAEAAAAAAAAAAAAAAABAAAAAIAAABkaXNwbGF5V2luZG93AGJveDJpABAAAAAAAAAAAAAA"
        "AAQAAAACAAAAbGluZU9yZGVyAGxpbmVPcmRlcgABAAAAAHBpeGVsQXNwZWN0UmF0aW8AZmxvYXQABAAAAAAAgD9z"
        "Y3JlZW5XaW5kb3dDZW50ZXIAdjJmAAgAAAAAAAAAAAAAAHNjcmVlbldpbmRvd1dpZHRoAGZsb2F0AAQAAAAAAIA/"
        "dHlwZQBzdHJpbmcADQAAAHNjYW5saW5laW1hZ2UAcAEAAAAAAAAAAAAAWQAAAHhePcnRCYAwDATQww/n6CgdxS2E"
        "1tRLrYI7+eGHU/llImLIPQ4OJAHj823R8BA8aW9LgN3gRK8hGnO+9wXTdTTI2K+dJGytqmp20t8qlVocsbAolQ/c"
        "GC3K"
    ),
    "zips_float": (
        "di8xAQIAAABjaGFubmVscwBjaGxpc3QASQAAAEEAAgAAAAAAAAABAAAAAQAAAEIAAgAAAAAAAAABAAAAAQAAAEcA"
        "AgAAAAAAAAABAAAAAQAAAFIAAgAAAAAAAAABAAAAAQAAAABjb21wcmVzc2lvbgBjb21wcmVzc2lvbgABAAAAAmRh"
        "dGFXaW5kb3cAYm94MmkAEAAAAAAAAAAAAAAABAAAAAIAAABkaXNwbGF5V2luZG93AGJveDJpABAAAAAAAAAAAAAA"
        "AAQAAAACAAAAbGluZU9yZGVyAGxpbmVPcmRlcgABAAAAAHBpeGVsQXNwZWN0UmF0aW8AZmxvYXQABAAAAAAAgD9z"
        "Y3JlZW5XaW5kb3dDZW50ZXIAdjJmAAgAAAAAAAAAAAAAAHNjcmVlbldpbmRvd1dpZHRoAGZsb2F0AAQAAAAAAIA/"
        "dHlwZQBzdHJpbmcADQAAAHNjYW5saW5laW1hZ2UAgAEAAAAAAADQAQAAAAAAAA8CAAAAAAAAAAAAAEgAAAB4XmNI"
        "WHDAgYFB4cGEgoYGBgYInlCg8ICB4YBDwoIFCQ4HGoDA4YD9QfuD+5z2Ox5wALEbGmAsu0P7Hfc7QuT3O+4HACmL"
        "I8ABAAAANwAAAHheY7hgwPFD44bHjowZBxwYGBQeOBxIWLAh4IOAxAuLExErFiQ8UBD4YHAhYMMBB6IgAO0jJsEC"
        "AAAAOgAAAHheY2ipmZKzJGaLzxGbhoYJBQsSNgQccKjo6CmZk7ImZI9LwYSOihkZKyJ2eBy0x4QHHDBYADQIJ8I="
    ),
    "rle_float": (
        "di8xAQIAAABjaGFubmVscwBjaGxpc3QASQAAAEEAAgAAAAAAAAABAAAAAQAAAEIAAgAAAAAAAAABAAAAAQAAAEcA"
        "AgAAAAAAAAABAAAAAQAAAFIAAgAAAAAAAAABAAAAAQAAAABjb21wcmVzc2lvbgBjb21wcmVzc2lvbgABAAAAAWRh"
        "dGFXaW5kb3cAYm94MmkAEAAAAAAAAAAAAAAABAAAAAIAAABkaXNwbGF5V2luZG93AGJveDJpABAAAAAAAAAAAAAA"
        "AAQAAAACAAAAbGluZU9yZGVyAGxpbmVPcmRlcgABAAAAAHBpeGVsQXNwZWN0UmF0aW8AZmxvYXQABAAAAAAAgD9z"
        "Y3JlZW5XaW5kb3dDZW50ZXIAdjJmAAgAAAAAAAAAAAAAAHNjcmVlbldpbmRvd1dpZHRoAGZsb2F0AAQAAAAAAIA/"
        "dHlwZQBzdHJpbmcADQAAAHNjYW5saW5laW1hZ2UAgAEAAAAAAADYAQAAAAAAADACAAAAAAAAAAAAAFAAAAAAAOC/"
        "AABAvwAAgD4AAKA/AAAQQAAAAMAAAIC/AAAAAAAAgD8AAABAAAAQwAAAoL8AAIC+AABAPwAA4D8AACDAAADAvwAA"
        "AL8AAAA/AADAPwEAAABQAAAAAABQQAAAiEAAAKhAAADIQAAA6EAAAEBAAACAQAAAoEAAAMBAAADgQAAAMEAAAHBA"
        "AACYQAAAuEAAANhAAAAgQAAAYEAAAJBAAACwQAAA0EACAAAAUAAAAAAABEEAABRBAAAkQQAANEEAAERBAAAAQQAA"
        "EEEAACBBAAAwQQAAQEEAAPhAAAAMQQAAHEEAACxBAAA8QQAA8EAAAAhBAAAYQQAAKEEAADhB"
    ),
}


def _random_pixels(dtype, shape):
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


def _pil_bytes(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# ------------------------------------------------------------------ PNG


@pytest.mark.parametrize("dtype,bit_depth", [(np.uint8, "8"), (np.uint16, "16")])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip_is_exact(tmp_path, dtype, bit_depth, channels):
    pixels = _random_pixels(dtype, (9, 13, channels))
    path = tmp_path / "t.png"
    write_image(path, pixels)
    image = read_image(path)
    assert image.pixels.dtype == dtype
    assert image.pixels.shape == (9, 13, channels)
    assert np.array_equal(image.pixels, pixels)
    assert (image.bit_depth, image.colour_space, image.format) == (bit_depth, "srgb", "png")
    assert (image.height, image.width, image.channels) == (9, 13, channels)
    info = probe_image(path)
    assert (info.format, info.width, info.height, info.channels, info.bit_depth) == ("png", 13, 9, channels, bit_depth)


def test_sources_bytes_and_file_objects():
    pixels = _random_pixels(np.uint16, (5, 6, 3))
    data = encode_png(pixels)
    assert np.array_equal(read_image(data).pixels, pixels)
    assert np.array_equal(read_image(io.BytesIO(data)).pixels, pixels)
    stream = io.BytesIO(b"junk" + data)
    stream.seek(4)
    assert probe_image(stream).width == 6
    assert stream.tell() == 4  # probing restores the position


def test_channel_order_matches_an_independent_encoder():
    # Pillow writes RGB(A) directly, so a BGR mix-up would show here.
    pixels = np.zeros((2, 3, 4), np.uint8)
    pixels[..., 0] = 200  # red
    pixels[..., 2] = 30  # blue
    pixels[..., 3] = 99  # alpha
    image = read_image(_pil_bytes(PILImage.fromarray(pixels, "RGBA"), "PNG"))
    assert np.array_equal(image.pixels, pixels)
    grey_alpha = pixels[..., [0, 3]]
    image = read_image(_pil_bytes(PILImage.fromarray(grey_alpha, "LA"), "PNG"))
    assert image.pixels.shape == (2, 3, 2)
    assert np.array_equal(image.pixels, grey_alpha)


def test_sixteen_bit_rgb_keeps_full_precision():
    bgr = _random_pixels(np.uint16, (4, 5, 3))
    ok, png = cv2.imencode(".png", bgr)
    image = read_image(png.tobytes())
    assert image.bit_depth == "16"
    assert np.array_equal(image.pixels, bgr[..., ::-1])


@pytest.mark.parametrize("transparency", [None, 3])
def test_palette_png_probe_agrees_with_decode(transparency):
    grey = PILImage.fromarray(rng.integers(0, 255, (6, 7), dtype=np.uint8), "L").convert("P")
    options = {} if transparency is None else {"transparency": transparency}
    data = _pil_bytes(grey, "PNG", **options)
    image, info = read_image(data), probe_image(data)
    assert image.channels == info.channels == (3 if transparency is None else 4)


def _grey_png_with_trns(levels, bits, transparent):
    """Grey PNG of `levels` ((H, W) ints below 2**bits) whose tRNS makes `transparent` see-through."""
    height, width = levels.shape
    if bits == 16:
        rows = levels.astype(">u2").reshape(height, -1).view(np.uint8)
    else:
        rows = np.packbits(np.unpackbits(levels.astype(np.uint8)[..., None], axis=2)[..., 8 - bits:]
                           .reshape(height, -1), axis=1)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, 0, 0, 0, 0))
            + _png_chunk(b"tRNS", struct.pack(">H", transparent))
            + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 16])
def test_grey_png_transparency_becomes_alpha(bits):
    levels = rng.integers(0, 2**bits, (5, 11))
    transparent = int(levels[0, 0])
    data = _grey_png_with_trns(levels, bits, transparent)
    image, info = read_image(data), probe_image(data)
    assert info.channels == image.channels == 2
    assert info.bit_depth == image.bit_depth == ("16" if bits == 16 else "8")
    top = 65535 if bits == 16 else 255
    scale = 1 if bits == 16 else 255 // (2**bits - 1)  # libpng widens low depths to 8 bits
    assert np.array_equal(image.pixels[..., 0], levels * scale)
    assert np.array_equal(image.pixels[..., 1], np.where(levels == transparent, 0, top))
    if bits == 8:  # Pillow agrees
        assert np.array_equal(image.pixels, np.asarray(PILImage.open(io.BytesIO(data)).convert("LA")))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_rgb_png_transparency_probe_agrees_with_decode(dtype):
    rgb = rng.integers(0, 2, (5, 6, 3)).astype(dtype)
    png = cv2.imencode(".png", rgb[..., ::-1])[1].tobytes()
    data = png[:33] + _png_chunk(b"tRNS", struct.pack(">3H", 1, 1, 1)) + png[33:]  # right after IHDR
    image, info = read_image(data), probe_image(data)
    assert info.channels == image.channels == 4
    assert np.array_equal(image.pixels[..., :3], rgb)
    assert np.array_equal(image.pixels[..., 3] == 0, (rgb == 1).all(axis=2))


def test_float_pixels_are_quantised_when_written_as_png(tmp_path):
    values = np.array([[[0.0], [0.5], [1.0], [1.7]]], np.float32)
    write_image(tmp_path / "f.png", values, bit_depth="16")
    assert read_image(tmp_path / "f.png").pixels[0, :, 0].tolist() == [0, 32768, 65535, 65535]
    write_image(tmp_path / "g.png", values)
    assert read_image(tmp_path / "g.png").pixels[0, :, 0].tolist() == [0, 128, 255, 255]


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write_image(tmp_path / "x.bmp", np.zeros((2, 2, 3), np.uint8))


# ------------------------------------------------------------------ EXR


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_exr_float_round_trip_is_exact(tmp_path, channels):
    values = (rng.standard_normal((11, 7, channels)) * 100).astype(np.float32)  # HDR and negative
    write_image(tmp_path / "t.exr", values)
    image = read_image(tmp_path / "t.exr")
    assert (image.bit_depth, image.colour_space, image.format) == ("32f", "linear", "exr")
    assert image.pixels.dtype == np.float32
    assert np.array_equal(image.pixels, values)
    info = probe_image(tmp_path / "t.exr")
    assert (info.format, info.width, info.height, info.channels) == ("exr", 7, 11, channels)


def test_exr_half_round_trip_rounds_to_float16(tmp_path):
    values = rng.random((40, 3, 3), dtype=np.float32) * 8  # 40 rows: several 16-line chunks
    write_image(tmp_path / "h.exr", values, bit_depth="16f")
    assert np.array_equal(read_image(tmp_path / "h.exr").pixels, values.astype(np.float16).astype(np.float32))
    write_image(tmp_path / "f.exr", values)
    assert (tmp_path / "h.exr").stat().st_size < (tmp_path / "f.exr").stat().st_size


def test_exr_half_clips_to_its_range_instead_of_writing_infinity(tmp_path):
    values = np.array([[[70000, -1e6, 65504], [1.5, np.nan, -0.25]]], np.float32)
    write_image(tmp_path / "h.exr", values, bit_depth="16f")
    got = read_image(tmp_path / "h.exr").pixels
    assert got[0, 0].tolist() == [65504, -65504, 65504]
    assert got[0, 1, 0] == 1.5 and np.isnan(got[0, 1, 1]) and got[0, 1, 2] == -0.25
    write_image(tmp_path / "f.exr", values)  # float32 holds them as they are
    assert read_image(tmp_path / "f.exr").pixels[0, 0].tolist() == [70000, -1e6, 65504]
    with pytest.raises(ValueError, match="infinite"):
        write_image(tmp_path / "i.exr", np.array([[[np.inf, 0, 0]]], np.float32), bit_depth="16f")


@pytest.mark.parametrize("name", sorted(REFERENCE_EXR))
def test_exr_files_from_the_reference_library_decode(name):
    expected = (np.arange(60, dtype=np.float32).reshape(3, 5, 4) - 10) / 4
    image = read_image(base64.b64decode(REFERENCE_EXR[name]))
    assert np.array_equal(image.pixels, expected)


def test_exr_written_by_us_is_smaller_than_raw_for_smooth_data(tmp_path):
    ramp = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (64, 1))[..., None]
    write_image(tmp_path / "ramp.exr", ramp)
    assert (tmp_path / "ramp.exr").stat().st_size < ramp.nbytes / 2  # ZIP compression is on


# ---------------------------------------------------- headers and limits


def test_huge_png_header_is_refused_before_decoding():
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + _png_chunk(b"IEND", b""))
    info = probe_image(bomb)
    assert (info.width, info.height, info.channels) == (100_000, 100_000, 3)
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError):
        read_image(bomb, max_pixels=50_000_000)
    assert time.perf_counter() - started < 1.0


def test_huge_exr_header_is_refused_before_decoding(tmp_path):
    write_image(tmp_path / "small.exr", np.zeros((2, 2, 3), np.float32))
    data = bytearray((tmp_path / "small.exr").read_bytes())
    window = struct.pack("<4i", 0, 0, 1, 1)
    data[data.index(window):data.index(window) + 16] = struct.pack("<4i", 0, 0, 199_999, 99_999)
    assert (probe_image(bytes(data)).width, probe_image(bytes(data)).height) == (200_000, 100_000)
    with pytest.raises(ImageTooLargeError):
        read_image(bytes(data), max_pixels=1 << 24)


def test_exr_channel_count_is_capped():
    planes = rgba_and_aovs(exr.MAX_CHANNELS - 4, 3, 5)  # RGBA + AOVs: exactly at the cap
    image = read_image(float_exr(planes, compression=0))
    assert np.array_equal(image.pixels, np.stack([planes[c] for c in "RGBA"], -1))
    planes["aov_extra.Z"] = planes["R"]
    for data in (float_exr(planes, compression=0), float_exr(planes)):
        with pytest.raises(ImageFormatError, match=f"more than {exr.MAX_CHANNELS} channels"):
            probe_image(data)
        with pytest.raises(ImageFormatError, match=f"more than {exr.MAX_CHANNELS} channels"):
            read_image(data)


def test_exr_stored_bytes_count_against_the_pixel_limit():
    # 32x32 = 1024 pixels, well under max_pixels; but 48 FLOAT channels store 192 bytes a
    # pixel, more than max_pixels RGBA float pixels (16 bytes each) would.
    data = float_exr(rgba_and_aovs(44, 32, 32))
    assert read_image(data, max_pixels=1 << 20).pixels.shape == (32, 32, 4)
    for whole_or_cut in (data, data[:-100]):  # a truncated body does not matter: refused from the header
        with pytest.raises(ImageTooLargeError, match="48 channels"):
            read_image(whole_or_cut, max_pixels=4096)
    read_image(float_exr(rgba_and_aovs(0, 32, 32)), max_pixels=1024)  # plain RGBA at the limit is fine


def test_exr_decode_memory_stays_near_the_chunk_size():
    # One ZIPS chunk of 8192 pixels x 40 FLOAT channels is 1.3 MB once inflated: undoing the
    # predictor must not make wide copies of it, and unused channels are not kept.
    planes = rgba_and_aovs(36, 1, 8192)
    data = float_exr(planes)
    chunk_bytes = 8192 * 40 * 4
    tracemalloc.start()
    try:
        pixels = read_image(data).pixels
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(pixels, np.stack([planes[c] for c in "RGBA"], -1))
    assert peak < 5 * chunk_bytes, f"peak {peak} bytes for a {chunk_bytes}-byte chunk"  # was 18x


@pytest.mark.parametrize("fmt, max_side", [("TIFF", 1 << 20), ("PNG", 1_000_000)])
def test_sides_longer_than_the_decoder_accepts_are_refused(fmt, max_side):
    # 1 pixel high, so far under any pixel limit; OpenCV (TIFF) and libpng (PNG) refuse the width.
    at_limit = _pil_bytes(PILImage.fromarray(np.full((1, max_side), 9, np.uint8)), fmt)
    assert read_image(at_limit).pixels.shape == (1, max_side, 1)
    over = _pil_bytes(PILImage.fromarray(np.full((1, max_side + 1), 9, np.uint8)), fmt)
    assert probe_image(over).width == max_side + 1
    with pytest.raises(ImageTooLargeError, match=f"at most {max_side} pixels"):
        read_image(over, max_pixels=1 << 26)


def _tiff_with_directory_first(pixels, extra_samples=2):
    """Minimal uncompressed little-endian TIFF whose directory precedes the pixels.

    pixels: (H, W, C) uint8 or uint16; C=1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    extra_samples: for alpha, 2 unassociated (straight) or 1 associated (premultiplied).
    """
    height, width, samples = pixels.shape
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8 * pixels.itemsize), (259, 3, 1, 1),
        (262, 3, 1, 2 if samples >= 3 else 1), (273, 4, 1, 0), (277, 3, 1, samples),
        (278, 4, 1, height), (279, 4, 1, pixels.nbytes),
    ]
    if samples in (2, 4):
        entries.append((338, 3, 1, extra_samples))  # ExtraSamples
    directory_size = 2 + 12 * len(entries) + 4
    pixel_offset = 8 + directory_size
    body = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = pixel_offset if tag == 273 else value
        body += struct.pack("<HHI", tag, kind, count) + struct.pack("<Hxx" if kind == 3 else "<I", value)
    samples_le = pixels.astype(pixels.dtype.newbyteorder("<"))
    return b"II*\0" + struct.pack("<I", 8) + body + struct.pack("<I", 0) + samples_le.tobytes()


class _CountingReader(io.BytesIO):
    """Records how far into the stream anything was read."""

    def __init__(self, data):
        super().__init__(data)
        self.furthest = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return chunk


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF"])
def test_probe_reads_only_the_header(fmt):
    noise = PILImage.fromarray(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8))
    data = _pil_bytes(noise, fmt)
    if fmt == "TIFF":  # Pillow puts the TIFF directory after the pixels: write one that leads
        data = _tiff_with_directory_first(np.asarray(noise))
    reader = _CountingReader(data)
    info = probe_image(reader)
    assert (info.width, info.height, info.channels, info.bit_depth) == (300, 300, 3, "8")
    assert reader.furthest < len(data) / 10


def test_exr_probe_reads_only_the_header(tmp_path):
    write_image(tmp_path / "n.exr", rng.random((200, 200, 3), dtype=np.float32))
    data = (tmp_path / "n.exr").read_bytes()
    reader = _CountingReader(data)
    assert probe_image(reader).width == 200
    assert reader.furthest < 1000 < len(data)


# ------------------------------------------------------ corrupt inputs


def _cut_points(data):
    return [len(data) // 4, len(data) // 2, len(data) - 20, len(data) - 3]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_files_raise(fmt):
    noise = PILImage.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    data = _pil_bytes(noise, fmt)
    read_image(data)  # the whole file is fine
    for cut in _cut_points(data):
        with pytest.raises(ImageFormatError):
            read_image(data[:cut])


@pytest.mark.filterwarnings("ignore:.*:UserWarning")  # Pillow warns while parsing the cut TIFF
def test_truncated_tiff_and_exr_raise(tmp_path):
    ok, tiff = cv2.imencode(".tiff", rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    write_image(tmp_path / "n.exr", rng.random((64, 64, 3), dtype=np.float32))
    for data in (tiff.tobytes(), (tmp_path / "n.exr").read_bytes()):
        read_image(data)
        for cut in _cut_points(data):
            with pytest.raises(ImageFormatError):
                read_image(data[:cut])


@pytest.mark.parametrize("data", [b"", b"hello, this is not an image\n" * 10, b"\x89PNG\r\n\x1a\n", b"GIF89a" + bytes(40)])
def test_non_images_raise(tmp_path, data):
    (tmp_path / "x.png").write_bytes(data)
    with pytest.raises(ImageFormatError):
        read_image(tmp_path / "x.png")
    with pytest.raises(ImageFormatError):
        probe_image(data)


def test_corrupt_png_crc_raises():
    data = bytearray(encode_png(_random_pixels(np.uint8, (16, 16, 3))))
    data[-20] ^= 0xFF  # a byte inside IDAT
    with pytest.raises(ImageFormatError):
        read_image(bytes(data))


@pytest.mark.filterwarnings("ignore:.*:UserWarning")  # Pillow warns while parsing the broken tags
@pytest.mark.parametrize("tag, field, value", [
    (262, 4, 8),  # PhotometricInterpretation: count 1 -> 8 (the value no longer fits inline)
    (257, 2, 1),  # ImageLength: type LONG -> BYTE
])
def test_malformed_tiff_tags_raise_format_errors(tag, field, value):
    data = bytearray(_pil_bytes(PILImage.fromarray(np.zeros((32, 32, 3), np.uint8)), "TIFF"))
    (directory,) = struct.unpack_from("<I", data, 4)
    entries = [directory + 2 + 12 * i for i in range(struct.unpack_from("<H", data, directory)[0])]
    (entry,) = [e for e in entries if struct.unpack_from("<H", data, e)[0] == tag]
    data[entry + field] = value  # field: 2 type, 4 count (low byte)
    with pytest.raises(ImageFormatError):
        read_image(bytes(data))


# ------------------------------------------------------ other formats


def test_sixteen_bit_and_float_tiff():
    sixteen = _random_pixels(np.uint16, (6, 5, 3))
    image = read_image(cv2.imencode(".tiff", sixteen)[1].tobytes())
    assert (image.format, image.bit_depth, image.colour_space) == ("tiff", "16", "srgb")
    assert np.array_equal(image.pixels, sixteen[..., ::-1])
    floats = rng.random((6, 5, 3), dtype=np.float32) * 3
    data = cv2.imencode(".tiff", floats)[1].tobytes()
    image = read_image(data)
    assert (image.bit_depth, image.colour_space) == ("32f", "linear")
    assert np.array_equal(image.pixels, floats[..., ::-1])
    assert probe_image(data).bit_depth == "32f"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_grey_alpha_tiff_keeps_its_alpha(orientation):
    pixels = _random_pixels(np.uint8, (6, 10, 2))
    exif = PILImage.Exif()
    exif[0x0112] = orientation

    def upright(plane):  # what OpenCV makes of a grey TIFF with the same Orientation
        return read_image(_pil_bytes(PILImage.fromarray(plane), "TIFF", exif=exif)).pixels[..., 0]

    expected = np.stack([upright(pixels[..., 0]), upright(pixels[..., 1])], -1)
    for compression in (None, "tiff_adobe_deflate"):
        data = _pil_bytes(PILImage.fromarray(pixels, "LA"), "TIFF", exif=exif, compression=compression)
        image = read_image(data)
        assert probe_image(data).channels == image.channels == 2
        assert image.bit_depth == "8" and np.array_equal(image.pixels, expected)
        assert np.array_equal(read_image(data, apply_exif_orientation=False).pixels, pixels)
    assert np.array_equal(read_image(_tiff_with_directory_first(pixels)).pixels, pixels)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_sixteen_bit_and_float_grey_alpha_tiffs_keep_their_alpha(orientation):
    import tifffile

    pixels = _random_pixels(np.uint16, (6, 10, 2))
    upright = read_image(_tiff_with_directory_first(pixels)).pixels
    assert upright.dtype == np.uint16 and np.array_equal(upright, pixels)
    # What OpenCV makes of a grey 16-bit TIFF with the same Orientation.
    expected = np.stack([read_image(_pil_bytes(PILImage.fromarray(pixels[..., c]), "TIFF",
                                               exif=_orientation_exif(orientation))).pixels[..., 0]
                         for c in (0, 1)], -1)
    for compression, planes in ((None, "contig"), ("zlib", "contig"), ("zlib", "separate")):
        stored = pixels if planes == "contig" else np.moveaxis(pixels, -1, 0)
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, stored, photometric="minisblack", planarconfig=planes, compression=compression,
                         extrasamples=["unassalpha"], extratags=[(274, 3, 1, orientation, False)])
        image = read_image(buffer.getvalue())
        assert (image.bit_depth, image.channels) == ("16", 2)
        assert np.array_equal(image.pixels, expected), (compression, planes)
        assert np.array_equal(read_image(buffer.getvalue(), apply_exif_orientation=False).pixels, pixels)
    floats = pixels.astype(np.float32) / 65535
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, floats, photometric="minisblack", extrasamples=["unassalpha"])
    image = read_image(buffer.getvalue())
    assert (image.bit_depth, image.colour_space) == ("32f", "linear") and np.array_equal(image.pixels, floats)


def test_a_grey_alpha_tiff_compression_without_a_decoder_is_refused_clearly():
    data = bytearray(_tiff_with_directory_first(_random_pixels(np.uint16, (6, 10, 2))))
    compression_entry = data.index(struct.pack("<HHI", 259, 3, 1))
    data[compression_entry + 8:compression_entry + 10] = struct.pack("<H", 5)  # LZW
    with pytest.raises(ImageFormatError, match="grey\\+alpha TIFF with LZW compression is not supported"):
        read_image(bytes(data))


def _orientation_exif(orientation):
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_straight_alpha_rgba_tiff_is_not_premultiplied(orientation):
    pixels = _random_pixels(np.uint8, (6, 10, 4))
    pixels[..., 3] = 127
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    # What OpenCV makes of the colour alone with the same Orientation.
    upright = read_image(_pil_bytes(PILImage.fromarray(pixels[..., :3]), "TIFF", exif=exif)).pixels
    for compression in (None, "tiff_adobe_deflate"):
        # Pillow writes RGBA with ExtraSamples 2 (unassociated), as tifffile's "UNASSALPHA" does.
        data = _pil_bytes(PILImage.fromarray(pixels, "RGBA"), "TIFF", exif=exif, compression=compression)
        image = read_image(data)
        assert probe_image(data).channels == image.channels == 4 and image.bit_depth == "8"
        assert np.array_equal(image.pixels[..., :3], upright)
        assert (image.pixels[..., 3] == 127).all()
        assert np.array_equal(read_image(data, apply_exif_orientation=False).pixels, pixels)
    assert np.array_equal(read_image(_tiff_with_directory_first(pixels)).pixels, pixels)
    sixteen = _random_pixels(np.uint16, (6, 10, 4))  # OpenCV reads these directly, as stored
    assert np.array_equal(read_image(_tiff_with_directory_first(sixteen)).pixels, sixteen)


def test_associated_alpha_rgba_tiff_comes_back_as_stored():
    pixels = _random_pixels(np.uint8, (6, 10, 4))
    pixels[..., :3] = pixels[..., :3] * (pixels[..., 3:].astype(int) + 1) // 256  # valid premultiplied
    image = read_image(_tiff_with_directory_first(pixels, extra_samples=1))
    assert np.array_equal(image.pixels, pixels)


def test_lossless_webp_with_alpha():
    pixels = _random_pixels(np.uint8, (8, 9, 4))
    image = read_image(_pil_bytes(PILImage.fromarray(pixels, "RGBA"), "WEBP", lossless=True, exact=True))
    assert image.format == "webp"
    assert np.array_equal(image.pixels, pixels)


def _asymmetric_rgb(height=6, width=10):
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 3] = (255, 0, 0)  # red block in the top-left corner
    pixels[height // 2:, :, 2] = 255  # bottom half blue
    return pixels


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(orientation):
    stored = PILImage.fromarray(_asymmetric_rgb())
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    data = _pil_bytes(stored, "TIFF", exif=exif)  # lossless, so pixels compare exactly
    expected = np.asarray(ImageOps.exif_transpose(PILImage.open(io.BytesIO(data))))
    image = read_image(data)
    assert np.array_equal(image.pixels, expected)
    assert image.exif["Orientation"] == 1
    unrotated = read_image(data, apply_exif_orientation=False)
    assert np.array_equal(unrotated.pixels, _asymmetric_rgb())
    assert unrotated.exif["Orientation"] == orientation


def test_jpeg_orientation_6_and_focal_lengths():
    exif = PILImage.Exif()
    exif[0x0112] = 6  # stored image must be rotated 90 degrees clockwise
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x920A] = 4.25  # FocalLength (mm)
    exif_ifd[0xA405] = 28  # FocalLengthIn35mmFilm
    data = _pil_bytes(PILImage.fromarray(_asymmetric_rgb(40, 60)), "JPEG", exif=exif, quality=95)
    image = read_image(data)
    assert image.pixels.shape == (60, 40, 3)
    # After a clockwise turn the red top-left block sits in the top-right corner.
    assert image.pixels[5, 35, 0] > 200 and image.pixels[5, 35, 2] < 60
    assert image.pixels[5, 5, 2] > 200  # the blue bottom half is now on the left
    assert image.exif["FocalLength"] == pytest.approx(4.25)
    assert isinstance(image.exif["FocalLength"], float)
    assert image.exif["FocalLengthIn35mmFilm"] == 28
    assert image.format == "jpeg" and image.bit_depth == "8"


def test_exif_is_empty_without_metadata():
    assert read_image(encode_png(np.zeros((2, 2, 3), np.uint8))).exif == {}


# ------------------------------------------------------ value conversions


def test_integer_float_round_trips_are_exact():
    for dtype, depth in ((np.uint8, "8"), (np.uint16, "16")):
        every_value = np.arange(np.iinfo(dtype).max + 1, dtype=np.int64).astype(dtype)
        floats = to_float32(every_value)
        assert floats.dtype == np.float32 and floats.min() == 0.0 and floats.max() == 1.0
        assert np.array_equal(from_float32(floats, depth), every_value)


def test_from_float32_clips_and_rounds():
    assert from_float32(np.array([-1.0, 0.4 / 255, 0.6 / 255, 2.0]), "8").tolist() == [0, 0, 1, 255]
    hdr = np.array([3.5], np.float32)
    assert from_float32(hdr, "32f").tolist() == [3.5]
    assert to_float32(hdr).dtype == np.float32 and to_float32(hdr).tolist() == [3.5]  # no clipping
    with pytest.raises(ValueError):
        from_float32(hdr, "12")


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("options", [{"lossless": True}, {"quality": 80}])
def test_webp_probe_agrees_with_decode(mode, options):
    pixels = rng.integers(0, 255, (37, 53, len(mode)), dtype=np.uint8)
    data = _pil_bytes(PILImage.fromarray(pixels, mode), "WEBP", **options)
    info, image = probe_image(data), read_image(data)
    assert (info.height, info.width, info.channels) == image.pixels.shape


def test_io_and_preview_do_not_import_torch():
    import subprocess
    import sys

    code = "import sys, imaging.io, imaging.preview; print('torch' in sys.modules)"
    repo_root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root)
    assert result.stdout.strip() == "False"


def test_png_exif_is_read_but_not_used_to_rotate():
    exif = PILImage.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0x920A] = 35.0  # FocalLength
    data = _pil_bytes(PILImage.fromarray(_asymmetric_rgb()), "PNG", exif=exif)
    image = read_image(data)
    assert np.array_equal(image.pixels, _asymmetric_rgb())
    assert image.exif["FocalLength"] == 35.0 and image.exif["Orientation"] == 6


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_webp_and_sixteen_bit_tiff_orientation(orientation):
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    webp = _pil_bytes(PILImage.fromarray(_asymmetric_rgb()), "WEBP", exif=exif, lossless=True, exact=True)
    expected = np.asarray(ImageOps.exif_transpose(PILImage.open(io.BytesIO(webp))))
    assert np.array_equal(read_image(webp).pixels, expected)
    grey16 = (np.arange(60, dtype=np.uint16).reshape(6, 10) * 1000)
    tiff = _pil_bytes(PILImage.fromarray(grey16), "TIFF", exif=exif)
    image = read_image(tiff)
    assert image.bit_depth == "16"
    turns = {3: 2, 6: -1, 8: 1}[orientation]  # counter-clockwise quarter turns
    assert np.array_equal(image.pixels[..., 0], np.rot90(grey16, turns))
    assert np.array_equal(read_image(tiff, apply_exif_orientation=False).pixels[..., 0], grey16)


def test_jpeg_roundtrip_keeps_channel_order_and_loses_more_at_low_quality():
    from imaging.io import jpeg_roundtrip

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64]
    pixels = np.stack([xx * 4, yy * 4, np.full_like(xx, 40)], -1).astype(np.uint8)
    pixels[20:40, 20:40] = (230, 30, 30)  # a red square: swapped channels would turn it blue
    noisy = np.clip(pixels + rng.normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)
    fine, coarse = jpeg_roundtrip(noisy, 95), jpeg_roundtrip(noisy, 20)
    assert fine.dtype == np.uint8 and fine.shape == noisy.shape
    assert fine[30, 30, 0] > 180 and fine[30, 30, 2] < 80
    err = lambda out: float(np.abs(out.astype(float) - noisy).mean())
    assert 0 < err(fine) < err(coarse)
    with pytest.raises(ValueError, match="uint8"):
        jpeg_roundtrip(noisy.astype(np.float32), 90)


def _smooth_rgb(height=48, width=64):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([128 + 90 * np.sin(x / 9), 128 + 90 * np.cos(y / 7), 128 + 60 * np.sin((x + y) / 11)],
                    -1).round().astype(np.uint8)


def test_heic_photos_are_read_upright_with_their_exif():
    from tests.images import heic_bytes

    pixels = _smooth_rgb()
    plain = heic_bytes(pixels)
    assert probe_image(plain) == ImageInfo("heic", 64, 48, 3, "8")
    image = read_image(plain)
    assert (image.format, image.bit_depth, image.colour_space, image.colour_profile) == ("heic", "8", "srgb", None)
    error = image.pixels.astype(float) - pixels
    assert 10 * np.log10(255**2 / (error**2).mean()) > 35  # lossy, but close
    # A phone held upright: the file stores the sensor's landscape pixels and a rotation.
    exif = PILImage.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0xA405] = 26  # FocalLengthIn35mmFilm
    turned = read_image(heic_bytes(pixels, exif=exif))
    assert turned.pixels.shape == (64, 48, 3) and turned.exif["Orientation"] == 1
    assert turned.exif["FocalLengthIn35mmFilm"] == 26
    assert np.abs(turned.pixels.astype(float) - np.rot90(pixels, -1)).mean() < 3


def test_heic_in_display_p3_is_converted_and_bad_heic_files_are_refused():
    from tests.images import heic_bytes

    pixels = _smooth_rgb()
    p3 = {"color_primaries": 12, "transfer_characteristics": 13, "matrix_coefficients": 6, "full_range_flag": 1}
    converted = read_image(heic_bytes(pixels, nclx=p3))
    assert converted.colour_profile == {"name": "Display P3 (nclx)", "converted": True, "reason": None}
    as_srgb = read_image(heic_bytes(pixels)).pixels.astype(np.float32) / 255
    linear = np.clip(np.asarray(srgb_to_linear(as_srgb)) @ np.array(
        [[1.2249402, -0.2249402, 0.0], [-0.042057, 1.042057, 0.0], [-0.0196376, -0.078636, 1.0982736]]).T, 0, 1)
    expected = np.asarray(linear_to_srgb(linear)) * 255
    assert np.abs(converted.pixels - expected).mean() < 1.0
    assert np.abs(converted.pixels.astype(float) - as_srgb * 255).mean() > 3  # P3 is not sRGB
    bt2020 = {**p3, "color_primaries": 9}
    kept = read_image(heic_bytes(pixels, nclx=bt2020))
    assert not kept.colour_profile["converted"] and "primaries 9" in kept.colour_profile["reason"]
    data = heic_bytes(pixels)
    for broken in (data[: len(data) // 2], data[:100]):
        with pytest.raises(ImageFormatError, match="HEIC"):
            read_image(broken)
    avif = data[:8] + b"avif" + data[12:]
    with pytest.raises(ImageFormatError, match="AVIF images are not supported"):
        read_image(avif)

"""TGA and DDS, the formats game texture libraries are kept in (decoded by Pillow)."""

import io
import struct

import numpy as np
import pytest
from PIL import Image as PILImage

from imaging.io import ImageFormatError, ImageInfo, ImageTooLargeError, dxt1_roundtrip, probe_image, read_image


@pytest.fixture(scope="module")
def texture():
    """(64, 96, 4) uint8: smooth colour gradients and a varying alpha."""
    rows, cols = np.mgrid[0:64, 0:96]
    return np.stack([cols * 2, rows * 3, 60 + 40 * np.sin(cols / 9.0) * np.cos(rows / 7.0), 255 - cols],
                    -1).round().astype(np.uint8)


def saved(pixels: np.ndarray, fmt: str, **options) -> bytes:
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2] if pixels.ndim == 3 else 1]
    out = io.BytesIO()
    PILImage.fromarray(pixels.squeeze(), mode).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("channels", [1, 2, 3, 4], ids=["grey", "grey-alpha", "rgb", "rgba"])
@pytest.mark.parametrize("fmt, options", [("TGA", {}), ("TGA", {"compression": "tga_rle"}), ("DDS", {})],
                         ids=["tga", "tga-rle", "dds-uncompressed"])
def test_lossless_texture_files_read_exactly(texture, channels, fmt, options):
    data = saved(texture[..., :channels], fmt, **options)
    assert probe_image(data) == ImageInfo(fmt.lower(), 96, 64, channels, "8")
    image = read_image(data)
    assert (image.format, image.bit_depth, image.colour_space) == (fmt.lower(), "8", "srgb")
    assert np.array_equal(image.pixels, texture[..., :channels])
    assert image.block_compression is None


def tga(pixels_bgr: np.ndarray, descriptor: int, depth: int = 24) -> bytes:
    """A raw true-colour TGA of (H, W, C) BGR(A) rows as stored."""
    height, width = pixels_bgr.shape[:2]
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, width, height, depth, descriptor)
    return header + pixels_bgr.tobytes()


def test_tga_row_order_and_undeclared_alpha_follow_the_header():
    rows = np.arange(12, dtype=np.uint8).reshape(3, 4, 1) * np.array([1, 2, 3], np.uint8)  # BGR as stored
    top_down = read_image(tga(rows, 0x20)).pixels  # descriptor bit 5: the first stored row is the top
    bottom_up = read_image(tga(rows, 0x00)).pixels
    assert np.array_equal(top_down, rows[..., ::-1])
    assert np.array_equal(bottom_up, rows[::-1, :, ::-1])
    # 32 bits a pixel whose header declares no alpha bits (old exporters leave the fourth byte 0):
    # RGB, not a fully transparent image.
    stored = np.concatenate([rows, np.zeros((3, 4, 1), np.uint8)], -1)
    assert probe_image(tga(stored, 0x20, depth=32)).channels == 3
    assert np.array_equal(read_image(tga(stored, 0x20, depth=32)).pixels, rows[..., ::-1])
    assert read_image(tga(stored, 0x28, depth=32)).channels == 4  # 8 alpha bits declared


def test_colour_mapped_tga_reads_as_rgb():
    indices = (np.arange(64 * 48).reshape(48, 64) % 7).astype(np.uint8)
    palette = [(30 * i, 255 - 30 * i, 10 * i) for i in range(7)]
    image = PILImage.fromarray(indices, "P")
    image.putpalette([v for colour in palette for v in colour])
    out = io.BytesIO()
    image.save(out, "TGA")
    read = read_image(out.getvalue())
    assert read.pixels.shape == (48, 64, 3)
    assert np.array_equal(read.pixels, np.array(palette, np.uint8)[indices])


@pytest.mark.parametrize("pixel_format", ["DXT1", "DXT5"])
def test_block_compressed_dds_reads_within_its_compression_error(texture, pixel_format):
    data = saved(texture, "DDS", pixel_format=pixel_format)
    assert probe_image(data) == ImageInfo("dds", 96, 64, 4, "8")
    image = read_image(data)
    assert image.block_compression == pixel_format
    error = np.abs(image.pixels[..., :3].astype(int) - texture[..., :3])
    assert error.mean() < 3 and error.max() < 24, (error.mean(), error.max())  # 5:6:5 endpoints, 4x4 blocks
    if pixel_format == "DXT5":  # interpolated alpha
        assert np.abs(image.pixels[..., 3].astype(int) - texture[..., 3]).max() <= 4


def test_dxt1_roundtrip_is_what_a_dxt1_file_holds(texture):
    """The benchmark's block-compressed sources: 4x4 blocks of at most four colours."""
    rgb = np.ascontiguousarray(texture[:, :, :3])
    compressed = dxt1_roundtrip(rgb)
    assert np.array_equal(compressed, read_image(saved(rgb, "DDS", pixel_format="DXT1")).pixels[..., :3])
    blocks = compressed.reshape(16, 4, 24, 4, 3).transpose(0, 2, 1, 3, 4).reshape(-1, 16, 3)
    assert max(len(np.unique(block, axis=0)) for block in blocks) <= 4
    assert 0 < np.abs(compressed.astype(int) - rgb).mean() < 3
    with pytest.raises(ValueError):
        dxt1_roundtrip(texture)  # RGBA


def test_bc5_normal_map_gets_its_z_back():
    """BC5 stores a normal map's x and y only; z = sqrt(1 - x^2 - y^2) makes the vectors whole."""
    rows, cols = np.mgrid[0:64, 0:64]
    slopes = np.stack([0.4 * np.sin(cols / 9.0), 0.4 * np.cos(rows / 7.0)], -1)
    normals = np.concatenate([slopes, np.sqrt(1 - (slopes ** 2).sum(-1, keepdims=True))], -1)
    encoded = np.rint(normals * 127.5 + 127.5).astype(np.uint8)
    stored = encoded.copy()
    stored[..., 2] = 0  # what a BC5 encoder keeps: two channels
    image = read_image(saved(stored, "DDS", pixel_format="BC5"))
    assert image.block_compression == "BC5" and image.pixels.shape == (64, 64, 3)
    vectors = image.pixels.astype(np.float64) / 127.5 - 1
    assert np.abs(np.linalg.norm(vectors, axis=-1) - 1).max() < 0.02
    assert np.abs(image.pixels[..., 2].astype(int) - encoded[..., 2]).max() <= 3


def with_mipmaps(top_level: bytes, levels: list[bytes]) -> bytes:
    """An uncompressed DDS with lower mip levels appended and counted in its header."""
    data = bytearray(top_level)
    flags, = struct.unpack_from("<I", data, 8)
    struct.pack_into("<I", data, 8, flags | 0x20000)  # DDSD_MIPMAPCOUNT
    struct.pack_into("<I", data, 28, 1 + len(levels))
    caps, = struct.unpack_from("<I", data, 108)
    struct.pack_into("<I", data, 108, caps | 0x400008)  # DDSCAPS_MIPMAP | DDSCAPS_COMPLEX
    return bytes(data) + b"".join(levels)


def test_dds_reads_its_largest_mip_level_and_refuses_what_is_not_one_texture(texture):
    rgba = texture
    half = np.ascontiguousarray(rgba[::2, ::2])
    data = with_mipmaps(saved(rgba, "DDS"), [saved(half, "DDS")[128:]])
    assert np.array_equal(read_image(data).pixels, rgba)

    def header_with(offset: int, value: int, dx10: bool = False) -> bytes:
        base = bytearray(saved(rgba[..., :3], "DDS", pixel_format="BC5") if dx10 else saved(rgba, "DDS"))
        struct.pack_into("<I", base, offset, value)
        return bytes(base)

    cases = {
        "cube maps": header_with(112, 0x200 | 0xFC00),  # caps2: a cube map and its six faces
        "volume textures": header_with(112, 0x200000),
        "texture arrays": header_with(128 + 12, 6, dx10=True),  # DX10 arraySize
        "HDR \\(BC6H\\)": header_with(128, 95, dx10=True),  # DXGI_FORMAT_BC6H_UF16
    }
    for what, data in cases.items():
        with pytest.raises(ImageFormatError, match=what):
            read_image(data)
    with pytest.raises(ImageFormatError, match="cube maps"):
        read_image(header_with(128 + 8, 0x4, dx10=True))  # DX10 misc flag: a cube texture
    # pixel formats the decoder does not know: a clear error, not a crash
    with pytest.raises(ImageFormatError, match="DDS.*format 10"):
        probe_image(header_with(128, 10, dx10=True))  # DXGI R16G16B16A16_FLOAT
    unknown_four_cc = bytearray(saved(rgba[..., :3], "DDS", pixel_format="DXT1"))
    unknown_four_cc[84:88] = b"ZZZZ"
    with pytest.raises(ImageFormatError, match="DDS"):
        read_image(bytes(unknown_four_cc))


def test_broken_and_oversized_texture_files_get_clear_errors(texture):
    for fmt in ("TGA", "DDS"):
        data = saved(texture, fmt)
        with pytest.raises(ImageFormatError, match=f"truncated or corrupt {fmt}"):
            read_image(data[: len(data) * 2 // 3])
        with pytest.raises(ImageTooLargeError):  # from the header, before any decoding
            read_image(data, max_pixels=96 * 64 - 1)
    # no magic number: a TGA is recognised by its header's allowed values, so other bytes are not
    for not_an_image in (b'{"kind": "material"}' + bytes(20), bytes(40), b"glTF" + bytes(40)):
        with pytest.raises(ImageFormatError, match="not a supported image"):
            probe_image(not_an_image)

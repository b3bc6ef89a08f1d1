"""Writing TGA and DDS files (imaging.io.encode_tga / encode_dds) and the mip chains a DDS holds
(imaging.mipmaps)."""

import io
import struct

import numpy as np
import pytest
from PIL import Image as PILImage

from imaging.color import linear_to_srgb, srgb_to_linear
from imaging.io import dds_compression_for, encode_dds, encode_tga, read_image, write_image
from imaging.mipmaps import mip_chain, mip_sizes

BLOCK_BYTES = {"DXT1": 8, "DXT3": 16, "DXT5": 16, "BC4": 8, "BC5": 16}


@pytest.fixture(scope="module")
def texture():
    """(64, 96, 4) uint8: smooth colour gradients and a varying alpha."""
    rows, cols = np.mgrid[0:64, 0:96]
    return np.stack([cols * 2, rows * 3, 60 + 40 * np.sin(cols / 9.0) * np.cos(rows / 7.0), 255 - cols],
                    -1).round().astype(np.uint8)


def dds_header(data: bytes) -> dict:
    """The DDS header fields a reader looks at, parsed here independently of Pillow."""
    assert data[:4] == b"DDS "
    size, flags, height, width, pitch, depth, mip_count = struct.unpack_from("<7I", data, 4)
    four_cc = data[84:88]
    caps = struct.unpack_from("<I", data, 108)[0]
    return {"size": size, "flags": flags, "height": height, "width": width, "pitch": pitch, "mip_count": mip_count,
            "four_cc": four_cc, "caps": caps, "bit_count": struct.unpack_from("<I", data, 88)[0],
            "header_bytes": 148 if four_cc == b"DX10" else 128}


def level_bytes(height: int, width: int, compression: str | None, bits_per_pixel: int) -> int:
    if compression is None:
        return height * width * bits_per_pixel // 8
    return max(1, (height + 3) // 4) * max(1, (width + 3) // 4) * BLOCK_BYTES[compression]


def single_level(data: bytes, index: int, compression: str | None) -> bytes:
    """Level `index` of a DDS as a DDS of its own (the header rewritten for its size), to decode it."""
    header = dds_header(data)
    offset = header["header_bytes"]
    height, width = header["height"], header["width"]
    for _ in range(index):
        offset += level_bytes(height, width, compression, header["bit_count"])
        height, width = max(1, height // 2), max(1, width // 2)
    single = bytearray(data[:header["header_bytes"]])
    struct.pack_into("<II", single, 12, height, width)
    struct.pack_into("<I", single, 28, 0)
    return bytes(single) + data[offset:offset + level_bytes(height, width, compression, header["bit_count"])]


def test_mip_sizes_halve_down_to_one_pixel():
    assert mip_sizes(64, 96) == [(32, 48), (16, 24), (8, 12), (4, 6), (2, 3), (1, 1)]
    assert mip_sizes(5, 3) == [(2, 1), (1, 1)]
    assert mip_sizes(1, 1) == []


@pytest.mark.parametrize("compression", [None, "DXT1", "DXT3", "DXT5", "BC4", "BC5"])
def test_dds_with_a_mip_chain_is_laid_out_as_readers_expect(texture, compression):
    pixels = {"BC5": texture[..., :3], "BC4": texture[..., :1]}.get(compression, texture)
    levels = [pixels, *mip_chain(pixels, kind={"BC5": "normal", "BC4": "linear"}.get(compression, "color"))]
    data = encode_dds(levels, compression=compression)
    header = dds_header(data)
    assert (header["size"], header["width"], header["height"], header["mip_count"]) == (124, 96, 64, 7)
    assert header["flags"] & 0x20000 and header["caps"] & 0x400008 == 0x400008  # MIPMAPCOUNT; COMPLEX | MIPMAP
    expected = sum(level_bytes(h, w, compression, header["bit_count"]) for h, w in [(64, 96), *mip_sizes(64, 96)])
    assert len(data) == header["header_bytes"] + expected
    if compression:
        assert header["pitch"] == level_bytes(64, 96, compression, 0)  # linear size of the top level
    # The top level reads back as the picture (within the block encoder's error); each level lies
    # where a reader looks for it: cut out, it decodes as that level encoded on its own does.
    image = read_image(data)
    assert image.mip_levels == 7 and image.block_compression == compression
    tolerance = 0 if compression is None else 4
    assert np.abs(image.pixels[..., :2].astype(int) - pixels[..., :2]).mean() <= tolerance
    if compression in ("BC4", "BC5"):  # written here, with a DX10 header naming the UNORM format
        assert header["four_cc"] == b"DX10" and struct.unpack_from("<2I", data, 128) == (
            {"BC4": 80, "BC5": 83}[compression], 3)
    for index in range(1, 7):
        level = read_image(single_level(data, index, compression)).pixels
        alone = read_image(encode_dds([levels[index]], compression=compression)).pixels
        assert np.array_equal(level, alone), index
        if compression is None:
            assert np.array_equal(level, levels[index])


def test_uncompressed_dds_and_tga_write_exactly(texture, tmp_path):
    for channels in (1, 2, 3, 4):
        pixels = texture[..., :channels]
        for name, options in (("a.dds", {}), ("a.tga", {}), ("b.tga", {"compression": "rle"})):
            write_image(tmp_path / name, pixels, **options)
            image = read_image(tmp_path / name)
            assert np.array_equal(image.pixels, pixels), (name, channels)
            assert image.rle == (options.get("compression") == "rle")
    write_image(tmp_path / "deep.tga", (texture[..., :3].astype(np.uint16) * 257))  # 16-bit rounded to 8
    assert np.array_equal(read_image(tmp_path / "deep.tga").pixels, texture[..., :3])
    with pytest.raises(ValueError, match="8 bits"):
        write_image(tmp_path / "c.dds", texture, bit_depth="16")
    with pytest.raises(ValueError, match="compression"):
        write_image(tmp_path / "c.png", texture, compression="DXT1")
    with pytest.raises(ValueError, match="BC7"):
        encode_dds([texture], compression="BC7")
    with pytest.raises(ValueError, match="mip level 1"):
        encode_dds([texture, texture[:31, :48]])


def test_tga_rle_is_smaller_on_flat_areas():
    flat = np.zeros((64, 64, 3), np.uint8)
    flat[:, 32:] = (200, 40, 10)
    assert len(encode_tga(flat, rle=True)) < len(encode_tga(flat)) / 10


def test_colour_mips_average_light_not_code_values():
    """A fine black/white checker seen from afar is mid-grey in light: sRGB 188, not 128."""
    checker = (np.indices((16, 16)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2)
    assert mip_chain(checker, kind="color")[0][..., 0].tolist() == [[188] * 8] * 8
    assert mip_chain(checker, kind="linear")[0][..., 0].tolist() == [[128] * 8] * 8
    assert round(float(linear_to_srgb(np.float32(0.5))) * 255) == 188


def test_transparent_texels_do_not_darken_cut_out_edges():
    """A green leaf on transparent black: its smaller levels stay green where they show."""
    leaf = np.zeros((8, 8, 4), np.uint8)
    leaf[:, :3] = (40, 200, 60, 255)
    level = mip_chain(leaf, kind="color")[0]  # 4x4; column 1 averages 1 leaf column and 1 transparent one
    assert level[0, 1, 3] == 128
    assert level[0, 1, :3].tolist() == [40, 200, 60]
    assert level[0, 3].tolist() == [0, 0, 0, 0]
    # A data map's fourth channel is data: its other channels are averaged on their own.
    assert mip_chain(leaf, kind="linear")[0][0, 1, :3].tolist() == [20, 100, 30]


def test_normal_mips_stay_unit_length_and_average_the_slopes():
    rows, cols = np.mgrid[0:32, 0:32]
    slope = np.stack([np.sin(cols / 2.0) * 0.6, np.cos(rows / 3.0) * 0.4, np.ones((32, 32))], -1)
    normals = slope / np.linalg.norm(slope, axis=-1, keepdims=True)
    encoded = np.rint((normals * 0.5 + 0.5) * 255).astype(np.uint8)
    for level in mip_chain(encoded, kind="normal"):
        vectors = level.astype(np.float32) / 127.5 - 1
        assert np.abs(np.linalg.norm(vectors, axis=-1) - 1).max() < 0.02
    # Bumps average out at a distance: the 1x1 level points nearly straight up.
    assert mip_chain(encoded, kind="normal")[-1][0, 0, 2] > 250


def test_wrapped_mips_average_across_the_opposite_edge():
    """An odd-sized tileable texture: area averages at the edge take texels from the other side."""
    stripe = np.zeros((6, 6, 1), np.uint8)
    stripe[:, 0] = 255
    plain, wrapped = mip_chain(stripe, kind="linear")[0], mip_chain(stripe, kind="linear", wrap=True)[0]
    assert plain.shape == wrapped.shape == (3, 3, 1)
    assert np.array_equal(plain, wrapped)  # even sizes: every 2x2 block lies inside
    odd = np.zeros((5, 5, 1), np.uint8)
    odd[:, 0] = 255
    assert mip_chain(odd, kind="linear", wrap=True)[0][0, 1, 0] == 0
    assert mip_chain(odd, kind="linear", wrap=False)[0][0, 1, 0] == 0


@pytest.mark.parametrize("read_as, written", [("DXT1", "DXT1"), ("BC1", "DXT1"), ("BC3", "DXT5"), ("BC5", "BC5"),
                                              ("ATI1", "BC4"), ("BC4", "BC4"), ("BC5S", None), ("BC7", None),
                                              (None, None)])
def test_dds_compression_kept_where_it_can_be_encoded(read_as, written):
    assert dds_compression_for(read_as) == written


def test_grey_block_compressed_dds_is_written_as_colour(texture):
    data = encode_dds([texture[..., :1]], compression="DXT1")
    image = read_image(data)
    assert image.block_compression == "DXT1"
    assert np.abs(image.pixels[..., 0].astype(int) - texture[..., 0]).mean() < 3
    assert np.abs(image.pixels[..., 1].astype(int) - texture[..., 0]).mean() < 3


def test_bc4_and_bc5_blocks_are_close_to_the_best_eight_levels():
    """Each 4x4 block of a channel gets eight evenly spaced values: on a ramp whose blocks span 12
    levels the error is under one level; on noise within 56 levels about 1.4 (the plain
    min/max endpoints Pillow's BC5 encoder uses leave 4.2 there)."""
    from imaging.bcn import encode_bc4

    x = np.arange(64)
    ramp = np.zeros((64, 64, 3), np.uint8)
    ramp[..., 0], ramp[..., 1] = (x * 4)[None, :], (x * 4)[:, None]
    decoded = read_image(encode_dds([ramp], compression="BC5")).pixels
    error = np.abs(decoded[..., :2].astype(int) - ramp[..., :2])
    assert error.max() <= 1 and error.mean() < 0.4
    noise = np.random.default_rng(0).integers(100, 156, (64, 64, 1)).astype(np.uint8)
    decoded = read_image(encode_dds([noise], compression="BC4")).pixels
    assert decoded.shape == (64, 64, 1)
    assert np.abs(decoded.astype(int) - noise).mean() < 1.6
    flat = np.full((8, 8), 77, np.uint8)  # a flat block: both endpoints equal, indices 0
    assert len(encode_bc4(flat)) == 4 * 8 and np.all(read_image(encode_dds([flat[..., None]], compression="BC4")).pixels == 77)
    odd = np.random.default_rng(1).integers(0, 256, (7, 5, 1)).astype(np.uint8)  # partial blocks
    assert read_image(encode_dds([odd], compression="BC4")).pixels.shape == (7, 5, 1)


def natural_texture(size=128, seed=0) -> np.ndarray:
    """(size, size, 3) uint8: smooth colour fields with edges and fine grain, like a photo's."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.random((size // 16, size // 16, 3)).astype(np.float32), (size, size),
                        interpolation=cv2.INTER_CUBIC)
    edges = (cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 6) > 0.5)[..., None]
    grain = rng.normal(0, 0.03, (size, size, 3))
    return np.clip((coarse * 0.7 + edges * 0.25 + grain) * 255, 0, 255).astype(np.uint8)


def psnr(decoded, reference) -> float:
    return float(10 * np.log10(255 ** 2 / ((decoded.astype(float) - reference) ** 2).mean()))


def test_dxt_colour_blocks_beat_plain_min_max_endpoints():
    """Least-squares endpoints along each block's principal colour axis: clearly closer than
    Pillow's own DXT1 and DXT5 encoders, through Pillow's decoder."""
    from imaging.io import dxt1_roundtrip  # Pillow's encoder, which the training degradations keep

    rgb = natural_texture()
    ours = read_image(encode_dds([rgb], compression="DXT1")).pixels[..., :3]
    assert psnr(ours, rgb) > psnr(dxt1_roundtrip(rgb), rgb) + 1.5
    rgba = np.concatenate([rgb, np.tile(np.linspace(0, 255, 128).round().astype(np.uint8), (128, 1))[..., None]], 2)
    out = io.BytesIO()
    PILImage.fromarray(rgba).save(out, "DDS", pixel_format="DXT5")
    pillow = read_image(out.getvalue()).pixels
    ours = read_image(encode_dds([rgba], compression="DXT5")).pixels
    assert psnr(ours[..., :3], rgb) > psnr(pillow[..., :3], rgb) + 1.5
    assert psnr(ours[..., 3], rgba[..., 3]) >= psnr(pillow[..., 3], rgba[..., 3])


def test_dxt1_keeps_cut_out_alpha_and_flat_blocks():
    rgb = natural_texture(64, seed=1)
    alpha = np.full((64, 64), 255, np.uint8)
    alpha[:20, :30] = 0  # a cut-out corner: its blocks keep DXT1's transparent texels
    decoded = read_image(encode_dds([np.concatenate([rgb, alpha[..., None]], 2)], compression="DXT1")).pixels
    assert np.array_equal(decoded[..., 3] >= 128, alpha >= 128)
    # the opaque blocks are the same as the opaque texture's
    opaque = read_image(encode_dds([rgb], compression="DXT1")).pixels
    assert np.array_equal(decoded[20:, 32:, :3], opaque[20:, 32:, :3])
    flat = np.zeros((8, 8, 3), np.uint8)
    flat[:] = (90, 140, 200)  # one colour: both endpoints equal, read back as 5:6:5 rounds it
    back = read_image(encode_dds([flat], compression="DXT1")).pixels[..., :3].astype(int)
    assert np.abs(back - flat).max() <= 4 and len(np.unique(back.reshape(-1, 3), axis=0)) == 1


@pytest.mark.parametrize("compression, dxgi, read_as", [("DXT1", 72, "BC1"), ("DXT3", 75, "BC2"), ("DXT5", 78, "BC3"),
                                                        (None, 29, None)])
def test_srgb_dds_round_trips_with_its_flag(texture, compression, dxgi, read_as):
    """texconv -srgb's formats (BC1-BC3 _UNORM_SRGB, which Pillow alone does not decode, and
    R8G8B8A8_UNORM_SRGB) are read, and written back with the flag."""
    data = encode_dds([texture, *mip_chain(texture)], compression=compression, srgb=True)
    header = dds_header(data)
    assert header["four_cc"] == b"DX10" and struct.unpack_from("<I", data, 128)[0] == dxgi
    image = read_image(data)
    assert (image.block_compression, image.dds_srgb, image.mip_levels) == (read_as, True, 7)
    expected = sum(level_bytes(h, w, compression, 32) for h, w in [(64, 96), *mip_sizes(64, 96)])
    assert len(data) == 148 + expected
    tolerance = 0 if compression is None else 4
    assert np.abs(image.pixels[..., :3].astype(int) - texture[..., :3]).mean() <= tolerance  # DXT1/3: 1/4-bit alpha
    # data formats have no sRGB variant: the flag is left out, not refused
    assert not read_image(encode_dds([texture[..., :1]], compression="BC4", srgb=True)).dds_srgb
    assert not read_image(encode_dds([texture], compression=compression)).dds_srgb

"""Read and write images: PNG, JPEG, TIFF, WebP and OpenEXR; read HEIC and DNG; read and write TGA and DDS.

Pixels are decoded with OpenCV (it keeps 16-bit RGB, which Pillow does not),
except the 8-bit TIFFs with alpha it gets wrong, which Pillow decodes; Pillow
parses headers, EXIF and catches truncated files; EXR goes through
imaging.exr. 8-bit pixels with an embedded non-sRGB ICC profile (Display P3
from phones, Adobe RGB...) are converted to sRGB with LittleCMS. Headers are
checked against `max_pixels` and the decoders' side limits before anything
is decoded, so decompression bombs are refused cheaply. Whatever a parser
raises on malformed data surfaces as ImageFormatError.

DNG (the RAW format of phones and of Adobe's converter) is developed by
imaging.dng (LibRaw, no tone curve, the phone's lens shading applied) into
16-bit sRGB-encoded pixels: a RAW photo reads like a 16-bit PNG whose values
are proportional to the light, which is what the capture fit wants from a
phone (its JPEGs carry an S-shaped tone curve the fit cannot undo). Other
camera RAW formats are refused with a message saying how to convert them.

TGA and DDS, the formats game texture libraries are kept in, are decoded by
Pillow: TGA in all its variants (RLE, colour maps, bottom-up rows; a 32-bit one
whose header declares no alpha bits is taken as RGB), DDS uncompressed or
block-compressed (BC1-BC5, BC7, their sRGB-flagged DX10 variants; the largest
mip level). A BC5 texture (two channels: a normal map's x and y) gets its z back
as sqrt(1 - x^2 - y^2). Cube maps, volume textures, texture arrays and HDR
(BC6H) DDS files are refused.
They are written back alike (`write_image`, `encode_dds`, `encode_tga`): TGA raw
or RLE, DDS uncompressed, DXT1/DXT3/DXT5 or BC4/BC5 (imaging.bcn's blocks, in
Pillow's DDS files where it writes the format), with a mip chain when one is given
(imaging.mipmaps makes it).
"""

import functools
import io
import zlib
import os
import struct
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")  # before cv2 is first imported

import cv2
import numpy as np
from PIL import (
    DdsImagePlugin, ExifTags, Image as PILImage, ImageCms, JpegImagePlugin, PngImagePlugin, TgaImagePlugin,
    TiffImagePlugin, WebPImagePlugin,
)

from pillow_heif.as_plugin import HeifImageFile

from imaging import dng, exr, icc as icc_profiles
from imaging.errors import ImageFormatError, ImageTooLargeError

__all__ = [
    "Image", "ImageInfo", "ImageFormatError", "ImageTooLargeError", "read_image",
    "probe_image", "to_float32", "from_float32", "write_image", "encode_png", "encode_tga", "encode_dds",
    "dds_compression_for", "DDS_COMPRESSIONS",
]

# Instantiating the plugin classes directly reads only the header and skips
# Pillow's global decompression-bomb limit: `max_pixels` is our single limit.
_PIL_OPENERS = {
    "png": PngImagePlugin.PngImageFile,
    "jpeg": JpegImagePlugin.JpegImageFile,
    "webp": WebPImagePlugin.WebPImageFile,  # used to check files, not to probe (it reads everything)
    # HEIC (iPhones' default photo format) through pillow-heif's libheif; it applies the
    # file's rotation while decoding, so its pixels come upright and Orientation reads 1.
    "heic": HeifImageFile,
    "tga": TgaImagePlugin.TgaImageFile,
    "dds": DdsImagePlugin.DdsImageFile,
}
# Game texture formats, decoded by Pillow (OpenCV reads neither).
_TEXTURE_FORMATS = ("tga", "dds")
_PIL_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_TGA_IMAGE_TYPES = (1, 2, 3, 9, 10, 11)  # colour-mapped, true-colour, grey; raw or RLE
_DDS_HEADER_BYTES = 4 + 124 + 20  # magic, DDS_HEADER, DDS_HEADER_DXT10
# DXGI formats that declare sRGB texels: R8G8B8A8, BC1, BC2, BC3, B8G8R8A8, B8G8R8X8, BC7 _UNORM_SRGB.
_DXGI_SRGB = (29, 72, 75, 78, 91, 93, 99)
_DXGI_SRGB_TO_UNORM = {72: 71, 75: 74, 78: 77}
# ftyp brands of HEVC-coded HEIF files (AVIF's are not decoded by the bundled libheif).
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
_ORIENTATION_TAG = 0x0112
_EXIF_IFD_TAG = 0x8769
_ROTATED_FORMATS = ("jpeg", "tiff", "webp", "dng")
# OpenCV's TIFF decoder applies the Orientation tag itself, even with IMREAD_UNCHANGED
# (as does Pillow's, used for grey+alpha TIFFs).
_DECODER_ROTATES = ("tiff",)
_MAX_EXIF_STRING = 256
_ICC_PROFILE_TAG = 34675  # TIFF InterColorProfile
_NEW_SUBFILE_TYPE_TAG = 254  # bit 0: a reduced-resolution version of another image in the file
_DNG_VERSION_TAG = 50706
# Camera RAW formats recognised by their first bytes, refused with a hint (DNG is read).
_OTHER_RAW_HINT = ("(camera RAW files are read as DNG only): convert it with Adobe DNG Converter "
                   "(free), or export a 16-bit TIFF or a JPEG")
_EXTRA_SAMPLES_TAG = 338  # TIFF ExtraSamples: 1 associated (premultiplied) alpha, 2 unassociated
_UNASSOCIATED_ALPHA = 2
# The longest side the decoders accept: OpenCV refuses more than 2^20
# (CV_IO_MAX_IMAGE_WIDTH/HEIGHT), libpng more than 1,000,000 (its user limit).
_MAX_SIDE = 1 << 20
_MAX_SIDE_BY_FORMAT = {"png": 1_000_000}
_MAX_DECODER_PIXELS = 1 << 30  # OpenCV's CV_IO_MAX_IMAGE_PIXELS
# An RGBA float32 pixel, the most a decoded pixel takes. EXR channels beyond
# those decoded are still inflated, so their stored bytes are bounded too.
_MAX_PIXEL_BYTES = 16
# What Pillow, numpy, zlib and OpenCV raise on malformed data (Pillow: NotImplementedError
# for a variant it does not decode, e.g. a DDS of 16-bit float pixels).
_PARSE_ERRORS = (
    OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, OverflowError,
    ZeroDivisionError, EOFError, NotImplementedError, struct.error, zlib.error, cv2.error,
)


@dataclass
class Image:
    """A decoded image.

    pixels: numpy (H, W, C), C in 1..4 in R,G,B(,A) order; C=2 is grey+alpha.
        dtype uint8, uint16 or float32 (float: linear, may exceed 1).
    bit_depth: "8", "16" or "32f".
    colour_space: "srgb" (integer formats) or "linear" (EXR and float TIFF).
    format: "png", "jpeg", "tiff", "webp", "heic", "dng", "exr", "tga" or "dds" (a
        DNG comes developed: 16-bit sRGB-encoded RGB, see the module docstring).
    exif: EXIF tags by name (IFD0 and the Exif sub-IFD) with JSON-friendly
        values: int, float (rationals), str, or tuples of those. Binary tags
        are dropped. After orientation is applied, "Orientation" reads 1.
    colour_profile: None when the file embeds no ICC profile, else what was
        done with it: {"name": its description (None if unreadable),
        "converted": True when the pixels were converted from it to sRGB,
        "reason": why not (None when converted)}. A HEIC photo that names its
        colours by code points (nclx) instead: Display P3 is converted too; a DNG's
        camera colours are always converted (by its colour matrices). 8-bit RGB(A) pixels are
        converted by LittleCMS, 16-bit ones (which Pillow's LittleCMS cannot
        take) by imaging.icc when the profile is a matrix/TRC one (nearly all
        RGB profiles are); sRGB profiles are left alone. Pixels not converted
        keep the source primaries, which callers can report from
        "converted": False.
    """

    pixels: np.ndarray
    bit_depth: str
    colour_space: str
    format: str
    exif: dict = field(default_factory=dict)
    colour_profile: dict | None = None
    # A DDS's block compression ("DXT1", "BC5", "BC7"...): lossy, like a JPEG's; None otherwise.
    block_compression: str | None = None
    # Levels a DDS file holds (1: no mip chain; only the first is decoded); a TGA's run-length encoding.
    mip_levels: int = 1
    rle: bool = False
    # A DDS whose DX10 format declares sRGB texels (BC1_UNORM_SRGB...), as texconv -srgb writes them.
    dds_srgb: bool = False

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def channels(self) -> int:
        return self.pixels.shape[2]


@dataclass(frozen=True)
class ImageInfo:
    """Header facts, as `read_image` would return them (before EXIF rotation).

    channels and bit_depth describe the decoded pixels (e.g. a palette PNG is
    3 or 4 channels, "8").
    """

    format: str
    width: int
    height: int
    channels: int
    bit_depth: str


# ---------------------------------------------------------------- reading


def _read_all(src) -> bytes:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    if isinstance(src, (str, os.PathLike)):
        return Path(src).read_bytes()
    if hasattr(src, "read"):
        return src.read()
    raise TypeError(f"expected a path, bytes or a binary file object, got {type(src).__name__}")


def _other_raw_format(head: bytes) -> str | None:
    """The name of a camera RAW format other than DNG that these bytes start, or None."""
    if head[:4] == b"II*\0" and head[8:10] == b"CR":
        return "Canon CR2"
    if head[4:12] == b"ftypcrx ":
        return "Canon CR3"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "Fujifilm RAF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "Olympus ORF"
    if head[:4] == b"IIU\0":
        return "Panasonic RW2"
    return None


def _sniff_format(head: bytes) -> str:
    raw = _other_raw_format(head)
    if raw:
        raise ImageFormatError(f"{raw} files are not read {_OTHER_RAW_HINT}")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\0", b"MM\0*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == exr.MAGIC:
        return "exr"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "heic"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        raise ImageFormatError("AVIF images are not supported: save it as PNG, JPEG or HEIC")
    if head[:4] == b"DDS ":
        return "dds"
    if _looks_like_tga(head):
        return "tga"
    raise ImageFormatError("not a supported image (PNG, JPEG, TIFF, WebP, HEIC, DNG, EXR, TGA or DDS)")


def _looks_like_tga(head: bytes) -> bool:
    """Whether these bytes start a TGA header (the format has no magic number: its fields'
    allowed values are checked instead, after every format that has one)."""
    if len(head) < 18:
        return False
    colour_map, image_type, map_depth, depth, descriptor = head[1], head[2], head[7], head[16], head[17]
    width, height = struct.unpack_from("<HH", head, 12)
    return (colour_map in (0, 1) and image_type in _TGA_IMAGE_TYPES
            and (colour_map == 1) == (image_type in (1, 9))
            and map_depth in ((15, 16, 24, 32) if colour_map else (0,))
            and depth in (8, 15, 16, 24, 32) and descriptor & 0xC0 == 0 and width > 0 and height > 0)


def _dds_layout_error(header: bytes) -> str | None:
    """Why a DDS file holds something other than one 2-D texture (None when it holds one)."""
    if len(header) < 128:
        return "truncated DDS header"
    caps2 = struct.unpack_from("<I", header, 112)[0]
    if caps2 & 0x200:
        return "DDS cube maps are not supported: save the faces as separate images"
    if caps2 & 0x200000:
        return "DDS volume textures are not supported: save the slices as separate images"
    if header[84:88] == b"DX10":
        if len(header) < _DDS_HEADER_BYTES:
            return "truncated DDS header"
        dxgi_format, dimension, misc, array_size = struct.unpack_from("<4I", header, 128)
        if misc & 0x4:
            return "DDS cube maps are not supported: save the faces as separate images"
        if dimension == 4:
            return "DDS volume textures are not supported: save the slices as separate images"
        if array_size > 1:
            return "DDS texture arrays are not supported: save the layers as separate images"
        if dxgi_format in (94, 95, 96):
            return "HDR (BC6H) DDS textures are not supported: save it as OpenEXR"
    return None


@contextmanager
def _format_errors(message: str):
    """Turn whatever a parser raises on malformed data into ImageFormatError(message: ...)."""
    try:
        yield
    except (ImageFormatError, ImageTooLargeError):
        raise
    except _PARSE_ERRORS as exc:
        raise ImageFormatError(f"{message}: {exc}") from exc


def _dds_dxgi_format(data: bytes) -> int | None:
    """A DDS's DXGI format when it has a DX10 header (None for the older FourCC / mask headers)."""
    if len(data) >= _DDS_HEADER_BYTES and data[84:88] == b"DX10":
        return struct.unpack_from("<I", data, 128)[0]
    return None


def _dds_for_pillow(data: bytes) -> bytes:
    """Pillow decodes BC1-BC3 but not their _SRGB variants, texconv's output for colour textures:
    the same texels under the UNORM format (the flag only tells a sampler to linearise)."""
    unorm = _DXGI_SRGB_TO_UNORM.get(_dds_dxgi_format(data))
    if unorm is None:
        return data
    return data[:128] + struct.pack("<I", unorm) + data[132:]


def _open_pil(fp, fmt: str):
    with _format_errors(f"unreadable {fmt.upper()} header"):
        if fmt == "dds":
            fp = io.BytesIO(_dds_for_pillow(fp.read()))
        return _PIL_OPENERS[fmt](fp)


def _tiff_ifd0(fp) -> PILImage.Exif:
    """TIFF tags of the first directory (an EXIF block is a TIFF, so Exif parses it)."""
    exif = PILImage.Exif()
    with _format_errors("unreadable TIFF header"):
        exif.load(fp.read())
    if 256 not in exif or 257 not in exif:
        raise ImageFormatError("TIFF directory lacks the image size")
    return exif


def _tiff_directory(fp) -> TiffImagePlugin.ImageFileDirectory_v2:
    """Tags of the first TIFF directory, reading only its bytes (it may sit anywhere in the file)."""
    if fp.tell() != 0:  # directory offsets are absolute: give them a stream that starts at 0
        fp = io.BytesIO(fp.read())
    with _format_errors("unreadable TIFF header"):
        directory = TiffImagePlugin.ImageFileDirectory_v2(fp.read(8))
        fp.seek(directory.next)
        directory.load(fp)
    if 256 not in directory or 257 not in directory:
        raise ImageFormatError("TIFF directory lacks the image size")
    # Pillow returns a mistyped tag as it is written (bytes, a tuple...).
    if not all(isinstance(directory[tag], int) and directory[tag] > 0 for tag in (256, 257)):
        raise ImageFormatError("TIFF directory has an invalid image size")
    return directory


def _probe_fp(fp) -> ImageInfo:
    start = fp.tell()
    head = fp.read(32)
    fp.seek(start)
    fmt = _sniff_format(head)
    with _format_errors(f"unreadable {fmt.upper()} header"):
        return _probe_format(fp, fmt, head)


def _probe_format(fp, fmt: str, head: bytes) -> ImageInfo:
    if fmt == "exr":
        header = exr.read_header(fp)
        return ImageInfo("exr", header.width, header.height, len(header.picked_channels), "32f")
    if fmt == "webp":
        return _probe_webp(fp.read(30))
    if fmt == "tiff":
        start = fp.tell()
        tags = _tiff_directory(fp)
        if _DNG_VERSION_TAG in tags:
            fp.seek(start)
            width, height = dng.size(fp.read())
            return ImageInfo("dng", width, height, 3, "16")
        if int(np.atleast_1d(tags.get(_NEW_SUBFILE_TYPE_TAG, 0))[0]) & 1:
            # Nikon NEF, Sony ARW, Pentax PEF...: a TIFF whose first image is the camera's
            # small preview; decoding it would silently give a thumbnail.
            raise ImageFormatError(f"the file's first image is a reduced-resolution preview, as in a camera "
                                   f"RAW file {_OTHER_RAW_HINT}")
        bits = np.atleast_1d(tags.get(258, 1))[0]
        is_float = np.atleast_1d(tags.get(339, 1))[0] == 3
        samples = 3 if tags.get(262) == 3 else tags.get(277, 1)  # palette -> RGB
        bit_depth = "32f" if is_float else ("16" if bits == 16 else "8")
        return ImageInfo("tiff", int(tags[256]), int(tags[257]), int(samples), bit_depth)
    if fmt == "dds":
        start = fp.tell()
        layout_error = _dds_layout_error(fp.read(_DDS_HEADER_BYTES))
        if layout_error:
            raise ImageFormatError(layout_error)
        fp.seek(start)
    image = _open_pil(fp, fmt)
    width, height = image.size
    if fmt in _TEXTURE_FORMATS:
        return ImageInfo(fmt, width, height, _texture_channels(image, head), "8")
    if fmt == "png":
        bit_depth_bits, colour_type = head[24], head[25]
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(colour_type)
        if channels is None:
            raise ImageFormatError(f"invalid PNG colour type {colour_type}")
        if "transparency" in image.info:  # a tRNS chunk: a colour (or grey level) that is transparent
            channels = {1: 2, 3: 4}[channels]  # palette and RGB decode to RGBA, grey to grey+alpha
        return ImageInfo("png", width, height, channels, "16" if bit_depth_bits == 16 else "8")
    channels = {"L": 1, "LA": 2, "RGBA": 4}.get(image.mode, 3)
    return ImageInfo(fmt, width, height, channels, "8")


def _texture_channels(image, head: bytes) -> int:
    """Channels a TGA or DDS decodes to (`_decode_texture`)."""
    mode = image.mode
    if mode == "P":  # a TGA's colour map
        mode = "RGBA" if image.palette.mode == "RGBA" else "RGB"
    if mode == "RGBA" and image.format == "TGA" and head[17] & 0x0F == 0:
        mode = "RGB"  # 32 or 16 bits a pixel, none of them declared alpha
    if mode not in _PIL_CHANNELS:
        raise ImageFormatError(f"unsupported {image.format} pixel mode {mode}")
    return _PIL_CHANNELS[mode]


def _decode_texture(data: bytes, fmt: str) -> tuple[np.ndarray, dict]:
    """A TGA's or DDS's (H, W, C) uint8 pixels, and how the file stores them: `Image`'s
    block_compression, mip_levels, rle and dds_srgb."""
    with _format_errors(f"truncated or corrupt {fmt.upper()} file"):
        image = _open_pil(io.BytesIO(data), fmt)
        channels = _texture_channels(image, data[:18])
        image.load()  # raises "image file is truncated" (LOAD_TRUNCATED_IMAGES is False)
        compression = getattr(image, "pixel_format", None) if fmt == "dds" else None
        if compression and not compression.startswith(("DXT", "BC", "ATI")):
            compression = None  # an uncompressed DDS
        rle = fmt == "tga" and image.info.get("compression") == "tga_rle"
        image = image.convert({1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels])
        pixels = np.asarray(image).reshape(image.height, image.width, channels).copy()
    if compression and compression.startswith("BC5"):
        # Two channels, x and y of a unit normal (0.5n + 0.5 encoded): z is what makes it unit length.
        xy = pixels[..., :2].astype(np.float32) / 127.5 - 1
        z = np.sqrt(np.clip(1 - (xy * xy).sum(-1), 0, 1))
        pixels[..., 2] = np.rint(z * 127.5 + 127.5).astype(np.uint8)
    # dwMipMapCount; writers set it without the DDSD_MIPMAPCOUNT flag often enough not to ask for the flag.
    mip_levels = max(1, struct.unpack_from("<I", data, 28)[0]) if fmt == "dds" else 1
    return pixels, {"block_compression": compression, "mip_levels": mip_levels, "rle": rle,
                    "dds_srgb": fmt == "dds" and _dds_dxgi_format(data) in _DXGI_SRGB}


def _probe_webp(head: bytes) -> ImageInfo:
    """Size and alpha from the first chunk: VP8X (extended), VP8L (lossless) or VP8 (lossy)."""
    if len(head) < 30:
        raise ImageFormatError("truncated WebP header")
    kind = head[12:16]
    if kind == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        alpha = bool(head[20] & 0x10)
    elif kind == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        alpha = bool(bits >> 28 & 1)
    elif kind == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        height = int.from_bytes(head[28:30], "little") & 0x3FFF
        alpha = False
    else:
        raise ImageFormatError("unrecognised WebP header")
    return ImageInfo("webp", width, height, 4 if alpha else 3, "8")


def probe_image(src) -> ImageInfo:
    """Format, size, channels and bit depth from the header only (no pixel decoding).

    src: path, bytes or binary file object (read from its current position,
    which is restored afterwards). Raises ImageFormatError for non-images.
    """
    if isinstance(src, (str, os.PathLike)):
        with open(src, "rb") as fp:
            return _probe_fp(fp)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _probe_fp(io.BytesIO(src))
    start = src.tell()
    try:
        return _probe_fp(src)
    finally:
        src.seek(start)


def _exif_value(value):
    if isinstance(value, tuple):
        items = [_exif_value(v) for v in value]
        return None if any(v is None for v in items) else tuple(items)
    if isinstance(value, TiffImagePlugin.IFDRational):
        return float(value) if value.denominator else None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        value = value.strip("\0 ")
        return value if len(value) <= _MAX_EXIF_STRING else None
    return None  # bytes (MakerNote, UserComment...) are not useful downstream


def _exif_dict(exif: PILImage.Exif) -> dict:
    # A broken tag or sub-IFD should not make the picture unreadable: skip it
    # (the decoder refuses the file if it needed that tag).
    tags = {}
    for tag in list(exif):
        try:
            tags[tag] = exif[tag]
        except _PARSE_ERRORS:
            pass
    try:
        tags.update(exif.get_ifd(_EXIF_IFD_TAG))
    except _PARSE_ERRORS:
        pass
    named = {}
    for tag, value in tags.items():
        name = ExifTags.TAGS.get(tag)
        value = _exif_value(value)
        if name and value is not None and tag != _EXIF_IFD_TAG:
            named[name] = value
    return named


def _check_complete(data: bytes, fmt: str) -> tuple:
    """Raise ImageFormatError for truncated/corrupt files; return their EXIF
    tags and their embedded ICC profile (bytes, or None)."""
    if fmt == "dng":  # LibRaw reports a truncated file when it develops it
        return _exif_dict(_tiff_ifd0(io.BytesIO(data))), None
    if fmt in _TEXTURE_FORMATS:  # no EXIF, no profile; `_decode_texture` fails on a truncated file
        return {}, None
    if fmt == "tiff":
        tags = _tiff_ifd0(io.BytesIO(data))
        # Strip (273/279) or tile (324/325) offsets and byte counts must lie inside the file.
        for offsets_tag, counts_tag in ((273, 279), (324, 325)):
            offsets = np.atleast_1d(tags.get(offsets_tag, ())).astype(np.int64)
            counts = np.atleast_1d(tags.get(counts_tag, ())).astype(np.int64)
            if len(offsets) and (len(offsets) != len(counts) or (offsets + counts).max() > len(data)):
                raise ImageFormatError("truncated TIFF file")
        try:
            icc = tags.get(_ICC_PROFILE_TAG)
        except _PARSE_ERRORS:
            icc = b""  # present but unreadable: reported as such, like a broken profile
        return _exif_dict(tags), icc
    with _format_errors(f"truncated or corrupt {fmt.upper()} file"):
        if fmt == "png":
            image = _open_pil(io.BytesIO(data), fmt)
            icc = image.info.get("icc_profile")  # iCCP comes before IDAT: parsed with the header
            image.verify()  # walks every chunk to IEND, checking CRCs
            if b"eXIf" not in data:
                return {}, icc  # verified, and no EXIF to read: skip a second full decode
        image = _open_pil(io.BytesIO(data), fmt)
        if fmt != "heic":  # a HEIC is decoded once, by _decode_heic, which fails on a truncated one
            image.load()  # a full decode: raises "image file is truncated" (LOAD_TRUNCATED_IMAGES is False)
        return _exif_dict(image.getexif()), image.info.get("icc_profile")


def _apply_orientation(pixels: np.ndarray, orientation) -> np.ndarray:
    """Rotate/flip (H, W, C) pixels so that EXIF orientation 1 (upright) is true."""
    transforms = {
        2: lambda p: p[:, ::-1],
        3: lambda p: p[::-1, ::-1],
        4: lambda p: p[::-1],
        5: lambda p: p.transpose(1, 0, 2),
        6: lambda p: np.rot90(p, -1),
        7: lambda p: np.rot90(p, 2).transpose(1, 0, 2),
        8: lambda p: np.rot90(p, 1),
    }
    transform = transforms.get(orientation)
    return pixels if transform is None else np.ascontiguousarray(transform(pixels))


def _check_size(data: bytes, info: ImageInfo, max_pixels) -> None:
    """Refuse, from the header alone, what must not be decoded (ImageTooLargeError)."""
    width, height = info.width, info.height
    if width < 1 or height < 1:
        raise ImageFormatError(f"{width}x{height} image has no pixels")
    max_side = _MAX_SIDE_BY_FORMAT.get(info.format, _MAX_SIDE)
    if max(width, height) > max_side:
        raise ImageTooLargeError(
            f"{width}x{height} image is too large: the {info.format.upper()} decoder"
            f" accepts sides of at most {max_side} pixels"
        )
    if info.format != "exr" and width * height > _MAX_DECODER_PIXELS:
        raise ImageTooLargeError(
            f"{width}x{height} image exceeds the decoder's limit of {_MAX_DECODER_PIXELS} pixels"
        )
    if max_pixels is None:
        return
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{width}x{height} image exceeds the limit of {max_pixels} pixels"
        )
    if info.format == "exr":
        header = exr.read_header(io.BytesIO(data))
        stored, limit = width * height * header.bytes_per_pixel, max_pixels * _MAX_PIXEL_BYTES
        if stored > limit:
            raise ImageTooLargeError(
                f"{width}x{height} EXR with {len(header.channels)} channels holds {stored} bytes of"
                f" samples, over the limit of {limit} ({max_pixels} pixels of {_MAX_PIXEL_BYTES} bytes)"
            )


def _decode_tiff_grey_alpha(data: bytes, info: ImageInfo) -> np.ndarray:
    """Grey+alpha TIFF pixels. OpenCV drops their alpha, so Pillow decodes 8-bit ones and
    tifffile the 16-bit and float ones (Pillow knows only 8-bit grey+alpha)."""
    if info.bit_depth != "8":
        return _decode_tiff_grey_alpha_deep(data)
    image = TiffImagePlugin.TiffImageFile(io.BytesIO(data))
    if image.mode not in ("LA", "La"):  # "La": associated (premultiplied) alpha, kept as stored
        raise ImageFormatError(f"unsupported grey+alpha TIFF variant (decodes as {image.mode})")
    image.load()  # applies the Orientation tag, as OpenCV does for every other TIFF
    return np.array(image)  # a copy: np.asarray of a Pillow image is read-only


def _decode_tiff_grey_alpha_deep(data: bytes) -> np.ndarray:
    """16-bit or float grey+alpha TIFF pixels (H, W, 2), upright; alpha as stored."""
    import tifffile  # only for these files

    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        page = tiff.pages[0]
        if page.samplesperpixel != 2 or page.dtype not in (np.dtype(np.uint16), np.dtype(np.float32)):
            raise ImageFormatError(f"unsupported grey+alpha TIFF variant ({page.samplesperpixel} samples of"
                                   f" {page.dtype})")
        try:
            pixels = page.asarray()
        except (KeyError, ValueError) as error:  # a compression that needs the imagecodecs package
            raise ImageFormatError(
                f"16-bit grey+alpha TIFF with {page.compression.name} compression is not supported"
                " (uncompressed and Deflate/ZIP are): save it as PNG, or as a ZIP-compressed TIFF") from error
        orientation = page.tags.valueof(274, 1)
    if page.axes.startswith("S"):  # separate planes: (2, H, W)
        pixels = np.moveaxis(pixels, 0, -1)
    pixels = np.ascontiguousarray(pixels.astype(pixels.dtype.newbyteorder("=")))
    return _apply_orientation(pixels, orientation)  # as OpenCV does for every other TIFF


def _tiff_unassociated_rgba(data: bytes, info: ImageInfo) -> bool:
    """Whether this is an 8-bit RGBA TIFF with straight (unassociated) alpha.

    OpenCV decodes 8-bit RGBA TIFFs through libtiff's RGBA interface, which
    premultiplies straight alpha (irreversibly: rounding), so Pillow decodes
    those. Associated alpha (ExtraSamples 1) stays with OpenCV, which returns
    it as stored, premultiplied (Pillow would un-premultiply it)."""
    if info.format != "tiff" or info.channels != 4 or info.bit_depth != "8":
        return False
    image = TiffImagePlugin.TiffImageFile(io.BytesIO(data))  # the first directory only
    extra_samples = tuple(np.atleast_1d(image.tag_v2.get(_EXTRA_SAMPLES_TAG, ())))
    return image.mode == "RGBA" and extra_samples == (_UNASSOCIATED_ALPHA,)


def _decode_tiff_rgba(data: bytes) -> np.ndarray:
    image = TiffImagePlugin.TiffImageFile(io.BytesIO(data))
    image.load()  # applies the Orientation tag, as OpenCV does
    return np.array(image)


def _png_chunk(data: bytes, kind: bytes):
    """The body of the first `kind` chunk before the image data, or None."""
    pos = 8
    while pos + 8 <= len(data):
        length, name = struct.unpack_from(">I4s", data, pos)
        if name == kind:
            return data[pos + 8:pos + 8 + length]
        if name == b"IDAT":
            return None
        pos += 12 + length
    return None


def _png_transparency_alpha(data: bytes, grey: np.ndarray) -> np.ndarray:
    """Grey+alpha pixels of a grey PNG with a tRNS chunk, which OpenCV decodes
    as grey alone (libpng turns tRNS into alpha only for palette and RGB).
    The grey level tRNS names is transparent, every other one opaque."""
    trns = _png_chunk(data, b"tRNS")
    if trns is None or len(trns) < 2:
        raise ImageFormatError("corrupt PNG file: invalid tRNS chunk")
    # Read raw rather than from Pillow, which scales 1-bit values to 8 but not 2- or 4-bit ones.
    transparent = int.from_bytes(trns[:2], "big")
    bits = data[24]  # IHDR bit depth; libpng widens 1/2/4-bit grey to 8 by repeating the bits
    if bits < 8:
        transparent *= 255 // (2**bits - 1)
    opaque = np.iinfo(grey.dtype).max
    alpha = np.full_like(grey, opaque)
    if transparent <= opaque:  # an out-of-range level matches no pixel
        alpha[grey == transparent] = 0
    return np.concatenate([grey, alpha], axis=2)


# Linear Display P3 -> linear sRGB (both D65; rows: sRGB R, G, B).
_P3_TO_SRGB = np.array([[1.2249402, -0.2249402, 0.0],
                        [-0.0420569, 1.0420569, 0.0],
                        [-0.0196376, -0.0786361, 1.0982737]], np.float32)


def _decode_heic(data: bytes, icc) -> tuple[np.ndarray, dict | None]:
    """HEIC pixels (H, W, 3|4) uint8, upright, and what was done with an nclx colour
    description (None when the file has an ICC profile, which read_image converts, or none)."""
    image = HeifImageFile(io.BytesIO(data))
    image.load()
    pixels = np.array(image)  # a copy, writable
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.dtype != np.uint8:  # pillow-heif hands HDR (10/12-bit) images over as 8-bit by default
        raise ImageFormatError(f"unsupported HEIC sample type {pixels.dtype}")
    nclx = image.info.get("nclx_profile")
    if icc is not None or not nclx or pixels.shape[2] < 3:
        return pixels, None
    primaries, transfer = nclx.get("color_primaries"), nclx.get("transfer_characteristics")
    if primaries in (1, 2):  # BT.709 (sRGB's) or unspecified
        return pixels, None
    name = {12: "Display P3 (nclx)"}.get(primaries, f"nclx colour primaries {primaries}")
    if primaries != 12 or transfer not in (13, 1, 6, 2):  # 13: the sRGB curve (2: unspecified)
        return pixels, {"name": name, "converted": False,
                        "reason": f"colours described by nclx primaries {primaries}, transfer {transfer}: not converted"}
    from imaging.color import linear_to_srgb, srgb_to_linear

    rgb = np.asarray(srgb_to_linear(pixels[..., :3].astype(np.float32) / 255), np.float32)
    srgb = np.asarray(linear_to_srgb(np.clip(rgb @ _P3_TO_SRGB.T, 0, 1)), np.float32)
    pixels[..., :3] = np.round(srgb * 255).astype(np.uint8)
    return pixels, {"name": name, "converted": True, "reason": None}


def _decode_cv2(data: bytes, info: ImageInfo) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ImageFormatError(f"corrupt {info.format.upper()} file")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] == 3:
        pixels = pixels[:, :, ::-1]  # BGR -> RGB
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, [2, 1, 0, 3]]  # BGRA -> RGBA
    if info.channels == 2 and pixels.shape[2] == 4:
        pixels = pixels[:, :, [0, 3]]  # OpenCV expands grey+alpha to BGRA
    elif info.format == "png" and info.channels == 2 and pixels.shape[2] == 1:
        pixels = _png_transparency_alpha(data, pixels)
    if pixels.dtype in (np.float16, np.float64):
        pixels = pixels.astype(np.float32)
    if pixels.dtype not in (np.uint8, np.uint16, np.float32):
        raise ImageFormatError(f"unsupported sample type {pixels.dtype}")
    return np.ascontiguousarray(pixels)


@functools.lru_cache(maxsize=8)
def _matrix_trc(icc: bytes) -> icc_profiles.MatrixTrcProfile:
    return icc_profiles.parse_matrix_trc(icc)


@functools.lru_cache(maxsize=8)
def _to_srgb_transform(icc: bytes) -> ImageCms.ImageCmsTransform:
    """8-bit RGB -> sRGB transform from an RGB profile (built once per profile: a few ms)."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    # Relative colorimetric, the usual intent for photos: in-gamut colours stay exact.
    return ImageCms.buildTransform(
        source, ImageCms.createProfile("sRGB"), "RGB", "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )


def _convert_to_srgb(pixels: np.ndarray, icc) -> tuple:
    """Convert 8 or 16-bit RGB(A) pixels from their embedded ICC profile to sRGB.

    Returns (pixels, colour_profile) as Image holds them. sRGB profiles are
    left alone (the common case, kept bit-identical and fast); a broken
    profile is ignored rather than making the picture unreadable. Alpha is
    never touched."""
    if icc is None:
        return pixels, None
    try:
        icc = bytes(icc)  # a mistyped TIFF tag reads as a tuple of ints
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
        name = (profile.profile_description or "").strip() or None
        colour_space = profile.xcolor_space.strip()
    except (ImageCms.PyCMSError, *_PARSE_ERRORS) as exc:
        return pixels, {"name": None, "converted": False, "reason": f"unreadable ICC profile ({exc})"}
    reason = None
    if name and "srgb" in name.lower():
        reason = "already sRGB"
    elif colour_space != "RGB" or pixels.shape[2] not in (3, 4):
        reason = f"{colour_space} profile on {pixels.shape[2]}-channel pixels is not converted"
    elif pixels.dtype == np.uint16:
        try:
            pixels = icc_profiles.convert_uint16_to_srgb(pixels, _matrix_trc(icc))
        except icc_profiles.UnsupportedProfile as exc:
            reason = f"16-bit pixels are converted from matrix/TRC profiles only ({exc})"
        return pixels, {"name": name, "converted": reason is None, "reason": reason}
    elif pixels.dtype != np.uint8:
        reason = f"{pixels.dtype.itemsize * 8}-bit pixels are not colour-managed (8 and 16-bit only)"
    if reason is None:
        try:
            transform = _to_srgb_transform(icc)
            rgb = PILImage.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
            converted = np.asarray(transform.apply(rgb))
        except (ImageCms.PyCMSError, *_PARSE_ERRORS) as exc:
            reason = f"unusable ICC profile ({exc})"
        else:
            pixels = np.concatenate([converted, pixels[..., 3:]], axis=2)  # alpha as it was
    return pixels, {"name": name, "converted": reason is None, "reason": reason}


def read_image(src, *, max_pixels=None, apply_exif_orientation=True) -> Image:
    """Decode an image file.

    src: path, bytes or binary file object.
    max_pixels: refuse (ImageTooLargeError) images whose header declares more
        than this many pixels (or, for EXR, more stored sample bytes than this
        many RGBA float pixels), before any decoding. Sides longer than the
        decoder accepts (2^20; 1,000,000 for PNG) are refused likewise.
    apply_exif_orientation: for JPEG/TIFF/WebP, rotate/flip the pixels as the
        EXIF Orientation tag says (the returned exif then reads Orientation=1).
    8-bit RGB(A) pixels with an embedded non-sRGB ICC profile come back
    converted to sRGB (see Image.colour_profile). Alpha comes back straight,
    except from TIFFs that store it associated (premultiplied): those come
    back as stored.
    Raises ImageFormatError for non-images, unsupported variants and
    truncated/corrupt files.
    """
    data = _read_all(src)
    info = probe_image(data)
    _check_size(data, info, max_pixels)
    with _format_errors(f"corrupt {info.format.upper()} file"):
        if info.format == "exr":
            return Image(exr.decode(data), "32f", "linear", "exr", {})
        exif, icc = _check_complete(data, info.format)
        orientation = exif.get("Orientation", 1)
        nclx, texture = None, {}
        if info.format in _TEXTURE_FORMATS:
            pixels, texture = _decode_texture(data, info.format)
        elif info.format == "heic":
            pixels, nclx = _decode_heic(data, icc)
        elif info.format == "dng":
            pixels, development = dng.develop(data)
            corrected = [what for what, done in (("lens shading", development.gain_maps),
                                                 ("lens distortion", development.warps),
                                                 ("vignetting", development.vignettes)) if done]
            listed = ", ".join(corrected[:-1]) + " and " + corrected[-1] if len(corrected) > 1 else "".join(corrected)
            nclx = {"name": "camera colour (DNG colour matrices" + (f", {listed} corrected)" if corrected else ")"),
                    "converted": True, "reason": None}
        elif info.format == "tiff" and info.channels == 2:
            pixels = _decode_tiff_grey_alpha(data, info)
        elif _tiff_unassociated_rgba(data, info):
            pixels = _decode_tiff_rgba(data)
        else:
            pixels = _decode_cv2(data, info)
    pixels, colour_profile = _convert_to_srgb(pixels, icc)
    colour_profile = colour_profile or nclx
    if info.format in _DECODER_ROTATES and not apply_exif_orientation:
        pixels = _apply_orientation(pixels, {6: 8, 8: 6}.get(orientation, orientation))  # undo it
    elif info.format in _ROTATED_FORMATS and apply_exif_orientation:
        if info.format not in _DECODER_ROTATES:
            pixels = _apply_orientation(pixels, orientation)
        if "Orientation" in exif:
            exif["Orientation"] = 1
    bit_depth = {np.dtype(np.uint8): "8", np.dtype(np.uint16): "16"}.get(pixels.dtype, "32f")
    colour_space = "linear" if bit_depth == "32f" else "srgb"
    return Image(pixels, bit_depth, colour_space, info.format, exif, colour_profile, **texture)


# ------------------------------------------------------- value conversion


def to_float32(pixels: np.ndarray) -> np.ndarray:
    """uint8 -> /255, uint16 -> /65535 (both into [0,1]); float -> float32 unchanged."""
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / np.float32(255)
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) / np.float32(65535)
    if np.issubdtype(pixels.dtype, np.floating):
        return pixels.astype(np.float32, copy=False)
    raise TypeError(f"unsupported pixel dtype {pixels.dtype}")


def from_float32(x: np.ndarray, bit_depth: str) -> np.ndarray:
    """Float values in [0,1] -> uint8 ("8") or uint16 ("16"), clipped and rounded.

    "32f" (or "16f") returns float32 values unchanged (no clipping: may be HDR).
    """
    x = np.asarray(x, dtype=np.float32)
    if bit_depth in ("32f", "16f"):
        return x
    if bit_depth not in ("8", "16"):
        raise ValueError(f"bit_depth must be '8', '16' or '32f', got {bit_depth!r}")
    top = 255 if bit_depth == "8" else 65535
    dtype = np.uint8 if bit_depth == "8" else np.uint16
    return np.rint(np.clip(x, 0.0, 1.0) * top).astype(dtype)


# ---------------------------------------------------------------- writing


def _as_hwc(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or not 1 <= pixels.shape[2] <= 4:
        raise ValueError(f"expected (H,W) or (H,W,C) with C in 1..4, got {pixels.shape}")
    return pixels


def _png_integer_pixels(pixels: np.ndarray, bit_depth) -> np.ndarray:
    if bit_depth is None:
        if pixels.dtype in (np.uint8, np.uint16):
            return pixels
        bit_depth = "8"  # float input without an explicit depth: 8-bit
    if bit_depth not in ("8", "16"):
        raise ValueError(f"PNG bit_depth must be '8' or '16', got {bit_depth!r}")
    wanted = np.uint8 if bit_depth == "8" else np.uint16
    return pixels if pixels.dtype == wanted else from_float32(to_float32(pixels), bit_depth)


def _encode_grey_alpha_png(pixels: np.ndarray) -> bytes:
    """PNG colour type 4 (grey+alpha), which OpenCV cannot write. Filter 0 on every row."""

    height, width, _ = pixels.shape
    big_endian = pixels.astype(">u2") if pixels.dtype == np.uint16 else pixels
    rows = big_endian.reshape(height, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    depth = 16 if pixels.dtype == np.uint16 else 8
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 4, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _encode_png(pixels: np.ndarray, bit_depth=None) -> bytes:
    pixels = _png_integer_pixels(_as_hwc(pixels), bit_depth)
    if pixels.shape[2] == 2:
        return _encode_grey_alpha_png(pixels)
    if pixels.shape[2] == 3:
        pixels = pixels[:, :, ::-1]  # RGB -> BGR for OpenCV
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, [2, 1, 0, 3]]
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(pixels))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buffer.tobytes()


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of (H,W) or (H,W,C) pixels, C in 1..4 (RGB(A) order, 2 = grey+alpha).

    uint8 -> 8-bit, uint16 -> 16-bit; float in [0,1] (already sRGB-encoded:
    no colour conversion happens here) -> 8-bit.
    """
    return _encode_png(pixels)


def jpeg_roundtrip(pixels: np.ndarray, quality: int) -> np.ndarray:
    """What saving as a JPEG of `quality` (1..100) and reading it back does to
    (H,W,3) uint8 RGB pixels (OpenCV's baseline encoder, 4:2:0 chroma). Returns uint8 RGB."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected (H,W,3) uint8 RGB, got {pixels.dtype} {pixels.shape}")
    ok, buffer = cv2.imencode(".jpg", np.ascontiguousarray(pixels[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return np.ascontiguousarray(cv2.imdecode(buffer, cv2.IMREAD_COLOR)[..., ::-1])


def dxt1_roundtrip(pixels: np.ndarray) -> np.ndarray:
    """What saving as a DXT1 (BC1) DDS and reading it back does to (H,W,3) uint8 RGB pixels
    (Pillow's encoder: two 5:6:5 colours and two between them per 4x4 block, as most game
    textures of the 2000s were shipped). Returns uint8 RGB."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected (H,W,3) uint8 RGB, got {pixels.dtype} {pixels.shape}")
    out = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(pixels)).save(out, "DDS", pixel_format="DXT1")
    return np.ascontiguousarray(_decode_texture(out.getvalue(), "dds")[0][..., :3])


# Block compressions Pillow encodes, by the names its decoder gives them: a DX10 file's BC1-BC3
# are DXT1-DXT5 under their Direct3D 10 names and are written with the older FourCCs.
_DDS_ENCODERS = {"DXT1": "DXT1", "BC1": "DXT1", "DXT3": "DXT3", "BC2": "DXT3", "DXT5": "DXT5", "BC3": "DXT5",
                 "BC4": "BC4", "ATI1": "BC4", "BC5": "BC5", "ATI2": "BC5"}
DDS_COMPRESSIONS = ("DXT1", "DXT3", "DXT5", "BC4", "BC5")
# Written with a DX10 header: DXGI_FORMAT_BC4_UNORM, DXGI_FORMAT_BC5_UNORM; with `srgb`, the
# _SRGB variants of BC1-BC3 and of uncompressed R8G8B8A8.
_DXGI_FORMATS = {"BC4": 80, "BC5": 83}
_DXGI_SRGB_FORMATS = {"DXT1": 72, "DXT3": 75, "DXT5": 78, None: 29}
_PIL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_DDSD_MIPMAPCOUNT = 0x20000
_DDSCAPS_COMPLEX_MIPMAP = 0x8 | 0x400000


def dds_compression_for(block_compression: str | None) -> str | None:
    """The compression `encode_dds` writes for a file read with this `Image.block_compression`:
    the same one where it is encoded here; None (uncompressed) for signed BC5 and BC7, which
    are not (an asset pipeline's compressor can make them from that losslessly)."""
    return _DDS_ENCODERS.get(block_compression) if block_compression else None


def _texture_pixels(pixels: np.ndarray, bit_depth, fmt: str) -> np.ndarray:
    """(H,W,C) uint8 for a TGA or DDS file, which hold 8 bits a channel."""
    if bit_depth not in (None, "8"):
        raise ValueError(f"{fmt.upper()} files hold 8 bits a channel; bit_depth {bit_depth!r} cannot be written")
    return _png_integer_pixels(_as_hwc(pixels), "8")


def encode_tga(pixels: np.ndarray, *, rle: bool = False) -> bytes:
    """TGA bytes of (H,W) or (H,W,C) pixels, C in 1..4 (2 = grey+alpha); uint16 and float
    in [0,1] are rounded to 8 bits. rle: run-length encoded (smaller, read by every tool)."""
    pixels = _texture_pixels(pixels, None, "tga")
    out = io.BytesIO()
    image = PILImage.fromarray(np.ascontiguousarray(pixels if pixels.shape[2] > 1 else pixels[..., 0]),
                               _PIL_MODES[pixels.shape[2]])
    image.save(out, "TGA", compression="tga_rle" if rle else None)
    return out.getvalue()


def encode_dds(levels, *, compression: str | None = None, srgb: bool = False) -> bytes:
    """DDS bytes of a texture and its mip chain.

    levels: [(H,W,C) pixels, ...], C in 1..4 (2 = grey+alpha), uint8 (uint16 and float in [0,1]
        are rounded to 8 bits): the full-size image first, then, for a mip chain, each level half
        the size of the one before (rounded down, at least 1; `imaging.mipmaps.mip_chain`).
    compression: None (uncompressed L, LA, RGB or RGBA) or one of DDS_COMPRESSIONS: "DXT1"
        (BC1: RGB and 1-bit alpha), "DXT3" / "DXT5" (BC2 / BC3: RGBA; grey is written as RGB),
        "BC4" (one channel: grey data maps; the first channel), "BC5" (two channels, a normal
        map's x and y from R and G; the reader rebuilds z). The blocks are imaging.bcn's
        (Pillow's for DXT3 and for DXT1 blocks with transparent texels).
    srgb: declare the texels sRGB-encoded, as texconv's -srgb does: the format's _SRGB variant
        (BC1-BC3; uncompressed as R8G8B8A8_UNORM_SRGB), which makes a Direct3D sampler decode
        them to linear light. BC4 and BC5 (data) have none: ignored there.
    BC4, BC5 and sRGB files carry a DX10 header; the others the older FourCC or channel masks.
    """
    if compression is not None and compression not in DDS_COMPRESSIONS:
        raise ValueError(f"cannot write DDS compression {compression!r}: use one of {DDS_COMPRESSIONS} or None")
    levels = [_texture_pixels(level, None, "dds") for level in levels]
    if not levels:
        raise ValueError("a DDS needs at least one level")
    _check_mip_sizes(levels)
    if compression == "BC5" and levels[0].shape[2] < 2:
        raise ValueError("BC5 needs two channels (a normal map's x and y)")
    srgb = srgb and compression not in _DXGI_FORMATS
    if srgb and compression is None:
        levels = [_as_rgba(level) for level in levels]
        return _dx10_header(levels, _DXGI_SRGB_FORMATS[None], compressed=False) + b"".join(
            np.ascontiguousarray(level).tobytes() for level in levels)
    payloads, pillow_header = [], None
    for level in levels:
        payload, header = _level_payload(level, compression)
        payloads.append(payload)
        pillow_header = pillow_header or header
    if compression in _DXGI_FORMATS or srgb:
        dxgi = _DXGI_SRGB_FORMATS[compression] if srgb else _DXGI_FORMATS[compression]
        return _dx10_header(levels, dxgi, compressed=True, linear_size=len(payloads[0])) + b"".join(payloads)
    header = bytearray(pillow_header)
    if compression is not None:  # dwPitchOrLinearSize: the top level's bytes (Pillow writes a row pitch)
        struct.pack_into("<I", header, 20, len(payloads[0]))
    if len(levels) > 1:
        struct.pack_into("<I", header, 8, struct.unpack_from("<I", header, 8)[0] | _DDSD_MIPMAPCOUNT)
        struct.pack_into("<I", header, 28, len(levels))
        struct.pack_into("<I", header, 108, struct.unpack_from("<I", header, 108)[0] | _DDSCAPS_COMPLEX_MIPMAP)
    return bytes(header) + b"".join(payloads)


def _as_rgba(level: np.ndarray) -> np.ndarray:
    """(H,W,C) uint8, C in 1..4 -> (H,W,4): grey as RGB, alpha 255 where there is none."""
    colour = level[..., :3] if level.shape[2] >= 3 else np.repeat(level[..., :1], 3, axis=2)
    alpha = level[..., -1:] if level.shape[2] in (2, 4) else np.full(level.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([colour, alpha], axis=2)


def _level_payload(level: np.ndarray, compression: str | None) -> tuple[bytes, bytes | None]:
    """One level's texel data, and the header Pillow wrote for it (None where it wrote none)."""
    from imaging import bcn

    if compression == "BC4":
        return bcn.encode_bc4(level[..., 0]), None
    if compression == "BC5":
        return bcn.encode_bc5(level[..., 0], level[..., 1]), None
    if compression is not None and level.shape[2] < 3:  # the block encoders take colour
        level = _as_rgba(level) if level.shape[2] == 2 else np.repeat(level, 3, axis=2)
    out = io.BytesIO()
    image = PILImage.fromarray(np.ascontiguousarray(level if level.shape[2] > 1 else level[..., 0]),
                               _PIL_MODES[level.shape[2]])
    image.save(out, "DDS", **({"pixel_format": compression} if compression else {}))
    data = out.getvalue()
    size = _DDS_HEADER_BYTES if data[84:88] == b"DX10" else _DDS_HEADER_BYTES - 20
    return _better_blocks(data[size:], level, compression), data[:size]


def _dx10_header(levels, dxgi_format: int, *, compressed: bool, linear_size: int = 0) -> bytes:
    """A DDS header with the DX10 extension naming `dxgi_format`, for a 2-D texture of these levels
    (uncompressed ones 4 bytes a texel)."""
    height, width = levels[0].shape[:2]
    flags = 0x1 | 0x2 | 0x4 | 0x1000  # CAPS, HEIGHT, WIDTH, PIXELFORMAT
    flags |= 0x80000 if compressed else 0x8  # LINEARSIZE or PITCH
    caps = 0x1000  # DDSCAPS_TEXTURE
    if len(levels) > 1:
        flags |= _DDSD_MIPMAPCOUNT
        caps |= _DDSCAPS_COMPLEX_MIPMAP
    pitch_or_size = linear_size if compressed else width * 4
    return (b"DDS " + struct.pack("<7I", 124, flags, height, width, pitch_or_size, 0, len(levels))
            + bytes(44)  # reserved
            + struct.pack("<2I4s5I", 32, 0x4, b"DX10", 0, 0, 0, 0, 0)  # pixel format: FourCC DX10
            + struct.pack("<5I", caps, 0, 0, 0, 0)
            # DXGI format, 2D texture, no flags, array size 1, alpha mode unknown
            + struct.pack("<5I", dxgi_format, 3, 0, 1, 0))


def _better_blocks(payload: bytes, level: np.ndarray, compression: str | None) -> bytes:
    """Pillow's DXT1 / DXT5 blocks with imaging.bcn's in their place (least-squares endpoints:
    +2 to +4 dB on photographs): DXT5 whole, DXT1 where the block is opaque (Pillow's keep the
    1-bit alpha of the others); DXT3's and uncompressed payloads as Pillow wrote them."""
    from imaging import bcn

    if compression == "DXT5":
        return bcn.encode_bc3(_as_rgba(level))
    if compression != "DXT1":
        return payload
    blocks = np.frombuffer(payload, np.uint8).reshape(-1, 8).copy()
    ours = bcn.encode_bc1(level[..., :3])
    opaque = bcn.opaque_blocks(level[..., 3]) if level.shape[2] == 4 else np.ones(len(blocks), bool)
    blocks[opaque] = ours[opaque]
    return blocks.tobytes()


def _check_mip_sizes(levels) -> None:
    height, width = levels[0].shape[:2]
    for index, level in enumerate(levels):
        expected = (max(1, height >> index), max(1, width >> index))
        if level.shape[:2] != expected:
            raise ValueError(f"mip level {index} is {level.shape[1]}x{level.shape[0]}, expected "
                             f"{expected[1]}x{expected[0]}")


def write_image(path, pixels: np.ndarray, *, bit_depth=None, compression=None, mipmaps=(), srgb=False) -> None:
    """Write PNG, EXR, TGA or DDS, chosen by the file extension.

    PNG: (H,W) or (H,W,C), C in 1..4 (RGB(A) order, 2 = grey+alpha);
        bit_depth "8"/"16" (default: from the dtype; float input -> "8",
        float values in [0,1] are quantised with rounding and clipping).
    EXR: values are written unchanged as linear float; bit_depth "32f"
        (default) or "16f" (half: values beyond +-65504 are clipped to it,
        infinities raise ValueError). Integer input is scaled to [0,1] first.
    TGA: 8-bit; compression "rle" or None (`encode_tga`).
    DDS: 8-bit; compression None or one of DDS_COMPRESSIONS, `mipmaps` the levels below
        `pixels`, `srgb` the sRGB flag of the format (`encode_dds`).
    """
    suffix = Path(path).suffix.lower()
    if compression is not None and suffix not in (".tga", ".dds"):
        raise ValueError(f"compression is for TGA and DDS files, not {suffix!r}")
    if (len(mipmaps) or srgb) and suffix != ".dds":
        raise ValueError(f"mip levels and the sRGB flag are for DDS files, not {suffix!r}")
    if suffix == ".png":
        data = _encode_png(pixels, bit_depth)
    elif suffix == ".exr":
        if bit_depth not in (None, "32f", "16f"):
            raise ValueError(f"EXR bit_depth must be '32f' or '16f', got {bit_depth!r}")
        data = exr.encode(to_float32(_as_hwc(pixels)), half=bit_depth == "16f")
    elif suffix == ".tga":
        if compression not in (None, "rle"):
            raise ValueError(f"TGA compression must be 'rle' or None, got {compression!r}")
        data = encode_tga(_texture_pixels(pixels, bit_depth, "tga"), rle=compression == "rle")
    elif suffix == ".dds":
        data = encode_dds([_texture_pixels(pixels, bit_depth, "dds"), *mipmaps], compression=compression, srgb=srgb)
    else:
        raise ValueError(f"cannot write {suffix!r} files: use .png, .exr, .tga or .dds")
    Path(path).write_bytes(data)

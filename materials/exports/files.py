"""Textures of an export and how they become files: bit depth, colour transfer, PNG, TGA, DDS or EXR."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imaging.color import linear_to_srgb
from imaging.io import encode_png, from_float32, write_image
from imaging.mipmaps import mip_chain
from imaging.padding import looks_tileable

BIT_DEPTHS = ("8", "16")
TEXTURE_FORMATS = ("png", "tga", "dds")
# DDS block compression by texture role, as engines compress them on import: colour and packed
# masks DXT1 (DXT5 with an alpha channel), normal maps BC5 (x and y; z is rebuilt from them),
# single-channel maps BC4. Direction maps would lose their angles to DXT1's colour endpoints:
# they stay uncompressed (8-bit, lossless).
_DDS_NORMAL_ROLES = ("normal", "normal-dx")
_DDS_UNCOMPRESSED_ROLES = ("anisotropy",)


@dataclass(frozen=True)
class ExportOptions:
    """bit_depth: "8" or "16" (PNG); exr: write linear data maps as float EXR instead (presets
    whose format allows it); resolution: longest side in pixels, or None to keep the maps' size
    (maps are only ever scaled down); texture_format: "png", "tga" (8-bit, run-length encoded)
    or "dds" (8-bit, block-compressed by role, with a mip chain) for the folder presets."""

    bit_depth: str = "8"
    exr: bool = False
    resolution: int | None = None
    texture_format: str = "png"

    def __post_init__(self):
        if self.bit_depth not in BIT_DEPTHS:
            raise ValueError(f"bit_depth must be one of {BIT_DEPTHS}, got {self.bit_depth!r}")
        if self.texture_format not in TEXTURE_FORMATS:
            raise ValueError(f"texture_format must be one of {TEXTURE_FORMATS}, got {self.texture_format!r}")
        if self.texture_format != "png" and self.bit_depth != "8":
            raise ValueError(f"{self.texture_format.upper()} files hold 8 bits a channel; use PNG for 16-bit")
        if self.resolution is not None and self.resolution < 1:
            raise ValueError(f"resolution must be positive, got {self.resolution}")


@dataclass(frozen=True)
class Texture:
    """One texture of an export before it is encoded.

    stem: file name without extension, e.g. "T_Brick_ORM".
    role: what it holds ("basecolor", "normal", "orm", ...).
    colour_space: "srgb" (colour: `values` are linear light, sRGB-encoded on writing) or
        "linear" (data: `values` are written as they are).
    values: (H,W) or (H,W,C) float in [0,1].
    """

    stem: str
    role: str
    colour_space: str
    values: np.ndarray

    def encoded(self) -> np.ndarray:
        """The values the file holds, float32 in [0,1]."""
        values = linear_to_srgb(self.values) if self.colour_space == "srgb" else self.values
        return np.clip(values, 0.0, 1.0).astype(np.float32)

    def png_pixels(self, bit_depth: str) -> np.ndarray:
        """uint8 or uint16 pixels for a PNG of this texture."""
        return from_float32(self.encoded(), bit_depth)

    def png_bytes(self, bit_depth: str) -> bytes:
        return encode_png(self.png_pixels(bit_depth))


@dataclass(frozen=True)
class ExportedFile:
    """One written file.

    format: "png", "tga", "dds", "exr", "gltf", "bin" or "glb". width, height and bit_depth are the
    texture's, or for a model file (.gltf/.bin/.glb) those of the textures it uses.
    colour_space: of the texture; "linear" for model files, which hold no colour.
    """

    path: Path
    role: str
    colour_space: str
    width: int
    height: int
    bit_depth: str
    format: str

    @property
    def is_image(self) -> bool:
        return self.format in ("png", "tga", "dds", "exr")


def dds_compression(texture: Texture) -> str | None:
    """The block compression of `texture` in a DDS export (see _DDS_NORMAL_ROLES)."""
    channels = 1 if texture.values.ndim == 2 else texture.values.shape[2]
    if texture.role in _DDS_NORMAL_ROLES:
        return "BC5"
    if texture.role in _DDS_UNCOMPRESSED_ROLES:
        return None
    return {1: "BC4", 2: None, 3: "DXT1", 4: "DXT5"}[channels]


def write_texture(texture: Texture, out_dir: Path, options: ExportOptions, *, allow_exr: bool = True) -> ExportedFile:
    """Write `texture` into `out_dir` as options.texture_format (PNG at options.bit_depth), or
    as float32 EXR when the options ask for EXR, the texture is linear data and the preset
    allows it. An EXR holds the same values as the PNG would, at float precision (a normal map
    stays n*0.5+0.5). A DDS holds a mip chain down to 1x1 (colour averaged in linear light,
    normals as vectors; wrapped where the map tiles)."""
    height, width = texture.values.shape[:2]
    if options.exr and allow_exr and texture.colour_space == "linear":
        path = Path(out_dir) / f"{texture.stem}.exr"
        write_image(path, texture.encoded())
        return ExportedFile(path, texture.role, "linear", width, height, "32f", "exr")
    fmt = options.texture_format
    path = Path(out_dir) / f"{texture.stem}.{fmt}"
    pixels = texture.png_pixels(options.bit_depth)
    if fmt == "tga":
        write_image(path, pixels, compression="rle")
    elif fmt == "dds":
        kind = "color" if texture.colour_space == "srgb" else "normal" if texture.role in _DDS_NORMAL_ROLES else "linear"
        levels = mip_chain(pixels, kind=kind, wrap=looks_tileable(pixels))
        # Colour textures declare their sRGB encoding (BC1_UNORM_SRGB...), as texconv -srgb does.
        write_image(path, pixels, compression=dds_compression(texture), mipmaps=levels,
                    srgb=texture.colour_space == "srgb")
    else:
        write_image(path, pixels, bit_depth=options.bit_depth)
    return ExportedFile(path, texture.role, texture.colour_space, width, height, options.bit_depth, fmt)

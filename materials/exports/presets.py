"""Texture sets of the folder presets (Unreal Engine, Unity, plain PBR): which textures, named
how, packed how. Each returns the `Texture`s to write; docs/exports.md lists them."""

import numpy as np

from .conversion import MetalRoughness, encode_axes, encode_normal_dx, encode_normal_gl
from .files import Texture
from .maps import MaterialMaps


def _ones(maps: MaterialMaps) -> np.ndarray:
    return np.ones(maps.size, np.float32)


def occlusion_or_white(maps: MaterialMaps) -> np.ndarray:
    """(H,W) ambient occlusion, 1 (unoccluded) where the set has none."""
    return maps.ao if maps.ao is not None else _ones(maps)


def unreal_textures(name: str, maps: MaterialMaps, metal: MetalRoughness) -> list[Texture]:
    """T_<Name>_BC (sRGB base colour), T_<Name>_N (DirectX normal), T_<Name>_ORM (linear:
    R = AO, G = roughness, B = metallic), Unreal's texture naming and packing."""
    orm = np.stack([occlusion_or_white(maps), maps.roughness, metal.metalness], axis=-1)
    return [
        Texture(f"T_{name}_BC", "basecolor", "srgb", metal.base_colour),
        Texture(f"T_{name}_N", "normal", "linear", encode_normal_dx(maps.normal)),
        Texture(f"T_{name}_ORM", "orm", "linear", orm),
    ]


def unity_textures(name: str, maps: MaterialMaps, metal: MetalRoughness) -> list[Texture]:
    """<Name>_BaseMap (sRGB), <Name>_Normal (OpenGL), <Name>_MaskMap (linear RGBA: R = metallic,
    G = AO, B = detail mask, A = smoothness = 1 - roughness), the HDRP mask map; URP's metallic
    map reads the same R and A."""
    # No detail map comes with a capture: a white detail mask lets one added later show fully.
    mask = np.stack([metal.metalness, occlusion_or_white(maps), _ones(maps), 1.0 - maps.roughness], axis=-1)
    return [
        Texture(f"{name}_BaseMap", "basecolor", "srgb", metal.base_colour),
        Texture(f"{name}_Normal", "normal", "linear", encode_normal_gl(maps.normal)),
        Texture(f"{name}_MaskMap", "mask", "linear", mask),
    ]


def pbr_textures(name: str, maps: MaterialMaps, metal: MetalRoughness) -> list[Texture]:
    """One map per file, the common names of PBR texture libraries; optional maps where present."""
    textures = [
        Texture(f"{name}_Color", "basecolor", "srgb", metal.base_colour),
        Texture(f"{name}_NormalGL", "normal", "linear", encode_normal_gl(maps.normal)),
        Texture(f"{name}_NormalDX", "normal-dx", "linear", encode_normal_dx(maps.normal)),
        Texture(f"{name}_Roughness", "roughness", "linear", maps.roughness),
    ]
    if maps.specular is not None:
        textures.append(Texture(f"{name}_Specular", "specular", "srgb", maps.specular))
    if maps.aniso_direction is not None:
        textures.append(Texture(f"{name}_Anisotropy", "anisotropy", "linear",
                                encode_axes(maps.aniso_direction, maps.aniso_strength)))
    if maps.specular is not None or maps.metallic is not None:
        textures.append(Texture(f"{name}_Metalness", "metallic", "linear", metal.metalness))
    if maps.ao is not None:
        textures.append(Texture(f"{name}_AmbientOcclusion", "ao", "linear", maps.ao))
    if maps.height is not None:
        textures.append(Texture(f"{name}_Displacement", "height", "linear", maps.height))
    return textures


FOLDER_PRESETS = {"unreal": unreal_textures, "unity": unity_textures, "pbr": pbr_textures}

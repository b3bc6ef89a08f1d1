"""glTF 2.0 export: the material on a unit quad, as `<Name>.gltf` + `<Name>.bin` + PNG textures,
or everything embedded in one `<Name>.glb`.

The quad lies in the XY plane facing +Z (glTF is +Y up), its longest side 1, with the
textures' aspect ratio. UV (0,0) is the image's top-left corner (glTF's convention), so the
mesh tangent (+X) is image right and the bitangent N x T (+Y) is image up: the frame our
normal and anisotropy maps are expressed in (docs/shading-model.md), used without change.
"""

import json
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np

from .conversion import DIELECTRIC_F0, MetalRoughness, encode_axes, encode_normal_gl, gltf_anisotropy
from .files import ExportedFile, ExportOptions, Texture, write_texture
from .maps import MaterialMaps
from .presets import occlusion_or_white

# KHR_materials_specular scales the dielectric F0 of 0.04 by specularColor:
# F0 = min(0.04 * specularColorFactor * specularColorTexture, 1). A factor of 1/0.04 makes the
# texture hold F0 itself, so our sRGB specular map is used exactly as it is.
SPECULAR_COLOR_FACTOR = 1.0 / DIELECTRIC_F0

FLOAT, UNSIGNED_SHORT = 5126, 5123
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
LINEAR, LINEAR_MIPMAP_LINEAR, REPEAT = 9729, 9987, 10497
TRIANGLES = 4
GLB_MAGIC, GLB_VERSION = b"glTF", 2
GLB_JSON, GLB_BIN = 0x4E4F534A, 0x004E4942


def material_textures(name: str, maps: MaterialMaps, metal: MetalRoughness) -> tuple[list[Texture], dict]:
    """The textures and the glTF material that uses them (textureInfo index i = textures[i])."""
    textures: list[Texture] = []

    def add(texture: Texture) -> dict:
        textures.append(texture)
        return {"index": len(textures) - 1}

    roughness = maps.roughness
    anisotropy = None
    if maps.aniso_direction is not None:
        roughness, strength = gltf_anisotropy(maps.roughness, maps.aniso_strength)
        anisotropy = encode_axes(maps.aniso_direction, strength)
    # Occlusion shares the metal/roughness texture's free red channel (glTF's usual ORM packing).
    orm = np.stack([occlusion_or_white(maps), roughness, metal.metalness], axis=-1)
    material = {
        "name": name,
        "pbrMetallicRoughness": {
            "baseColorTexture": add(Texture(f"{name}_BaseColor", "basecolor", "srgb", metal.base_colour)),
            "metallicRoughnessTexture": add(Texture(f"{name}_OcclusionRoughnessMetallic", "orm", "linear", orm)),
            "metallicFactor": 1.0,
            "roughnessFactor": 1.0,
        },
        "normalTexture": add(Texture(f"{name}_Normal", "normal", "linear", encode_normal_gl(maps.normal))),
    }
    if maps.ao is not None:
        material["occlusionTexture"] = dict(material["pbrMetallicRoughness"]["metallicRoughnessTexture"])
    extensions = {}
    if maps.specular is not None:
        extensions["KHR_materials_specular"] = {
            "specularColorTexture": add(Texture(f"{name}_SpecularColor", "specular", "srgb", maps.specular)),
            "specularColorFactor": [SPECULAR_COLOR_FACTOR] * 3,
        }
    if anisotropy is not None:
        extensions["KHR_materials_anisotropy"] = {
            "anisotropyTexture": add(Texture(f"{name}_Anisotropy", "anisotropy", "linear", anisotropy)),
            "anisotropyStrength": 1.0,
            "anisotropyRotation": 0.0,
        }
    if extensions:
        material["extensions"] = extensions
    return textures, material


def quad_geometry(height: int, width: int) -> tuple[bytes, list[dict], list[dict], dict]:
    """The quad's binary data, its bufferViews and accessors, and the primitive's attributes.

    Four vertices (POSITION, NORMAL, TANGENT, TEXCOORD_0), two counter-clockwise triangles
    (uint16 indices); buffer views start at multiples of 4 bytes, as glTF requires.
    """
    half_x, half_y = 0.5 * width / max(height, width), 0.5 * height / max(height, width)
    positions = np.array([[-half_x, half_y, 0], [half_x, half_y, 0], [half_x, -half_y, 0], [-half_x, -half_y, 0]],
                         np.float32)
    normals = np.tile(np.array([0, 0, 1], np.float32), (4, 1))
    tangents = np.tile(np.array([1, 0, 0, 1], np.float32), (4, 1))  # w = +1: bitangent = N x T = +Y
    uvs = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    indices = np.array([0, 3, 2, 0, 2, 1], np.uint16)
    parts = [("POSITION", positions, "VEC3"), ("NORMAL", normals, "VEC3"), ("TANGENT", tangents, "VEC4"),
             ("TEXCOORD_0", uvs, "VEC2"), (None, indices, "SCALAR")]
    data, views, accessors, attributes = b"", [], [], {}
    for attribute, array, accessor_type in parts:
        raw = array.tobytes()
        views.append({"buffer": 0, "byteOffset": len(data), "byteLength": len(raw),
                      "target": ARRAY_BUFFER if attribute else ELEMENT_ARRAY_BUFFER})
        accessor = {"bufferView": len(views) - 1, "componentType": FLOAT if attribute else UNSIGNED_SHORT,
                    "count": len(array), "type": accessor_type}
        if attribute == "POSITION":  # required for positions
            accessor["min"], accessor["max"] = positions.min(axis=0).tolist(), positions.max(axis=0).tolist()
        accessors.append(accessor)
        if attribute:
            attributes[attribute] = len(accessors) - 1
        data += _pad(raw, b"\0")
    return data, views, accessors, attributes


def build_document(name: str, material: dict, images: list[dict], geometry, buffer_length: int,
                   buffer_uri: str | None) -> dict:
    """The glTF JSON: one scene, one node, one mesh, one material; texture i uses image i."""
    _, views, accessors, attributes = geometry
    extensions_used = sorted(material.get("extensions", {}))
    document = {
        "asset": {"version": "2.0", "generator": "materials service export"},
        "scene": 0,
        "scenes": [{"name": name, "nodes": [0]}],
        "nodes": [{"name": name, "mesh": 0}],
        "meshes": [{"name": name, "primitives": [{"attributes": attributes, "indices": len(accessors) - 1,
                                                  "material": 0, "mode": TRIANGLES}]}],
        "materials": [material],
        "textures": [{"source": i, "sampler": 0} for i in range(len(images))],
        "images": images,
        "samplers": [{"magFilter": LINEAR, "minFilter": LINEAR_MIPMAP_LINEAR, "wrapS": REPEAT, "wrapT": REPEAT}],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": buffer_length, **({"uri": buffer_uri} if buffer_uri else {})}],
    }
    if extensions_used:
        document["extensionsUsed"] = extensions_used
    return document


def write_gltf(name: str, maps: MaterialMaps, metal: MetalRoughness, out_dir: Path,
               options: ExportOptions) -> list[ExportedFile]:
    """`<Name>.gltf`, `<Name>.bin` and one PNG per texture (glTF's core takes PNG and JPEG only:
    options.exr and options.texture_format are not used)."""
    textures, material = material_textures(name, maps, metal)
    png = replace(options, texture_format="png")
    written = [write_texture(texture, out_dir, png, allow_exr=False) for texture in textures]
    geometry = quad_geometry(*maps.size)
    images = [{"uri": file.path.name, "name": texture.stem} for file, texture in zip(written, textures)]
    bin_path, gltf_path = out_dir / f"{name}.bin", out_dir / f"{name}.gltf"
    bin_path.write_bytes(geometry[0])
    document = build_document(name, material, images, geometry, len(geometry[0]), bin_path.name)
    gltf_path.write_text(json.dumps(document, indent=1))
    model = dict(colour_space="linear", width=maps.size[1], height=maps.size[0], bit_depth=options.bit_depth)
    return [ExportedFile(gltf_path, "gltf", format="gltf", **model),
            ExportedFile(bin_path, "gltf-buffer", format="bin", **model), *written]


def write_glb(name: str, maps: MaterialMaps, metal: MetalRoughness, out_dir: Path,
              options: ExportOptions) -> list[ExportedFile]:
    """One `<Name>.glb`: JSON chunk, then a BIN chunk with the quad and the PNG textures."""
    textures, material = material_textures(name, maps, metal)
    geometry = quad_geometry(*maps.size)
    data, views = geometry[0], geometry[1]  # the images' views go after the mesh's, in one buffer
    images = []
    for texture in textures:
        png = texture.png_bytes(options.bit_depth)
        views.append({"buffer": 0, "byteOffset": len(data), "byteLength": len(png)})
        images.append({"bufferView": len(views) - 1, "mimeType": "image/png", "name": texture.stem})
        data += _pad(png, b"\0")
    document = build_document(name, material, images, geometry, len(data), None)
    path = out_dir / f"{name}.glb"
    path.write_bytes(glb_bytes(document, data))
    return [ExportedFile(path, "glb", "linear", maps.size[1], maps.size[0], options.bit_depth, "glb")]


def glb_bytes(document: dict, binary: bytes) -> bytes:
    """The GLB container: 12-byte header, JSON chunk (space-padded), BIN chunk (zero-padded)."""
    json_chunk = _pad(json.dumps(document, separators=(",", ":")).encode(), b" ")
    bin_chunk = _pad(binary, b"\0")
    total = 12 + 8 + len(json_chunk) + 8 + len(bin_chunk)
    return (GLB_MAGIC + struct.pack("<II", GLB_VERSION, total)
            + struct.pack("<II", len(json_chunk), GLB_JSON) + json_chunk
            + struct.pack("<II", len(bin_chunk), GLB_BIN) + bin_chunk)


def _pad(data: bytes, filler: bytes) -> bytes:
    """`data` padded to a multiple of 4 bytes."""
    return data + filler * (-len(data) % 4)

"""Engine export presets (materials.exports): the spec/gloss -> metal/rough conversion, normal
conventions, channel packing, file names, resizing, bit depths and glTF validity."""

import json
import struct

import numpy as np
import pytest

from imaging.color import linear_to_srgb
from imaging.io import read_image, to_float32
from materials.exports import ExportOptions, MissingMapsError, SourceMap, export_material, safe_name
from materials.exports.conversion import (
    F0_DIELECTRIC_MAX, F0_METAL_MIN, base_colour_from_specgloss, encode_normal_dx, encode_normal_gl,
    gltf_anisotropy, metalness_from_specular,
)
from materials.exports.gltf import SPECULAR_COLOR_FACTOR
from materials.exports.resample import resize_axes

GOLD_F0 = (1.0, 0.78, 0.34)


# -- test material ----------------------------------------------------------------------------

def constant(value, height=32, width=48, channels=3) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, np.float32), (height, width, channels)).copy()


def encoded_png(values, bit_depth="8") -> np.ndarray:
    """Float [0,1] -> the integer pixels a PNG file would hold."""
    top, dtype = (255, np.uint8) if bit_depth == "8" else (65535, np.uint16)
    return np.rint(np.clip(values, 0, 1) * top).astype(dtype)


def bumpy_normals(height=32, width=48) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    n = np.stack([0.4 * np.sin(x / 3.0), 0.4 * np.cos(y / 2.0), np.ones_like(x)], axis=-1)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def material(size=(32, 48), bit_depth="8", **extra) -> dict:
    """role -> SourceMap of a plain dielectric: albedo 0.5 (linear), F0 0.04, bumpy normals,
    roughness 0.6, anisotropy along image x at strength 0.5; `extra` adds or replaces roles
    (given as float values in [0,1], encoded like the files hold them). size: (height, width)."""
    height, width = size
    values = {
        "albedo": linear_to_srgb(constant(0.5, height, width)),
        "specular": linear_to_srgb(constant(0.04, height, width)),
        "normal": bumpy_normals(height, width) * 0.5 + 0.5,
        "roughness": constant(0.6, height, width, 1),
        "anisotropy": constant((1.0, 0.5, 0.5), height, width),
        **extra,
    }
    colour_roles = ("albedo", "specular")
    return {role: SourceMap(encoded_png(v, bit_depth), "srgb" if role in colour_roles else "linear")
            for role, v in values.items()}


def export(tmp_path, preset, sources=None, **options):
    return export_material(sources or material(), tmp_path / preset, preset=preset, name="Brick Wall",
                           options=ExportOptions(**options))


def pixels(path) -> np.ndarray:
    return to_float32(read_image(path).pixels)


# -- conversion -------------------------------------------------------------------------------

def test_a_dielectric_has_no_metalness_and_keeps_its_albedo():
    albedo, f0 = constant(0.5), constant(0.04)
    metalness = metalness_from_specular(f0)
    assert np.all(metalness == 0)
    np.testing.assert_allclose(base_colour_from_specgloss(albedo, f0, metalness), 0.5, atol=1e-6)


def test_gold_is_a_metal_whose_base_colour_is_its_f0():
    albedo, f0 = constant(0.01), constant(GOLD_F0)
    metalness = metalness_from_specular(f0)
    assert np.all(metalness > 0.999)
    np.testing.assert_allclose(base_colour_from_specgloss(albedo, f0, metalness), f0, atol=1e-3)


def test_metalness_ramps_smoothly_between_dielectric_and_metal_f0():
    f0 = np.linspace(0.0, 1.0, 201, dtype=np.float32)
    metalness = metalness_from_specular(np.stack([f0] * 3, axis=-1))
    assert np.all(np.diff(metalness) >= 0) and metalness.min() == 0 and metalness.max() == 1
    assert np.all(metalness[f0 <= F0_DIELECTRIC_MAX] == 0) and np.all(metalness[f0 >= F0_METAL_MIN] == 1)
    assert np.abs(np.diff(metalness)).max() < 0.03  # no jump anywhere
    # A coloured F0 counts by its brightest channel: copper is a metal.
    assert metalness_from_specular(np.array([[0.95, 0.64, 0.54]], np.float32))[0] == 1


def test_directx_normal_green_is_the_inverse_of_opengl_green():
    normals = bumpy_normals()
    gl, dx = encode_normal_gl(normals), encode_normal_dx(normals)
    np.testing.assert_allclose(dx[..., 1], 1.0 - gl[..., 1], atol=1e-6)
    np.testing.assert_array_equal(dx[..., [0, 2]], gl[..., [0, 2]])


@pytest.mark.parametrize("roughness", [0.05, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("anisotropy", [0.0, 0.2, 0.5, 0.8])
def test_gltf_anisotropy_reproduces_both_lobe_widths(roughness, anisotropy):
    r, a = np.float32(roughness), np.float32(anisotropy)
    alpha_t, alpha_b = r * r * (1 + a) / (1 - a), r * r * (1 - a) / (1 + a)
    gltf_roughness, strength = gltf_anisotropy(np.array([r]), np.array([a]))
    assert gltf_roughness[0] ** 2 == pytest.approx(alpha_b, rel=1e-5)
    # KHR_materials_anisotropy: alpha along the direction = mix(alpha, 1, strength^2).
    widened = gltf_roughness[0] ** 2 * (1 - strength[0] ** 2) + strength[0] ** 2
    assert widened == pytest.approx(min(alpha_t, 1.0), rel=1e-4, abs=1e-6)
    if anisotropy == 0:
        assert gltf_roughness[0] == pytest.approx(r) and strength[0] == 0


def test_resizing_anisotropy_keeps_axes_whichever_sign_encodes_them():
    # Alternating columns encode one axis (45 degrees) as +d and -d: a plain average would cancel.
    direction = np.zeros((8, 8, 2), np.float32)
    direction[:, 0::2] = (np.sqrt(0.5), np.sqrt(0.5))
    direction[:, 1::2] = (-np.sqrt(0.5), -np.sqrt(0.5))
    new_direction, strength = resize_axes(direction, np.full((8, 8), 0.7, np.float32), (4, 4))
    np.testing.assert_allclose(np.abs(new_direction), np.sqrt(0.5), atol=1e-4)
    np.testing.assert_allclose(strength, 0.7, atol=1e-4)


# -- folder presets -----------------------------------------------------------------------------

def test_unreal_files_names_colour_spaces_and_orm_packing(tmp_path):
    sources = material(ao=constant(0.2, channels=1), metallic=constant(0.9, channels=1),
                       albedo=linear_to_srgb(constant(0.5)))
    result = export(tmp_path, "unreal", sources)
    files = {f.path.name: f for f in result.files}
    assert list(files) == ["T_BrickWall_BC.png", "T_BrickWall_N.png", "T_BrickWall_ORM.png"]
    assert [f.colour_space for f in files.values()] == ["srgb", "linear", "linear"]
    orm = pixels(tmp_path / "unreal" / "T_BrickWall_ORM.png")
    np.testing.assert_allclose(orm[0, 0], (0.2, 0.6, 0.9), atol=1 / 255)
    # With a metallic map the albedo is the base colour, written sRGB-encoded.
    base = pixels(tmp_path / "unreal" / "T_BrickWall_BC.png")
    np.testing.assert_allclose(base[0, 0], linear_to_srgb(np.float32(0.5)), atol=1 / 255)
    normal_dx = pixels(tmp_path / "unreal" / "T_BrickWall_N.png")
    np.testing.assert_allclose(normal_dx[..., 1], 1 - encode_normal_gl(bumpy_normals())[..., 1], atol=1 / 255)


def test_unity_mask_map_packs_metallic_ao_detail_and_smoothness(tmp_path):
    sources = material(occlusion=constant(0.3, channels=1), specular=linear_to_srgb(constant(GOLD_F0)))
    result = export(tmp_path, "unity", sources)
    assert [f.path.name for f in result.files] == ["BrickWall_BaseMap.png", "BrickWall_Normal.png",
                                                   "BrickWall_MaskMap.png"]
    mask = pixels(tmp_path / "unity" / "BrickWall_MaskMap.png")
    assert mask.shape[2] == 4
    np.testing.assert_allclose(mask[0, 0], (1.0, 0.3, 1.0, 1 - 0.6), atol=1 / 255)
    normal_gl = pixels(tmp_path / "unity" / "BrickWall_Normal.png")
    np.testing.assert_allclose(normal_gl, encode_normal_gl(bumpy_normals()), atol=1 / 255)
    # Gold's base colour is its F0.
    base = pixels(tmp_path / "unity" / "BrickWall_BaseMap.png")
    np.testing.assert_allclose(base[0, 0], linear_to_srgb(np.array(GOLD_F0, np.float32)), atol=2 / 255)


@pytest.mark.parametrize("preset, compressions", [
    # colour maps carry the sRGB flag (a DX10 header: BC1_UNORM_SRGB reads back as "BC1")
    ("unreal", {"T_BrickWall_BC": "BC1", "T_BrickWall_N": "BC5", "T_BrickWall_ORM": "DXT1"}),
    ("unity", {"BrickWall_BaseMap": "BC1", "BrickWall_Normal": "BC5", "BrickWall_MaskMap": "DXT5"}),
])
def test_dds_export_compresses_by_role_with_mip_maps(tmp_path, preset, compressions):
    sources = material(ao=constant(0.2, channels=1), metallic=constant(0.9, channels=1))
    png = {f.path.stem: pixels(f.path) for f in export(tmp_path / "png", preset, sources).files}
    result = export(tmp_path, preset, sources, texture_format="dds")
    assert {f.path.name: f.format for f in result.files} == {f"{stem}.dds": "dds" for stem in compressions}
    for file in result.files:
        image = read_image(file.path)
        # 32x48: levels 16x24, 8x12, 4x6, 2x3, 1x1
        assert (image.block_compression, image.mip_levels) == (compressions[file.path.stem], 6), file.path.name
        assert image.dds_srgb == (file.colour_space == "srgb"), file.path.name
        # the same textures as the PNG export, within the block encoder's error (DXT1 reads back as RGBA)
        reference = png[file.path.stem]
        decoded = to_float32(image.pixels)[..., :reference.shape[2]]
        if image.block_compression == "BC5":
            normal, expected = decoded * 2 - 1, reference * 2 - 1
            assert np.abs(np.linalg.norm(normal, axis=-1) - 1).max() < 0.03
            cosine = (normal * expected).sum(-1) / np.linalg.norm(normal, axis=-1) / np.linalg.norm(expected, axis=-1)
            assert np.degrees(np.arccos(np.clip(cosine, -1, 1))).mean() < 2.5
        else:
            assert np.abs(decoded - reference).mean() < 3 / 255, file.path.name


def test_tga_export_and_what_dds_leaves_uncompressed(tmp_path):
    result = export(tmp_path, "pbr", texture_format="tga")
    assert all(f.path.suffix == ".tga" and f.format == "tga" for f in result.files)
    png = export(tmp_path / "png", "pbr")
    for tga, reference in zip(result.files, png.files):
        image = read_image(tga.path)
        assert image.rle and np.array_equal(image.pixels, read_image(reference.path).pixels), tga.path.name
    # Single-channel maps are BC4 in a DDS export; the anisotropy directions stay lossless.
    dds = {f.path.stem: read_image(f.path) for f in export(tmp_path / "dds", "pbr", texture_format="dds").files}
    assert dds["BrickWall_Roughness"].block_compression == "BC4"
    assert np.array_equal(dds["BrickWall_Roughness"].pixels,  # a constant map: exact
                          read_image(tmp_path / "png" / "pbr" / "BrickWall_Roughness.png").pixels)
    assert dds["BrickWall_Anisotropy"].block_compression is None
    assert np.array_equal(dds["BrickWall_Anisotropy"].pixels,
                          read_image(tmp_path / "png" / "pbr" / "BrickWall_Anisotropy.png").pixels)
    with pytest.raises(ValueError, match="8 bits"):
        ExportOptions(bit_depth="16", texture_format="tga")
    # glTF stays PNG, and says so.
    gltf = export(tmp_path, "gltf", texture_format="dds")
    assert all(f.format != "dds" for f in gltf.files) and any("PNG only" in note for note in gltf.notes)


def test_pbr_folder_names_every_map_and_leaves_out_absent_ones(tmp_path):
    names = [f.path.name for f in export(tmp_path, "pbr").files]
    assert names == ["BrickWall_Color.png", "BrickWall_NormalGL.png", "BrickWall_NormalDX.png",
                     "BrickWall_Roughness.png", "BrickWall_Specular.png", "BrickWall_Anisotropy.png",
                     "BrickWall_Metalness.png"]
    full = material(ao=constant(0.5, channels=1), height=constant(0.25, channels=1))
    names = [f.path.name for f in export(tmp_path / "full", "pbr", full).files]
    assert names[-2:] == ["BrickWall_AmbientOcclusion.png", "BrickWall_Displacement.png"]
    bare = {role: source for role, source in material().items() if role in ("albedo", "normal")}
    result = export(tmp_path / "bare", "pbr", bare)
    assert [f.path.name for f in result.files] == ["BrickWall_Color.png", "BrickWall_NormalGL.png",
                                                   "BrickWall_NormalDX.png", "BrickWall_Roughness.png"]
    assert "roughness 0.5" in result.notes[0]


def test_glossiness_stands_in_for_roughness(tmp_path):
    sources = material()
    del sources["roughness"]
    sources["glossiness"] = SourceMap(encoded_png(constant(0.25, channels=1)), "linear")
    export(tmp_path, "pbr", sources)
    np.testing.assert_allclose(pixels(tmp_path / "pbr" / "BrickWall_Roughness.png"), 0.75, atol=1 / 255)


def test_resolution_scales_down_keeping_aspect_and_unit_normals(tmp_path):
    result = export(tmp_path, "pbr", material(size=(64, 96)), resolution=48)
    assert (result.width, result.height) == (48, 32)
    assert all((f.width, f.height) == (48, 32) for f in result.files)
    normal = pixels(tmp_path / "pbr" / "BrickWall_NormalGL.png") * 2 - 1
    assert normal.shape == (32, 48, 3)
    assert np.abs(np.linalg.norm(normal, axis=-1) - 1).max() < 0.02  # 8-bit quantisation only
    # A resolution above the maps' size leaves them as they are (no enlarging).
    assert (export(tmp_path / "big", "pbr", resolution=4096).width) == 48


def test_a_tiling_material_is_scaled_down_across_its_edges(tmp_path):
    from imaging.color import srgb_to_linear
    from imaging.resize import resize

    yy, xx = np.mgrid[0:64, 0:96] / np.array([64, 96])[:, None, None]
    wave = 0.5 + 0.4 * np.sin(2 * np.pi * 5 * xx) * np.cos(2 * np.pi * 3 * yy)  # tiles: whole periods
    tiling = np.repeat(wave[..., None], 3, axis=2).astype(np.float32)
    export(tmp_path, "unreal", material(size=(64, 96), albedo=tiling), resolution=37)
    albedo = pixels(tmp_path / "unreal" / "T_BrickWall_BC.png")
    linear = srgb_to_linear(tiling)
    border = (slice(None), [0, 1, -2, -1])  # where wrapping or not makes the difference
    for wrap, matches in ((True, True), (False, False)):
        reference = np.clip(linear_to_srgb(resize(linear, (25, 37), wrap=wrap)), 0, 1)
        error = np.abs(albedo[border] - reference[border]).max()
        assert (error < 2.5 / 255) == matches, (wrap, error)


def test_16_bit_stays_16_bit_and_exr_holds_the_data_maps(tmp_path):
    result = export(tmp_path, "unreal", material(bit_depth="16"), bit_depth="16")
    for file in result.files:
        image = read_image(file.path)
        assert image.bit_depth == "16" and image.pixels.dtype == np.uint16
    orm = read_image(tmp_path / "unreal" / "T_BrickWall_ORM.png").pixels
    assert orm[0, 0, 1] == round(0.6 * 65535)  # 16-bit precision kept, not 8-bit steps
    exr = export(tmp_path / "exr", "unreal", exr=True)
    assert [f.path.name for f in exr.files] == ["T_BrickWall_BC.png", "T_BrickWall_N.exr", "T_BrickWall_ORM.exr"]
    orm = read_image(tmp_path / "exr" / "unreal" / "T_BrickWall_ORM.exr")
    assert orm.pixels.dtype == np.float32 and orm.pixels[0, 0, 1] == pytest.approx(0.6, abs=1 / 255)


def test_float_normals_are_read_whether_raw_or_encoded(tmp_path):
    normals = bumpy_normals()
    for stored in (normals, normals * 0.5 + 0.5):  # the capture's EXR holds n itself
        export(tmp_path, "unity", {**material(), "normal": SourceMap(stored.astype(np.float32), "linear")})
        written = pixels(tmp_path / "unity" / "BrickWall_Normal.png")
        np.testing.assert_allclose(written, encode_normal_gl(normals), atol=1 / 255)


def test_missing_albedo_or_normal_is_refused(tmp_path):
    with pytest.raises(MissingMapsError) as refused:
        export(tmp_path, "pbr", {"roughness": material()["roughness"]})
    assert refused.value.roles == ("albedo", "normal")
    with pytest.raises(ValueError):
        export(tmp_path, "blender")


def test_names_are_made_safe_for_files_and_engines():
    assert safe_name("brick wall #2") == "BrickWall2"
    assert safe_name("Material from ../../etc") == "MaterialFromEtc"
    assert safe_name("  ") == safe_name(None) == "Material"


# -- glTF ---------------------------------------------------------------------------------------

COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
NUMPY_TYPES = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}


def read_glb(path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_length % 4 == 0
    document = json.loads(data[20:20 + json_length])
    bin_length, bin_type = struct.unpack_from("<II", data, 20 + json_length)
    assert bin_type == 0x004E4942 and bin_length % 4 == 0
    start = 28 + json_length
    assert start + bin_length == len(data)
    return document, data[start:start + bin_length]


def accessor_array(document, buffer, index) -> np.ndarray:
    """An accessor's elements, after checking they lie inside their buffer view."""
    accessor = document["accessors"][index]
    view = document["bufferViews"][accessor["bufferView"]]
    width = TYPE_SIZES[accessor["type"]]
    element = COMPONENT_SIZES[accessor["componentType"]] * width
    offset = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    assert offset % COMPONENT_SIZES[accessor["componentType"]] == 0
    stride = view.get("byteStride", element)
    assert accessor.get("byteOffset", 0) + stride * (accessor["count"] - 1) + element <= view["byteLength"]
    raw = np.frombuffer(buffer, np.uint8, count=stride * (accessor["count"] - 1) + element, offset=offset)
    rows = np.lib.stride_tricks.as_strided(raw, (accessor["count"], element), (stride, 1))
    return np.ascontiguousarray(rows).view(NUMPY_TYPES[accessor["componentType"]]).reshape(accessor["count"], width)


def check_gltf(document: dict, buffer: bytes, image_bytes) -> dict:
    """Structural checks of a glTF 2.0 document; returns the decoded images by index."""
    assert document["asset"]["version"] == "2.0"
    (buffer_info,) = document["buffers"]
    assert buffer_info["byteLength"] <= len(buffer)
    for view in document["bufferViews"]:
        assert view["buffer"] == 0
        assert view.get("byteOffset", 0) + view["byteLength"] <= buffer_info["byteLength"]
    assert 0 <= document["scene"] < len(document["scenes"])
    for scene in document["scenes"]:
        assert all(0 <= node < len(document["nodes"]) for node in scene["nodes"])
    for node in document["nodes"]:
        assert 0 <= node["mesh"] < len(document["meshes"])
    (mesh,) = document["meshes"]
    (primitive,) = mesh["primitives"]
    attributes = {name: accessor_array(document, buffer, i) for name, i in primitive["attributes"].items()}
    assert set(attributes) == {"POSITION", "NORMAL", "TANGENT", "TEXCOORD_0"}
    vertex_count = len(attributes["POSITION"])
    assert all(len(values) == vertex_count for values in attributes.values())
    position_accessor = document["accessors"][primitive["attributes"]["POSITION"]]
    np.testing.assert_allclose(position_accessor["min"], attributes["POSITION"].min(axis=0))
    np.testing.assert_allclose(position_accessor["max"], attributes["POSITION"].max(axis=0))
    np.testing.assert_allclose(np.linalg.norm(attributes["NORMAL"], axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(attributes["TANGENT"][:, :3], axis=1), 1, atol=1e-6)
    assert set(np.abs(attributes["TANGENT"][:, 3])) == {1.0}
    indices = accessor_array(document, buffer, primitive["indices"]).ravel()
    assert len(indices) % 3 == 0 and indices.max() < vertex_count
    assert 0 <= primitive["material"] < len(document["materials"])
    for texture in document["textures"]:
        assert 0 <= texture["source"] < len(document["images"])
        assert 0 <= texture["sampler"] < len(document["samplers"])
    images = {i: read_image(image_bytes(image)) for i, image in enumerate(document["images"])}

    def texture_indices(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("Texture"):
                    yield item["index"]
                else:
                    yield from texture_indices(item)

    (material,) = document["materials"]
    assert all(0 <= i < len(document["textures"]) for i in texture_indices(material))
    assert set(material.get("extensions", {})) <= set(document.get("extensionsUsed", []))
    return {i: to_float32(image.pixels) for i, image in images.items()}


def texture_of(document, images, texture_info):
    return images[document["textures"][texture_info["index"]]["source"]]


def test_gltf_is_valid_and_holds_the_material(tmp_path):
    sources = material(ao=constant(0.4, channels=1))
    result = export(tmp_path, "gltf", sources, exr=True)
    folder = tmp_path / "gltf"
    assert [f.path.name for f in result.files] == [
        "BrickWall.gltf", "BrickWall.bin", "BrickWall_BaseColor.png", "BrickWall_OcclusionRoughnessMetallic.png",
        "BrickWall_Normal.png", "BrickWall_SpecularColor.png", "BrickWall_Anisotropy.png"]
    assert "EXR" in result.notes[0]  # glTF takes PNG only
    document = json.loads((folder / "BrickWall.gltf").read_text())
    buffer = (folder / document["buffers"][0]["uri"]).read_bytes()
    assert len(buffer) == document["buffers"][0]["byteLength"]
    for image in document["images"]:
        assert (folder / image["uri"]).is_file()
    images = check_gltf(document, buffer, lambda image: (folder / image["uri"]).read_bytes())

    material_json = document["materials"][0]
    assert document["extensionsUsed"] == ["KHR_materials_anisotropy", "KHR_materials_specular"]
    pbr = material_json["pbrMetallicRoughness"]
    base = texture_of(document, images, pbr["baseColorTexture"])
    np.testing.assert_allclose(base[0, 0], linear_to_srgb(np.float32(0.5)), atol=1 / 255)
    orm = texture_of(document, images, pbr["metallicRoughnessTexture"])
    assert material_json["occlusionTexture"]["index"] == pbr["metallicRoughnessTexture"]["index"]
    expected_roughness, strength = gltf_anisotropy(np.float32([0.6]), np.float32([0.5]))
    np.testing.assert_allclose(orm[0, 0], (0.4, expected_roughness[0], 0.0), atol=1 / 255)
    # Dielectric F0 = 0.04 * specularColorFactor * texture (linear) = our F0.
    specular = material_json["extensions"]["KHR_materials_specular"]
    f0 = 0.04 * np.float32(specular["specularColorFactor"]) * np.float32(0.04)
    assert specular["specularColorFactor"] == [SPECULAR_COLOR_FACTOR] * 3 and f0 == pytest.approx(0.04)
    specular_texture = texture_of(document, images, specular["specularColorTexture"])
    np.testing.assert_allclose(specular_texture[0, 0], linear_to_srgb(np.float32(0.04)), atol=1 / 255)
    anisotropy = material_json["extensions"]["KHR_materials_anisotropy"]
    direction = texture_of(document, images, anisotropy["anisotropyTexture"])
    np.testing.assert_allclose(direction[0, 0], (1.0, 0.5, strength[0]), atol=1 / 255)
    normal = texture_of(document, images, material_json["normalTexture"])
    np.testing.assert_allclose(normal, encode_normal_gl(bumpy_normals()), atol=1 / 255)


def test_glb_embeds_everything_in_one_valid_file(tmp_path):
    base_only = {role: source for role, source in material().items() if role in ("albedo", "normal")}
    result = export(tmp_path, "glb", base_only, bit_depth="16")
    assert [f.path.name for f in result.files] == ["BrickWall.glb"]
    document, binary = read_glb(tmp_path / "glb" / "BrickWall.glb")
    assert "uri" not in document["buffers"][0]

    def embedded(image):
        assert image["mimeType"] == "image/png"
        view = document["bufferViews"][image["bufferView"]]
        return binary[view["byteOffset"]:view["byteOffset"] + view["byteLength"]]

    images = check_gltf(document, binary, embedded)
    assert len(images) == 3 and "extensionsUsed" not in document  # no specular or anisotropy map
    assert "occlusionTexture" not in document["materials"][0]
    assert read_image(embedded(document["images"][0])).bit_depth == "16"
    positions = accessor_array(document, binary, 0)
    assert np.ptp(positions[:, 0]) == pytest.approx(1.0) and np.ptp(positions[:, 1]) == pytest.approx(32 / 48)

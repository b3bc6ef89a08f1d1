"""Job kinds `material.two_shot`: a flash photo and a guide photo of a flat, repeating surface
become a tileable SVBRDF (albedo, specular, normal, roughness, glossiness, anisotropy), with
re-renders for checking and the capture report (see docs/capture.md, docs/shading-model.md);
and `material.export`: a material set as engine-ready files (glTF, Unreal, Unity, plain PBR;
see docs/exports.md)."""

import re
from pathlib import PurePosixPath

from rest_framework import serializers

from materials.exports import MAP_ROLES as EXPORT_MAP_ROLES
from materials.exports import PRESETS as EXPORT_PRESETS
from materials.exports import canonical_role, missing_roles
from webapp.jobs.registry import InputSpec, JobKind, register
from webapp.services.assets import IMAGE_FORMATS, most_precise

MAP_ROLES = ("albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height", "ao")
MIN_SIDE = 64  # mirrors materials.capture.pipeline.MIN_SIDE_PX (that module imports torch)


class TwoShotParams(serializers.Serializer):
    fov = serializers.FloatField(required=False, min_value=10.0, max_value=140.0,
                                 help_text="Horizontal field of view in degrees; default: from the flash photo's "
                                           "EXIF 35 mm focal length, else 65.")
    tile_size = serializers.IntegerField(required=False, min_value=16, max_value=2048,
                                         help_text="Master tile size in pixels (stochastic surfaces); default: automatic.")
    quality = serializers.ChoiceField(choices=["fast", "standard", "high"], default="standard")
    surface = serializers.ChoiceField(choices=["auto", "periodic", "stochastic"], default="auto",
                                      help_text="periodic: tiles, weaves, grilles; stochastic: leather, sand...")
    max_width = serializers.IntegerField(required=False, min_value=256, max_value=4096,
                                         help_text="Working resolution (width in pixels); default by quality.")
    resolution = serializers.IntegerField(required=False, min_value=16, max_value=4096,
                                          help_text="Output size of the maps (longest side, pixels); default: the "
                                                    "tile's own size in the photo. Larger sizes are enlarged by the "
                                                    "super-resolution network; the maps still tile.")
    bit_depth = serializers.ChoiceField(choices=["8", "16"], default="8", help_text="PNG bit depth of the maps.")
    exr = serializers.BooleanField(default=False, help_text="Also write linear float EXR maps.")


def check_two_shot(inputs, params):
    for name in ("flash", "guide"):
        asset = inputs[name][0]
        if min(asset.width, asset.height) < MIN_SIDE:
            raise serializers.ValidationError({f"inputs.{name}": (
                f"The {name} photo is {asset.width}x{asset.height}; it must be at least {MIN_SIDE} pixels "
                "on each side.")})
    if inputs["flash"][0].pk == inputs["guide"][0].pk:
        raise serializers.ValidationError({"inputs.guide": "The flash and guide photos must be different files."})


def run_two_shot(ctx) -> None:
    from imaging.io import ImageInfo
    from materials.capture import CaptureInputError, capture_material
    from materials.capture.outputs import write_outputs
    from materials.capture.resolution import at_resolution
    from webapp.jobs.runtime import JobInputError

    flash, guide = ctx.inputs["flash"][0], ctx.inputs["guide"][0]
    params = ctx.params
    try:
        result = capture_material(ctx.input_path(flash), ctx.input_path(guide), fov_deg=params.get("fov"),
                                  tile_size=params.get("tile_size"), quality=params["quality"],
                                  surface=params["surface"], max_width=params.get("max_width"),
                                  progress=ctx.progress, device=ctx.device)
    except CaptureInputError as exc:
        raise JobInputError(str(exc)) from exc
    if params.get("resolution"):
        ctx.progress(0.95, f"maps to {params['resolution']} px")
        result = at_resolution(result, params["resolution"], progress=lambda: ctx.progress(0.95, "enlarging the maps"))
    ctx.progress(0.97, "writing maps")
    out_dir = ctx.output_path("x").parent
    tile_height, tile_width = result.maps.shape
    for path in write_outputs(result, out_dir, bit_depth=params["bit_depth"], exr=params["exr"]):
        if path.suffix == ".json":
            # report.json travels with the maps (the set's zip); it is also the job's result.
            ctx.add_output(path.name, "report", colour_space="linear", source=flash, metadata={"capture": "report"},
                           info=ImageInfo("json", tile_width, tile_height, 0, params["bit_depth"]))
            continue
        role = path.stem if path.stem in MAP_ROLES else "render"
        colour_space = "linear" if path.suffix == ".exr" else None
        ctx.add_output(path.name, role, colour_space=colour_space or _png_colour_space(role),
                       source=flash, metadata={"capture": path.stem})
    ctx.outputs.name = f"Material from {flash.asset_set.name}"
    ctx.outputs.kind = "material"
    ctx.outputs.tags = list(flash.asset_set.tags)
    ctx.result = result.report


def _png_colour_space(role: str) -> str:
    # albedo and specular are sRGB-encoded colour; the other maps are data (docs/shading-model.md).
    return "srgb" if role in ("albedo", "specular", "render") else "linear"


register(JobKind(
    name="material.two_shot",
    title="Two-shot material capture",
    params=TwoShotParams,
    runner="materials.jobs:run_two_shot",
    inputs={"flash": InputSpec("asset", help="The photo taken with the flash on."),
            "guide": InputSpec("asset", help="The photo of the same area without flash (soft light).")},
    queue="gpu",
    time_limit_s=3600,
    max_attempts=2,
    output_kind="material",
    check=check_two_shot,
))


# -- material.export ---------------------------------------------------------------------------

class ExportParams(serializers.Serializer):
    preset = serializers.ChoiceField(choices=sorted(EXPORT_PRESETS),
                                     help_text="gltf: .gltf + .bin + PNG; glb: one binary glTF; unreal: T_<Name>_BC/N/ORM; "
                                               "unity: <Name>_BaseMap/Normal/MaskMap; pbr: one map per file.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                 help_text="Name in the file names (letters and digits kept, PascalCase); "
                                           "default: the set's name.")
    resolution = serializers.IntegerField(required=False, min_value=64, max_value=8192,
                                          help_text="Longest side in pixels; maps are scaled down to it, never up. "
                                                    "Default: the albedo's size.")
    bit_depth = serializers.ChoiceField(choices=["8", "16"], default="8", help_text="PNG bit depth.")
    texture_format = serializers.ChoiceField(
        choices=["png", "tga", "dds"], default="png",
        help_text="Texture files of the unreal, unity and pbr presets: png; tga (8-bit, run-length encoded); "
                  "dds (8-bit with mip maps, compressed as engines do: colour and masks DXT1/DXT5, normals BC5; "
                  "single-channel and direction maps uncompressed). glTF stays PNG.")
    exr = serializers.BooleanField(default=False,
                                   help_text="Write linear data maps (normal, ORM, mask, roughness...) as float EXR "
                                             "instead of PNG; colour maps stay sRGB PNG, glTF stays PNG.")


def _map_files(assets) -> list:
    """The assets that are maps an export uses; renders, thumbnails and non-image files are not."""
    return [a for a in assets if canonical_role(a.role) in EXPORT_MAP_ROLES and a.format in IMAGE_FORMATS]


def export_maps(assets) -> dict:
    """The set's maps by role (aliases such as occlusion -> ao resolved), the most precise
    file of each role."""
    return most_precise(_map_files(assets), lambda asset: canonical_role(asset.role))


def export_groups(assets) -> dict:
    """{material name prefix: export_maps of its files}. One material ("") unless some role has
    files of different names (a set of variations: variation_01_albedo.png, variation_02_albedo.png),
    then one per name prefix, the name with its role (and a separator) cut off the end."""
    # An upload is stored under its role ("albedo_2.png"); the name it came with tells materials apart.
    stem = lambda asset: PurePosixPath(asset.original_name or asset.name).stem
    maps = _map_files(assets)
    stems = {}
    for asset in maps:
        stems.setdefault(canonical_role(asset.role), set()).add(stem(asset))
    if all(len(names) == 1 for names in stems.values()):
        return {"": export_maps(maps)}
    groups = {}
    for asset in maps:
        prefix = re.sub(rf"[_\-. ]*{re.escape(asset.role)}$", "", stem(asset), flags=re.IGNORECASE)
        groups.setdefault(prefix, []).append(asset)
    return {prefix: export_maps(group) for prefix, group in sorted(groups.items())}


def _missing_maps_message(groups) -> str | None:
    for prefix, maps in groups.items():
        missing = missing_roles(maps)
        if missing:
            which = f"The material {prefix!r} in the set" if prefix else "The set"
            return (f"{which} has no {' or '.join(missing)} map; an export needs albedo and normal maps "
                    "(upload them with those roles, or export a material set).")
    return None


def check_export(inputs, params):
    texture_format = params.get("texture_format", "png")
    if texture_format != "png" and params["bit_depth"] != "8" and params["preset"] not in ("gltf", "glb"):
        raise serializers.ValidationError({"params.bit_depth": (
            f"{texture_format.upper()} files hold 8 bits a channel; choose PNG for 16-bit textures.")})
    message = _missing_maps_message(export_groups(inputs["set"]))
    if message:
        raise serializers.ValidationError({"inputs.set": message})


def run_export(ctx) -> None:
    from imaging.io import ImageInfo
    from materials.exports import ExportOptions, SourceMap, export_material, safe_name
    from webapp.jobs.runtime import JobInputError

    groups = export_groups(ctx.inputs["set"])
    message = _missing_maps_message(groups)
    if message:  # checked at creation, but the set may have changed since
        raise JobInputError(message)
    material_set = next(iter(groups.values()))["albedo"].asset_set
    params = ctx.params
    preset, name = params["preset"], safe_name(params.get("name") or material_set.name)
    options = ExportOptions(bit_depth=params["bit_depth"], exr=params["exr"], resolution=params.get("resolution"),
                            texture_format=params.get("texture_format", "png"))
    materials, files, notes = [], [], []
    for number, (prefix, maps) in enumerate(groups.items()):
        # Each material of a set of several gets its own files, named after its prefix.
        material_name = safe_name(f"{name} {prefix}") if prefix else name
        span = (number / len(groups), (number + 1) / len(groups))
        sources = {}
        for index, (role, asset) in enumerate(maps.items()):
            ctx.progress(span[0] + 0.5 * (span[1] - span[0]) * index / len(maps), f"reading {asset.display_name}")
            sources[role] = SourceMap(ctx.read_input(asset).pixels, asset.colour_space)
        ctx.progress(span[0] + 0.5 * (span[1] - span[0]), f"writing the {EXPORT_PRESETS[preset]} files of {material_name}")
        result = export_material(sources, ctx.output_path("x").parent, preset=preset, name=material_name,
                                 options=options)
        for file in result.files:
            # Model files (.gltf, .bin, .glb) are recorded with the size and depth of their textures.
            info = None if file.is_image else ImageInfo(file.format, file.width, file.height, 0, file.bit_depth)
            ctx.add_output(file.path.name, file.role, colour_space=file.colour_space, source=maps["albedo"],
                           metadata={"export": preset, "material": material_name}, info=info)
        materials.append({"name": material_name, "width": result.width, "height": result.height,
                          "files": [file.path.name for file in result.files]})
        files += materials[-1]["files"]
        notes += [note for note in result.notes if note not in notes]
    ctx.outputs.name = f"{name} ({EXPORT_PRESETS[preset]})"
    ctx.outputs.kind = "export"
    ctx.outputs.tags = list(material_set.tags)
    ctx.result = {"preset": preset, "name": materials[0]["name"], "width": materials[0]["width"],
                  "height": materials[0]["height"], "files": files, "notes": notes, "materials": materials}


register(JobKind(
    name="material.export",
    title="Material export for engines",
    params=ExportParams,
    runner="materials.jobs:run_export",
    inputs={"set": InputSpec("set", help="The material set: albedo and normal maps at least; specular, "
                                         "roughness or glossiness, anisotropy, height, ao, metallic where present.")},
    queue="default",
    time_limit_s=900,
    max_attempts=2,
    output_kind="export",
    check=check_export,
))

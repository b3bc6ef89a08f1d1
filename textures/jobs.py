"""Job kinds `texture.variations` and `texture.make_tileable`: one texture or a whole material
set in, seamless variations (or one seamless tile) out, every map of a material kept registered."""

from pathlib import PurePosixPath

from rest_framework import serializers

from webapp.jobs.registry import InputSpec, JobKind, register
from webapp.services.assets import most_precise

MIN_EXEMPLAR = 32  # mirrors textures.synthesis.job.MIN_EXEMPLAR (that module imports torch)
MAX_COUNT = 32
MAX_OUTPUT = 4096
# Not maps of the material: previews, a capture's input photos and its renders of them.
SKIPPED_ROLES = {"thumbnail", "preview", "flash", "guide", "render"}


class VariationParams(serializers.Serializer):
    count = serializers.IntegerField(default=4, min_value=1, max_value=MAX_COUNT, help_text="Number of variations.")
    width = serializers.IntegerField(required=False, min_value=MIN_EXEMPLAR, max_value=MAX_OUTPUT,
                                     help_text="Output width in pixels (default: the exemplar's).")
    height = serializers.IntegerField(required=False, min_value=MIN_EXEMPLAR, max_value=MAX_OUTPUT,
                                      help_text="Output height in pixels (default: the exemplar's).")
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**31 - 1,
                                    help_text="Variation i uses seed + i: the same seed gives the same outputs.")
    strength = serializers.FloatField(default=1.0, min_value=0.0, max_value=1.0,
                                      help_text="0: close to the original layout .. 1: a completely new arrangement.")
    tileable = serializers.BooleanField(default=True, help_text="Outputs tile seamlessly.")
    mode = serializers.ChoiceField(choices=["quality", "fast"], default="quality",
                                   help_text="quality: optimise each variation; fast: train a generator once.")


class TileableParams(serializers.Serializer):
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**31 - 1)


def exemplar_maps(inputs) -> list:
    """The maps to synthesise: the texture asset, or every map of the material set, each once
    (a capture with EXR on stores albedo.png and albedo.exr: the most precise file is used)."""
    assets = inputs.get("texture") or inputs.get("set") or []
    maps = [a for a in assets if a.role not in SKIPPED_ROLES]
    return list(most_precise(maps, lambda asset: (asset.role, PurePosixPath(asset.name).stem)).values())


def check_texture_inputs(inputs, params):
    # A given set is present even when it resolves to no images (an engine export's).
    if ("texture" in inputs) == ("set" in inputs):
        raise serializers.ValidationError({"inputs": "Give either one texture asset or one material asset set."})
    maps = exemplar_maps(inputs)
    if not maps:
        raise serializers.ValidationError({"inputs.set": "The set has no texture maps."})
    roles = [a.role for a in maps]
    repeated = sorted({role for role in roles if roles.count(role) > 1})
    if len(maps) > 1 and repeated:
        # e.g. a set of several variations: its maps do not make one material.
        raise serializers.ValidationError({"inputs.set": (
            f"The set holds more than one {' and '.join(repeated)} map; the maps of one material need one "
            "role each (vary one variation's maps: upload them as a set, or pick a single texture).")})
    sizes = {(a.width, a.height) for a in maps}
    if len(sizes) > 1:
        raise serializers.ValidationError({"inputs.set": "All maps of a material must have the same size; "
                                                         f"found {sorted(sizes)}."})
    width, height = sizes.pop()
    if min(width, height) < MIN_EXEMPLAR:
        raise serializers.ValidationError({"inputs": f"The texture is {width}x{height}; it must be at least "
                                                     f"{MIN_EXEMPLAR}x{MIN_EXEMPLAR} pixels."})
    for mask in inputs.get("mask") or []:
        if (mask.width, mask.height) != (width, height):
            raise serializers.ValidationError({"inputs.mask": f"The mask is {mask.width}x{mask.height}; it must "
                                                              f"match the texture's {width}x{height}."})


def _run(ctx, kind: str) -> None:
    import numpy as np

    from imaging.io import from_float32, read_image, to_float32
    from textures.synthesis.errors import TextureInputError
    from textures.synthesis.job import run_texture_job
    from textures.synthesis.material import is_normal_map
    from webapp.jobs.runtime import JobInputError

    maps = exemplar_maps(ctx.inputs)
    # The synthesis's map names: roles in a set; a lone texture is "color" unless it is a normal map.
    names = {a.pk: a.role if len(maps) > 1 or is_normal_map(a.role) else "color" for a in maps}
    images = {names[a.pk]: read_image(ctx.input_path(a)) for a in maps}
    if len(images) != len(maps):
        raise JobInputError("Two maps of the set have the same role; give each map its own role.")
    values = {name: float_values(name, image) for name, image in images.items()}
    mask = None
    if ctx.inputs.get("mask"):
        mask = to_float32(read_image(ctx.input_path(ctx.inputs["mask"][0])).pixels)[..., :1]
    params = ctx.params
    size = None
    if kind == "variations" and (params.get("width") or params.get("height")):
        first = next(iter(values.values()))
        size = (params.get("height") or first.shape[0], params.get("width") or first.shape[1])
    try:
        result = run_texture_job(
            values, kind=kind, count=params.get("count", 1), output_size=size, seed=params["seed"],
            strength=params.get("strength", 1.0), tileable=params.get("tileable", True),
            mode=params.get("mode", "quality"), mask=mask, progress=ctx.progress)
    except TextureInputError as exc:
        raise JobInputError(str(exc)) from exc

    source_set = maps[0].asset_set
    ctx.outputs.name = f"{source_set.name} - {'variations' if kind == 'variations' else 'tileable'}"
    ctx.outputs.kind = "texture-variations"
    ctx.outputs.tags = list(source_set.tags)
    by_name = {names[a.pk]: a for a in maps}
    sheet_tiles = []
    for index, output in enumerate(result.outputs):
        prefix = f"variation_{index + 1:02d}" if kind == "variations" else "tileable"
        for name, pixels in output.items():
            source, image = by_name[name], images[name]
            stem = prefix if len(maps) == 1 else f"{prefix}_{name}"
            extension = "exr" if image.bit_depth == "32f" else "png"
            encoded = pixels if image.bit_depth == "32f" else from_float32(pixels, image.bit_depth)
            ctx.add_output(f"{stem}.{extension}", source.role, pixels=encoded, colour_space=source.colour_space,
                           bit_depth=image.bit_depth, source=source,
                           metadata={"variation": index, "seed": params["seed"] + index})
        sheet_tiles.append(output[next(iter(output))])
    ctx.add_output("contact_sheet.png", "preview", pixels=contact_sheet(sheet_tiles), bit_depth="8",
                   metadata={"tiled": "2x2"})
    ctx.result = result.report


def float_values(name: str, image):
    """An image's pixels as the synthesis takes them: (H,W,C) float32; normal maps as `0.5n+0.5`
    in [0,1] (float files may hold `n` itself, imaging.normals), which the outputs hold too."""
    from imaging.io import to_float32
    from imaging.normals import as_encoded_normals
    from textures.synthesis.material import is_normal_map

    values = to_float32(image.pixels)
    return as_encoded_normals(values) if is_normal_map(name) and image.bit_depth == "32f" else values


def contact_sheet(tiles: list, cell: int = 256):
    """Each tile repeated 2x2 (so seams show) and shrunk to `cell` px, in a grid; (H,W,3) uint8."""
    import math

    import numpy as np

    from imaging.io import from_float32
    from imaging.resize import resize

    columns = min(len(tiles), 4)
    rows = math.ceil(len(tiles) / columns)
    sheet = np.full((rows * cell, columns * cell, 3), 32, np.float32) / 255
    for index, tile in enumerate(tiles):
        rgb = tile[..., :3] if tile.shape[2] >= 3 else np.repeat(tile[..., :1], 3, axis=2)
        repeated = np.tile(rgb, (2, 2, 1)).astype(np.float32)
        scale = cell / max(repeated.shape[:2])
        h, w = max(1, round(repeated.shape[0] * scale)), max(1, round(repeated.shape[1] * scale))
        small = np.clip(resize(repeated, (h, w), filter="area"), 0, 1)
        r, c = divmod(index, columns)
        sheet[r * cell:r * cell + h, c * cell:c * cell + w] = small
    return from_float32(sheet, "8")


def run_variations(ctx) -> None:
    _run(ctx, "variations")


def run_make_tileable(ctx) -> None:
    _run(ctx, "make_tileable")


TEXTURE_INPUTS = {
    "texture": InputSpec("asset", required=False, help="One texture image."),
    "set": InputSpec("set", required=False, help="A material asset set: all its maps are varied together."),
}

register(JobKind(
    name="texture.variations", title="Texture variations", params=VariationParams,
    runner="textures.jobs:run_variations",
    inputs={**TEXTURE_INPUTS, "mask": InputSpec("asset", required=False,
                                                help="Optional mask: non-zero pixels of the exemplar are ignored.")},
    queue="gpu", time_limit_s=2 * 3600, max_attempts=2, output_kind="texture-variations",
    check=check_texture_inputs,
))

register(JobKind(
    name="texture.make_tileable", title="Make tileable", params=TileableParams,
    runner="textures.jobs:run_make_tileable", inputs=TEXTURE_INPUTS,
    queue="gpu", time_limit_s=3600, max_attempts=2, output_kind="texture-variations",
    check=check_texture_inputs,
))

"""Job kind `material.two_shot`: a flash photo and a guide photo of a flat, repeating surface
become a tileable SVBRDF (albedo, specular, normal, roughness, glossiness, anisotropy), with
re-renders for checking and the capture report (see docs/capture.md, docs/shading-model.md)."""

from rest_framework import serializers

from webapp.jobs.registry import InputSpec, JobKind, register

MAP_ROLES = ("albedo", "specular", "normal", "roughness", "glossiness", "anisotropy")
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
    from materials.capture import CaptureInputError, capture_material
    from materials.capture.outputs import write_outputs
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
    ctx.progress(0.97, "writing maps")
    out_dir = ctx.output_path("x").parent
    for path in write_outputs(result, out_dir, bit_depth=params["bit_depth"], exr=params["exr"]):
        if path.suffix == ".json":
            path.unlink()  # the report is stored as the job's result
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

"""Job kind `superres.upscale`: upscale assets or whole asset sets x2/x4, map by map with the
handling each role needs (normals as vectors, colour maps in sRGB, data maps linear)."""

from pathlib import PurePosixPath

from django.conf import settings
from rest_framework import serializers

from imaging.normals import as_encoded_normals
from webapp.jobs.registry import InputSpec, JobKind, register
from webapp.services.assets import DATA_ROLES, unique_name

MAX_OUTPUT_PIXELS = getattr(settings, "SUPERRES_MAX_OUTPUT_PIXELS", 8192 * 8192)
# Sources whose compression artefacts back-projection would put back (superres/backprojection.py).
LOSSY_FORMATS = ("jpeg", "webp", "heic")


class UpscaleParams(serializers.Serializer):
    scale = serializers.ChoiceField(choices=[2, 4], default=2, help_text="Upscaling factor.")
    sharpness = serializers.FloatField(default=0.5, min_value=0.0, max_value=1.0,
                                       help_text="0 = highest fidelity (PSNR model), 1 = sharpest (GAN model).")
    wrap = serializers.ChoiceField(choices=["auto", "on", "off"], default="auto",
                                   help_text="Treat inputs as tileable; auto: when the input tiles seamlessly.")
    model = serializers.ChoiceField(choices=["builtin", "project"], default="builtin",
                                    help_text="builtin: the shipped model; project: this project's newest "
                                              "fine-tuned model for the scale (see superres.finetune).")
    back_projection = serializers.ChoiceField(
        choices=["auto", "on", "off"], default="auto",
        help_text="Make the output agree with the input when scaled back down (about +0.1 dB on clean "
                  "sources); auto: on unless the input is a JPEG, WebP, HEIC or block-compressed DDS file, "
                  "whose compression artefacts it would put back. Turn it off for noisy sources too.")
    source = serializers.ChoiceField(
        choices=["auto", "clean", "degraded"], default="auto",
        help_text="Which fidelity model: one trained on exact down-scales (clean sources: PNG, TIFF, EXR) or "
                  "one also trained on blurred, noisy and JPEG-compressed images, which does not sharpen their "
                  "artefacts; auto: degraded for JPEG, WebP, HEIC and block-compressed (DXT/BC) DDS files. Choose "
                  "degraded for lossless files that were compressed before (e.g. a DXT texture saved as PNG).")
    output_format = serializers.ChoiceField(
        choices=["same", "png"], default="same",
        help_text="same: a TGA or DDS input comes back as TGA or DDS, in its block compression where it can be "
                  "encoded here (DXT1, DXT3, DXT5, BC4, BC5; BC7 and signed BC5 uncompressed) and with a full mip chain when "
                  "it had one; other inputs as PNG (EXR for float). png: PNG (EXR for float) whatever the input.")
    ensemble = serializers.BooleanField(default=False,
                                        help_text="Average the network over the 8 rotations/flips of the input: "
                                                  "about +0.15 dB (x4) for 8x the time.")


def sr_role(asset_role: str) -> str:
    """How `superres.upscale.upscale` should treat a map of this asset role."""
    if asset_role == "normal":
        return "normal"
    return "linear" if asset_role in DATA_ROLES else "color"


def _sources(inputs):
    """The assets given, then each set's maps (previews and a capture's renders of its photo are
    not maps: an asset set is upscaled map by map), without repeats."""
    given = [a for a in inputs.get("assets") or [] if a.role not in ("thumbnail", "preview")]
    from_sets = [a for a in inputs.get("sets") or [] if a.role not in ("thumbnail", "preview", "render")]
    return list({a.pk: a for a in given + from_sets}.values())


def project_model(project_id, scale):
    from superres.models import ProjectModel

    return ProjectModel.objects.filter(project_id=project_id, scale=scale).first()


def check_upscale(inputs, params):
    sources = _sources(inputs)
    if not sources:
        raise serializers.ValidationError({"inputs": "Give at least one asset or asset set to upscale."})
    if params["model"] == "project" and project_model(sources[0].asset_set.project_id, params["scale"]) is None:
        raise serializers.ValidationError({"params.model": (
            f"This project has no fine-tuned x{params['scale']} model yet; run a superres.finetune job first.")})
    scale = params["scale"]
    for asset in sources:
        if asset.width * asset.height * scale * scale > MAX_OUTPUT_PIXELS:
            raise serializers.ValidationError({"params.scale": (
                f"{asset.display_name} would become {asset.width * scale}x{asset.height * scale} pixels, over the limit "
                f"of {MAX_OUTPUT_PIXELS} output pixels.")})


def _switch(choice: str, auto) -> bool:
    """An "on" / "off" / "auto" parameter; auto() decides "auto" (called only then)."""
    return {"on": True, "off": False}[choice] if choice != "auto" else bool(auto())


def run_upscale(ctx) -> None:
    from superres.upscale import SuperResInputError, looks_tileable, upscale
    from webapp.jobs.runtime import JobInputError

    sources = _sources(ctx.inputs)
    scale, sharpness = ctx.params["scale"], ctx.params["sharpness"]
    first_set = sources[0].asset_set
    ctx.outputs.name = f"{first_set.name} x{scale}"
    # Material sets upscaled whole stay materials (viewable, exportable, variable as before).
    whole_materials = not ctx.inputs.get("assets") and all(a.asset_set.kind == "material" for a in sources)
    ctx.outputs.kind = "material" if whole_materials else "upscale"
    ctx.outputs.tags = list(first_set.tags)
    reports, taken = [], set()
    model_path = None
    if ctx.params.get("model") == "project":
        model = project_model(ctx.job.project_id, scale)
        if model is None:
            raise JobInputError(f"This project has no fine-tuned x{scale} model.")
        model_path = ctx.staging_dir / "model.pt"
        _copy_from_storage(model.file.name, model_path)
    for index, asset in enumerate(sources):
        def progress(fraction, stage, index=index, asset=asset):
            ctx.progress((index + fraction) / len(sources), f"{asset.display_name} ({index + 1}/{len(sources)}): {stage}")

        progress(0.0, "reading")
        image = ctx.read_input(asset)
        pixels = image.pixels
        if sr_role(asset.role) == "normal" and image.bit_depth == "32f":
            pixels = as_encoded_normals(pixels)  # an EXR may hold n itself; the output holds 0.5n+0.5
        wrap = _switch(ctx.params["wrap"], lambda: looks_tileable(pixels))
        # Both "auto"s follow whether the file's format is lossless.
        lossless = image.format not in LOSSY_FORMATS and not image.block_compression
        back_projection = _switch(ctx.params.get("back_projection", "auto"), lambda: lossless)
        source = ctx.params.get("source", "auto")
        if source == "auto":
            source = "clean" if lossless else "degraded"
        try:
            pixels, report = upscale(pixels, scale=scale, sharpness=sharpness, wrap=wrap,
                                     role=sr_role(asset.role), colour_space=asset.colour_space,
                                     max_output_pixels=MAX_OUTPUT_PIXELS, progress=progress,
                                     model_path=model_path, ensemble=ctx.params["ensemble"],
                                     back_projection=back_projection, source=source)
        except SuperResInputError as exc:
            raise JobInputError(f"{asset.display_name}: {exc}") from exc
        if model_path is not None:  # the project model's id, not a path on the worker
            report["model"] = f"project model {model.id}"
        progress(1.0, "writing")
        extension, write_options, report["file"] = output_encoding(
            image, ctx.params.get("output_format", "same"), pixels, kind=sr_role(asset.role), wrap=wrap)
        stem = PurePosixPath(asset.name).stem
        ctx.add_output(unique_name(taken, stem, extension), asset.role, pixels=pixels, colour_space=asset.colour_space,
                       bit_depth=image.bit_depth, source=asset, metadata={"upscale": report},
                       write_options=write_options)
        reports.append({"asset": str(asset.pk), **report})
    ctx.result = {"upscaled": reports}



def output_encoding(image, output_format: str, pixels, *, kind: str, wrap: bool) -> tuple[str, dict, dict]:
    """How to write the upscaled `pixels` of the input `image` (an `imaging.io.Image`):
    (file extension, `write_image` options, what the report says of the file).

    With output_format "same" a game texture stays one: a TGA keeps its run-length encoding,
    a DDS its block compression where it is encoded here, its sRGB flag and its mip chain (made
    again, from the upscaled map, as `kind` asks: "color", "linear" or "normal").
    """
    from imaging.io import dds_compression_for
    from imaging.mipmaps import mip_chain

    if image.bit_depth == "32f":
        return "exr", {}, {"format": "exr"}
    if output_format == "png" or image.format not in ("tga", "dds"):
        return "png", {}, {"format": "png"}
    if image.format == "tga":
        return "tga", {"compression": "rle" if image.rle else None}, {"format": "tga", "rle": image.rle}
    compression = dds_compression_for(image.block_compression)
    mipmaps = mip_chain(pixels, kind=kind, wrap=wrap) if image.mip_levels > 1 else []
    file = {"format": "dds", "compression": compression, "mip_levels": 1 + len(mipmaps), "srgb": image.dds_srgb}
    if image.block_compression and compression is None:
        file["note"] = (f"{image.block_compression} is not encoded here: written uncompressed, for the asset "
                        "pipeline's compressor to make it again")
    return "dds", {"compression": compression, "mipmaps": mipmaps, "srgb": image.dds_srgb}, file


def _copy_from_storage(name, path):
    import shutil

    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)


class FinetuneParams(serializers.Serializer):
    scale = serializers.ChoiceField(choices=[2, 4], default=4)
    steps = serializers.IntegerField(default=300, min_value=10, max_value=20000,
                                     help_text="Training steps (batches of 8 patches).")
    name = serializers.CharField(max_length=200, required=False, default="")


# Mirrors superres.training.finetune (MIN_IMAGES, LR_PATCH), which imports torch: the web
# process checks requests without it. tests/superres/test_sr_job_kinds.py keeps them equal.
FINETUNE_MIN_IMAGES = 2
FINETUNE_MIN_SIDE = {2: 64, 4: 96}


def check_finetune(inputs, params):
    side = FINETUNE_MIN_SIDE[params["scale"]]
    usable = [a for a in _sources(inputs) if min(a.width, a.height) >= side]
    if len(usable) < FINETUNE_MIN_IMAGES:
        raise serializers.ValidationError({"inputs": (
            f"Fine-tuning x{params['scale']} needs at least {FINETUNE_MIN_IMAGES} high-resolution images of at least "
            f"{side}x{side} pixels; {len(usable)} of the inputs qualify.")})


def run_finetune(ctx) -> None:
    from superres.models import ProjectModel
    from superres.training.finetune import finetune
    from superres.upscale import SuperResInputError
    from webapp.jobs.runtime import JobInputError
    from webapp.services.assets import sha256_of

    sources = _sources(ctx.inputs)
    out_path = ctx.staging_dir / "finetuned.pt"
    try:
        _, report = finetune([ctx.input_path(a) for a in sources], scale=ctx.params["scale"],
                             steps=ctx.params["steps"], out_path=out_path,
                             progress=lambda fraction, stage: ctx.progress(fraction, stage))
    except SuperResInputError as exc:
        raise JobInputError(str(exc)) from exc
    ctx.result = {"finetune": report}

    def save_model(job, stored):
        from django.core.files import File

        digest, size = sha256_of(out_path)
        model = ProjectModel(project_id=job.project_id, scale=ctx.params["scale"], job=job, report=report,
                             name=ctx.params["name"] or f"Fine-tuned x{ctx.params['scale']}",
                             byte_size=size, sha256=digest)
        with open(out_path, "rb") as handle:
            model.file.save("model.pt", File(handle), save=False)
        stored.append(model.file.name)
        model.save()
        ctx.result["model"] = str(model.id)

    ctx.commit_steps.append(save_model)


FINETUNE = register(JobKind(
    name="superres.finetune",
    title="Fine-tune the upscaler on this project",
    params=FinetuneParams,
    runner="superres.jobs:run_finetune",
    inputs={"assets": InputSpec("asset", many=True, required=False, help="High-resolution textures."),
            "sets": InputSpec("set", many=True, required=False, help="Sets of high-resolution textures.")},
    queue="gpu",
    time_limit_s=4 * 3600,
    max_attempts=2,
    output_kind="upscale",
    check=check_finetune,
))


UPSCALE = register(JobKind(
    name="superres.upscale",
    title="Upscale",
    params=UpscaleParams,
    runner="superres.jobs:run_upscale",
    inputs={"assets": InputSpec("asset", many=True, required=False, help="Images or maps to upscale."),
            "sets": InputSpec("set", many=True, required=False, help="Asset sets to upscale, map by map.")},
    queue="gpu",
    time_limit_s=3600,
    max_attempts=2,
    output_kind="upscale",
    check=check_upscale,
))

"""The `previews` job kind: a thumbnail (<= 256 px, sRGB PNG) for every input asset, plus a
tone-mapped full-view preview for 16-bit and linear inputs, which a plain 8-bit reduction
would show too dark or clipped."""

from pathlib import PurePosixPath

from rest_framework import serializers

from webapp.jobs.registry import InputSpec, JobKind, register

PREVIEW_MAX_SIZE = 2048


class PreviewParams(serializers.Serializer):
    max_size = serializers.IntegerField(default=256, min_value=16, max_value=1024,
                                        help_text="Longest side of each thumbnail, in pixels.")


def _check(assets, params):
    if not assets.get("assets") and not assets.get("sets"):
        # Sets arrive as their images: one of model files only (an engine export) has none.
        raise serializers.ValidationError({"inputs": "Give at least one image, or an asset set that holds images."})


def run_previews(ctx) -> None:
    from imaging.preview import make_preview, needs_tonemapped_preview
    from webapp.services.assets import unique_name

    sources = [a for group in ctx.inputs.values() for a in group if a.role not in ("thumbnail", "preview")]
    sources = list({a.pk: a for a in sources}.values())
    ctx.outputs.name = "Previews"
    ctx.outputs.kind = "preview"
    stems: set[str] = set()
    for index, asset in enumerate(sources):
        ctx.progress(index / max(len(sources), 1), f"preview {index + 1} of {len(sources)}: {asset.display_name}")
        image = ctx.read_input(asset)
        # albedo.png and albedo.exr of one set, or two uploads of texture.png: one stem each
        # (outputs are found by their source, so the suffix only keeps the names apart).
        stem = unique_name(stems, PurePosixPath(asset.name).stem)
        ctx.add_output(f"{stem}.thumbnail.png", "thumbnail", pixels=make_preview(image, ctx.params["max_size"]),
                       bit_depth="8", source=asset, metadata={"of": str(asset.pk)})
        if needs_tonemapped_preview(image) or asset.colour_space == "linear":
            ctx.add_output(f"{stem}.preview.png", "preview", pixels=make_preview(image, PREVIEW_MAX_SIZE),
                           bit_depth="8", source=asset, metadata={"of": str(asset.pk), "tonemapped": True})
    ctx.result = {"previews": len(sources)}


PREVIEWS = register(JobKind(
    name="previews",
    title="Previews",
    params=PreviewParams,
    runner="webapp.previews:run_previews",
    inputs={"assets": InputSpec("asset", many=True, required=False, help="Assets to preview."),
            "sets": InputSpec("set", many=True, required=False, help="Asset sets whose assets to preview.")},
    queue="default",
    time_limit_s=300,
    max_attempts=3,
    output_kind="preview",
    check=_check,
))

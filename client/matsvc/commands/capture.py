"""`matsvc capture flash guide`: two photos in, a PBR material (and optionally an engine export) out."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..client import Client
from .common import (UsageError, add_overwrite_option, add_project_option, fetch_set, input_file, print_paths,
                     project_id, say, say_started, wait_with_progress)
from .keys import content_key, file_digests, start_job

EXPORT_KIND = "material.export"
EXPORT_PRESETS = ("gltf", "glb", "unreal", "unity", "pbr")


def add_parsers(commands) -> None:
    capture = commands.add_parser("capture", help="Capture a material from a flash photo and a guide photo.")
    capture.add_argument("flash", type=Path, help="Photo taken with the flash on.")
    capture.add_argument("guide", type=Path, help="Photo of the same area without flash.")
    add_project_option(capture)
    capture.add_argument("--quality", choices=("fast", "standard", "high"), default="standard")
    capture.add_argument("--surface", choices=("auto", "periodic", "stochastic"), default="auto",
                         help="periodic: tiles, weaves, grilles; stochastic: leather, sand...")
    capture.add_argument("--fov", type=float, help="Horizontal field of view in degrees (default: from EXIF, else 65).")
    capture.add_argument("--resolution", type=int, metavar="PX",
                         help="Size of the maps (longest side); default: the tile's size in the photo. "
                              "Larger sizes are enlarged by the service's super-resolution network.")
    capture.add_argument("--bit-depth", choices=("8", "16"), help="PNG bit depth of the maps (default 8).")
    capture.add_argument("--exr", action="store_true", default=None, help="Also write linear float EXR maps.")
    capture.add_argument("--name", help="Name of the material in the project.")
    capture.add_argument("--export", choices=EXPORT_PRESETS,
                         help="Then export the material for an engine; saved in OUT/<preset>/.")
    capture.add_argument("--output", "-o", type=Path, required=True, help="Folder for the maps.")
    add_overwrite_option(capture)
    capture.set_defaults(run=run_capture)


def run_capture(args: argparse.Namespace, client: Client) -> int:
    photos = [input_file(args.flash), input_file(args.guide)]
    project = project_id(client, args.project)
    if args.export and EXPORT_KIND not in {k["kind"] for k in client.job_kinds()}:
        # Asked before the upload, so a capture is not run for an export that cannot follow.
        raise UsageError(f"The server at {client.url} has no {EXPORT_KIND} job kind; it cannot --export.")
    options = {"quality": args.quality, "surface": args.surface, "fov": args.fov, "resolution": args.resolution,
               "bit_depth": args.bit_depth, "exr": args.exr, "name": args.name}
    # The same photos and options again (a re-run) give the job the first run started: the photos are
    # not stored twice, and a finished job's results are fetched at once.
    key = content_key("material.two_shot", options, files=file_digests(photos))
    job = start_job(lambda attempt: client.capture(project, *photos, idempotency_key=attempt, **options), key)
    say_started(job, "Capture")
    job = wait_with_progress(client, project, job, "capture")
    written = fetch_set(client, project, job["output_set"], args.output, args.overwrite)
    say(f"Material: {len(written)} files in {args.output}")
    if args.export:
        written += export(client, project, job["output_set"], args)
    print_paths(written)
    return 0


def export(client: Client, project: str, material_set: str, args: argparse.Namespace) -> list[Path]:
    params = {"preset": args.export, "bit_depth": args.bit_depth, "exr": args.exr, "name": args.name}
    params = {k: v for k, v in params.items() if v is not None}
    inputs = {"set": material_set}
    job = start_job(lambda key: client.create_job(project, EXPORT_KIND, params, inputs, idempotency_key=key),
                    content_key(EXPORT_KIND, params, inputs))
    say_started(job, "Export")
    job = wait_with_progress(client, project, job, f"export {args.export}")
    written = fetch_set(client, project, job["output_set"], args.output / args.export, args.overwrite)
    say(f"Export ({args.export}): {len(written)} files in {args.output / args.export}")
    return written

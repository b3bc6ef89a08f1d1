"""`matsvc capture flash guide`: two photos in, a PBR material (and optionally an engine export) out."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..client import Client
from .common import UsageError, add_project_option, fetch_set, print_paths, project_id, say, wait_with_progress

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
    capture.set_defaults(run=run_capture)


def run_capture(args: argparse.Namespace, client: Client) -> int:
    project = project_id(client, args.project)
    if args.export and EXPORT_KIND not in {k["kind"] for k in client.job_kinds()}:
        # Asked before the upload, so a capture is not run for an export that cannot follow.
        raise UsageError(f"The server at {client.url} has no {EXPORT_KIND} job kind; it cannot --export.")
    options = {"quality": args.quality, "surface": args.surface, "fov": args.fov, "resolution": args.resolution,
               "bit_depth": args.bit_depth, "exr": args.exr, "name": args.name}
    job = client.capture(project, args.flash, args.guide, **options)
    say(f"Capture job {job['id']} started.")
    job = wait_with_progress(client, project, job, "capture")
    written = fetch_set(client, project, job["output_set"], args.output)
    say(f"Material: {len(written)} files in {args.output}")
    if args.export:
        written += export(client, project, job["output_set"], args)
    print_paths(written)
    return 0


def export(client: Client, project: str, material_set: str, args: argparse.Namespace) -> list[Path]:
    params = {"preset": args.export, "bit_depth": args.bit_depth, "exr": args.exr, "name": args.name}
    job = client.create_job(project, EXPORT_KIND, {k: v for k, v in params.items() if v is not None},
                            {"set": material_set})
    say(f"Export job {job['id']} started.")
    job = wait_with_progress(client, project, job, f"export {args.export}")
    written = fetch_set(client, project, job["output_set"], args.output / args.export)
    say(f"Export ({args.export}): {len(written)} files in {args.output / args.export}")
    return written

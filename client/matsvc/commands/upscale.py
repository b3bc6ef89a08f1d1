"""`matsvc upscale files-or-folders`: a resumable batch, one upload, job and download per file.

An output that exists already is skipped, so an interrupted or partly failed batch is finished by
running the same command again (downloads are renamed into place only when complete).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..client import Client
from ..errors import ApiError, JobFailed, MatsvcError
from .common import UsageError, add_project_option, print_paths, project_id, say, wait_with_progress

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".exr"}
# The service writes float images as EXR and everything else as PNG.
OUTPUT_SUFFIXES = (".png", ".exr")
# Errors that concern one file (a bad image, a refused size); anything else stops the batch.
PER_FILE_STATUSES = {400, 413, 415, 422}


def add_parsers(commands) -> None:
    upscale = commands.add_parser("upscale", help="Upscale images x2/x4; re-run to resume a batch.")
    upscale.add_argument("inputs", nargs="+", type=Path, help="Image files, or folders of them.")
    add_project_option(upscale)
    upscale.add_argument("--scale", "-x", type=int, choices=(2, 4), default=2)
    upscale.add_argument("--wrap", action=argparse.BooleanOptionalAction, default=None,
                         help="Treat the images as tileable (default: when they tile seamlessly).")
    upscale.add_argument("--sharpness", type=float, help="0 = highest fidelity .. 1 = sharpest (default 0.5).")
    upscale.add_argument("--back-projection", action=argparse.BooleanOptionalAction, default=None,
                         help="Make the output agree with the input scaled back down (default: unless the "
                              "input is a JPEG or WebP file; turn it off for noisy sources).")
    upscale.add_argument("--ensemble", action="store_true",
                         help="Average the network over 8 rotations/flips: a little more fidelity, 8x the time.")
    upscale.add_argument("--output", "-o", type=Path, required=True, help="Folder for the upscaled images.")
    upscale.set_defaults(run=run_upscale)


def collect_inputs(paths: list[Path]) -> list[Path]:
    """Files as given; a folder's image files (not its subfolders), sorted."""
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"No such file or folder: {path}")
    return files


def existing_output(source: Path, out_dir: Path) -> Path | None:
    return next((out_dir / (source.stem + s) for s in OUTPUT_SUFFIXES if (out_dir / (source.stem + s)).exists()),
                None)


def plan(sources: list[Path], out_dir: Path) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """(files to upscale, [(file, its existing output)] to skip). Refuses batches whose outputs
    would overwrite an input or each other."""
    by_stem: dict[str, Path] = {}
    for source in sources:
        if source.resolve().parent == out_dir.resolve():
            raise UsageError(f"{source} is in the output folder; give -o another folder.")
        if source.stem in by_stem:
            raise UsageError(f"{by_stem[source.stem]} and {source} would both be saved as {source.stem}.*; "
                             "rename one or upscale them separately.")
        by_stem[source.stem] = source
    todo, skipped = [], []
    for source in sources:
        output = existing_output(source, out_dir)
        if output is None:
            todo.append(source)
        else:
            skipped.append((source, output))
    return todo, skipped


def run_upscale(args: argparse.Namespace, client: Client) -> int:
    sources = collect_inputs(args.inputs)
    if not sources:
        raise UsageError(f"No images in {', '.join(map(str, args.inputs))}.")
    todo, skipped = plan(sources, args.output)
    for source, output in skipped:
        say(f"Skipped {source}: {output} exists.")
    if not todo:
        say(f"Nothing to do: all {len(sources)} outputs exist in {args.output}.")
        return 0
    project = project_id(client, args.project)
    params = {"scale": args.scale, "sharpness": args.sharpness,
              "wrap": {True: "on", False: "off", None: "auto"}[args.wrap], "ensemble": args.ensemble or None,
              "back_projection": {True: "on", False: "off", None: None}[args.back_projection]}
    params = {k: v for k, v in params.items() if v is not None}
    written, failures = [], []
    for index, source in enumerate(todo, 1):
        try:
            written.append(upscale_one(client, project, source, args.output, params, f"[{index}/{len(todo)}]"))
        except (JobFailed, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.status not in PER_FILE_STATUSES:
                raise
            failures.append(source)
            say(f"Failed {source}: {exc}")
    print_paths(written)
    say(f"Upscaled {len(written)}, skipped {len(skipped)}, failed {len(failures)}.")
    if failures:
        raise MatsvcError(f"{len(failures)} of {len(todo)} files failed ({', '.join(map(str, failures))}); "
                          "run the same command again to retry them.")
    return 0


def upscale_one(client: Client, project: str, source: Path, out_dir: Path, params: dict, label: str) -> Path:
    asset = client.upload(project, [source], name=f"{source.name} (matsvc upscale)")["assets"][0]
    job = client.create_job(project, "superres.upscale", params, {"assets": [asset["id"]]})
    job = wait_with_progress(client, project, job, f"{label} {source.name}")
    outputs = client.asset_set(project, job["output_set"])["assets"]
    output = next((a for a in outputs if a.get("source") == asset["id"]), outputs[0])
    suffix = Path(output["name"]).suffix or ".png"
    return client.download_asset(project, output["id"], out_dir / (source.stem + suffix))

"""`matsvc upscale files-or-folders`: a resumable batch, one upload, job and download per file.

The output folder keeps a record of what was made from what (see `upscale_manifest`): a re-run
skips an output only when its source, the settings and the output itself are unchanged, redoes the
others, and leaves alone (and reports) outputs it did not make unless --overwrite is given.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..client import Client
from ..errors import ApiError, JobFailed, MatsvcError
from .common import UsageError, add_project_option, print_paths, project_id, say, wait_with_progress
from . import keys
from .keys import content_key, start_job
from .upscale_manifest import MANIFEST_NAME, Manifest, Stamp, Verdict

KIND = "superres.upscale"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".heic", ".heif", ".exr", ".dng", ".tga", ".dds"}
# Errors that concern one file (a bad image, a refused size); anything else stops the batch.
PER_FILE_STATUSES = {400, 413, 415, 422}
# The service's defaults, so that `--sharpness 0.5` and no --sharpness count as the same setting.
DEFAULT_SETTINGS = {"scale": 2, "sharpness": 0.5, "wrap": "auto", "model": "builtin", "back_projection": "auto",
                    "ensemble": False}
OVERWRITE_HELP = (f"Also redo outputs this command did not make (no record of them in OUT/{MANIFEST_NAME}) or "
                  "that changed since it wrote them; without it they are left alone and reported, and the "
                  "command fails. Outputs it made are redone without it when the source or the settings changed.")


def add_parsers(commands) -> None:
    upscale = commands.add_parser("upscale", help="Upscale images x2/x4; re-run to resume a batch.",
                                  description="Upscale images. A re-run skips the outputs that are up to date "
                                              "(same source file, same settings) and does the rest.")
    upscale.add_argument("inputs", nargs="+", type=Path,
                         help="Image files, or folders of them (not searched into subfolders).")
    add_project_option(upscale)
    upscale.add_argument("--scale", "-x", type=int, choices=(2, 4), default=2)
    upscale.add_argument("--wrap", action=argparse.BooleanOptionalAction, default=None,
                         help="Treat the images as tileable (default: when they tile seamlessly).")
    upscale.add_argument("--sharpness", type=float, help="0 = highest fidelity .. 1 = sharpest (default 0.5).")
    upscale.add_argument("--back-projection", action=argparse.BooleanOptionalAction, default=None,
                         help="Make the output agree with the input scaled back down (default: unless the "
                              "input is a JPEG, WebP, HEIC or DXT/BC-compressed DDS file; turn it off for noisy sources).")
    upscale.add_argument("--source", choices=("clean", "degraded"),
                         help="Which fidelity model: clean (exact down-scales) or degraded (also blurred, noisy, "
                              "JPEG-compressed images); default: degraded for JPEG, WebP, HEIC and DXT/BC-compressed DDS files, "
                              "else clean. Choose degraded for lossless files that were compressed before (a DXT "
                              "texture saved as PNG).")
    upscale.add_argument("--ensemble", action="store_true",
                         help="Average the network over 8 rotations/flips: a little more fidelity, 8x the time.")
    upscale.add_argument("--png", action="store_true",
                         help="Write PNG (EXR for float) for TGA and DDS inputs too; by default they come back as "
                              "TGA and DDS (the DDS's block compression where it can be encoded, a new mip chain "
                              "when it had one).")
    upscale.add_argument("--model", choices=("builtin", "project"),
                         help="builtin (default): the shipped model; project: the project's newest fine-tuned one.")
    upscale.add_argument("--output", "-o", type=Path, required=True, help="Folder for the upscaled images.")
    upscale.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    upscale.add_argument("--verbose", "-v", action="store_true",
                         help="Name each file or subfolder of the input folders that is not upscaled.")
    upscale.set_defaults(run=run_upscale)


def collect_inputs(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files to upscale, entries of the folders left out). Files are taken as given; a folder gives
    its image files, sorted, and leaves out its subfolders and other files (hidden ones unreported)."""
    files, ignored = [], []
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.name.startswith("."):
                    continue
                if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
                    files.append(entry)
                else:
                    ignored.append(entry)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"No such file or folder: {path}")
    return files, ignored


def report_ignored(ignored: list[Path], verbose: bool) -> None:
    if not ignored:
        return
    kinds = "/".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
    say(f"Ignored {len(ignored)} item{'s' if len(ignored) > 1 else ''} in the input folders (subfolders, and files "
        f"that are not {kinds} images)" + (":" if verbose else "; --verbose names them."))
    if verbose:
        for path in ignored:
            say(f"  {path}{'/ (a folder)' if path.is_dir() else ''}")


def settings_of(args: argparse.Namespace) -> tuple[dict, dict]:
    """(the params to send: only what was asked for, the settings in effect: with the defaults)."""
    asked = {"scale": args.scale, "sharpness": args.sharpness,
             "wrap": {True: "on", False: "off", None: "auto"}[args.wrap], "ensemble": args.ensemble or None,
             "back_projection": {True: "on", False: "off", None: None}[args.back_projection], "model": args.model,
             # Not in DEFAULT_SETTINGS: outputs recorded before these options existed stay up to date.
             "source": args.source, "output_format": "png" if args.png else None}
    asked = {k: v for k, v in asked.items() if v is not None}
    return asked, {**DEFAULT_SETTINGS, **asked}


@dataclass
class Plan:
    todo: list[tuple[Path, Verdict]] = field(default_factory=list)
    skipped: list[tuple[Path, Verdict]] = field(default_factory=list)
    blocked: list[tuple[Path, Verdict]] = field(default_factory=list)


def plan(sources: list[Path], manifest: Manifest, settings: dict, overwrite: bool = False) -> Plan:
    """What to do with each source. Refuses batches whose outputs would overwrite an input or each other."""
    out_dir = manifest.folder
    by_stem: dict[str, Path] = {}
    for source in sources:
        if source.resolve().parent == out_dir.resolve():
            raise UsageError(f"{source} is in the output folder; give -o another folder.")
        if source.stem in by_stem:
            raise UsageError(f"{by_stem[source.stem]} and {source} would both be saved as {source.stem}.*; "
                             "rename one or upscale them separately.")
        by_stem[source.stem] = source
    result = Plan()
    for source in sources:
        verdict = manifest.verdict(source, settings, overwrite)
        {"do": result.todo, "skip": result.skipped, "blocked": result.blocked}[verdict.action].append(
            (source, verdict))
    return result


def run_upscale(args: argparse.Namespace, client: Client) -> int:
    sources, ignored = collect_inputs(args.inputs)
    report_ignored(ignored, args.verbose)
    if not sources:
        raise UsageError(f"No images in {', '.join(map(str, args.inputs))}.")
    params, settings = settings_of(args)
    manifest = Manifest.load(args.output)
    if manifest.problem:
        say(manifest.problem)
    batch = plan(sources, manifest, settings, args.overwrite)
    for source, verdict in batch.skipped:
        say(f"Skipped {source}: {verdict.reason}.")
    for source, verdict in batch.blocked:
        say(f"Not overwriting: {verdict.reason}; --overwrite redoes it from {source}.")
    written, failures = [], []
    if batch.todo:
        project = project_id(client, args.project)
        for index, (source, verdict) in enumerate(batch.todo, 1):
            if verdict.reason:
                say(f"Redoing {source}: {verdict.reason}.")
            try:
                written.append(upscale_one(client, project, source, manifest, params, settings,
                                           f"[{index}/{len(batch.todo)}]"))
            except (JobFailed, ApiError) as exc:
                if isinstance(exc, ApiError) and exc.status not in PER_FILE_STATUSES:
                    raise
                failures.append(source)
                say(f"Failed {source}: {exc}")
        print_paths(written)
    elif not batch.blocked:
        say(f"Nothing to do: all {len(sources)} outputs in {args.output} are up to date.")
        return 0
    say(f"Upscaled {len(written)}, skipped {len(batch.skipped)}, not overwritten {len(batch.blocked)}, "
        f"failed {len(failures)}.")
    problems = []
    if failures:
        problems.append(f"{len(failures)} of {len(batch.todo)} files failed ({', '.join(map(str, failures))}); "
                        "run the same command again to retry them")
    if batch.blocked:
        problems.append(f"{len(batch.blocked)} existing outputs were left alone "
                        f"({', '.join(source.stem for source, _ in batch.blocked)}); pass --overwrite to redo them")
    if problems:
        raise MatsvcError("; ".join(problems) + ".")
    return 0


def upscale_one(client: Client, project: str, source: Path, manifest: Manifest, params: dict, settings: dict,
                label: str) -> Path:
    source_stamp = Stamp.of(source)
    digests = [(source.name, source_stamp.sha256)]
    # Redoing an output (deleted, or --overwrite) from the same file: the service answers with the
    # asset the earlier run uploaded, so the job key is the same too and its job is replayed.
    asset = keys.upload(client, project, [source], digests, name=f"{source.name} (matsvc upscale)")["assets"][0]
    inputs = {"assets": [asset["id"]]}
    # A project model job takes the project's newest fine-tuned model when it runs, so a replay
    # could give an older model's output: a key of this run's own (a retry still gets its job).
    job_key = keys.PREFIX + uuid.uuid4().hex if params.get("model") == "project" else \
        content_key(KIND, params, inputs, digests)
    job = start_job(lambda key: client.create_job(project, KIND, params, inputs, idempotency_key=key), job_key)
    job = wait_with_progress(client, project, job, f"{label} {source.name}")
    outputs = client.asset_set(project, job["output_set"])["assets"]
    output = next((a for a in outputs if a.get("source") == asset["id"]), outputs[0])
    suffix = Path(output["name"]).suffix or ".png"
    path = client.download_asset(project, output["id"], manifest.folder / (source.stem + suffix))
    manifest.record(source, source_stamp, settings, path, job["id"])
    return path

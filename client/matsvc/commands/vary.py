"""`matsvc vary texture`: one texture in, N seamless variations out."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..client import Client
from .common import (add_overwrite_option, add_project_option, fetch_set, input_file, print_paths, project_id, say,
                     say_started, wait_with_progress)
from . import keys
from .keys import content_key, file_digests, start_job

KIND = "texture.variations"


def size(text: str) -> tuple[int, int]:
    """`1024` (square) or `1024x512` (width x height), in pixels."""
    width, separator, height = text.strip().lower().partition("x")
    try:
        values = int(width), int(height if separator else width)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1024 or 1024x512)") from None
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (width and height are at least 1 pixel)")
    return values


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: make at least 1 variation")
    return value


def add_parsers(commands) -> None:
    vary = commands.add_parser("vary", help="Make new seamless variations of a texture.")
    vary.add_argument("texture", type=Path)
    add_project_option(vary)
    vary.add_argument("--count", "-n", type=count, default=4, help="Number of variations (default 4).")
    vary.add_argument("--size", type=size, help="Output size, 1024 or 1024x512 (default: the texture's).")
    vary.add_argument("--seed", type=int, help="Variation i uses seed + i: the same seed gives the same outputs.")
    vary.add_argument("--strength", type=float, help="0: close to the original layout .. 1: a new arrangement.")
    vary.add_argument("--mode", choices=("quality", "fast"), help="quality: optimise each variation; "
                                                                  "fast: train a generator once.")
    vary.add_argument("--tileable", action=argparse.BooleanOptionalAction, default=None,
                      help="Outputs tile seamlessly (default: yes).")
    vary.add_argument("--output", "-o", type=Path, required=True, help="Folder for the variations.")
    add_overwrite_option(vary)
    vary.set_defaults(run=run_vary)


def run_vary(args: argparse.Namespace, client: Client) -> int:
    texture = input_file(args.texture)
    project = project_id(client, args.project)
    width, height = args.size or (None, None)
    params = {"count": args.count, "width": width, "height": height, "seed": args.seed,
              "strength": args.strength, "mode": args.mode, "tileable": args.tileable}
    params = {k: v for k, v in params.items() if v is not None}
    # A re-run (same texture, same options) gets the asset the first run uploaded, and so the same
    # job key and the job the first run started: nothing is stored or computed twice.
    digests = file_digests([texture])
    uploaded = keys.upload(client, project, [texture], digests, roles=["texture"])
    inputs = {"texture": uploaded["assets"][0]["id"]}
    job = start_job(lambda key: client.create_job(project, KIND, params, inputs, idempotency_key=key),
                    content_key(KIND, params, inputs, digests))
    say_started(job, "Variations")
    job = wait_with_progress(client, project, job, "vary")
    written = fetch_set(client, project, job["output_set"], args.output, args.overwrite)
    say(f"Variations: {len(written)} files in {args.output}")
    print_paths(written)
    return 0

"""`matsvc vary texture`: one texture in, N seamless variations out."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..client import Client
from .common import add_project_option, fetch_set, print_paths, project_id, say, wait_with_progress


def size(text: str) -> tuple[int, int]:
    """`1024` (square) or `1024x512` (width x height)."""
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height or width)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1024 or 1024x512)") from None


def add_parsers(commands) -> None:
    vary = commands.add_parser("vary", help="Make new seamless variations of a texture.")
    vary.add_argument("texture", type=Path)
    add_project_option(vary)
    vary.add_argument("--count", "-n", type=int, default=4, help="Number of variations (default 4).")
    vary.add_argument("--size", type=size, help="Output size, 1024 or 1024x512 (default: the texture's).")
    vary.add_argument("--seed", type=int, help="Variation i uses seed + i: the same seed gives the same outputs.")
    vary.add_argument("--strength", type=float, help="0: close to the original layout .. 1: a new arrangement.")
    vary.add_argument("--mode", choices=("quality", "fast"), help="quality: optimise each variation; "
                                                                  "fast: train a generator once.")
    vary.add_argument("--tileable", action=argparse.BooleanOptionalAction, default=None,
                      help="Outputs tile seamlessly (default: yes).")
    vary.add_argument("--output", "-o", type=Path, required=True, help="Folder for the variations.")
    vary.set_defaults(run=run_vary)


def run_vary(args: argparse.Namespace, client: Client) -> int:
    project = project_id(client, args.project)
    width, height = args.size or (None, None)
    params = {"count": args.count, "width": width, "height": height, "seed": args.seed,
              "strength": args.strength, "mode": args.mode, "tileable": args.tileable}
    uploaded = client.upload(project, [args.texture], roles=["texture"])
    job = client.create_job(project, "texture.variations", {k: v for k, v in params.items() if v is not None},
                            {"texture": uploaded["assets"][0]["id"]})
    say(f"Variations job {job['id']} started.")
    job = wait_with_progress(client, project, job, "vary")
    written = fetch_set(client, project, job["output_set"], args.output)
    say(f"Variations: {len(written)} files in {args.output}")
    print_paths(written)
    return 0

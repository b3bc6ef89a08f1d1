"""The training corpus: procedural textures plus any HR images supplied.

`build_corpus` renders textures `first_seed .. first_seed+count-1`; training
uses seeds from 0, the held-out benchmark set uses seeds from HELDOUT_SEED
(never drawn in training). Rebuild on disk with
`python -m superres.data.corpus OUT_DIR --count 400`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from superres.data.procedural import make_texture

HELDOUT_SEED = 1_000_000
# The texture kinds of the held-out benchmark set (fixed, so its figures stay comparable
# when a training-only kind such as "leaves" is added).
HELDOUT_KINDS = ("noise", "cells", "bricks", "grain", "weave", "stripes", "decal", "rendered")


def build_corpus(count: int, size: int = 256, first_seed: int = 0) -> list[np.ndarray]:
    """`count` textures as (size,size,3) uint8 sRGB (uint8 keeps RAM small)."""
    return [(make_texture(first_seed + i, size)[1] * 255 + 0.5).astype(np.uint8) for i in range(count)]


def heldout_set(size: int = 256) -> list[tuple[str, np.ndarray]]:
    """Held-out benchmark images: one per kind, plus extra renders and decals,
    from seeds training never uses. Returns (name, (size,size,3) float32 sRGB)."""
    items = []
    seed = HELDOUT_SEED
    for kind in HELDOUT_KINDS:
        for repeat in range(2 if kind in ("rendered", "decal") else 1):
            items.append((f"{kind}_{seed}", make_texture(seed, size, kind)[1]))
            seed += 1
    return items


def load_hr_images(paths: list[str | os.PathLike], min_side: int = 96) -> list[np.ndarray]:
    """Read HR images (any format `imaging.io` reads) as (H,W,3) uint8 sRGB."""
    from imaging.io import read_image, to_float32

    images = []
    for path in paths:
        pixels = to_float32(read_image(path).pixels)
        if pixels.shape[2] in (1, 2):
            pixels = np.repeat(pixels[..., :1], 3, axis=2)
        pixels = pixels[..., :3]
        if min(pixels.shape[:2]) >= min_side:
            images.append((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the procedural SR corpus as PNG files.")
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    from imaging.io import write_image

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        kind, image = make_texture(args.first_seed + i, args.size)
        write_image(str(out / f"{args.first_seed + i:07d}_{kind}.png"), (image * 255 + 0.5).astype(np.uint8))


if __name__ == "__main__":
    main()

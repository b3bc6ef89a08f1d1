"""Texture synthesis benchmark: quality and speed against simple baselines.

Makes procedural 256^2 exemplars (noise, stones, bricks, weave, wood) and takes 256^2 crops
of three real texture photos (gravel, grass, brick from scikit-image's samples), synthesises
512^2 variations and prints a markdown table of: seconds (wall and process CPU),
relative multi-scale patch SWD (1.0 = as close as two halves of the exemplar),
random-CNN Gram distance, seam score (1.0 = seamless), seam excess (wrap line over the
strongest interior line; <= 1 = seamless), copy score (share of
near-verbatim exemplar patches) and diversity across seeds. Baselines: the exemplar tiled
as-is, a grid of random crops, and classic image quilting (Efros & Freeman 2001).

    .venv/bin/python bench/textures.py --out /tmp/texture-bench
    .venv/bin/python bench/textures.py --textures noise,stones --seeds 2 --gram --fast-steps 300
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textures.synthesis import metrics  # noqa: E402
from textures.synthesis.fast_train import train_generator  # noqa: E402
from textures.synthesis.optimise import SynthesisSettings, synthesize  # noqa: E402
from textures.synthesis.procedural import TEXTURES  # noqa: E402


PHOTOS = ("gravel", "grass", "brick")  # real texture photos shipped in the scikit-image wheel


def make_exemplar(name: str, size: int) -> np.ndarray:
    """(size,size,3) float32 sRGB in [0,1]: a procedural texture, or `photo:<name>`, a centre
    crop of one of scikit-image's real texture photos (grey, 512^2; public domain)."""
    if not name.startswith("photo:"):
        return TEXTURES[name](size, seed=1)
    from superres.data.real import real_images

    (_, pixels), = real_images((name.removeprefix("photo:"),))
    top, left = (pixels.shape[0] - size) // 2, (pixels.shape[1] - size) // 2
    if top < 0 or left < 0:
        raise SystemExit(f"{name} is smaller than {size}^2")
    return np.ascontiguousarray(pixels[top:top + size, left:left + size], np.float32) / 255.0


def to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None]


def to_image(tensor: torch.Tensor) -> np.ndarray:
    return tensor[0].detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy()


def offset_tiling(exemplar: np.ndarray, size: int, crop: int, seed: int) -> np.ndarray:
    """Baseline: a grid of random crops of the exemplar."""
    rng = np.random.default_rng(seed)
    out = np.zeros((size, size, exemplar.shape[2]), np.float32)
    for y in range(0, size, crop):
        for x in range(0, size, crop):
            top = rng.integers(0, exemplar.shape[0] - crop + 1)
            left = rng.integers(0, exemplar.shape[1] - crop + 1)
            out[y:y + crop, x:x + crop] = exemplar[top:top + crop, left:left + crop]
    return out


def _min_cut(cost: np.ndarray) -> np.ndarray:
    """Per row, the column where the cheapest top-to-bottom path (steps -1/0/+1) crosses."""
    rows, cols = cost.shape
    total = cost.copy()
    for r in range(1, rows):
        left = np.r_[np.inf, total[r - 1, :-1]]
        right = np.r_[total[r - 1, 1:], np.inf]
        total[r] += np.minimum(np.minimum(left, total[r - 1]), right)
    path = np.empty(rows, int)
    path[-1] = int(np.argmin(total[-1]))
    for r in range(rows - 2, -1, -1):
        c = path[r + 1]
        lo, hi = max(c - 1, 0), min(c + 2, cols)
        path[r] = lo + int(np.argmin(total[r, lo:hi]))
    return path


def image_quilting(exemplar: np.ndarray, size: int, seed: int, block: int = 48, overlap: int = 8,
                   candidates: int = 1500, tolerance: float = 0.1) -> np.ndarray:
    """Baseline: classic image quilting (Efros & Freeman 2001) with minimum-error boundary cuts.

    Blocks are picked among random candidates whose overlap error is within `tolerance`
    of the best; not periodic (no wrap-around), as in the paper.
    """
    rng = np.random.default_rng(seed)
    height, width, channels = exemplar.shape
    step = block - overlap
    count = -(-(size - overlap) // step)
    out = np.zeros((count * step + overlap,) * 2 + (channels,), np.float32)
    span = np.arange(block)
    for i in range(count):
        for j in range(count):
            y, x = i * step, j * step
            tops = rng.integers(0, height - block + 1, candidates)
            lefts = rng.integers(0, width - block + 1, candidates)
            patches = exemplar[tops[:, None, None] + span[None, :, None], lefts[:, None, None] + span[None, None, :]]
            region = out[y:y + block, x:x + block]
            error = np.zeros(candidates)
            if j:
                error += ((patches[:, :, :overlap] - region[:, :overlap]) ** 2).sum((1, 2, 3))
            if i:
                error += ((patches[:, :overlap] - region[:overlap]) ** 2).sum((1, 2, 3))
            good = np.flatnonzero(error <= error.min() * (1 + tolerance) + 1e-12)
            patch = patches[rng.choice(good)]
            take = np.ones((block, block), bool)
            if j:
                cut = _min_cut(((patch[:, :overlap] - region[:, :overlap]) ** 2).sum(-1))
                take &= span[None, :] >= cut[:, None]
            if i:
                cut = _min_cut(((patch[:overlap] - region[:overlap]) ** 2).sum(-1).T)
                take &= span[:, None] >= cut[None, :]
            out[y:y + block, x:x + block] = np.where(take[..., None], patch, region)
    return out[:size, :size]


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def score(name, method, outputs, exemplar, wall, cpu):
    """Means over the outputs (seeds), but Gram distance (first output) and seam excess (worst)."""
    first = outputs[0]
    return {
        "texture": name, "method": method, "wall": wall, "cpu": cpu,
        "rel_swd": float(np.mean([metrics.relative_patch_swd(o, exemplar) for o in outputs])),
        "gram": metrics.gram_distance(first, exemplar),
        "seam": float(np.mean([metrics.seam_score(o) for o in outputs])),
        # The wrap line against the strongest interior line: <= 1 when it is just another line
        # (one line's seam score swings with the content it crosses, e.g. a row of mortar).
        "seam_excess": float(np.max([metrics.seam_excess(o) for o in outputs])),
        "copy": float(np.mean([metrics.copy_score(o, exemplar, stride=16) for o in outputs])),
        "diversity": metrics.diversity(outputs) if len(outputs) > 1 else float("nan"),
    }


def save(out_dir, name, method, outputs):
    if out_dir is None:
        return
    from PIL import Image
    for index, image in enumerate(outputs):
        tiled = np.tile(image, (2, 2, 1))  # 2x2 shows any seam
        Image.fromarray((tiled * 255 + 0.5).astype(np.uint8)).save(
            out_dir / f"{name.replace(':', '-')}_{method.replace(' ', '_')}_{index}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--textures", default=",".join([*TEXTURES, *(f"photo:{p}" for p in PHOTOS)]),
                        help="procedural names and photo:<gravel|grass|brick>")
    parser.add_argument("--exemplar", type=int, default=256)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seeds", type=int, default=2, help="variations per method (diversity)")
    parser.add_argument("--gram", action="store_true", help="also run the random-CNN Gram loss")
    parser.add_argument("--fast-steps", type=int, default=0, help="train fast mode with N steps (0: skip)")
    parser.add_argument("--fast-textures", default=None, help="subset for fast mode")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    parser.add_argument("--out", type=Path, default=None, help="folder for PNGs (tiled 2x2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    size = (args.size, args.size)
    fast_names = set((args.fast_textures or args.textures).split(","))
    for name in args.textures.split(","):
        exemplar = make_exemplar(name, args.exemplar)
        source = to_tensor(exemplar)
        reps = -(-args.size // args.exemplar)
        tiled = np.tile(exemplar, (reps, reps, 1))[:args.size, :args.size]
        rows.append(score(name, "tiled exemplar", [tiled], exemplar, 0.0, 0.0))
        crops = [offset_tiling(exemplar, args.size, args.exemplar // 2, s) for s in range(args.seeds)]
        rows.append(score(name, "random-crop tiling", crops, exemplar, 0.0, 0.0))
        quilts, walls, cpus = [], [], []
        for seed in range(args.seeds):
            quilt, wall, cpu = timed(lambda: image_quilting(exemplar, args.size, seed))
            quilts.append(quilt)
            walls.append(wall)
            cpus.append(cpu)
        rows.append(score(name, "image quilting", quilts, exemplar, float(np.mean(walls)), float(np.mean(cpus))))
        save(args.out, name, "quilting", quilts)
        methods = [("swd (quality)", SynthesisSettings())]
        if args.gram:
            methods.append(("gram random CNN", SynthesisSettings(loss="gram", steps_coarsest=150,
                                                                 steps_finest=15)))
        for method, settings in methods:
            outputs, walls, cpus = [], [], []
            for seed in range(args.seeds):
                tensor, wall, cpu = timed(lambda: synthesize(source, size, seed=seed, settings=settings))
                outputs.append(to_image(tensor))
                walls.append(wall)
                cpus.append(cpu)
            rows.append(score(name, method, outputs, exemplar, float(np.mean(walls)), float(np.mean(cpus))))
            save(args.out, name, method, outputs)
            print(f"{name:8s} {method:18s} {np.mean(walls):6.1f} s wall {np.mean(cpus):6.1f} s cpu", flush=True)
        if args.fast_steps and name in fast_names:
            model, train_wall, train_cpu = timed(lambda: train_generator(source, steps=args.fast_steps))
            outputs, walls, cpus = [], [], []
            for seed in range(max(args.seeds, 2)):
                tensor, wall, cpu = timed(lambda: model.sample(size, seed=seed))
                outputs.append(to_image(tensor))
                walls.append(wall)
                cpus.append(cpu)
            method = f"fast ({args.fast_steps} steps, train {train_wall:.0f} s)"
            rows.append(score(name, method, outputs, exemplar, float(np.mean(walls)), float(np.mean(cpus))))
            save(args.out, name, "fast", outputs)
            print(f"{name:8s} fast: train {train_wall:.1f} s wall, {np.mean(walls):.2f} s/variation", flush=True)
    load = os.getloadavg()[0]
    print(f"\n{args.exemplar}^2 exemplar -> {args.size}^2 output, torch threads {args.threads}, "
          f"load average at end {load:.1f}\n")
    print("| texture | method | s/variation (wall) | s (process CPU) | rel. patch SWD | Gram dist. | seam | "
          "seam excess | copy | diversity |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['texture']} | {row['method']} | {row['wall']:.2f} | {row['cpu']:.2f} | "
              f"{row['rel_swd']:.2f} | {row['gram']:.3f} | {row['seam']:.2f} | {row['seam_excess']:.2f} | "
              f"{row['copy']:.2f} | {row['diversity']:.2f} |")


if __name__ == "__main__":
    main()

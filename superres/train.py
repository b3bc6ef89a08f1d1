"""Train the x2 / x4 generators: PSNR stage, then GAN stage.

    python -m superres.train --scale 4 --psnr-minutes 40 --gan-minutes 20

writes `x4_psnr.pt` and `x4_gan.pt` (fp16) to `--out-dir` (default
`superres/weights/`), checkpoints and a JSON-lines log of losses and
validation PSNR to `--work-dir`. The budget flags (`--*-minutes`,
`--*-steps`) are the only thing to change for a longer GPU run; CUDA is used
when available.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from imaging.io import dxt1_roundtrip, jpeg_roundtrip
from superres.data.corpus import build_corpus, load_hr_images
from superres.data.degrade import bicubic_downscale
from superres.data.pairs import PairSampler
from superres.data.procedural import make_texture
from superres.data.real import TRAIN as REAL_TRAIN
from superres.data.real import real_images
from superres.nets.generator import RRDBNet, deepen
from superres.training.checkpoints import (export_weights, generator_from_state, load_weights_file,
                                           save_checkpoint)
from superres.training.loop import Budget, StageConfig, train_stage

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
VALIDATION_SEED = 500_000  # between the training seeds and the held-out benchmark seeds
LR_PATCH = {2: 32, 4: 24}
HR_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".exr"}  # an --hr-dir's notes are skipped


def validation_pairs(scale: int, count: int = 6, size: int = 128, photos: list[np.ndarray] = (),
                     photo_size: int = 256, compressed: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Clean bicubic pairs `(1,3,size/s,size/s)`, `(1,3,size,size)` from unseen seeds, then
    one of each (H,W,3) uint8 photo's centre crop of photo_size^2. compressed: instead, each
    low-resolution image saved as a JPEG of quality 70 and as a DXT1 texture (the benchmark's
    --jpeg 70 and --dxt1), what the models for degraded sources are used on."""
    highs = [make_texture(VALIDATION_SEED + i, size)[1] for i in range(count)]
    for photo in photos:
        top, left = (photo.shape[0] - photo_size) // 2, (photo.shape[1] - photo_size) // 2
        highs.append(photo[top:top + photo_size, left:left + photo_size].astype(np.float32) / 255)
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]
    lows = [bicubic_downscale(high, scale) for high in highs]
    if not compressed:
        return [(to_t(low), to_t(high)) for low, high in zip(lows, highs)]
    pairs = []
    for low, high in zip(lows, highs):
        low8 = (np.clip(low, 0, 1) * 255 + 0.5).astype(np.uint8)
        for roundtrip in (lambda x: jpeg_roundtrip(x, 70), dxt1_roundtrip):
            pairs.append((to_t(roundtrip(low8).astype(np.float32) / 255), to_t(high)))
    return pairs


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, choices=(2, 4), required=True)
    p.add_argument("--psnr-minutes", type=float, default=None, help="time budget of the PSNR stage")
    p.add_argument("--psnr-steps", type=int, default=None, help="step budget of the PSNR stage")
    p.add_argument("--gan-minutes", type=float, default=None, help="time budget of the GAN stage")
    p.add_argument("--gan-steps", type=int, default=None, help="step budget of the GAN stage")
    p.add_argument("--skip-psnr", action="store_true", help="start the GAN stage from existing PSNR weights")
    p.add_argument("--out-dir", default=str(WEIGHTS_DIR))
    p.add_argument("--work-dir", default=None, help="checkpoints and log (default /tmp/superres_runs/xS)")
    p.add_argument("--corpus-count", type=int, default=400)
    p.add_argument("--corpus-size", type=int, default=256)
    p.add_argument("--hr-dir", action="append", default=[],
                   help="extra HR images: a folder's image files (repeatable; e.g. python -m superres.data.photos DIR)")
    p.add_argument("--hr-repeat", type=int, default=1,
                   help="draw each --hr-dir image this many times as often as a procedural texture")
    p.add_argument("--val-holdout", type=int, default=0,
                   help="keep the last N --hr-dir images (by name) out of training: validation photos")
    p.add_argument("--real-repeat", type=int, default=8,
                   help="how often each real training photo (superres.data.real.TRAIN) enters the sampler; 0: none")
    p.add_argument("--init", default=None, help="start the PSNR stage from these weights instead of from scratch")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr-patch", type=int, default=None)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--psnr-l1-weight", type=float, default=1.0, help="PSNR stage: L1 weight")
    p.add_argument("--psnr-mse-weight", type=float, default=0.0,
                   help="PSNR stage: MSE weight (e.g. 1 with --psnr-l1-weight 0 --psnr-hfen-weight 0: a last "
                        "MSE-only stage, which optimises what PSNR measures)")
    p.add_argument("--psnr-hfen-weight", type=float, default=2.0, help="PSNR stage: HFEN (LoG L1) weight")
    p.add_argument("--gan-lr", type=float, default=5e-5)
    p.add_argument("--gan-l1-weight", type=float, default=0.5, help="GAN stage: L1 fidelity weight")
    p.add_argument("--gan-hfen-weight", type=float, default=5.0, help="GAN stage: HFEN (edge) weight")
    p.add_argument("--gan-hfen-norm-weight", type=float, default=0.0,
                   help="GAN stage: weight of the HFEN metric itself (L2 ratio of LoG responses)")
    p.add_argument("--gan-perceptual-weight", type=float, default=0.1, help="GAN stage: perceptual weight")
    p.add_argument("--gan-adv-weight", type=float, default=0.01, help="GAN stage: adversarial weight")
    p.add_argument("--gan-max-psnr-cost", type=float, default=1.0,
                   help="GAN stage: keep the validation with the lowest HFEN among those within this many dB "
                        "of the stage's starting validation PSNR")
    p.add_argument("--clean-fraction", type=float, default=0.5,
                   help="PSNR stage: share of clean bicubic pairs (the rest blurred, noisy or JPEG)")
    p.add_argument("--gan-clean-fraction", type=float, default=None,
                   help="GAN stage: share of clean bicubic pairs (default: as the PSNR stage)")
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--growth", type=int, default=16)
    p.add_argument("--blocks", type=int, default=2,
                   help="RRDBs; with --init, a larger count appends new ones that start as identities")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup-steps", type=int, default=0,
                   help="PSNR stage: linear learning-rate warm-up (for a continued model: Adam's first steps "
                        "otherwise shake it)")
    p.add_argument("--bf16", action="store_true",
                   help="forward passes in bfloat16 (autocast; weights and optimiser float32): faster on CPUs "
                        "with AVX-512 BF16 and on recent GPUs")
    p.add_argument("--val-compressed", action="store_true",
                   help="validate (and pick the kept step) on the validation images' JPEG q=70 and DXT1 versions: "
                        "for the models of degraded sources")
    p.add_argument("--psnr-keep", choices=("best", "last"), default="best",
                   help="PSNR stage: keep the weights of its best validation or of its last step")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    work = Path(args.work_dir or f"/tmp/superres_runs/x{args.scale}")
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out_dir)
    log_path = work / "log.jsonl"

    started = time.time()
    images = build_corpus(args.corpus_count, args.corpus_size)
    hr_files = sorted(p for directory in args.hr_dir for p in Path(directory).iterdir()
                      if p.is_file() and p.suffix.lower() in HR_SUFFIXES)
    if args.val_holdout >= max(len(hr_files), 1):
        raise SystemExit(f"--val-holdout {args.val_holdout} leaves none of the {len(hr_files)} --hr-dir images to train on")
    split = len(hr_files) - args.val_holdout
    held_out = hr_files[split:]
    images += load_hr_images(hr_files[:split]) * args.hr_repeat
    if args.real_repeat:
        # Photos are few but large; repeating them gives them a fair share of the crops
        # (the list holds references, so repeats cost no memory).
        images += [image for _, image in real_images(REAL_TRAIN)] * args.real_repeat
    sampler = PairSampler(images, args.scale, args.lr_patch or LR_PATCH[args.scale], seed=args.seed,
                          clean_fraction=args.clean_fraction)
    val = validation_pairs(args.scale, photos=load_hr_images(held_out, min_side=256), compressed=args.val_compressed)
    if held_out:
        print("validation photos:", ", ".join(p.name for p in held_out), flush=True)
    print(f"corpus: {len(images)} images in {time.time() - started:.0f}s, device {device}", flush=True)

    psnr_path, gan_path = out / f"x{args.scale}_psnr.pt", out / f"x{args.scale}_gan.pt"
    meta = {"command": "python -m superres.train " + " ".join(argv or __import__("sys").argv[1:])}
    if args.skip_psnr:
        generator = generator_from_state(load_weights_file(psnr_path)).train()
    else:
        if args.init:
            initial = load_weights_file(args.init)
            meta["init"] = {"file": Path(args.init).name, **initial.get("meta", {})}
            generator = generator_from_state(initial)
            if args.blocks > generator.config["blocks"]:
                meta["init"]["deepened_from_blocks"] = generator.config["blocks"]
                generator = deepen(generator, args.blocks)
            generator.train()
        else:
            generator = RRDBNet(args.scale, args.features, args.growth, args.blocks)
        result = train_stage(
            "psnr", generator, sampler, Budget(args.psnr_minutes, args.psnr_steps),
            StageConfig(batch=args.batch, lr=args.lr, l1_weight=args.psnr_l1_weight, mse_weight=args.psnr_mse_weight,
                        hfen_weight=args.psnr_hfen_weight, bf16=args.bf16, warmup_steps=args.warmup_steps),
            val_pairs=val, log_path=log_path, device=device,
            checkpoint=lambda state: save_checkpoint(work / "psnr_checkpoint.pt", **state),
            # the best validation, or the last step (when the validation does not track the goal)
            select=None if args.psnr_keep == "last" else lambda record: -record["val_psnr"])
        export_weights(generator, psnr_path, {**meta, **result})
        print("psnr stage:", json.dumps(result), flush=True)

    if args.gan_minutes is None and args.gan_steps is None:
        return
    gan_config = StageConfig(batch=args.batch, lr=args.gan_lr, lr_floor=0.2, l1_weight=args.gan_l1_weight,
                             hfen_weight=args.gan_hfen_weight, hfen_norm_weight=args.gan_hfen_norm_weight,
                             perceptual_weight=args.gan_perceptual_weight,
                             gan_weight=args.gan_adv_weight, bf16=args.bf16)
    start: dict = {}

    def sharpest_within_cost(record: dict) -> float | None:
        # The GAN model's job is sharper edges (lower HFEN) at a bounded PSNR cost. The first
        # record train_stage scores is its validation before the first step: the start.
        start.setdefault("psnr", record["val_psnr"])
        return record["val_hfen"] if record["val_psnr"] >= start["psnr"] - args.gan_max_psnr_cost else None

    if args.gan_clean_fraction is not None:
        sampler = PairSampler(images, args.scale, args.lr_patch or LR_PATCH[args.scale], seed=args.seed + 1,
                              clean_fraction=args.gan_clean_fraction)
    result = train_stage(
        "gan", generator, sampler, Budget(args.gan_minutes, args.gan_steps), gan_config,
        val_pairs=val, log_path=log_path, device=device, select=sharpest_within_cost,
        checkpoint=lambda state: save_checkpoint(work / "gan_checkpoint.pt", **state))
    export_weights(generator, gan_path, {**meta, **result})
    print("gan stage:", json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

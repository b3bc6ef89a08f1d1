"""Per-project fine-tuning: adapt the shipped PSNR model to a project's HR textures.

Self-supervised: the project's own HR images are degraded (`superres.data.degrade`)
to make LR/HR pairs. The result is a normal weights file; `superres.upscale`
takes it as `model_path` (the sharpness control then adds the shipped
GAN-minus-PSNR difference to the fine-tuned weights).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from superres.data.degrade import bicubic_downscale
from superres.data.pairs import PairSampler
from superres.nets.generator import RRDBNet
from superres.training.checkpoints import export_weights
from superres.training.loop import Budget, Progress, StageConfig, train_stage, validate
from superres.upscale import SuperResInputError, load_generator

MIN_IMAGES = 2
LR_PATCH = {2: 32, 4: 24}


def _as_rgb_float(item) -> np.ndarray:
    from imaging.io import read_image, to_float32

    pixels = item if isinstance(item, np.ndarray) else read_image(item).pixels
    values = to_float32(pixels)
    if values.ndim == 2:
        values = values[..., None]
    if values.shape[2] < 3:
        values = np.repeat(values[..., :1], 3, axis=2)
    return np.ascontiguousarray(np.clip(values[..., :3], 0, 1), dtype=np.float32)


def finetune(
    hr_images: list,
    *,
    scale: int,
    steps: int | None = 300,
    minutes: float | None = None,
    out_path: str | os.PathLike | None = None,
    progress: Progress | None = None,
    lr: float = 5e-5,
    batch: int = 8,
    seed: int = 0,
) -> tuple[RRDBNet, dict]:
    """Fine-tune the shipped x`scale` PSNR model on `hr_images` (arrays `(H,W[,C])`
    uint8/uint16/float32 sRGB, or paths). Budget: `steps` and/or `minutes`.
    Returns `(model, report)`; writes the model to `out_path` when given.
    Raises SuperResInputError when fewer than MIN_IMAGES usable images are given."""
    if scale not in (2, 4):
        raise SuperResInputError(f"scale must be 2 or 4, got {scale}")
    if steps is None and minutes is None:
        raise SuperResInputError("a fine-tune needs a step or time budget")
    hr_patch = LR_PATCH[scale] * scale
    images = [_as_rgb_float(item) for item in hr_images]
    usable = [im for im in images if min(im.shape[:2]) >= hr_patch]
    if len(usable) < MIN_IMAGES:
        raise SuperResInputError(
            f"fine-tuning x{scale} needs at least {MIN_IMAGES} high-resolution images of at least "
            f"{hr_patch}x{hr_patch} pixels; {len(usable)} given")
    started = time.perf_counter()
    # From the model for all sources: a project model is used for clean and degraded ones alike.
    generator = load_generator(scale, 0.0, source="degraded").train()
    sampler = PairSampler(usable, scale, LR_PATCH[scale], seed=seed)
    # Fit check on centre crops of the project images (in-sample: a project has few images).
    val_pairs = []
    for im in usable[:4]:
        side = min(im.shape[0], im.shape[1], 128) // scale * scale
        y, x = (im.shape[0] - side) // 2, (im.shape[1] - side) // 2
        high = im[y:y + side, x:x + side]
        to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]
        val_pairs.append((to_t(bicubic_downscale(high, scale)), to_t(high)))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    before = validate(generator, val_pairs, device)
    result = train_stage("psnr", generator, sampler, Budget(minutes, steps),
                         StageConfig(batch=batch, lr=lr, hfen_weight=2.0, val_every_s=1e9, checkpoint_every_s=1e9),
                         progress=progress, device=device)
    after = validate(generator, val_pairs, device)
    generator.eval()
    report = {"scale": scale, "images": len(usable), "steps": result.get("steps", 0),
              "psnr_before": round(before["val_psnr"], 3), "psnr_after": round(after["val_psnr"], 3),
              "psnr_bicubic": round(before["val_psnr_bicubic"], 3),
              "seconds": round(time.perf_counter() - started, 2)}
    if out_path is not None:
        export_weights(generator, out_path, {"finetune": report})
    return generator.cpu(), report

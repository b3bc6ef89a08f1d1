"""The two training stages of ESRGAN, on a time and/or step budget.

`train_psnr`: L1 + HFEN fidelity (the PSNR-oriented model, also the
initialisation of the GAN stage). `train_gan`: fidelity + perceptual +
relativistic GAN against a spectral-norm discriminator. Both follow a cosine
learning-rate decay over the budget (whichever of time and steps runs out
first), log JSON lines, checkpoint periodically and report progress.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from superres import losses
from superres.data.pairs import PairSampler
from superres.nets.discriminator import PatchDiscriminator
from superres.nets.generator import RRDBNet

Progress = Callable[[float, str], None]


@dataclass
class Budget:
    """Stop after `minutes` of wall time or `steps` optimisation steps (None: no limit)."""

    minutes: float | None = None
    steps: int | None = None
    started: float = field(default_factory=time.monotonic)

    def fraction(self, step: int) -> float:
        parts = [0.0]
        if self.minutes is not None:
            parts.append((time.monotonic() - self.started) / max(self.minutes * 60.0, 1e-9))
        if self.steps is not None:
            parts.append(step / max(self.steps, 1))
        return min(max(parts), 1.0)

    def done(self, step: int) -> bool:
        if self.minutes is None and self.steps is None:
            raise ValueError("a training budget needs minutes or steps")
        return self.fraction(step) >= 1.0


@dataclass
class StageConfig:
    batch: int = 8
    lr: float = 2e-4
    lr_floor: float = 0.05  # final learning rate as a fraction of `lr`
    # Linear warm-up: Adam's first steps move every weight by about the learning rate
    # whatever its gradient, which costs a trained model ~0.15 dB (x4, lr 1e-4, 60 steps).
    warmup_steps: int = 0
    l1_weight: float = 1.0
    # MSE, the loss PSNR measures (L1's optimum is the conditional median, MSE's the mean): a
    # PSNR-oriented model's last steps can take it alone.
    mse_weight: float = 0.0
    hfen_weight: float = 0.5
    # losses.hfen, the benchmark's HFEN, as a term: an L2 ratio over the batch, whose optimum is
    # the conditional mean the metric scores (unlike the L1 hfen_loss); per patch, a flat
    # patch's tiny LoG norm blew the ratio up (x4 patches: a mean of 10).
    hfen_norm_weight: float = 0.0
    perceptual_weight: float = 0.0
    gan_weight: float = 0.0
    d_lr: float = 1e-4
    # Forward passes in bfloat16 (autocast; master weights, losses and the optimiser stay
    # float32): ~1.6x the steps on a CPU with AVX-512 BF16, where float32 is the bound.
    bf16: bool = False
    val_every_s: float = 120.0
    checkpoint_every_s: float = 300.0


def _cosine(fraction: float, config: StageConfig) -> float:
    return config.lr * (config.lr_floor + (1 - config.lr_floor) * 0.5 * (1 + math.cos(math.pi * fraction)))


@torch.no_grad()
def validate(generator: RRDBNet, val_pairs: list[tuple[torch.Tensor, torch.Tensor]], device) -> dict:
    """Mean PSNR (RGB, dB) of the model and of bicubic on `(1,3,h,w)`/`(1,3,H,W)` pairs."""
    was_training = generator.training
    generator.eval()
    model_psnr, bicubic_psnr, model_hfen = [], [], []
    for low, high in val_pairs:
        low, high = low.to(device), high.to(device)
        sr = generator(low).clamp(0, 1)
        base = F.interpolate(low, scale_factor=generator.scale, mode="bicubic", align_corners=False).clamp(0, 1)
        model_psnr.append(losses.psnr(sr, high))
        bicubic_psnr.append(losses.psnr(base, high))
        model_hfen.append(losses.hfen(sr, high).item())
    generator.train(was_training)
    n = max(len(val_pairs), 1)
    return {"val_psnr": sum(model_psnr) / n, "val_psnr_bicubic": sum(bicubic_psnr) / n,
            "val_hfen": sum(model_hfen) / n}


class _Logger:
    def __init__(self, path):
        self.path = path

    def __call__(self, record: dict) -> None:
        line = json.dumps({k: (round(v, 5) if isinstance(v, float) else v) for k, v in record.items()})
        if self.path is None:
            return
        with open(self.path, "a") as handle:
            handle.write(line + "\n")


def train_stage(
    stage: str,
    generator: RRDBNet,
    sampler: PairSampler,
    budget: Budget,
    config: StageConfig,
    *,
    val_pairs: list | None = None,
    log_path=None,
    checkpoint: Callable[[dict], None] | None = None,
    progress: Progress | None = None,
    device: str | torch.device = "cpu",
    discriminator: PatchDiscriminator | None = None,
    select: Callable[[dict], float | None] | None = None,
) -> dict:
    """Run one stage ("psnr" or "gan") in place on `generator`; returns the last
    validation record. Exceptions from `progress` propagate (cancellation).

    `select(record)`: a score to minimise for a validation record, or None when
    that record is not eligible. When given, the generator ends holding the weights
    of the best-scoring validation (including the one before the first step), and
    the returned record is that validation's, with `selected_step`. Needs `val_pairs`.
    """
    device = torch.device(device)
    generator.to(device).train()
    gan = stage == "gan"
    optimiser = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=(0.9, 0.99))
    if gan:
        discriminator = (discriminator or PatchDiscriminator()).to(device).train()
        d_optimiser = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, betas=(0.9, 0.99))
        perceptual = losses.PerceptualLoss().to(device)
    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16)
    log = _Logger(log_path)
    val_pairs = val_pairs or []
    record = {"stage": stage, "step": 0, **validate(generator, val_pairs, device)} if val_pairs else {}
    if record:
        log(record)
    best = None  # (score, record, weights)

    def consider(candidate: dict) -> None:
        nonlocal best
        score = select(candidate) if select is not None and candidate else None
        if score is not None and (best is None or score < best[0]):
            weights = {k: v.detach().clone() for k, v in generator.state_dict().items()}
            best = (score, dict(candidate), weights)

    consider(record)
    last_val = last_ckpt = time.monotonic()
    step, running = 0, {}
    while not budget.done(step):
        fraction = budget.fraction(step)
        warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
        for group in optimiser.param_groups:
            group["lr"] = _cosine(fraction, config) * warmup
        low, high = (t.to(device) for t in sampler.batch(config.batch))
        with autocast():
            sr = generator(low).float()
        terms = {"l1": losses.pixel_l1(sr, high), "hfen": losses.hfen_loss(sr, high)}
        total = config.l1_weight * terms["l1"] + config.hfen_weight * terms["hfen"]
        if config.mse_weight:
            terms["mse"] = losses.pixel_mse(sr, high)
            total = total + config.mse_weight * terms["mse"]
        if config.hfen_norm_weight:
            terms["hfen_norm"] = losses.hfen(sr, high)
            total = total + config.hfen_norm_weight * terms["hfen_norm"]
        if gan:
            terms["perceptual"] = perceptual(sr, high)
            # Generator step: the discriminator is frozen, real logits carry no graph.
            discriminator.requires_grad_(False)
            with autocast():
                real_logits, fake_logits = discriminator(high).float().detach(), discriminator(sr).float()
            terms["gan"] = losses.relativistic_g_loss(real_logits, fake_logits)
            total = total + config.perceptual_weight * terms["perceptual"] + config.gan_weight * terms["gan"]
        optimiser.zero_grad(set_to_none=True)
        total.backward()
        optimiser.step()
        if gan:
            discriminator.requires_grad_(True)
            with autocast():
                real_logits, fake_logits = discriminator(high).float(), discriminator(sr.detach()).float()
            d_loss = losses.relativistic_d_loss(real_logits, fake_logits)
            d_optimiser.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimiser.step()
            terms["d"] = d_loss
        step += 1
        for name, value in terms.items():
            running[name] = running.get(name, 0.0) * 0.98 + value.item() * 0.02 if name in running else value.item()
        if progress is not None and step % 10 == 0:
            progress(budget.fraction(step), f"{stage} step {step}")
        now = time.monotonic()
        if now - last_val >= config.val_every_s or budget.done(step):
            record = {"stage": stage, "step": step, "lr": optimiser.param_groups[0]["lr"],
                      **{f"loss_{k}": v for k, v in running.items()}}
            if val_pairs:
                record.update(validate(generator, val_pairs, device))
                consider(record)
            log(record)
            last_val = now
        if checkpoint is not None and (now - last_ckpt >= config.checkpoint_every_s or budget.done(step)):
            state = {"stage": stage, "step": step, "generator": generator.state_dict(),
                     "config": generator.config}
            if gan:
                state["discriminator"] = discriminator.state_dict()
            checkpoint(state)
            last_ckpt = now
    record = dict(record)
    if best is not None:
        generator.load_state_dict(best[2])
        record = {**best[1], "selected_step": best[1]["step"]}
        log({**record, "selected_score": best[0]})  # the validation whose weights the stage keeps
    record["steps"] = step
    return record

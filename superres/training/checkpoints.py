"""Saving and loading generator weights (shipped fp16 files and checkpoints)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from superres.nets.generator import RRDBNet


def export_weights(generator: RRDBNet, path: str | os.PathLike, extra: dict | None = None) -> None:
    """Write `{"config", "state_dict" (fp16), "meta"}`: small files (~0.8 MB) that
    load with `torch.load(weights_only=True)`."""
    state = {k: v.detach().to("cpu", torch.float16) for k, v in generator.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(path) + ".tmp")
    torch.save({"config": dict(generator.config), "state_dict": state, "meta": dict(extra or {})}, tmp)
    os.replace(tmp, path)


def load_weights_file(path: str | os.PathLike) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def generator_from_state(payload: dict) -> RRDBNet:
    """Build an fp32 RRDBNet from an exported payload."""
    generator = RRDBNet(**payload["config"])
    generator.load_state_dict({k: v.float() for k, v in payload["state_dict"].items()})
    return generator.eval()


def save_checkpoint(path: str | os.PathLike, **state) -> None:
    tmp = Path(str(path) + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)

"""Entry point for the job runner: variations and make-tileable on plain arrays.

`run_texture_job` validates the request (raising `TextureInputError` with a message the
service can show), runs the synthesis on CPU or CUDA, reports progress and returns
numpy maps plus a JSON-able report. It never writes files or touches a database.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch

from .errors import TextureInputError
from .fast_train import train_generator
from .material import stack_maps, unstack_maps
from .metrics import seam_score
from .optimise import SynthesisSettings, synthesize
from .tileable import make_tileable

MIN_EXEMPLAR = 32
MAX_COUNT = 32
MAX_OUTPUT = 4096
KINDS = ("variations", "make_tileable")
MODES = ("quality", "fast")


@dataclass
class TextureJobResult:
    """`outputs[i]` maps each input map name to `(h,w,C)` float32 in the input map's range
    ([0,1] for [0,1] maps; HDR and signed maps keep theirs)."""

    outputs: list[dict[str, np.ndarray]]
    report: dict = field(default_factory=dict)


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _validate(maps, kind, count, output_size, strength, mode, mask):
    if kind not in KINDS:
        raise TextureInputError(f"unknown job kind {kind!r}; expected one of {KINDS}")
    if mode not in MODES:
        raise TextureInputError(f"unknown mode {mode!r}; expected one of {MODES}")
    if not maps:
        raise TextureInputError("no texture given")
    height, width = np.asarray(next(iter(maps.values()))).shape[:2]
    if min(height, width) < MIN_EXEMPLAR:
        raise TextureInputError(
            f"texture is {width}x{height}; it must be at least {MIN_EXEMPLAR}x{MIN_EXEMPLAR} pixels")
    if not 1 <= int(count) <= MAX_COUNT:
        raise TextureInputError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    if output_size is not None:
        out_h, out_w = output_size
        if not (MIN_EXEMPLAR <= out_h <= MAX_OUTPUT and MIN_EXEMPLAR <= out_w <= MAX_OUTPUT):
            raise TextureInputError(
                f"output size must be between {MIN_EXEMPLAR} and {MAX_OUTPUT} pixels per side, "
                f"got {out_w}x{out_h}")
    if not 0.0 <= float(strength) <= 1.0:
        raise TextureInputError(f"variation strength must be in [0, 1], got {strength}")
    if mask is not None and np.asarray(mask).shape[:2] != (height, width):
        raise TextureInputError(
            f"mask is {np.asarray(mask).shape[1]}x{np.asarray(mask).shape[0]} but the texture is "
            f"{width}x{height}; they must match")
    for name, pixels in maps.items():
        pixels = np.asarray(pixels)
        if pixels.ndim not in (2, 3) or not np.issubdtype(pixels.dtype, np.floating):
            raise TextureInputError(f"map {name!r} must be a float (H,W[,C]) array")
        if not np.all(np.isfinite(pixels)):
            raise TextureInputError(f"map {name!r} contains NaN or infinite values")


def run_texture_job(maps: Mapping[str, np.ndarray], *, kind: str = "variations",
                    count: int = 1, output_size: tuple[int, int] | None = None, seed: int = 0,
                    strength: float = 1.0, tileable: bool = True, mode: str = "quality",
                    mask: np.ndarray | None = None,
                    settings: SynthesisSettings | None = None,
                    progress: Callable[[float, str], None] | None = None) -> TextureJobResult:
    """Synthesise `count` variations (or one seamless tile) of a texture or material.

    maps: `{name: (H,W,C) float32}`, usually in [0,1]: one entry for a single texture (e.g.
        "color"), several for a material set ("albedo", "normal", "roughness", ...;
        names containing "normal" are treated as tangent-space normal maps, encoded as
        0.5n+0.5). Colour maps are synthesised in the encoding they come in (sRGB values
        stay sRGB); float maps outside [0,1] (HDR colour, signed heights) keep their range.
    kind: "variations" or "make_tileable" (count/output_size/strength/mode ignored).
    output_size: (height, width), default the exemplar size. Variation i uses seed+i.
    strength: 0 = close to the original layout .. 1 = completely new arrangement.
    tileable: circular padding so every output tiles seamlessly (default on).
    mode: "quality" (optimisation per variation) or "fast" (train a generator once,
        then one forward pass per variation).
    mask: optional `(H,W)` or `(H,W,1)`; nonzero marks exemplar pixels to ignore.
    progress: called as progress(fraction, stage); exceptions it raises (cancel) propagate.
    """
    _validate(maps, kind, count, output_size, strength, mode, mask)
    settings = settings or SynthesisSettings()
    settings = settings.with_(wrap=bool(tileable) or kind == "make_tileable")
    device = _device()
    stacked, layout = stack_maps(dict(maps))
    stacked = stacked.to(device)
    height, width = stacked.shape[-2:]
    ignore = None
    if mask is not None:
        mask_array = np.asarray(mask, dtype=np.float32).reshape(height, width, -1)[..., 0]
        if (mask_array > 0).mean() > 0.9:
            raise TextureInputError("the mask covers almost the whole texture; nothing left to learn from")
        ignore = torch.from_numpy((mask_array > 0).astype(np.float32))[None, None].to(device)
    size = tuple(output_size) if output_size is not None else (height, width)
    report = {"kind": kind, "mode": mode, "device": device.type, "exemplar_size": [height, width],
              "output_size": list(size), "maps": list(layout.names), "seconds": []}
    outputs: list[dict[str, np.ndarray]] = []

    def report_progress(start: float, span: float):
        if progress is None:
            return None
        return lambda fraction, stage: progress(start + span * fraction, stage)

    started = time.perf_counter()
    if kind == "make_tileable":
        report["output_size"] = [height, width]
        tile = make_tileable(stacked, seed=seed, settings=settings, ignore=ignore,
                             progress=report_progress(0.0, 1.0))
        outputs.append(unstack_maps(tile.cpu(), layout))
        report["seconds"].append(round(time.perf_counter() - started, 3))
    elif mode == "fast":
        model = train_generator(stacked, seed=seed, ignore=ignore, progress=report_progress(0.0, 0.8))
        report["training_seconds"] = round(time.perf_counter() - started, 3)
        for index in range(count):
            begin = time.perf_counter()
            outputs.append(unstack_maps(model.sample(size, seed=seed + index).cpu(), layout))
            report["seconds"].append(round(time.perf_counter() - begin, 3))
            if progress is not None:
                progress(0.8 + 0.2 * (index + 1) / count, f"variation {index + 1}/{count}")
    else:
        found: dict = {}
        for index in range(count):
            begin = time.perf_counter()
            variation = synthesize(stacked, size, seed=seed + index, strength=float(strength),
                                   settings=settings, ignore=ignore,
                                   progress=report_progress(index / count, 1.0 / count), info=found)
            # Periodic exemplars keep one lattice across the output (lattice_guide.py).
            report["lattice"] = found.get("lattice")
            outputs.append(unstack_maps(variation.cpu(), layout))
            report["seconds"].append(round(time.perf_counter() - begin, 3))
    if progress is not None:
        progress(1.0, "done")
    first_map = layout.names[0]
    report["seam_scores"] = [round(seam_score(o[first_map]), 4) for o in outputs]
    return TextureJobResult(outputs=outputs, report=report)

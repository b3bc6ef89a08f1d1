"""Upscaling with the shipped (or a project's fine-tuned) generator.

Entry point for the job runner: `upscale(pixels, scale=..., ...)` -> `(pixels, report)`.
- Tiled (`imaging.tiling.tiled_apply`): memory is bounded by the tile size, tiles
  overlap and are blended, so a 1024^2 -> 4096^2 x4 job fits in well under 4 GB.
- `wrap=True` takes tile context across the opposite edge: a tileable texture
  stays tileable after upscaling.
- Alpha is upscaled on its own (as a grey image) and kept; grey and grey+alpha
  come back with their channel count; uint8/uint16/float32 keep their dtype.
  Colour images with alpha are upscaled premultiplied, so the colour hidden under
  transparent pixels does not bleed into visible ones.
- Float data outside [0,1] (HDR colour, signed displacement) is mapped onto [0,1]
  for the network and back afterwards, so its range and sign survive.
- `role="normal"`: the map is decoded to vectors, upscaled as a whole and every
  vector re-normalised to unit length before re-encoding.
- `sharpness` in [0,1] interpolates the PSNR and GAN weights (ESRGAN network
  interpolation): 0 = most faithful, 1 = sharpest.
- `source`: the PSNR end is the model for "clean" sources (lossless files: trained
  on exact bicubic down-scales only; x{scale}_psnr_clean.pt) or for "degraded" ones
  (JPEG, WebP, HEIC, DXT/BC DDS: trained on half blurred, noisy or JPEG-compressed pairs, so it
  does not sharpen their artefacts; x{scale}_psnr.pt). A scale without a clean
  model uses the other for both.
- `precision="auto"` runs the network in bfloat16 where the hardware does it fast
  and the output is 8-bit (its rounding error, ~0.001 rms, is a quarter of an
  8-bit step); float32 otherwise.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from imaging.color import value_range
from imaging.normals import as_encoded_normals
from imaging.padding import looks_tileable  # noqa: F401  (the jobs' wrap default)
from superres.nets.generator import RRDBNet
from superres.training.checkpoints import load_weights_file

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SCALES = (2, 4)
ROLES = ("color", "linear", "normal")
# Below half an 8-bit step an upscaled alpha is transparent: dividing premultiplied colour by
# it would only amplify the network's noise, and nobody sees the colour there.
ALPHA_EPSILON = 1 / 512
DEFAULT_MAX_OUTPUT_PIXELS = 8192 * 8192
# tiled_apply gives the outer quarter of each overlap zero weight and cross-fades
# the middle half. The generator's receptive field is ~36 LR px, but its
# 0.2-scaled residuals make influence beyond ~10 px negligible, so 40 px of
# overlap (10 px of hard context) keeps tiles seamless at ~30% extra compute.
DEFAULT_TILE, DEFAULT_OVERLAP = 320, 40

Progress = Callable[[float, str], None]
PRECISIONS = ("auto", "fp32", "bf16")
SOURCES = ("clean", "degraded")


def fast_bf16(device: str | torch.device) -> bool:
    """Whether `device` runs bfloat16 convolutions natively (CUDA from Ampere on; a CPU
    with AVX-512 BF16 or AMX, where oneDNN runs them ~2x faster than float32)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    try:  # private probes (torch 2.2 on); without them, stay on float32
        return any(probe() for probe in probes if probe is not None)
    except Exception:
        return False


def resolve_precision(precision: str, bit_depth: str, device) -> str:
    """"fp32" or "bf16": what `precision` ("auto", "fp32", "bf16") means for an image of
    `bit_depth` ("8", "16", "32f") on `device`."""
    if precision == "bf16" or (precision == "auto" and bit_depth == "8" and fast_bf16(device)):
        return "bf16"
    return "fp32"


class SuperResInputError(ValueError):
    """Bad upscale / fine-tune request; the message is shown to the user."""


def shipped_weights_path(scale: int, kind: str, weights_dir: str | os.PathLike | None = None) -> Path:
    return Path(weights_dir or WEIGHTS_DIR) / f"x{scale}_{kind}.pt"


def _interpolate(psnr_state: dict, gan_state: dict, sharpness: float) -> dict:
    return {k: (1 - sharpness) * psnr_state[k].float() + sharpness * gan_state[k].float() for k in psnr_state}


def _check_sharpness(sharpness) -> None:
    """Refuses a sharpness outside [0,1], NaN and infinities included."""
    try:
        valid = 0.0 <= float(sharpness) <= 1.0  # False for NaN
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise SuperResInputError(f"sharpness must be between 0 and 1, got {sharpness}")


def _source_weights_path(scale: int, source: str, weights_dir, *, base: str, special: str, for_source: str) -> Path:
    """x{scale}_{special}.pt when `source` is `for_source` and that file exists, else x{scale}_{base}.pt."""
    if source not in SOURCES:
        raise SuperResInputError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    path = shipped_weights_path(scale, special, weights_dir)
    return path if source == for_source and path.exists() else shipped_weights_path(scale, base, weights_dir)


def psnr_weights_path(scale: int, source: str = "clean", weights_dir: str | os.PathLike | None = None) -> Path:
    """The built-in PSNR model for a source: x{scale}_psnr_clean.pt for clean sources where it
    exists, else x{scale}_psnr.pt (trained on clean and degraded pairs)."""
    return _source_weights_path(scale, source, weights_dir, base="psnr", special="psnr_clean", for_source="clean")


def gan_weights_path(scale: int, source: str = "clean", weights_dir: str | os.PathLike | None = None) -> Path:
    """The built-in GAN model for a source: x{scale}_gan_degraded.pt for degraded sources where it
    exists (its GAN stage ran on the degraded pairs too, from x{scale}_psnr.pt, so it does not
    sharpen JPEG or DXT blocks), else x{scale}_gan.pt (GAN stage on clean pairs)."""
    return _source_weights_path(scale, source, weights_dir, base="gan", special="gan_degraded", for_source="degraded")


def load_generator(scale: int, sharpness: float = 0.0, model_path: str | os.PathLike | None = None,
                   device: str | torch.device = "cpu", weights_dir: str | os.PathLike | None = None,
                   source: str = "clean") -> RRDBNet:
    """Generator for `scale` with weights `(1-sharpness)*PSNR + sharpness*GAN`.

    `source`: "clean" or "degraded", which built-in PSNR and GAN models (`psnr_weights_path`,
    `gan_weights_path`).
    `model_path`: a project model written by `superres.training.finetune`; it
    holds a fine-tuned PSNR state (used for either source) and optionally a GAN
    state; without a GAN state the shipped GAN-minus-PSNR difference is added
    (same direction of sharpening).
    `weights_dir`: where the built-in x{scale}_psnr(_clean).pt / _gan(_degraded).pt live (default: shipped).
    """
    if scale not in SCALES:
        raise SuperResInputError(f"scale must be 2 or 4, got {scale}")
    _check_sharpness(sharpness)
    # A project model is a fine-tuned x{scale}_psnr.pt: its sharpening direction is taken against that.
    psnr_payload = load_weights_file(psnr_weights_path(scale, "degraded" if model_path else source, weights_dir))
    state = psnr_payload["state_dict"]
    gan_state = None
    if sharpness > 0:
        # A project model keeps the clean GAN model's sharpening direction, as when it was fine-tuned.
        gan_state = load_weights_file(gan_weights_path(scale, "clean" if model_path else source,
                                                       weights_dir))["state_dict"]
    config = psnr_payload["config"]
    if model_path is not None:
        project = load_weights_file(model_path)
        if project["config"]["scale"] != scale:
            raise SuperResInputError(f"the project model is for x{project['config']['scale']}, not x{scale}")
        config = project["config"]
        if gan_state is not None:
            if "gan_state_dict" in project:
                gan_state = project["gan_state_dict"]
            elif project["config"] != psnr_payload["config"]:
                # The shipped sharpening direction belongs to the built-in network's shape.
                raise SuperResInputError(
                    f"this project's x{scale} model was fine-tuned from an earlier built-in model "
                    f"({project['config']['blocks']} blocks, now {psnr_payload['config']['blocks']}): "
                    "use sharpness 0 with it, or fine-tune again to sharpen")
            else:
                gan_state = {k: project["state_dict"][k].float() + gan_state[k].float() - state[k].float()
                             for k in state}
        state = project["state_dict"]
    if gan_state is not None:
        state = _interpolate(state, gan_state, sharpness)
    generator = RRDBNet(**config)
    generator.load_state_dict({k: v.float() for k, v in state.items()})
    return generator.to(device).eval()


def _bit_depth(pixels: np.ndarray) -> str:
    if pixels.dtype == np.uint8:
        return "8"
    if pixels.dtype == np.uint16:
        return "16"
    if pixels.dtype == np.float32:
        return "32f"
    raise SuperResInputError(f"unsupported pixel type {pixels.dtype}: use 8-bit, 16-bit or float32 images")


class _TileProgress:
    """Counts tile calls and reports them; exceptions (cancel) propagate."""

    def __init__(self, progress: Progress | None, total: int, start: float, span: float, label: str):
        self.progress, self.total, self.start, self.span, self.label = progress, max(total, 1), start, span, label
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            fraction = min(self.done / self.total, 1.0)
            self.progress(self.start + self.span * fraction, f"{self.label}: tile {min(self.done, self.total)}/{self.total}")


# The eight symmetries of the square as (transpose, flip rows, flip columns).
_DIHEDRAL = [(t, fy, fx) for t in (False, True) for fy in (False, True) for fx in (False, True)]


def _ensemble_apply(generator: Callable[[torch.Tensor], torch.Tensor], lr_tile: torch.Tensor,
                    clamp: bool = True) -> torch.Tensor:
    """Geometric self-ensemble (Lim et al., EDSR+, 2017): run the network on the tile's 8
    rotations/flips, undo each on the output and average. The network is only roughly
    equivariant, so the mean cancels part of its error; 8 times the work.
    lr_tile: (1,3,h,w) in [0,1] -> (1,3,h*s,w*s) in [0,1] (clamp=False: may overshoot it)."""
    total = None
    for transpose, flip_y, flip_x in _DIHEDRAL:
        dims = [d for d, on in ((2, flip_y), (3, flip_x)) if on]
        x = lr_tile.transpose(2, 3) if transpose else lr_tile
        x = x.flip(dims) if dims else x
        y = generator(x).float()
        y = y.clamp(0, 1) if clamp else y
        y = y.flip(dims) if dims else y
        y = y.transpose(2, 3) if transpose else y
        total = y if total is None else total + y
    return total / len(_DIHEDRAL)


def _run_network(generator: RRDBNet, rgb: np.ndarray, *, wrap: bool, tile: int, overlap: int,
                 ticker: _TileProgress, device, ensemble: bool = False, clamp: bool = True,
                 bf16: bool = False) -> np.ndarray:
    """(H,W,3) float32 in [0,1] -> (H*s,W*s,3) float32 in [0,1], tiled.

    clamp=False keeps the network's overshoot (premultiplied colour and the alpha it is
    divided by must overshoot alike, or the quotient drifts). bf16: run the network's
    convolutions under bfloat16 autocast; its bicubic base stays float32."""
    from imaging.tiling import tiled_apply

    def network(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
            return generator(x).float()

    def apply_tile(lr_tile: torch.Tensor) -> torch.Tensor:
        ticker.tick()
        with torch.no_grad():
            if ensemble:
                return _ensemble_apply(network, lr_tile.to(device), clamp).cpu()
            out = network(lr_tile.to(device))
            return (out.clamp(0, 1) if clamp else out).cpu()

    image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
    out = tiled_apply(image, apply_tile, tile=tile, overlap=overlap, scale=generator.scale, wrap=wrap)
    out = out[0].permute(1, 2, 0)
    return (out.clamp(0, 1) if clamp else out).numpy()


def _back_project(low: np.ndarray, high: np.ndarray, wrap: bool, clamp: bool = True) -> np.ndarray:
    """(h,w,3) input and (h*s,w*s,3) output in [0,1] -> the output made to agree with the input."""
    from .backprojection import back_project

    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]
    out = back_project(to_t(low), to_t(high), wrap=wrap)[0]
    return (out.clamp(0, 1) if clamp else out).permute(1, 2, 0).numpy()


def _unpremultiply(premultiplied: np.ndarray, alpha: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Upscaled (H,W,3) colour*alpha and (H,W,1) alpha, both unclamped -> straight (H,W,3) colour in [0,1].

    Where the alpha is ~0 the colour is invisible and the division unstable: `hidden`
    (the input's straight colour, enlarged) is kept there.
    """
    straight = np.clip(premultiplied / np.maximum(alpha, ALPHA_EPSILON), 0.0, 1.0)
    return np.where(alpha > ALPHA_EPSILON, straight, hidden).astype(np.float32)


def _tile_count(height: int, width: int, tile: int, overlap: int) -> int:
    """Tiles `tiled_apply` cuts: it pads by `overlap` and steps by at most `tile - overlap`."""
    def along(length: int) -> int:
        padded = length + 2 * overlap
        return 1 if padded <= tile else math.ceil((padded - overlap) / (tile - overlap))

    return along(height) * along(width)


def upscale(
    pixels: np.ndarray,
    *,
    scale: int,
    sharpness: float = 0.0,
    wrap: bool = False,
    role: str = "color",
    colour_space: str = "srgb",
    model_path: str | os.PathLike | None = None,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS,
    progress: Progress | None = None,
    generator: RRDBNet | None = None,
    ensemble: bool = False,
    back_projection: bool = True,
    precision: str = "auto",
    source: str = "clean",
) -> tuple[np.ndarray, dict]:
    """Upscale one image or map.

    pixels: `(H,W)` or `(H,W,C)`, C in 1..4 (grey, grey+alpha, RGB, RGBA), uint8,
    uint16 or float32 (float colour and data may leave [0,1]: HDR values and signed
    ones are kept by mapping the image's range onto [0,1] and back). role: "color" (sRGB
    albedo, photos; with alpha upscaled premultiplied), "linear" (roughness, height, masks:
    channels kept independent, a 4th channel is often data such as smoothness) or "normal"
    (tangent-space normal map encoded as 0.5*n+0.5 in [0,1], float too). ensemble: average the
    network over the 8 rotations/flips of each tile (higher fidelity, 8x the time).
    back_projection: make the output agree with the input when scaled back down
    (backprojection.py; for clean sources: turn it off for JPEG-compressed or noisy
    ones, whose artefacts it would put back). precision: "fp32", "bf16" or "auto" (bfloat16
    for 8-bit images where the device runs it fast: about twice the speed on such a CPU).
    source: "clean" (lossless sources) or "degraded" (JPEG-compressed, noisy): which
    built-in PSNR model (module docstring; ignored when `generator` is given).
    Returns `((H*scale,W*scale[,C]) same dtype, report dict)`.
    """
    started = time.perf_counter()
    if not isinstance(pixels, np.ndarray):
        raise SuperResInputError("the image must be a pixel array")
    if scale not in SCALES:
        raise SuperResInputError(f"scale must be 2 or 4, got {scale}")
    if role not in ROLES:
        raise SuperResInputError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if colour_space not in ("srgb", "linear"):
        raise SuperResInputError(f"colour space must be 'srgb' or 'linear', got {colour_space!r}")
    _check_sharpness(sharpness)  # also when a generator is given: the report states it
    if precision not in PRECISIONS:
        raise SuperResInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if source not in SOURCES:
        raise SuperResInputError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if overlap < 0 or tile <= 2 * overlap:
        raise SuperResInputError(f"tile ({tile}) must be more than twice the overlap ({overlap})")
    squeeze = pixels.ndim == 2
    image = pixels[..., None] if squeeze else pixels
    if image.ndim != 3 or not 1 <= image.shape[2] <= 4 or min(image.shape[:2]) < 1:
        raise SuperResInputError("the image must be (height, width) or (height, width, 1..4 channels)")
    height, width, channels = image.shape
    if height * width * scale * scale > max_output_pixels:
        raise SuperResInputError(
            f"the output would be {width * scale}x{height * scale} pixels, over the limit of "
            f"{max_output_pixels} pixels")
    if role == "normal" and channels not in (3, 4):
        raise SuperResInputError("a normal map needs RGB channels")
    bit_depth = _bit_depth(image)
    from imaging.io import from_float32, to_float32

    values = to_float32(image)
    if not np.isfinite(values).all():
        raise SuperResInputError("the image contains NaN or infinite values")
    colour_channels = 3 if channels >= 3 else 1
    colour, alpha = values[..., :colour_channels], values[..., colour_channels:]

    offset, span = 0.0, 1.0
    if bit_depth == "32f" and role != "normal":
        offset, span = value_range(colour)
        colour = (colour - offset) / span
    if colour_space == "linear" and role == "color":
        from imaging.color import linear_to_srgb

        colour = np.asarray(linear_to_srgb(colour), np.float32)  # the network sees sRGB-encoded values
    if role == "normal":
        colour = np.clip(colour, 0, 1)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if generator is None:
        generator = load_generator(scale, sharpness, model_path, device, source=source)
    else:
        generator = generator.to(device).eval()
    if generator.scale != scale:
        raise SuperResInputError(f"the model is x{generator.scale}, not x{scale}")
    precision = resolve_precision(precision, bit_depth, device)

    alpha_constant = alpha.shape[-1] == 0 or float(alpha.max() - alpha.min()) == 0.0
    passes = 1 + (0 if alpha_constant else 1)
    per_pass = _tile_count(height, width, tile, overlap)
    ticks = [_TileProgress(progress, per_pass, i / passes, 1 / passes, name)
             for i, name in enumerate(["colour", "alpha"][:passes])]

    straight = colour if colour_channels == 3 else np.repeat(colour, 3, axis=2)
    # Colour under transparent pixels (a keying green, black) must not bleed into visible
    # ones. Data maps keep their channels apart: their alpha is often data (smoothness, height).
    premultiply = role == "color" and not alpha_constant
    rgb_in = straight * alpha if premultiply else straight
    rgb_out = _run_network(generator, rgb_in, wrap=wrap, tile=tile, overlap=overlap, ticker=ticks[0], device=device,
                           ensemble=ensemble, clamp=not premultiply, bf16=precision == "bf16")
    if back_projection:
        rgb_out = _back_project(rgb_in, rgb_out, wrap, clamp=not premultiply)

    alpha_out = None
    if alpha.shape[-1]:
        if alpha_constant:
            alpha_out = np.full(rgb_out.shape[:2] + (1,), float(alpha.flat[0]), np.float32)
        else:
            grey = np.repeat(alpha, 3, axis=2)
            grey_out = _run_network(generator, grey, wrap=wrap, tile=tile, overlap=overlap, ticker=ticks[1],
                                    device=device, ensemble=ensemble, clamp=not premultiply, bf16=precision == "bf16")
            if back_projection:
                grey_out = _back_project(grey, grey_out, wrap, clamp=not premultiply)
            alpha_out = grey_out.mean(axis=2, keepdims=True)
    if premultiply:
        hidden = np.repeat(np.repeat(straight, scale, axis=0), scale, axis=1)
        rgb_out = _unpremultiply(rgb_out, alpha_out, hidden)
        alpha_out = np.clip(alpha_out, 0.0, 1.0)
    colour_out = rgb_out if colour_channels == 3 else rgb_out.mean(axis=2, keepdims=True)

    if role == "normal":
        vectors = colour_out * 2.0 - 1.0
        length = np.linalg.norm(vectors, axis=2, keepdims=True)
        # A zero vector (never in a valid map) falls back to "straight up".
        vectors = np.where(length > 1e-6, vectors / np.maximum(length, 1e-6), np.array([0, 0, 1], np.float32))
        colour_out = vectors * 0.5 + 0.5
    if colour_space == "linear" and role == "color":
        from imaging.color import srgb_to_linear

        colour_out = np.asarray(srgb_to_linear(colour_out), np.float32)
    colour_out = colour_out * span + offset

    result = colour_out if alpha_out is None else np.concatenate([colour_out, alpha_out], axis=2)
    result = from_float32(result.astype(np.float32, copy=False), bit_depth)
    if squeeze:
        result = result[..., 0]
    if progress is not None:
        progress(1.0, "done")
    elapsed = time.perf_counter() - started
    report = {
        "scale": scale, "sharpness": sharpness, "wrap": wrap, "role": role, "bit_depth": bit_depth,
        "input_size": [width, height], "output_size": [width * scale, height * scale], "channels": channels,
        "alpha_upscaled": not alpha_constant, "ensemble": ensemble, "back_projection": back_projection,
        "precision": precision, "source": source,
        "model": str(model_path) if model_path else "built-in",
        "seconds": round(elapsed, 3),
        "output_megapixels_per_second": round(width * height * scale * scale / 1e6 / max(elapsed, 1e-9), 3),
    }
    return result, report


def upscale_file(src, dst, **options) -> dict:
    """Read `src` with `imaging.io`, upscale, write `dst` (PNG keeps 8/16 bit, EXR float)."""
    from imaging.io import read_image, write_image

    image = read_image(src)
    options.setdefault("colour_space", image.colour_space)
    pixels = image.pixels
    if options.get("role") == "normal" and image.bit_depth == "32f":
        pixels = as_encoded_normals(pixels)  # a float file may hold n itself (imaging.normals)
    result, report = upscale(pixels, **options)
    write_image(dst, result)
    return report

"""Benchmark of the DDS block encoders the upscale job and the exports write (`imaging.bcn`).

For each held-out image of the super-resolution benchmark (procedural textures and photos the
training never sees, plus any files in `--images`): RGB PSNR of DXT1 and DXT5 through Pillow's
decoder, ours against Pillow's own encoder; BC4 PSNR on the luma (Pillow writes no BC4); BC5 on
a normal map made from the luma as a height field, mean angle to the uncompressed normals, ours
against Pillow's; then encoding speed in megapixels per second.

    .venv/bin/python bench/texture_codecs.py [--images DIR] [--size 256]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.superres import load_images  # noqa: E402
from imaging.io import encode_dds, read_image  # noqa: E402


def psnr(decoded: np.ndarray, reference: np.ndarray) -> float:
    mse = float(((decoded.astype(np.float64) - reference) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def pillow_dds(pixels: np.ndarray, pixel_format: str) -> np.ndarray:
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, "DDS", pixel_format=pixel_format)
    return read_image(out.getvalue()).pixels


def normal_map(luma: np.ndarray, strength: float = 4.0) -> np.ndarray:
    """(H,W) float [0,1] height -> (H,W,3) uint8 0.5n+0.5 (wrap-around central differences)."""
    dx = (np.roll(luma, -1, 1) - np.roll(luma, 1, 1)) * strength
    dy = (np.roll(luma, -1, 0) - np.roll(luma, 1, 0)) * strength
    n = np.stack([-dx, dy, np.ones_like(luma)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return np.rint((n * 0.5 + 0.5) * 255).astype(np.uint8)


def angle_error(decoded: np.ndarray, reference: np.ndarray) -> float:
    a = decoded[..., :2].astype(np.float64) / 127.5 - 1
    a = np.concatenate([a, np.sqrt(np.clip(1 - (a * a).sum(-1, keepdims=True), 0, 1))], -1)
    b = reference.astype(np.float64) / 127.5 - 1
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    return float(np.degrees(np.arccos(np.clip((a * b).sum(-1), -1, 1))).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default=None, help="directory of extra images")
    parser.add_argument("--size", type=int, default=256, help="procedural image size")
    args = parser.parse_args()

    rows = []
    print(f"{'image':<24} {'DXT1 Pillow':>11} {'DXT1 ours':>9} {'DXT5 Pillow':>11} {'DXT5 ours':>9} "
          f"{'BC4 ours':>8} {'BC5 Pillow°':>11} {'BC5 ours°':>9}")
    for name, image in load_images(args.images, args.size):
        rgb = np.rint(np.clip(image[..., :3], 0, 1) * 255).astype(np.uint8)
        luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        rgba = np.concatenate([rgb, np.rint(luma)[..., None].astype(np.uint8)], 2)
        normals = normal_map(luma / 255)
        row = [
            psnr(pillow_dds(rgb, "DXT1")[..., :3], rgb),
            psnr(read_image(encode_dds([rgb], compression="DXT1")).pixels[..., :3], rgb),
            psnr(pillow_dds(rgba, "DXT5"), rgba),
            psnr(read_image(encode_dds([rgba], compression="DXT5")).pixels, rgba),
            psnr(read_image(encode_dds([rgba[..., 3:]], compression="BC4")).pixels, rgba[..., 3:]),
            angle_error(pillow_dds(normals, "BC5"), normals),
            angle_error(read_image(encode_dds([normals], compression="BC5")).pixels, normals),
        ]
        rows.append(row)
        print(f"{name[:24]:<24} {row[0]:11.2f} {row[1]:9.2f} {row[2]:11.2f} {row[3]:9.2f} {row[4]:8.2f} "
              f"{row[5]:11.2f} {row[6]:9.2f}")
    mean = np.mean(rows, axis=0)
    print(f"{'mean':<24} {mean[0]:11.2f} {mean[1]:9.2f} {mean[2]:11.2f} {mean[3]:9.2f} {mean[4]:8.2f} "
          f"{mean[5]:11.2f} {mean[6]:9.2f}")

    big = np.random.default_rng(0).integers(0, 256, (1024, 1024, 4)).astype(np.uint8)
    for compression, pixels in (("DXT1", big[..., :3]), ("DXT5", big), ("BC4", big[..., :1]), ("BC5", big[..., :3])):
        started = time.perf_counter()
        encode_dds([pixels], compression=compression)
        print(f"{compression} encode 1024^2: {1.048576 / (time.perf_counter() - started):.2f} MP/s")


if __name__ == "__main__":
    main()

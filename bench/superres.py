"""Benchmark of the super-resolution core.

Protocol (as in the SR literature): HR image -> bicubic down-scale (x2, x4,
`imaging.resize`, antialiased, quantised to 8 bit) -> upscale -> compare with
HR. Y-PSNR and SSIM on BT.601 luma with `scale` border pixels cropped, RGB PSNR
(same crop), HFEN (LoG 15x15, sigma 1.5; lower is sharper/closer), edge energy
(the output's LoG energy over the ground truth's: sharpness, 1 = as sharp). Baselines:
bicubic and Lanczos-3 from `imaging.resize`. Held-out images: procedural seeds
training never draws (`superres.data.corpus.heldout_set`) plus any files in
`--images`. Speed: x4 512^2 -> 2048^2 (output MP/s) and peak RSS of a 1024^2 ->
4096^2 job, each in a fresh process. The network runs as the service runs 8-bit
images (`--precision auto`: bfloat16 where the hardware does it fast).

    .venv/bin/python bench/superres.py [--scales 2 4] [--images DIR] [--no-speed] [--jpeg Q] [--dxt1]
        [--sharpness-levels A ...] [--precision P]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imaging.color import rgb_to_y_bt601  # noqa: E402
from imaging.io import dxt1_roundtrip, jpeg_roundtrip  # noqa: E402
from imaging.resize import resize  # noqa: E402
from superres import losses  # noqa: E402
from superres.data.corpus import heldout_set  # noqa: E402


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of (H,W) images in [0,1] (Wang et al. 2004: 11x11 Gaussian, sigma 1.5)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = 0.01**2, 0.03**2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)[5:-5, 5:-5]
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def metrics(sr: np.ndarray, hr: np.ndarray, scale: int) -> dict:
    """sr, hr: (H,W,3) float32 sRGB in [0,1]."""
    sr = np.clip(sr, 0, 1)
    crop = (slice(scale, -scale), slice(scale, -scale))
    sr_c, hr_c = sr[crop], hr[crop]
    y_sr, y_hr = rgb_to_y_bt601(sr_c), rgb_to_y_bt601(hr_c)
    if y_sr.ndim == 3:
        y_sr, y_hr = y_sr[..., 0], y_hr[..., 0]
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None].float()
    sr_t, hr_t = to_t(sr_c), to_t(hr_c)
    # Edge energy: how much LoG (band-pass) detail the output has against the ground truth's
    # (1 = as much; bicubic ~0.5 at x4). HFEN scores the detail's *placement*, and the
    # conditional mean (what a PSNR model approximates) already minimises it; this column
    # shows sharpness itself, invented or not.
    log = losses.laplacian_of_gaussian
    edge_energy = log(sr_t).norm() / log(hr_t).norm().clamp_min(1e-12)
    return {"y_psnr": psnr(y_sr, y_hr), "y_ssim": ssim(y_sr, y_hr), "rgb_psnr": psnr(sr_c, hr_c),
            "hfen": float(losses.hfen(sr_t, hr_t)), "edge_energy": float(edge_energy)}


def load_images(directory: str | None, size: int, real: bool = True) -> list[tuple[str, np.ndarray]]:
    items = heldout_set(size)
    if real:
        from superres.data.real import HELDOUT, real_images

        items += [(f"photo:{name}", image.astype(np.float32) / 255) for name, image in real_images(HELDOUT)]
    if directory:
        from imaging.io import read_image, to_float32

        for path in sorted(Path(directory).iterdir()):
            pixels = to_float32(read_image(path).pixels)
            pixels = np.repeat(pixels[..., :1], 3, 2) if pixels.shape[2] < 3 else pixels[..., :3]
            items.append((path.stem, np.ascontiguousarray(np.clip(pixels, 0, 1))))
    return items


def evaluate(scale: int, images, sharpness_levels=(0.0, 1.0), weights_dir=None, jpeg: int | None = None,
             precision: str = "auto", dxt1: bool = False) -> dict:
    from superres.upscale import load_generator, psnr_weights_path, resolve_precision, upscale

    # as the service runs 8-bit inputs, which these are
    precision = resolve_precision(precision, "8", "cuda" if torch.cuda.is_available() else "cpu")
    upscale = functools.partial(upscale, precision=precision)

    # The service's choice of PSNR model: the clean-trained one for clean sources, the one
    # trained on degraded pairs too for compressed ones (superres.upscale, `source`).
    clean = jpeg is None and not dxt1
    source, other = ("clean", "degraded") if clean else ("degraded", "clean")
    models = {f"model a={a:g}": load_generator(scale, a, weights_dir=weights_dir, source=source)
              for a in sharpness_levels}
    if psnr_weights_path(scale, other, weights_dir) != psnr_weights_path(scale, source, weights_dir):
        # the other source's PSNR model, for comparison
        models[f"model a=0 {other}-trained"] = load_generator(scale, 0.0, weights_dir=weights_dir, source=other)
    rows: dict[str, list[dict]] = {}
    for name, hr in images:
        h, w = hr.shape[0] // scale * scale, hr.shape[1] // scale * scale
        hr = hr[:h, :w]
        low = resize(hr, (h // scale, w // scale), filter="bicubic", antialias=True)
        low = np.round(np.clip(low, 0, 1) * 255).astype(np.float32) / 255  # inputs are 8-bit files
        if jpeg is not None:  # a compressed source (--jpeg): not the literature's protocol
            low = jpeg_roundtrip(np.round(low * 255).astype(np.uint8), jpeg).astype(np.float32) / 255
        if dxt1:  # a block-compressed game texture (--dxt1)
            low = dxt1_roundtrip(np.round(low * 255).astype(np.uint8)).astype(np.float32) / 255
        outputs = {"bicubic": resize(low, (h, w), filter="bicubic"), "lanczos": resize(low, (h, w), filter="lanczos")}
        # Back-projection as the service sets it: on for clean sources, off for compressed ones.
        for label, generator in models.items():
            outputs[label] = upscale(low, scale=scale, generator=generator, back_projection=clean)[0]
        # The PSNR model with the geometric self-ensemble (8 rotations/flips, 8x the time).
        psnr_label, psnr_model = next(iter(models.items()))
        outputs[f"{psnr_label} x8"] = upscale(low, scale=scale, generator=psnr_model, ensemble=True,
                                              back_projection=clean)[0]
        if clean:  # what back-projection adds
            outputs[f"{psnr_label} raw"] = upscale(low, scale=scale, generator=psnr_model, back_projection=False)[0]
        for method, sr in outputs.items():
            rows.setdefault(method, []).append({"image": name, **metrics(sr, hr, scale)})
    keys = ("y_psnr", "y_ssim", "rgb_psnr", "hfen", "edge_energy")
    summary = {method: {k: float(np.mean([r[k] for r in rs])) for k in keys}
               for method, rs in rows.items()}
    return {"scale": scale, "images": [n for n, _ in images], "precision": precision, "source": source, "mean": summary,
            "per_image": rows}


def speed_child(size: int, scale: int, sharpness: float, weights_dir=None, ensemble: bool = False,
                precision: str = "auto") -> None:
    """Runs in a fresh process: time one upscale and report peak RSS."""
    from superres.data.procedural import make_texture
    from superres.upscale import load_generator, upscale

    base = (make_texture(7, 512)[1] * 255).astype(np.uint8)
    image = np.tile(base, (size // 512 + 1, size // 512 + 1, 1))[:size, :size]
    image = np.ascontiguousarray(image)
    started, cpu_started = time.perf_counter(), time.process_time()  # loading weights is part of a job
    generator = load_generator(scale, sharpness, weights_dir=weights_dir)
    out, report = upscale(image, scale=scale, generator=generator, ensemble=ensemble, precision=precision)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started  # what a busy shared CPU does not distort
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"input": size, "output": out.shape[0], "seconds": round(seconds, 2),
                      "cpu_seconds": round(cpu_seconds, 2),
                      "output_mp_per_s": round(out.shape[0] * out.shape[1] / 1e6 / seconds, 3),
                      "peak_rss_mb": round(peak_mb, 1), "torch_threads": torch.get_num_threads(),
                      "precision": report["precision"]}))


def run_speed(size: int, scale: int = 4, sharpness: float = 0.5, weights_dir=None, threads=None,
              ensemble: bool = False, precision: str = "auto") -> dict:
    cmd = [sys.executable, __file__, "--speed-child", str(size), "--scales", str(scale), "--sharpness", str(sharpness),
           "--precision", precision]
    if ensemble:
        cmd += ["--ensemble"]
    if weights_dir:
        cmd += ["--weights-dir", str(weights_dir)]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def print_table(result: dict) -> None:
    print(f"\nx{result['scale']} on {len(result['images'])} held-out {result.get('group', 'images')}"
          f" (network in {result['precision']}; PSNR model for {result.get('source', 'clean')} sources)")
    width = max(14, *(len(method) + 1 for method in result["mean"]))
    print(f"{'method':<{width}}{'Y-PSNR':>9}{'Y-SSIM':>9}{'RGB-PSNR':>10}{'HFEN':>8}{'edges':>7}")
    for method, m in result["mean"].items():
        print(f"{method:<{width}}{m['y_psnr']:9.2f}{m['y_ssim']:9.4f}{m['rgb_psnr']:10.2f}{m['hfen']:8.3f}"
              f"{m['edge_energy']:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--size", type=int, default=256, help="held-out image size")
    parser.add_argument("--images", default=None, help="directory of extra held-out images")
    parser.add_argument("--no-real", action="store_true", help="leave out the held-out real photos")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--weights-dir", default=None, help="x{2,4}_{psnr,psnr_clean,gan}.pt to test (default: shipped)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads")
    parser.add_argument("--json", default=None, help="write all figures to this file")
    parser.add_argument("--jpeg", type=int, default=None, metavar="Q",
                        help="save each low-resolution input as a JPEG of quality Q first (compressed sources)")
    parser.add_argument("--sharpness-levels", type=float, nargs="+", default=[0.0, 1.0], metavar="A",
                        help="the sharpness settings to measure (default: 0 and 1, the PSNR and GAN models)")
    parser.add_argument("--dxt1", action="store_true",
                        help="save each low-resolution input as a DXT1 (BC1) DDS first (block-compressed sources)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                        help="the network's precision (auto: as the service runs 8-bit images)")
    parser.add_argument("--speed-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sharpness", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--ensemble", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_child:
        torch.set_num_threads(args.threads)
        speed_child(args.speed_child, args.scales[0], args.sharpness, args.weights_dir, args.ensemble, args.precision)
        return
    torch.set_num_threads(args.threads)
    images = load_images(args.images, args.size, real=not args.no_real)
    results = {"quality": [], "speed": []}
    groups = {"procedural textures": [i for i in images if not i[0].startswith("photo:")],
              "real photos": [i for i in images if i[0].startswith("photo:")]}
    for scale in args.scales:
        for group, members in groups.items():
            if not members:
                continue
            result = evaluate(scale, members, sharpness_levels=tuple(args.sharpness_levels),
                              weights_dir=args.weights_dir, jpeg=args.jpeg, precision=args.precision, dxt1=args.dxt1)
            result["group"] = group + (f", JPEG q={args.jpeg} inputs" if args.jpeg else "") + \
                (", DXT1 inputs" if args.dxt1 else "")
            results["quality"].append(result)
            print_table(result)
    if not args.no_speed:
        for size, ensemble in ((512, False), (1024, False), (512, True)):
            record = run_speed(size, weights_dir=args.weights_dir, threads=args.threads, ensemble=ensemble,
                               precision=args.precision)
            record["ensemble"] = ensemble
            results["speed"].append(record)
            print(f"\nx4 {size}^2 -> {record['output']}^2{' (self-ensemble x8)' if ensemble else ''}: "
                  f"{record['seconds']} s, "
                  f"{record['output_mp_per_s']} output MP/s, CPU time {record['cpu_seconds']} s, "
                  f"peak RSS {record['peak_rss_mb']} MB ({record['torch_threads']} torch threads, "
                  f"{record['precision']})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

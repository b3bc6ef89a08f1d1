"""Benchmark of the two-shot capture core on synthetic materials with known maps.

Prints one row per material and condition, then the mean per condition:
normal mean angular error (deg), albedo and specular RMSE after one common
global scale (the flash power is unknown), roughness MAE, anisotropy strength
MAE and direction error (mod 180 deg) where the true strength > 0.3,
re-render PSNR of the flash photo (dB), wall and CPU time per stage, and the
process's peak memory.

    .venv/bin/python bench/capture.py                      # 1024x768, 128 px tile
    .venv/bin/python bench/capture.py --size 512x384 --period 64 --materials tiles
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from materials.capture import capture_material  # noqa: E402
from materials.capture.maps import SvbrdfMaps, angle_difference_mod_pi, reframe, resample_axes  # noqa: E402
from materials.capture.observations import sample  # noqa: E402
from materials.capture.synthetic import make_capture, raw_photos  # noqa: E402

CONDITIONS = {
    "clean": {},
    "hard": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0),
    # "hard" on a material stretched unevenly (periodic kinds: repeats off the exact lattice)
    "stretched": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, deformation_px=3.0),
    # "hard" with a guide lit from one side (window light: brightness +-30 % across the photo)
    "uneven": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, guide_gradient=0.6),
    # "hard" with a guide lit by a side window as well as the sky: its relief shows (real room light)
    "window": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, guide_window=0.5),
    # "hard" with the camera also tilted by 1 degree between the shots (a perspective change)
    "tilted": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, misalignment_tilt_deg=1.0),
    # "hard" with the camera also 2 mm closer at 30 cm for the guide (a 0.7 % zoom)
    "zoomed": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, misalignment_zoom=0.007),
    # "hard" with the room light also in the flash photo (a fifth of its mean level)
    "roomlit": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, flash_ambient=0.2),
    # "hard" through a lens that darkens the corners by 20 %, and a flash whose beam
    # lights them 20 % less than a point light would (a phone)
    "vignetted": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, vignetting=0.2,
                      flash_profile=0.2),
    # "hard" through a phone's S-shaped tone curve over sRGB (shadows down, highlights compressed)
    "toned": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, tone_contrast=0.3),
    # "hard" with the flash 1 cm beside the lens at 30 cm (a phone's LED), where the model has it at the lens
    "offset": dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0, flash_offset=0.033),
    # "hard"'s variation and motion, taken as a phone's RAW files (Bayer DNG, 12-bit, linear,
    # each shot with its own white balance, shot noise 1 % at white, the lens's shading
    # stored with its gain maps): no tone curve, no JPEG
    "raw": dict(variation=0.05, misalignment_px=3.0, quantise=False, raw_noise=0.01, raw_shading=0.5),
    # "raw" through a lens with 4 % barrel distortion at the corners, left in the pixels and
    # stored as a WarpRectilinear correction (as Android's DNGs are)
    "distorted": dict(variation=0.05, misalignment_px=3.0, quantise=False, raw_noise=0.01, raw_shading=0.5,
                      raw_distortion=-0.04),
}


def photo_maps(name: str, height: int, width: int):
    """Maps made from one of the real texture photos the scikit-image wheel ships
    (brick, grass, gravel: public domain; superres.data.real)."""
    from materials.capture.synthetic import maps_from_photo
    from superres.data.real import real_images

    return maps_from_photo(real_images((name,))[0][1], height, width)


def truth_at_tile(cap, result) -> dict:
    """Ground-truth maps sampled where the recovered tile's pixels lie in the photo."""
    rep = result.report
    h, w = result.fitted_maps.shape
    scale = rep["working_size"][0] / rep["input_size"][0]
    origin = np.array([rep["tile"]["x"], rep["tile"]["y"]]) * scale
    if rep["lattice"]:
        v1 = np.array(rep["lattice"]["v1"]) * scale
        v2 = np.array(rep["lattice"]["v2"]) * scale
    else:
        v1, v2 = np.array([w, 0.0]), np.array([0.0, h])
    vv, uu = np.mgrid[0:h, 0:w].astype(np.float64)
    pos = origin + (uu / w)[..., None] * v1 + (vv / h)[..., None] * v2
    pos = pos / scale  # truth is at input resolution
    at = lambda a: sample(np.ascontiguousarray(a if a.ndim == 3 else a[..., None], np.float32), pos)
    t = cap.truth
    normal = at(t.normal)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    truth = SvbrdfMaps(albedo=at(t.albedo), specular=at(t.specular), normal=normal,
                       roughness=at(t.roughness)[..., 0], anisotropy=at(t.anisotropy)[..., 0],
                       angle=resample_axes(t.angle, at))
    # The tile's maps are in its own frame (its axes along the lattice vectors).
    truth = reframe(truth, np.stack([v1 / w, v2 / h], axis=1))
    return {k: getattr(truth, k) for k in ("normal", "albedo", "specular", "roughness", "anisotropy", "angle")}


def metrics(cap, result) -> dict:
    m = result.fitted_maps
    t = truth_at_tile(cap, result)
    ang = np.degrees(np.arccos(np.clip((t["normal"] * m.normal).sum(-1), -1, 1)))
    fa, fs = m.albedo, m.specular
    scale = ((t["albedo"] * fa).sum() + (t["specular"] * fs).sum()) / ((fa * fa).sum() + (fs * fs).sum())
    out = {
        "normal_deg": float(ang.mean()),
        "albedo_rmse": float(np.sqrt(((scale * fa - t["albedo"]) ** 2).mean())),
        "specular_rmse": float(np.sqrt(((scale * fs - t["specular"]) ** 2).mean())),
        "roughness_mae": float(np.abs(m.roughness - t["roughness"]).mean()),
        "aniso_mae": float("nan"),
        "aniso_dir_deg": float("nan"),
        "psnr_db": float(result.report["rerender_psnr_db"]),
    }
    strong = t["anisotropy"] > 0.3
    if strong.any():
        out["aniso_mae"] = float(np.abs(m.anisotropy - t["anisotropy"])[strong].mean())
        out["aniso_dir_deg"] = float(np.degrees(angle_difference_mod_pi(m.angle, t["angle"])[strong]).mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1024x768", help="WIDTHxHEIGHT of the synthetic photos")
    ap.add_argument("--period", type=int, default=128, help="lattice period / stochastic tile size (px)")
    ap.add_argument("--materials", default="tiles,weave,leather,brushed",  # also photo:brick, photo:gravel, photo:grass
                    help="comma list; KIND@DEG turns a periodic material's lattice by DEG degrees")
    ap.add_argument("--conditions", default="clean,hard", help=f"comma list of {sorted(CONDITIONS)}")
    ap.add_argument("--quality", default="standard", choices=["fast", "standard", "high"])
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.lower().split("x"))
    cols = ["normal_deg", "albedo_rmse", "specular_rmse", "roughness_mae", "aniso_mae", "aniso_dir_deg", "psnr_db"]
    head = f"{'material':10s} {'cond':6s} " + " ".join(f"{c:>13s}" for c in cols) + f" {'wall_s':>7s} {'cpu_s':>7s}  stages (wall s)"
    print(head)
    rows = []
    for condition in args.conditions.split(","):
        for spec in args.materials.split(","):
            options = dict(CONDITIONS[condition])
            raw_noise, raw_shading = options.pop("raw_noise", None), options.pop("raw_shading", 0.0)
            raw_distortion = options.pop("raw_distortion", 0.0)
            if spec.startswith("photo:"):  # a real texture photo made into a material (maps_from_photo)
                options.pop("deformation_px", None)
                cap = make_capture(spec, width=width, height=height, seed=1, truth=photo_maps(spec[6:], height, width),
                                   **options)
            else:
                kind, _, turn = spec.partition("@")
                cap = make_capture(kind, width=width, height=height, period=args.period, seed=1,
                                   rotation_deg=float(turn or 0), **options)
            kind = spec
            # The RAW pair goes in as files: developing them (imaging.io) is part of the run.
            flash, guide = (cap.flash, cap.guide) if raw_noise is None else \
                raw_photos(cap, noise=raw_noise, shading=raw_shading, distortion=raw_distortion, seed=1)
            wall, cpu = time.perf_counter(), time.process_time()
            result = capture_material(flash, guide, fov_deg=cap.fov_deg, tile_size=args.period,
                                      quality=args.quality, device=args.device)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            row = dict(material=kind, condition=condition, **metrics(cap, result), wall_s=wall, cpu_s=cpu,
                       stages=result.report["time_s"], surface=result.report["surface"],
                       beam=result.report.get("flash_beam_exponent"))
            rows.append(row)
            stages = " ".join(f"{k[:-2]}={v:.1f}" for k, v in row["stages"].items() if not k.startswith("fit_") or k == "fit_s")
            print(f"{kind:10s} {condition:6s} " + " ".join(f"{row[c]:13.4f}" for c in cols)
                  + f" {wall:7.1f} {cpu:7.1f}  {stages}"
                  + ("" if row["beam"] is None else f"  beam={row['beam']:.2f}"), flush=True)
    print()
    for condition in args.conditions.split(","):
        sel = [r for r in rows if r["condition"] == condition]
        if not sel:
            continue
        mean = {c: float(np.nanmean([r[c] for r in sel])) if any(not math.isnan(r[c]) for r in sel) else float("nan")
                for c in cols + ["wall_s", "cpu_s"]}
        print(f"{'overall':10s} {condition:6s} " + " ".join(f"{mean[c]:13.4f}" for c in cols)
              + f" {mean['wall_s']:7.1f} {mean['cpu_s']:7.1f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (process max RSS): {peak_mb:.0f} MB; torch threads: {torch.get_num_threads()}; "
          f"device: {args.device or ('cuda' if torch.cuda.is_available() else 'cpu')}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "peak_rss_mb": peak_mb}, indent=1))


if __name__ == "__main__":
    main()

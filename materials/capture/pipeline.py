"""Two-shot capture: flash + guide photo -> tileable SVBRDF maps of one tile.

Entry point for the job runner: `capture_material`. Steps: load and
linearise, align the guide, find the highlight, find the master tile and its
matches (periodic lattice or stochastic patch matching), gather the flash
observations, fit the maps, render previews, report.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np
import torch

from imaging.color import linear_to_srgb, luminance, srgb_to_linear
from imaging.io import read_image, to_float32
from imaging.resize import resize

from . import periodic, stochastic
from .align import align_guide, even_illumination, local_contrast, warp_guide
from .errors import CaptureInputError
from .fit import FitSettings, FlashGeometry, fit_svbrdf, initial_albedo
from imaging.lattice import Lattice, find_lattice, rectangular_cell
from .height import height_from_normals, stretch
from .maps import SvbrdfMaps, encode_maps, reframe
from .observations import CLIP_LEVEL_SRGB, GAIN_RANGE, gather, room_light, sample
from .renders import new_light_renders, psnr_srgb, rerender_flash
from .shading import camera_distance
from .stationarity import MAX_DETAIL_SPREAD, detail_spread
from .zoom import MIN_CORRECTION as MIN_ZOOM_CORRECTION
from .zoom import refine_zoom, zoom_matrix
from .tileable import make_tileable

Progress = Callable[[float, str], None]

DEFAULT_FOV_DEG = 65.0
MIN_FOV_DEG, MAX_FOV_DEG = 10.0, 140.0  # a pinhole looking down; the job's limits too
MIN_TILE_PX = 16
MAX_ASPECT_MISMATCH = 0.004  # relative: what rounding a resized photo's sides can make
# quality preset -> (working width, fit settings)
PRESETS = {
    "fast": (768, FitSettings(global_steps=40, coarse_steps=100, pixel_steps=40, matches_per_step=16, half_steps=20)),
    "standard": (1024, FitSettings(global_steps=60, coarse_steps=150, pixel_steps=80, matches_per_step=24)),
    "high": (1600, FitSettings(global_steps=100, coarse_steps=300, pixel_steps=200, matches_per_step=32,
                                 half_steps=60)),
}
MIN_MATCHES = 4
MAX_CLIPPED_FRACTION = 0.2
MIN_HIGHLIGHT_CONTRAST = 1.15
MIN_SIDE_PX = 64
MAX_INPUT_PIXELS = 80_000_000  # decoding guard; the work happens at ~1 MP anyway
# Smaller photos skip the scale check (zoom.py): a 1 % zoom moves no match by more than ~2 px there.
MIN_ZOOM_SEARCH_PX = 400


@dataclass
class CaptureResult:
    """maps: the tile's SVBRDF; encoded: file encodings (float32 [0,1], see
    maps.encode_maps); renders: name -> (H,W,3) float32 sRGB [0,1]
    (`rerender_flash` next to `input_flash`, two new-light renders);
    report: JSON-able dict."""

    maps: SvbrdfMaps
    encoded: dict
    renders: dict
    report: dict = field(default_factory=dict)
    fitted_maps: SvbrdfMaps | None = None  # before make-tileable (stochastic); for evaluation


FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)  # 43.27 mm


def fov_from_exif(exif: dict, shape) -> float | None:
    """Horizontal FOV (deg) of an upright photo of `shape` (height, width, ...) from its
    35 mm-equivalent focal length, if present.

    The equivalence is defined on the diagonal (the photo's diagonal spans a full frame's
    43.27 mm, whatever its aspect), so the width's share of it is what the horizontal
    angle sees: a portrait photo's width is its short side, a 4:3 photo's 34.6 mm, not 36.
    """
    f35 = exif.get("FocalLengthIn35mmFilm") if exif else None
    try:
        f35 = float(f35)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f35) or f35 <= 0:
        return None
    height, width = shape[0], shape[1]
    width_mm = FULL_FRAME_DIAGONAL_MM * width / math.hypot(width, height)
    return math.degrees(2 * math.atan(width_mm / (2 * f35)))


def _load(src, name: str):
    """Photo -> ((H,W,3) float32 linear RGB, exif, (H,W,3) clipped, colour profile or None).
    Arrays: uint8/uint16 or float sRGB in [0,1]. A phone's Display P3 photo comes converted
    to sRGB (imaging.io); the profile entry says what was done."""
    exif, profile = {}, None
    if isinstance(src, np.ndarray):
        pixels = src
    else:
        try:
            img = read_image(src, max_pixels=MAX_INPUT_PIXELS)
        except ValueError as exc:
            raise CaptureInputError(f"the {name} photo could not be read: {exc}") from exc
        pixels, exif, profile = img.pixels, img.exif or {}, img.colour_profile
        if img.colour_space == "linear":
            rgb = to_float32(pixels)
            return _rgb(rgb, name), exif, _rgb(np.asarray(rgb), name) >= 1.0, profile
    if pixels.ndim != 3 and pixels.ndim != 2:
        raise CaptureInputError(f"the {name} photo is not an image")
    if pixels.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise CaptureInputError(f"the {name} photo's pixels are {pixels.dtype}; give uint8, uint16 "
                                "or float sRGB in [0, 1]")
    if pixels.dtype.kind == "f":
        pixels = np.asarray(pixels, np.float32)
        peak = float(np.nanmax(pixels)) if pixels.size else 0.0
        if not np.isfinite(pixels).all() or peak > 1.5 or float(pixels.min()) < -0.5:
            raise CaptureInputError(f"the {name} photo's float pixels must be sRGB values in [0, 1] "
                                    f"(found {float(np.nanmin(pixels)):g} to {peak:g}; 0-255 values are "
                                    "given as uint8)")
    srgb = to_float32(pixels) if pixels.dtype != np.float32 else pixels
    srgb = _rgb(srgb, name)
    return np.asarray(srgb_to_linear(srgb), dtype=np.float32), exif, srgb >= CLIP_LEVEL_SRGB, profile


def _rgb(x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim == 2:
        x = x[..., None]
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    if x.shape[2] not in (3, 4):
        raise CaptureInputError(f"the {name} photo has an unsupported number of channels")
    return np.ascontiguousarray(x[..., :3], dtype=np.float32)


def _align_upright(flash: np.ndarray, guide: np.ndarray):
    """(guide, alignment): the guide as it is, or turned half round when it aligns only that
    way or aligns upside down (a rotation over 90 deg left to the warp). The first attempt's
    error is raised when neither aligns."""
    error, upside_down = None, None
    for candidate in (guide, np.ascontiguousarray(np.rot90(guide, 2))):
        try:
            alignment = align_guide(_luminance(flash), _luminance(candidate))
        except CaptureInputError as exc:
            error = error or exc
            continue
        if alignment.homography[0, 0] + alignment.homography[1, 1] >= 0:
            return candidate, alignment
        upside_down = upside_down or (candidate, alignment)
    if upside_down is not None:
        return upside_down
    raise error


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """(H,W,3) linear -> (H,W) float32 luminance."""
    return np.ascontiguousarray(luminance(rgb)[..., 0], dtype=np.float32)


def find_highlight(flash: np.ndarray, guide: np.ndarray):
    """Highlight centre (x, y) and its contrast: the peak of a heavily blurred
    flash/guide ratio (the ratio cancels albedo). (H,W,3) linear inputs."""
    h, w = flash.shape[:2]
    sigma = max(w, h) / 24
    f = cv2.GaussianBlur(_luminance(flash), (0, 0), sigma)
    g = cv2.GaussianBlur(_luminance(guide), (0, 0), sigma)
    ratio = f / np.maximum(g, 1e-4)
    y, x = np.unravel_index(np.argmax(ratio), ratio.shape)
    # Centre: ratio-weighted mean of the top of the peak (its connected part).
    # The top is a disc for isotropic materials and a band for anisotropic
    # ones, whose argmax could lie anywhere along the band; the band is
    # point-symmetric about the centre, so its mean is a better estimate.
    top = ratio >= ratio[y, x] - 0.3 * (ratio[y, x] - np.median(ratio))
    _, labels = cv2.connectedComponents(top.astype(np.uint8))
    ys, xs = np.nonzero(labels == labels[y, x])
    wts = ratio[ys, xs] - ratio[ys, xs].min() + 1e-6
    centre = (float((xs * wts).sum() / wts.sum()), float((ys * wts).sum() / wts.sum()))
    border = np.concatenate([ratio[0], ratio[-1], ratio[:, 0], ratio[:, -1]])
    contrast = float(ratio[y, x] / max(np.median(border), 1e-6))
    return centre, contrast


def capture_material(flash, guide, *, fov_deg: float | None = None, tile_size: int | None = None,
                     quality: str = "standard", surface: str = "auto", max_width: int | None = None,
                     progress: Progress | None = None, device: str | None = None) -> CaptureResult:
    """Recover the SVBRDF maps of one repeating tile from a flash/guide pair.

    flash, guide: paths, bytes, binary files, or (H,W,3) arrays (uint8/uint16
    or float32 sRGB in [0,1]); same scene, the flash photo with the flash on.
    fov_deg: horizontal field of view (EXIF 35 mm focal length, else 65).
    tile_size: master tile side in working pixels for stochastic surfaces.
    quality: "fast" | "standard" | "high". surface: "auto" | "periodic" |
    "stochastic". progress(fraction, stage) is called between steps; what
    it raises propagates (cancellation). Raises CaptureInputError (a
    ValueError) with a user-facing message for unusable photos.
    """
    if quality not in PRESETS:
        raise CaptureInputError(f"unknown quality preset {quality!r}; use fast, standard or high")
    if fov_deg is not None and not (isinstance(fov_deg, numbers.Real) and MIN_FOV_DEG <= fov_deg <= MAX_FOV_DEG):
        raise CaptureInputError(f"the field of view must be {MIN_FOV_DEG:g} to {MAX_FOV_DEG:g} degrees, "
                                f"got {fov_deg!r}")
    if tile_size is not None and not (isinstance(tile_size, numbers.Integral) and tile_size >= MIN_TILE_PX):
        raise CaptureInputError(f"the tile size must be a whole number of at least {MIN_TILE_PX} pixels, "
                                f"got {tile_size!r}")
    if surface not in ("auto", "periodic", "stochastic"):
        raise CaptureInputError(f"unknown surface kind {surface!r}; use auto, periodic or stochastic")
    report_progress = progress or (lambda fraction, stage: None)
    width_target, settings = PRESETS[quality]
    width_target = max_width or width_target
    times = {}
    t = time.perf_counter()

    def stage(name):
        nonlocal t
        now = time.perf_counter()
        times[name] = round(now - t, 3)
        t = now

    report_progress(0.0, "loading photos")
    flash, flash_exif, flash_clip, flash_profile = _load(flash, "flash")
    guide, _, _, guide_profile = _load(guide, "guide")
    if flash.shape[0] < MIN_SIDE_PX or flash.shape[1] < MIN_SIDE_PX:
        raise CaptureInputError(f"the photos are too small; use at least {MIN_SIDE_PX} pixels on each side")
    aspect = lambda image: image.shape[0] / image.shape[1]
    if abs(aspect(flash) - aspect(guide)) > 0.02 and abs(aspect(flash) - 1 / aspect(guide)) <= 0.02:
        # The phone was held in portrait for one shot and landscape for the other: a quarter
        # turn (the alignment below turns it half round too if that was the wrong way).
        guide = np.ascontiguousarray(np.rot90(guide))
    if abs(aspect(flash) - aspect(guide)) > 0.02:
        raise CaptureInputError("the flash and guide photos have different aspect ratios; "
                                "take both with the same camera settings")
    if abs(aspect(flash) / aspect(guide) - 1) > MAX_ASPECT_MISMATCH:
        # A crop of a few rows: the guide would be stretched to the flash photo's shape, which
        # the alignment's motion model (no stretch) cannot undo; measured on a 512x384 pair,
        # 2 rows off (0.5 %) took the normals from 1.4 to 2.5 degrees, 8 rows to 3.3.
        raise CaptureInputError(
            f"the guide photo's aspect ratio ({guide.shape[1]}x{guide.shape[0]}) differs from the flash "
            f"photo's ({flash.shape[1]}x{flash.shape[0]}): was one of them cropped? Upload both photos as "
            "the camera took them")
    clipped_fraction = float(flash_clip.any(-1).mean())
    if clipped_fraction > MAX_CLIPPED_FRACTION:
        raise CaptureInputError(f"the flash photo is over-exposed: {clipped_fraction:.0%} of its pixels "
                                "are clipped; lower the exposure or move the camera further away")
    if fov_deg is None:
        fov_deg = fov_from_exif(flash_exif, flash.shape) or DEFAULT_FOV_DEG
    h0, w0 = flash.shape[:2]
    scale = min(1.0, width_target / w0)
    work = (max(1, round(h0 * scale)), max(1, round(w0 * scale)))
    if work != (h0, w0):
        flash = resize(flash, work, filter="area")
        flash_clip = resize(flash_clip.astype(np.float32), work, filter="area") > 0.5
    if guide.shape[:2] != work:
        guide = resize(guide, work, filter="area")
    flash = np.ascontiguousarray(flash, dtype=np.float32)
    guide = np.ascontiguousarray(guide, dtype=np.float32)
    h, w = work
    stage("load_s")

    report_progress(0.05, "aligning photos")
    guide, alignment = _align_upright(flash, guide)
    stage("align_s")
    photo_guide = guide
    repeats = _find_repeats(flash, photo_guide, flash_clip, alignment.homography, surface, tile_size, report_progress)
    stage("matching_s")
    distance = camera_distance(w, fov_deg)
    room = room_light(repeats.guide, repeats.guide_light, flash)
    zoom, zoom_scores = 0.0, []
    if min(h, w) >= MIN_ZOOM_SEARCH_PX:
        report_progress(0.33, "checking the photos' scale")
        zoom, zoom_scores = refine_zoom(flash, repeats.guide, flash_clip.astype(np.float32), repeats.positions,
                                        repeats.master, repeats.size, repeats.centre, distance, device=device,
                                        room=room, progress=lambda: report_progress(0.33, "checking the photos' scale"))
        if abs(zoom) >= MIN_ZOOM_CORRECTION:
            # The camera moved closer or further between the shots: match again in the
            # guide rescaled to the flash photo (progress stays where it is meanwhile).
            rescaled = alignment.homography @ zoom_matrix(zoom, (h, w))
            try:
                repeats = _find_repeats(flash, photo_guide, flash_clip, rescaled, surface, tile_size,
                                        lambda fraction, text: report_progress(0.34, text))
                alignment.homography = rescaled
                room = room_light(repeats.guide, repeats.guide_light, flash)
            except CaptureInputError:
                zoom = 0.0  # the first alignment's repeats stand
        else:
            zoom = 0.0
    stage("zoom_s")
    guide, guide_light, guide_luminance = repeats.guide, repeats.guide_light, repeats.guide_luminance
    centre, lattice, size, spread = repeats.centre, repeats.lattice, repeats.size, repeats.spread
    origin, grid, on_lattice, positions = repeats.origin, repeats.grid, repeats.on_lattice, repeats.positions
    master, kind, matches_per_pixel = repeats.master, repeats.kind, repeats.matches_per_pixel

    report_progress(0.35, "gathering observations")
    obs = gather(flash, guide, flash_clip.astype(np.float32), positions, master, centre, distance,
                 size, wrap=(kind == "periodic"), room=room)
    # Flash power is unknown: scale so the 99th percentile of the albedo
    # estimate is 0.8 (albedo and specular share this one scale).
    est = initial_albedo(obs, FlashGeometry(centre, distance)).flatten()
    exposure = float(torch.quantile(est, 0.99)) / 0.8
    exposure = max(exposure, 1e-4)
    obs.expose(exposure)
    stage("observations_s")

    if kind == "stochastic" and quality == "high":
        # Matches of a stochastic surface disagree; more steps only let the per-pixel
        # normals follow that disagreement (brushed metal: 6.3 deg -> 7.9 deg), so
        # "high" keeps its resolution but fits with the standard steps.
        settings = PRESETS["standard"][1]
    # The guide's colour of each master pixel: which pixels look alike (fit clusters).
    appearance = sample(cv2.GaussianBlur(guide, (0, 0), 1.0), master[:, None, :])[:, 0]
    photo_centre = ((w - 1) / 2, (h - 1) / 2)  # where the optical axis meets the photo (the beam's axis)
    fitted, centre, residual, fit_times, details = fit_svbrdf(
        obs, centre, distance, settings, appearance=torch.from_numpy(np.ascontiguousarray(appearance)),
        progress=report_progress, span=(0.4, 0.9), device=device, axis=photo_centre)
    # One common scale for albedo and specular (flash power unknown): the 99th
    # percentile of the albedo at 0.8, unless the specular needs more room
    # (metals: dark albedo, bright specular).
    rescale = max(float(torch.quantile(fitted["albedo"].flatten(), 0.99)) / 0.8,
                  float(torch.quantile(fitted["specular"].amax(-1), 0.99)) / 1.0, 1e-6)
    fitted["albedo"] = (fitted["albedo"] / rescale).clamp(0, 1)
    fitted["specular"] = (fitted["specular"] / rescale).clamp(0, 1)
    exposure *= rescale
    maps = SvbrdfMaps.from_torch({k: v.reshape(size + (v.shape[-1],)) for k, v in fitted.items()})
    times.update({k: round(v, 3) for k, v in fit_times.items()})
    stage("fit_s")

    report_progress(0.9, "rendering previews")
    if kind == "periodic":
        rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
        # Where the repeats sit off the exact lattice, each photo pixel is taken
        # back by the local displacement before it is wrapped into the tile.
        shift = periodic.displacement_field(positions, grid.reshape(-1, 1, 2) + on_lattice[None], (h, w))
        tile_uv = periodic.wrap_coordinates(np.stack([cols, rows], -1) - shift, origin, lattice, size)
        master_at = periodic.tile_positions(origin, lattice, size)
    else:
        tile_uv = stochastic.coverage(positions, size, (h, w))
        master_at = master.reshape(size + (2,))
    # Each photo pixel's albedo against its master pixel's, from the guide, as the fit's
    # gains (a stochastic surface's matches differ most: grass re-rendered 25.6 dB without them).
    guide_lum = cv2.GaussianBlur(guide_luminance, (0, 0), 1.0)
    master_lum = sample(guide_lum[..., None], master_at)[..., 0]
    uv = np.nan_to_num(tile_uv)
    iu = np.mod(np.floor(uv[..., 0] + 0.5).astype(int), size[1])
    iv = np.mod(np.floor(uv[..., 1] + 0.5).astype(int), size[0])
    gain = np.clip(guide_lum / np.maximum(master_lum[iv, iu], 1e-4), *GAIN_RANGE)
    rerender = rerender_flash(maps, tile_uv, gain, centre, distance, exposure,
                              room=room * np.float32(details["room_level"]), beam=details["beam"],
                              axis=photo_centre)
    psnr = psnr_srgb(rerender, flash)
    if kind == "periodic":
        # The fit works in the photo's frame; the tile's own axes run along the
        # lattice vectors, so its normals and tangents are turned into that frame.
        maps = reframe(maps, periodic.tile_basis(lattice, size))
    srgb = lambda x: np.asarray(linear_to_srgb(np.clip(np.nan_to_num(x), 0, 1)), dtype=np.float32)
    renders = {"input_flash": srgb(flash), "rerender_flash": srgb(rerender)}
    renders.update(new_light_renders(maps))
    fitted_maps = maps
    stage("render_s")
    if kind == "stochastic":
        report_progress(0.93, "making the tile seamless")
        maps = make_tileable(maps, progress=lambda fraction, text: report_progress(0.93 + 0.06 * fraction,
                                                                                    f"making the tile seamless: {text}"))
        stage("tileable_s")

    relief = height_from_normals(maps.normal)  # of the written maps: height.png and its depth
    report = {
        "surface": kind,
        "working_size": [w, h],
        "input_size": [w0, h0],
        "fov_deg": round(float(fov_deg), 3),
        "highlight_centre": [round(centre[0] / scale, 2), round(centre[1] / scale, 2)],
        "tile": {"x": round(float(origin[0]) / scale, 2), "y": round(float(origin[1]) / scale, 2),
                 "width": size[1] / scale, "height": size[0] / scale,
                 "working_width": size[1], "working_height": size[0]},
        "lattice": None if lattice is None else {"v1": [round(float(c) / scale, 3) for c in lattice.v1],
                                                 "v2": [round(float(c) / scale, 3) for c in lattice.v2],
                                                 "strength": round(lattice.strength, 3)},
        "matches_per_pixel_median": int(np.median(matches_per_pixel)),
        # How much the guide's fine detail changes across the photo (stationarity.py;
        # refused above MAX_DETAIL_SPREAD; null when the photo is too few tiles wide to tell).
        "texture_spread": None if spread is None else round(spread, 3),
        "alignment": {"homography": np.round(alignment.homography, 6).tolist(),
                      "error_px": None if math.isnan(alignment.error_px) else round(alignment.error_px, 3),
                      "correlation": round(alignment.correlation, 3),
                      # The guide's scale corrected against the flash observations (zoom.py):
                      # the zoom taken, and each zoom tried with its quick-fit residual.
                      "zoom": round(zoom, 5), "zoom_scores": [[z, s] for z, s in zoom_scores]},
        "clipped_fraction": round(clipped_fraction, 5),
        # Embedded ICC profiles (None: none) and whether the pixels were converted to sRGB.
        "colour_profiles": {"flash": flash_profile, "guide": guide_profile},
        # The guide's ambient light that was divided out (1 = even; 0.8..1.2 = +-20 %).
        "guide_light": {"min": round(float(guide_light.min()), 3), "max": round(float(guide_light.max()), 3)},
        # The room light the flash photo also held, per channel, as a fraction of its mean
        # (0 = the flash alone; fitted with the maps, see observations.room_light).
        "room_light_in_flash": details["room_level"],
        "flash_beam_exponent": details["beam"],
        # What the beam leaves of a point light's light in the photo's corners.
        "flash_beam_corner": round((1 + (photo_centre[0] ** 2 + photo_centre[1] ** 2) / distance**2)
                                   ** (-details["beam"] / 2), 4),
        "fit_residual": round(residual, 5),
        # Per frequency ring: the split-half agreement of the normal detail
        # (fit.split_half_slopes) and the weight the detail kept (fit.held_out_ring_weights);
        # and the gain given to the agreed detail (fit.master_gain).
        "normal_reliability": [{"cycles_per_px": f, "correlation": c, "weight": w}
                               for f, c, w in details["rings"]],
        "normal_detail_gain": details["detail_gain"],
        "rerender_psnr_db": round(psnr, 2),
        # The relief's depth over the tile's width: the displacement scale of height.png.
        "height_depth": round(stretch(relief)[1], 5),
        "albedo_scale": "flash power unknown: albedo and specular share one scale, set so the "
                        "99th percentile of the albedo is 0.8 (or of the specular 1.0, if higher)",
        "time_s": times,
    }
    report_progress(1.0, "done")
    return CaptureResult(maps=maps, encoded=encode_maps(maps, relief), renders=renders, report=report,
                         fitted_maps=fitted_maps)


@dataclass
class _Repeats:
    """Where the master tile repeats, for one alignment of the guide (see _find_repeats)."""

    guide: np.ndarray  # (H,W,3) linear, aligned to the flash photo and evenly lit
    guide_light: np.ndarray
    guide_luminance: np.ndarray
    centre: tuple
    lattice: Lattice | None
    size: tuple
    spread: float | None
    origin: np.ndarray
    grid: np.ndarray
    on_lattice: np.ndarray | None
    positions: np.ndarray  # (P,K,2) flash-photo positions of each master pixel's matches
    kind: str
    matches_per_pixel: np.ndarray

    @property
    def master(self) -> np.ndarray:
        """(P,2) the master pixels' own positions."""
        return self.grid.reshape(-1, 2)


def _find_repeats(flash, photo_guide, flash_clip, homography, surface, tile_size, report_progress) -> _Repeats:
    """Warp the guide onto the flash photo, find the highlight and the master tile's repeats.
    Raises CaptureInputError for photos this cannot work with."""
    h, w = flash.shape[:2]
    guide = warp_guide(photo_guide, homography, (h, w))
    guide, guide_light = even_illumination(guide)

    report_progress(0.12, "finding the highlight")
    centre, contrast = find_highlight(flash, guide)
    if contrast < MIN_HIGHLIGHT_CONTRAST:
        raise CaptureInputError("the flash photo shows no visible flash highlight; take it with the "
                                "flash on, from straight above the surface")

    report_progress(0.15, "finding repeats")
    guide_luminance = _luminance(guide)
    guide_contrast = local_contrast(guide_luminance)
    lattice = None if surface == "stochastic" else find_lattice(guide_contrast)
    if surface == "periodic" and lattice is None:
        raise CaptureInputError("no repeating pattern was found in the guide photo; the surface is not periodic")
    on_lattice = None
    if lattice is not None:
        lattice = rectangular_cell(lattice)
        size = periodic.tile_size(lattice)
        if size[0] * 2 > h or size[1] * 2 > w:
            raise CaptureInputError("the photos are too small for at least 2x2 repeats of the pattern; "
                                    "capture a larger area")
        spread = _require_stationary(guide_luminance, max(size))
        # Any origin gives the same periodic tile; a whole-pixel one samples the photo
        # without interpolation wherever the lattice steps are whole pixels too.
        origin = _inside(np.round(np.asarray(centre) - 0.5 * (lattice.v1 + lattice.v2)), lattice, (h, w))
        grid = periodic.tile_positions(origin, lattice, size)
        on_lattice = periodic.lattice_translates(grid, lattice, (h, w))
        translates, ncc = periodic.refine_translates(guide_contrast, grid, on_lattice)
        positions = periodic.refine_deformation(guide_contrast, grid, translates, periodic.tile_basis(lattice, size))
        kind = "periodic"
    else:
        side = tile_size or max(32, int(round(w / 6)))
        if side * 2 > min(h, w):
            raise CaptureInputError("the photos are too small for at least 2x2 repeats of the tile; "
                                    "capture a larger area or use a smaller tile size")
        size = (side, side)
        spread = _require_stationary(guide_luminance, side)
        origin = stochastic.master_origin(centre, side, (h, w), flash_clip)
        grid = periodic.tile_positions(origin, _axis_lattice(side), size)
        positions = stochastic.match_positions(guide, origin, side, progress=report_progress, span=(0.15, 0.33))
        kind = "stochastic"
    inside = ((positions[..., 0] >= 0) & (positions[..., 0] <= w - 1)
              & (positions[..., 1] >= 0) & (positions[..., 1] <= h - 1))
    matches_per_pixel = inside.sum(1)
    if np.median(matches_per_pixel) < MIN_MATCHES:
        raise CaptureInputError("too few matches for the master tile; capture a larger area")
    return _Repeats(guide, guide_light, guide_luminance, centre, lattice, size, spread, origin, grid, on_lattice,
                    positions, kind, matches_per_pixel)


def _require_stationary(guide_luminance: np.ndarray, block: int) -> float | None:
    """The guide's detail spread over blocks of the tile's size; refuses a scene."""
    spread = detail_spread(guide_luminance, block)
    if spread is not None and spread > MAX_DETAIL_SPREAD:
        raise CaptureInputError(
            "the photos do not show a flat surface with an even texture: its detail changes too much "
            f"across the photo (spread {spread:.2f}, at most {MAX_DETAIL_SPREAD}); photograph a flat, "
            "evenly textured area (fabric, wood, stone, tiles) that fills the whole frame")
    return spread


def _inside(origin: np.ndarray, lattice: Lattice, size) -> np.ndarray:
    """Shift the master tile (a parallelogram from `origin`) inside the photo where it fits."""
    h, w = size
    corners = origin + np.array([[0, 0], lattice.v1, lattice.v2, lattice.v1 + lattice.v2])
    lo, hi = corners.min(0), corners.max(0)
    shift = np.maximum(np.ceil(0 - lo), 0) + np.minimum(np.floor(np.array([w - 1, h - 1]) - hi), 0)
    return origin + shift


def _axis_lattice(side: int) -> Lattice:
    """A square side x side tile along the image axes (stochastic master tile)."""
    return Lattice(v1=np.array([float(side), 0.0]), v2=np.array([0.0, float(side)]), strength=0.0)

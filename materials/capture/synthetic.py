"""Synthetic stationary materials with known maps, and their two-shot photos.

Materials are built directly at photo size (maps in flash-photo pixels), so a
recovered master tile can be compared with the ground truth cropped at the
tile's reported position. Photos are rendered with `shading` (the single
shading model), then optionally degraded: per-repeat variation, sensor noise,
8-bit sRGB quantisation, JPEG, a hand-held misalignment of the guide; or
stored as a phone's RAW files (`raw_photos`: Bayer DNG, linear, 12-bit).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from scipy import ndimage

from imaging.color import linear_to_srgb, srgb_to_linear
from imaging.io import jpeg_roundtrip

from .maps import SvbrdfMaps, resample_axes
from .shading import camera_distance, flash_directions, render_flash, render_guide, render_point_light

PERIODIC_KINDS = ("tiles", "weave")
STOCHASTIC_KINDS = ("leather", "brushed")


@dataclass
class SyntheticCapture:
    """A rendered pair with its ground truth.

    flash, guide: (H,W,3) uint8 sRGB photos (float32 sRGB in [0,1] when
    `quantise=False`). truth: maps in flash-photo pixels. period: lattice
    period in px for periodic kinds (lattice is axis-aligned), else None.
    centre: true highlight centre (x, y). guide_homography: 3x3 mapping
    flash pixel coordinates to guide pixel coordinates.
    """

    flash: np.ndarray
    guide: np.ndarray
    truth: SvbrdfMaps
    kind: str
    period: int | None
    centre: tuple
    fov_deg: float
    guide_homography: np.ndarray = field(default_factory=lambda: np.eye(3))


def smooth_noise(shape, scale_px: float, rng: np.random.Generator) -> np.ndarray:
    """Periodic (wraps at its own borders) smooth noise, zero mean, unit std.

    shape: (h, w); scale_px: feature size in pixels (Gaussian filter in the
    Fourier domain, so the result tiles seamlessly).
    """
    h, w = shape
    white = rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    sigma_f = 1.0 / (2 * math.pi * max(scale_px, 0.5))
    gain = np.exp(-(fx**2 + fy**2) / (2 * sigma_f**2))
    out = np.real(np.fft.ifft2(np.fft.fft2(white) * gain))
    out -= out.mean()
    return out / max(out.std(), 1e-12)


def normals_from_height(height: np.ndarray) -> np.ndarray:
    """Unit normals (H,W,3), plane frame (y up), of a height field in pixels; wraps."""
    dh_dx = 0.5 * (np.roll(height, -1, axis=1) - np.roll(height, 1, axis=1))
    dh_drow = 0.5 * (np.roll(height, -1, axis=0) - np.roll(height, 1, axis=0))
    n = np.stack([-dh_dx, dh_drow, np.ones_like(height)], axis=-1)  # dh/dy_up = -dh/drow
    return (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)


def _tile_tiles(p: int, rng) -> dict:
    """Glazed tiles with rough grout; an off-centre glaze spot breaks symmetry."""
    y, x = np.mgrid[0:p, 0:p].astype(np.float64)
    edge = np.minimum.reduce([x, y, p - 1 - x, p - 1 - y])
    grout = np.clip((p / 18 - edge) / 2.0 + 0.5, 0, 1)  # soft-edged grout mask
    spot = np.exp(-(((x - 0.35 * p) ** 2 + (y - 0.6 * p) ** 2) / (2 * (0.12 * p) ** 2)))
    mottle = smooth_noise((p, p), p / 10, rng)
    tile_rgb = np.array([0.55, 0.32, 0.22])[None, None] * (1 + 0.12 * mottle[..., None])
    tile_rgb = tile_rgb * (1 - 0.45 * spot[..., None]) + 0.45 * spot[..., None] * np.array([0.2, 0.35, 0.6])
    albedo = tile_rgb * (1 - grout[..., None]) + grout[..., None] * np.array([0.62, 0.6, 0.55])
    rough = (0.3 + 0.04 * smooth_noise((p, p), p / 6, rng)) * (1 - grout) + 0.7 * grout
    spec = 0.05 * (1 - grout) + 0.03 * grout
    height = -1.5 * grout + 0.25 * smooth_noise((p, p), p / 24, rng) + 0.6 * spot
    return dict(albedo=albedo, rough=rough, spec=np.repeat(spec[..., None], 3, -1),
                height=height, aniso=np.zeros((p, p)), angle=np.zeros((p, p)))


def _tile_weave(p: int, rng) -> dict:
    """Basket weave: warp (vertical) and weft (horizontal) threads, anisotropic sheen."""
    y, x = np.mgrid[0:p, 0:p].astype(np.float64)
    half = p // 2
    block = ((x // half) + (y // half)) % 2  # which thread set is on top
    threads = 4
    phase_x = np.sin(math.pi * threads * x / half) ** 2
    phase_y = np.sin(math.pi * threads * y / half) ** 2
    ridge = np.where(block == 0, phase_y, phase_x)  # weft ridges run horizontally
    colour_a = np.array([0.25, 0.3, 0.5])
    colour_b = np.array([0.55, 0.5, 0.35])
    albedo = np.where(block[..., None] == 0, colour_a, colour_b) * (0.8 + 0.25 * ridge[..., None])
    albedo = albedo * (1 + 0.05 * smooth_noise((p, p), p / 16, rng)[..., None])
    height = 1.2 * ridge + 0.3 * smooth_noise((p, p), p / 20, rng)
    angle = np.where(block == 0, 0.0, math.pi / 2)  # along the thread
    return dict(albedo=albedo, rough=0.45 + 0.1 * (1 - ridge), height=height,
                spec=np.full((p, p, 3), 0.06), aniso=np.full((p, p), 0.5), angle=angle)


def make_periodic_maps(height: int, width: int, *, kind: str = "tiles", period: int = 128,
                       offset=(37, 21), variation: float = 0.0, rotation_deg: float = 0.0,
                       seed: int = 0) -> SvbrdfMaps:
    """Ground-truth maps (photo size) of a periodic material.

    variation: per-repeat relative change (uniform in +-variation) of the
    albedo gain and (at half that) of the roughness: repeats are similar,
    not identical. rotation_deg: the lattice turned by this angle (clockwise
    on screen, image y down); the surface is resampled from the tile and its
    normals are taken from the resampled height, so they are the rotated
    surface's own.
    """
    rng = np.random.default_rng(seed)
    tile = {"tiles": _tile_tiles, "weave": _tile_weave}[kind](period, rng)
    ox, oy = offset[0] % period, offset[1] % period
    if rotation_deg:
        full, (rows, cols) = _rotated_tiling(tile, height, width, period, (ox, oy), math.radians(rotation_deg))
        rows, cols = rows - rows.min(), cols - cols.min()
        repeats = (rows.max() + 1, cols.max() + 1)
    else:
        tile["normal"] = normals_from_height(tile.pop("height"))
        reps_y = -(-height // period) + 1
        reps_x = -(-width // period) + 1

        def place(a):
            big = np.tile(a, (reps_y, reps_x) + (1,) * (a.ndim - 2))
            return big[oy:oy + height, ox:ox + width]

        full = {k: place(v) for k, v in tile.items()}
        rows = np.repeat(((np.arange(height) + oy) // period)[:, None], width, 1)
        cols = np.repeat(((np.arange(width) + ox) // period)[None, :], height, 0)
        repeats = (reps_y, reps_x)
    if variation > 0:
        gains = 1 + rng.uniform(-variation, variation, repeats)
        rough_gain = 1 + rng.uniform(-variation / 2, variation / 2, repeats)
        full["albedo"] = full["albedo"] * gains[rows, cols][..., None]
        full["rough"] = full["rough"] * rough_gain[rows, cols]
    return _as_maps(full)


def _rotated_tiling(tile: dict, height: int, width: int, period: int, offset, rotation: float):
    """Photo-size fields of `tile` repeated on a lattice turned by `rotation`
    (radians), and the repeat index (row, col) of every pixel."""
    c, s = math.cos(rotation), math.sin(rotation)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    # photo = offset + R (u, v)  =>  (u, v) = R^T (photo - offset)
    dx, dy = x - offset[0], y - offset[1]
    u, v = c * dx + s * dy, -s * dx + c * dy

    at = lambda a: _map_channels(a, [np.mod(v, period), np.mod(u, period)], "grid-wrap")

    full = {k: at(tile[k]) for k in ("albedo", "rough", "spec", "aniso")}
    # Heights on a 1 px larger grid would be exact at the border; one-sided
    # differences there are close enough for a test material.
    dh_drow, dh_dx = np.gradient(at(tile["height"]))
    normal = np.stack([-dh_dx, dh_drow, np.ones_like(dh_dx)], axis=-1)
    full["normal"] = normal / np.linalg.norm(normal, axis=-1, keepdims=True)
    # Tangent directions turn with the lattice: sample the doubled angle (axes
    # have no sign), then turn the tile-frame pixel step (cos, -sin) by R.
    phi = resample_axes(tile["angle"], at)
    step_x, step_y = np.cos(phi), -np.sin(phi)
    full["angle"] = np.arctan2(-(s * step_x + c * step_y), c * step_x - s * step_y)
    return full, (np.floor(v / period).astype(int), np.floor(u / period).astype(int))


def make_stochastic_maps(height: int, width: int, *, kind: str = "leather", seed: int = 0) -> SvbrdfMaps:
    """Ground-truth maps (photo size) of a stationary material with no exact period."""
    rng = np.random.default_rng(seed)
    shape = (height, width)
    if kind == "leather":
        # Grains: a few bump shapes scattered at random (stationary, no period);
        # every grain shape recurs many times, similar but not identical.
        y, x = np.mgrid[-8:9, -8:9].astype(np.float64)
        height = np.zeros(shape)
        albedo_mod = np.zeros(shape)
        for k in range(6):
            sx, sy = rng.uniform(2.5, 4.5, 2)
            rot = rng.uniform(0, math.pi)
            xr = x * math.cos(rot) + y * math.sin(rot)
            yr = -x * math.sin(rot) + y * math.cos(rot)
            bump = np.exp(-0.5 * ((xr / sx) ** 2 + (yr / sy) ** 2)) * (1 + 0.4 * np.sin(xr / 2.0 + k))
            seeds = np.zeros(shape)
            n = int(shape[0] * shape[1] / (18 * 18 * 6) * 1.3)
            seeds[rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)] = rng.uniform(0.8, 1.2, n)
            kernel = np.zeros(shape)
            kernel[:17, :17] = bump
            kernel = np.roll(kernel, (-8, -8), axis=(0, 1))
            placed = np.real(np.fft.ifft2(np.fft.fft2(seeds) * np.fft.fft2(kernel)))
            height += 2.0 * placed
            albedo_mod += (0.15 if k % 2 else -0.1) * placed
        broad = smooth_noise(shape, 24, rng)
        crease = np.exp(-height)  # valleys between grains are darker and rougher
        albedo = np.array([0.42, 0.22, 0.12])[None, None] * (
            1 + 0.1 * broad[..., None] + albedo_mod[..., None] - 0.35 * (crease[..., None] - 0.5))
        full = dict(albedo=albedo, rough=0.4 + 0.2 * np.clip(crease, 0, 1) + 0.03 * broad,
                    spec=np.full(shape + (3,), 0.04), height=height + 0.3 * broad,
                    aniso=np.zeros(shape), angle=np.zeros(shape))
    elif kind == "brushed":
        # Streaks along phi = 30 deg: noise stretched along that direction.
        phi = math.radians(30)
        white = smooth_noise(shape, 1.0, rng)
        k = 41
        ker = np.zeros((k, k), np.float32)
        c = k // 2
        for s in np.linspace(-c, c, 4 * k):
            ker[int(round(c - s * math.sin(phi))), int(round(c + s * math.cos(phi)))] = 1
        streak = cv2.filter2D(white.astype(np.float32), -1, ker / ker.sum(), borderType=cv2.BORDER_WRAP)
        streak = streak / streak.std()
        patches = smooth_noise(shape, 10, rng)
        # Streaks show in the guide too (they modulate the reflectance a little).
        spec = np.array([0.9, 0.75, 0.55])[None, None] * (1 + 0.04 * patches[..., None] + 0.12 * streak[..., None])
        full = dict(albedo=np.full(shape + (3,), 0.03) * (1 + 0.3 * patches[..., None]),
                    rough=0.35 + 0.04 * patches, spec=spec,
                    height=0.15 * streak + 0.6 * smooth_noise(shape, 20, rng),
                    # Grooves along phi scatter light across them: the rougher tangent
                    # direction (r_t > r_b) is perpendicular to the streaks, so the highlight
                    # stretches across the brushing as on real brushed metal.
                    aniso=np.clip(0.6 + 0.05 * patches, 0, 0.9), angle=np.full(shape, phi - math.pi / 2))
    else:
        raise ValueError(f"unknown stochastic kind {kind!r}")
    return _as_maps(full)


def maps_from_photo(photo: np.ndarray, height: int, width: int, *, mean_tilt_deg: float = 8.0) -> SvbrdfMaps:
    """Ground-truth maps (height x width) of a material made from a real texture photo.

    photo: (H,W,3) uint8 sRGB (a photo of bricks, gravel, grass...), scaled to cover the
    size and cropped. The photo's colour is the albedo; its smoothed brightness is the
    relief (bright = high, as on stones and mortar lit from above), scaled so that the
    normals tilt by `mean_tilt_deg` on average; darker hollows are rougher; a dielectric
    (F0 0.04), isotropic. Real textures repeat only roughly, so this tries the pipeline on
    surfaces whose repeats nobody designed (`bench/capture.py --materials photo:brick`)."""
    h0, w0 = photo.shape[:2]
    scale = max(height / h0, width / w0)
    size = (max(width, round(w0 * scale)), max(height, round(h0 * scale)))
    resized = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    top, left = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    srgb = resized[top:top + height, left:left + width].astype(np.float32) / 255
    albedo = 0.85 * np.asarray(srgb_to_linear(srgb), np.float32)
    brightness = cv2.GaussianBlur(srgb.mean(-1), (0, 0), 1.5)
    level = (brightness - brightness.mean()) / (brightness.std() + 1e-6)
    gy, gx = np.gradient(level)
    relief = math.tan(math.radians(mean_tilt_deg)) / max(float(np.hypot(gx, gy).mean()), 1e-6)
    shape = (height, width)
    return _as_maps(dict(albedo=albedo, spec=np.full(shape + (3,), 0.04), height=relief * level,
                         rough=0.45 - 0.12 * np.clip(level, -1.5, 1.5),
                         aniso=np.zeros(shape), angle=np.zeros(shape)))


def deform(maps: SvbrdfMaps, amplitude_px: float, rng: np.random.Generator,
           scale_px: float | None = None) -> SvbrdfMaps:
    """The material stretched unevenly (fabric pulled by hand, a sagging or
    bent board, lens distortion): every map resampled through a smooth random
    displacement of standard deviation `amplitude_px` per axis, with features
    of `scale_px` (default: a quarter of the width). Repeats then sit off the
    exact lattice by different amounts and are deformed within a tile. Normals
    are resampled as they are (the warp's own stretch, ~1 %, is ignored)."""
    h, w = maps.shape
    scale_px = scale_px or w / 4
    shift_x = amplitude_px * smooth_noise((h, w), scale_px, rng)
    shift_y = amplitude_px * smooth_noise((h, w), scale_px, rng)
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = [rows + shift_y, cols + shift_x]

    at = lambda a: _map_channels(a, coords, "nearest").astype(np.float32)
    normal = at(maps.normal)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return SvbrdfMaps(albedo=at(maps.albedo), specular=at(maps.specular), normal=normal,
                      roughness=at(maps.roughness), anisotropy=at(maps.anisotropy),
                      angle=resample_axes(maps.angle, at).astype(np.float32))


def _map_channels(a: np.ndarray, coords, mode: str) -> np.ndarray:
    """Bilinear samples of (H,W) or (H,W,C) `a` at coords [rows, cols] (scipy mode)."""
    if a.ndim == 2:
        return ndimage.map_coordinates(a, coords, order=1, mode=mode)
    return np.stack([ndimage.map_coordinates(a[..., k], coords, order=1, mode=mode)
                     for k in range(a.shape[-1])], axis=-1)


def _as_maps(d: dict) -> SvbrdfMaps:
    normal = d["normal"] if "normal" in d else normals_from_height(d["height"])
    f = lambda a: np.ascontiguousarray(a, dtype=np.float32)
    return SvbrdfMaps(albedo=f(np.clip(d["albedo"], 0, 1)), specular=f(np.clip(d["spec"], 0, 1)),
                      normal=f(normal), roughness=f(np.clip(d["rough"], 0.02, 1)),
                      anisotropy=f(d["aniso"]), angle=f(d["angle"]))


def render_photos(maps: SvbrdfMaps, *, fov_deg: float = 65.0, centre=None,
                  flash_power: float = 1.6, ambient: float = 0.7, window=(0.0, 0.0),
                  flash_offset: float = 0.0):
    """Linear flash and guide photos (H,W,3), float32, unclipped.

    centre: the camera's foot on the plane (x, y) in pixels, where a co-located
    flash's highlight is; default slightly off-centre. flash_offset: the flash sits
    this fraction of the camera's height beside the lens, along +x (a phone's LED:
    1 cm at 30 cm is 0.033), instead of at it (the shading model's assumption).
    """
    h, w = maps.shape
    if centre is None:
        centre = (0.53 * w, 0.46 * h)
    d = camera_distance(w, fov_deg)
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                                torch.arange(w, dtype=torch.float32), indexing="ij")
    dirs, fall = flash_directions(cols, rows, centre, d)
    t = maps.to_torch()
    with torch.no_grad():
        if flash_offset:
            camera = (centre[0], centre[1], d)
            flash = flash_power * render_point_light(t, cols, rows, camera, (centre[0] + flash_offset * d, centre[1], d))
        else:
            flash = flash_power * render_flash(t, dirs, fall)
        guide = ambient * render_guide(t, window)
    return flash.numpy(), guide.numpy(), centre


def _corner_radius2(height: int, width: int) -> np.ndarray:
    """(H,W) squared distance from the image centre, 1 in the corners."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return (((x - (width - 1) / 2) ** 2 + (y - (height - 1) / 2) ** 2)
            / (((width - 1) / 2) ** 2 + ((height - 1) / 2) ** 2)).astype(np.float32)


def degrade(linear: np.ndarray, *, noise: float, jpeg_quality: int | None,
            quantise: bool, rng: np.random.Generator, tone_contrast: float = 0.0) -> np.ndarray:
    """Camera pipeline: clip, sRGB encode, tone curve, noise (std in sRGB units), 8-bit, JPEG.

    tone_contrast: a phone's extra S-shaped tone curve over the sRGB encoding,
    (1 - k) x + k (3x^2 - 2x^3): shadows darker, highlights compressed (0 = plain sRGB)."""
    srgb = np.asarray(linear_to_srgb(np.clip(linear, 0, 1)), dtype=np.float32)
    if tone_contrast:
        srgb = (1 - tone_contrast) * srgb + tone_contrast * srgb * srgb * (3 - 2 * srgb)
    if noise > 0:
        srgb = srgb + rng.normal(0, noise, srgb.shape).astype(np.float32)
    if not quantise:
        return np.clip(srgb, 0, 1)
    out = np.clip(np.round(srgb * 255), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        out = jpeg_roundtrip(out, jpeg_quality)
    return out


def uneven_light(height: int, width: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    """(H,W) float32 ambient light of a no-flash photo lit from one side (a
    window): brightness changes by `strength` (e.g. 0.6 = from 0.7 to 1.3)
    across the photo in a random direction, with a little curvature."""
    angle = rng.uniform(0, 2 * math.pi)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u = ((x - width / 2) * math.cos(angle) + (y - height / 2) * math.sin(angle)) / math.hypot(width, height)
    light = 1 + strength * (u + 0.5 * u * u)  # u in about [-0.5, 0.5]
    return (light / light.mean()).astype(np.float32)


def misalignment_homography(width: int, height: int, pixels: float, rng, tilt_deg: float = 0.0,
                            fov_deg: float = 65.0, zoom: float = 0.0) -> np.ndarray:
    """A small hand-held motion: shift, rotation and scale moving points by ~`pixels`,
    the camera tilted by `tilt_deg` about a random axis in the plane of the photo
    (a perspective change: one side of the photo grows as the other shrinks), and
    the guide magnified by 1 + `zoom` about the centre (the camera moved closer)."""
    if pixels <= 0 and tilt_deg <= 0 and zoom == 0:
        return np.eye(3)
    ang = rng.uniform(-1, 1) * pixels / max(width, height)
    s = (1 + zoom) * (1 + rng.uniform(-1, 1) * 0.5 * pixels / max(width, height))
    tx, ty = rng.uniform(-pixels, pixels, 2)
    cx, cy = width / 2, height / 2
    rot = np.array([[s * math.cos(ang), -s * math.sin(ang), 0], [s * math.sin(ang), s * math.cos(ang), 0], [0, 0, 1]])
    to_c = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    back = np.array([[1, 0, cx + tx], [0, 1, cy + ty], [0, 0, 1]])
    motion = back @ rot @ to_c
    if tilt_deg > 0:
        axis = rng.uniform(0, 2 * math.pi)
        slope = math.tan(math.radians(tilt_deg)) / camera_distance(width, fov_deg)
        tilt = np.array([[1, 0, 0], [0, 1, 0], [slope * math.cos(axis), slope * math.sin(axis), 1]])
        motion = motion @ np.linalg.inv(to_c) @ tilt @ to_c
    return motion


def make_capture(kind: str = "tiles", *, height: int = 768, width: int = 1024, period: int = 128,
                 fov_deg: float = 65.0, variation: float = 0.0, noise: float = 0.0,
                 jpeg_quality: int | None = None, misalignment_px: float = 0.0,
                 quantise: bool = True, seed: int = 0, centre=None,
                 rotation_deg: float = 0.0, deformation_px: float = 0.0,
                 guide_gradient: float = 0.0, guide_window: float = 0.0,
                 misalignment_tilt_deg: float = 0.0, misalignment_zoom: float = 0.0,
                 flash_ambient: float = 0.0, vignetting: float = 0.0,
                 flash_profile: float = 0.0, tone_contrast: float = 0.0, flash_offset: float = 0.0,
                 truth: SvbrdfMaps | None = None) -> SyntheticCapture:
    """One synthetic two-shot capture of a material kind.

    kind: one of PERIODIC_KINDS or STOCHASTIC_KINDS. The guide is moved by a
    small homography when misalignment_px > 0 (flash stays the reference).
    guide_gradient: the guide's light changes across the photo (uneven_light);
    guide_window: the guide is also lit from one side, in a random direction,
    with this strength (shading.render_guide), so its relief shows.
    misalignment_tilt_deg: the camera also tilted between the shots.
    misalignment_zoom: the guide also magnified by this fraction (0.007: the
    camera 2 mm closer at 30 cm).
    flash_ambient: the room light also lights the flash photo, adding the
    guide's light at this fraction of the flash photo's mean (a flash photo
    taken in a lit room; 0 = the flash alone).
    vignetting: the lens darkens both photos towards the corners, by
    1 - vignetting * r^2 (r = 1 in the corners, about the image centre);
    flash_profile: the flash's own beam also falls off, by 1 - flash_profile * r^2,
    in the flash photo (a phone's LED lights the corners less than a point light).
    Neither has the form the pipeline fits (a power of the cosine off the axis).
    tone_contrast: both photos go through a phone's S-shaped tone curve on top of
    the sRGB encoding (`degrade`), which the pipeline takes for plain sRGB.
    flash_offset: the flash beside the lens (`render_photos`), not at it.
    truth: maps of the photo's size to render instead of a made-up kind
    (`maps_from_photo`); `kind` then only names them.
    """
    rng = np.random.default_rng(seed + 1000)
    if truth is not None:
        if truth.shape != (height, width):
            raise ValueError(f"truth maps are {truth.shape}, the photos {(height, width)}")
        lattice = None
    elif kind in PERIODIC_KINDS:
        truth = make_periodic_maps(height, width, kind=kind, period=period, variation=variation,
                                   rotation_deg=rotation_deg, seed=seed, offset=(int(rng.integers(period)), int(rng.integers(period))))
        if deformation_px > 0:
            truth = deform(truth, deformation_px, np.random.default_rng(seed + 2000))
        lattice = period
    elif kind in STOCHASTIC_KINDS:
        truth = make_stochastic_maps(height, width, kind=kind, seed=seed)
        lattice = None
    else:
        raise ValueError(f"unknown material kind {kind!r}")
    window = (0.0, 0.0)
    if guide_window > 0:
        turn = np.random.default_rng(seed + 4000).uniform(0, 2 * math.pi)
        window = (guide_window * math.cos(turn), guide_window * math.sin(turn))
    flash_lin, guide_lin, centre = render_photos(truth, fov_deg=fov_deg, centre=centre, window=window,
                                                 flash_offset=flash_offset)
    if guide_gradient > 0:
        guide_lin = guide_lin * uneven_light(height, width, guide_gradient, np.random.default_rng(seed + 3000))[..., None]
    if flash_ambient > 0:
        # Same room light in both shots, before the camera moves for the guide.
        flash_lin = flash_lin + flash_ambient * float(flash_lin.mean()) / float(guide_lin.mean()) * guide_lin
    homography = misalignment_homography(width, height, misalignment_px, rng, misalignment_tilt_deg, fov_deg,
                                         misalignment_zoom)
    if misalignment_px > 0 or misalignment_tilt_deg > 0 or misalignment_zoom != 0:
        # guide(H x) = scene(x) => warp the scene-aligned guide by H.
        guide_lin = cv2.warpPerspective(guide_lin, homography, (width, height),
                                        flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    if vignetting > 0 or flash_profile > 0:
        r2 = _corner_radius2(height, width)
        flash_lin = flash_lin * ((1 - vignetting * r2) * (1 - flash_profile * r2))[..., None]
        guide_lin = guide_lin * (1 - vignetting * r2)[..., None]  # the lens, after the camera moved
    flash = degrade(flash_lin, noise=noise, jpeg_quality=jpeg_quality, quantise=quantise, rng=rng,
                    tone_contrast=tone_contrast)
    guide = degrade(guide_lin, noise=noise, jpeg_quality=jpeg_quality, quantise=quantise, rng=rng,
                    tone_contrast=tone_contrast)
    return SyntheticCapture(flash=flash, guide=guide, truth=truth, kind=kind, period=lattice,
                            centre=tuple(centre), fov_deg=fov_deg, guide_homography=homography)


# XYZ (D65) -> linear sRGB. As a DNG's ColorMatrix1 (XYZ -> camera) it makes the camera's
# native colours linear sRGB, so a developed file can be compared with what was written.
_XYZ_TO_LINEAR_SRGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                                [-0.9692660, 1.8760108, 0.0415560],
                                [0.0556434, -0.2040259, 1.0572252]])


def _rationals(values, denominator=10000) -> list[int]:
    return [v for value in np.ravel(values) for v in (int(round(value * denominator)), denominator)]


def lens_shading(height: int, width: int, strength: float, points=(13, 17)):
    """A phone lens's shading, stronger in red than in blue: ((H,W,3) fall-off in (0,1],
    (points_v, points_h, 3) correcting gains at a grid over the image, as a phone's DNG
    stores them). Fall-off 1 - k r^2 per channel, r = 1 in the corners, k = strength *
    (1.2, 1.0, 0.8); grid point (i, j) sits at relative position (i / (v-1), j / (h-1))."""
    k = strength * np.array([1.2, 1.0, 0.8])

    def fall_off(v, h):  # relative positions in [0, 1]
        r2 = ((v - 0.5) ** 2 + (h - 0.5) ** 2) / 0.5
        return 1 - k * r2[..., None]

    rows = (np.arange(height) + 0.5) / height
    cols = (np.arange(width) + 0.5) / width
    v, h = np.linspace(0, 1, points[0]), np.linspace(0, 1, points[1])
    return fall_off(*np.meshgrid(rows, cols, indexing="ij")), 1 / fall_off(*np.meshgrid(v, h, indexing="ij"))


def _gain_map_opcodes(gains: np.ndarray, height: int, width: int) -> bytes:
    """OpcodeList2 holding one GainMap per position of the RGGB pattern (as Android writes)."""
    import struct

    points_v, points_h, _ = gains.shape
    opcodes = []
    for (top, left), channel in (((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 2)):
        parameters = struct.pack(">10I", top, left, height, width, 0, 1, 2, 2, points_v, points_h)
        parameters += struct.pack(">4dI", 1 / (points_v - 1), 1 / (points_h - 1), 0.0, 0.0, 1)
        parameters += gains[..., channel].astype(">f4").tobytes()
        opcodes.append(struct.pack(">I4sII", 9, bytes((1, 3, 0, 0)), 0, len(parameters)) + parameters)
    return struct.pack(">I", len(opcodes)) + b"".join(opcodes)


def lens_distortion(linear: np.ndarray, strength: float) -> np.ndarray:
    """A phone lens's radial distortion: the (H,W,C) image as the lens draws it on the sensor.

    Its correction (`_warp_rectilinear_opcodes`) samples the stored image at
    c + R d (1 + strength |d|^2) for a corrected pixel at c + R d (c the image centre, R its
    distance to a corner: the DNG's terms), so strength < 0 is barrel distortion (a corner's
    content drawn |strength| nearer the centre). The stored pixel q shows the scene at the p
    that solves that for q."""
    height, width = linear.shape[:2]
    cx, cy = width / 2, height / 2  # the SDK's centre: lerp(left, right, 0.5)
    radius = math.hypot(cx, cy)
    qx = (np.arange(width) - cx)[None, :] / radius
    qy = (np.arange(height) - cy)[:, None] / radius
    ratio = np.ones((height, width))
    for _ in range(30):  # fixed point of |p| = |q| / (1 + strength |p|^2): converges for small strength
        ratio = 1 / (1 + strength * np.minimum((qx * qx + qy * qy) * ratio * ratio, 1.0))
    map_x = (cx + radius * qx * ratio).astype(np.float32)
    map_y = (cy + radius * qy * ratio).astype(np.float32)
    stored = cv2.remap(np.asarray(linear, np.float32), map_x, map_y, cv2.INTER_CUBIC,
                       borderMode=cv2.BORDER_REFLECT)
    return stored.reshape(linear.shape)


def _warp_rectilinear_opcodes(strength: float) -> bytes:
    """OpcodeList3 holding the (optional) WarpRectilinear that undoes `lens_distortion`."""
    import struct

    parameters = struct.pack(">I6d2d", 1, 1.0, strength, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5)
    opcode = struct.pack(">I4sII", 1, bytes((1, 3, 0, 0)), 1, len(parameters)) + parameters
    return struct.pack(">I", 1) + opcode


def _vignette_radial_opcode(strength: float) -> bytes:
    """A FixVignetteRadial opcode (DNG 1.3, opcode 3) whose gain 1 + strength r^2 (r = 1 in the
    farthest corner, optical centre in the middle) undoes `vignette_fall_off`, as Adobe's DNG
    Converter stores a camera lens's vignetting correction in OpcodeList3."""
    import struct

    parameters = struct.pack(">7d", strength, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5)
    return struct.pack(">I4sII", 3, bytes((1, 3, 0, 0)), 1, len(parameters)) + parameters


def vignette_fall_off(height: int, width: int, strength: float) -> np.ndarray:
    """(H,W) a lens's vignetting, 1 / (1 + strength r^2) at pixel centres, r = 1 in the corners."""
    rows = (np.arange(height) + 0.5 - height / 2)[:, None]
    cols = (np.arange(width) + 0.5 - width / 2)[None, :]
    return 1 / (1 + strength * (rows * rows + cols * cols) / ((height / 2) ** 2 + (width / 2) ** 2))


def dng_photo(linear: np.ndarray, *, bayer: bool = True, orientation: int = 1, white: int = 4095,
              black: int = 64, neutral=(1.0, 1.0, 1.0), focal_35mm: int | None = None,
              shading: float = 0.0, distortion: float = 0.0, distorted: bool = False,
              vignette: float = 0.0, crop: tuple[int, int, int, int] | None = None) -> bytes:
    """A phone-style DNG file of (H,W,3) linear RGB in [0,1] (1 = the sensor's white level).

    bayer: an RGGB colour filter array of 16-bit samples, as Android phones write;
    else 3-sample LinearRaw (demosaiced), as Apple ProRAW. neutral: the as-shot white
    balance (the camera's response to white); the values are stored multiplied by it.
    focal_35mm: EXIF FocalLengthIn35mmFilm, written in the main directory.
    shading: the lens's shading (`lens_shading`) darkens the stored values, and its
    correction is stored as GainMap opcodes (Bayer only), as phones do. distortion: the
    lens's radial distortion (`lens_distortion`) is in the stored pixels, its correction
    stored as a WarpRectilinear opcode; distorted: `linear` holds it already (as drawn on
    the sensor, noise added after), only the correction is stored. vignette: the lens's
    vignetting (`vignette_fall_off`) darkens the stored values, its correction stored as a
    FixVignetteRadial opcode ahead of the warp, as Adobe's DNG Converter writes it for a lens
    it knows. crop: (top, left, height, width) written as DefaultCropOrigin/DefaultCropSize:
    the part of the stored image meant to be shown (a raw converter's margins cut)."""
    import struct

    import tifffile  # writes the TIFF structure; the DNG tags are ours

    if shading and not bayer:
        raise ValueError("lens shading is written for Bayer DNGs only")
    height, width, _ = linear.shape
    list_3 = []  # OpcodeList3, in the order a developer applies it
    if vignette:
        list_3.append(_vignette_radial_opcode(vignette))
    if distortion:
        list_3.append(_warp_rectilinear_opcodes(distortion)[4:])  # the opcode, without its list's count
        linear = linear if distorted else lens_distortion(linear, distortion)
    stored = linear * np.asarray(neutral)
    if vignette:  # in the sensor's geometry: the lens darkens what it has drawn there
        stored = stored * vignette_fall_off(height, width, vignette)[..., None]
    if shading:
        fall_off, gains = lens_shading(height, width, shading)
        stored = stored * fall_off
    stored = black + np.clip(stored, 0, 1) * (white - black)
    if bayer:
        mosaic = np.empty((height, width))
        mosaic[0::2, 0::2] = stored[0::2, 0::2, 0]
        mosaic[0::2, 1::2] = stored[0::2, 1::2, 1]
        mosaic[1::2, 0::2] = stored[1::2, 0::2, 1]
        mosaic[1::2, 1::2] = stored[1::2, 1::2, 2]
        data, photometric, levels = np.rint(mosaic).astype(np.uint16), 32803, 1
    else:
        data, photometric, levels = np.rint(stored).astype(np.uint16), 34892, 3
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "Test Phone", True),  # UniqueCameraModel
        (50714, "I", levels, (black,) * levels, True),  # BlackLevel
        (50717, "I", levels, (white,) * levels, True),  # WhiteLevel
        (50721, "2i", 9, _rationals(_XYZ_TO_LINEAR_SRGB), True),  # ColorMatrix1
        (50778, "H", 1, (21,), True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, _rationals(neutral), True),  # AsShotNeutral
        (271, "s", 0, "Test", True),
        (272, "s", 0, "Phone", True),
        (274, "H", 1, (orientation,), True),
    ]
    if bayer:
        tags += [(33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True)]  # CFA: RGGB
    if focal_35mm:
        tags.append((41989, "H", 1, (focal_35mm,), True))
    if shading:
        opcodes = _gain_map_opcodes(gains, height, width)
        tags.append((51009, 7, len(opcodes), opcodes, True))  # OpcodeList2, UNDEFINED bytes
    if list_3:
        opcodes = struct.pack(">I", len(list_3)) + b"".join(list_3)
        tags.append((51022, 7, len(opcodes), opcodes, True))  # OpcodeList3
    if crop:
        top, left, crop_height, crop_width = crop
        tags += [(50719, "I", 2, (left, top), True), (50720, "I", 2, (crop_width, crop_height), True)]
    out = io.BytesIO()
    tifffile.imwrite(out, data, photometric=photometric, extratags=tags, subfiletype=0,
                     planarconfig=None if bayer else "contig")
    return out.getvalue()


def raw_photos(capture: SyntheticCapture, *, noise: float = 0.0, shading: float = 0.0,
               distortion: float = 0.0, seed: int = 0) -> tuple[bytes, bytes]:
    """The pair as a phone's RAW files would hold it: (flash, guide) Bayer DNGs, 12-bit.

    capture: made with `quantise=False` (float sRGB, no JPEG, no tone curve, `noise=0`);
    its photos are taken back to linear light, the flash's exposure as rendered (its
    highlight clips where the render's did), the guide's exposed to a mean of 0.18.
    noise: the sensor's shot noise, std noise * sqrt(value) in white-level units
    (0.01: 1 % at white, 0.45 % at 0.2), plus a read noise of noise / 10. Each shot
    gets its own white balance (the flash's daylight, the room's warmer light), which
    the developer undoes. shading: the lens's shading (`lens_shading`), stored with
    its correction, as phones do: the noise is that of the darker corners. distortion:
    the lens's radial distortion (`lens_distortion`), stored with its correction."""
    if capture.flash.dtype != np.float32:
        raise ValueError("raw_photos needs a capture made with quantise=False")
    rng = np.random.default_rng(seed)
    files = []
    for photo, exposure, neutral in ((capture.flash, None, (0.55, 1.0, 0.65)),
                                     (capture.guide, 0.18, (0.4, 1.0, 0.8))):
        linear = np.asarray(srgb_to_linear(photo), np.float64)
        if exposure is not None:
            linear = linear * (exposure / linear.mean())
        if distortion:  # the lens draws the scene before the sensor adds its noise
            linear = lens_distortion(linear, distortion)
        fall_off = lens_shading(*linear.shape[:2], shading)[0] if shading else 1.0
        if noise > 0:  # on what reaches the sensor: the shaded light
            std = noise * np.sqrt(np.clip(linear * fall_off, 0, 1)) + noise / 10
            linear = linear + rng.normal(0, 1, linear.shape) * std / fall_off
        files.append(dng_photo(linear, neutral=neutral, shading=shading, distortion=distortion, distorted=True))
    return files[0], files[1]

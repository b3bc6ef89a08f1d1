"""Register the guide photo onto the flash photo (hand-held shots).

Both photos are compared through a local-contrast image (each pixel minus its
blurred surroundings, divided by the local spread), which removes the flash's
fall-off and most of its highlight, so features look alike in both shots.
The motion is a rotation, shift and tilt with no zoom unless a clear change of
scale calls for a full homography: the two shots light the relief
differently, and a free homography turns that into a false zoom
(MIN_SCALE_CHANGE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import least_squares

from imaging.color import luminance

from .errors import CaptureInputError

# Below this local-contrast correlation after alignment the photos are taken
# to show different scenes (unrelated synthetic pairs score < 0.03, brushed
# metal, whose flash and guide look least alike, ~0.16).
MIN_OVERLAP_CORRELATION = 0.08
# The flash lights each bump from the highlight's side, the guide's light from
# above or from a window, so block shifts between the shots carry a bias that
# points towards or away from the highlight and grows with the distance from
# it: a free homography takes it for a zoom (leather, 3 px hand-held motion:
# 1.4-2.2 px of false distortion, where no correction at all leaves 0.2-0.5
# px). A shift of the whole guide is harmless (on a stationary surface the
# matches all move with it); a rotation or a tilt of the camera (one side of
# the photo growing as the other shrinks) cannot be mimicked by that radial
# bias. So the motion is fitted as rotation + shift + tilt, with a zoom fitted
# alongside and left out; a change of scale is taken only when it passes
# this, beyond what the bias makes (0.3-0.6 %).
MIN_SCALE_CHANGE = 0.01
# A tilt takes 2 more parameters and a nuisance zoom one more: with fewer
# matched blocks than this (small photos) they would follow noise, so the
# motion stays rigid; the feature start (ORB, biased by the relief) is rigid too.
MIN_TILT_POINTS = 12


@dataclass
class Alignment:
    """homography: 3x3 mapping flash pixel (x, y, 1) to guide pixel; error_px:
    median residual of the block shifts against the fitted homography (NaN
    when too few blocks matched); inliers: feature matches consistent with it;
    correlation: local-contrast NCC after warping."""

    homography: np.ndarray
    error_px: float
    inliers: int
    correlation: float


def local_contrast(gray: np.ndarray, sigma: float = 12.0) -> np.ndarray:
    """(H,W) float32 -> zero-mean, unit-local-spread (H,W) float32."""
    g = gray.astype(np.float32)
    mean = cv2.GaussianBlur(g, (0, 0), sigma)
    detail = g - mean
    spread = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), sigma)) + 1e-4
    return detail / spread


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 40 + 128, 0, 255).astype(np.uint8)


def _ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    a = a[mask] - a[mask].mean()
    b = b[mask] - b[mask].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))


def scale_at(hom: np.ndarray, point) -> float:
    """The homography's local change of scale at point (x, y): the square root
    of its Jacobian's determinant there."""
    x, y = float(point[0]), float(point[1])
    denom = hom[2, 0] * x + hom[2, 1] * y + hom[2, 2]
    mapped = (hom[:2, :2] @ (x, y) + hom[:2, 2]) / denom
    jacobian = (hom[:2, :2] - np.outer(mapped, hom[2, :2])) / denom
    return math.sqrt(abs(np.linalg.det(jacobian)))


def _scale_change(hom: np.ndarray, size) -> float:
    """|s - 1| for s the homography's change of scale at the centre of a
    photo of size (h, w). Not at pixel (0, 0): a tilt of the camera changes
    the scale across the photo, by ~1 % from the centre to a corner for 1
    degree at a 65 degree field of view, which would read as a zoom there."""
    h, w = size
    return abs(scale_at(hom, ((w - 1) / 2, (h - 1) / 2)) - 1)


def _fit_motion(src: np.ndarray, dst: np.ndarray, threshold: float, projective: bool = False,
                tilt: bool = True):
    """Robust 3x3 motion mapping src (N,2) onto dst (N,2): rotation + shift +
    tilt (see MIN_SCALE_CHANGE), or a full homography when asked (`projective`:
    the motion it refines already changes the scale) or when a clear change
    of scale calls for it. The tilt is only fitted when asked (`tilt`) and from
    at least MIN_TILT_POINTS inliers, else the motion is rigid (rotation +
    shift). Returns (homography or None, inlier mask (N,) bool)."""
    src, dst = np.float64(src).reshape(-1, 2), np.float64(dst).reshape(-1, 2)
    similarity, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=threshold)
    if similarity is None or mask.sum() < 3:
        return None, np.zeros(len(src), bool)
    inliers = mask.ravel() > 0
    scale = math.sqrt(abs(np.linalg.det(similarity[:, :2])))
    if projective or abs(scale - 1) > MIN_SCALE_CHANGE:
        hom, hmask = cv2.findHomography(src, dst, cv2.RANSAC, threshold)
        if hom is not None:
            return hom, hmask.ravel() > 0
    if not tilt or inliers.sum() < MIN_TILT_POINTS:
        # Rigid: least-squares rotation and shift of the inliers (Kabsch).
        a, b = src[inliers], dst[inliers]
        ca, cb = a.mean(0), b.mean(0)
        u, _, vt = np.linalg.svd((a - ca).T @ (b - cb))
        rotation = (u @ np.diag([1.0, np.sign(np.linalg.det(u @ vt))]) @ vt).T
        rigid = np.eye(3)
        rigid[:2, :2] = rotation
        rigid[:2, 2] = cb - rotation @ ca
        return rigid, inliers
    # Rotation, shift and tilt, with a zoom about the points' centre fitted alongside
    # and then left out (the bias lives there), robust to outlying blocks.
    centre = src[inliers].mean(0)
    angle0 = math.atan2(similarity[1, 0], similarity[0, 0])
    shift0 = similarity @ np.array([centre[0], centre[1], 1.0]) - centre

    def motion(q, with_zoom):
        angle, tx, ty, p1, p2, zoom = q
        c, s_ = math.cos(angle), math.sin(angle)
        z = math.exp(zoom) if with_zoom else 1.0
        to_centre = np.array([[1, 0, -centre[0]], [0, 1, -centre[1]], [0, 0, 1.0]])
        perspective = np.array([[z, 0, 0], [0, z, 0], [p1, p2, 1.0]])
        back = np.array([[c, -s_, centre[0] + tx], [s_, c, centre[1] + ty], [0, 0, 1.0]])
        return back @ perspective @ to_centre

    def residual(q):
        return (cv2.perspectiveTransform(src[None], motion(q, True))[0] - dst).ravel()

    fit = least_squares(residual, [angle0, shift0[0], shift0[1], 0.0, 0.0, math.log(scale)],
                        x_scale=[1e-3, 1, 1, 1e-5, 1e-5, 1e-3], loss="soft_l1", f_scale=threshold)
    return motion(fit.x, False), inliers


def _feature_homography(flash_c: np.ndarray, guide_c: np.ndarray):
    orb = cv2.ORB_create(nfeatures=4000, fastThreshold=10)
    kf, df = orb.detectAndCompute(_to_u8(flash_c), None)
    kg, dg = orb.detectAndCompute(_to_u8(guide_c), None)
    if df is None or dg is None or len(kf) < 8 or len(kg) < 8:
        return None, np.array([])
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(df, dg, k=2)
    # Ratio test; repeating textures make many matches ambiguous, which is fine:
    # the unambiguous ones suffice.
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 12:
        return None, np.array([])
    src = np.float32([kf[m.queryIdx].pt for m in good])
    dst = np.float32([kg[m.trainIdx].pt for m in good])
    hom, inl = _fit_motion(src, dst, 3.0, tilt=False)
    if hom is None or inl.sum() < 12:
        return None, np.array([])
    return hom, np.stack([src[inl], dst[inl]], axis=1)


def _reprojection_errors(hom: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    if len(pairs) == 0:
        return np.array([])
    proj = cv2.perspectiveTransform(pairs[:, 0][None].astype(np.float64), hom)[0]
    return np.linalg.norm(proj - pairs[:, 1], axis=1)


def _block_phase_refine(flash_c: np.ndarray, guide_c: np.ndarray, hom: np.ndarray, block: int = 128):
    """One refinement of `hom` from per-block phase correlation.

    Phase correlation whitens the spectrum, so it follows shared structure even
    where flash and guide shade it differently. Returns (homography, median
    residual of the block shifts in px)."""
    h, w = flash_c.shape
    warped = warp_guide(guide_c, hom, (h, w))
    window = cv2.createHanningWindow((block, block), cv2.CV_32F)
    src, dst = [], []
    for y0 in range(block // 4, h - block, block // 2):
        for x0 in range(block // 4, w - block, block // 2):
            a = np.ascontiguousarray(flash_c[y0:y0 + block, x0:x0 + block])
            b = np.ascontiguousarray(warped[y0:y0 + block, x0:x0 + block])
            (dx, dy), response = cv2.phaseCorrelate(a, b, window)
            if response > 0.05 and abs(dx) < block / 4 and abs(dy) < block / 4:
                c = (x0 + block / 2, y0 + block / 2)
                src.append(c)
                dst.append((c[0] + dx, c[1] + dy))
    if len(src) < 6:
        return hom, float("nan")
    src = np.float64(src)
    dst = np.float64(dst)
    # warped(x) = guide(H x) and warped(x + d) ~ flash(x) => flash x -> guide H(x + d)
    correction, inliers = _fit_motion(src, dst, 1.0, projective=_scale_change(hom, (h, w)) > MIN_SCALE_CHANGE)
    if correction is None:
        return hom, float("nan")
    resid = np.linalg.norm(cv2.perspectiveTransform(src[None], correction)[0] - dst, axis=1)
    return hom @ correction, float(np.median(resid[inliers]))


def align_guide(flash_gray: np.ndarray, guide_gray: np.ndarray) -> Alignment:
    """Homography from flash to guide pixels.

    flash_gray, guide_gray: (H,W) float32 linear luminance, same size.
    Two starting points, no motion and feature matches + RANSAC (repeating
    textures can fool features by a whole period), are each refined by block
    phase correlation; the one whose warped guide correlates best wins.
    Shading differs between the shots (the flash shows bumps lit from the
    highlight's side), which biases the block shifts radially about the
    highlight: the motion is fitted without zoom unless its change of scale
    passes MIN_SCALE_CHANGE (see there), and a motion under 2 px at the
    corners is treated as none.
    Raises CaptureInputError when the photos do not overlap.
    """
    h, w = flash_gray.shape
    cv2.setRNGSeed(0)  # RANSAC draws from OpenCV's global generator: the same pair, the same answer
    flash_c = local_contrast(flash_gray)
    guide_c = local_contrast(guide_gray)
    margin = np.zeros((h, w), bool)
    margin[h // 10: -h // 10, w // 10: -w // 10] = True
    feature_hom, pairs = _feature_homography(flash_c, guide_c)
    starts = [np.eye(3)] + ([feature_hom] if feature_hom is not None else [])
    best = None
    for start in starts:
        hom = start
        for _ in range(2):
            hom, resid = _block_phase_refine(flash_c, guide_c, hom)
        if _scale_change(hom, (h, w)) <= MIN_SCALE_CHANGE:
            # A start's false zoom (ORB on relief) that the refinement took back under the
            # threshold only in part: the zoom is left out of the motion, which is refined
            # once more. A zoomed candidate would otherwise win on correlation by fitting
            # the shading bias.
            ys, xs = np.mgrid[0:h - 1:5j, 0:w - 1:5j]
            points = np.stack([xs.ravel(), ys.ravel()], -1)
            hom, _ = _fit_motion(points, cv2.perspectiveTransform(points[None], hom)[0], 100.0)
            hom, resid = _block_phase_refine(flash_c, guide_c, hom)
        corr = _ncc(flash_c, warp_guide(guide_c, hom, (h, w)), margin)
        if best is None or corr > best[1]:
            best = (hom, corr, resid)
    hom, corr, resid = best
    corners = np.float64([[[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]]])
    motion = np.abs(cv2.perspectiveTransform(corners, hom) - corners).max()
    if motion < 2.0:
        hom = np.eye(3)
        corr = _ncc(flash_c, guide_c, margin)
    if corr < MIN_OVERLAP_CORRELATION:
        raise CaptureInputError(
            "the flash and guide photos do not show the same surface (they could not be "
            f"aligned; overlap correlation {corr:.2f}). Take both photos of the same area "
            "without moving the camera much.")
    errors = _reprojection_errors(hom, pairs)
    inliers = int((errors < 3.0).sum())
    return Alignment(hom, resid, inliers, corr)


def warp_guide(guide: np.ndarray, homography: np.ndarray, size) -> np.ndarray:
    """Resample the guide into flash pixels: out(x) = guide(H x). guide (H,W[,C])."""
    h, w = size
    return cv2.warpPerspective(guide, homography, (w, h),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)


def even_illumination(guide: np.ndarray, *, grid: int = 64) -> tuple:
    """The guide with its smooth ambient-light gradient divided out.

    A no-flash photo is rarely lit evenly (a window on one side, a room lamp);
    the pipeline reads the guide's brightness as albedo (the gain between
    repeats), so a gradient would pose as albedo change. The material is
    stationary, so its log-luminance averaged over a few repeats is flat: a
    quadratic fitted to the log-luminance of the photo (area-averaged onto a
    `grid`-wide raster, least squares) is the light, and is divided out.

    guide: (H,W,3) float32 linear RGB. Returns (even guide (H,W,3) float32,
    light (H,W) float32 with mean 1).
    """
    h, w = guide.shape[:2]
    lum = np.maximum(np.asarray(luminance(guide), dtype=np.float32)[..., 0], 1e-5)
    gw = max(4, min(grid, w))
    gh = max(4, min(int(round(grid * h / w)), h))
    small = np.log(cv2.resize(lum, (gw, gh), interpolation=cv2.INTER_AREA))

    def basis(ys, xs):
        return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)

    sy, sx = np.mgrid[0:gh, 0:gw].astype(np.float64)
    design = basis((sy + 0.5) / gh - 0.5, (sx + 0.5) / gw - 0.5).reshape(-1, 6)
    coef, *_ = np.linalg.lstsq(design, small.reshape(-1).astype(np.float64), rcond=None)
    coef[0] = 0.0  # keep the overall exposure
    fy, fx = np.mgrid[0:h, 0:w].astype(np.float64)
    log_light = basis((fy + 0.5) / h - 0.5, (fx + 0.5) / w - 0.5) @ coef
    light = np.exp(log_light - log_light.mean()).astype(np.float32)
    return (guide / light[..., None]).astype(np.float32), light

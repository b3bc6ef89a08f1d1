"""DNG development: LibRaw (rawpy) without a tone curve, plus the phone's lens shading.

A DNG is developed linearly: the file's lens-shading gain maps (below), the
camera's white balance, the file's colour matrices to linear sRGB, the file's
white level at 1 (LibRaw's default would rescale by the brightest pixel found,
so two shots of one scene would differ in scale), highlights clipped there in
every channel, no brightening and no tone curve; then the exact sRGB encoding
in 16 bits. `imaging.io.read_image` hands it over like a 16-bit PNG whose
values are proportional to the light.

Lens shading: phones store their per-channel shading correction as GainMap
opcodes in OpcodeList2 (applied to the linearised CFA data; DNG 1.3+, Adobe's
SDK `dng_gain_map.cpp` is the reference for the interpolation). LibRaw
applies opcodes only when built with Adobe's SDK, which rawpy's wheel is not,
and an uncorrected phone photo is much darker and differently coloured in its
corners. GainMaps on Bayer data are applied here, in place, before LibRaw
develops; other opcodes are left out (`Development.skipped_opcodes`).

Lens distortion: Android's DngCreator (and Adobe's converter for lenses it knows)
leaves the lens's distortion in the pixels and stores its correction as a
WarpRectilinear opcode in OpcodeList3 (applied to the demosaiced image; SDK
`dng_lens_correction.cpp`). A capture needs straight geometry (the repeats of a
tile sit on a lattice), so the warp is applied here after LibRaw develops, plane by
plane (a three-plane warp also corrects lateral chromatic aberration; its planes
are taken as the output's R, G, B).

Vignetting: Adobe's DNG Converter stores a known lens's vignetting correction as a
FixVignetteRadial opcode in OpcodeList3 (a radial gain 1 + k0 r^2 + ... + k4 r^10;
SDK `dng_opcode_FixVignetteRadial`). OpcodeList3's warps and vignette gains are
applied in the file's order.

Default crop: a DNG's DefaultCropOrigin/DefaultCropSize name the part of the image
meant to be shown (raw converters keep a few pixels of margin for demosaicing);
LibRaw reads it without applying it. It is cut last, after OpcodeList3, as the SDK
does, and `size` reports it.
"""

from __future__ import annotations

import functools
import io
import math
import struct
from dataclasses import dataclass, field

import numpy as np

from imaging.errors import ImageFormatError

_OPCODE_LIST_2_TAG = 51009
_OPCODE_LIST_3_TAG = 51022
_GAIN_MAP_OPCODE = 9
_WARP_RECTILINEAR_OPCODE = 1
_FIX_VIGNETTE_RADIAL_OPCODE = 3
# An opcode the reader may skip when it does not know it (DNG spec, opcode flags bit 0).
_OPTIONAL_FLAG = 1


@dataclass
class Development:
    """What was done to a DNG besides the fixed steps of the module docstring."""

    gain_maps: int = 0  # GainMap opcodes applied
    warps: int = 0  # WarpRectilinear opcodes applied (lens distortion corrected)
    vignettes: int = 0  # FixVignetteRadial opcodes applied (lens vignetting corrected)
    crop: tuple[int, int, int, int] | None = None  # (top, left, height, width) of the default crop cut
    skipped_opcodes: list[str] = field(default_factory=list)  # e.g. "OpcodeList2 #4 (not optional)"


def _libraw_message(exc: Exception) -> str:
    message = exc.args[0] if exc.args else exc
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


def _open(data: bytes):
    """A rawpy.RawPy with the file's metadata read (nothing decoded yet); the caller closes it."""
    import rawpy  # LibRaw: loaded only when a DNG comes

    raw = rawpy.RawPy()
    try:
        raw.open_buffer(io.BytesIO(data))
    except rawpy.LibRawError as exc:
        raw.close()
        raise ImageFormatError(f"unreadable DNG file ({_libraw_message(exc)})") from exc
    return raw


def _default_crop(sizes) -> tuple[int, int, int, int] | None:
    """(top, left, height, width) of the file's default crop within LibRaw's developed image
    (its active area), or None when the file has none or it does not fit there."""
    height, width = int(sizes.crop_height), int(sizes.crop_width)
    top = int(sizes.crop_top_margin) - int(sizes.top_margin)  # LibRaw gives it in raw-image pixels
    left = int(sizes.crop_left_margin) - int(sizes.left_margin)
    if (height <= 0 or width <= 0 or top < 0 or left < 0
            or top + height > int(sizes.height) or left + width > int(sizes.width)):
        return None
    if (height, width) == (int(sizes.height), int(sizes.width)):
        return None  # the whole image
    return top, left, height, width


def size(data: bytes) -> tuple[int, int]:
    """(width, height) of the developed image, before orientation: LibRaw's margins cut,
    then the file's default crop."""
    raw = _open(data)
    try:
        sizes = raw.sizes
    finally:
        raw.close()
    crop = _default_crop(sizes)
    return (crop[3], crop[2]) if crop else (int(sizes.width), int(sizes.height))


@functools.lru_cache(maxsize=1)
def _linear_to_srgb_16bit() -> np.ndarray:
    """Lookup table: 16-bit linear value -> 16-bit sRGB-encoded value."""
    from imaging.color import linear_to_srgb

    encoded = np.asarray(linear_to_srgb(np.arange(65536, dtype=np.float64) / 65535))
    return np.rint(encoded * 65535).astype(np.uint16)


def develop(data: bytes) -> tuple[np.ndarray, Development]:
    """DNG pixels (H, W, 3) uint16 sRGB-encoded, as stored (orientation not applied)."""
    import rawpy

    development = Development()
    opcode_lists = _opcode_lists(data)
    raw = _open(data)
    try:
        raw.unpack()
        if raw.raw_type == rawpy.RawType.Flat:  # a colour filter array: its shading maps can be applied
            _apply_gain_maps(raw, opcode_lists.get(_OPCODE_LIST_2_TAG), development)
        linear = raw.postprocess(
            gamma=(1, 1), no_auto_bright=True, output_bps=16, use_camera_wb=True,
            output_color=rawpy.ColorSpace.sRGB, adjust_maximum_thr=0.0, user_flip=0,
        )
        crop = _default_crop(raw.sizes)
    except rawpy.LibRawError as exc:
        raise ImageFormatError(f"corrupt or unsupported DNG file ({_libraw_message(exc)})") from exc
    finally:
        raw.close()
    if linear.ndim != 3 or linear.shape[2] != 3 or linear.dtype != np.uint16:
        raise ImageFormatError(f"unsupported DNG variant (develops to {linear.shape} {linear.dtype})")
    linear = _apply_opcode_list_3(linear, opcode_lists.get(_OPCODE_LIST_3_TAG), development)
    if crop and crop[0] + crop[2] <= linear.shape[0] and crop[1] + crop[3] <= linear.shape[1]:
        top, left, height, width = crop
        linear = linear[top:top + height, left:left + width]
        development.crop = crop
    return _linear_to_srgb_16bit()[linear], development


def _opcode_lists(data: bytes) -> dict[int, bytes]:
    """OpcodeList2 and OpcodeList3 of the main raw image (the directory with NewSubFileType
    0), by tag; empty when the file holds none or they cannot be read."""
    import tifffile

    lists = {}
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            directories = list(tif.pages)
            for page in tif.pages:
                directories += list(getattr(page, "pages", None) or [])  # SubIFDs
            for page in directories:
                if int(page.tags.valueof(254, 0)) & 1:
                    continue  # a preview
                for tag_id in (_OPCODE_LIST_2_TAG, _OPCODE_LIST_3_TAG):
                    tag = page.tags.get(tag_id)
                    if tag is not None:
                        lists.setdefault(tag_id, bytes(tag.value))
    except (tifffile.TiffFileError, OSError, ValueError, KeyError, IndexError, struct.error):
        return {}  # LibRaw read the file; without readable opcodes it is developed as it is
    return lists


@dataclass
class GainMap:
    """One GainMap opcode: gains at a grid of points over an area of the raw image.

    top, left, bottom, right: the area, in raw-image pixels; plane, planes: the
    image planes it acts on; row_pitch, col_pitch: every n-th row/column of the
    area (2 on a Bayer image: one colour of the 2x2 pattern); points (v, h),
    spacing (v, h), origin (v, h): the grid in coordinates relative to the whole
    image (0..1); gains (points_v, points_h, map_planes) float32."""

    top: int
    left: int
    bottom: int
    right: int
    plane: int
    planes: int
    row_pitch: int
    col_pitch: int
    spacing: tuple[float, float]
    origin: tuple[float, float]
    gains: np.ndarray

    def gain_grid(self, rows: np.ndarray, cols: np.ndarray, height: int, width: int,
                  map_plane: int = 0) -> np.ndarray:
        """(len(rows), len(cols)) gains at those pixels of a (height, width) image: bilinear
        between the points, held beyond the first and last (as Adobe's SDK)."""
        grid = self.gains[..., min(map_plane, self.gains.shape[2] - 1)]
        r0, r1, fr = _grid_axis(rows, height, self.origin[0], self.spacing[0], grid.shape[0])
        c0, c1, fc = _grid_axis(cols, width, self.origin[1], self.spacing[1], grid.shape[1])
        upper = grid[np.ix_(r0, c0)] * (1 - fc) + grid[np.ix_(r0, c1)] * fc
        lower = grid[np.ix_(r1, c0)] * (1 - fc) + grid[np.ix_(r1, c1)] * fc
        return upper * (1 - fr[:, None]) + lower * fr[:, None]


def _grid_axis(positions: np.ndarray, length: int, origin: float, spacing: float, count: int):
    """Map-point indices below and above each pixel position, and the fraction between."""
    index = np.clip(((positions + 0.5) / length - origin) / spacing, 0, count - 1)
    low = np.floor(index).astype(int)
    return low, np.minimum(low + 1, count - 1), index - low


def parse_opcodes(blob: bytes) -> list[tuple[int, int, bytes]]:
    """(opcode id, flags, parameters) of each opcode in a DNG opcode list (big-endian)."""
    if len(blob) < 4:
        raise ValueError("opcode list too short")
    (count,) = struct.unpack_from(">I", blob, 0)
    position, opcodes = 4, []
    for _ in range(count):
        if position + 16 > len(blob):
            raise ValueError("opcode list truncated")
        opcode_id, _version, flags, length = struct.unpack_from(">I4sII", blob, position)
        position += 16
        if position + length > len(blob):
            raise ValueError("opcode list truncated")
        opcodes.append((opcode_id, flags, blob[position:position + length]))
        position += length
    return opcodes


def parse_gain_map(parameters: bytes) -> GainMap:
    """A GainMap opcode's parameters (DNG 1.3, opcode 9); ValueError when malformed."""
    if len(parameters) < 76:
        raise ValueError("GainMap parameters truncated")
    top, left, bottom, right, plane, planes, row_pitch, col_pitch, points_v, points_h = \
        struct.unpack_from(">10I", parameters, 0)
    spacing_v, spacing_h, origin_v, origin_h = struct.unpack_from(">4d", parameters, 40)
    (map_planes,) = struct.unpack_from(">I", parameters, 72)
    if points_v == 1:  # as the SDK: a single row or column of points covers everything
        spacing_v, origin_v = 1.0, 0.0
    if points_h == 1:
        spacing_h, origin_h = 1.0, 0.0
    count = points_v * points_h * map_planes
    if (min(points_v, points_h, map_planes, row_pitch, col_pitch) < 1 or spacing_v <= 0 or spacing_h <= 0
            or len(parameters) != 76 + 4 * count):
        raise ValueError("malformed GainMap")
    gains = np.frombuffer(parameters, ">f4", count, 76).astype(np.float32).reshape(points_v, points_h, map_planes)
    return GainMap(top, left, bottom, right, plane, planes, row_pitch, col_pitch,
                   (spacing_v, spacing_h), (origin_v, origin_h), gains)


def _parse_opcode_list(blob: bytes, list_name: str, kinds: dict, development: Development) -> list:
    """(opcode id, parsed parameters) of the opcodes in a list whose id is in `kinds`
    ({id: (name, parse)}), in the list's order; the others, malformed ones and an unreadable
    list are recorded in `development.skipped_opcodes`."""
    try:
        opcodes = parse_opcodes(blob)
    except ValueError:
        development.skipped_opcodes.append(f"{list_name} (unreadable)")
        return []
    parsed = []
    for number, (opcode_id, flags, parameters) in enumerate(opcodes, 1):
        if opcode_id not in kinds:
            kind = "optional" if flags & _OPTIONAL_FLAG else "not optional"
            development.skipped_opcodes.append(f"{list_name} #{number}: opcode {opcode_id} ({kind})")
            continue
        name, parse = kinds[opcode_id]
        try:
            parsed.append((opcode_id, parse(parameters)))
        except ValueError:
            development.skipped_opcodes.append(f"{list_name} #{number}: malformed {name}")
    return parsed


def _apply_gain_maps(raw, blob: bytes | None, development: Development) -> None:
    """Apply OpcodeList2's GainMaps to LibRaw's (single-plane, CFA) raw data in place."""
    if not blob:
        return
    opcodes = _parse_opcode_list(blob, "OpcodeList2", {_GAIN_MAP_OPCODE: ("GainMap", parse_gain_map)}, development)
    gain_maps = [gain_map for _, gain_map in opcodes if gain_map.plane == 0]  # a Bayer image has one plane
    if not gain_maps:
        return  # nothing to apply: the raw data is left as LibRaw read it
    # Stage 2 is the active area: LibRaw's visible raw image (a view of its buffer).
    visible = raw.raw_image_visible
    height, width = visible.shape
    black = np.asarray(raw.black_level_per_channel, np.float32)[raw.raw_colors_visible]
    scale = np.maximum(float(raw.white_level) - black, 1.0)
    values = (visible.astype(np.float32) - black) / scale  # linearised, 1 = white
    for gain_map in gain_maps:
        rows = np.arange(gain_map.top, min(gain_map.bottom, height), gain_map.row_pitch)
        cols = np.arange(gain_map.left, min(gain_map.right, width), gain_map.col_pitch)
        if len(rows) and len(cols):
            area = np.ix_(rows, cols)
            values[area] = np.minimum(values[area] * gain_map.gain_grid(rows, cols, height, width), 1.0)
            development.gain_maps += 1
    if development.gain_maps:
        visible[...] = np.clip(np.rint(black + values * scale), 0, 65535).astype(np.uint16)


@dataclass
class WarpRectilinear:
    """One WarpRectilinear opcode (DNG 1.3, opcode 1): for each corrected pixel, where to
    sample the stored image. coefficients (planes, 6): kr0..kr3 (radial: ratio kr0 + kr1 r^2 +
    kr2 r^4 + kr3 r^6) and kt0, kt1 (tangential); center (cx, cy): the optical centre as a
    fraction of the width and height; r = 1 at the image corner farthest from it."""

    coefficients: np.ndarray
    center: tuple[float, float]

    def source_positions(self, plane: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) float32 (height, width) positions in the stored image, as the SDK's
        `dng_filter_warp::GetSrcPixelPosition` (square pixels)."""
        # Python floats: a NumPy float64 scalar would promote the float32 maps to float64
        kr0, kr1, kr2, kr3, kt0, kt1 = map(float, self.coefficients[min(plane, len(self.coefficients) - 1)])
        cx, cy = self.center[0] * width, self.center[1] * height
        radius = max(math.hypot(x - cx, y - cy) for x in (0, width) for y in (0, height))
        # float32: a 12 MP photo's maps stay small, and 4000 px are exact to 1e-3 px
        dx = ((np.arange(width) - cx) / radius).astype(np.float32)[None, :]
        dy = ((np.arange(height) - cy) / radius).astype(np.float32)[:, None]
        r2 = np.minimum(dx * dx + dy * dy, 1.0)
        ratio = kr0 + r2 * (kr1 + r2 * (kr2 + r2 * kr3))
        x = cx + radius * (dx * ratio + kt1 * (r2 + 2 * dx * dx) + 2 * kt0 * dx * dy)
        y = cy + radius * (dy * ratio + kt0 * (r2 + 2 * dy * dy) + 2 * kt1 * dx * dy)
        return x, y


def parse_warp_rectilinear(parameters: bytes) -> WarpRectilinear:
    """A WarpRectilinear opcode's parameters; ValueError when malformed."""
    if len(parameters) < 4:
        raise ValueError("WarpRectilinear parameters truncated")
    (planes,) = struct.unpack_from(">I", parameters, 0)
    if not 1 <= planes <= 4 or len(parameters) != 4 + 48 * planes + 16:
        raise ValueError("malformed WarpRectilinear")
    coefficients = np.frombuffer(parameters, ">f8", 6 * planes, 4).reshape(planes, 6).astype(np.float64)
    center = struct.unpack_from(">2d", parameters, 4 + 48 * planes)
    if (not np.all(np.isfinite(coefficients)) or not all(0 <= c <= 1 for c in center)
            or np.any(coefficients[:, 0] <= 0)):
        raise ValueError("malformed WarpRectilinear")
    return WarpRectilinear(coefficients, (float(center[0]), float(center[1])))


@dataclass
class VignetteRadial:
    """One FixVignetteRadial opcode (DNG 1.3, opcode 3): the gain 1 + k0 r^2 + k1 r^4 + ... +
    k4 r^10 at each pixel; center (cx, cy) the optical centre as a fraction of the width and
    height; r = 1 at the image corner farthest from it."""

    coefficients: tuple[float, ...]  # k0..k4
    center: tuple[float, float]

    def gains(self, height: int, width: int) -> np.ndarray:
        """(height, width) float32 gains at the pixel centres, as the SDK's
        `dng_opcode_FixVignetteRadial` (square pixels)."""
        cx, cy = self.center[0] * width, self.center[1] * height
        radius = math.hypot(max(cx, width - cx), max(cy, height - cy))
        dx = ((np.arange(width) + 0.5 - cx) / radius).astype(np.float32)[None, :]
        dy = ((np.arange(height) + 0.5 - cy) / radius).astype(np.float32)[:, None]
        r2 = dx * dx + dy * dy
        gain = np.zeros_like(r2)
        for k in reversed(self.coefficients):  # Horner in r^2
            gain = r2 * (float(k) + gain)
        return 1 + gain


def parse_vignette_radial(parameters: bytes) -> VignetteRadial:
    """A FixVignetteRadial opcode's parameters; ValueError when malformed."""
    if len(parameters) != 56:
        raise ValueError("malformed FixVignetteRadial")
    values = struct.unpack(">7d", parameters)
    coefficients, center = values[:5], values[5:]
    if not all(math.isfinite(v) for v in values) or not all(0 <= c <= 1 for c in center):
        raise ValueError("malformed FixVignetteRadial")
    return VignetteRadial(tuple(coefficients), (center[0], center[1]))


def _warp(linear: np.ndarray, warp: WarpRectilinear) -> np.ndarray:
    """The (H, W, 3) uint16 image through one WarpRectilinear (bicubic)."""
    import cv2

    height, width = linear.shape[:2]
    # One plane: one set of maps for all three channels; else plane i moves channel i.
    groups = [[0, 1, 2]] if len(warp.coefficients) == 1 else [[0], [1], [2]]
    warped = np.empty_like(linear)
    for channels in groups:
        map_x, map_y = warp.source_positions(channels[0], height, width)
        moved = cv2.remap(linear[..., channels].astype(np.float32), map_x, map_y, cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)
        warped[..., channels] = np.clip(np.rint(moved), 0, 65535).astype(np.uint16).reshape(height, width, -1)
    return warped


def _apply_opcode_list_3(linear: np.ndarray, blob: bytes | None, development: Development) -> np.ndarray:
    """Apply OpcodeList3's WarpRectilinears and FixVignetteRadials, in the list's order, to the
    developed (H, W, 3) uint16 linear image."""
    if not blob:
        return linear
    kinds = {_WARP_RECTILINEAR_OPCODE: ("WarpRectilinear", parse_warp_rectilinear),
             _FIX_VIGNETTE_RADIAL_OPCODE: ("FixVignetteRadial", parse_vignette_radial)}
    for opcode_id, opcode in _parse_opcode_list(blob, "OpcodeList3", kinds, development):
        if opcode_id == _WARP_RECTILINEAR_OPCODE:
            linear = _warp(linear, opcode)
            development.warps += 1
        else:  # a grey gain: it commutes with the colour matrices LibRaw has applied
            gains = opcode.gains(*linear.shape[:2])[..., None]
            linear = np.clip(np.rint(linear * gains), 0, 65535).astype(np.uint16)
            development.vignettes += 1
    return linear

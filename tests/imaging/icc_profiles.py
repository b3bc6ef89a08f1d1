"""ICC profiles built on the fly for tests (no binary fixtures): matrix/TRC RGB
display profiles such as the Display P3 profile every iPhone photo embeds."""

import struct

# Display P3 colorants (D50-adapted XYZ, as ICC profiles store them).
DISPLAY_P3_COLORANTS = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))
# Adobe RGB (1998) colorants, D50-adapted (its profile's rXYZ, gXYZ, bXYZ); its curve is gamma 563/256.
ADOBE_RGB_COLORANTS = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
# Linear Display P3 -> linear sRGB (both D65; IEC 61966-2-1 and SMPTE EG 432-1 primaries).
P3_TO_SRGB = ((1.2249, -0.2247, 0.0), (-0.0420, 1.0419, 0.0), (-0.0197, -0.0786, 1.0979))
_D50 = (0.9642, 1.0, 0.8249)


def _s15f16(value):
    return struct.pack(">i", round(value * 65536))


def _xyz(values):
    return b"XYZ " + bytes(4) + b"".join(_s15f16(v) for v in values)


def _desc(text):
    ascii_ = text.encode() + b"\0"
    # textDescriptionType: ASCII, then empty Unicode and ScriptCode parts.
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(8) + bytes(3) + bytes(67)


def _srgb_trc():
    # parametricCurveType, function 3: the sRGB transfer curve.
    params = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
    return b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(_s15f16(p) for p in params)


def gamma_curve(gamma: float) -> bytes:
    """curveType with one entry: a pure power (u8Fixed8Number), as Adobe RGB and ProPhoto use."""
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))


def table_curve(values) -> bytes:
    """curveType with a table of 16-bit values over [0, 1] (linearly interpolated)."""
    return b"curv" + bytes(4) + struct.pack(">I", len(values)) + struct.pack(f">{len(values)}H", *values)


def rgb_profile(name="Display P3", colorants=DISPLAY_P3_COLORANTS, trc=None, matrix=True) -> bytes:
    """A v2 monitor profile: colorants, D50 white point and a tone curve (default the sRGB one).
    matrix=False leaves out the colorants and curves (as a lookup-table-only profile would)."""
    trc = trc or _srgb_trc()
    tags = [(b"desc", _desc(name)), (b"cprt", b"text" + bytes(4) + b"none\0"), (b"wtpt", _xyz(_D50))]
    if matrix:
        tags += [
            (b"rXYZ", _xyz(colorants[0])), (b"gXYZ", _xyz(colorants[1])), (b"bXYZ", _xyz(colorants[2])),
            (b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc),
        ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body)) + b"lcms" + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ " + bytes(12) + b"acsp" + b"APPL" + bytes(4) + bytes(16) + bytes(4)
        + b"".join(_s15f16(v) for v in _D50) + bytes(4) + bytes(16) + bytes(28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body

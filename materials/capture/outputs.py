"""Write a capture result to a folder: maps, renders and report.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from imaging.io import from_float32, write_image

from .pipeline import CaptureResult


def write_outputs(result: CaptureResult, folder, *, bit_depth: str = "8", exr: bool = False) -> list:
    """Write `<map>.png` (bit_depth "8" or "16"; height.png always 16), optionally `<map>.exr` with
    linear float values (albedo/specular linear, normal in [-1,1], the rest as
    encoded), the renders as 8-bit PNG, and report.json. Returns the paths."""
    if bit_depth not in ("8", "16"):
        raise ValueError("bit_depth must be '8' or '16'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, img in result.encoded.items():
        path = folder / f"{name}.png"
        depth = "16" if name == "height" else bit_depth  # 8-bit heights displace in visible terraces
        write_image(path, from_float32(img, depth), bit_depth=depth)
        written.append(path)
    if exr:
        m = result.maps
        # Normals as in every normal-map file, 0.5n+0.5 (imaging.normals): the other tools
        # and engines read an EXR normal map that way.
        linear = {"albedo": m.albedo, "specular": m.specular, "normal": result.encoded["normal"],
                  "roughness": m.roughness, "glossiness": 1 - m.roughness,
                  "anisotropy": result.encoded["anisotropy"], "height": result.encoded["height"],
                  "ao": result.encoded["ao"]}
        for name, img in linear.items():
            path = folder / f"{name}.exr"
            write_image(path, np.ascontiguousarray(img, dtype=np.float32))
            written.append(path)
    for name, img in result.renders.items():
        path = folder / f"{name}.png"
        write_image(path, from_float32(img, "8"), bit_depth="8")
        written.append(path)
    path = folder / "report.json"
    path.write_text(json.dumps(result.report, indent=1))
    written.append(path)
    return written

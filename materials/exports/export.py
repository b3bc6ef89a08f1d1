"""One call from a material's maps to an engine-ready folder of files."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from .conversion import to_metal_roughness
from .files import ExportedFile, ExportOptions, write_texture
from .gltf import write_gltf, write_glb
from .maps import load_material
from .presets import FOLDER_PRESETS

# Preset -> how it is called in titles ("<Name> (Unreal)").
PRESETS = {"gltf": "glTF", "glb": "glTF binary", "unreal": "Unreal", "unity": "Unity", "pbr": "PBR"}
DEFAULT_NAME = "Material"
MAX_NAME_LENGTH = 60


@dataclass
class ExportResult:
    """files: what was written, in order; width, height: the textures' size;
    notes: what was assumed or left out, for the user."""

    files: list[ExportedFile]
    width: int
    height: int
    notes: list[str] = field(default_factory=list)


def safe_name(name: str | None) -> str:
    """A file-name-safe PascalCase name: "brick wall #2" -> "BrickWall2"; "Material" if nothing is left.

    Engines name assets this way (T_BrickWall2_BC), and it needs no quoting in a glTF URI.
    """
    words = re.findall(r"[A-Za-z0-9]+", name or "")
    joined = "".join(word[0].upper() + word[1:] for word in words)[:MAX_NAME_LENGTH]
    return joined or DEFAULT_NAME


def export_material(sources: dict, out_dir, *, preset: str, name: str | None = None,
                    options: ExportOptions = ExportOptions()) -> ExportResult:
    """Write the material `sources` (role -> maps.SourceMap) for `preset` into `out_dir`.

    preset: one of PRESETS. name: used in every file name (sanitised with `safe_name`).
    Raises maps.MissingMapsError when albedo or normal is missing, ValueError for a bad preset.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = safe_name(name)
    maps = load_material(sources, options.resolution)
    metal = to_metal_roughness(maps)
    notes = list(maps.notes)
    if preset in ("gltf", "glb"):
        if options.exr or options.texture_format != "png":
            notes.append("glTF textures are PNG only: the EXR and texture format options do not apply.")
        files = (write_gltf if preset == "gltf" else write_glb)(name, maps, metal, out_dir, options)
    else:
        files = [write_texture(texture, out_dir, options) for texture in FOLDER_PRESETS[preset](name, maps, metal)]
    height, width = maps.size
    return ExportResult(files, width, height, notes)

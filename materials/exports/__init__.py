"""Engine export presets for material maps (docs/exports.md). numpy and `imaging` only: no Django.

    export_material(sources, out_dir, preset=..., name=..., options=ExportOptions(...))
        sources: role -> SourceMap (albedo, specular, normal, roughness/glossiness,
        anisotropy, height, ao/occlusion, metallic); presets: PRESETS
        (gltf, glb, unreal, unity, pbr).

    maps         decoding the maps to linear float at one size (MaterialMaps)
    resample     filtered resizing of values, normals and anisotropy axes
    conversion   specular/glossiness -> metal/roughness, normal conventions, glTF anisotropy
    presets      Unreal, Unity and plain-PBR texture sets
    gltf         glTF 2.0 (.gltf + .bin + PNG, or .glb)
    files        textures to PNG/EXR files (ExportOptions, ExportedFile)
"""

from .export import PRESETS, ExportResult, export_material, safe_name
from .files import ExportedFile, ExportOptions
from .maps import MAP_ROLES, REQUIRED_ROLES, MissingMapsError, SourceMap, canonical_role, missing_roles

__all__ = [
    "MAP_ROLES", "PRESETS", "REQUIRED_ROLES", "ExportOptions", "ExportResult", "ExportedFile", "MissingMapsError",
    "SourceMap", "canonical_role", "export_material", "missing_roles", "safe_name",
]

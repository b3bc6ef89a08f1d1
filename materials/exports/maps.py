"""A material's maps as the exporters see them: decoded to linear float values at one size.

Inputs follow docs/shading-model.md (albedo/specular sRGB RGB, normal n*0.5+0.5 OpenGL,
roughness linear, glossiness 1-r, anisotropy (cos phi, sin phi)*0.5+0.5 and strength) plus the
optional roles height/displacement, ao/occlusion and metallic.
"""

from dataclasses import dataclass, field

import numpy as np

from imaging.color import srgb_to_linear
from imaging.io import to_float32
from imaging.normals import decode_normal_map, unit_vectors
from imaging.padding import looks_tileable

from .resample import resize_axes, resize_normals, resize_values, target_size

REQUIRED_ROLES = ("albedo", "normal")
# Every role the exports read (after ROLE_ALIASES); a set's other assets (renders...) are ignored.
MAP_ROLES = ("albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height", "ao", "metallic")
COLOUR_ROLES = ("albedo", "specular")
# Other names of the same maps.
ROLE_ALIASES = {"occlusion": "ao", "displacement": "height", "metalness": "metallic"}
# Used when a set has neither roughness nor glossiness: a middle value, reported in the notes.
DEFAULT_ROUGHNESS = 0.5


class MissingMapsError(ValueError):
    """The maps lack roles every export needs; `roles` names them."""

    def __init__(self, roles):
        self.roles = tuple(roles)
        super().__init__(f"The material has no {' or '.join(self.roles)} map; every export needs "
                         f"{' and '.join(REQUIRED_ROLES)}.")


@dataclass(frozen=True)
class SourceMap:
    """One map file's pixels, as `imaging.io.read_image` returns them.

    pixels: (H,W) or (H,W,C), C in 1..4. uint8/uint16 hold encoded values in [0,1];
        float32 (EXR) holds linear values (normals there may be n in [-1,1] or encoded).
    colour_space: "srgb" or "linear": the transfer curve of colour roles (albedo, specular)
        in integer files. Data roles are always read as linear data.
    """

    pixels: np.ndarray
    colour_space: str = "srgb"

    @property
    def is_float(self) -> bool:
        return np.issubdtype(np.asarray(self.pixels).dtype, np.floating)

    def values(self) -> np.ndarray:
        """(H,W,C) float32; integers scaled to [0,1]."""
        values = to_float32(self.pixels)
        return values[:, :, None] if values.ndim == 2 else values


@dataclass
class MaterialMaps:
    """Every map at one size (H, W), float32, linear.

    albedo: (H,W,3) diffuse albedo rho_d, or the base colour when `metallic` is given, [0,1].
    specular: (H,W,3) Fresnel F0 rho_s in [0,1], or None (then dielectric 0.04).
    normal: (H,W,3) unit tangent-space normals, OpenGL (+Y up).
    roughness: (H,W) r in [0,1] (alpha = r^2).
    aniso_direction: (H,W,2) unit (cos phi, sin phi), or None; aniso_strength: (H,W) a in [0,1].
    ao, metallic, height: (H,W) in [0,1], or None.
    notes: what was assumed on the way (missing maps replaced by defaults).
    """

    albedo: np.ndarray
    normal: np.ndarray
    roughness: np.ndarray
    specular: np.ndarray | None = None
    aniso_direction: np.ndarray | None = None
    aniso_strength: np.ndarray | None = None
    ao: np.ndarray | None = None
    metallic: np.ndarray | None = None
    height: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.roughness.shape[:2]


def canonical_role(role: str) -> str:
    """The one name of a role: occlusion -> ao, displacement -> height, metalness -> metallic."""
    return ROLE_ALIASES.get(role, role)


def canonical_roles(sources: dict) -> dict:
    return {canonical_role(role): source for role, source in sources.items()}


def missing_roles(roles) -> list[str]:
    return [role for role in REQUIRED_ROLES if role not in roles]


def load_material(sources: dict, resolution: int | None = None) -> MaterialMaps:
    """Decode role -> SourceMap into MaterialMaps at the albedo's size, its longest side capped at
    `resolution`. Raises MissingMapsError without albedo or normal."""
    sources = canonical_roles(sources)
    missing = missing_roles(sources)
    if missing:
        raise MissingMapsError(missing)
    albedo_shape = np.asarray(sources["albedo"].pixels).shape
    size = target_size(albedo_shape[0], albedo_shape[1], resolution)
    notes = []
    albedo = _colour(sources["albedo"])
    # A tiling material (a capture's tile, a variation) is filtered across its edges when
    # scaled down, so the exported maps tile without a seam.
    wrap = looks_tileable(albedo)

    def grey(role):
        return resize_values(_grey(sources[role]), size, wrap=wrap) if role in sources else None

    if "roughness" in sources:
        roughness = grey("roughness")
    elif "glossiness" in sources:
        roughness = 1.0 - grey("glossiness")
    else:
        roughness = np.full(size, DEFAULT_ROUGHNESS, np.float32)
        notes.append(f"No roughness or glossiness map: roughness {DEFAULT_ROUGHNESS} everywhere.")
    direction = strength = None
    if "anisotropy" in sources:
        direction, strength = resize_axes(*_axes(sources["anisotropy"]), size, wrap=wrap)
    return MaterialMaps(
        albedo=resize_values(albedo, size, wrap=wrap),
        normal=resize_normals(_normals(sources["normal"]), size, wrap=wrap),
        roughness=roughness,
        specular=resize_values(_colour(sources["specular"]), size, wrap=wrap) if "specular" in sources else None,
        aniso_direction=direction, aniso_strength=strength,
        ao=grey("ao"), metallic=grey("metallic"), height=grey("height"), notes=notes,
    )


def _rgb(values: np.ndarray) -> np.ndarray:
    """(H,W,C) -> (H,W,3): grey (with or without alpha) repeated, alpha dropped."""
    if values.shape[2] < 3:
        return np.repeat(values[:, :, :1], 3, axis=2)
    return values[:, :, :3]


def _colour(source: SourceMap) -> np.ndarray:
    """Linear-light RGB in [0,1] of a colour map."""
    values = _rgb(source.values())
    if not source.is_float and source.colour_space == "srgb":
        values = srgb_to_linear(values)
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def _grey(source: SourceMap) -> np.ndarray:
    """(H,W) data values in [0,1]: the mean of the colour channels, alpha ignored."""
    values = source.values()
    channels = values[:, :, :1] if values.shape[2] == 2 else values[:, :, :3]
    return np.clip(channels.mean(axis=2), 0.0, 1.0).astype(np.float32)


def _normals(source: SourceMap) -> np.ndarray:
    """(H,W,3) unit normals (`imaging.normals`: float files may hold `0.5n+0.5` or `n`)."""
    return decode_normal_map(_rgb(source.values()), source.is_float)


def _axes(source: SourceMap) -> tuple[np.ndarray, np.ndarray]:
    """((H,W,2) unit (cos phi, sin phi), (H,W) strength a) from an anisotropy map."""
    values = _rgb(source.values())
    direction = unit_vectors(values[:, :, :2] * 2.0 - 1.0, (1.0, 0.0))
    return direction, np.clip(values[:, :, 2], 0.0, 1.0).astype(np.float32)

"""From our specular/glossiness shading model to the metal/roughness model of engines and glTF.

All formulas are written out, with their reasons, in docs/exports.md. Values are linear
float32 numpy arrays; (H,W,3) colours, (H,W) scalars.
"""

from dataclasses import dataclass

import numpy as np

# F0 of a dielectric with IOR 1.5: the fixed dielectric reflectance of glTF, Unreal
# (Specular 0.5) and Unity's metallic workflow.
DIELECTRIC_F0 = 0.04
# Real dielectrics reflect 2-8 % at normal incidence (water 0.02, plastics 0.04-0.05, gems
# up to 0.08 and a little more); the darkest common metals (titanium, iron, chromium) 0.5 and
# more. Between the two the metalness ramps smoothly, so noise in a captured F0 near either
# end does not flip pixels between metal and dielectric.
F0_DIELECTRIC_MAX = 0.08
F0_METAL_MIN = 0.45
# Our shading model clamps anisotropy to this (docs/shading-model.md).
MAX_ANISOTROPY = 0.95


@dataclass
class MetalRoughness:
    """base_colour: (H,W,3) linear in [0,1]; metalness: (H,W) in [0,1]."""

    base_colour: np.ndarray
    metalness: np.ndarray


def smoothstep(low: float, high: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def metalness_from_specular(specular: np.ndarray) -> np.ndarray:
    """(H,W,3) linear F0 -> (H,W) metalness in [0,1]: 0 up to F0 0.08, 1 from 0.45, smooth between.

    The brightest channel decides: coloured metals (gold, copper) are bright in at least one.
    """
    return smoothstep(F0_DIELECTRIC_MAX, F0_METAL_MIN, specular.max(axis=-1)).astype(np.float32)


def base_colour_from_specgloss(albedo: np.ndarray, specular: np.ndarray, metalness: np.ndarray) -> np.ndarray:
    """Base colour = lerp(diffuse albedo, F0, metalness), in linear light, (H,W,3) in [0,1].

    A metal-roughness renderer reflects diffusely (1-m)*base and specularly with
    F0' = lerp(0.04, base, m): at m = 0 that gives back rho_d (and the dielectric 0.04), at
    m = 1 no diffuse and F0' = rho_s.
    """
    m = metalness[..., None]
    return np.clip(albedo * (1.0 - m) + specular * m, 0.0, 1.0).astype(np.float32)


def to_metal_roughness(maps) -> MetalRoughness:
    """Base colour and metalness of a `MaterialMaps`.

    A set with a metallic map is already metal/roughness: its albedo is the base colour.
    Otherwise metalness comes from the specular map (or is 0 without one).
    """
    if maps.metallic is not None:
        return MetalRoughness(maps.albedo, maps.metallic)
    if maps.specular is None:
        return MetalRoughness(maps.albedo, np.zeros(maps.size, np.float32))
    metalness = metalness_from_specular(maps.specular)
    return MetalRoughness(base_colour_from_specgloss(maps.albedo, maps.specular, metalness), metalness)


def encode_normal_gl(normal: np.ndarray) -> np.ndarray:
    """(H,W,3) unit normals -> n*0.5+0.5 in [0,1], OpenGL (+Y up: green brighter towards the top)."""
    return np.clip(normal * 0.5 + 0.5, 0.0, 1.0).astype(np.float32)


def encode_normal_dx(normal: np.ndarray) -> np.ndarray:
    """(H,W,3) unit normals -> DirectX encoding (+Y down): the OpenGL one with green inverted."""
    encoded = encode_normal_gl(normal)
    encoded[..., 1] = 1.0 - encoded[..., 1]
    return encoded


def encode_axes(direction: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """(H,W,2) unit directions and (H,W) strengths -> (H,W,3): RG = direction*0.5+0.5, B = strength.

    The layout of our anisotropy map and of glTF's anisotropyTexture alike.
    """
    return np.concatenate([direction * 0.5 + 0.5, strength[..., None]], axis=-1).clip(0.0, 1.0).astype(np.float32)


def gltf_anisotropy(roughness: np.ndarray, anisotropy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Our (r, a) -> glTF's (roughness, anisotropy strength), both (H,W) in [0,1].

    Ours widens the lobe along t and narrows it along b, keeping their product:
    alpha_t = r^2 (1+a)/(1-a), alpha_b = r^2 (1-a)/(1+a). KHR_materials_anisotropy keeps the
    material's alpha along b and widens t: alpha_t = mix(alpha, 1, s^2). So glTF's roughness
    is sqrt(alpha_b) and s^2 = (alpha_t - alpha_b) / (1 - alpha_b): exact while alpha_t <= 1.
    """
    a = np.clip(anisotropy, 0.0, MAX_ANISOTROPY)
    alpha = roughness.astype(np.float64) ** 2
    alpha_t = np.minimum(alpha * (1.0 + a) / (1.0 - a), 1.0)
    alpha_b = alpha * (1.0 - a) / (1.0 + a)
    strength_sq = np.where(alpha_b < 1.0, (alpha_t - alpha_b) / np.maximum(1.0 - alpha_b, 1e-12), 0.0)
    return (np.sqrt(alpha_b).astype(np.float32),
            np.sqrt(np.clip(strength_sq, 0.0, 1.0)).astype(np.float32))

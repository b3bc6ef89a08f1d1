"""The project's shading model (see docs/shading-model.md), in torch.

One implementation serves fitting, synthetic data and re-renders.

Frames: all vectors live in the *plane frame*: x = image +x (right),
y = image up (image rows grow downwards, so y = -row direction),
z = out of the plane towards the camera. Tangent-space normal maps use the
same frame (OpenGL convention, +Y up).

Every function works on channel-last tensors that broadcast against each
other: vectors are `(..., 3)`, scalars per point are `(..., 1)`.
"""

from __future__ import annotations

import math

import torch

# Keeps divisions finite at grazing angles without changing visible values.
_EPS = 1e-6
MIN_ROUGHNESS = 0.02
MAX_ANISOTROPY = 0.95


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Written out: a sum over a last axis of 3 is several times slower in torch on CPU.
    return a[..., 0:1] * b[..., 0:1] + a[..., 1:2] * b[..., 1:2] + a[..., 2:3] * b[..., 2:3]


def normalize(v: torch.Tensor) -> torch.Tensor:
    """Unit vectors along the last axis of `(..., 3)`."""
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def anisotropic_alphas(roughness: torch.Tensor, anisotropy: torch.Tensor):
    """GGX alphas along tangent and bitangent.

    roughness r `(..., 1)` in [0,1], anisotropy strength a `(..., 1)` in [0,1).
    r_t = r*sqrt((1+a)/(1-a)), r_b = r*sqrt((1-a)/(1+a)); alpha = r^2.
    Returns (alpha_t, alpha_b), each `(..., 1)`.
    """
    r = roughness.clamp_min(MIN_ROUGHNESS)
    a = anisotropy.clamp(0.0, MAX_ANISOTROPY)
    stretch = torch.sqrt((1 + a) / (1 - a))
    r_t = r * stretch
    r_b = r / stretch
    return r_t * r_t, r_b * r_b


def tangent_frame(normal: torch.Tensor, angle: torch.Tensor):
    """Tangent t and bitangent b for a unit normal `(..., 3)`.

    angle phi `(..., 1)` in radians, measured in the plane from image +x
    towards image up. The direction (cos phi, sin phi, 0) is projected onto the
    plane orthogonal to n, so t, b, n is orthonormal and right-handed.
    """
    zeros = torch.zeros_like(angle)
    t0 = torch.cat([torch.cos(angle), torch.sin(angle), zeros], dim=-1)
    t = normalize(t0 - _dot(t0, normal) * normal)
    b = torch.cross(normal, t, dim=-1)
    return t, b


def ggx_distribution(h_t, h_b, h_n, alpha_t, alpha_b):
    """Anisotropic GGX D(h) from the half-vector's components in (t, b, n)."""
    denom = (h_t / alpha_t) ** 2 + (h_b / alpha_b) ** 2 + h_n**2
    return 1.0 / (math.pi * alpha_t * alpha_b * denom * denom).clamp_min(1e-12)


def smith_lambda(w_t, w_b, w_n, alpha_t, alpha_b):
    """Anisotropic Smith Lambda for a direction's components in (t, b, n)."""
    w_n2 = (w_n * w_n).clamp_min(_EPS)
    tan2 = ((alpha_t * w_t) ** 2 + (alpha_b * w_b) ** 2) / w_n2
    return 0.5 * (torch.sqrt(1.0 + tan2) - 1.0)


def brdf(light, view, albedo, specular, normal, roughness, anisotropy, angle):
    """f(l, v) of the project's model.

    light, view: unit directions `(..., 3)` from the surface point.
    albedo rho_d, specular rho_s (F0): `(..., 3)` linear RGB in [0,1].
    normal: unit `(..., 3)`; roughness r, anisotropy a, angle phi: `(..., 1)`.
    Returns `(..., 3)`: rho_d/pi + D G F / (4 (n.l)(n.v)); zero where the light
    or the viewer is below the surface.
    """
    alpha_t, alpha_b = anisotropic_alphas(roughness, anisotropy)
    t, b = tangent_frame(normal, angle)
    h = normalize(light + view)
    n_l = _dot(normal, light)
    n_v = _dot(normal, view)
    d = ggx_distribution(_dot(h, t), _dot(h, b), _dot(h, normal), alpha_t, alpha_b)
    lam_v = smith_lambda(_dot(view, t), _dot(view, b), n_v, alpha_t, alpha_b)
    lam_l = smith_lambda(_dot(light, t), _dot(light, b), n_l, alpha_t, alpha_b)
    g = 1.0 / (1.0 + lam_l + lam_v)  # height-correlated Smith
    v_h = _dot(view, h).clamp(0.0, 1.0)
    fresnel = specular + (1.0 - specular) * (1.0 - v_h) ** 5
    spec = d * g * fresnel / (4.0 * n_l.clamp_min(_EPS) * n_v.clamp_min(_EPS))
    visible = ((n_l > 0) & (n_v > 0)).to(albedo.dtype)
    return (albedo / math.pi + spec) * visible


def flash_directions(x, y, centre, distance, beam=0.0, axis=None):
    """Light (= view) directions and fall-off for the flash.

    x, y: pixel positions `(...)` in the flash photo (column, row; any float).
    centre: (cx, cy) highlight centre, the foot of the camera on the plane.
    distance: camera height d above the plane, in pixels (= the focal length
    in pixels of the pinhole camera).
    beam: exponent m of the flash beam and lens fall-off: the fall-off is
    also multiplied by cos^m of the angle off the optical axis, which meets
    the photo at `axis` (x, y; default: `centre`). A phone's LED lights the
    corners less than an ideal point light, and the lens darkens them; 0 = neither.
    Returns (directions `(..., 3)` unit, falloff `(..., 1)` =
    d^2/|p-c|^2 * cos^m, so 1 at the centre).
    """
    cx, cy = centre
    dx = cx - x
    dy = y - cy  # image rows grow downwards; the plane frame's y goes up
    dz = torch.full_like(dx, float(distance))
    vec = torch.stack([dx, dy, dz], dim=-1)
    dist2 = (vec * vec).sum(-1, keepdim=True)
    falloff = (distance * distance) / dist2
    if torch.is_tensor(beam) or beam != 0.0:
        ax, ay = centre if axis is None else axis
        off2 = ((x - ax) ** 2 + (y - ay) ** 2).unsqueeze(-1) / (distance * distance)
        # cos^m of the off-axis angle = (1 + tan^2)^(-m/2)
        falloff = falloff * torch.exp(-0.5 * beam * torch.log1p(off2))
    return vec / dist2.sqrt(), falloff


def camera_distance(width: float, fov_deg: float) -> float:
    """Camera height in pixels for a horizontal field of view (pinhole)."""
    return (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)


def render_flash(maps: dict, directions, falloff, albedo_gain=None):
    """Radiance seen under the co-located flash (flash power 1).

    maps: dict of tensors albedo, specular `(..., 3)`, normal `(..., 3)`,
    roughness, anisotropy, angle `(..., 1)`; directions `(..., 3)`; falloff
    `(..., 1)`. albedo_gain `(..., 1)` optionally scales the diffuse albedo
    (per-repeat variation). Returns `(..., 3)` linear RGB, unclipped.

    `brdf` with l = v = h, written for that case since the fit spends most of
    its time here: v.h = 1, so F = rho_s; both Smith terms are equal; the
    specular lobe is one scalar per sample times rho_s.
    """
    normal = maps["normal"]
    alpha_t, alpha_b = anisotropic_alphas(maps["roughness"], maps["anisotropy"])
    t, b = tangent_frame(normal, maps["angle"])
    n_l = _dot(directions, normal)
    h_t, h_b = _dot(directions, t), _dot(directions, b)
    d = ggx_distribution(h_t, h_b, n_l, alpha_t, alpha_b)
    g = 1.0 / (1.0 + 2.0 * smith_lambda(h_t, h_b, n_l, alpha_t, alpha_b))
    lobe = d * g / (4.0 * n_l.clamp_min(_EPS) ** 2)
    # n.l > 0 both for visibility and the cosine: zero below the surface.
    irradiance = n_l.clamp_min(0.0) * falloff
    albedo = maps["albedo"] if albedo_gain is None else maps["albedo"] * albedo_gain
    return (albedo / math.pi + lobe * maps["specular"]) * irradiance


def render_point_light(maps: dict, x, y, camera, light):
    """Radiance under a point light at `light` seen from `camera`.

    x, y: pixel positions `(...)`; camera, light: (px, py, height) positions in
    pixel units above the plane (the plane is z = 0, rows grow downwards).
    Fall-off is normalised to 1 at the light's height. Returns `(..., 3)`.
    """
    def towards(pos):
        vec = torch.stack([pos[0] - x, y - pos[1], torch.full_like(x, float(pos[2]))], dim=-1)
        dist2 = (vec * vec).sum(-1, keepdim=True)
        return vec / dist2.sqrt(), dist2

    view, _ = towards(camera)
    light_dir, dist2 = towards(light)
    f = brdf(light_dir, view, maps["albedo"], maps["specular"], maps["normal"],
             maps["roughness"], maps["anisotropy"], maps["angle"])
    cos = _dot(maps["normal"], light_dir).clamp_min(0.0)
    return f * cos * (float(light[2]) ** 2 / dist2)


# Soft, even ambient light for the guide photo: the sky is the upper
# hemisphere, so a tilted normal sees (1 + n_z)/2 of it; specular objects
# reflect the sky, a small constant share of rho_s.
GUIDE_SPECULAR_SHARE = 0.1


def render_guide(maps: dict, window=(0.0, 0.0)):
    """Guide-photo radiance under soft ambient light (ambient power 1).

    window: (wx, wy), a side light's horizontal direction times its strength:
    a window or lamp off to one side adds wx*nx + wy*ny to the sky's
    irradiance 0.5*(1 + nz) (the first-order term of a sky brighter on one
    side), so slopes facing it look brighter, as in a room-lit no-flash photo.
    Used for synthetic data only; the pipeline never reads albedo from the
    guide's brightness. Returns `(..., 3)` linear RGB.
    """
    normal = maps["normal"]
    sky = 0.5 * (1.0 + normal[..., 2:3]) + window[0] * normal[..., 0:1] + window[1] * normal[..., 1:2]
    return maps["albedo"] * sky.clamp_min(0.0) + GUIDE_SPECULAR_SHARE * maps["specular"]


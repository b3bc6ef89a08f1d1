import math

import numpy as np
import pytest
import torch

from materials.capture import shading


def _maps(n=1, *, albedo=0.0, specular=0.04, roughness=0.4, anisotropy=0.0, angle=0.0, normal=(0.0, 0.0, 1.0)):
    full = lambda v, c: torch.full((n, c), float(v), dtype=torch.float64)
    return dict(albedo=full(albedo, 3), specular=full(specular, 3),
                normal=torch.tensor([normal], dtype=torch.float64).expand(n, 3),
                roughness=full(roughness, 1), anisotropy=full(anisotropy, 1), angle=full(angle, 1))


def _brdf(light, view, m):
    return shading.brdf(light, view, m["albedo"], m["specular"], m["normal"], m["roughness"], m["anisotropy"], m["angle"])


def _random_dirs(n, seed):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(n, 3, generator=g, dtype=torch.float64)
    v[:, 2] = v[:, 2].abs() + 0.05
    return shading.normalize(v)


def _hemisphere(n_theta=400, n_phi=200):
    # Midpoint quadrature in (cos theta, phi): returns directions and solid-angle weights.
    mu = (torch.arange(n_theta, dtype=torch.float64) + 0.5) / n_theta
    phi = (torch.arange(n_phi, dtype=torch.float64) + 0.5) / n_phi * 2 * math.pi
    mu, phi = torch.meshgrid(mu, phi, indexing="ij")
    s = torch.sqrt(1 - mu**2)
    dirs = torch.stack([s * torch.cos(phi), s * torch.sin(phi), mu], -1).reshape(-1, 3)
    return dirs, torch.full((dirs.shape[0], 1), 2 * math.pi / (n_theta * n_phi), dtype=torch.float64)


@pytest.mark.parametrize("anisotropy", [0.0, 0.6])
def test_brdf_is_reciprocal(anisotropy):
    l, v = _random_dirs(500, 1), _random_dirs(500, 2)
    m = _maps(500, albedo=0.3, specular=0.5, roughness=0.3, anisotropy=anisotropy, angle=0.7,
              normal=(0.1, -0.2, 0.97))
    m["normal"] = shading.normalize(m["normal"])
    assert torch.allclose(_brdf(l, v, m), _brdf(v, l, m), rtol=1e-9, atol=1e-12)


def test_diffuse_part_integrates_to_albedo():
    dirs, dw = _hemisphere()
    view = torch.tensor([[0.3, 0.1, 0.95]], dtype=torch.float64)
    view = shading.normalize(view).expand_as(dirs)
    m = _maps(dirs.shape[0], albedo=0.6, specular=0.0, roughness=1.0)
    # Specular with rho_s = 0 still has the Schlick grazing term; remove it by difference.
    m0 = _maps(dirs.shape[0], albedo=0.0, specular=0.0, roughness=1.0)
    diffuse = _brdf(dirs, view, m) - _brdf(dirs, view, m0)
    total = (diffuse * dirs[:, 2:3] * dw).sum(0)
    assert torch.allclose(total, torch.full((3,), 0.6, dtype=torch.float64), atol=2e-3)


@pytest.mark.parametrize("roughness,anisotropy", [(0.3, 0.0), (0.6, 0.0), (0.4, 0.5)])
def test_specular_white_furnace_conserves_energy(roughness, anisotropy):
    dirs, dw = _hemisphere(400, 200)
    view = shading.normalize(torch.tensor([[0.2, 0.0, 1.0]], dtype=torch.float64)).expand_as(dirs)
    m = _maps(dirs.shape[0], albedo=0.0, specular=1.0, roughness=roughness, anisotropy=anisotropy, angle=0.4)
    reflected = float((_brdf(dirs, view, m) * dirs[:, 2:3] * dw).sum(0)[0])
    # Single-scattering microfacets lose some energy for rough surfaces, never gain.
    assert 0.75 < reflected <= 1.0 + 1e-2


def test_isotropic_case_equals_isotropic_ggx():
    l, v = _random_dirs(300, 3), _random_dirs(300, 4)
    r, f0 = 0.35, 0.08
    m = _maps(300, albedo=0.2, specular=f0, roughness=r, anisotropy=0.0, angle=1.1)
    got = _brdf(l, v, m)
    # Textbook isotropic GGX with height-correlated Smith, written independently.
    a = r * r
    n = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    h = shading.normalize(l + v)
    nh, nl, nv, vh = h @ n, l @ n, v @ n, (v * h).sum(-1)
    d = a * a / (math.pi * (nh * nh * (a * a - 1) + 1) ** 2)
    lam = lambda c: (-1 + torch.sqrt(1 + a * a * (1 - c * c) / (c * c))) / 2
    g = 1 / (1 + lam(nl) + lam(nv))
    f = f0 + (1 - f0) * (1 - vh) ** 5
    want = 0.2 / math.pi + d * g * f / (4 * nl * nv)
    assert torch.allclose(got, want[:, None].expand(-1, 3), rtol=1e-9)


def test_anisotropy_stretches_highlight_along_tangent():
    # Half-vectors tilted by the same angle along the tangent vs the bitangent.
    tilt = math.radians(12)
    phi = math.radians(30)
    along_t = torch.tensor([[math.sin(tilt) * math.cos(phi), math.sin(tilt) * math.sin(phi), math.cos(tilt)]],
                           dtype=torch.float64)
    along_b = torch.tensor([[-math.sin(tilt) * math.sin(phi), math.sin(tilt) * math.cos(phi), math.cos(tilt)]],
                           dtype=torch.float64)
    m = _maps(1, specular=1.0, roughness=0.3, anisotropy=0.6, angle=phi)
    assert float(_brdf(along_t, along_t, m)[0, 0]) > 3 * float(_brdf(along_b, along_b, m)[0, 0])


def test_flash_directions_point_at_the_camera_with_unit_falloff_at_centre():
    x = torch.tensor([100.0, 130.0, 100.0])
    y = torch.tensor([50.0, 50.0, 10.0])
    dirs, fall = shading.flash_directions(x, y, (100.0, 50.0), 200.0)
    assert torch.allclose(dirs[0], torch.tensor([0.0, 0.0, 1.0]))
    assert dirs[1, 0] < 0 and abs(float(dirs[1, 1])) < 1e-7  # point right of centre: light to the left
    assert dirs[2, 1] < 0  # point above the centre (smaller row): light lies below it, y-up frame
    assert float(fall[0]) == pytest.approx(1.0)
    assert float(fall[1]) == pytest.approx(200.0**2 / (200.0**2 + 30.0**2))


def test_flash_beam_falls_off_as_a_power_of_the_cosine_off_the_optical_axis():
    x = torch.tensor([300.0, 300.0, 700.0])
    y = torch.tensor([200.0, 380.0, 200.0])
    centre, axis, d = (320.0, 220.0), (300.0, 200.0), 400.0
    dirs0, fall0 = shading.flash_directions(x, y, centre, d)
    dirs, fall = shading.flash_directions(x, y, centre, d, beam=2.5, axis=axis)
    assert torch.equal(dirs, dirs0)  # the beam changes how much light arrives, not from where
    cos_off_axis = d / torch.sqrt(d**2 + (x - axis[0]) ** 2 + (y - axis[1]) ** 2)
    torch.testing.assert_close(fall[:, 0], fall0[:, 0] * cos_off_axis**2.5)
    assert float(fall[0]) == pytest.approx(float(fall0[0]))  # on the axis: no change
    # Without an axis the beam is centred on the highlight; m = 0 is no beam at all.
    _, centred = shading.flash_directions(x, y, centre, d, beam=1.0)
    torch.testing.assert_close(centred[:, 0], fall0[:, 0] ** 1.5)  # cos^2 * cos^1 over cos^2
    assert torch.equal(shading.flash_directions(x, y, centre, d, beam=torch.tensor(0.0))[1], fall0)


def test_camera_distance_matches_field_of_view():
    d = shading.camera_distance(1000, 90.0)
    assert d == pytest.approx(500.0)
    assert shading.camera_distance(1000, 65.0) > d


@pytest.mark.parametrize("anisotropy", [0.0, 0.7])
def test_flash_render_is_the_general_brdf_with_light_at_the_camera(anisotropy):
    # render_flash is brdf() written out for l = v; both must give the same radiance,
    # including tilted normals that face away from some directions (zero there).
    n = 512
    g = torch.Generator().manual_seed(3)
    normals = shading.normalize(torch.randn(n, 3, generator=g, dtype=torch.float64) * 0.5
                                + torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    maps = _maps(n, albedo=0.3, specular=0.2, roughness=0.25, anisotropy=anisotropy, angle=0.8)
    maps["normal"] = normals
    maps["albedo"] = torch.rand(n, 3, generator=g, dtype=torch.float64)
    directions = _random_dirs(n, 5)
    falloff = torch.rand(n, 1, generator=g, dtype=torch.float64) + 0.5
    flash = shading.render_flash(maps, directions, falloff)
    cos = shading._dot(normals, directions).clamp_min(0.0)
    general = _brdf(directions.clone(), directions.clone(), maps) * cos * falloff
    assert (cos == 0).any() and (flash > 1).any()  # both sides of the surface, and highlights
    torch.testing.assert_close(flash, general, rtol=1e-9, atol=1e-12)


def test_a_flash_beside_the_lens_renders_as_the_flash_at_it_when_the_offset_vanishes():
    """synthetic.render_photos' flash_offset (a phone's LED beside the lens) goes through the
    general point-light render; at no offset it must be the co-located flash exactly."""
    from materials.capture.synthetic import make_periodic_maps, render_photos

    maps = make_periodic_maps(48, 64, period=16, seed=1)
    at_lens, _, _ = render_photos(maps)
    beside, _, _ = render_photos(maps, flash_offset=1e-9)
    np.testing.assert_allclose(beside, at_lens, rtol=1e-4, atol=1e-6)
    moved, _, _ = render_photos(maps, flash_offset=0.033)
    assert np.abs(moved - at_lens).mean() > 1e-3 * at_lens.mean()

"""Split-half reliability filter of the fitted normals, and the zero-mean slope constraint."""

import math

import torch

from materials.capture import shading
from materials.capture.fit import FlashGeometry, Observations, PixelParameters, held_out_ring_weights, master_gain
from materials.capture.reliability import filter_by_halves, ring_filter, ring_weights

SHAPE = (64, 64)


def _smooth_field(seed, shape=SHAPE, period=16.0):
    """(P,2) smooth random field: a few low-frequency waves per component."""
    gen = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(shape[0], dtype=torch.float32),
                            torch.arange(shape[1], dtype=torch.float32), indexing="ij")
    out = torch.zeros(shape + (2,))
    for _ in range(6):
        fx, fy = (torch.rand(2, generator=gen) - 0.5) * 2 * math.pi / period
        phase = torch.rand(1, generator=gen) * 2 * math.pi
        out += torch.cos(fx * xx + fy * yy + phase)[..., None] * torch.randn(2, generator=gen)
    return 0.05 * out.reshape(-1, 2) / out.std()


def _noise(seed, scale):
    return scale * torch.randn(SHAPE[0] * SHAPE[1], 2, generator=torch.Generator().manual_seed(seed))


def test_agreed_detail_is_kept_and_disagreeing_noise_removed():
    signal = _smooth_field(0)
    noise_a, noise_b = _noise(1, 0.05), _noise(2, 0.05)
    half_a, half_b = signal + noise_a, signal + noise_b
    full = signal + 0.5 * (noise_a + noise_b)
    for wrap in (False, True):
        filtered, _, rings = filter_by_halves(full, half_a, half_b, SHAPE, wrap)
        before = float(((full - signal) ** 2).mean())
        after = float(((filtered - signal) ** 2).mean())
        assert after < 0.5 * before, (wrap, before, after)
        # The signal's low frequencies agree, the white noise's high ones do not.
        assert rings[0][1] > 0.9 and rings[-1][1] < 0.3, rings
        # Agreed detail keeps most of its amplitude.
        assert float((filtered * signal).sum() / (signal * signal).sum()) > 0.8


def test_halves_that_share_nothing_leave_little():
    half_a, half_b = _noise(3, 0.05), _noise(4, 0.05)
    full = 0.5 * (half_a + half_b)
    filtered, _, _ = filter_by_halves(full, half_a, half_b, SHAPE, wrap=False)
    assert float((filtered**2).sum()) < 0.1 * float((full**2).sum())


def test_identical_halves_pass_the_map_unchanged():
    signal = _smooth_field(5)
    weights, rings = ring_weights(signal, signal, SHAPE, wrap=True)
    assert torch.allclose(weights, torch.ones_like(weights))
    filtered, _, _ = filter_by_halves(signal, signal, signal, SHAPE, wrap=True)
    torch.testing.assert_close(filtered, signal, atol=1e-6, rtol=0)


def test_small_tiles_merge_rings_that_hold_too_few_frequencies():
    signal = _smooth_field(6, shape=(12, 12), period=6.0)
    _, rings = ring_weights(signal, signal + 0.01 * torch.randn_like(signal), (12, 12), wrap=True)
    assert 2 <= len(rings) < 10
    assert all(r[0] < r2[0] for r, r2 in zip(rings, rings[1:]))


def test_a_tile_wide_tilt_is_not_read_as_a_normal():
    # A constant slope over the whole tile is a tilt of the plane, which the
    # highlight centre stands for; the normals stay flat on average.
    params = PixelParameters(torch.full((9, 3), 0.5), torch.full((1, 3), 0.04), torch.full((1, 1), 0.3),
                             slopes=torch.tensor([[0.1, -0.05]]))
    with torch.no_grad():
        normal = params.maps()["normal"]
        torch.testing.assert_close(normal, torch.tensor([[0.0, 0.0, 1.0]]).expand(9, 3))
        params.slopes[0] += torch.tensor([0.2, 0.0])
        normal = params.maps()["normal"]
    assert normal[0, 0] > 0.1 and abs(float(normal[:, :2].mean(0).norm())) < 0.02


def _master_observations(true_slopes, side, offsets=((0, 0), (100, 100), (-90, -90), (80, -60))):
    """Observations of a glossy dielectric rendered with the true normals, the tile under the
    highlight of a 1 m-high flash: match 0 is the master tile itself, the others are exact
    repeats at `offsets` (px) from it."""
    pixels = side * side
    yy, xx = torch.meshgrid(torch.arange(side, dtype=torch.float32), torch.arange(side, dtype=torch.float32),
                            indexing="ij")
    master = torch.stack([xx.reshape(-1) + 200.0, yy.reshape(-1) + 150.0], -1)
    positions = torch.stack([master + torch.tensor(offset, dtype=torch.float32) for offset in offsets], 1)
    k = positions.shape[1]
    geometry = FlashGeometry((200.0 + side / 2, 150.0 + side / 2), 800.0)
    geometry.shift.requires_grad_(False)  # as after the fit's first stage: the centre is fixed
    directions, falloff = geometry.directions(positions)
    normal = torch.cat([true_slopes, torch.ones(pixels, 1)], 1)
    truth = {"albedo": torch.full((pixels, 1, 3), 0.3), "specular": torch.full((pixels, 1, 3), 0.04),
             "normal": (normal / normal.norm(dim=1, keepdim=True))[:, None],
             "roughness": torch.full((pixels, 1, 1), 0.3), "anisotropy": torch.zeros(pixels, 1, 1),
             "angle": torch.zeros(pixels, 1, 1)}
    obs = Observations(flash=shading.render_flash(truth, directions, falloff), positions=positions,
                       gain=torch.ones(pixels, k, 1), weight=torch.ones(pixels, k, 1),
                       clipped=torch.zeros(pixels, k, 3, dtype=torch.bool), shape=(side, side), wrap=False)
    params = PixelParameters(torch.full((pixels, 3), 0.3), torch.full((1, 3), 0.04), torch.full((1, 1), 0.3))
    return obs, geometry, params


def test_flattened_agreed_detail_gets_its_amplitude_back_from_the_master_tile():
    side = 32
    true_slopes = 2.0 * _smooth_field(7, shape=(side, side), period=10.0)  # ~6 deg of relief
    true_slopes = true_slopes - true_slopes.mean(0)
    obs, geometry, params = _master_observations(true_slopes, side)
    flattened = true_slopes / 1.5
    with torch.no_grad():
        params.slopes.copy_(flattened)
    assert abs(master_gain(params, flattened, obs, geometry) - 1.5) < 0.1
    torch.testing.assert_close(params.slopes, flattened)  # left as it was: the caller applies the gain
    # Detail that the master's observations contradict, or that hardly changes their
    # error (a flat error curve is noise), gets no gain.
    assert master_gain(params, -flattened, obs, geometry) == 1.0
    # Detail far below the truth's size: the error falls all the way to the largest gain,
    # which measures no amplitude, so no gain is given.
    with torch.no_grad():
        params.slopes.copy_(flattened / 4)
    assert master_gain(params, flattened / 4, obs, geometry) == 1.0
    assert master_gain(params, 1e-4 * _smooth_field(8, shape=(side, side), period=10.0), obs, geometry) == 1.0


def test_held_out_weights_keep_what_predicts_the_other_half_and_cut_what_does_not():
    # Exact repeats near the highlight; each half's slopes are the true relief plus its
    # own white noise (what a noisy fit of half the matches gives).
    side = 32
    true_slopes = 2.0 * _smooth_field(9, shape=(side, side), period=10.0)
    true_slopes = true_slopes - true_slopes.mean(0)
    offsets = [(0, 0), (40, 0), (-40, 0), (0, 40), (0, -40), (30, 30), (-30, -30), (30, -30), (-30, 30)]
    obs, geometry, params = _master_observations(true_slopes, side, offsets)
    noise_a, noise_b = _noise(10, 0.06)[: side * side], _noise(11, 0.06)[: side * side]
    weights = held_out_ring_weights(params, true_slopes + noise_a, true_slopes + noise_b, obs, geometry,
                                    torch.Generator().manual_seed(0))
    # The relief's rings (below ~0.07 cycles/px) predict the other half and are kept;
    # the finer rings carry only noise and are cut.
    assert float(weights[:3].min()) > 0.8 and float(weights[-4:].max()) < 0.3, weights
    full = true_slopes + 0.5 * (noise_a + noise_b)
    filtered = ring_filter(full, weights, (side, side), wrap=False)
    error = lambda s: float(((s - true_slopes) ** 2).mean())
    assert error(filtered) < 0.6 * error(full), (error(filtered), error(full))
    # The filter is the identity at weight 1; the weights are in [0, 1].
    torch.testing.assert_close(ring_filter(full, torch.ones_like(weights), (side, side), wrap=False), full,
                               atol=1e-6, rtol=0)
    assert float(weights.min()) >= 0.0 and float(weights.max()) <= 1.0

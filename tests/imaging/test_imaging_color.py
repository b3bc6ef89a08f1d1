import numpy as np
import pytest
import torch

from imaging.color import linear_to_srgb, luminance, rgb_to_y_bt601, srgb_to_linear


def test_srgb_half_grey_known_value():
    assert float(srgb_to_linear(np.float64(0.5))) == pytest.approx(0.214041140, abs=1e-8)
    assert float(linear_to_srgb(np.float64(0.214041140))) == pytest.approx(0.5, abs=1e-8)


def test_curve_end_points_and_linear_segment():
    assert float(srgb_to_linear(np.float64(0.0))) == 0.0
    assert float(srgb_to_linear(np.float64(1.0))) == pytest.approx(1.0, abs=1e-12)
    assert float(srgb_to_linear(np.float64(0.02))) == pytest.approx(0.02 / 12.92, rel=1e-12)
    assert float(linear_to_srgb(np.float64(0.002))) == pytest.approx(0.002 * 12.92, rel=1e-12)


def test_pieces_meet_at_the_breakpoints():
    # Both pieces agree (to ~1e-7) at the IEC thresholds, so the curve is continuous.
    below, above = srgb_to_linear(np.array([0.04045 - 1e-9, 0.04045 + 1e-9]))
    assert abs(above - below) < 1e-6
    below, above = linear_to_srgb(np.array([0.0031308 - 1e-10, 0.0031308 + 1e-10]))
    assert abs(above - below) < 1e-6


def test_round_trip_and_monotonic():
    x = np.linspace(0.0, 1.0, 10001)
    assert np.max(np.abs(linear_to_srgb(srgb_to_linear(x)) - x)) < 1e-12
    assert np.max(np.abs(srgb_to_linear(linear_to_srgb(x)) - x)) < 1e-12
    assert np.all(np.diff(srgb_to_linear(x)) > 0)
    assert np.all(np.diff(linear_to_srgb(x)) > 0)


def test_input_is_clipped():
    x = np.array([-0.5, 1.5])
    assert srgb_to_linear(x).tolist() == pytest.approx([0.0, 1.0])
    assert linear_to_srgb(torch.tensor([-0.5, 1.5])).tolist() == pytest.approx([0.0, 1.0])


@pytest.mark.parametrize("fn", [srgb_to_linear, linear_to_srgb])
def test_numpy_torch_parity_and_dtype(fn):
    x = np.random.default_rng(0).random((2, 3, 8, 8), dtype=np.float32)
    from_numpy = fn(x)
    from_torch = fn(torch.from_numpy(x))
    assert from_numpy.dtype == np.float32 and from_torch.dtype == torch.float32
    assert isinstance(from_torch, torch.Tensor)
    np.testing.assert_allclose(from_torch.numpy(), from_numpy, atol=1e-6)


def test_torch_encode_has_finite_gradient_at_black():
    x = torch.zeros(4, requires_grad=True)
    linear_to_srgb(x).sum().backward()
    assert torch.all(torch.isfinite(x.grad))
    assert x.grad[0].item() == pytest.approx(12.92)


def test_luminance_weights_and_shapes():
    primaries = np.eye(3)[:, None, :]  # (3,1,3): pure red, green, blue
    np.testing.assert_allclose(luminance(primaries)[:, 0, 0], [0.2126, 0.7152, 0.0722])
    assert luminance(np.ones((4, 5, 3))).shape == (4, 5, 1)
    np.testing.assert_allclose(luminance(np.ones((4, 5, 3))), 1.0)
    images = torch.rand(2, 3, 4, 5)
    lum = luminance(images)
    assert lum.shape == (2, 1, 4, 5)
    np.testing.assert_allclose(lum.numpy()[:, 0], luminance(images.permute(0, 2, 3, 1).numpy())[..., 0], atol=1e-6)


def test_bt601_luma_studio_range():
    black, white = np.zeros((1, 1, 3)), np.ones((1, 1, 3))
    assert float(rgb_to_y_bt601(black)[0, 0, 0]) == pytest.approx(16 / 255)
    assert float(rgb_to_y_bt601(white)[0, 0, 0]) == pytest.approx(235 / 255, abs=1e-6)
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert rgb_to_y_bt601(red).item() == pytest.approx((16 + 65.481) / 255, abs=1e-6)


def test_wrong_channel_count_is_rejected():
    with pytest.raises(ValueError):
        luminance(np.ones((4, 4, 2)))
    with pytest.raises(ValueError):
        rgb_to_y_bt601(torch.ones(1, 2, 4, 4))

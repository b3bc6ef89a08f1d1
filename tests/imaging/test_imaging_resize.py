import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image as PILImage

from imaging.resize import FILTERS, resize

rng = np.random.default_rng(3)


@pytest.mark.parametrize("filter", FILTERS)
@pytest.mark.parametrize("size", [(20, 100), (64, 48), (7, 5)])
def test_numpy_and_torch_agree_and_keep_constants(filter, size):
    image = rng.random((64, 48, 3), dtype=np.float32)
    from_numpy = resize(image, size, filter=filter)
    from_torch = resize(torch.from_numpy(image).permute(2, 0, 1)[None], size, filter=filter)
    assert from_numpy.shape == (*size, 3) and from_numpy.dtype == np.float32
    assert from_torch.shape == (1, 3, *size) and from_torch.dtype == torch.float32
    np.testing.assert_allclose(from_torch[0].permute(1, 2, 0).numpy(), from_numpy, atol=1e-6)
    flat = resize(np.full((64, 48, 3), 0.37, np.float32), size, filter=filter)
    np.testing.assert_allclose(flat, 0.37, atol=1e-6)


@pytest.mark.parametrize("filter", FILTERS)
def test_same_size_is_identity(filter):
    image = rng.random((9, 11, 2), dtype=np.float32)
    assert np.array_equal(resize(image, (9, 11), filter=filter), image)


@pytest.mark.parametrize("filter", FILTERS)
def test_wrap_resamples_a_tileable_image_as_the_torus_it_is(filter):
    # Wrapped, resizing a rolled image gives the rolled result (no edge is special);
    # the default repeats the edge pixel and does not.
    image = rng.random((16, 24, 3), dtype=np.float32)
    for size in ((64, 96), (8, 12)):
        factor = size[0] // 16 if size[0] > 16 else 1
        step = 4  # a whole number of output pixels either way
        out = resize(image, size, filter=filter, wrap=True)
        rolled = resize(np.roll(image, (step, 2 * step), (0, 1)), size, filter=filter, wrap=True)
        shift = (step * factor, 2 * step * factor) if size[0] > 16 else (step // 2, step)
        np.testing.assert_allclose(np.roll(out, shift, (0, 1)), rolled, atol=1e-5)
        if filter != "area":
            edged = resize(np.roll(image, (step, 2 * step), (0, 1)), size, filter=filter)
            assert np.abs(np.roll(resize(image, size, filter=filter), shift, (0, 1)) - edged).max() > 1e-3


def test_area_downscale_is_block_mean():
    image = rng.random((12, 18, 1), dtype=np.float32)
    expected = image.reshape(4, 3, 6, 3, 1).mean(axis=(1, 3))
    np.testing.assert_allclose(resize(image, (4, 6), filter="area"), expected, atol=1e-6)
    tensor = torch.rand(1, 2, 30, 20)
    torch.testing.assert_close(resize(tensor, (10, 5), filter="area"), F.adaptive_avg_pool2d(tensor, (10, 5)))


def test_antialiased_kernels_match_reference_implementations_inside():
    # Borders differ by design (edge replication), so compare away from them.
    image = torch.rand(1, 3, 64, 64)
    for mode in ("bilinear", "bicubic"):
        ours = resize(image, (16, 16), filter=mode)
        theirs = F.interpolate(image, (16, 16), mode=mode, antialias=True, align_corners=False)
        torch.testing.assert_close(ours[..., 3:-3, 3:-3], theirs[..., 3:-3, 3:-3], atol=1e-5, rtol=0)
    grey = rng.random((64, 64), dtype=np.float32)
    pillow = np.asarray(PILImage.fromarray(grey, "F").resize((20, 28), PILImage.LANCZOS))
    np.testing.assert_allclose(resize(grey, (28, 20), filter="lanczos")[3:-3, 3:-3], pillow[3:-3, 3:-3], atol=1e-5)


def test_antialias_suppresses_aliasing():
    stripes = np.tile(np.array([0.0, 1.0], np.float32), 64)[None, :, None].repeat(8, axis=0)  # Nyquist
    smooth = resize(stripes, (8, 20), filter="bicubic", antialias=True)
    aliased = resize(stripes, (8, 20), filter="bicubic", antialias=False)
    assert np.ptp(smooth[:, 2:-2]) < 0.01  # averaged to flat grey (edges replicate one phase)
    assert np.ptp(aliased[:, 2:-2]) > 0.5  # plain interpolation picks samples


def test_upscale_bilinear_matches_torch():
    image = torch.rand(1, 3, 10, 12)
    torch.testing.assert_close(resize(image, (25, 31), filter="bilinear"),
                               F.interpolate(image, (25, 31), mode="bilinear", align_corners=False),
                               atol=1e-5, rtol=0)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        resize(np.zeros((4, 4, 3), np.uint8), (2, 2))
    with pytest.raises(ValueError):
        resize(np.zeros((4, 4, 3), np.float32), (2, 2), filter="nearest")
    with pytest.raises(ValueError):
        resize(torch.zeros(3, 4, 4), (2, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    image = torch.rand(1, 3, 50, 70)
    on_gpu = resize(image.cuda(), (20, 33), filter="lanczos")
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), resize(image, (20, 33), filter="lanczos"), atol=1e-5, rtol=0)

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad


@pytest.mark.parametrize("pad", [0, 1, 3, 11])  # 11 is larger than the image
def test_numpy_wrap_pad_matches_definition(pad):
    image = np.random.default_rng(0).random((5, 7, 3), dtype=np.float32)
    padded = wrap_pad(image, pad)
    assert padded.shape == (5 + 2 * pad, 7 + 2 * pad, 3) and padded.dtype == np.float32
    assert np.array_equal(padded, np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="wrap"))
    rows, cols = np.meshgrid(np.arange(padded.shape[0]), np.arange(padded.shape[1]), indexing="ij")
    assert np.array_equal(padded, image[(rows - pad) % 5, (cols - pad) % 7])


def test_numpy_two_dimensional_input():
    image = np.arange(12).reshape(3, 4)
    padded = wrap_pad(image, 1)
    assert padded[0, 0] == image[-1, -1] and padded[-1, -1] == image[0, 0]


def test_torch_matches_circular_pad_and_numpy():
    images = torch.rand(2, 3, 6, 5)
    assert torch.equal(wrap_pad(images, 2), F.pad(images, (2, 2, 2, 2), mode="circular"))
    as_numpy = wrap_pad(images[0].permute(1, 2, 0).numpy(), 7)  # beyond what F.pad allows
    assert np.array_equal(wrap_pad(images, 7)[0].permute(1, 2, 0).numpy(), as_numpy)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        wrap_pad(np.zeros((2, 2, 3)), -1)
    with pytest.raises(ValueError):
        wrap_pad(torch.zeros(3, 4, 4), 1)

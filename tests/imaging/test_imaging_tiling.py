import pytest
import torch
import torch.nn.functional as F

from imaging.padding import wrap_pad
from imaging.tiling import tiled_apply

torch.manual_seed(0)


@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("tile,overlap", [(16, 4), (20, 7), (64, 8), (9, 0)])
def test_identity_reconstructs_the_image(tile, overlap, wrap):
    image = torch.rand(1, 3, 37, 53)
    seen = []

    def identity(piece):
        seen.append(tuple(piece.shape[-2:]))
        return piece

    result = tiled_apply(image, identity, tile=tile, overlap=overlap, wrap=wrap)
    assert result.shape == image.shape and result.dtype == torch.float32
    torch.testing.assert_close(result, image, atol=1e-6, rtol=0)
    assert all(h <= tile and w <= tile for h, w in seen)
    if tile < 37:
        assert len(seen) > 4  # really tiled


@pytest.mark.parametrize("scale", [2, 4])
def test_nearest_upscale_is_exact(scale):
    image = torch.rand(1, 3, 29, 41)
    upscale = lambda piece: F.interpolate(piece, scale_factor=scale, mode="nearest")
    result = tiled_apply(image, upscale, tile=16, overlap=4, scale=scale)
    torch.testing.assert_close(result, upscale(image), atol=1e-6, rtol=0)


@pytest.mark.parametrize("scale", [2, 4])
def test_bicubic_upscale_matches_whole_image(scale):
    image = torch.rand(1, 3, 33, 45)
    overlap = 8  # zero-weight margin of 2 input px covers bicubic's reach
    upscale = lambda piece: F.interpolate(piece, scale_factor=scale, mode="bicubic")
    reference = upscale(F.pad(image, (overlap,) * 4, mode="reflect"))
    reference = reference[..., overlap * scale:-overlap * scale, overlap * scale:-overlap * scale]
    result = tiled_apply(image, upscale, tile=20, overlap=overlap, scale=scale)
    assert result.shape == (1, 3, 33 * scale, 45 * scale)
    torch.testing.assert_close(result, reference, atol=1e-5, rtol=0)


def test_wrap_gives_circular_convolution_so_the_result_tiles():
    texture = torch.rand(1, 3, 40, 56)
    kernel = torch.randn(4, 3, 5, 5)
    convolve = lambda piece: F.conv2d(piece, kernel, padding=2)  # zero padding inside each tile
    result = tiled_apply(texture, convolve, tile=24, overlap=8, wrap=True)
    circular = F.conv2d(wrap_pad(texture, 2), kernel)
    torch.testing.assert_close(result, circular, atol=1e-4, rtol=1e-5)
    # Seamless: processing the texture rolled by half its size gives the rolled result.
    rolled = tiled_apply(texture.roll((20, 28), (2, 3)), convolve, tile=24, overlap=8, wrap=True)
    torch.testing.assert_close(rolled, result.roll((20, 28), (2, 3)), atol=1e-4, rtol=1e-5)


def test_without_wrap_the_opposite_edge_is_not_used():
    texture = torch.zeros(1, 1, 32, 32)
    texture[..., :, -1] = 1.0  # bright right column
    blur = lambda piece: F.avg_pool2d(piece, 3, stride=1, padding=1, count_include_pad=False)
    assert tiled_apply(texture, blur, tile=16, overlap=6)[..., :, 0].abs().max() == 0
    assert tiled_apply(texture, blur, tile=16, overlap=6, wrap=True)[..., :, 0].min() > 0


def test_tiles_are_blended_without_hard_seams():
    image = torch.zeros(1, 1, 64, 64)
    offsets = iter(torch.rand(1000).tolist())
    offset_tile = lambda piece: piece + next(offsets)  # each tile disagrees by up to 1
    result = tiled_apply(image, offset_tile, tile=40, overlap=16)[0, 0]
    steps = torch.cat([(result[1:] - result[:-1]).abs().flatten(), (result[:, 1:] - result[:, :-1]).abs().flatten()])
    # A hard seam would jump by the full offset difference; raised-cosine fades over 8 px step by <= ~pi/16.
    assert steps.max() < 0.25
    assert result.max() - result.min() > 0.2  # the offsets really differed


def test_channel_change_and_output_placement():
    image = torch.rand(1, 3, 30, 30, dtype=torch.float64)
    to_grey = lambda piece: piece.mean(dim=1, keepdim=True)
    result = tiled_apply(image, to_grey, tile=12, overlap=4)
    assert result.shape == (1, 1, 30, 30) and result.dtype == torch.float32 and result.device.type == "cpu"
    torch.testing.assert_close(result, image.mean(dim=1, keepdim=True).float(), atol=1e-6, rtol=0)


def test_bad_arguments_are_rejected():
    image = torch.rand(1, 3, 20, 20)
    with pytest.raises(ValueError):
        tiled_apply(image, lambda p: p, tile=8, overlap=4)  # tile must exceed 2*overlap
    with pytest.raises(ValueError):
        tiled_apply(torch.rand(2, 3, 20, 20), lambda p: p, tile=16, overlap=2)
    with pytest.raises(ValueError):
        tiled_apply(image, lambda p: p, tile=16, overlap=2, scale=2)  # fn did not upscale


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tiles_run_on_the_image_device_and_come_back_to_cpu():
    image = torch.rand(1, 3, 40, 40, device="cuda")
    devices = set()

    def double(piece):
        devices.add(piece.device.type)
        return F.interpolate(piece, scale_factor=2, mode="nearest")

    result = tiled_apply(image, double, tile=16, overlap=4, scale=2)
    assert devices == {"cuda"} and result.device.type == "cpu"
    torch.testing.assert_close(result, F.interpolate(image, scale_factor=2, mode="nearest").cpu())

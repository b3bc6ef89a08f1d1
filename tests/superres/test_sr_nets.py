import pytest
import torch
import torch.nn.functional as F

from superres.nets import FixedFeatureNet, PatchDiscriminator, RRDBNet
from superres.nets.generator import count_parameters, deepen


def test_generator_is_small_and_upscales_by_its_scale():
    for scale in (2, 4):
        generator = RRDBNet(scale)
        assert count_parameters(generator) < 2_000_000
        out = generator(torch.rand(2, 3, 10, 12))
        assert out.shape == (2, 3, 10 * scale, 12 * scale)


def test_generator_starts_near_bicubic():
    torch.manual_seed(0)
    low = torch.rand(1, 3, 16, 16)
    out = RRDBNet(2)(low)
    bicubic = F.interpolate(low, scale_factor=2, mode="bicubic", align_corners=False)
    # the residual branch is initialised small: a fresh model is bicubic plus a little
    assert (out - bicubic).abs().mean() < 0.05
    assert (out - bicubic).abs().max() > 0


def test_deepened_generator_computes_the_same_function_and_trains_its_new_block():
    torch.manual_seed(0)
    generator = RRDBNet(2, features=8, growth=4, blocks=1).eval()
    with torch.no_grad():  # a "trained" network: not at its bicubic start
        for p in generator.parameters():
            p.add_(0.05 * torch.randn_like(p))
    grown = deepen(generator, 3)
    assert grown.config["blocks"] == 3 and len(grown.body) == 3
    low = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(grown.eval()(low), generator(low), atol=1e-5)
    # the new blocks are not dead: their zeroed convolutions get a gradient
    grown.train()(low).square().mean().backward()
    assert grown.body[2].blocks[0].convs[-1].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        deepen(grown, 2)


def test_discriminator_uses_spectral_norm_and_any_patch_size():
    disc = PatchDiscriminator(features=8)
    names = [name for name, _ in disc.named_modules()]
    assert any("parametrizations" in name for name in names)
    for size in (64, 96):
        assert disc(torch.rand(3, 3, size, size)).shape == (3,)


def test_feature_net_is_fixed_and_reproducible():
    a, b = FixedFeatureNet(), FixedFeatureNet()
    assert not list(a.parameters())  # buffers only: never trained
    image = torch.rand(1, 3, 32, 32)
    for fa, fb in zip(a(image), b(image)):
        assert torch.equal(fa, fb)
    assert [f.shape[-1] for f in a(image)] == [32, 16, 8]

"""Checks of the shipped weights: they load, are small fp16 files, and beat bicubic."""

import numpy as np
import pytest
import torch

from superres.upscale import (
    SuperResInputError, gan_weights_path, load_generator, psnr_weights_path, shipped_weights_path, upscale,
)


@pytest.mark.parametrize("scale", [2, 4])
def test_shipped_weights_load_and_are_small_fp16(scale):
    for kind in ("psnr", "psnr_clean", "gan", "gan_degraded"):
        path = shipped_weights_path(scale, kind)
        assert path.stat().st_size < 3 * 1024 * 1024
        payload = torch.load(path, weights_only=True)
        assert all(v.dtype == torch.float16 for v in payload["state_dict"].values())
    generator = load_generator(scale)
    assert generator.scale == scale


def test_sharpness_interpolates_weights():
    psnr, gan, half = load_generator(4, 0.0), load_generator(4, 1.0), load_generator(4, 0.5)
    name = "head.weight"
    expected = 0.5 * (psnr.state_dict()[name] + gan.state_dict()[name])
    assert torch.allclose(half.state_dict()[name], expected, atol=1e-6)
    assert not torch.equal(psnr.state_dict()[name], gan.state_dict()[name])


@pytest.mark.parametrize("scale", [2, 4])
def test_psnr_model_beats_bicubic_on_heldout_image(scale):
    from imaging.resize import resize
    from superres.data.corpus import HELDOUT_SEED
    from superres.data.procedural import make_texture

    hr = make_texture(HELDOUT_SEED + 100, 96, "rendered")[1]
    low = resize(hr, (96 // scale, 96 // scale), filter="bicubic")
    low = np.clip(low, 0, 1).astype(np.float32)
    bicubic = np.clip(resize(low, (96, 96), filter="bicubic"), 0, 1)
    sr, _ = upscale(low, scale=scale, sharpness=0.0)
    crop = (slice(scale, -scale), slice(scale, -scale))
    mse = lambda a: float(np.mean((a[crop] - hr[crop]) ** 2))
    assert mse(sr) < mse(bicubic)


def test_the_psnr_model_follows_the_source(tmp_path):
    """Clean sources get x{s}_psnr_clean.pt, degraded ones x{s}_psnr.pt; a weights folder
    without a clean model (a training run's) uses x{s}_psnr.pt for both."""
    assert psnr_weights_path(4, "clean").name == "x4_psnr_clean.pt"
    assert psnr_weights_path(4, "degraded").name == "x4_psnr.pt"
    clean, degraded = load_generator(4, source="clean"), load_generator(4, source="degraded")
    assert not torch.equal(clean.state_dict()["head.weight"], degraded.state_dict()["head.weight"])
    for kind in ("psnr", "gan"):
        (tmp_path / f"x4_{kind}.pt").write_bytes(shipped_weights_path(4, kind).read_bytes())
    assert psnr_weights_path(4, "clean", tmp_path) == tmp_path / "x4_psnr.pt"
    fallback = load_generator(4, source="clean", weights_dir=tmp_path)
    assert torch.equal(fallback.state_dict()["head.weight"], degraded.state_dict()["head.weight"])
    low = np.full((8, 8, 3), 0.5, np.float32)
    assert upscale(low, scale=4, source="degraded")[1]["source"] == "degraded"
    with pytest.raises(SuperResInputError, match="source"):
        upscale(low, scale=4, source="pristine")


def test_the_gan_model_follows_the_source(tmp_path):
    """Degraded sources sharpen towards x{s}_gan_degraded.pt where a weights folder has one
    (its GAN stage saw JPEG and DXT blocks), else towards x{s}_gan.pt, as clean ones do."""
    for kind in ("psnr", "gan"):
        (tmp_path / f"x4_{kind}.pt").write_bytes(shipped_weights_path(4, kind).read_bytes())
    name = "head.weight"
    gan = load_generator(4, 1.0, weights_dir=tmp_path).state_dict()[name]
    assert gan_weights_path(4, "degraded", tmp_path) == tmp_path / "x4_gan.pt"
    assert torch.equal(load_generator(4, 1.0, source="degraded", weights_dir=tmp_path).state_dict()[name], gan)
    # a stand-in degraded-source GAN model: the PSNR model's weights
    (tmp_path / "x4_gan_degraded.pt").write_bytes((tmp_path / "x4_psnr.pt").read_bytes())
    assert gan_weights_path(4, "degraded", tmp_path) == tmp_path / "x4_gan_degraded.pt"
    assert gan_weights_path(4, "clean", tmp_path) == tmp_path / "x4_gan.pt"
    psnr = load_generator(4, 0.0, source="degraded", weights_dir=tmp_path).state_dict()[name]
    assert torch.equal(load_generator(4, 1.0, source="degraded", weights_dir=tmp_path).state_dict()[name], psnr)
    assert torch.equal(load_generator(4, 1.0, source="clean", weights_dir=tmp_path).state_dict()[name], gan)
    with pytest.raises(SuperResInputError, match="source"):
        gan_weights_path(4, "pristine")

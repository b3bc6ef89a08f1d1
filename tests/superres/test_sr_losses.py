import cv2
import numpy as np
import torch

from superres import losses


def _texture(seed=0, size=48):
    from superres.data.procedural import make_texture

    image = make_texture(seed, size, "decal")[1]
    return torch.from_numpy(image).permute(2, 0, 1)[None]


def test_log_kernel_is_15x15_zero_sum_with_negative_centre():
    kernel = losses.log_kernel()
    assert kernel.shape == (1, 1, 15, 15)
    assert abs(kernel.sum().item()) < 1e-6
    assert kernel[0, 0, 7, 7] == kernel.min()
    assert torch.allclose(kernel, kernel.transpose(2, 3))


def test_hfen_is_zero_for_identical_and_grows_with_blur():
    sharp = _texture()
    assert losses.hfen(sharp, sharp).item() == 0.0
    blur = lambda s: torch.from_numpy(cv2.GaussianBlur(sharp[0].permute(1, 2, 0).numpy(), (0, 0), s)).permute(2, 0, 1)[None]
    mild, strong = losses.hfen(blur(0.7), sharp).item(), losses.hfen(blur(2.0), sharp).item()
    assert 0 < mild < strong
    assert losses.hfen_loss(blur(2.0), sharp) > losses.hfen_loss(blur(0.7), sharp) > 0


def test_hfen_as_a_batch_loss_trains_towards_the_metric_and_stays_bounded_on_flat_patches():
    first = _texture(0)
    flat = torch.full_like(first, 0.5)
    noisy = first + 0.02 * torch.randn(first.shape, generator=torch.Generator().manual_seed(1))
    # A flat patch in the batch (almost no LoG energy) does not blow the loss up.
    batch_loss = losses.hfen(torch.cat([noisy, flat + 0.02]), torch.cat([first, flat]))
    assert batch_loss < 2 * losses.hfen(noisy, first)
    # A few gradient steps on a blurred prediction lower the metric.
    blurred = torch.nn.functional.avg_pool2d(first, 3, stride=1, padding=1, count_include_pad=False)
    prediction = blurred.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([prediction], lr=0.01)
    before = losses.hfen(blurred, first).item()
    for _ in range(20):
        optimiser.zero_grad()
        losses.hfen(prediction, first).backward()
        optimiser.step()
    assert losses.hfen(prediction.detach(), first).item() < 0.7 * before


def test_hfen_ignores_brightness_offsets():
    sharp = _texture() * 0.8
    assert losses.hfen(sharp + 0.1, sharp).item() < 1e-4


def test_perceptual_loss_is_zero_for_identical_and_has_gradients():
    loss = losses.PerceptualLoss()
    target = _texture(1)
    assert loss(target, target).item() < 1e-7
    prediction = (target + 0.05 * torch.randn_like(target)).requires_grad_(True)
    value = loss(prediction, target)
    value.backward()
    assert value.item() > 0
    assert prediction.grad.abs().sum() > 0


def test_relativistic_losses_reward_the_right_side():
    real = torch.tensor([3.0, 2.5, 4.0])
    fake = torch.tensor([-2.0, -1.0, -3.0])
    # discriminator separating real from fake has a low loss, the generator a high one
    assert losses.relativistic_d_loss(real, fake) < losses.relativistic_d_loss(fake, real)
    assert losses.relativistic_g_loss(real, fake) > losses.relativistic_g_loss(fake, real)
    fake_param = fake.clone().requires_grad_(True)
    losses.relativistic_g_loss(real, fake_param).backward()
    assert (fake_param.grad < 0).all()  # the generator pushes fake logits up


def test_psnr_matches_definition():
    a = torch.zeros(1, 3, 8, 8)
    b = torch.full((1, 3, 8, 8), 0.1)
    assert abs(losses.psnr(a, b) - 20.0) < 1e-4
    assert np.isclose(losses.pixel_mse(a, b).item(), 0.01)

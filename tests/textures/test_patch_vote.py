"""Nearest-patch voting: exact on real patches, circular, honours the mask."""
import torch

from textures.synthesis.patch_vote import key_stride, vote
from textures.synthesis.procedural import bricks, stones


def as_tensor(image) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float()


def test_an_exemplar_crop_votes_to_itself_inside():
    source = as_tensor(stones(40, seed=1))
    crop = source[..., 5:29, 7:31].clone()
    voted = vote(crop, source, 5, dims=75)  # exact search (3 * 5 * 5 dims)
    # Away from the (wrapped) border every covering patch is a real exemplar patch.
    assert torch.allclose(voted[..., 4:-4, 4:-4], crop[..., 4:-4, 4:-4], atol=1e-5)


def test_voting_is_circular():
    generator = torch.Generator().manual_seed(0)
    source = as_tensor(bricks(32, seed=2))
    output = torch.rand(1, 3, 20, 24, generator=generator)
    shifted = torch.roll(output, shifts=(7, -5), dims=(2, 3))
    first = vote(output, source, 5)
    second = vote(shifted, source, 5)
    assert torch.allclose(torch.roll(first, shifts=(7, -5), dims=(2, 3)), second, atol=1e-5)


def test_ignored_exemplar_pixels_are_never_copied():
    source = as_tensor(stones(40, seed=4))
    source[..., 10:20, 10:20] = torch.tensor([5.0, -5.0, 5.0]).view(1, 3, 1, 1)  # a "logo"
    ignore = torch.zeros(1, 1, 40, 40)
    ignore[..., 10:20, 10:20] = 1
    output = source[..., 8:32, 8:32].clone()  # starts right on top of the logo
    voted = vote(output, source, 5, ignore=ignore)
    assert float(voted.max()) < 2.0 and float(voted.min()) > -1.0
    unmasked = vote(output, source, 5)
    assert float(unmasked.max()) > 4.0  # without the mask the logo is the best match


def test_large_sources_are_searched_on_a_grid():
    assert key_stride(torch.zeros(1, 3, 40, 40), 5, 4096) == 1
    stride = key_stride(torch.zeros(1, 3, 262, 262), 7, 4096)
    assert stride == 4 and (256 // stride) ** 2 <= 4096

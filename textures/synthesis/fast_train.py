"""Training loop of the fast-mode generator against one exemplar (multi-scale patch SWD)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .generator import TextureGenerator
from .colour import ChannelBasis
from .optimise import Progress
from .patch_swd import PatchSWD


def train_generator(exemplar: torch.Tensor, *, seed: int = 0, steps: int = 400,
                    train_size: int = 128, scales: tuple[int, ...] = (1, 2, 4),
                    width: int = 16, learning_rate: float = 3e-3,
                    ignore: torch.Tensor | None = None,
                    progress: Progress | None = None) -> TextureGenerator:
    """Fit a `TextureGenerator` to `exemplar` `(1,C,H,W)`; returns it in eval mode.

    Each step generates one `train_size`^2 periodic sample and compares its patches
    with the exemplar's at each downsampling factor in `scales` (fine detail and larger
    structure). ignore: optional `(1,1,H,W)` mask of exemplar pixels to leave out.
    """
    torch.manual_seed(seed)  # weight initialisation
    generator = torch.Generator().manual_seed(int(seed))
    basis = ChannelBasis.fit(exemplar, ignore)
    source = basis.whiten(exemplar)
    model = TextureGenerator(exemplar.shape[1], width=width).to(exemplar.device)
    model.mean.copy_(basis.mean)
    model.to_white.copy_(basis.to_white)
    model.from_white.copy_(basis.from_white)
    losses = []
    for factor in scales:
        level = F.avg_pool2d(source, factor) if factor > 1 else source
        level_ignore = None
        if ignore is not None:
            level_ignore = F.max_pool2d(ignore.float(), factor) if factor > 1 else ignore.float()
        losses.append(PatchSWD(level, patch_size=5, projections=32, ignore=level_ignore))
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    size = (train_size, train_size)
    for step in range(steps):
        noises = [n.to(exemplar.device) for n in model.noise(1, size, generator)]
        image = model(noises)
        loss = image.new_zeros(())
        for factor, loss_fn in zip(scales, losses):
            loss_fn.redraw(generator)
            sample = F.avg_pool2d(image, factor) if factor > 1 else image
            loss = loss + loss_fn(sample, wrap=True)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if progress is not None and step % 10 == 0:
            progress(step / steps, "training fast generator")
    model.eval()
    return model

"""RRDB generator (ESRGAN, Wang et al. 2018), shrunk for CPU inference.

Differences from the published network, all for speed on a 2-core CPU:
- fewer and thinner blocks (default 32 features, growth 16, 2 RRDBs: ~0.4 M
  parameters instead of 16.7 M);
- the image is reconstructed at low resolution and moved to high resolution
  with a pixel shuffle (ESPCN), so no convolution runs at the output size;
- the network predicts a residual over bicubic up-sampling, so an untrained
  network already equals bicubic and short training only has to add detail.
No batch normalisation (ESRGAN removes it: it causes artefacts in GAN training).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions with a scaled residual."""

    def __init__(self, features: int, growth: int):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(features + i * growth, growth if i < 4 else features, 3, padding=1)
            for i in range(5)
        )
        self.act = nn.LeakyReLU(0.2, inplace=True)
        # Small initialisation of the last conv keeps a deep residual stack
        # close to identity at the start (ESRGAN uses a 0.1 scale).
        with torch.no_grad():
            for conv in self.convs:
                nn.init.kaiming_normal_(conv.weight, a=0.2)
                conv.weight.mul_(0.1)
                conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stack = [x]
        for i, conv in enumerate(self.convs):
            out = conv(torch.cat(stack, dim=1))
            if i < 4:
                stack.append(self.act(out))
        return x + 0.2 * out


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks and a scaled skip."""

    def __init__(self, features: int, growth: int):
        super().__init__()
        self.blocks = nn.Sequential(*(ResidualDenseBlock(features, growth) for _ in range(3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.blocks(x)


class RRDBNet(nn.Module):
    """x2 / x4 super-resolution generator.

    forward: `(B,3,h,w)` sRGB-encoded RGB in [0,1] -> `(B,3,h*scale,w*scale)`,
    same encoding, not clipped (callers clip). The receptive field is finite,
    so tiled inference with enough overlap equals whole-image inference.
    """

    def __init__(self, scale: int = 4, features: int = 32, growth: int = 16, blocks: int = 2):
        super().__init__()
        if scale not in (2, 4):
            raise ValueError("scale must be 2 or 4")
        self.scale = scale
        self.config = {"scale": scale, "features": features, "growth": growth, "blocks": blocks}
        self.head = nn.Conv2d(3, features, 3, padding=1)
        self.body = nn.Sequential(*(RRDB(features, growth) for _ in range(blocks)))
        self.body_tail = nn.Conv2d(features, features, 3, padding=1)
        self.reconstruct = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(features, 3 * scale * scale, 3, padding=1),
        )
        self.shuffle = nn.PixelShuffle(scale)
        with torch.no_grad():
            # Start as exact bicubic: the residual branch outputs zero.
            self.reconstruct[-1].weight.mul_(0.1)
            self.reconstruct[-1].bias.zero_()

    def forward(self, low_res: torch.Tensor) -> torch.Tensor:
        feat = self.head(low_res)
        feat = feat + self.body_tail(self.body(feat))
        residual = self.shuffle(self.reconstruct(feat))
        base = F.interpolate(low_res, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + residual


def deepen(generator: RRDBNet, blocks: int) -> RRDBNet:
    """A copy of `generator` with RRDBs appended up to `blocks`, computing the same function.

    Lets a trained network grow instead of starting over (the PSNR stage continues
    from the copy): each new dense block's last convolution starts at zero, so the
    new RRDB maps x to 1.2 x (its dense blocks are identities, plus its 0.2-scaled
    skip); the tail convolution is scaled by 1/1.2 to absorb that.
    """
    config = dict(generator.config)
    if blocks < config["blocks"]:
        raise ValueError(f"cannot deepen a {config['blocks']}-block generator to {blocks} blocks")
    grown = RRDBNet(**{**config, "blocks": blocks})
    missing, unexpected = grown.load_state_dict(generator.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("body.") for k in missing), (missing, unexpected)
    with torch.no_grad():
        for rrdb in list(grown.body)[config["blocks"]:]:
            for dense in rrdb.blocks:
                dense.convs[-1].weight.zero_()
                dense.convs[-1].bias.zero_()
        grown.body_tail.weight.div_(1.2 ** (blocks - config["blocks"]))
    return grown


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

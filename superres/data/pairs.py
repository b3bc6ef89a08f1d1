"""Random LR/HR training batches cut from a list of HR images."""

from __future__ import annotations

import numpy as np
import torch

from superres.data.degrade import degrade


class PairSampler:
    """Draws `(low_res (B,3,p,p), high_res (B,3,p*s,p*s))` float32 sRGB in [0,1]
    batches: random crop, flip and 90-degree rotation of an HR image, then the
    degradation model."""

    def __init__(self, images: list[np.ndarray], scale: int, lr_patch: int, seed: int = 0,
                 clean_fraction: float = 0.5):
        hr_patch = lr_patch * scale
        self.images = [im for im in images if min(im.shape[:2]) >= hr_patch]
        if not self.images:
            raise ValueError(f"no HR image is at least {hr_patch} px on its short side")
        self.scale, self.lr_patch, self.hr_patch = scale, lr_patch, hr_patch
        self.clean_fraction = clean_fraction
        self.rng = np.random.default_rng(seed)

    def _crop(self) -> np.ndarray:
        image = self.images[int(self.rng.integers(len(self.images)))]
        y = int(self.rng.integers(image.shape[0] - self.hr_patch + 1))
        x = int(self.rng.integers(image.shape[1] - self.hr_patch + 1))
        patch = image[y:y + self.hr_patch, x:x + self.hr_patch]
        patch = patch.astype(np.float32) / 255.0 if patch.dtype == np.uint8 else patch.astype(np.float32)
        patch = np.rot90(patch, int(self.rng.integers(4)))
        if self.rng.random() < 0.5:
            patch = patch[:, ::-1]
        return np.ascontiguousarray(patch)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        highs, lows = [], []
        for _ in range(size):
            hr = self._crop()
            highs.append(hr)
            lows.append(degrade(hr, self.scale, self.rng, self.clean_fraction))
        to_tensor = lambda arrays: torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
        return to_tensor(lows), to_tensor(highs)

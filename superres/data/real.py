"""Real photographs for training and benchmarking, from the sample images that the
scikit-image wheel ships (`skimage/data/`, public domain or CC0, see its README).

Nothing is downloaded: only files inside the installed wheel are read, and the
package is never imported (its data folder is located through the import system).
The two lists are disjoint; the stereo pair `motorcycle_left/right` is kept out of
training entirely because its right view is held out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

TRAIN = ("brick", "grass", "gravel", "camera", "coins", "moon", "hubble_deep_field", "ihc", "retina",
         "page", "text", "color", "clock_motion", "cell")
HELDOUT = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_right")


def data_dir() -> Path:
    """The `skimage/data` folder of the installed scikit-image wheel."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-image is not installed: it ships the real sample photos "
                                "(pip install -r requirements.txt)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def real_images(names: tuple[str, ...] = TRAIN) -> list[tuple[str, np.ndarray]]:
    """`(name, (H,W,3) uint8 sRGB)` for each named sample photo (grey ones as RGB)."""
    from superres.data.corpus import load_hr_images

    folder = data_dir()
    paths = []
    for name in names:
        matches = sorted(folder.glob(f"{name}.*"))
        if not matches:
            raise FileNotFoundError(f"sample image {name!r} is missing from {folder}")
        paths.append(matches[0])
    images = load_hr_images(paths, min_side=0)
    return list(zip(names, images))

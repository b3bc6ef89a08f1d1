"""Natural photographs for training, from Debian's desktop-wallpaper packages.

The sample photos the scikit-image wheel ships (`real.py`) are mostly grey scans and
microscopy: they do not teach the network the detail of photographed scenes (foliage,
fur, rock, fabric), which is what the photo half of the held-out set and the standard
benchmark images show. Debian ships openly licensed photographs as wallpapers; this
command fetches them from the Debian archive (a package registry, as PyPI is for the
wheel) and prepares them as HR images for `python -m superres.train --hr-dir DIR`:

    python -m superres.data.photos /tmp/sr_photos

Each photograph is reduced to `LONG_SIDE` px on its long side by area averaging, which
removes the originals' JPEG artefacts and sensor noise (they are 1.7-6 times larger), so
the HR side of a training pair is clean. `SOURCES.txt` names each file's package,
author and licence. The photographs are not committed; the weights trained on them are.
None of them is in the held-out set (`real.HELDOUT`, scikit-image's own photos).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

LONG_SIDE = 1024
MIN_SHORT_SIDE = 512  # after the reduction; smaller originals are left out

_LOMIRI = "usr/share/backgrounds"
_MATE = "usr/share/backgrounds/mate/nature"
# package -> {path inside the package: (author, licence)}, from each package's
# debian/copyright (bookworm: lomiri-wallpapers-* 20.04.0-2, mate-backgrounds 1.26.0-1).
# Only photographs: the packages' drawings and abstract renders are left out.
PHOTOS: dict[str, dict[str, tuple[str, str]]] = {
    "lomiri-wallpapers-16.04": {
        f"{_LOMIRI}/Bridge_by_Sander_Klootwijk.jpg": ("Sander Klootwijk", "CC-BY-SA-4.0"),
        f"{_LOMIRI}/Dragonfly_by_Bolly.jpg": ("Bolly", "CC-BY-SA-4.0"),
        f"{_LOMIRI}/Picture_0B_by_freespace.jpg": ("freespace", "CC-BY-4.0"),
        f"{_LOMIRI}/Picture_1A_by_freespace.jpg": ("freespace", "CC-BY-4.0"),
        f"{_LOMIRI}/Wine_by_Jakkub_Mede.jpg": ("Jakkub Mede", "CC-BY-4.0"),
        f"{_LOMIRI}/aitzgorri_by_Aitzol_Berasategi.jpg": ("Aitzol Berasategi", "CC-BY-4.0"),
        f"{_LOMIRI}/analogpattern_by_Peter_Nerlich.jpg": ("Peter Nerlich", "CC-BY-SA-4.0"),
        f"{_LOMIRI}/free_by_Peter_Nerlich.jpg": ("Peter Nerlich", "CC-BY-SA-4.0"),
        f"{_LOMIRI}/friends_by_Aitzol_Berasategi.jpg": ("Aitzol Berasategi", "CC-BY-4.0"),
        f"{_LOMIRI}/greentock_by_Peter_Nerlich.jpg": ("Peter Nerlich", "CC-BY-SA-4.0"),
        f"{_LOMIRI}/life_by_Aitzol_Berasategi.jpg": ("Aitzol Berasategi", "CC-BY-4.0"),
        f"{_LOMIRI}/picosdeeuropa_by_Aitzol_Berasategi.jpg": ("Aitzol Berasategi", "CC-BY-4.0"),
        f"{_LOMIRI}/seeding_by_Clements_Engelhardt.jpg": ("Clements Engelhardt", "CC0-1.0"),
        f"{_LOMIRI}/sunset_by_Aitzol_Berasategi.jpg": ("Aitzol Berasategi", "CC-BY-4.0"),
    },
    "lomiri-wallpapers-20.04": {
        f"{_LOMIRI}/Kleiber_by_Lukas_Baubkus.jpg": ("Lukas Baubkus", "CC-BY-SA-3.0"),
    },
    "mate-backgrounds": {
        f"{_MATE}/{name}.jpg": (author, "GPL-2+") for name, author in (
            ("Aqua", "Charles Barbin"), ("Blinds", "Lennart Poettering"), ("Dune", "Marco Cogoni"),
            ("FreshFlower", "Jens Ansorg"), ("Garden", "MATE artists"), ("GreenMeadow", "Timothy Schellhase"),
            ("LadyBird", "MATE artists"), ("RainDrops", "blackcombwhistler07"), ("Storm", "Sergey Nazarov"),
            ("TwoWings", "Charles Barbin"), ("Wood", "Jean-François Fortin Tam"),
            ("YellowFlower", "MATE artists"))
    },
}


def reduce_photo(pixels: np.ndarray, long_side: int = LONG_SIDE) -> np.ndarray:
    """(H,W,3) uint8 sRGB -> the same reduced by area averaging to `long_side` px on its
    long side (returned unchanged when it is not larger)."""
    height, width = pixels.shape[:2]
    factor = long_side / max(height, width)
    if factor >= 1:
        return pixels
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def _download(package: str, folder: Path) -> Path:
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise RuntimeError("apt-get and dpkg-deb are needed (a Debian or Ubuntu machine); "
                           "or pass your own photographs to superres.train with --hr-dir")
    done = subprocess.run(["apt-get", "download", "-q", package], cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"apt-get download {package} failed ({done.stderr.strip() or done.returncode}); "
                           "on a fresh machine run apt-get update first")
    debs = sorted(folder.glob(f"{package}_*.deb"))
    if not debs:
        raise RuntimeError(f"apt-get download {package} gave no .deb file")
    root = folder / package
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], check=True)
    return root


def fetch(out_dir: Path, long_side: int = LONG_SIDE) -> list[Path]:
    """Download the packages, write the reduced photographs as PNG and SOURCES.txt into
    `out_dir`; returns the written images."""
    from PIL import Image, ImageOps

    out_dir.mkdir(parents=True, exist_ok=True)
    written, sources = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for package, files in PHOTOS.items():
            root = _download(package, Path(scratch))
            for inner, (author, licence) in files.items():
                if not (root / inner).is_file():  # a later release of the package may drop a file
                    print(f"left out {inner}: not in {package} any more", flush=True)
                    continue
                with Image.open(root / inner) as image:
                    pixels = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
                reduced = reduce_photo(pixels, long_side)
                if min(reduced.shape[:2]) < MIN_SHORT_SIDE:
                    print(f"left out {inner}: {reduced.shape[1]}x{reduced.shape[0]} after reduction", flush=True)
                    continue
                target = out_dir / (Path(inner).stem + ".png")
                cv2.imwrite(str(target), cv2.cvtColor(reduced, cv2.COLOR_RGB2BGR))
                written.append(target)
                sources.append(f"{target.name}\t{package}\t/{inner}\t{author}\t{licence}")
    (out_dir / "SOURCES.txt").write_text("file\tpackage\toriginal\tauthor\tlicence\n" + "\n".join(sources) + "\n")
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the PNGs and SOURCES.txt")
    parser.add_argument("--long-side", type=int, default=LONG_SIDE)
    args = parser.parse_args(argv)
    try:
        written = fetch(args.out_dir, args.long_side)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        sys.exit(f"error: {error}")
    print(f"{len(written)} photographs in {args.out_dir}")


if __name__ == "__main__":
    main()

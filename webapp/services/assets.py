"""Describing, naming and storing image files as Assets."""

import hashlib
import re
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.core.files.storage import default_storage

from webapp.models import Asset, AssetSet

# Roles whose pixels are data, not colour: stored and shown as linear values.
DATA_ROLES = {
    "normal", "roughness", "glossiness", "anisotropy", "height", "displacement",
    "ao", "occlusion", "metallic", "mask", "orm",
}
ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
EXTENSIONS = {"png": "png", "jpeg": "jpg", "tiff": "tif", "webp": "webp", "heic": "heic", "dng": "dng", "exr": "exr",
              "tga": "tga", "dds": "dds"}
# Asset formats that are images; an engine export also stores model files (gltf, glb, bin).
IMAGE_FORMATS = frozenset(EXTENSIONS)


def default_colour_space(role: str, bit_depth: str) -> str:
    return "linear" if role in DATA_ROLES or bit_depth == "32f" else "srgb"


def precision_rank(asset: Asset) -> int:
    """Orders files of one map by how much they hold: 8-bit < 16-bit < float (EXR)."""
    return {"8": 0, "16": 1, "32f": 2}.get(asset.bit_depth, 0)


def most_precise(assets, key) -> dict:
    """{key(asset): the most precise of the assets with that key} (the first on ties), for a set
    that holds one map twice, e.g. a capture's albedo.png and albedo.exr."""
    chosen = {}
    for asset in assets:
        k = key(asset)
        if k not in chosen or precision_rank(asset) > precision_rank(chosen[k]):
            chosen[k] = asset
    return chosen


def sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def unique_name(taken: set[str], stem: str, ext: str = "") -> str:
    """`stem.ext` (or `stem` without ext), numbered `stem_2.ext`, ... when taken; adds it to `taken`."""
    suffix = f".{ext}" if ext else ""
    name, index = f"{stem}{suffix}", 2
    while name in taken:
        name, index = f"{stem}_{index}{suffix}", index + 1
    taken.add(name)
    return name


def store_file(asset_set: AssetSet, path: Path, *, name: str, role: str, info, colour_space: str,
               original_name: str = "", source: Asset | None = None, metadata: dict | None = None) -> Asset:
    """Copy `path` into storage under the set's prefix and create its Asset row (caller holds the transaction).

    `info` is an `imaging.io.ImageInfo` (or `Image`) describing the file.
    """
    digest, size = sha256_of(path)
    asset = Asset(
        asset_set=asset_set, name=name, role=role, original_name=original_name[:255],
        format=info.format, width=info.width, height=info.height, channels=info.channels,
        bit_depth=info.bit_depth, colour_space=colour_space, byte_size=size, sha256=digest,
        source=source, metadata=metadata or {},
    )
    with open(path, "rb") as handle:
        asset.file.save(name, File(handle), save=False)
    asset.save()
    return asset


def delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # best effort: a leftover file is invisible without its row
            pass


def delete_file_with_row(sender, instance, **kwargs) -> None:
    """post_delete receiver for models with a `file`: the stored file goes once the row's
    deletion commits (however it was deleted: the row itself, its set, its project)."""
    name = instance.file.name if instance.file else ""
    if name:
        transaction.on_commit(lambda: delete_files([name]))


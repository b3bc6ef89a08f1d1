"""Uploads: check every file by content, size and pixel count, then store them all or none."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from rest_framework.exceptions import ValidationError

from imaging.io import ImageFormatError, ImageInfo, ImageTooLargeError, probe_image, read_image
from webapp.api.errors import PayloadTooLarge
from webapp.models import MAX_TAGS, AssetSet, AssetSetKind, Project
from webapp.services.assets import (
    EXTENSIONS, ROLE_PATTERN, default_colour_space, delete_files, store_file, unique_name,
)


@dataclass
class CheckedUpload:
    path: Path
    original_name: str
    role: str
    colour_space: str
    info: ImageInfo  # as decoded: size after EXIF orientation
    exif: dict


def _local_path(uploaded, workdir: Path, index: int) -> Path:
    if hasattr(uploaded, "temporary_file_path"):
        return Path(uploaded.temporary_file_path())
    path = workdir / f"upload-{index}"
    with open(path, "wb") as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)
    return path


def check_upload(uploaded, index: int, role: str, colour_space: str | None, workdir: Path) -> CheckedUpload:
    field = f"files[{index}]"
    label = uploaded.name or field
    if uploaded.size > settings.MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            f"{field} ({label}): {uploaded.size} bytes is over the limit of {settings.MAX_UPLOAD_BYTES} bytes."
        )
    if not ROLE_PATTERN.match(role):
        raise ValidationError({f"roles[{index}]": f"'{role}' is not a valid role (lower-case letters, digits, - and _)."})
    path = _local_path(uploaded, workdir, index)
    try:
        info = probe_image(path)
        if info.width * info.height > settings.MAX_UPLOAD_PIXELS:
            raise ImageTooLargeError(
                f"{info.width}x{info.height} pixels is over the limit of {settings.MAX_UPLOAD_PIXELS} pixels"
            )
        # A full decode is the only proof that the file is a whole, readable image.
        image = read_image(path, max_pixels=settings.MAX_UPLOAD_PIXELS)
    except ImageTooLargeError as exc:
        raise PayloadTooLarge(f"{field} ({label}): {exc}.") from exc
    except ImageFormatError as exc:
        raise ValidationError({field: f"{label} is not a readable image: {exc}"}) from exc
    decoded = ImageInfo(image.format, image.width, image.height, image.channels, image.bit_depth)
    space = colour_space or default_colour_space(role, image.bit_depth)
    return CheckedUpload(path, uploaded.name or "", role, space, decoded, image.exif)


def store_uploads(project: Project, files: list, roles: list[str], *, asset_set: AssetSet | None = None,
                  set_name: str = "", tags: list[str] | None = None, colour_space: str | None = None):
    """Check all files, then create (or extend) the asset set and its assets in one transaction.

    Any bad file rejects the whole request and nothing is stored.
    """
    if not files:
        raise ValidationError({"files": "No files were uploaded."})
    if len(files) > settings.MAX_UPLOAD_FILES:
        raise ValidationError({"files": f"At most {settings.MAX_UPLOAD_FILES} files per request."})
    if len(roles) not in (0, 1, len(files)):
        raise ValidationError({"roles": "Give one role for all files or one role per file."})
    roles = roles * len(files) if len(roles) == 1 else (roles or ["texture"] * len(files))

    with tempfile.TemporaryDirectory(prefix="upload-") as workdir:
        checked = [check_upload(f, i, roles[i], colour_space, Path(workdir)) for i, f in enumerate(files)]
        stored: list[str] = []
        try:
            with transaction.atomic():
                if asset_set is None:
                    asset_set = AssetSet(project=project, name=set_name or checked[0].original_name or "Upload",
                                         kind=AssetSetKind.UPLOAD)
                    asset_set.set_tags(tags or [])
                    asset_set.save()
                elif tags:
                    if len(set(asset_set.tags) | {t.strip() for t in tags}) > MAX_TAGS:
                        raise ValidationError({"tags": f"A set has at most {MAX_TAGS} tags."})
                    asset_set.set_tags(list(asset_set.tags) + list(tags))
                    asset_set.save(update_fields=["tags", "tag_index"])
                taken = set(asset_set.assets.values_list("name", flat=True))
                assets = []
                for item in checked:
                    name = unique_name(taken, item.role, EXTENSIONS[item.info.format])
                    asset = store_file(asset_set, item.path, name=name, role=item.role, info=item.info,
                                       colour_space=item.colour_space, original_name=item.original_name,
                                       metadata={"exif": _json_safe(item.exif)} if item.exif else {})
                    stored.append(asset.file.name)
                    assets.append(asset)
        except Exception:
            delete_files(stored)
            raise
    return asset_set, assets


def _json_safe(exif: dict) -> dict:
    safe = {}
    for key, value in exif.items():
        if isinstance(value, (int, float, str, bool)) and not (isinstance(value, str) and len(value) > 200):
            safe[str(key)] = value
    return safe

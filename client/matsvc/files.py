"""Writing files safely: a file appears under its name only once it is complete, with the mode any
new file of the user gets (their umask applies), and hashing files in chunks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_writer(dest: str | os.PathLike) -> Iterator[BinaryIO]:
    """Write into a hidden temporary file beside `dest`, then rename it over `dest`; on any error
    the temporary file is removed and `dest` is left as it was."""
    dest = Path(dest)
    handle, partial = _create_partial(dest)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def _create_partial(dest: Path) -> tuple[int, Path]:
    # os.open with 0o666 lets the umask decide the mode, as for any file the user creates
    # (tempfile.mkstemp would make it 0600 whatever the umask).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        partial = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        for chunk in iter(lambda: src.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()

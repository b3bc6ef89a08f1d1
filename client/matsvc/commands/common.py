"""What the tool commands share: finding the project, waiting for a job with a progress bar,
and fetching an output set into a folder."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..client import Client
from ..errors import ApiError, MatsvcError
from ..progress import ProgressBar
from ..types import Job


class UsageError(MatsvcError):
    """The command line asks for something impossible (exit status 2, like argparse's errors)."""


class Interrupted(MatsvcError):
    """Ctrl-C while waiting: the job was cancelled on the server too."""


def say(message: str) -> None:
    """Human-readable news goes to stderr; stdout carries only the paths written, for scripts."""
    print(message, file=sys.stderr, flush=True)


def add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", "-p", help="Project id, slug or name (default: your only project).")


def project_id(client: Client, ref: str | None) -> str:
    if ref:
        return client.resolve_project(ref)["id"]
    projects = client.projects()
    if len(projects) == 1:
        return projects[0]["id"]
    choices = ", ".join(p["slug"] for p in projects) or "none yet"
    raise ApiError(400, f"Give --project (yours: {choices}).", code="project_required")


def wait_with_progress(client: Client, project: str, job: Job, label: str) -> Job:
    """Wait for the job, drawing its progress; Ctrl-C cancels it rather than leaving it running
    unseen. Raises `JobFailed` when it fails."""
    bar = ProgressBar(label)
    try:
        return client.wait(project, job, on_progress=lambda state: bar.update(
            state.get("progress") or 0.0, state.get("stage") or state.get("status", "")))
    except KeyboardInterrupt:
        bar.close()
        try:
            client.cancel(project, job["id"])
        except (MatsvcError, OSError):
            raise Interrupted(f"interrupted; job {job['id']} may still be running") from None
        raise Interrupted(f"interrupted; cancelled job {job['id']}") from None
    finally:
        bar.close()


def fetch_set(client: Client, project: str, set_id: str, out_dir: Path) -> list[Path]:
    """Download an asset set as a zip and unpack it into `out_dir`; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".matsvc-", dir=out_dir) as scratch:
        archive = client.download_set_zip(project, set_id, Path(scratch) / "set.zip")
        return extract_flat(archive, out_dir)


def extract_flat(archive: Path, out_dir: Path) -> list[Path]:
    """Unpack a zip's files into `out_dir` by their base names: whatever names the archive holds,
    nothing lands outside `out_dir`."""
    written = []
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            name = PurePosixPath(member.filename.replace("\\", "/")).name
            if member.is_dir() or name in ("", ".", ".."):
                continue
            target = out_dir / name
            with zf.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            written.append(target)
    return written


def print_paths(paths: list[Path]) -> None:
    for path in paths:
        print(path, flush=True)

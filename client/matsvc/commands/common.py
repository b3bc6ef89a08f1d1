"""What the tool commands share: finding the project and the input files, waiting for a job with a
progress bar, and fetching an output set into a folder without overwriting files unasked."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..client import Client
from ..errors import ApiError, JobUnreachable, MatsvcError, network_reason
from ..files import atomic_writer
from ..progress import ProgressBar
from ..types import Job

# The bar stays below this until the job has succeeded: the last steps (saving the outputs) can still fail.
UNFINISHED_MAX = 0.99


class UsageError(MatsvcError):
    """The command line asks for something impossible (exit status 2, like argparse's errors)."""


class Interrupted(MatsvcError):
    """Ctrl-C while waiting: the job was cancelled on the server too."""


class OutputsExist(MatsvcError):
    """Files to be written are there already and --overwrite was not given."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        names = ", ".join(p.name for p in paths[:8]) + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
        super().__init__(f"Not overwriting {len(paths)} existing file{'s' if len(paths) > 1 else ''} in "
                         f"{paths[0].parent}: {names}; pass --overwrite to replace them, or -o another folder.")


def say(message: str) -> None:
    """Human-readable news goes to stderr; stdout carries only the paths written, for scripts."""
    print(message, file=sys.stderr, flush=True)


def say_started(job: Job, what: str) -> None:
    """A job just created is queued; one that is further along was started by an earlier run."""
    if job.get("status", "queued") == "queued":
        say(f"{what} job {job['id']} started.")
    else:
        say(f"{what} job {job['id']} is {job['status']} (started by an earlier run).")


def add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", "-p", help="Project id, slug or name (default: your only project).")


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true", help="Replace files of the same name in the output "
                        "folder (without it, when there are any, nothing is written and the command fails).")


def input_file(path: Path) -> Path:
    """An input image given on the command line, checked before anything is sent."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give an image file.")
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    return path


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

    def lost(error: BaseException) -> None:
        bar.close()
        say(f"Lost contact with the server ({network_reason(error)}); still trying for up to "
            f"{client.retry_for:.0f} s...")

    try:
        return client.wait(project, job, on_connection_lost=lost,
                           on_progress=lambda state: bar.update(shown_fraction(state),
                                                                state.get("stage") or state.get("status", "")))
    except KeyboardInterrupt:
        bar.close()
        try:
            client.cancel(project, job["id"])
        except (MatsvcError, OSError):
            raise Interrupted(f"interrupted; job {job['id']} may still be running") from None
        raise Interrupted(f"interrupted; cancelled job {job['id']}") from None
    except JobUnreachable as exc:
        raise MatsvcError(f"{exc}: check it later with `matsvc job {exc.job_id} --project {project}`.") from exc
    finally:
        bar.close()


def shown_fraction(job: Job) -> float:
    """The job's progress, but 100 % only once it has succeeded."""
    fraction = float(job.get("progress") or 0.0)
    return 1.0 if job.get("status") == "succeeded" else min(fraction, UNFINISHED_MAX)


def fetch_set(client: Client, project: str, set_id: str, out_dir: Path, overwrite: bool = False) -> list[Path]:
    """Download an asset set as a zip and unpack it into `out_dir`; returns the files written.
    Raises `OutputsExist` (writing nothing) when some are there already, unless `overwrite`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".matsvc-", dir=out_dir) as scratch:
        archive = client.download_set_zip(project, set_id, Path(scratch) / "set.zip")
        return extract_flat(archive, out_dir, overwrite)


def extract_flat(archive: Path, out_dir: Path, overwrite: bool = False) -> list[Path]:
    """Unpack a zip's files into `out_dir` by their base names: whatever names the archive holds,
    nothing lands outside `out_dir`. Each file is written beside its name and renamed into place when
    complete; when some exist already nothing is written, unless `overwrite`."""
    with zipfile.ZipFile(archive) as zf:
        members = []
        for member in zf.infolist():
            name = PurePosixPath(member.filename.replace("\\", "/")).name
            if not member.is_dir() and name not in ("", ".", ".."):
                members.append((member, out_dir / name))
        existing = [target for _, target in members if target.exists()]
        if existing and not overwrite:
            raise OutputsExist(existing)
        for member, target in members:
            with zf.open(member) as src, atomic_writer(target) as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
    return [target for _, target in members]


def print_paths(paths: list[Path]) -> None:
    for path in paths:
        print(path, flush=True)

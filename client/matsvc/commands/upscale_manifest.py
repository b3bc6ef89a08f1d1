"""The record `matsvc upscale` keeps in its output folder, `.matsvc-upscale.json`: for each output,
the source file it was made from (path, size, mtime, SHA-256), the settings used, the output's own
size, mtime and SHA-256, and the job. A re-run skips an output only when all of these still hold."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..files import atomic_writer, sha256_of

MANIFEST_NAME = ".matsvc-upscale.json"
VERSION = 1
# The service writes float images as EXR and everything else as PNG.
OUTPUT_SUFFIXES = (".png", ".exr")


@dataclass(frozen=True)
class Stamp:
    """A file's content, checked cheaply by size and mtime, and by SHA-256 when only the mtime moved
    (a copy or a checkout rewrites the file with the same bytes)."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path, sha256: str | None = None) -> Stamp:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns, sha256 or sha256_of(path))

    def matches(self, path: Path) -> bool:
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != self.size:
            return False
        return stat.st_mtime_ns == self.mtime_ns or sha256_of(path) == self.sha256


@dataclass(frozen=True)
class Verdict:
    """`action`: "skip" (up to date), "do" (new, or redo: `reason` says why) or "blocked" (an output
    is there that this tool did not make, or that changed since: not overwritten without --overwrite)."""

    action: str
    reason: str = ""


class Manifest:
    def __init__(self, folder: Path, entries: dict | None = None, problem: str | None = None):
        self.folder = folder
        self.entries = entries or {}
        self.problem = problem  # why an existing manifest could not be used

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_NAME

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_NAME
        if not path.exists():
            return cls(folder)
        try:
            data = json.loads(path.read_text())
            if data.get("version") != VERSION or not isinstance(data.get("outputs"), dict):
                raise ValueError(f"not a version {VERSION} record")
            for entry in data["outputs"].values():
                _check(entry)
        except (OSError, ValueError, AttributeError, KeyError, TypeError) as exc:
            return cls(folder, problem=f"Ignoring {path} ({exc}): its outputs count as not made by this tool.")
        return cls(folder, data["outputs"])

    def verdict(self, source: Path, settings: dict, overwrite: bool = False) -> Verdict:
        entry = self.entries.get(source.stem)
        ours = self._our_output(entry)
        others = [p for p in self._candidates(source) if p.exists() and p != ours]
        changes = self._changes(entry, source, settings) if ours else []
        if ours and not changes:
            return Verdict("skip", f"{ours} is up to date")
        if others and not overwrite:
            return Verdict("blocked", self._foreign(others[0], entry))
        if ours:
            return Verdict("do", "; ".join(changes))
        if entry is not None:
            return Verdict("do", "its output is gone" if not others else "overwriting it (--overwrite)")
        return Verdict("do", "overwriting it (--overwrite)" if others else "")

    def record(self, source: Path, source_stamp: Stamp, settings: dict, output: Path, job_id: str) -> None:
        """Note a finished output and save the manifest (so an interrupted batch keeps what it did)."""
        previous = self.entries.get(source.stem)
        replaced = self._our_output(previous)
        if replaced is not None and replaced != output:  # the new output has the other suffix
            replaced.unlink()
        self.entries[source.stem] = {
            "source": str(source.resolve()), "source_stamp": asdict(source_stamp), "settings": settings,
            "output": output.name, "output_stamp": asdict(Stamp.of(output)), "job": job_id}
        self.save()

    def save(self) -> None:
        text = json.dumps({"version": VERSION, "outputs": self.entries}, indent=1, sort_keys=True) + "\n"
        with atomic_writer(self.path) as out:
            out.write(text.encode())

    def _candidates(self, source: Path) -> list[Path]:
        return [self.folder / (source.stem + suffix) for suffix in OUTPUT_SUFFIXES]

    def _our_output(self, entry: dict | None) -> Path | None:
        """The entry's output, if it is still there exactly as this tool wrote it."""
        if not entry:
            return None
        output = self.folder / entry["output"]
        return output if _stamp(entry["output_stamp"]).matches(output) else None

    @staticmethod
    def _changes(entry: dict, source: Path, settings: dict) -> list[str]:
        changes = []
        if entry["source"] != str(source.resolve()):
            changes.append(f"it was made from {entry['source']}")
        elif not _stamp(entry["source_stamp"]).matches(source):
            changes.append("the source file changed")
        for name in sorted(set(settings) | set(entry["settings"])):
            before, now = entry["settings"].get(name), settings.get(name)
            if before != now:
                changes.append(f"{name} {before} -> {now}")
        return changes

    def _foreign(self, output: Path, entry: dict | None) -> str:
        if entry is not None and entry["output"] == output.name:
            return f"{output} changed since matsvc upscale wrote it"
        return f"{output} was not made by matsvc upscale (no record of it in {self.path.name})"


def _check(entry: dict) -> None:
    """Raises for an entry that lacks a field (a file edited by hand, or truncated)."""
    _stamp(entry["source_stamp"]), _stamp(entry["output_stamp"])
    if not (isinstance(entry["source"], str) and isinstance(entry["output"], str)
            and isinstance(entry["settings"], dict)):
        raise ValueError("an entry is malformed")


def _stamp(fields: dict) -> Stamp:
    return Stamp(int(fields["size"]), int(fields["mtime_ns"]), str(fields["sha256"]))

"""What a runner sees while it works: its inputs, a progress callback and a staging area for outputs.

Outputs are written to a private staging directory first; `webapp.services.jobs.commit_outputs`
moves them into storage and creates the asset set in one step once the runner returns, so a
failed, cancelled or killed attempt never leaves a half-written set.
"""

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import default_storage

from webapp.models import Asset, Job, JobStatus


class JobCancelled(Exception):
    """Raised from `progress()` when the job was cancelled; the runner must not catch it."""


class JobInputError(ValueError):
    """A failure caused by the user's input; its message is shown to the user as is."""


@dataclass
class StagedAsset:
    path: Path
    name: str
    role: str
    colour_space: str
    source: Asset | None = None
    metadata: dict = field(default_factory=dict)
    # What to record for a file that is not an image (e.g. a .gltf): an imaging.io.ImageInfo.
    # None: probed from the file's header when committed.
    info: object | None = None


@dataclass
class StagedOutputs:
    name: str = ""
    kind: str = ""
    tags: list[str] = field(default_factory=list)
    assets: list[StagedAsset] = field(default_factory=list)


class JobContext:
    # Progress rows are written at most this often unless the stage text changes.
    PROGRESS_INTERVAL_S = 0.25

    def __init__(self, job: Job, params: dict, inputs: dict[str, list[Asset]], staging_dir: Path, device: str):
        self.job = job
        self.params = params
        self.inputs = inputs
        self.staging_dir = staging_dir
        self.device = device
        self.outputs = StagedOutputs()
        self.result: dict = {}
        # Extra rows a runner creates with its outputs (e.g. a trained model): called as
        # step(job, stored_files) inside the commit transaction; append storage names to stored_files.
        self.commit_steps: list = []
        self._last_write = 0.0
        self._last_stage = None
        (staging_dir / "out").mkdir(parents=True, exist_ok=True)

    # -- progress and cancellation -------------------------------------------------------
    def progress(self, fraction: float, stage: str = "") -> None:
        """Record progress in [0,1]; raises JobCancelled if the job was cancelled meanwhile."""
        now = time.monotonic()
        if stage == self._last_stage and now - self._last_write < self.PROGRESS_INTERVAL_S:
            return
        self._last_write, self._last_stage = now, stage
        fraction = min(max(float(fraction), 0.0), 1.0)
        updated = Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            progress=fraction, stage=stage[:200]
        )
        if not updated:
            raise JobCancelled(str(self.job.pk))

    def check_cancelled(self) -> None:
        if Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).count() == 0:
            raise JobCancelled(str(self.job.pk))

    # -- inputs ----------------------------------------------------------------------------
    def input_path(self, asset: Asset) -> Path:
        """A local file path for an input asset (downloaded into staging for remote storage)."""
        try:
            return Path(default_storage.path(asset.file.name))
        except NotImplementedError:
            local = self.staging_dir / "in" / f"{asset.id}-{Path(asset.file.name).name}"
            if not local.exists():
                local.parent.mkdir(parents=True, exist_ok=True)
                with default_storage.open(asset.file.name, "rb") as src, open(local, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
            return local

    def read_input(self, asset: Asset):
        from imaging.io import read_image

        return read_image(self.input_path(asset))

    # -- outputs ---------------------------------------------------------------------------
    def output_path(self, name: str) -> Path:
        """A path in the staging area to write an output file to (then call `add_output`)."""
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad output name {name!r}")
        return self.staging_dir / "out" / name

    def add_output(self, name: str, role: str, *, pixels=None, colour_space: str = "srgb",
                   bit_depth: str | None = None, source: Asset | None = None, metadata: dict | None = None,
                   info=None, write_options: dict | None = None) -> Path:
        """Stage one output image: `pixels` (numpy (H,W,C)) is encoded by the file extension of `name`
        (`imaging.io.write_image`, given `write_options` too: a TGA's or DDS's compression, mip levels);
        without `pixels` the file must already exist at `output_path(name)`. A file that is not an
        image (a .gltf, .bin or .glb) needs `info`, an `imaging.io.ImageInfo` of what to record:
        its format and the size and bit depth of the textures it uses."""
        path = self.output_path(name)
        if any(staged.name == name for staged in self.outputs.assets):
            raise ValueError(f"output {name!r} added twice")
        if pixels is not None:
            from imaging.io import write_image

            write_image(path, pixels, bit_depth=bit_depth, **(write_options or {}))
        elif not path.exists():
            raise FileNotFoundError(path)
        self.outputs.assets.append(StagedAsset(path, name, role, colour_space, source, metadata or {}, info))
        return path


def staging_root_for(root: str, job_id) -> Path:
    """The folder holding every attempt's staging folder of one job."""
    return Path(root) / str(job_id)


def make_staging_dir(root: str, job: Job) -> Path:
    base = staging_root_for(root, job.pk)
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"attempt-{job.attempts}-", dir=base))

"""`matsvc upscale` batches: which files it takes, which it skips, how it goes on after a failure."""

import argparse
import zipfile
from pathlib import Path

import pytest

from matsvc import JobFailed, MatsvcError
from matsvc.cli import build_parser, main
from matsvc.commands.common import UsageError, extract_flat
from matsvc.commands.upscale import collect_inputs, plan, run_upscale


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.jpg", "c.tif", "notes.txt", ".hidden.png"):
        (folder / name).write_bytes(b"image")
    (folder / "sub").mkdir()
    (folder / "sub" / "d.png").write_bytes(b"image")
    return folder


def names(paths):
    return [p.name for p in paths]


def test_folders_give_their_images_and_files_are_taken_as_given(images):
    assert names(collect_inputs([images])) == ["a.png", "b.jpg", "c.tif"]
    assert names(collect_inputs([images / "notes.txt", images / "sub"])) == ["notes.txt", "d.png"]
    with pytest.raises(FileNotFoundError, match="No such file or folder: .*missing"):
        collect_inputs([images / "missing"])


def test_outputs_that_exist_are_skipped(images, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"done")
    (out / "c.exr").write_bytes(b"done")  # a float image's output
    (out / ".b.png.x1.part").write_bytes(b"half")  # an interrupted download does not count
    todo, skipped = plan(collect_inputs([images]), out)
    assert names(todo) == ["b.jpg"]
    assert [(s.name, o.name) for s, o in skipped] == [("a.png", "a.png"), ("c.tif", "c.exr")]


def test_batches_that_would_overwrite_are_refused(images, tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"image")
    with pytest.raises(UsageError, match="would both be saved as a"):
        plan([images / "a.png", tmp_path / "a.jpg"], tmp_path / "out")
    with pytest.raises(UsageError, match="in the output folder"):
        plan([images / "a.png"], images)


class StubClient:
    """Just enough of `matsvc.Client` for one upscale per file; `fail` names files whose job fails."""

    url = "http://stub"

    def __init__(self, fail=()):
        self.fail = set(fail)
        self.uploaded = []

    def projects(self, search=None):
        return [{"id": "p1", "slug": "only", "name": "Only"}]

    def upload(self, project, files, roles=(), name=None, **_):
        self.uploaded.append(Path(files[0]).name)
        return {"assets": [{"id": f"asset-{Path(files[0]).name}"}]}

    def create_job(self, project, kind, params=None, inputs=None, idempotency_key=None):
        assert kind == "superres.upscale" and params["scale"] == 4 and params["wrap"] == "off"
        return {"id": f"job-{inputs['assets'][0]}", "kind": kind, "source": inputs["assets"][0]}

    def wait(self, project, job, on_progress=None, **_):
        done = {**job, "status": "succeeded", "progress": 1.0, "stage": "done", "output_set": job["source"]}
        on_progress(done)
        if job["source"].removeprefix("asset-") in self.fail:
            raise JobFailed({**done, "status": "failed", "error": "Not an image the model can read."})
        return done

    def asset_set(self, project, set_id):
        return {"assets": [{"id": "out-1", "name": "texture.png", "source": set_id}]}

    def download_asset(self, project, asset_id, dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"upscaled")
        return dest


def upscale_args(*argv):
    args = build_parser().parse_args(["upscale", *map(str, argv)])
    assert isinstance(args, argparse.Namespace)
    return args


def test_a_batch_goes_on_after_a_failed_file_and_a_rerun_does_only_that_one(images, tmp_path, capsys):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "a.png").write_bytes(b"earlier run")
    client = StubClient(fail={"b.jpg"})
    with pytest.raises(MatsvcError, match=r"1 of 2 files failed \(.*b.jpg\); run the same command again"):
        run_upscale(upscale_args(images, "-x", "4", "--no-wrap", "-o", out), client)
    assert client.uploaded == ["b.jpg", "c.tif"]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [str(out / "c.png")]
    assert "Skipped" in captured.err and "a.png exists" in captured.err
    assert "Failed " in captured.err and "Not an image the model can read." in captured.err

    again = StubClient()
    assert run_upscale(upscale_args(images, "-x", "4", "--no-wrap", "-o", out), again) == 0
    assert again.uploaded == ["b.jpg"]
    assert "Upscaled 1, skipped 2, failed 0." in capsys.readouterr().err


def test_a_finished_batch_needs_no_server(images, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        (out / name).write_bytes(b"done")
    # An address nobody answers: the command must not need it.
    assert main(["--url", "http://127.0.0.1:9", "--token", "t", "upscale", str(images), "-o", str(out)]) == 0
    assert "Nothing to do: all 3 outputs exist" in capsys.readouterr().err


def test_a_missing_input_is_named(tmp_path, capsys):
    assert main(["--url", "http://127.0.0.1:9", "--token", "t", "upscale", str(tmp_path / "gone.png"),
                 "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"matsvc: error: No such file or folder: {tmp_path / 'gone.png'}\n"


def test_set_archives_unpack_flat_into_the_output_folder(tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("albedo.png", b"a")
        zf.writestr("../../escape.png", b"e")
        zf.writestr("maps/normal.png", b"n")
    out = tmp_path / "out"
    out.mkdir()
    assert names(extract_flat(archive, out)) == ["albedo.png", "escape.png", "normal.png"]
    assert sorted(p.name for p in out.iterdir()) == ["albedo.png", "escape.png", "normal.png"]

"""`matsvc upscale` batches: which files it takes, which outputs it skips (same source and settings,
as its record in the output folder says), which it redoes or leaves alone, and failures."""

import argparse
import hashlib
import json
import os
import shutil
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
    files, ignored = collect_inputs([images])
    assert names(files) == ["a.png", "b.jpg", "c.tif"] and names(ignored) == ["notes.txt", "sub"]
    assert names(collect_inputs([images / "notes.txt", images / "sub"])[0]) == ["notes.txt", "d.png"]
    with pytest.raises(FileNotFoundError, match="No such file or folder: .*missing"):
        collect_inputs([images / "missing"])


def test_folders_give_phone_raw_and_heic_photos_whatever_the_suffix_case(tmp_path):
    for name in ("IMG_0001.DNG", "IMG_0002.HEIC", "shot.cr2"):
        (tmp_path / name).write_bytes(b"image")
    files, ignored = collect_inputs([tmp_path])
    # the service reads DNG and HEIC; other RAW files are refused there, so they are not sent
    assert names(files) == ["IMG_0001.DNG", "IMG_0002.HEIC"] and names(ignored) == ["shot.cr2"]


def test_batches_that_would_overwrite_are_refused(images, tmp_path):
    from matsvc.commands.upscale_manifest import Manifest

    (tmp_path / "a.jpg").write_bytes(b"image")
    with pytest.raises(UsageError, match="would both be saved as a"):
        plan([images / "a.png", tmp_path / "a.jpg"], Manifest(tmp_path / "out"), {})
    with pytest.raises(UsageError, match="in the output folder"):
        plan([images / "a.png"], Manifest(images), {})


class StubClient:
    """Just enough of `matsvc.Client` for one upscale per file; `fail` names files whose job fails.
    Each output holds the source's bytes and the params, so a test can tell which run wrote it."""

    url = "http://stub"
    retry_for = 300

    def __init__(self, fail=()):
        self.fail = set(fail)
        self.uploaded = []
        self.contents = {}
        self.params = {}
        self.upload_keys = []
        self.job_keys = []

    def projects(self, search=None):
        return [{"id": "p1", "slug": "only", "name": "Only"}]

    def upload(self, project, files, roles=(), name=None, idempotency_key=None, **_):
        path = Path(files[0])
        self.uploaded.append(path.name)
        self.upload_keys.append(idempotency_key)
        self.contents[f"asset-{path.name}"] = path.read_bytes()
        return {"assets": [{"id": f"asset-{path.name}"}]}

    def create_job(self, project, kind, params=None, inputs=None, idempotency_key=None):
        assert kind == "superres.upscale"
        self.params[inputs["assets"][0]] = params
        self.job_keys.append(idempotency_key)
        return {"id": f"job-{inputs['assets'][0]}", "kind": kind, "status": "queued", "source": inputs["assets"][0]}

    def wait(self, project, job, on_progress=None, **_):
        done = {**job, "status": "succeeded", "progress": 1.0, "stage": "done", "output_set": job["source"]}
        on_progress(done)
        if job["source"].removeprefix("asset-") in self.fail:
            raise JobFailed({**done, "status": "failed", "error": "Not an image the model can read."})
        return done

    def asset_set(self, project, set_id):
        return {"assets": [{"id": set_id, "name": "texture.png", "source": set_id}]}

    def download_asset(self, project, asset_id, dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.contents[asset_id] + b" x" + str(self.params[asset_id]["scale"]).encode())
        return dest


def upscale_args(*argv):
    args = build_parser().parse_args(["upscale", *map(str, argv)])
    assert isinstance(args, argparse.Namespace)
    return args


def upscale(client, *argv):
    return run_upscale(upscale_args(*argv), client)


def test_a_batch_goes_on_after_a_failed_file_and_a_rerun_does_only_that_one(images, tmp_path, capsys):
    out = tmp_path / "out"
    upscale(StubClient(), images / "a.png", "-x", "4", "--no-wrap", "-o", out)
    capsys.readouterr()
    client = StubClient(fail={"b.jpg"})
    with pytest.raises(MatsvcError, match=r"1 of 2 files failed \(.*b.jpg\); run the same command again"):
        upscale(client, images, "-x", "4", "--no-wrap", "-o", out)
    assert client.uploaded == ["b.jpg", "c.tif"]
    assert sorted(p.name for p in out.iterdir()) == [".matsvc-upscale.json", "a.png", "c.png"]
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [str(out / "c.png")]
    assert f"Skipped {images / 'a.png'}: {out / 'a.png'} is up to date." in captured.err
    assert "Failed " in captured.err and "Not an image the model can read." in captured.err

    again = StubClient()
    assert upscale(again, images, "-x", "4", "--no-wrap", "-o", out) == 0
    assert again.uploaded == ["b.jpg"]
    assert "Upscaled 1, skipped 2, not overwritten 0, failed 0." in capsys.readouterr().err


def test_a_finished_batch_needs_no_server(images, tmp_path, capsys):
    out = tmp_path / "out"
    upscale(StubClient(), images, "-o", out)
    # An address nobody answers: the command must not need it.
    assert main(["--url", "http://127.0.0.1:9", "--token", "t", "upscale", str(images), "-o", str(out)]) == 0
    assert f"Nothing to do: all 3 outputs in {out} are up to date" in capsys.readouterr().err


def test_a_rerun_with_other_settings_redoes_every_output(images, tmp_path, capsys):
    out = tmp_path / "out"
    upscale(StubClient(), images, "-x", "2", "-o", out)
    again = StubClient()
    upscale(again, images, "-x", "4", "-o", out)
    assert again.uploaded == ["a.png", "b.jpg", "c.tif"]
    assert (out / "a.png").read_bytes() == b"image x4"
    assert f"Redoing {images / 'a.png'}: scale 2 -> 4." in capsys.readouterr().err
    for option in (["--png"], ["--sharpness", "0.2"], ["--wrap"], ["--model", "project"], ["--ensemble"]):
        changed = StubClient()
        upscale(changed, images / "a.png", "-x", "4", *option, "-o", out)
        assert changed.uploaded == ["a.png"], option
        assert changed.params["asset-a.png"].get("output_format") == ("png" if option == ["--png"] else None)
    # The service's defaults, given or not, are the same settings.
    same = StubClient()
    upscale(same, images / "a.png", "-x", "4", "--ensemble", "--model", "builtin", "--sharpness", "0.5", "-o", out)
    assert same.uploaded == []


def test_a_changed_or_moved_source_is_redone_a_touched_one_is_not(images, tmp_path, capsys):
    out = tmp_path / "out"
    upscale(StubClient(), images, "-o", out)
    (images / "a.png").write_bytes(b"new image content")
    (images / "b.jpg").write_bytes(b"image")  # same bytes, new mtime: a checkout, a copy
    c_stat = (images / "c.tif").stat()
    (images / "c.tif").write_bytes(b"IMAGE")  # same size and mtime, other bytes: only the hash tells
    os.utime(images / "c.tif", ns=(c_stat.st_atime_ns, c_stat.st_mtime_ns + 1))
    again = StubClient()
    upscale(again, images, "-o", out)
    assert again.uploaded == ["a.png", "c.tif"] and (out / "a.png").read_bytes() == b"new image content x2"
    assert "Redoing" in capsys.readouterr().err

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy2(images / "a.png", elsewhere / "a.png")
    moved = StubClient()
    upscale(moved, elsewhere / "a.png", "-o", out)
    assert moved.uploaded == ["a.png"]
    assert f"it was made from {(images / 'a.png').resolve()}" in capsys.readouterr().err


def test_a_deleted_output_is_made_again(images, tmp_path):
    out = tmp_path / "out"
    upscale(StubClient(), images, "-o", out)
    (out / "b.png").unlink()
    again = StubClient()
    upscale(again, images, "-o", out)
    assert again.uploaded == ["b.jpg"] and (out / "b.png").is_file()


def test_outputs_it_did_not_make_are_left_alone_unless_overwrite(images, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"painted by hand")
    client = StubClient()
    with pytest.raises(MatsvcError, match=r"1 existing outputs were left alone \(a\); pass --overwrite"):
        upscale(client, images, "-o", out)
    assert client.uploaded == ["b.jpg", "c.tif"] and (out / "a.png").read_bytes() == b"painted by hand"
    err = capsys.readouterr().err
    assert f"Not overwriting: {out / 'a.png'} was not made by matsvc upscale" in err
    assert "Upscaled 2, skipped 0, not overwritten 1, failed 0." in err

    # An output this tool made but that was edited since is not ours to replace either.
    (out / "b.png").write_bytes(b"retouched")
    with pytest.raises(MatsvcError, match=r"2 existing outputs were left alone \(a, b\)"):
        upscale(StubClient(), images, "-x", "4", "-o", out)
    assert f"{out / 'b.png'} changed since matsvc upscale wrote it" in capsys.readouterr().err

    forced = StubClient()
    assert upscale(forced, images, "-x", "4", "--overwrite", "-o", out) == 0
    assert forced.uploaded == ["a.png", "b.jpg"]  # c was done by the run before
    assert (out / "a.png").read_bytes() == b"image x4"
    assert upscale(StubClient(), images, "-x", "4", "-o", out) == 0  # and now they are on record


def test_a_redo_sends_the_first_runs_upload_and_job_keys_but_a_project_model_job_is_run_again(images, tmp_path):
    """The service answers the same keys with the first run's upload and job (so nothing is stored or
    upscaled twice); a project model job must use the project's newest model, so it is not replayed."""
    out = tmp_path / "out"
    first = StubClient()
    upscale(first, images / "a.png", "-o", out)
    (out / "a.png").unlink()
    again = StubClient()
    upscale(again, images / "a.png", "-o", out)
    assert again.upload_keys == first.upload_keys and again.job_keys == first.job_keys
    assert all(key.startswith("matsvc-") for key in first.upload_keys + first.job_keys)
    (images / "a.png").write_bytes(b"retouched")
    changed = StubClient()
    upscale(changed, images / "a.png", "-o", out)
    assert changed.upload_keys != first.upload_keys and changed.job_keys != first.job_keys

    runs = [StubClient(), StubClient()]
    for client in runs:
        upscale(client, images / "a.png", "--model", "project", "-o", tmp_path / "project")
        (tmp_path / "project" / "a.png").unlink()
    assert runs[0].upload_keys == runs[1].upload_keys == changed.upload_keys
    assert runs[0].job_keys != runs[1].job_keys


def test_the_record_names_source_settings_and_output(images, tmp_path):
    out = tmp_path / "out"
    upscale(StubClient(), images / "a.png", "-x", "4", "--no-wrap", "--sharpness", "0.3", "-o", out)
    entry = json.loads((out / ".matsvc-upscale.json").read_text())["outputs"]["a"]
    source = images / "a.png"
    assert entry["source"] == str(source.resolve()) and entry["output"] == "a.png" and entry["job"] == "job-asset-a.png"
    assert entry["source_stamp"] == {"size": 5, "mtime_ns": source.stat().st_mtime_ns,
                                     "sha256": hashlib.sha256(b"image").hexdigest()}
    assert entry["settings"] == {"scale": 4, "sharpness": 0.3, "wrap": "off", "model": "builtin",
                                 "back_projection": "auto", "ensemble": False}
    assert sorted(p.name for p in out.iterdir()) == [".matsvc-upscale.json", "a.png"]  # no temporary files


def test_an_unreadable_record_is_reported_and_its_outputs_left_alone(images, tmp_path, capsys):
    out = tmp_path / "out"
    upscale(StubClient(), images / "a.png", "-o", out)
    (out / ".matsvc-upscale.json").write_text("{truncated")
    client = StubClient()
    with pytest.raises(MatsvcError, match="left alone"):
        upscale(client, images / "a.png", "-o", out)
    assert client.uploaded == [] and "Ignoring " in capsys.readouterr().err


def test_what_a_folder_holds_besides_images_is_reported(images, tmp_path, capsys):
    upscale(StubClient(), images, "-o", tmp_path / "out")
    err = capsys.readouterr().err
    assert "Ignored 2 items in the input folders" in err and "--verbose names them" in err
    assert "notes.txt" not in err
    upscale(StubClient(), images, "-o", tmp_path / "out2", "--verbose")
    err = capsys.readouterr().err
    assert f"  {images / 'notes.txt'}\n" in err and f"  {images / 'sub'}/ (a folder)\n" in err
    assert ".hidden" not in err


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

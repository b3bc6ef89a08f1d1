"""Writing results: never over existing files unasked, never half a file, and with the mode any new file
of the user gets."""

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
import requests

from matsvc import Client, MatsvcError
from matsvc.cli import main
from matsvc.commands.common import extract_flat


def make_zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_existing_files_are_named_and_left_alone_unless_overwrite(tmp_path):
    archive = make_zip(tmp_path / "set.zip", {"albedo.png": b"new a", "normal.png": b"new n", "report.json": b"{}"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "albedo.png").write_bytes(b"mine")
    (out / "report.json").write_bytes(b"mine too")
    with pytest.raises(MatsvcError, match=rf"Not overwriting 2 existing files in {out}: albedo.png, report.json; "
                                           "pass --overwrite"):
        extract_flat(archive, out)
    # Nothing at all was written: not even the file that was not in the way.
    assert sorted(p.name for p in out.iterdir()) == ["albedo.png", "report.json"]
    assert (out / "albedo.png").read_bytes() == b"mine"
    assert [p.name for p in extract_flat(archive, out, overwrite=True)] == ["albedo.png", "normal.png", "report.json"]
    assert (out / "albedo.png").read_bytes() == b"new a" and (out / "normal.png").read_bytes() == b"new n"


def test_a_failure_while_unpacking_leaves_no_half_written_file(tmp_path):
    archive = make_zip(tmp_path / "set.zip", {"albedo.png": b"A" * 5000, "normal.png": b"N" * 5000})
    data = bytearray(archive.read_bytes())
    spot = data.index(b"N" * 100) + 2500
    data[spot] = ord("X")  # the second member's bytes no longer match its CRC: reading it fails at the end
    archive.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(zipfile.BadZipFile):
        extract_flat(archive, out)
    assert sorted(p.name for p in out.iterdir()) == ["albedo.png"]  # neither half a normal map nor a temporary file
    assert (out / "albedo.png").read_bytes() == b"A" * 5000
    (out / "normal.png").write_bytes(b"the previous normal map")
    with pytest.raises(zipfile.BadZipFile):
        extract_flat(archive, out, overwrite=True)
    assert (out / "normal.png").read_bytes() == b"the previous normal map"
    assert sorted(p.name for p in out.iterdir()) == ["albedo.png", "normal.png"]


class VaryClient:
    """Just enough of `matsvc.Client` for `matsvc vary`."""

    url = "http://stub"
    retry_for = 300

    def __init__(self, archive: Path):
        self.archive = archive

    def projects(self, search=None):
        return [{"id": "p1", "slug": "only", "name": "Only"}]

    def upload(self, project, files, roles=(), **_):
        return {"assets": [{"id": "tex"}]}

    def create_job(self, project, kind, params=None, inputs=None, idempotency_key=None):
        return {"id": "j1", "kind": kind, "status": "queued"}

    def wait(self, project, job, on_progress=None, **_):
        return {**job, "status": "succeeded", "output_set": "s1"}

    def download_set_zip(self, project, set_id, dest):
        dest.write_bytes(self.archive.read_bytes())
        return dest


def test_vary_refuses_to_overwrite_and_names_the_files(tmp_path, monkeypatch, capsys):
    archive = make_zip(tmp_path / "set.zip", {"variation_01.png": b"v1", "variation_02.png": b"v2"})
    texture = tmp_path / "stones.png"
    texture.write_bytes(b"png")
    out = tmp_path / "variations"
    out.mkdir()
    (out / "variation_02.png").write_bytes(b"yesterday's")
    monkeypatch.setattr("matsvc.cli.Client", lambda *args, **kwargs: VaryClient(archive))
    argv = ["--url", "http://stub", "--token", "t", "vary", str(texture), "-o", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == (f"matsvc: error: Not overwriting 1 existing file in {out}: variation_02.png; "
                   "pass --overwrite to replace them, or -o another folder.")
    assert (out / "variation_02.png").read_bytes() == b"yesterday's" and not (out / "variation_01.png").exists()
    assert main([*argv, "--overwrite"]) == 0
    assert (out / "variation_02.png").read_bytes() == b"v2"
    assert capsys.readouterr().out.split() == [str(out / "variation_01.png"), str(out / "variation_02.png")]


class DownloadSession(requests.Session):
    def request(self, method, url, **kwargs):
        made = requests.models.Response()
        made.status_code, made.raw = 200, io.BytesIO(b"upscaled pixels")
        return made


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_downloads_get_the_mode_the_umask_gives_new_files(tmp_path, umask, mode):
    client = Client("http://svc", "t0k", session=DownloadSession())
    previous = os.umask(umask)
    try:
        saved = client.download_asset("p1", "a1", tmp_path / "out" / "a.png")
    finally:
        os.umask(previous)
    assert saved.read_bytes() == b"upscaled pixels"
    assert stat.S_IMODE(saved.stat().st_mode) == mode
    assert [p.name for p in saved.parent.iterdir()] == ["a.png"]

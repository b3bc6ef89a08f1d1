"""Mistakes on the command line end in a clear message before anything is sent, and the progress bar
does not claim more than the job has done."""

import io

import pytest

from matsvc.cli import build_parser, main
from matsvc.commands.common import wait_with_progress

# Nobody answers here: a check that needs no server must not try it ("Cannot reach" would show).
OFFLINE = ["--url", "http://127.0.0.1:9", "--token", "t0k"]


def parse_error(capsys, *argv):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(list(argv))
    assert exited.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("text", ["1024x", "x512", "1024x0", "0", "-4", "big"])
def test_incomplete_or_empty_sizes_are_refused(capsys, text):
    error = parse_error(capsys, "vary", "t.png", "-o", "out", f"--size={text}")
    assert error.startswith(f"matsvc vary: error: argument --size: not a size: '{text}'")


def test_sizes_that_are_whole_are_taken():
    assert build_parser().parse_args(["vary", "t.png", "-o", "o", "--size", "1024x512"]).size == (1024, 512)
    assert build_parser().parse_args(["vary", "t.png", "-o", "o", "--size", "256"]).size == (256, 256)


def test_zero_variations_are_refused(capsys):
    assert parse_error(capsys, "vary", "t.png", "-o", "out", "-n", "0") == \
        "matsvc vary: error: argument --count/-n: 0: make at least 1 variation"
    assert "not a number: 'two'" in parse_error(capsys, "vary", "t.png", "-o", "out", "-n", "two")


def test_a_folder_where_an_image_is_expected_is_named(tmp_path, capsys):
    folder = tmp_path / "textures"
    folder.mkdir()
    photo = tmp_path / "flash.jpg"
    photo.write_bytes(b"jpeg")
    assert main([*OFFLINE, "vary", str(folder), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"matsvc: error: {folder} is a folder; give an image file.\n"
    assert main([*OFFLINE, "capture", str(photo), str(folder), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"matsvc: error: {folder} is a folder; give an image file.\n"
    assert main([*OFFLINE, "vary", str(tmp_path / "gone.png"), "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"matsvc: error: No such file: {tmp_path / 'gone.png'}\n"


class SteppingClient:
    """A job whose progress reaches 1.0 while it is still saving its outputs."""

    retry_for = 300

    def wait(self, project, job, on_progress=None, **_):
        for state in ({"status": "running", "progress": 0.5, "stage": "upscaling"},
                      {"status": "running", "progress": 1.0, "stage": "saving outputs"},
                      {"status": "succeeded", "progress": 1.0, "stage": "done"}):
            on_progress(state)
        return state


def test_progress_shows_100_percent_only_once_the_job_has_succeeded(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    wait_with_progress(SteppingClient(), "p1", {"id": "j1"}, "job")
    lines = stream.getvalue().splitlines()
    assert [line.split("] ")[1] for line in lines] == [" 50% upscaling", " 99% saving outputs", "100% done"]

"""The `matsvc` command line against the real service (web server, broker and worker processes)."""

import json

import pytest
from PIL import Image

from tests.client.conftest import ok, save_png

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def project(service):
    response = service.session().post(service.url("/api/v1/projects"), json={"name": "CLI e2e", "slug": "cli-e2e"})
    assert response.status_code == 201, response.text
    return response.json()


def last_line_is_one_error(done) -> str:
    assert done.returncode != 0, done.stdout + done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("matsvc: error: "), done.stderr
    return line


def test_upscale_a_folder_then_a_rerun_skips_what_is_done(matsvc, service, project, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    save_png(folder / "bricks.png", (32, 32), 1)
    save_png(folder / "moss.png", (32, 24), 2)
    out = tmp_path / "out"
    done = ok(matsvc("upscale", folder, "-x", "2", "--no-wrap", "--project", project["slug"], "-o", out))
    assert done.stdout.split() == [str(out / "bricks.png"), str(out / "moss.png")]
    assert Image.open(out / "bricks.png").size == (64, 64) and Image.open(out / "moss.png").size == (64, 48)
    assert "100%" in done.stderr  # the progress bar

    again = ok(matsvc("upscale", folder, "-x", "2", "--no-wrap", "--project", project["slug"], "-o", out))
    assert "Skipped" in again.stderr and f"Nothing to do: all 2 outputs in {out} are up to date" in again.stderr
    jobs = service.session().get(service.url(f"/api/v1/projects/{project['id']}/jobs"),
                                 params={"kind": "superres.upscale"}).json()
    assert jobs["count"] == 2

    # Other settings: the outputs made with the old ones are redone.
    redone = ok(matsvc("upscale", folder / "bricks.png", "-x", "4", "--no-wrap", "--project", project["slug"],
                       "-o", out))
    assert "Redoing" in redone.stderr and "scale 2 -> 4" in redone.stderr
    assert Image.open(out / "bricks.png").size == (128, 128) and Image.open(out / "moss.png").size == (64, 48)

    ok(matsvc("upscale", folder / "bricks.png", "-x", "2", "--ensemble", "--project", project["slug"],
              "-o", tmp_path / "ensemble"))
    jobs = service.session().get(service.url(f"/api/v1/projects/{project['id']}/jobs"),
                                 params={"kind": "superres.upscale"}).json()["results"]
    assert sorted(job["params"].get("ensemble", False) for job in jobs) == [False, False, False, True]
    assert Image.open(tmp_path / "ensemble" / "bricks.png").size == (64, 64)


def test_vary_a_texture(matsvc, project, tmp_path):
    texture = save_png(tmp_path / "stones.png", (48, 48), 3)
    out = tmp_path / "variations"
    ok(matsvc("vary", texture, "-n", "2", "--size", "64", "--seed", "7", "--mode", "quality",
              "--project", project["name"], "-o", out))
    for name in ("variation_01.png", "variation_02.png"):
        assert Image.open(out / name).size == (64, 64)


@pytest.fixture(scope="module")
def photo_pair(tmp_path_factory):
    from materials.capture.synthetic import make_capture

    folder = tmp_path_factory.mktemp("capture")
    capture = make_capture("tiles", width=256, height=192, period=64, seed=2)
    Image.fromarray(capture.flash).save(folder / "flash.png")
    Image.fromarray(capture.guide).save(folder / "guide.png")
    return folder / "flash.png", folder / "guide.png"


def test_capture_a_material(matsvc, service, project, photo_pair, tmp_path):
    out = tmp_path / "material"
    done = ok(matsvc("capture", *photo_pair, "--quality", "fast", "--resolution", "80", "--project", project["id"],
                     "-o", out))
    for role in ("albedo", "normal", "roughness", "specular"):
        assert (out / f"{role}.png").is_file()
        assert str(out / f"{role}.png") in done.stdout.split()
        assert Image.open(out / f"{role}.png").size == (80, 80)  # the 64 px tile, enlarged
    assert json.loads((out / "report.json").read_text())["output_size"] == [80, 80]

    # The same command again: the service replays the job (nothing uploaded or computed again), and
    # the files already there are not overwritten unasked.
    captures = {"kind": "material.two_shot"}
    before = service.session().get(service.url(f"/api/v1/projects/{project['id']}/jobs"), params=captures).json()
    (out / "albedo.png").write_bytes(b"retouched")
    again = matsvc("capture", *photo_pair, "--quality", "fast", "--resolution", "80", "--project", project["id"],
                   "-o", out)
    refused = last_line_is_one_error(again)
    assert "Not overwriting" in refused and "albedo.png" in refused and "--overwrite" in refused
    assert (out / "albedo.png").read_bytes() == b"retouched"
    ok(matsvc("capture", *photo_pair, "--quality", "fast", "--resolution", "80", "--project", project["id"],
              "-o", out, "--overwrite"))
    assert Image.open(out / "albedo.png").size == (80, 80)
    after = service.session().get(service.url(f"/api/v1/projects/{project['id']}/jobs"), params=captures).json()
    assert after["count"] == before["count"]


def test_capture_with_an_engine_export(matsvc, service, project, photo_pair, tmp_path):
    kinds = service.session().get(service.url("/api/v1/job-kinds")).json()["results"]
    if "material.export" not in {k["kind"] for k in kinds}:
        pytest.skip("this service has no material.export job kind yet: `capture --export` is not exercised")
    out = tmp_path / "material"
    ok(matsvc("capture", *photo_pair, "--quality", "fast", "--export", "gltf", "--project", project["slug"],
              "-o", out))
    assert (out / "albedo.png").is_file() and any((out / "gltf").iterdir())


def test_failures_end_in_one_clear_line(matsvc, project, photo_pair, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    refused = matsvc("vary", notes, "--project", project["slug"], "-o", tmp_path / "out")
    assert "notes.png is not a readable image" in last_line_is_one_error(refused)

    unrelated = save_png(tmp_path / "unrelated.png", (256, 192), 4)
    failed = matsvc("capture", photo_pair[0], unrelated, "--quality", "fast", "--project", project["slug"],
                    "-o", tmp_path / "material")
    line = last_line_is_one_error(failed)
    assert "material.two_shot" in line and " failed: " in line and not (tmp_path / "material").exists()

    unknown = matsvc("projects", "--search", "x", "--project", "x")
    assert unknown.returncode == 2 and "unrecognized arguments" in unknown.stderr


def test_jobs_lists_the_projects_jobs(matsvc, service, project):
    listed = ok(matsvc("jobs", "--project", project["slug"], "--limit", "50")).stdout.splitlines()
    jobs = service.session().get(service.url(f"/api/v1/projects/{project['id']}/jobs")).json()["results"]
    assert len(listed) == len(jobs) >= 3
    for job, line in zip(jobs, listed):
        assert line.split()[:3] == [job["id"], job["kind"], job["status"]]
    assert {"superres.upscale", "texture.variations", "material.two_shot"} <= {j["kind"] for j in jobs}
    failed = ok(matsvc("jobs", "--status", "failed")).stdout
    assert "material.two_shot" in failed and "superres.upscale" not in failed

"""End to end: HTTP upload -> job -> real broker -> worker process -> HTTP download.

Runs against the embedded defaults (SQLite, embedded Redis) and, when REDIS_URL and
DATABASE_URL are set (as .ci/run does), against the real Redis and PostgreSQL too.
"""

import io
import os
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.e2e.service import start_service
from tests.images import png_bytes, smooth_png_bytes

pytestmark = [pytest.mark.e2e]

VARIANTS = ["embedded", "external"]


@pytest.fixture(scope="module", params=VARIANTS)
def service(request):
    if request.param == "external":
        redis_url, database_url = os.environ.get("REDIS_URL"), os.environ.get("DATABASE_URL")
        if not (redis_url and database_url and database_url.startswith("postgres")):
            pytest.skip("REDIS_URL and a PostgreSQL DATABASE_URL are not set: skipping the external-services variant")
        running = start_service("external", redis_url, database_url)
    else:
        running = start_service("embedded")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def project_id(service):
    response = service.session().post(service.url("/api/v1/projects"), json={"name": "E2E"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def wait_for(service, http, job_url, done=("succeeded", "failed", "cancelled"), timeout=90, seen=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(job_url).json()
        if seen is not None:
            seen.append((job["status"], job["progress"]))
        if job["status"] in done:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_url} still {job['status']} after {timeout} s\n{service.log('worker')}")


def test_upload_preview_job_and_downloads_over_http(service, project_id):
    http = service.session()
    texture = smooth_png_bytes(640, 320)
    height16 = png_bytes(300, 300, 1, np.uint16, seed=8)
    uploaded = http.post(service.url(f"/api/v1/projects/{project_id}/uploads"),
                         files=[("files", ("wall.png", texture, "image/png")),
                                ("files", ("height.png", height16, "image/png"))],
                         data={"roles": ["texture", "height"], "name": "Wall", "previews": "false"})
    assert uploaded.status_code == 201, uploaded.text
    assets = uploaded.json()["assets"]

    created = http.post(service.url(f"/api/v1/projects/{project_id}/jobs"),
                        json={"kind": "previews", "inputs": {"assets": [a["id"] for a in assets]}})
    assert created.status_code == 202, created.text
    job = wait_for(service, http, created.headers["Location"])
    assert job["status"] == "succeeded", (job, service.log("worker"))
    assert job["attempts"] == 1 and job["worker_host"]

    output = http.get(service.url(f"/api/v1/projects/{project_id}/sets/{job['output_set']}")).json()
    thumbs = {a["name"]: a for a in output["assets"] if a["role"] == "thumbnail"}
    assert set(thumbs) == {"texture.thumbnail.png", "height.thumbnail.png"}
    thumb = http.get(service.url(thumbs["texture.thumbnail.png"]["download_url"]))
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(thumb.content))
    assert image.size == (256, 128) and image.mode == "RGB"
    # The thumbnail is a faithful reduction: each pixel matches the original around it.
    original = np.asarray(Image.open(io.BytesIO(texture)).resize((256, 128), Image.Resampling.BOX), np.float32)
    assert np.abs(np.asarray(image, np.float32) - original).mean() < 3.0

    archive = http.get(service.url(output["download_url"]))
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == sorted(a["name"] for a in output["assets"])


def test_progress_is_reported_and_cancel_stops_a_running_job(service, project_id):
    http = service.session()
    created = http.post(service.url(f"/api/v1/projects/{project_id}/jobs"),
                        json={"kind": "diagnostics.sleep", "params": {"seconds": 30, "steps": 60}})
    assert created.status_code == 202
    url = created.headers["Location"]
    seen = []
    running = wait_for(service, http, url, done=("running",), seen=seen)
    while running["progress"] < 0.05:
        running = http.get(url).json()
        time.sleep(0.1)
    cancelled = http.post(url + "/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    time.sleep(1.5)  # past the next progress report
    final = http.get(url).json()
    assert final["status"] == "cancelled" and final["output_set"] is None
    assert http.post(url + "/cancel").status_code == 409


def test_job_of_a_killed_worker_is_retried_and_ends_with_one_output_set(service, project_id):
    http = service.session()
    created = http.post(service.url(f"/api/v1/projects/{project_id}/jobs"),
                        json={"kind": "diagnostics.sleep", "params": {"seconds": 4, "steps": 20}})
    url = created.headers["Location"]
    job = wait_for(service, http, url, done=("running",))
    while job["progress"] < 0.2:
        job = http.get(url).json()
        time.sleep(0.05)
    service.kill("worker")  # SIGKILL the worker's whole process group mid-run
    assert http.get(url).json()["status"] == "running"
    service.start_worker()
    job = wait_for(service, http, url, timeout=120)
    assert job["status"] == "succeeded", (job, service.log("worker"))
    assert job["attempts"] == 2 and job["result"]["attempt"] == 2
    sets = http.get(service.url(f"/api/v1/projects/{project_id}/sets"), params={"page_size": 500}).json()
    produced = [s for s in sets["results"] if s["job"] == job["id"]]
    assert len(produced) == 1 and produced[0]["id"] == job["output_set"] and produced[0]["asset_count"] == 1

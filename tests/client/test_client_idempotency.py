"""Re-runs: the same capture, vary or upscale again gets the upload and the job the first run made
(the service keeps an Idempotency-Key 24 h), so files are neither stored nor processed twice; and an
upload with a key is retried safely after a transient failure."""

import uuid
import zipfile

import pytest
import requests

from matsvc import ApiError, Client
from matsvc.cli import main
from matsvc.commands import keys
from tests.client.conftest import ok, save_png


class CaptureClient:
    """Just enough of `matsvc.Client` for `matsvc capture`, replaying jobs by Idempotency-Key as the service
    does; `failing` names keys whose job fails."""

    url = "http://stub"
    retry_for = 300

    def __init__(self, archive, failing=()):
        self.archive = archive
        self.failing = set(failing)
        self.jobs_by_key = {}
        self.keys = []

    def projects(self, search=None):
        return [{"id": "p1", "slug": "only", "name": "Only"}]

    def capture(self, project, flash, guide, idempotency_key=None, **params):
        self.keys.append(idempotency_key)
        if idempotency_key not in self.jobs_by_key:
            status = "failed" if idempotency_key in self.failing else "queued"
            self.jobs_by_key[idempotency_key] = {"id": f"j{len(self.jobs_by_key) + 1}", "status": status,
                                                 "kind": "material.two_shot", "error": "", "output_set": "s1"}
        return self.jobs_by_key[idempotency_key]

    def wait(self, project, job, on_progress=None, **_):
        return {**job, "status": "succeeded"}

    def download_set_zip(self, project, set_id, dest):
        with zipfile.ZipFile(dest, "w") as zf:
            zf.writestr("albedo.png", b"a")
        return dest


@pytest.fixture
def photos(tmp_path):
    for name in ("flash.jpg", "guide.jpg"):
        (tmp_path / name).write_bytes(name.encode())
    return tmp_path / "flash.jpg", tmp_path / "guide.jpg"


def capture(monkeypatch, client, photos, out, *options):
    monkeypatch.setattr("matsvc.cli.Client", lambda *args, **kwargs: client)
    return main(["--url", "http://stub", "--token", "t", "capture", *map(str, photos), "-o", str(out), *options])


def test_the_same_capture_again_replays_the_first_job(monkeypatch, photos, tmp_path, capsys):
    client = CaptureClient(tmp_path / "set.zip")
    assert capture(monkeypatch, client, photos, tmp_path / "a", "--quality", "fast") == 0
    assert capture(monkeypatch, client, photos, tmp_path / "b", "--quality", "fast") == 0
    first, again = client.keys
    assert first == again and len(client.jobs_by_key) == 1 and len(first) <= 255
    assert capsys.readouterr().err.count("Capture job j1 started.") == 2

    assert capture(monkeypatch, client, photos, tmp_path / "c", "--quality", "high") == 0
    photos[1].write_bytes(b"another guide photo")
    assert capture(monkeypatch, client, photos, tmp_path / "d", "--quality", "fast") == 0
    assert len(set(client.keys)) == 3  # other options, other photo: other requests


def test_a_replayed_failure_is_tried_again_under_a_new_key(monkeypatch, photos, tmp_path):
    probe = CaptureClient(tmp_path / "set.zip")
    capture(monkeypatch, probe, photos, tmp_path / "probe")
    client = CaptureClient(tmp_path / "set.zip", failing={probe.keys[0]})
    assert capture(monkeypatch, client, photos, tmp_path / "out") == 0
    assert len(client.keys) == 2 and client.keys[0] == probe.keys[0] != client.keys[1]
    # A later run replays the failure and then the retry, which it reuses: no third job.
    assert capture(monkeypatch, client, photos, tmp_path / "out2") == 0
    assert client.keys[2:] == client.keys[:2] and len(client.jobs_by_key) == 2


class UploadClient:
    """`Client.upload` as the service answers it: the same key and request again give the first upload."""

    def __init__(self):
        self.by_key = {}
        self.keys = []

    def upload(self, project, files, idempotency_key=None, **form):
        self.keys.append(idempotency_key)
        request = ([(f.name, f.read_bytes()) for f in files], form)
        if idempotency_key not in self.by_key:
            self.by_key[idempotency_key] = request, {"set": {"id": f"s{len(self.by_key) + 1}"}}
        return self.by_key[idempotency_key][1]


def test_upload_keys_follow_the_file_and_the_fields(tmp_path):
    texture = tmp_path / "stones.png"
    texture.write_bytes(b"stones")
    client = UploadClient()

    def send(path=texture, **form):
        return keys.upload(client, "p1", [path], keys.file_digests([path]), **form)["set"]["id"]

    assert send(roles=["texture"]) == send(roles=["texture"]) == "s1"
    renamed = tmp_path / "cobbles.png"
    renamed.write_bytes(b"stones")
    for changed in ({"path": renamed}, {"roles": ["albedo"]}, {"name": "Stones"}, {"tags": ["wall"]},
                    {"previews": True}):
        send(**{"roles": ["texture"], **changed})
    texture.write_bytes(b"other stones")
    send(roles=["texture"])
    assert len(set(client.keys)) == 7 == len(client.by_key) and all(len(key) <= 255 for key in client.keys)


# -- against the real service -----------------------------------------------------------------------


@pytest.fixture
def project(service):
    """A project of its own, so that counting its sets and jobs counts only this test's."""
    slug = f"idem-{uuid.uuid4().hex[:8]}"
    response = service.session().post(service.url("/api/v1/projects"), json={"name": slug, "slug": slug})
    assert response.status_code == 201, response.text
    return response.json()


def listed(service, project, what, **params):
    response = service.session().get(service.url(f"/api/v1/projects/{project['id']}/{what}"), params=params)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def uploaded_sets(service, project):
    return listed(service, project, "sets", kind="upload")


def uploaded_assets(service, project):
    return listed(service, project, "assets", kind="upload")


@pytest.mark.e2e
def test_the_same_vary_again_stores_the_texture_once_and_replays_its_job(matsvc, service, project, tmp_path):
    texture = save_png(tmp_path / "stones.png", (32, 32), 5)
    options = ("-n", "1", "--size", "32", "--seed", "3", "--project", project["id"])
    first = ok(matsvc("vary", texture, *options, "-o", tmp_path / "first"))
    again = ok(matsvc("vary", texture, *options, "-o", tmp_path / "again"))
    assert str(tmp_path / "again" / "variation_01.png") in again.stdout.split()
    assert len(again.stdout.split()) == len(first.stdout.split())

    assert len(uploaded_sets(service, project)) == 1
    assert [a["original_name"] for a in uploaded_assets(service, project)] == ["stones.png"]
    assert len(listed(service, project, "jobs", kind="texture.variations")) == 1
    assert (tmp_path / "again" / "variation_01.png").read_bytes() == \
        (tmp_path / "first" / "variation_01.png").read_bytes()


@pytest.mark.e2e
def test_an_upscale_output_redone_from_the_same_file_is_not_uploaded_again(matsvc, service, project, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    save_png(folder / "bricks.png", (24, 24), 6)
    out = tmp_path / "out"
    command = ("upscale", folder, "-x", "2", "--no-wrap", "--project", project["id"], "-o", out)
    ok(matsvc(*command))
    first = (out / "bricks.png").read_bytes()
    (out / "bricks.png").unlink()  # an output that must be redone

    redone = ok(matsvc(*command))
    assert f"Redoing {folder / 'bricks.png'}" in redone.stderr and (out / "bricks.png").read_bytes() == first
    sets = uploaded_sets(service, project)
    assert [s["name"] for s in sets] == ["bricks.png (matsvc upscale)"]
    assert len(listed(service, project, "jobs", kind="superres.upscale")) == 1


class FlakySession(requests.Session):
    """A real session whose first upload fails in transit: "lost" sends it (the server stores it)
    and then loses the answer, as a reset connection does; 503 answers for a gateway that never
    passed it on."""

    def __init__(self, failure):
        super().__init__()
        self.failure = failure
        self.uploads_sent = 0

    def request(self, method, url, *args, **kwargs):
        if not url.endswith("/uploads"):
            return super().request(method, url, *args, **kwargs)
        self.uploads_sent += 1
        if self.uploads_sent > 1:
            return super().request(method, url, *args, **kwargs)
        if self.failure == "lost":
            super().request(method, url, *args, **kwargs).raise_for_status()
            raise requests.ConnectionError("Connection reset by peer")
        busy = requests.models.Response()
        busy.status_code, busy.reason, busy._content = 503, "Service Unavailable", b"busy"
        return busy


def flaky_client(service, failure):
    session = FlakySession(failure)
    return Client(service.base_url, service.token, session=session, backoff=0), session


@pytest.mark.e2e
@pytest.mark.parametrize("failure", ["lost", 503])
def test_an_upload_with_a_key_is_retried_after_a_transient_failure_and_stored_once(service, project, tmp_path,
                                                                                    failure):
    image = save_png(tmp_path / "moss.png", (16, 16), 7)
    client, session = flaky_client(service, failure)
    uploaded = client.upload(project["id"], [image], roles=["texture"], idempotency_key=f"test-{uuid.uuid4()}")
    assert session.uploads_sent == 2
    assert [s["id"] for s in uploaded_sets(service, project)] == [uploaded["set"]["id"]]
    assert [a["id"] for a in uploaded_assets(service, project)] == [a["id"] for a in uploaded["assets"]]


@pytest.mark.e2e
@pytest.mark.parametrize("failure", ["lost", 503])
def test_an_upload_without_a_key_is_not_retried(service, project, tmp_path, failure):
    image = save_png(tmp_path / "moss.png", (16, 16), 7)
    client, session = flaky_client(service, failure)
    with pytest.raises(requests.ConnectionError if failure == "lost" else ApiError):
        client.upload(project["id"], [image], roles=["texture"])
    assert session.uploads_sent == 1
    # What the server did with the one request is all there is: the lost answer's upload, or nothing.
    assert len(uploaded_sets(service, project)) == (1 if failure == "lost" else 0)


@pytest.mark.e2e
def test_a_key_used_with_other_bytes_gives_a_new_upload(service, project, tmp_path):
    """A file that changed between being hashed and being sent was stored under the key of its
    old content; uploading that content later must not fail for the next 24 hours."""
    texture = save_png(tmp_path / "stones.png", (16, 16), 8)
    digests = keys.file_digests([texture])
    original = texture.read_bytes()
    save_png(texture, (16, 16), 9)
    client = Client(service.base_url, service.token)
    changed = keys.upload(client, project["id"], [texture], digests, roles=["texture"])
    texture.write_bytes(original)
    again = keys.upload(client, project["id"], [texture], keys.file_digests([texture]), roles=["texture"])
    assert again["set"]["id"] != changed["set"]["id"]
    assert len(uploaded_sets(service, project)) == 2
    # ... and the same upload once more is the one stored: its key now answers with it.
    assert keys.upload(client, project["id"], [texture], digests, roles=["texture"])["set"]["id"] == \
        again["set"]["id"]

"""API errors become ApiError; idempotent calls are retried with back-off, the rest are not."""

import json

import pytest
import requests

from matsvc import ApiError, Client, JobFailed, MatsvcError
from matsvc.cli import main


def response(status=200, body=None, text=None, reason="OK"):
    made = requests.models.Response()
    made.status_code, made.reason = status, reason
    made._content = (json.dumps(body) if body is not None else text or "").encode()
    made.headers["Content-Type"] = "application/json" if body is not None else "text/html"
    return made


class FakeSession:
    """Answers each request with the next scripted item (a Response, or an exception to raise)."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []
        self.headers = {}

    def request(self, method, url, timeout=None, **kwargs):
        self.sent.append({"method": method, "url": url, "headers": dict(kwargs.get("headers") or {}), **kwargs})
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def client_for(session, retries=3):
    return Client("http://svc/", "t0k", session=session, retries=retries, backoff=0)


VALIDATION = {"error": {"status": 400, "code": "invalid", "message": "params.count: Ensure this value is at least 1.",
                        "field": "params.count", "fields": {"params.count": "Ensure this value is at least 1."}}}


def test_an_error_body_becomes_an_api_error_with_its_message():
    error = ApiError.from_response(response(400, VALIDATION, reason="Bad Request"))
    assert str(error) == "params.count: Ensure this value is at least 1."
    assert (error.status, error.code, error.field) == (400, "invalid", "params.count")
    assert error.fields == {"params.count": "Ensure this value is at least 1."}


def test_a_body_that_is_not_the_services_json_still_gives_one_line():
    error = ApiError.from_response(response(502, text="<html>\n<b>Bad gateway</b>\n</html>", reason="Bad Gateway"))
    assert str(error) == "HTTP 502 Bad Gateway: <html> <b>Bad gateway</b> </html>"
    assert ApiError.from_response(response(404, {"detail": "x"}, reason="Not Found")).message == \
        'HTTP 404 Not Found: {"detail": "x"}'


def test_client_calls_send_the_token_and_raise_api_errors():
    session = FakeSession(response(400, VALIDATION))
    with pytest.raises(ApiError, match="at least 1") as caught:
        client_for(session).create_job("p1", "texture.variations", {"count": 0})
    assert caught.value.status == 400
    assert session.headers["Authorization"] == "Token t0k"
    assert session.sent[0]["url"] == "http://svc/api/v1/projects/p1/jobs"
    assert len(session.sent) == 1  # a refusal is final: not retried


def test_job_creation_is_retried_with_the_same_idempotency_key():
    job = {"id": "j1", "status": "queued"}
    session = FakeSession(requests.ConnectionError("reset"), response(503, text="busy"), response(202, job))
    assert client_for(session).create_job("p1", "previews", inputs={"assets": ["a"]}) == job
    keys = {sent["headers"]["Idempotency-Key"] for sent in session.sent}
    assert len(session.sent) == 3 and len(keys) == 1 and len(keys.pop()) == 36
    other = FakeSession(response(202, job))
    client_for(other).create_job("p1", "previews")
    assert other.sent[0]["headers"]["Idempotency-Key"] not in {s["headers"]["Idempotency-Key"] for s in session.sent}


def test_a_key_still_in_use_is_retried_too():
    in_use = {"error": {"status": 409, "code": "idempotency_key_in_use", "message": "still being processed"}}
    session = FakeSession(response(409, in_use), response(202, {"id": "j1"}))
    assert client_for(session).create_job("p1", "previews", idempotency_key="k-1")["id"] == "j1"
    assert [s["headers"]["Idempotency-Key"] for s in session.sent] == ["k-1", "k-1"]


def test_retries_give_up_after_a_few_attempts():
    session = FakeSession(*[requests.ConnectionError("down")] * 3)
    with pytest.raises(requests.ConnectionError):
        client_for(session, retries=2).job("p1", "j1")
    assert len(session.sent) == 3


def test_uploads_without_a_key_are_not_retried_and_their_files_are_closed(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"png")
    for failure in (requests.ConnectionError("reset"), response(503, text="busy")):
        session = FakeSession(failure)
        with pytest.raises((requests.ConnectionError, ApiError)):
            client_for(session).upload("p1", [image])
        handle = session.sent[0]["files"][0][1][1]
        assert len(session.sent) == 1 and handle.closed
        assert "Idempotency-Key" not in session.sent[0]["headers"]
    with pytest.raises(FileNotFoundError, match="No such file: .*missing.png"):
        client_for(FakeSession()).upload("p1", [tmp_path / "missing.png"])


def test_an_upload_with_a_key_is_retried_with_the_same_key_and_the_files_reopened(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"png")
    stored = {"set": {"id": "s1"}, "assets": [{"id": "a1"}], "previews_job": None}
    in_use = {"error": {"status": 409, "code": "idempotency_key_in_use", "message": "still being processed"}}
    session = FakeSession(requests.ConnectionError("reset"), response(503, text="busy"), response(409, in_use),
                          response(201, stored))
    assert client_for(session).upload("p1", [image], roles=["texture"], idempotency_key="k-1") == stored
    assert [s["headers"]["Idempotency-Key"] for s in session.sent] == ["k-1"] * 4
    handles = [s["files"][0][1][1] for s in session.sent]
    assert len(set(map(id, handles))) == 4 and all(h.closed for h in handles)
    refused = FakeSession(response(422, {"error": {"status": 422, "code": "idempotency_key_reused",
                                                   "message": "other request"}}))
    with pytest.raises(ApiError, match="other request"):
        client_for(refused).upload("p1", [image], idempotency_key="k-1")
    assert len(refused.sent) == 1


def test_wait_reports_progress_and_raises_when_the_job_fails():
    states = [{"id": "j1", "kind": "k", "status": s, "progress": p, "stage": "", "error": e}
              for s, p, e in (("queued", 0, ""), ("running", 0.5, ""), ("failed", 0.5, "The photos do not match."))]
    session = FakeSession(*[response(200, state) for state in states])
    seen = []
    with pytest.raises(JobFailed, match="job k j1 failed: The photos do not match.") as caught:
        client_for(session).wait("p1", "j1", on_progress=lambda job: seen.append(job["progress"]), poll=0)
    assert seen == [0, 0.5, 0.5] and caught.value.job["status"] == "failed"


def test_projects_resolve_by_id_slug_or_name():
    projects = {"count": 2, "next": None, "results": [
        {"id": "11", "slug": "walls", "name": "Castle walls"}, {"id": "22", "slug": "floors", "name": "Floors"}]}
    session = FakeSession(*[response(200, projects)] * 4)
    client = client_for(session)
    assert [client.resolve_project(ref)["id"] for ref in ("22", "walls", "castle WALLS")] == ["22", "11", "11"]
    with pytest.raises(ApiError, match="No project 'roofs' .yours: walls, floors"):
        client.resolve_project("roofs")


def test_a_slug_two_of_your_projects_share_asks_for_the_id():
    # Slugs are unique among one user's projects, but a project someone adds you to can share one.
    projects = {"count": 2, "next": None, "results": [
        {"id": "11", "slug": "walls", "name": "Castle walls"}, {"id": "22", "slug": "walls", "name": "Walls"}]}
    client = client_for(FakeSession(*[response(200, projects)] * 2))
    with pytest.raises(ApiError, match="'walls' names 2 projects: 11 .walls., 22 .walls.; give its id") as refused:
        client.resolve_project("walls")
    assert refused.value.status == 409
    assert client.resolve_project("22")["name"] == "Walls"


def test_the_cli_prints_the_api_message_and_exits_non_zero(monkeypatch, capsys):
    session = FakeSession(response(401, {"error": {"status": 401, "code": "authentication_failed",
                                                   "message": "Invalid token."}}))
    monkeypatch.setattr(requests, "Session", lambda: session)
    assert main(["--url", "http://svc", "--token", "bad", "projects"]) == 1
    assert capsys.readouterr().err == "matsvc: error: Invalid token.\n"


def test_the_cli_lists_and_answers_invitations(monkeypatch, capsys):
    pending = {"count": 1, "next": None, "results": [{"id": 7, "project": {"id": "p9", "name": "Harbour"},
                                                      "role": "editor", "invited_by": "alice", "created_at": "x"}]}
    joined = {"id": "p9", "name": "Harbour", "slug": "harbour", "role": "editor"}
    session = FakeSession(response(200, pending), response(200, joined), response(204))
    monkeypatch.setattr(requests, "Session", lambda: session)
    cli = ["--url", "http://svc", "--token", "t0k", "invitations"]
    assert main(cli) == 0
    assert capsys.readouterr().out.split() == ["7", "editor", "Harbour", "(from", "alice)"]
    assert main(cli + ["--accept", "7"]) == 0
    assert "Joined Harbour (harbour) as editor." in capsys.readouterr().err
    assert main(cli + ["--decline", "8"]) == 0
    assert [(r["method"], r["url"].split("/api/v1/")[1].split("?")[0]) for r in session.sent] == [
        ("GET", "invitations"), ("POST", "invitations/7/accept"), ("DELETE", "invitations/8")]


class FakeTime:
    """A clock that moves only when the client sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def patient_client(session, time, retry_for=300.0):
    return Client("http://svc/", "t0k", session=session, retries=3, backoff=0, retry_for=retry_for,
                  sleep=time.sleep, clock=time.clock)


def job_state(status, progress=0.5):
    return response(200, {"id": "j1", "kind": "k", "status": status, "progress": progress, "stage": "", "error": ""})


def test_wait_keeps_polling_through_a_server_restart():
    down = [requests.ConnectionError("refused")] * 4  # one poll, retried 3 times by the transport
    gateway = [response(502, text="bad gateway", reason="Bad Gateway")] * 4 + [response(503, text="starting")] * 4
    session = FakeSession(job_state("running"), *down, *gateway, *down, job_state("succeeded", 1.0))
    time, lost = FakeTime(), []
    job = patient_client(session, time).wait("p1", "j1", poll=0, on_connection_lost=lost.append)
    assert job["status"] == "succeeded" and len(session.sent) == 18
    assert [type(error).__name__ for error in lost] == ["ConnectionError"]  # told once, when it began
    assert [s for s in time.sleeps if s] == [1, 2, 4, 8]  # backing off while the server is away


def test_wait_gives_up_after_retry_for_and_names_the_job():
    class Down(FakeSession):
        def request(self, method, url, timeout=None, **kwargs):
            self.sent.append(url)
            raise requests.ConnectionError("Connection refused")

    time = FakeTime()
    with pytest.raises(MatsvcError) as caught:  # matsvc.JobUnreachable
        patient_client(Down(), time, retry_for=120).wait("p1", "j1")
    assert caught.value.job_id == "j1" and caught.value.seconds == 120
    assert str(caught.value) == ("lost contact with the server for 120 s while waiting for job j1 "
                                 "(Connection refused); the job may still be running")
    assert time.now - 1000 == 120 and max(time.sleeps) == 30


def test_wait_does_not_retry_what_is_not_an_outage():
    session = FakeSession(response(404, {"error": {"status": 404, "code": "not_found", "message": "No such job."}}))
    with pytest.raises(ApiError, match="No such job"):
        patient_client(session, FakeTime()).wait("p1", "j1")
    assert len(session.sent) == 1


def test_the_cli_says_how_to_check_on_a_job_it_stopped_waiting_for(capsys):
    from matsvc.commands.common import wait_with_progress

    session = FakeSession(job_state("running"), *[requests.ConnectionError("Connection refused")] * 400)
    with pytest.raises(MatsvcError) as caught:
        wait_with_progress(patient_client(session, FakeTime(), retry_for=60), "p1", {"id": "j1"}, "vary")
    assert str(caught.value).endswith("the job may still be running: check it later with "
                                      "`matsvc job j1 --project p1`.")
    assert "Lost contact with the server (Connection refused); still trying for up to 60 s..." in \
        capsys.readouterr().err


def test_job_shows_one_job(monkeypatch, capsys):
    projects = {"count": 1, "next": None, "results": [{"id": "p1", "slug": "walls", "name": "Walls"}]}
    job = {"id": "j1", "kind": "texture.variations", "status": "succeeded", "progress": 1.0, "stage": "done",
           "queued_at": "2024-05-01T10:00:00Z", "output_set": "s1", "error": ""}
    session = FakeSession(response(200, projects), response(200, job))
    monkeypatch.setattr(requests, "Session", lambda: session)
    assert main(["--url", "http://svc", "--token", "t0k", "job", "j1"]) == 0
    assert capsys.readouterr().out.split() == ["j1", "texture.variations", "succeeded", "100%", "2024-05-01",
                                               "10:00:00", "walls", "done"]
    assert session.sent[1]["url"] == "http://svc/api/v1/projects/p1/jobs/j1"

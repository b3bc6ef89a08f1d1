"""Webhooks: endpoints and their secrets, signed events for finished jobs, retries and the delivery log."""

import base64
import hmac
import json
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import dramatiq
import pytest

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from webapp.models import Job, Membership, Project, Role

pytestmark = pytest.mark.django_db


def verify_standard_webhook(secret: str, headers: dict, body: str, tolerance_s: int = 300) -> dict:
    """What a receiver does, per the Standard Webhooks specification, written independently of the service."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance_s:
        raise AssertionError("timestamp out of tolerance")
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.digest(key, f"{msg_id}.{timestamp}.{body}".encode(), "sha256")).decode()
    for versioned in headers["webhook-signature"].split(" "):
        version, _, sig = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return json.loads(body)
    raise AssertionError("no valid signature")


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1: answers the codes queued in `answers` (then 200) and
    records every request as (path, lower-cased headers, body)."""
    answers, received = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            code = answers.pop(0) if answers else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/hooks", answers=answers, received=received)
    server.shutdown()
    server.server_close()


@pytest.fixture
def then_deliver(run_queued_jobs, django_capture_on_commit_callbacks):
    """A block whose transactions count as committed at its end (so the deliveries of jobs finished
    in it are queued then); the deliveries run right after it."""
    @contextmanager
    def block():
        with django_capture_on_commit_callbacks(execute=True):
            yield
        run_queued_jobs()

    return block


def hooks_url(project):
    return f"/api/v1/projects/{project.id}/webhooks"


def add_webhook(api, project, url, **fields):
    response = api.post(hooks_url(project), {"url": url, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def start_job(api, project):
    response = api.post(f"/api/v1/projects/{project.id}/jobs",
                        {"kind": "diagnostics.sleep", "params": {"seconds": 0.0, "steps": 1, "size": 4}},
                        format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_secret_is_shown_at_creation_and_rotation_only(api_for, alice, project):
    api = api_for(alice)
    hook = add_webhook(api, project, "https://example.com/hooks", description="CI")
    assert hook["events"] == ["job.cancelled", "job.failed", "job.succeeded"] and hook["active"] is True
    assert hook["secret"].startswith("whsec_") and len(base64.b64decode(hook["secret"][6:])) >= 24
    detail = api.get(f"{hooks_url(project)}/{hook['id']}").json()
    listed = api.get(hooks_url(project)).json()["results"]
    assert "secret" not in detail and [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    rotated = api.post(f"{hooks_url(project)}/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != hook["secret"]
    assert "secret" not in api.get(f"{hooks_url(project)}/{hook['id']}").json()
    changed = api.patch(f"{hooks_url(project)}/{hook['id']}", {"events": ["job.failed"], "active": False},
                        format="json")
    assert changed.status_code == 200 and changed.json()["events"] == ["job.failed"] and "secret" not in changed.json()
    assert api.delete(f"{hooks_url(project)}/{hook['id']}").status_code == 204


@pytest.mark.parametrize("payload, field", [
    ({"url": "ftp://example.com/hooks"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "https://example.com", "events": ["job.exploded"]}, "events"),
    ({"url": "https://example.com", "events": []}, "events"),
])
def test_bad_endpoints_are_refused(api_for, alice, project, payload, field):
    response = api_for(alice).post(hooks_url(project), payload, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == field, response.content


def test_editors_manage_webhooks_viewers_cannot_and_other_projects_answer_404(api_for, make_user, alice, bob,
                                                                               project):
    carol = make_user("carol")
    Membership.objects.create(project=project, user=bob, role=Role.VIEWER)
    Membership.objects.create(project=project, user=carol, role=Role.EDITOR)
    hook = add_webhook(api_for(carol), project, "https://example.com/carol")
    assert api_for(bob).post(hooks_url(project), {"url": "https://example.com/b"}, format="json").status_code == 403
    assert api_for(bob).get(hooks_url(project)).status_code == 403
    assert api_for(bob).post(f"{hooks_url(project)}/{hook['id']}/rotate-secret").status_code == 403

    bobs = Project.objects.create(name="Bob's", slug="bob")
    Membership.objects.create(project=bobs, user=bob, role=Role.OWNER)
    for suffix in ("", "/deliveries", "/rotate-secret"):
        method = api_for(bob).post if suffix == "/rotate-secret" else api_for(bob).get
        assert method(f"{hooks_url(bobs)}/{hook['id']}{suffix}").status_code == 404
    dave = make_user("dave")
    assert api_for(dave).get(hooks_url(project)).status_code == 404


def test_finished_jobs_send_signed_events_to_the_endpoints_that_want_them(api_for, alice, project, receiver,
                                                                          run_queued_jobs, then_deliver):
    api = api_for(alice)
    everything = add_webhook(api, project, receiver.url)
    failures_only = add_webhook(api, project, receiver.url + "/failures", events=["job.failed"])
    add_webhook(api, project, receiver.url + "/off", active=False)
    with then_deliver():
        jobs = {status: start_job(api, project) for status in ("succeeded", "failed", "cancelled")}
        Job.objects.filter(pk=jobs["failed"]["id"]).update(attempts=3)  # out of attempts: the worker gives up
        assert api.post(jobs["cancelled"]["url"] + "/cancel").status_code == 200
        assert sorted(run_queued_jobs()) == ["cancelled", "failed", "succeeded"]

    secrets = {"/hooks": everything["secret"], "/hooks/failures": failures_only["secret"]}
    events = [(path, headers, verify_standard_webhook(secrets[path], headers, body))
              for path, headers, body in receiver.received]
    assert sorted((path, event["type"]) for path, _, event in events) == [
        ("/hooks", "job.cancelled"), ("/hooks", "job.failed"), ("/hooks", "job.succeeded"),
        ("/hooks/failures", "job.failed")]
    for path, headers, event in events:
        job = jobs[event["type"].removeprefix("job.")]
        assert event["data"]["id"] == job["id"] and event["data"]["url"] == job["url"]
        assert event["data"]["status"] == event["type"].removeprefix("job.")
        assert event["data"]["project"] == str(project.id)
        assert datetime.fromisoformat(event["timestamp"]) == datetime.fromisoformat(event["data"]["finished_at"])
        assert headers["content-type"] == "application/json"
    assert len({headers["webhook-id"] for _, headers, _ in events}) == 4

    log = api.get(f"{hooks_url(project)}/{everything['id']}/deliveries").json()
    assert log["count"] == 3
    sent_ids = {headers["webhook-id"] for path, headers, _ in events if path == "/hooks"}
    assert {d["message_id"] for d in log["results"]} == sent_ids
    for delivery in log["results"]:
        assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("delivered", 1, 200)
        assert delivery["delivered_at"] and delivery["error"] == "" and delivery["next_attempt_at"] is None
        assert delivery["payload"]["type"] == delivery["event_type"]
        assert delivery["job"] == jobs[delivery["event_type"].removeprefix("job.")]["id"]


def test_a_failed_attempt_is_retried_later_with_the_same_id_and_logged(api_for, alice, project, receiver,
                                                                       run_queued_jobs,
                                                                       django_capture_on_commit_callbacks):
    api = api_for(alice)
    hook = add_webhook(api, project, receiver.url, events=["job.succeeded"])
    receiver.answers.append(500)
    with django_capture_on_commit_callbacks(execute=False):  # deliveries are not queued: run by hand
        start_job(api, project)
        assert run_queued_jobs() == ["succeeded"]
    delivery = WebhookDelivery.objects.get()

    assert services.deliver(str(delivery.pk)) == "pending"
    log_url = f"{hooks_url(project)}/{hook['id']}/deliveries"
    first = api.get(log_url).json()["results"][0]
    assert (first["status"], first["attempts"], first["response_status"]) == ("pending", 1, 500)
    assert first["error"].startswith("HTTP 500") and first["delivered_at"] is None
    wait = datetime.fromisoformat(first["next_attempt_at"]) - datetime.fromisoformat(first["last_attempt_at"])
    assert wait.total_seconds() == 30  # the first back-off
    retry = dramatiq.Message.decode(dramatiq.get_broker().queues["default.DQ"].queue[0])
    assert retry.actor_name == "deliver_webhook" and retry.args == (str(delivery.pk),)

    run_queued_jobs()  # the retry, without waiting for its delay
    second = api.get(log_url).json()["results"][0]
    assert (second["status"], second["attempts"], second["response_status"]) == ("delivered", 2, 200)
    assert second["error"] == "" and second["delivered_at"] and second["next_attempt_at"] is None
    (_, first_headers, first_body), (_, second_headers, second_body) = receiver.received
    assert first_headers["webhook-id"] == second_headers["webhook-id"] == first["message_id"]
    assert first_body == second_body
    for _, headers, body in receiver.received:
        verify_standard_webhook(hook["secret"], headers, body)


def test_delivery_gives_up_after_its_attempts(api_for, alice, project, settings, then_deliver, run_queued_jobs):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with socket.socket() as sock:  # a port nothing listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    add_webhook(api_for(alice), project, f"http://127.0.0.1:{closed_port}/hooks")
    with then_deliver():
        start_job(api_for(alice), project)
        run_queued_jobs()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, None)
    assert "ConnectionError" in delivery.error and delivery.next_attempt_at is None


def test_a_webhook_problem_never_fails_the_job(api_for, alice, project, monkeypatch, receiver, run_queued_jobs):
    add_webhook(api_for(alice), project, receiver.url)

    def broken(*args):
        WebhookDelivery.objects.create(endpoint_id=None, body="")  # a database error inside the job's transaction

    monkeypatch.setattr(services, "queue_job_event", broken)
    job = start_job(api_for(alice), project)
    assert run_queued_jobs() == ["succeeded"]
    assert Job.objects.get(pk=job["id"]).status == "succeeded" and WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hooks",          # the service itself
    "http://localhost/hooks",
    "http://10.1.2.3/hooks",                # private networks
    "http://192.168.0.10:9000/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",       # IPv4-mapped IPv6
    "http://0.0.0.0/",
])
def test_receivers_on_private_addresses_are_refused_by_default(api_for, alice, project, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = api_for(alice).post(hooks_url(project), {"url": url}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == "url" and "private, loopback or reserved" in error["message"], error
    assert WebhookEndpoint.objects.count() == 0


def test_public_addresses_pass_the_check(settings):
    from integrations.addresses import refusal

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    assert refusal("https://93.184.215.14/hooks") is None
    assert refusal("http://[2606:4700:4700::1111]:8443/x") is None
    assert "169.254.169.254" in refusal("http://169.254.169.254/")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert refusal("http://169.254.169.254/") is None
    assert "port" in refusal("https://93.184.215.14:99999/hooks")  # refused whatever the address policy


def test_a_delivery_to_an_address_that_became_private_is_not_sent(api_for, alice, project, settings, receiver,
                                                                  then_deliver, run_queued_jobs):
    """The check runs again before each attempt (the name may resolve elsewhere by then): the
    delivery fails at once, says why, and nothing reaches the receiver."""
    add_webhook(api_for(alice), project, receiver.url)  # allowed when registered (tests allow 127.0.0.1)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with then_deliver():
        start_job(api_for(alice), project)
        run_queued_jobs()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)
    assert delivery.error.startswith("Not sent: 127.0.0.1 resolves to 127.0.0.1") and receiver.received == []

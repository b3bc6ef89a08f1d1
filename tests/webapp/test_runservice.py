"""`manage.py runservice` keeps the service up when a worker group dies."""

import io
import sys

from webapp.management.commands import runservice


def _command():
    command = runservice.Command(stdout=io.StringIO(), stderr=io.StringIO())
    return command


def test_an_exited_worker_group_is_started_again_while_the_web_server_runs(monkeypatch):
    monkeypatch.setattr(runservice, "restart_delay_s", lambda exits: 0.0)
    command = _command()
    # The "worker" dies at once each time; the "web server" runs for 3 s, then exits, which stops all.
    worker = command._spawn("default workers", [sys.executable, "-c", "raise SystemExit(3)"])
    web = command._spawn("web", [sys.executable, "-c", "import time; time.sleep(3)"], restart=False)
    children = [worker, web]
    command._supervise(children)
    errors = command.stderr.getvalue()
    assert "default workers exited with code 3; starting it again" in errors
    assert errors.count("starting it again") >= 2
    assert "web exited with code 0; stopping the service" in errors
    assert children[0] is not worker  # replaced by the restarted group


def test_a_worker_group_that_cannot_start_stops_the_service(monkeypatch):
    monkeypatch.setattr(runservice, "restart_delay_s", lambda exits: 0.0)
    command = _command()
    worker = command._spawn("gpu worker 0", [sys.executable, "-c", "raise SystemExit(2)"])
    web = command._spawn("web", [sys.executable, "-c", "import time; time.sleep(60)"], restart=False)
    try:
        command._supervise([worker, web])
    finally:
        web.process.kill()
    errors = command.stderr.getvalue()
    assert f"exited {runservice.MAX_RESTARTS_PER_WINDOW + 1} times within" in errors
    assert errors.count("starting it again") == runservice.MAX_RESTARTS_PER_WINDOW


def test_restart_back_off_grows_and_is_capped():
    assert [runservice.restart_delay_s(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]

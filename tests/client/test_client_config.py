"""Where the CLI finds its server and token: flags, then environment, then the config file."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from matsvc import config
from matsvc.cli import main
from matsvc.errors import ConfigError
from tests.client.conftest import CLIENT_DIR


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "matsvc.json"
    path.write_text(json.dumps({"url": "http://file", "token": "file-token"}))
    return path


def url_and_token(settings):
    return settings.url, settings.token


def test_flags_beat_environment_beat_the_file(config_file):
    environ = {"MATSVC_CONFIG": str(config_file), "MATSVC_URL": "http://env", "MATSVC_TOKEN": "env-token"}
    assert url_and_token(config.resolve("http://flag", "flag-token", environ)) == ("http://flag", "flag-token")
    assert url_and_token(config.resolve(None, None, environ)) == ("http://env", "env-token")
    assert url_and_token(config.resolve(None, None, {"MATSVC_CONFIG": str(config_file)})) == \
        ("http://file", "file-token")


def test_each_value_is_looked_up_on_its_own(config_file):
    settings = config.resolve(None, "flag-token", {"MATSVC_CONFIG": str(config_file), "MATSVC_URL": "http://env"})
    assert (settings.url, settings.url_source) == ("http://env", "environment")
    assert (settings.token, settings.token_source) == ("flag-token", "flag")
    from_file = config.resolve(None, "flag-token", {"MATSVC_CONFIG": str(config_file)})
    assert (from_file.url, from_file.url_source) == ("http://file", str(config_file))


def test_the_default_file_is_under_home(tmp_path):
    assert config.config_path({"HOME": str(tmp_path)}) == tmp_path / ".config" / "matsvc" / "config.json"
    assert config.config_path({"HOME": str(tmp_path), "MATSVC_CONFIG": "/x/c.json"}) == Path("/x/c.json")


def test_nothing_configured_says_how_to_configure(tmp_path):
    settings = config.resolve(None, None, {"MATSVC_CONFIG": str(tmp_path / "missing.json")})
    with pytest.raises(ConfigError, match="matsvc login"):
        settings.require()


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="broken.json"):
        config.resolve(None, None, {"MATSVC_CONFIG": str(path)})


def test_save_writes_an_owner_only_file_and_keeps_other_settings(tmp_path):
    path = tmp_path / "dir" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"url": "http://old", "token": "old", "editor": "vim"}))
    path.chmod(0o644)
    environ = {"MATSVC_CONFIG": str(path)}
    assert config.save("http://new", "secret", environ) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": "http://new", "token": "secret", "editor": "vim"}
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary file left behind


def test_save_creates_the_folder_private(tmp_path):
    path = config.save("http://new", "secret", {"HOME": str(tmp_path)})
    assert path == tmp_path / ".config" / "matsvc" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_cli_without_configuration_exits_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATSVC_CONFIG", str(tmp_path / "missing.json"))
    monkeypatch.delenv("MATSVC_URL", raising=False)
    monkeypatch.delenv("MATSVC_TOKEN", raising=False)
    assert main(["projects"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("matsvc: error: No server URL or token configured")


def test_login_asks_exchanges_the_password_for_a_token_and_saves_it(tmp_path, monkeypatch, capsys):
    import builtins
    import getpass

    sent = []

    class Session:
        headers = {}

        def request(self, method, url, timeout=None, **kwargs):
            sent.append((method, url, kwargs["json"]))
            made = requests.models.Response()
            made.status_code, made._content = 201, json.dumps({"id": "t1", "key": "new-key"}).encode()
            return made

    answers = iter(["http://svc:8000/", ""])  # the URL, then the suggested username
    monkeypatch.setattr(builtins, "input", lambda prompt: next(answers))
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "s3cret")
    monkeypatch.setattr(requests, "Session", Session)
    path = tmp_path / "config.json"
    monkeypatch.setenv("MATSVC_CONFIG", str(path))
    monkeypatch.delenv("MATSVC_URL", raising=False)
    assert main(["login"]) == 0
    (method, url, body), = sent
    assert (method, url) == ("POST", "http://svc:8000/api/v1/auth/token")
    assert (body["username"], body["password"]) == ("alice", "s3cret") and body["name"].startswith("matsvc on ")
    assert json.loads(path.read_text()) == {"url": "http://svc:8000", "token": "new-key"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cret" not in path.read_text() + capsys.readouterr().err


class RecordingSession(requests.Session):
    """A real session (it checks headers and URLs as requests does) that answers every request with an
    empty project list instead of sending it."""

    sent = []

    def send(self, request, **kwargs):
        RecordingSession.sent.append(request)
        made = requests.models.Response()
        made.status_code, made._content = 200, json.dumps({"count": 0, "next": None, "results": []}).encode()
        return made


@pytest.fixture
def recording(monkeypatch, tmp_path):
    RecordingSession.sent = []
    monkeypatch.setattr(requests, "Session", RecordingSession)
    monkeypatch.setenv("MATSVC_CONFIG", str(tmp_path / "missing.json"))
    for variable in ("MATSVC_URL", "MATSVC_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    return RecordingSession.sent


def test_a_token_with_a_trailing_newline_is_used_without_it(recording, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MATSVC_TOKEN", "0123456789abcdef\n")  # as `export MATSVC_TOKEN=$(cat token.txt)` can leave it
    assert main(["--url", "http://svc", "projects"]) == 0
    assert recording[-1].headers["Authorization"] == "Token 0123456789abcdef"
    monkeypatch.delenv("MATSVC_TOKEN")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"url": " http://svc \n", "token": "fedcba9876543210\r\n"}))
    monkeypatch.setenv("MATSVC_CONFIG", str(path))
    assert main(["projects"]) == 0
    assert recording[-1].headers["Authorization"] == "Token fedcba9876543210"
    assert recording[-1].url == "http://svc/api/v1/projects?page_size=500"
    assert config.resolve(None, " \n ", {"MATSVC_CONFIG": str(tmp_path / "none.json")}).token is None


def test_a_malformed_token_is_refused_without_being_shown(recording, capsys):
    assert main(["--url", "http://svc", "--token", "s3cret-token\nX-Other: 1", "projects"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("matsvc: error: The API token contains spaces or control characters")
    assert "s3cret" not in err and recording == []


def test_errors_never_quote_the_token(recording, monkeypatch, capsys):
    class Quoting(RecordingSession):
        def send(self, request, **kwargs):
            raise requests.RequestException(f"could not send {request.headers['Authorization']!r}")

    monkeypatch.setattr(requests, "Session", Quoting)
    assert main(["--url", "http://svc", "--token", "s3cret-token", "projects"]) == 1
    err = capsys.readouterr().err
    assert "s3cret-token" not in err and err == "matsvc: error: Request failed: could not send 'Token [token]'\n"


def test_a_server_url_without_a_scheme_means_http(recording, capsys):
    assert main(["--url", "127.0.0.1:8000", "--token", "t0k", "projects"]) == 0
    assert recording[-1].url == "http://127.0.0.1:8000/api/v1/projects?page_size=500"
    assert main(["--url", "localhost:8000/", "--token", "t0k", "projects"]) == 0
    assert recording[-1].url.startswith("http://localhost:8000/api/v1/projects")
    assert main(["--url", "ftp://files.example", "--token", "t0k", "projects"]) == 1
    assert capsys.readouterr().err.endswith(
        "matsvc: error: The server URL ftp://files.example must start with http:// or https://.\n")
    assert main(["--url", "svc:port", "--token", "t0k", "projects"]) == 1
    assert "The server URL http://svc:port has an invalid port." in capsys.readouterr().err


def test_login_with_stdin_closed_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import builtins

    def closed(prompt=""):
        raise EOFError

    monkeypatch.setattr(builtins, "input", closed)
    monkeypatch.setenv("MATSVC_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.delenv("MATSVC_URL", raising=False)
    assert main(["login"]) == 1
    assert capsys.readouterr().err == (
        '\nmatsvc: error: No answer to "Server URL": standard input is closed. Run `matsvc login` in a terminal, '
        "or set MATSVC_URL and MATSVC_TOKEN instead.\n")
    assert not (tmp_path / "config.json").exists()


def test_login_from_a_script_without_a_terminal_exits_with_one_line(tmp_path):
    env = {**os.environ, "MATSVC_CONFIG": str(tmp_path / "config.json"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(CLIENT_DIR), os.environ.get("PYTHONPATH")]))}
    # A new session has no controlling terminal, so the password is read from the (empty) stdin.
    done = subprocess.run([sys.executable, "-m", "matsvc", "--url", "http://127.0.0.1:9", "login", "-u", "alice"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
                          start_new_session=True)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith('matsvc: error: No answer to "Password"')

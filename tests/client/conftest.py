"""The client package lives in client/ and is installed into the venv by `make setup`; a venv set
up before it existed still finds it here. Also: the real service for the tests marked e2e, started
once for all of them, and the `matsvc` command line run against it."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"

if importlib.util.find_spec("matsvc") is None:
    sys.path.insert(0, str(CLIENT_DIR))


@pytest.fixture(scope="session")
def service():
    """Web server, broker and worker processes (see tests/e2e/service.py)."""
    from tests.e2e.service import start_service

    running = start_service("embedded")
    yield running
    running.stop()


@pytest.fixture
def matsvc(service, tmp_path):
    """Run the CLI as a user would: a separate process, configured by environment variables."""
    env = {**os.environ, "MATSVC_URL": service.base_url, "MATSVC_TOKEN": service.token,
           "MATSVC_CONFIG": str(tmp_path / "no-config.json"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(CLIENT_DIR), os.environ.get("PYTHONPATH")]))}

    def run(*args, timeout=120):
        return subprocess.run([sys.executable, "-m", "matsvc", *map(str, args)], env=env, capture_output=True,
                              text=True, timeout=timeout)

    return run


def save_png(path, size, seed):
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def ok(done):
    assert done.returncode == 0, done.stdout + done.stderr
    return done

"""The client package lives in client/ and is installed into the venv by `make setup`; a venv set
up before it existed still finds it here."""

import importlib.util
import sys
from pathlib import Path

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"

if importlib.util.find_spec("matsvc") is None:
    sys.path.insert(0, str(CLIENT_DIR))

"""Where the server URL and token come from: flags, then environment variables
(MATSVC_URL, MATSVC_TOKEN), then the config file ($MATSVC_CONFIG or ~/.config/matsvc/config.json)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import ConfigError

URL_VARIABLE = "MATSVC_URL"
TOKEN_VARIABLE = "MATSVC_TOKEN"
CONFIG_VARIABLE = "MATSVC_CONFIG"


@dataclass(frozen=True)
class Settings:
    url: str | None
    token: str | None
    # Where each value came from ("flag", "environment", or the file's path), for error messages.
    url_source: str | None = None
    token_source: str | None = None

    def require(self) -> Settings:
        missing = [name for name, value in (("server URL", self.url), ("token", self.token)) if not value]
        if missing:
            raise ConfigError(f"No {' or '.join(missing)} configured: run `matsvc login`, pass --url/--token, "
                              f"or set {URL_VARIABLE} and {TOKEN_VARIABLE}.")
        return self


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get(CONFIG_VARIABLE):
        return Path(environ[CONFIG_VARIABLE]).expanduser()
    return Path(environ.get("HOME") or Path.home()) / ".config" / "matsvc" / "config.json"


def load_file(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"The config file {path} does not hold a JSON object.")
    return data


def resolve(url: str | None = None, token: str | None = None,
            environ: Mapping[str, str] = os.environ) -> Settings:
    """Each value from the first place that has it: the flag, the environment, the config file.
    The file is read only when a flag or variable leaves something open."""
    values: dict[str, tuple[str | None, str | None]] = {}
    for name, flag, variable in (("url", url, URL_VARIABLE), ("token", token, TOKEN_VARIABLE)):
        if _clean(flag):
            values[name] = (_clean(flag), "flag")
        elif _clean(environ.get(variable)):
            values[name] = (_clean(environ[variable]), "environment")
    if len(values) < 2:
        path = config_path(environ)
        stored = load_file(path)
        for name in ("url", "token"):
            if name not in values and _clean(stored.get(name)):
                values[name] = (_clean(stored[name]), str(path))
    (url_value, url_source), (token_value, token_source) = (values.get(n, (None, None)) for n in ("url", "token"))
    return Settings(url_value, token_value, url_source, token_source)


def _clean(value) -> str | None:
    """Values read from files and variables often end in a newline: it is not part of them."""
    if value is None:
        return None
    return str(value).strip() or None


def save(url: str, token: str, environ: Mapping[str, str] = os.environ) -> Path:
    """Write url and token to the config file, readable by its owner only (it holds a secret):
    written to a private temporary file and renamed, so it is never briefly world-readable."""
    path = config_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {**load_file(path), "url": url, "token": token}
    handle, temporary = tempfile.mkstemp(prefix=".config-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path

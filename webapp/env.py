"""One typed helper for reading settings from the environment.

Every setting the service reads from the environment goes through `env(...)`, so
defaults, types and error messages live in one place.
"""

import os
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ImproperlyConfiguredEnv(ValueError):
    pass


def _to_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {raw!r}")


def _to_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


_PARSERS: dict[type, Callable[[str], Any]] = {
    bool: _to_bool,
    int: int,
    float: float,
    str: str,
    list: _to_list,
    Path: Path,
}


def env(name: str, cast: type[T], default: T) -> T:
    """The environment variable `name` parsed as `cast`, or `default` when unset or empty."""
    raw = os.environ.get(name)
    if raw is None or (raw == "" and cast is not bool):
        return default
    try:
        return _PARSERS[cast](raw)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfiguredEnv(f"environment variable {name}={raw!r}: {exc}") from exc

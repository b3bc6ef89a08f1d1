"""HTTP plumbing: the base URL, the token, timeouts, error bodies and retries of idempotent calls."""

from __future__ import annotations

import re
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from .errors import ApiError, ConfigError

# Worth another try: the gateway or the service was briefly away; a request with an Idempotency-Key
# answers 409 with this code while its first copy is still being processed.
RETRY_STATUSES = {502, 503, 504}
RETRY_CODES = {"idempotency_key_in_use"}


class Transport:
    def __init__(self, url: str, token: str | None, *, session: requests.Session | None = None,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = normalize_url(url)
        self.session = session if session is not None else requests.Session()
        token = clean_token(token)
        if token:
            self.session.headers["Authorization"] = f"Token {token}"
        self.session.headers.setdefault("Accept", "application/json")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    def url(self, path: str) -> str:
        """Absolute URL for an API path (`/api/v1/...`) or a link the API returned (already absolute)."""
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(self, method: str, path: str, *, retry: bool = False, body: Callable[[], dict] | None = None,
                expect_json: bool = True, **kwargs: Any) -> Any:
        """Send one request; returns the decoded JSON (or the response when `expect_json` is false).

        `retry`: the call is safe to repeat (a GET, or a POST carrying an Idempotency-Key), so network
        errors and gateway errors are retried with exponential back-off. `body`: a function giving
        fresh keyword arguments for each attempt (files must be reopened for a repeated upload).
        """
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            extra = body() if body else {}
            try:
                response = self.session.request(method, self.url(path), timeout=self.timeout, **kwargs, **extra)
            except (requests.ConnectionError, requests.Timeout):
                if last:
                    raise
            else:
                if response.ok:
                    if not expect_json:
                        return response
                    return response.json() if response.content else None
                error = ApiError.from_response(response)
                if last or not (response.status_code in RETRY_STATUSES or error.code in RETRY_CODES):
                    raise error
            finally:
                for handle in _open_files(extra):
                    handle.close()
            self.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")


def normalize_url(url: str) -> str:
    """`127.0.0.1:8000` means `http://127.0.0.1:8000`; anything but http(s) with a host is refused."""
    url = url.strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        url = "http://" + url
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(f"The server URL {url} has an invalid port.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"The server URL {url} must start with http:// or https://.")
    if not parts.hostname:
        raise ConfigError(f"The server URL {url} has no host name.")
    return url.rstrip("/")


def clean_token(token: str | None) -> str | None:
    """The token without the whitespace a file or variable often adds; one with whitespace or control
    characters inside is refused, without showing it (it is a secret)."""
    token = (token or "").strip()
    if any(c.isspace() or not c.isprintable() for c in token):
        raise ConfigError("The API token contains spaces or control characters; check how it is set "
                          "(it is not shown here).")
    return token or None


def _open_files(kwargs: dict) -> list:
    """The file handles in a `files=` argument, so each attempt closes what it opened."""
    files = kwargs.get("files") or []
    items = files.items() if isinstance(files, dict) else files
    handles = []
    for _, value in items:
        handle = value[1] if isinstance(value, tuple) else value
        if hasattr(handle, "close"):
            handles.append(handle)
    return handles

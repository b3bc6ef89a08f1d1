"""The exceptions the client raises; every one is a `MatsvcError`, so a caller can catch them all."""

from __future__ import annotations

from typing import Any


class MatsvcError(Exception):
    """Base class: something the user can read and act on (its str() is one line)."""


class ApiError(MatsvcError):
    """The service answered with an error: `{"error": {"status", "code", "message", "field", "fields"}}`."""

    def __init__(self, status: int, message: str, code: str = "error", field: str | None = None,
                 fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field
        self.fields = fields or {}

    @classmethod
    def from_response(cls, response: Any) -> ApiError:
        """Build from a `requests.Response`; bodies that are not the service's JSON (a proxy's HTML
        page, say) still give a one-line message with the HTTP status."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return cls(status=int(error.get("status") or response.status_code), message=str(error["message"]),
                       code=str(error.get("code") or "error"), field=error.get("field"),
                       fields=error.get("fields") or {})
        reason = getattr(response, "reason", "") or "error"
        snippet = " ".join((getattr(response, "text", "") or "").split())[:200]
        message = f"HTTP {response.status_code} {reason}" + (f": {snippet}" if snippet else "")
        return cls(status=response.status_code, message=message)


class JobFailed(MatsvcError):
    """A job ended as failed or cancelled; `job` is its last state as the API gave it."""

    def __init__(self, job: dict):
        self.job = job
        reason = job.get("error") or ("cancelled" if job.get("status") == "cancelled" else "no reason given")
        super().__init__(f"job {job.get('kind', '')} {job.get('id', '')} {job.get('status', 'failed')}: {reason}")


class JobTimeout(MatsvcError):
    """`Client.wait` gave up before the job finished (the job keeps running on the server)."""

    def __init__(self, job: dict, seconds: float):
        self.job = job
        super().__init__(f"job {job.get('id', '')} still {job.get('status', '')} after {seconds:g} s")


class JobUnreachable(MatsvcError):
    """`Client.wait` lost contact with the server for longer than it was told to keep trying (the
    job may well still be running there); `cause` is the last network or gateway error."""

    def __init__(self, job_id: str, seconds: float, cause: BaseException):
        self.job_id, self.seconds, self.cause = job_id, seconds, cause
        super().__init__(f"lost contact with the server for {seconds:.0f} s while waiting for job {job_id} "
                         f"({network_reason(cause)}); the job may still be running")


class ConfigError(MatsvcError):
    """No server URL or token, or an unreadable config file."""


def network_reason(exc: BaseException) -> str:
    """requests wraps urllib3 wraps the socket error; the innermost one says what happened
    ("Connection refused") without a screenful of wrapper names."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        reason = getattr(exc, "reason", None)
        inner = (reason if isinstance(reason, BaseException) else None) or \
            (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None) or \
            exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__

"""`matsvc`: the command line. Every failure ends in one line on stderr and a non-zero exit status."""

from __future__ import annotations

import argparse
import sys

import requests

from . import __version__, config
from .client import Client
from .commands import MODULES
from .commands.common import Interrupted, UsageError
from .errors import MatsvcError, network_reason


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matsvc", description="Materials & textures service: capture, vary and upscale from the command line.",
        epilog=f"Settings: --url/--token, else ${config.URL_VARIABLE}/${config.TOKEN_VARIABLE}, else the config "
               f"file (${config.CONFIG_VARIABLE} or ~/.config/matsvc/config.json, written by `matsvc login`).")
    parser.add_argument("--url", help="Server URL, e.g. http://127.0.0.1:8000 (http:// when no scheme is given).")
    parser.add_argument("--token", help="API token.")
    parser.add_argument("--retry-for", type=float, default=300.0, metavar="SECONDS",
                        help="While waiting for a job, keep trying this long when the server cannot be reached "
                             "or answers 502/503/504 (default 300).")
    parser.add_argument("--version", action="version", version=f"matsvc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in MODULES:
        module.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = None  # kept out of every message, whatever an error quotes
    try:
        if not getattr(args, "needs_client", True):
            return args.run(args)
        settings = config.resolve(args.url, args.token).require()
        token = settings.token
        return args.run(args, Client(settings.url, settings.token, retry_for=args.retry_for))
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 -- the ones not described below are raised again
        described = describe(exc)
        if described is None:
            raise
        message, status = described
        return fail(redact(message, token), status)


def describe(exc: Exception) -> tuple[str, int] | None:
    """The one-line message and exit status for an expected failure; None for a bug."""
    if isinstance(exc, UsageError):
        return str(exc), 2
    if isinstance(exc, Interrupted):
        return str(exc), 130
    if isinstance(exc, MatsvcError):
        return str(exc), 1
    if isinstance(exc, FileNotFoundError):
        return (exc.args[0] if len(exc.args) == 1 else f"No such file: {exc.filename}"), 1
    if isinstance(exc, requests.ConnectionError):
        return _unreachable(exc), 1
    if isinstance(exc, requests.Timeout):
        return "The server did not answer in time.", 1
    if isinstance(exc, requests.RequestException):
        return f"Request failed: {exc}", 1
    if isinstance(exc, OSError) and exc.strerror:  # say, no room or no permission to write an output
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror, 1
    return None


def redact(message: str, secret: str | None) -> str:
    return message.replace(secret, "[token]") if secret and len(secret) >= 6 else message


def fail(message, status: int = 1) -> int:
    print(f"matsvc: error: {message}", file=sys.stderr, flush=True)
    return status


def _unreachable(exc: requests.ConnectionError) -> str:
    where = exc.request.url.split("/api/")[0] if getattr(exc, "request", None) is not None else "the server"
    return f"Cannot reach {where}: {network_reason(exc)}."


if __name__ == "__main__":
    sys.exit(main())

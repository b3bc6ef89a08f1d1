"""`matsvc`: the command line. Every failure ends in one line on stderr and a non-zero exit status."""

from __future__ import annotations

import argparse
import sys

import requests

from . import __version__, config
from .client import Client
from .commands import MODULES
from .commands.common import Interrupted, UsageError
from .errors import MatsvcError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matsvc", description="Materials & textures service: capture, vary and upscale from the command line.",
        epilog=f"Settings: --url/--token, else ${config.URL_VARIABLE}/${config.TOKEN_VARIABLE}, else the config "
               f"file (${config.CONFIG_VARIABLE} or ~/.config/matsvc/config.json, written by `matsvc login`).")
    parser.add_argument("--url", help="Server URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="API token.")
    parser.add_argument("--version", action="version", version=f"matsvc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in MODULES:
        module.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not getattr(args, "needs_client", True):
            return args.run(args)
        settings = config.resolve(args.url, args.token).require()
        return args.run(args, Client(settings.url, settings.token))
    except UsageError as exc:
        return fail(exc, 2)
    except Interrupted as exc:
        return fail(exc, 130)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except MatsvcError as exc:
        return fail(exc)
    except FileNotFoundError as exc:
        return fail(exc.args[0] if len(exc.args) == 1 else f"No such file: {exc.filename}")
    except requests.ConnectionError as exc:
        return fail(_unreachable(exc))
    except requests.Timeout:
        return fail("The server did not answer in time.")
    except requests.RequestException as exc:
        return fail(f"Request failed: {exc}")


def fail(message, status: int = 1) -> int:
    print(f"matsvc: error: {message}", file=sys.stderr, flush=True)
    return status


def _unreachable(exc: requests.ConnectionError) -> str:
    where = exc.request.url.split("/api/")[0] if getattr(exc, "request", None) is not None else "the server"
    return f"Cannot reach {where}: {_root_cause(exc)}."


def _root_cause(exc: BaseException) -> str:
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

if __name__ == "__main__":
    sys.exit(main())

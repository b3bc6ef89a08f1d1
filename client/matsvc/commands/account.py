"""`matsvc login`, `matsvc projects` and `matsvc invitations`."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys

from .. import config
from ..client import Client
from ..errors import MatsvcError
from ..transport import normalize_url
from .common import say


def add_parsers(commands) -> None:
    login = commands.add_parser("login", help="Sign in with a username and password; saves the URL and a new token.")
    login.add_argument("--username", "-u", help="Asked for when not given.")
    login.set_defaults(run=run_login, needs_client=False)

    projects = commands.add_parser("projects", help="List your projects.")
    projects.add_argument("--search", help="Part of a project's name or slug.")
    projects.set_defaults(run=run_projects)

    invitations = commands.add_parser("invitations", help="List your invitations to projects, or answer one.")
    answer = invitations.add_mutually_exclusive_group()
    answer.add_argument("--accept", type=int, metavar="ID", help="Join that invitation's project.")
    answer.add_argument("--decline", type=int, metavar="ID", help="Decline that invitation.")
    invitations.set_defaults(run=run_invitations)


def run_login(args: argparse.Namespace) -> int:
    current = config.resolve(args.url, None)
    url = normalize_url(args.url or _ask("Server URL", current.url))
    username = args.username or _ask("Username", getpass.getuser())
    password = _answer("Password", lambda: getpass.getpass("Password: "))
    # Named after the machine, so the token list in the web front end says where each one lives.
    token = Client.login(url, username, password, token_name=f"matsvc on {socket.gethostname()}"[:100])
    path = config.save(url, token)
    say(f"Signed in to {url} as {username}; token saved in {path}")
    return 0


def _ask(prompt: str, default: str | None) -> str:
    while True:
        answer = _answer(prompt, lambda: input(f"{prompt}" + (f" [{default}]" if default else "") + ": "))
        answer = answer.strip() or (default or "")
        if answer:
            return answer


def _answer(prompt: str, read) -> str:
    """`read()` a reply; a closed standard input (a script, a pipe, Ctrl-D) is a clear error, not a traceback."""
    try:
        return read()
    except EOFError:
        print(file=sys.stderr)  # end the prompt's line
        raise MatsvcError(f"No answer to \"{prompt}\": standard input is closed. Run `matsvc login` in a "
                          f"terminal, or set {config.URL_VARIABLE} and {config.TOKEN_VARIABLE} instead.") from None


def run_projects(args: argparse.Namespace, client: Client) -> int:
    projects = client.projects(search=args.search)
    if not projects:
        say("No projects.")
    for project in projects:
        print(f"{project['id']}  {project['slug']:<24} {project.get('role') or '':<7} {project['name']}")
    return 0


def run_invitations(args: argparse.Namespace, client: Client) -> int:
    if args.accept is not None:
        project = client.accept_invitation(args.accept)
        say(f"Joined {project['name']} ({project['slug']}) as {project.get('role')}.")
        return 0
    if args.decline is not None:
        client.decline_invitation(args.decline)
        say(f"Declined invitation {args.decline}.")
        return 0
    pending = client.invitations()
    if not pending:
        say("No invitations.")
    for invitation in pending:
        print(f"{invitation['id']:<8} {invitation['role']:<7} {invitation['project']['name']}"
              f"  (from {invitation.get('invited_by') or 'an owner'})")
    return 0

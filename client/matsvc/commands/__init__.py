"""The CLI's subcommands, one module per group; each module has `add_parsers(subparsers)`."""

from . import account, capture, jobs, upscale, vary

MODULES = (account, jobs, capture, vary, upscale)

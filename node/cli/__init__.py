"""``vcnode``: the command line. Each sub-command lives in its own module here and
exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a callable
taking the parsed arguments and returning the exit code.

Exit codes follow one rule everywhere: 0 success (resolved, verified), 1 the operation
ran and said no (not resolved, not verified) or answered only in part (``issue-batch`` with
refused rows, ``config show`` without its store), 2 bad usage or unusable input.

Every option and argument has a help text, and every command that prints records takes
``--json`` (``config.add_json_flag``), the records shaped as the HTTP API shapes them;
tests/node/test_cli_help.py walks the parser and holds both.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from importlib import metadata
from typing import Sequence

# Order is the order of ``vcnode --help``. Add a module name here when it exists.
COMMAND_MODULES: list[str] = [
    "serve", "init", "config", "issuer", "token", "ops", "credentials", "verify", "sign", "resolve", "key", "achievement", "issue_batch",
    "offer", "trust", "backup", "restore",
]


def version() -> str:
    """The installed package's version (its metadata, from pyproject.toml)."""
    try:
        return metadata.version("vcnode")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vcnode", description="Verifiable-credential trust node for micro-credentials")
    parser.add_argument("--version", action="version", version=f"vcnode {version()}", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"node.cli.{name}").register(sub)
    return parser


# What a shell reports for a program that SIGPIPE ended (128 + 13), as ``yes | head`` does.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code = int(func(args) or 0)
        # Flushed here, not at exit: a reader that went away is then seen by the handler below.
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of the output (head, less, grep -q) stopped reading: end quietly, as other
        # Unix tools do, with what a shell reports for one that SIGPIPE ended, since the output
        # was not all delivered (a pipeline under pipefail fails as it would with cat). The
        # operation itself finished or stopped as its own code says; stdout goes to /dev/null so
        # that the interpreter's flush at exit raises nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The command line as operators expect it (issue 12, point 7): a version, help on every
option and argument of every command, and ``--json`` on every command that prints records.

The parser is walked whole, so a command added later is held to the same rules.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import metadata
from typing import Iterator

from node.cli import build_parser

# Commands that print no record: serving is not printing.
NO_RECORDS = {"vcnode serve"}


def commands(parser: argparse.ArgumentParser, path: str = "vcnode") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(name, parser) of every command and group, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{path} {name}")


def leaves() -> list[tuple[str, argparse.ArgumentParser]]:
    return [
        (name, p) for name, p in commands(build_parser())
        if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)
    ]


def test_every_option_and_argument_has_help() -> None:
    missing = []
    for name, parser in commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS or not action.help.strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "options without help: " + ", ".join(missing)


def test_every_command_that_prints_records_takes_json() -> None:
    found = {name for name, _ in leaves()}
    assert {"vcnode issuer list", "vcnode achievement list", "vcnode credentials list", "vcnode credentials show", "vcnode verify"} <= found
    assert NO_RECORDS <= found, "an exempted command is gone: update NO_RECORDS"
    without = [name for name, p in leaves() if name not in NO_RECORDS and not any("--json" in a.option_strings for a in p._actions)]
    assert not without, "commands without --json: " + ", ".join(without)


def test_every_command_has_a_help_line() -> None:
    for name, parser in commands(build_parser()):
        if name != "vcnode":
            assert parser.description or parser.format_usage(), name
    top = build_parser()
    listed = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    assert all(choice.help for choice in listed._choices_actions), [c.dest for c in listed._choices_actions if not c.help]


def test_version_comes_from_the_package_metadata() -> None:
    done = subprocess.run([sys.executable, "-m", "node", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip() == f"vcnode {metadata.version('vcnode')}"

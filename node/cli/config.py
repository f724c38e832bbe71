"""``vcnode config show``: the effective configuration (file, environment, flags), no secrets.

An operator runs it when something is wrong, so a store that does not answer (PostgreSQL down,
a wrong port, an SQLite file that is not a database) does not hide the rest: everything the
configuration says is printed, the values only the store holds (the recorded base URL) are
left out and named under ``unread``, one line on standard error says why, and the exit code is
1, as for ``vcnode issue-batch`` with refused rows: the command ran and its answer is partial
(2 stays bad usage: a configuration that does not load).

Also holds what every node sub-command shares: the common flags, turning them into a
``Config``, running an async operation against the local store, and reporting errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any, Awaitable, Callable

from node.config import LOG_FORMATS, Config, ConfigError, load_config, unknown_env_names
from node.keys import KeyProtectionError
from node.logs import configure_logging
from node.store import StoreError, StoreUnavailable
from vc.errors import ProblemError

log = logging.getLogger("node.config")


def add_common_flags(parser: argparse.ArgumentParser, *, server: bool = False) -> None:
    parser.add_argument("--config", dest="config_file", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--data", dest="data_dir", metavar="DIR", help="data folder (default ./vcnode-data)")
    parser.add_argument(
        "--base-url",
        dest="base_url",
        metavar="URL",
        help="public URL of the node (default http://localhost:PORT); a data folder keeps the one it was initialised with",
    )
    if server:
        parser.add_argument("--host", metavar="H", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, metavar="P", help="port to listen on (default 8443)")
        parser.add_argument("--tls-cert", dest="tls_cert", metavar="F", help="TLS certificate chain (PEM)")
        parser.add_argument("--tls-key", dest="tls_key", metavar="F", help="TLS private key (PEM)")
        parser.add_argument(
            "--log-format",
            dest="log_format",
            choices=LOG_FORMATS,
            help="log lines as text (default) or one JSON object per line (also VCNODE_LOG_FORMAT)",
        )


def add_json_flag(parser: argparse.ArgumentParser, what: str | None = None) -> None:
    """``--json``, which every command that prints records takes (tests/node/test_cli_help.py):
    the records as JSON, shaped as the HTTP API shapes the same thing. ``what`` names them; a
    command whose output is JSON anyway says so."""
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print {what} as JSON" if what else "print JSON (this command's output is JSON already; accepted so every command takes it)",
    )


def config_from_args(args: argparse.Namespace) -> Config:
    flags = {
        name: getattr(args, name, None)
        for name in ("data_dir", "base_url", "host", "port", "tls_cert", "tls_key", "log_format", "workers")
    }
    return load_config(flags, config_file=getattr(args, "config_file", None))


def warn_about_environment() -> None:
    """Say which ``VCNODE_*`` variables vcnode does not know (node.config.unknown_env_names):
    logged once logging is configured, so that a JSON log stays JSON."""
    for message in unknown_env_names():
        log.warning(message)


def fail(message: str, code: int = 2) -> int:
    print(f"vcnode: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace, operation: Callable[[Config], Awaitable[int]]) -> int:
    """Load the configuration and run ``operation``; expected failures become a message and exit code."""
    try:
        config = config_from_args(args)
    except ConfigError as e:
        return fail(str(e))
    configure_logging(config.log_level, config.log_format)
    warn_about_environment()
    try:
        return asyncio.run(operation(config))
    except StoreUnavailable as e:  # locked, full, read-only: what is wrong, in its own words
        return fail(e.reason)
    except (KeyProtectionError, StoreError, ConfigError) as e:
        return fail(str(e))
    except ProblemError as e:
        # A refusal of the input (400) is bad usage; anything else means the operation said no.
        return fail(e.detail, 2 if e.http_status == 400 else 1)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


async def _recorded_base_url(config: Config) -> str | None:
    from node.identity import recorded
    from node.store import open_database, store_present

    if not await store_present(config.data_dir, config.database_url):  # showing creates nothing
        return None
    db = await open_database(config.data_dir, config.database_url)
    try:
        found = await recorded(db)
    finally:
        await db.close()
    return found.base_url if found else None


# What ``config show`` reads from the store rather than the configuration: left out, and named
# under "unread", when the store does not answer. base_url and effective_base_url are the
# recorded one when there is one, so they are not known either.
STORE_VALUES = ("recorded_base_url", "base_url", "effective_base_url")


def _show(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as e:
        return fail(str(e))
    configure_logging(config.log_level, config.log_format)
    warn_about_environment()
    shown = config.public()
    from node.store import store_exists

    recorded_url = None
    if store_exists(config.data_dir) or config.database_url:
        # The folder's own name wins over the configured one (node.identity).
        try:
            recorded_url = asyncio.run(_recorded_base_url(config))
        except StoreError as e:
            return _show_without_store(shown, config, e)
        shown["recorded_base_url"] = recorded_url
    # "base_url" is what the node will use, not the raw setting: a null there, on a folder that
    # records its name, read as "this node has no base URL". The setting is kept beside it.
    shown["configured_base_url"] = config.base_url
    if recorded_url:
        shown["base_url"] = shown["effective_base_url"] = recorded_url
        shown["base_url_source"] = f"recorded in the data folder ({config.data_dir})"
    else:
        shown["base_url"] = config.effective_base_url
        shown["base_url_source"] = (
            "configured" if config.base_url else "default (http://localhost:PORT; no base URL is configured or recorded)"
        )
    print_json(shown)
    return 0


def _show_without_store(shown: dict[str, Any], config: Config, error: StoreError) -> int:
    """The configuration without what only the store holds: those values left out (a null
    ``recorded_base_url`` would read as "none recorded") and named under ``unread``, the store's
    answer on one line of standard error. Exit 1: a partial answer (module docstring)."""
    for name in STORE_VALUES:
        shown.pop(name, None)
    shown["configured_base_url"] = config.base_url
    shown["base_url_source"] = "unknown: the store was not read, and a base URL recorded there wins over the configured one"
    shown["unread"] = list(STORE_VALUES)
    # StoreUnavailable's reason is its own words (a redacted URL for PostgreSQL); any other
    # StoreError (not a database, a schema newer than this vcnode) says what it is.
    if isinstance(error, StoreUnavailable):
        what = f"the store did not answer ({error.reason})"
    else:
        what = f"the store could not be read ({error})"
    print_json(shown)
    sys.stdout.flush()  # the JSON first, then the line saying what it lacks
    print(f"vcnode: {what}, so the base URL recorded there is not known: {_listed(STORE_VALUES)} are left out", file=sys.stderr)
    return 1


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


def register(sub: Any) -> None:
    parser = sub.add_parser("config", help="show the effective configuration")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the effective configuration (secrets masked) as JSON")
    add_common_flags(show, server=True)
    add_json_flag(show)
    show.set_defaults(func=_show)

"""What the commands that reach the network (``resolve``, ``verify``) share: the
``--allow-insecure`` and ``--timeout`` options, and a guarded resolver for one command."""

from __future__ import annotations

import argparse
from contextlib import asynccontextmanager
from typing import AsyncIterator

from did.http import GuardedHTTP, create_guarded_session, normalize_host_port
from did.key import DIDKeyResolver
from did.resolver import Resolver
from did.web import DIDWebResolver


def add_network_arguments(parser: argparse.ArgumentParser, *, timeout_help: str) -> None:
    parser.add_argument(
        "--allow-insecure",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="allow plain HTTP (and a non-public address) for did:web at HOST:PORT; repeatable; for testing",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help=timeout_help)


def network_settings(args: argparse.Namespace) -> list[str]:
    """The allowed hosts in canonical form; ``ValueError`` with a usage message when unusable."""
    try:
        allowed = [normalize_host_port(h) for h in args.allow_insecure]
    except ValueError as e:
        raise ValueError(f"--allow-insecure: {e}") from e
    if not args.timeout > 0:
        raise ValueError("--timeout must be positive")
    return allowed


@asynccontextmanager
async def guarded_resolver(
    allowed: list[str], timeout: float, *, key_format: str = "Multikey"
) -> AsyncIterator[tuple[GuardedHTTP, Resolver]]:
    """A did:key + did:web resolver over a guarded session opened (and closed) for one command."""
    session = create_guarded_session(allowed_insecure_hosts=allowed)
    try:
        http = GuardedHTTP(session, allowed_insecure_hosts=allowed, timeout=timeout)
        yield http, Resolver({"key": DIDKeyResolver(public_key_format=key_format), "web": DIDWebResolver(http)})
    finally:
        await session.close()

"""``vcnode token create|revoke|list``: API tokens. A new token is printed once; the store keeps
its hash. Tokens may expire (``--expires 30d`` or a date); the list shows when each was last used."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any

from node.cli.config import add_common_flags, add_json_flag, print_json, run
from node.config import Config
from node.node import open_node
from node.tokens import parse_expiry


def _create(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        expires = parse_expiry(args.expires, datetime.now(timezone.utc)) if args.expires else None
        async with open_node(config, network=False) as node:
            new = await node.tokens.create(scopes, issuer=args.issuer, expires=expires)
        if args.json:
            print_json(new.to_json())
        else:
            print(new.token)
            print(
                f"token id {new.id}, scopes {','.join(new.scopes)}"
                + (f", issuer {new.issuer}" if new.issuer else ", all issuers")
                + (f", expires {new.expires}" if new.expires else ", does not expire")
                + " (shown once; the node keeps only its hash)",
                file=sys.stderr,
            )
        return 0

    return run(args, operation)


def _revoke(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            await node.tokens.revoke(args.id)
        if args.json:
            print_json({"id": args.id, "revoked": True})
        else:
            print(f"token {args.id} revoked")
        return 0

    return run(args, operation)


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            tokens = await node.tokens.list()
        now = datetime.now(timezone.utc)
        print_json({"tokens": [t.to_json(now) for t in tokens]})
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser("token", help="create, revoke and list API tokens")
    actions = parser.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token (printed once)")
    create.add_argument("--scopes", required=True, help="comma-separated: issue,status,admin")
    create.add_argument("--issuer", metavar="NAME", help="bind the token to one issuer")
    create.add_argument(
        "--expires",
        metavar="WHEN",
        help="when the token stops working: a duration (30d, 12h, 90m, 2w), a date (2026-09-01, as that day begins, UTC) "
        "or a date-time with a time zone; default: never",
    )
    create.add_argument("--json", action="store_true", help="print the token and its details as JSON")
    add_common_flags(create)
    create.set_defaults(func=_create)
    revoke = actions.add_parser("revoke", help="revoke a token by its id (it stops working at once)")
    revoke.add_argument("id", help="the token's id (token list shows them)")
    revoke.add_argument("--json", action="store_true", help='print {"id": ..., "revoked": true}')
    add_common_flags(revoke)
    revoke.set_defaults(func=_revoke)
    listing = actions.add_parser(
        "list", help="list tokens as JSON: id, scopes, issuer, created, expires, last used (to the minute), revoked, state; never the tokens"
    )
    add_common_flags(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)

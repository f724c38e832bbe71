"""``vcnode token create|revoke|list``: API tokens. A new token is printed once; the store keeps its hash."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from node.node import open_node
from node.cli.config import add_common_flags, add_json_flag, print_json, run
from node.config import Config


def _create(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        async with open_node(config, network=False) as node:
            new = await node.tokens.create(scopes, issuer=args.issuer)
        if args.json:
            print_json(new.to_json())
        else:
            print(new.token)
            print(
                f"token id {new.id}, scopes {','.join(new.scopes)}"
                + (f", issuer {new.issuer}" if new.issuer else ", all issuers")
                + " (shown once; the node keeps only its hash)",
                file=sys.stderr,
            )
        return 0

    return run(args, operation)


def _revoke(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            await node.tokens.revoke(args.id)
        if args.json:
            print_json({"id": args.id, "revoked": True})
        else:
            print(f"token {args.id} revoked")
        return 0

    return run(args, operation)


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            tokens = await node.tokens.list()
        print_json({"tokens": [t.to_json() for t in tokens]})
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser("token", help="create, revoke and list API tokens")
    actions = parser.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token (printed once)")
    create.add_argument("--scopes", required=True, help="comma-separated: issue,status,admin")
    create.add_argument("--issuer", metavar="NAME", help="bind the token to one issuer")
    create.add_argument("--json", action="store_true", help="print the token and its id, scopes and issuer as JSON")
    add_common_flags(create)
    create.set_defaults(func=_create)
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id", help="the token's id (vcnode token list), not the token itself")
    revoke.add_argument("--json", action="store_true", help='print {"id": ..., "revoked": true}')
    add_common_flags(revoke)
    revoke.set_defaults(func=_revoke)
    listing = actions.add_parser("list", help="list tokens (ids, scopes; never the tokens)")
    add_common_flags(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)

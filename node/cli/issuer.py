"""``vcnode issuer create NAME`` / ``vcnode issuer list``: the issuers hosted by this node."""

from __future__ import annotations

import argparse
from typing import Any

from node.node import open_node
from node.cli.config import add_common_flags, print_json, run
from node.config import Config


def _create(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        purposes = args.status_purposes.split(",") if args.status_purposes else None
        async with open_node(config, network=False) as node:
            issuer = await node.issuers.create(args.name, status_purposes=purposes)
        if args.json:
            print_json(issuer.to_json())
        else:
            print(f"issuer {issuer.name}: {' '.join(issuer.dids)}")
        return 0

    return run(args, operation)


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            issuers = await node.issuers.list()
        if args.json:
            print_json({"issuers": [i.to_json() for i in issuers]})
        else:
            for issuer in issuers:
                print(f"{issuer.name}\t{' '.join(issuer.dids)}\t{','.join(issuer.status_purposes)}")
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser("issuer", help="create and list issuers")
    actions = parser.add_subparsers(dest="issuer_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create an issuer with its own key, DIDs and status lists")
    create.add_argument("name", help="the issuer's name: lower-case letters, digits, '.', '_', '-' (it becomes part of its did:web)")
    create.add_argument("--status-purposes", metavar="LIST", help="e.g. revocation,suspension (default from config)")
    create.add_argument("--json", action="store_true", help="print the new issuer as JSON")
    add_common_flags(create)
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list the issuers")
    listing.add_argument("--json", action="store_true", help="print the issuers as JSON")
    add_common_flags(listing)
    listing.set_defaults(func=_list)

"""``vcnode trust add DID [--label TEXT]`` / ``trust list`` / ``trust remove DID``: the
accreditation bodies this node trusts as the roots of accreditation chains (node.trust).
``vcnode trust remove-accreditation ID [--issuer NAME]``: the holder side, stop publishing an
accreditation one of this node's issuers holds."""

from __future__ import annotations

import argparse
from typing import Any

from node.node import open_node
from node.cli.config import add_common_flags, print_json, run
from node.config import Config
from node.issuers import DEFAULT_ISSUER


def _add(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            body = await node.trust.add_trusted_body(args.did, label=args.label)
        if args.json:
            print_json(body.to_json())
        else:
            print(f"trusted: {body.did}" + (f" ({body.label})" if body.label else ""))
        return 0

    return run(args, operation)


def _remove(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            await node.trust.remove_trusted_body(args.did)
        if args.json:
            print_json({"did": args.did, "trusted": False})
        else:
            print(f"no longer trusted: {args.did}")
        return 0

    return run(args, operation)


def _remove_accreditation(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            await node.trust.remove_accreditation(args.issuer, args.credential_id)
        if args.json:
            print_json({"issuer": args.issuer, "id": args.credential_id, "published": False})
        else:
            print(f"no longer published by issuer {args.issuer!r}: {args.credential_id}")
        return 0

    return run(args, operation)


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            bodies = await node.trust.trusted_bodies()
        if args.json:
            print_json({"trustedBodies": [b.to_json() for b in bodies], "maxDepth": config.trust_max_depth})
        else:
            for b in bodies:
                print(f"{b.did}\t{b.label or ''}\t{b.added}")
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser("trust", help="manage the accreditation bodies this node trusts")
    actions = parser.add_subparsers(dest="trust_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="trust an accreditation body (its DID) as the root of accreditation chains")
    add.add_argument("did", metavar="DID", help="the accreditation body's DID")
    add.add_argument("--label", help="a name to show for it")
    add.add_argument("--json", action="store_true", help="print the trusted body as JSON")
    add_common_flags(add)
    add.set_defaults(func=_add)
    remove = actions.add_parser("remove", help="stop trusting an accreditation body")
    remove.add_argument("did", metavar="DID", help="the accreditation body's DID")
    remove.add_argument("--json", action="store_true", help='print {"did": ..., "trusted": false}')
    add_common_flags(remove)
    remove.set_defaults(func=_remove)
    unpublish = actions.add_parser(
        "remove-accreditation", help="stop publishing an accreditation credential one of this node's issuers holds"
    )
    unpublish.add_argument("credential_id", metavar="ID", help="the accreditation credential's id")
    unpublish.add_argument("--issuer", default=DEFAULT_ISSUER, help=f"the issuer holding it (default {DEFAULT_ISSUER!r})")
    unpublish.add_argument("--json", action="store_true", help='print {"issuer": ..., "id": ..., "published": false}')
    add_common_flags(unpublish)
    unpublish.set_defaults(func=_remove_accreditation)
    listing = actions.add_parser("list", help="list the trusted accreditation bodies")
    listing.add_argument("--json", action="store_true", help="print the trusted bodies and the depth followed as JSON")
    add_common_flags(listing)
    listing.set_defaults(func=_list)

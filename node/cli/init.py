"""``vcnode init``: make a data folder a node (store, master key, ``default`` issuer) under its
base URL, which the folder then keeps (``node.identity``). Idempotent: run again, it prints the
same node; with another ``--base-url`` it refuses and says why."""

from __future__ import annotations

import argparse
from typing import Any

from node.cli.config import add_common_flags, print_json, run
from node.config import Config
from node.node import open_node


def _init(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, create=True) as node:
            issuers = await node.issuers.list()
            base_url = node.config.effective_base_url
        if args.json:
            print_json(
                {
                    "baseUrl": base_url,
                    "issuers": [{"name": i.name, "dids": i.dids, "verificationMethods": i.verification_methods} for i in issuers],
                }
            )
        else:
            print(f"data folder: {config.data_dir}")
            where = "the database" if config.database_url else "the folder"
            print(f"base URL: {base_url} (recorded in {where}; every later command and serve use it)")
            for issuer in issuers:
                print(f"issuer {issuer.name}: {' '.join(issuer.dids)}")
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "init",
        help="make a data folder a node under its base URL (idempotent)",
        description="Create the store, the master key and the default issuer, and record the base URL "
        "(the public URL people reach the node by: it names the issuers' did:web DIDs and status lists). "
        "The folder keeps that base URL: later commands and serve use it, and refuse another.",
    )
    add_common_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the base URL and the issuers as JSON")
    parser.set_defaults(func=_init)

"""``vcnode init``: idempotent set-up of a data folder (store, master key, ``default`` issuer)."""

from __future__ import annotations

import argparse
from typing import Any

from node.node import open_node
from node.cli.config import add_common_flags, print_json, run
from node.config import Config


def _init(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            issuers = await node.issuers.list()
        if args.json:
            print_json({"issuers": [{"name": i.name, "dids": i.dids, "verificationMethods": i.verification_methods} for i in issuers]})
        else:
            print(f"data folder: {config.data_dir}")
            for issuer in issuers:
                print(f"issuer {issuer.name}: {' '.join(issuer.dids)}")
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser("init", help="initialise a data folder (idempotent)")
    add_common_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the issuers as JSON")
    parser.set_defaults(func=_init)

"""``vcnode init``: make a data folder a node (store, master key, ``default`` issuer) under its
base URL, which the folder then keeps (``node.identity``). Idempotent: run again, it prints the
same node; with another ``--base-url`` it refuses and says why."""

from __future__ import annotations

import argparse
from typing import Any

from node.cli.config import add_common_flags, print_json, run
from node.config import Config
from node.keys import KEYFILE_NAME, SETTING as MASTER_KEY_SETTING
from node.node import open_node
from node.store import settings as setting_rows


def _init(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, create=True) as node:
            issuers = await node.issuers.list()
            base_url = node.config.effective_base_url
            async with node.db.read() as tx:
                record = await setting_rows.get(tx, MASTER_KEY_SETTING) or {}
        protection = str(record.get("mode"))
        key_file = config.data_dir / str(record.get("file", KEYFILE_NAME)) if protection == "keyfile" else None
        if args.json:
            print_json(
                {
                    "baseUrl": base_url,
                    "issuers": [{"name": i.name, "dids": i.dids, "verificationMethods": i.verification_methods} for i in issuers],
                    "keyProtection": protection,
                    "keyFile": str(key_file) if key_file else None,
                }
            )
        else:
            print(f"data folder: {config.data_dir}")
            where = "the database" if config.database_url else "the folder"
            print(f"base URL: {base_url} (recorded in {where}; every later command and serve use it)")
            for issuer in issuers:
                print(f"issuer {issuer.name}: {' '.join(issuer.dids)}")
            # Chosen once, when the store was made, and kept: said here, where a mistyped
            # VCNODE_PASSPHRASE would otherwise go unnoticed until serve's warning.
            if key_file is not None:
                print(
                    f"issuer keys: sealed with the key file {key_file} (VCNODE_PASSPHRASE was not set when the node was "
                    "made; it keeps this choice). Keep a copy of that file apart from the backups."
                )
            else:
                print("issuer keys: sealed with a key derived from VCNODE_PASSPHRASE (Argon2id); every command that signs, "
                      "and serve, need it")
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

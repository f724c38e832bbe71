"""``vcnode backup FILE``: a consistent copy of the node's store, made while it serves
(``node.backup``). It holds the sealed issuer keys, never the passphrase nor the key file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from node.backup import backup
from node.cli.config import add_common_flags, print_json, run
from node.config import Config
from node.node import open_node


def _backup(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            summary = await backup(node, Path(args.file))
        if args.json:
            print_json(summary.to_json())
            return 0
        named = summary.base_url or "a node with no base URL recorded (made by an older vcnode)"
        print(f"backup of {named} written to {summary.path} ({summary.size} bytes)")
        if summary.key_protection == "keyfile":
            print(
                f"The issuer keys in it are sealed with the key file {summary.key_file}, which is not in the backup "
                "(beside it, the backup would be a copy of every key). Keep a copy of that file apart from the "
                "backups: a restore needs it (vcnode restore FILE --data DIR --key-file COPY).",
                file=sys.stderr,
            )
        else:
            print("The issuer keys in it are sealed with the passphrase, which is in no backup: a restore needs VCNODE_PASSPHRASE.", file=sys.stderr)
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "backup",
        help="copy the node's store to FILE while it serves (SQLite online backup)",
        description="Write a consistent copy of the node's SQLite store to FILE, also while the node serves: "
        "issuers with their sealed keys, the master-key record, the base URL, tokens (hashes), credential records, "
        "status lists. Never the passphrase, never the key file master.key (keep a copy of it apart). The copy "
        "appears under FILE only once complete and checked. For a PostgreSQL store use pg_dump.",
    )
    parser.add_argument("file", metavar="FILE", help="the backup file to write (replaced atomically if it exists)")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_common_flags(parser)
    parser.set_defaults(func=_backup)

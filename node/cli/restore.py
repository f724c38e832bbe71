"""``vcnode restore FILE --data DIR``: make an empty folder the node a backup holds (``node.backup``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from node.backup import restore
from node.cli.config import add_common_flags, fail, print_json, run
from node.config import Config


def _restore(args: argparse.Namespace) -> int:
    if not args.data_dir:
        return fail("restore needs --data DIR: the new (empty) data folder")

    async def operation(config: Config) -> int:
        summary = await restore(Path(args.file), config, key_file=Path(args.key_file) if args.key_file else None)
        if args.json:
            print_json(summary.to_json())
        else:
            print(f"restored {summary.base_url} into {summary.data_dir}: issuers {', '.join(summary.issuers)}")
            print(f"serve it with: vcnode serve --data {summary.data_dir}")
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "restore",
        help="restore a backup into a new, empty data folder",
        description="Check a backup (integrity, a vcnode store this version knows), open its sealed keys with "
        "VCNODE_PASSPHRASE or --key-file before writing anything, then make DIR (absent or empty) that node, "
        "with the identity (base URL) it had.",
    )
    parser.add_argument("file", metavar="FILE", help="a file written by vcnode backup")
    parser.add_argument("--key-file", metavar="F", help="the node's master.key, for a backup whose keys are sealed with a key file")
    parser.add_argument("--json", action="store_true", help="print the restored node as JSON")
    add_common_flags(parser)
    parser.set_defaults(func=_restore)

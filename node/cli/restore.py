"""``vcnode restore FILE --data DIR``: make an empty folder the node a backup holds (``node.backup``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from node.backup import restore
from node.identity import likely_names
from node.cli.config import add_common_flags, fail, print_json, run
from node.config import Config


def _restore(args: argparse.Namespace) -> int:
    if not args.data_dir:
        return fail("restore needs --data DIR: the new (empty) data folder")

    async def operation(config: Config) -> int:
        summary = await restore(Path(args.file), config, key_file=Path(args.key_file) if args.key_file else None)
        if args.json:
            print_json(summary.to_json())
        elif summary.base_url:
            print(f"restored {summary.base_url} into {summary.data_dir}: issuers {', '.join(summary.issuers)}")
            print(f"serve it with: vcnode serve --data {summary.data_dir}")
        else:
            print(f"restored into {summary.data_dir}: issuers {', '.join(summary.issuers)}")
        if summary.base_url is None:
            # Serving it under a default would give its issuers new DIDs (node.identity), so the
            # one step that must come first is said whatever the output format.
            print(
                f"The backup has no recorded base URL (it was made by an older vcnode). Before serving it, record the "
                f"URL the node has always been served at: vcnode init --data {summary.data_dir} --base-url URL"
                f"{likely_names(summary.names_in_store)}",
                file=sys.stderr,
            )
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "restore",
        help="restore a backup into a new, empty data folder",
        description="Check a backup (integrity, a vcnode store this version knows), open its sealed keys with "
        "VCNODE_PASSPHRASE or --key-file before writing anything, then make DIR (absent or empty) that node, "
        "with the identity (base URL) it had. A backup made by an older vcnode has none: --base-url records one "
        "(the URL the node has always been served at), else vcnode init --base-url must record it before it is served.",
    )
    parser.add_argument("file", metavar="FILE", help="a file written by vcnode backup")
    parser.add_argument("--key-file", metavar="F", help="the node's master.key, for a backup whose keys are sealed with a key file")
    parser.add_argument("--json", action="store_true", help="print the restored node as JSON")
    add_common_flags(parser)
    parser.set_defaults(func=_restore)

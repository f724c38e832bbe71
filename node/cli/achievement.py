"""``vcnode achievement create FILE`` / ``vcnode achievement list``: micro-credential achievements.

An achievement (docs/microcredential-profile.md) is defined once per issuer from a JSON file
(title, description, learningOutcomes, ects, eqfLevel, assessment, participation,
qualityAssurance, awardingBody, ...). An incomplete definition is refused with every problem
named by its Annex I element (exit 2), and nothing is stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from node.node import open_node
from node.cli.config import add_common_flags, fail, print_json, run
from node.config import Config
from node.issuers import DEFAULT_ISSUER
from vc.edu import ProfileError


def print_problems(what: str, error: ProfileError) -> int:
    print(f"vcnode: {what} refused ({len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}):", file=sys.stderr)
    for p in error.problems:
        print(f"  {p}", file=sys.stderr)
    return 2


def _create(args: argparse.Namespace) -> int:
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8")) if args.file != "-" else json.load(sys.stdin)
    except OSError as e:
        return fail(f"cannot read {args.file}: {e.strerror or e}")
    except json.JSONDecodeError as e:
        return fail(f"{args.file} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    if not isinstance(data, dict):
        return fail(f"{args.file} must hold a JSON object (the achievement)")
    if args.slug:
        data["slug"] = args.slug

    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            try:
                stored = await node.achievements.create(args.issuer, data)
            except ProfileError as e:
                return print_problems("the achievement was", e)
        if args.json:
            print_json(stored.to_json())
        else:
            print(f"achievement {stored.slug} ({stored.definition.title}): {stored.definition.id}")
        return 0

    return run(args, operation)


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            items = await node.achievements.list(args.issuer)
        if args.json:
            print_json({"achievements": [a.to_json() for a in items]})
        else:
            for a in items:
                d = a.definition
                print(f"{a.slug}\t{d.title}\t{d.ects} ECTS\tEQF {d.eqf_level}\t{d.participation}\t{d.id}")
        return 0

    return run(args, operation)


def register(sub: Any) -> None:
    parser = sub.add_parser("achievement", help="define and list micro-credential achievements")
    actions = parser.add_subparsers(dest="achievement_action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="define an achievement from a JSON file (see docs/microcredential-profile.md)",
        description="Define an achievement (course or module) with every EU Annex I element; refused with each "
        "problem named by its element when incomplete.",
    )
    create.add_argument("file", metavar="FILE", help="the achievement as JSON, or - for standard input")
    create.add_argument("--issuer", default=DEFAULT_ISSUER, help="the issuer that awards it (default: default)")
    create.add_argument("--slug", help="the achievement's short id (default: from humanCode or title)")
    create.add_argument("--json", action="store_true", help="print the stored achievement as JSON, as POST /issuers/{name}/achievements answers")
    add_common_flags(create)
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list an issuer's achievements")
    listing.add_argument("--issuer", default=DEFAULT_ISSUER, help="the issuer whose achievements to list (default: default)")
    listing.add_argument("--json", action="store_true", help="print them as JSON, as GET /issuers/{name}/achievements answers")
    add_common_flags(listing)
    listing.set_defaults(func=_list)

"""``vcnode credentials [list|show|purge]``: what the node issued, on the local store.

``list`` (also the bare ``vcnode credentials``) prints the status records (id, issuer, subject,
status, entries), as ``GET``-ting them over HTTP would shape them. ``show ID`` prints a kept
credential exactly as it was issued (``GET /credentials/{id}``), or says why it cannot (never
issued, erased, never kept). ``purge`` erases kept credential bodies (personal data) and keeps
the status records, so revocation and status lists work on: ``--older-than DAYS``, ``--id``
(one credential, repeatable) or ``--subject`` (a learner's), combined as "all of these". README,
"Personal data in the store", says when to use which.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from node.cli.config import add_common_flags, add_json_flag, fail, print_json, run
from node.config import Config
from node.node import open_node

_COMMON = ("config_file", "data_dir", "base_url", "json", "issuer", "subject")


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            records = await node.credentials.list(issuer_name=getattr(args, "issuer", None), subject_id=getattr(args, "subject", None))
        print_json({"credentials": [r.to_json() for r in records]})
        return 0

    return run(args, operation)


def _show(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            credential = await node.credentials.body(args.credential_id, issuer_name=args.issuer)
        # The JSON form is GET /credentials/{id}'s answer; without --json, the credential alone.
        print_json({"verifiableCredential": credential} if args.json else credential)
        return 0

    return run(args, operation)


def _purge(args: argparse.Namespace) -> int:
    if args.older_than is None and not args.ids and args.subject is None:
        return fail("say what to erase: --older-than DAYS, --id CREDENTIAL_ID or --subject ID")
    if args.older_than is not None and args.older_than < 0:
        return fail("--older-than takes a number of days, 0 or more")

    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            erased = await node.credentials.purge(
                now=datetime.now(timezone.utc), older_than_days=args.older_than, ids=args.ids or None, subject_id=args.subject
            )
        if args.json:
            print_json({"erased": erased})
        else:
            print(f"erased {erased} credential bod{'y' if erased == 1 else 'ies'}; the status records stay")
        return 0

    return run(args, operation)


def _common(parser: argparse.ArgumentParser, json_what: str) -> None:
    add_common_flags(parser)
    add_json_flag(parser, json_what)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "credentials",
        help="the credentials this node issued: list their records, show one as issued, purge kept bodies",
        description="Without an action, list the records (as `credentials list`).",
    )
    parser.add_argument("--issuer", metavar="NAME", help="only this issuer's credentials")
    parser.add_argument("--subject", metavar="ID", help="only those whose credentialSubject id is ID")
    _common(parser, "the records")
    parser.set_defaults(func=_list)
    actions = parser.add_subparsers(dest="credentials_action", metavar="ACTION")
    listing = actions.add_parser("list", help="list issued credentials (id, issuer, subject, status, entries)")
    listing.add_argument("--issuer", metavar="NAME", help="only this issuer's credentials")
    listing.add_argument("--subject", metavar="ID", help="only those whose credentialSubject id is ID")
    _common(listing, "the records")
    listing.set_defaults(func=_list)
    show = actions.add_parser("show", help="print a credential exactly as it was issued (kept while keep_credentials is on)")
    show.add_argument("credential_id", metavar="ID", help="the credential's id (vcnode credentials list shows them)")
    show.add_argument("--issuer", metavar="NAME", help="only if issued by this issuer")
    _common(show, "{verifiableCredential}, as GET /credentials/{id} answers")
    show.set_defaults(func=_show)
    purge = actions.add_parser(
        "purge",
        help="erase kept credential bodies (personal data); the status records stay",
        description="Erase kept credential bodies; every condition given must hold. The records (id, issuer, "
        "subject id, status, status entries) stay, so the credentials can still be revoked and verified.",
    )
    purge.add_argument("--older-than", dest="older_than", type=int, metavar="DAYS", help="those issued more than DAYS days ago")
    purge.add_argument("--id", dest="ids", action="append", metavar="CREDENTIAL_ID", help="this credential's (repeatable)")
    purge.add_argument("--subject", metavar="ID", help="those issued to this credentialSubject id (a learner's DID)")
    _common(purge, "{erased: N}")
    purge.set_defaults(func=_purge)
    # A flag given before the action (vcnode credentials --data D show ID) stays the parent's:
    # the action's own flags, when absent, leave it alone rather than resetting it.
    for action_parser in (listing, show, purge):
        for action in action_parser._actions:
            if action.dest in _COMMON:
                action.default = argparse.SUPPRESS

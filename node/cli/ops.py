"""``vcnode issue FILE`` and ``vcnode revoke|suspend|unsuspend CREDENTIAL_ID`` on the local store
(``vcnode credentials``, listing and showing what was issued, is ``node.cli.credentials``).

For operators without HTTP: the same operations as the VC-API routes, with the same checks.
A status change re-signs the status list in the store, so a running node serves the new list
on its next GET.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from node.node import open_node
from node.cli.config import add_common_flags, add_json_flag, fail, print_json, run
from node.config import Config
from node.issuers import DEFAULT_ISSUER


def _issue(args: argparse.Namespace) -> int:
    from vc.limits import DuplicateMemberError, loads

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        body = loads(text)
    except OSError as e:
        return fail(f"cannot read {args.file}: {e.strerror or e}")
    except DuplicateMemberError as e:
        return fail(f"{args.file} is not I-JSON: {e}")
    except json.JSONDecodeError as e:
        return fail(f"{args.file} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    # Accept either a bare credential or a VC-API request body {credential, options}.
    if isinstance(body, dict) and "credential" in body and "@context" not in body:
        credential, options = body["credential"], dict(body.get("options") or {})
    else:
        credential, options = body, {}
    if args.cryptosuite:
        options["cryptosuite"] = args.cryptosuite
    if args.status_purposes is not None:
        options["statusPurposes"] = [p for p in args.status_purposes.split(",") if p]

    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            signed = await node.issuance.issue(args.issuer, credential, options)
        print_json(signed)
        return 0

    return run(args, operation)


def _set_status(status: str):  # type: ignore[no-untyped-def]
    def command(args: argparse.Namespace) -> int:
        if (args.credential_id is None) == (args.ids_file is None):
            return fail("name one CREDENTIAL_ID, or a file of them with --from FILE")
        ids = [args.credential_id]
        if args.ids_file is not None:
            try:
                text = sys.stdin.read() if args.ids_file == "-" else Path(args.ids_file).read_text(encoding="utf-8")
            except OSError as e:
                return fail(f"cannot read {args.ids_file}: {e.strerror or e}")
            ids = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
            if not ids:
                return fail(f"{args.ids_file} names no credential id")

        async def operation(config: Config) -> int:
            # Many at once: one transaction, all or nothing, each touched list re-signed once
            # (node.status_changes); a re-run after a crash changes what is left and re-signs
            # whatever the crash left unpublished (Node.start).
            async with open_node(config, network=False) as node:
                records = await node.status.set_status_many([(i, status) for i in ids], issuer_name=args.issuer)
            shaped = [{"credentialId": r.id, **r.to_json()} for r in records]  # as POST /credentials/status answers
            print_json(shaped[0] if args.ids_file is None else {"credentials": shaped})
            return 0

        return run(args, operation)

    return command


def register(sub: Any) -> None:
    issue = sub.add_parser("issue", help="issue a credential from a JSON file (- for stdin)")
    issue.add_argument("file", help="the credential, or a VC-API request {credential, options}, as JSON (- for standard input)")
    issue.add_argument("--issuer", default=DEFAULT_ISSUER, metavar="NAME", help=f"the issuing issuer (default {DEFAULT_ISSUER})")
    issue.add_argument("--cryptosuite", choices=["eddsa-rdfc-2022", "eddsa-jcs-2022"], help="proof suite (default eddsa-rdfc-2022)")
    issue.add_argument("--status-purposes", metavar="LIST", help="override the issuer's purposes, e.g. revocation,suspension")
    add_common_flags(issue)
    add_json_flag(issue)
    issue.set_defaults(func=_issue)
    for name, status, text in (
        ("revoke", "revoked", "revoke a credential (final)"),
        ("suspend", "suspended", "suspend a credential (reversible)"),
        ("unsuspend", "active", "lift a credential's suspension"),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("credential_id", metavar="CREDENTIAL_ID", nargs="?", help="the credential's id (vcnode credentials lists them)")
        parser.add_argument(
            "--from",
            dest="ids_file",
            metavar="FILE",
            help="change every credential whose id is a line of FILE (- for standard input), all in one transaction: "
            "all or none",
        )
        parser.add_argument("--issuer", metavar="NAME", help="only if issued by this issuer")
        add_common_flags(parser)
        add_json_flag(parser)
        parser.set_defaults(func=_set_status(status))

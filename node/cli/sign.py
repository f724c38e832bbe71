"""``vcnode sign FILE --key KEYFILE --suite SUITE``: add a Data Integrity proof to a JSON document.

KEYFILE is Multikey JSON as ``vcnode key generate`` prints it (``secretKeyMultibase``, a 32-byte
seed or the 64-byte seed+public form). The verification method is ``--verification-method``, else
the key file's ``id``, else the key's did:key (``did:key:z6Mk...#z6Mk...``). The signed document
goes to stdout; a document that already has proofs gets a proof set (or, with
``--previous-proof``, a chain). Exit 0 signed, 2 unusable input (file, key, suite, or a document
the suite cannot sign, such as one with terms no context defines).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from node.cli.config import add_json_flag, fail, print_json

SUITE_NAMES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020")


def _read_json(path: str, what: str) -> Any:
    from vc.limits import DuplicateMemberError, loads

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"cannot read the {what} {path}: {e.strerror or e}") from e
    try:
        return loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"the {what} {path} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except DuplicateMemberError as e:
        raise ValueError(f"the {what} {path} is not I-JSON: {e}") from e


def sign(args: argparse.Namespace) -> int:
    from vc.crypto import Ed25519KeyPair
    from vc.errors import ProblemError
    from vc.loader import ContextLoader, ContextManifestError, default_loader
    from vc.proofs import add_proof

    try:
        document = _read_json(args.file, "document")
        key_json = _read_json(args.key, "key file")
    except ValueError as e:
        return fail(str(e))
    if not isinstance(document, dict):
        return fail(f"{args.file} must hold a JSON object")
    if not isinstance(key_json, dict):
        return fail(f"{args.key} must hold a Multikey JSON object")
    try:
        key = Ed25519KeyPair.from_multikey(key_json)
    except Exception as e:  # did.errors / ValueError: any unusable key is a usage error here
        return fail(f"{args.key} is not a usable Ed25519 Multikey secret key: {e}")
    vm = args.verification_method
    if vm is None and isinstance(key_json.get("id"), str) and "#" in key_json["id"]:
        vm = key_json["id"]
    created: datetime | str = args.created or datetime.now(timezone.utc)
    try:
        loader = ContextLoader(extra_dir=args.contexts) if args.contexts else default_loader()
    except ContextManifestError as e:
        return fail(str(e))
    try:
        signed = add_proof(
            document,
            suite=args.suite,
            key=key,
            verification_method=vm,
            purpose=args.purpose,
            created=created,
            loader=loader,
            domain=args.domain,
            challenge=args.challenge,
            nonce=args.nonce,
            expires=args.expires,
            previous_proof=args.previous_proof,
            proof_id=args.proof_id,
        )
    except ProblemError as e:
        return fail(f"cannot sign {args.file}: {e.detail} ({e.code})")
    print_json(signed)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sign",
        help="add a Data Integrity proof (eddsa-rdfc-2022, eddsa-jcs-2022, Ed25519Signature2020) to a JSON document",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("file", metavar="FILE", help="the JSON document to sign ('-' for stdin)")
    p.add_argument("--key", required=True, metavar="KEYFILE", help="Multikey JSON with secretKeyMultibase")
    p.add_argument("--suite", required=True, choices=SUITE_NAMES, help="the cryptosuite")
    p.add_argument("--verification-method", metavar="URL", help="the proof's verificationMethod")
    p.add_argument("--purpose", default="assertionMethod", help="proofPurpose (default assertionMethod; authentication for presentations)")
    p.add_argument("--challenge", help="proof challenge (presentations)")
    p.add_argument("--domain", help="proof domain (presentations)")
    p.add_argument("--nonce", help="proof nonce")
    p.add_argument("--created", metavar="ISO", help="proof created time (XML Schema dateTimeStamp; default now)")
    p.add_argument("--expires", metavar="ISO", help="proof expiry time")
    p.add_argument("--proof-id", metavar="URL", help="the proof's id (so a later proof can chain to it)")
    p.add_argument("--previous-proof", metavar="ID", help="chain the new proof to this earlier proof's id")
    p.add_argument("--contexts", metavar="DIR", help="a folder of extra pinned JSON-LD contexts (with MANIFEST.json)")
    add_json_flag(p)
    p.set_defaults(func=sign)

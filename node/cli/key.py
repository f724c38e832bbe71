"""``vcnode key generate``: a new Ed25519 key pair as Multikey JSON, with its did:key.

The output is a Controlled Identifiers Multikey object (``type`` Multikey, ``id`` the
verification method id ``did:key:z6Mk...#z6Mk...``, ``controller`` the did:key,
``publicKeyMultibase``, ``secretKeyMultibase``) that ``vc.crypto.Ed25519KeyPair.from_multikey``
reads back. It holds a secret: it goes to stdout only, for the operator to store.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from node.cli.config import add_json_flag

MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"


def register(sub: Any) -> None:
    p = sub.add_parser("key", help="key utilities (generate an Ed25519 key pair)")
    key_sub = p.add_subparsers(dest="key_command", metavar="ACTION")
    gen = key_sub.add_parser(
        "generate",
        help="print a new Ed25519 key pair as Multikey JSON with its did:key",
        description="Print a new Ed25519 key pair as Multikey JSON (publicKeyMultibase, secretKeyMultibase) "
        "with its did:key as controller and verification method id. The output contains the secret key.",
    )
    add_json_flag(gen)
    gen.set_defaults(func=generate)
    p.set_defaults(func=_usage(p))


def _usage(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def multikey_json(pair: Any) -> dict[str, Any]:
    from did.key import did_key_from_public_key

    did = did_key_from_public_key(pair.public_key)
    return {
        "@context": MULTIKEY_V1,
        "id": f"{did}#{pair.public_multibase}",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": pair.public_multibase,
        "secretKeyMultibase": pair.secret_multibase,
    }


def generate(args: argparse.Namespace) -> int:
    from vc.crypto import Ed25519KeyPair

    print(json.dumps(multikey_json(Ed25519KeyPair.generate()), indent=2))
    return 0

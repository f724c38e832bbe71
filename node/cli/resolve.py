"""``vcnode resolve DID_OR_DID_URL``: print the DID resolution (or dereferencing) result as JSON.

Exit 0 resolved, 1 resolution failed (the error is in the JSON's metadata), 2 bad usage.
did:key resolves locally; did:web goes through the guarded HTTP client (HTTPS only unless
``--allow-insecure HOST:PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from node.cli.config import add_json_flag
from node.cli.network import add_network_arguments, guarded_resolver, network_settings

EXIT_RESOLVED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("Multikey", "Ed25519VerificationKey2020", "JsonWebKey2020")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "resolve",
        help="resolve a DID or dereference a DID URL and print the result as JSON",
        description="Resolve a DID (did:key, did:web) and print the DID Resolution result, or dereference "
        "a DID URL (did:...#key-1) and print the dereferencing result. Exit 0 resolved, 1 failed, 2 bad usage.",
    )
    p.add_argument("did", metavar="DID_OR_DID_URL", help="a DID (did:key, did:web) or a DID URL (did:...#key-1)")
    add_json_flag(p)
    p.add_argument(
        "--key-format",
        choices=FORMATS,
        default="Multikey",
        help="verification method form for did:key documents (default Multikey)",
    )
    add_network_arguments(p, timeout_help="seconds allowed for a did:web fetch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        allowed = network_settings(args)
    except ValueError as e:
        print(f"vcnode resolve: {e}", file=sys.stderr)
        return EXIT_USAGE
    out, ok = asyncio.run(_resolve(args.did, allowed, args.timeout, args.key_format))
    print(json.dumps(out, indent=2))
    return EXIT_RESOLVED if ok else EXIT_FAILED


async def _resolve(text: str, allowed: list[str], timeout: float, key_format: str) -> tuple[dict[str, Any], bool]:
    from did.errors import DIDError

    async with guarded_resolver(allowed, timeout, key_format=key_format) as (_, resolver):
        # a DID has no path, query or fragment; anything else is dereferenced as a DID URL
        if not any(ch in text for ch in "/?#"):
            result = await resolver.resolve(text)
            out = result.to_json()
            # What is printed is a serialization (DID Core 1.0 §7.1 resolveRepresentation), so
            # its metadata states the media type: did+ld+json only for the JSON-LD representation.
            out["didResolutionMetadata"] = result.representation()[1]
            return out, result.error is None
        # DID URL dereferencing result (DID Resolution v0.3 §5)
        try:
            resource = await resolver.dereference(text)
        except DIDError as e:
            metadata = {"error": e.code, "errorMessage": e.detail}
            return {"dereferencingMetadata": metadata, "contentStream": None, "contentMetadata": {}}, False
        return {
            "dereferencingMetadata": {"contentType": "application/did+ld+json"},
            "contentStream": resource,
            "contentMetadata": {},
        }, True

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

EXIT_RESOLVED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("Multikey", "Ed25519VerificationKey2020", "JsonWebKey2020")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "resolve",
        help="resolve a DID or dereference a DID URL and print the result as JSON",
        description="Resolve a DID (did:key, did:web) and print the DID Resolution result, or dereference "
        "a DID URL (did:...#key-1) and print the dereferencing result. Exit 0 resolved, 1 failed, 2 bad usage.",
    )
    p.add_argument("did", metavar="DID_OR_DID_URL")
    p.add_argument(
        "--allow-insecure",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="allow plain HTTP (and a non-public address) for did:web at HOST:PORT; repeatable; for testing",
    )
    p.add_argument(
        "--key-format",
        choices=FORMATS,
        default="Multikey",
        help="verification method form for did:key documents (default Multikey)",
    )
    p.add_argument("--timeout", type=float, default=5.0, help="seconds allowed for a did:web fetch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from did.http import normalize_host_port

    try:
        allowed = [normalize_host_port(h) for h in args.allow_insecure]
    except ValueError as e:
        print(f"vcnode resolve: --allow-insecure: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not args.timeout > 0:
        print("vcnode resolve: --timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    out, ok = asyncio.run(_resolve(args.did, allowed, args.timeout, args.key_format))
    print(json.dumps(out, indent=2))
    return EXIT_RESOLVED if ok else EXIT_FAILED


async def _resolve(text: str, allowed: list[str], timeout: float, key_format: str) -> tuple[dict[str, Any], bool]:
    from did.errors import DIDError
    from did.http import GuardedHTTP, create_guarded_session
    from did.key import DIDKeyResolver
    from did.resolver import Resolver

    session = create_guarded_session(allowed_insecure_hosts=allowed)
    try:
        http = GuardedHTTP(session, allowed_insecure_hosts=allowed, timeout=timeout)
        from did.web import DIDWebResolver

        resolver = Resolver({"key": DIDKeyResolver(public_key_format=key_format), "web": DIDWebResolver(http)})
        # a DID has no path, query or fragment; anything else is dereferenced as a DID URL
        if not any(ch in text for ch in "/?#"):
            result = await resolver.resolve(text)
            return result.to_json(), result.error is None
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
    finally:
        await session.close()

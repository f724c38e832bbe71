"""``GET /status/{issuer}/{purpose}/{n}``: a published BitstringStatusListCredential.

Bitstring Status List v1.0 §2.2. The body is the signed list exactly as stored at its last
re-signing; its ETag is a hash of those bytes, so ``If-None-Match`` gets a 304 until the
next status change. ``Cache-Control`` follows the list's ``ttl`` (``max-age``); without a
ttl, ``no-cache`` makes caches revalidate every time, so a revocation is visible on the next
fetch. CORS lets browser wallets read the lists.
"""

from __future__ import annotations

from aiohttp import web

from node.problems import not_found
from node.routes import CORS_HEADERS, node_of, preflight

VC_MEDIA_TYPE = "application/vc+ld+json"


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # RFC 9110 §13.1.2: If-None-Match uses weak comparison, so W/"x" matches "x".
    candidates = [t.strip() for t in header.split(",")]
    return any(c.removeprefix("W/") == etag for c in candidates)


async def get_status_list(request: web.Request) -> web.StreamResponse:
    issuer, purpose, seq_text = request.match_info["issuer"], request.match_info["purpose"], request.match_info["seq"]
    # isdecimal, not isdigit: "²" is a digit but not a number; nine digits keep int() small
    # enough for SQLite (a longer number is no list this node has).
    if not (seq_text.isascii() and seq_text.isdecimal()) or len(seq_text) > 9:
        raise not_found(f"status lists are numbered 1, 2, ...; {seq_text!r} is not a list number")
    published = await node_of(request).status_lists.get(issuer, purpose, int(seq_text))
    if published is None:
        raise not_found(f"there is no {purpose!r} status list number {seq_text} for issuer {issuer!r}")
    headers = {
        **CORS_HEADERS,
        "ETag": published.etag,
        "Cache-Control": f"max-age={published.ttl_ms // 1000}" if published.ttl_ms else "no-cache",
    }
    if _etag_matches(request.headers.get("If-None-Match"), published.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=published.body, content_type=VC_MEDIA_TYPE, headers=headers)


def setup(app: web.Application) -> None:
    path = "/status/{issuer}/{purpose}/{seq}"
    app.router.add_get(path, get_status_list, allow_head=True)
    app.router.add_route("OPTIONS", path, preflight)

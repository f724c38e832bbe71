"""``GET /status/{issuer}/{purpose}/{n}``: a published BitstringStatusListCredential.

Bitstring Status List v1.0 §2.2. The body is the signed list exactly as stored at its last
re-signing; its ETag is a hash of those bytes, so ``If-None-Match`` gets a 304 until the
next status change. ``Cache-Control`` follows the list's ``ttl`` (``max-age``), cut to the
time left before the served list is re-signed (half its validity) and so never past its
``validUntil``; without a ttl, ``no-cache`` makes caches revalidate every time, so a
revocation is visible on the next fetch. CORS lets browser wallets read the lists.
"""

from __future__ import annotations

from aiohttp import web

from node.problems import not_found
from node.routes import node_of, open_to_browsers, preconditions
from node.routes.endpoint import Endpoints, PathParam, Reply
from node.routes.models import JsonLd

VC_MEDIA_TYPE = "application/vc+ld+json"

api = Endpoints()


@api.get(
    "/status/{issuer}/{purpose}/{seq}",
    "getStatusList",
    summary="A status list credential (Bitstring Status List 1.0)",
    tags=["Status"],
    description=(
        "A signed BitstringStatusListCredential (application/vc+ld+json), the URL a credential's "
        "`statusListCredential` names. Public, CORS open, ETag / If-None-Match / If-Match, cacheable for its ttl."
    ),
    params=[
        PathParam("issuer", "The issuer's name"),
        PathParam("purpose", "The list's status purpose", {"type": "string", "enum": ["revocation", "suspension", "message"]}),
        PathParam("seq", "The list's number, from 1", {"type": "integer"}),
    ],
    replies={
        200: Reply(JsonLd, "The status list credential", media_type=VC_MEDIA_TYPE, headers={"ETag": "A hash of the body", "Cache-Control": "max-age=TTL, or no-cache"}),
        304: Reply(None, "Not modified since the ETag the client holds", headers={"ETag": "A hash of the body"}),
    },
    problems={404: "No such list", 412: "If-Match names none of the list's current ETag (RFC 9110 §13.1.1)"},
)
async def get_status_list(request: web.Request) -> web.StreamResponse:
    issuer, purpose, seq_text = request.match_info["issuer"], request.match_info["purpose"], request.match_info["seq"]
    # isdecimal, not isdigit: "²" is a digit but not a number; nine digits keep int() small
    # enough for SQLite (a longer number is no list this node has).
    if not (seq_text.isascii() and seq_text.isdecimal()) or len(seq_text) > 9 or seq_text != str(int(seq_text)):
        # One URL per list, the one its credentials name and its id is: "00001" is not list 1,
        # or a cache would hold one list under several keys (and its id would not be its URL).
        raise not_found(f"status lists are numbered 1, 2, ...; {seq_text!r} is not a list number")
    published = await node_of(request).status_lists.get(issuer, purpose, int(seq_text))
    if published is None:
        raise not_found(f"there is no {purpose!r} status list number {seq_text} for issuer {issuer!r}")
    max_age = node_of(request).status_lists.max_age(published)
    headers = {
        "ETag": published.etag,
        "Cache-Control": f"max-age={max_age}" if max_age is not None else "no-cache",
    }
    unchanged = preconditions(request, published.etag, headers)
    if unchanged is not None:
        return unchanged
    return web.Response(body=published.body, content_type=VC_MEDIA_TYPE, headers=headers)


def setup(app: web.Application) -> None:
    api.register(app)
    open_to_browsers(app, "/status/{issuer}/{purpose}/{seq}")

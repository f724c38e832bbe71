"""``GET /status/{issuer}/{purpose}/{n}``: a published BitstringStatusListCredential.

Bitstring Status List v1.0 §2.2. The body is the signed list exactly as stored at its last
re-signing; its ETag is a hash of those bytes, so ``If-None-Match`` gets a 304 until the
next status change. ``Cache-Control`` follows the list's ``ttl`` (``max-age``), cut to the
time left before the served list is re-signed (half its validity) and so never past its
``validUntil``; without a ttl, ``no-cache`` makes caches revalidate every time, so a
revocation is visible on the next fetch. CORS lets browser wallets read the lists.

Media type (§4: "any media type registered for the purpose of expressing a verifiable
credential"; VC DM 2.0 registers ``application/vc``): negotiated (``negotiate``), the same bytes
under each, each variant with its own ETag (Content-Type is part of what a strong validator
validates, RFC 9110 §8.8.1) and ``Vary: Accept``.
"""

from __future__ import annotations

from aiohttp import web

from node.pages import accept_ranges
from node.problems import not_found
from node.routes import node_of, open_to_browsers, preconditions
from node.routes.endpoint import Endpoints, PathParam, Reply
from node.routes.models import JsonLd

# The default, for a request that names none of the others above it (no Accept, */*): clients
# such as Digital Bazaar's http client read a body as JSON by a "json" in its type, which
# application/vc (the type VC DM 2.0 §C registers) does not have.
VC_MEDIA_TYPE = "application/vc+ld+json"
VC_REGISTERED = "application/vc"
LD_JSON = "application/ld+json"
JSON = "application/json"
# In order of preference when a request's Accept ranks several alike.
MEDIA_TYPES = (VC_MEDIA_TYPE, VC_REGISTERED, LD_JSON, JSON)
# What each variant adds to the list's ETag (the default keeps the one the store records).
_ETAG_SUFFIX = {VC_MEDIA_TYPE: "", VC_REGISTERED: "-vc", LD_JSON: "-ld", JSON: "-json"}


def negotiate(accept: str | None) -> str:
    """The media type to serve for an ``Accept`` header (RFC 9110 §12.5.1): the one it ranks
    highest, its most specific range deciding; ties and no acceptable type at all go to
    ``VC_MEDIA_TYPE`` first (a list is better than a 406 for a client that asked oddly)."""
    if not accept:
        return VC_MEDIA_TYPE
    ranges = accept_ranges(accept)

    def q(media: str) -> float:
        for key in (media, media.split("/", 1)[0] + "/*", "*/*"):
            if key in ranges:
                return ranges[key]
        return 0.0

    best = max(MEDIA_TYPES, key=q)  # the first of the highest ranked
    return best if q(best) > 0 else VC_MEDIA_TYPE


def variant_etag(etag: str, media_type: str) -> str:
    """The list's ETag for the variant served as ``media_type`` (a strong validator per variant)."""
    suffix = _ETAG_SUFFIX[media_type]
    return etag[:-1] + suffix + '"' if suffix and etag.endswith('"') else etag


api = Endpoints()


@api.get(
    "/status/{issuer}/{purpose}/{seq}",
    "getStatusList",
    summary="A status list credential (Bitstring Status List 1.0)",
    tags=["Status"],
    description=(
        "A signed BitstringStatusListCredential, the URL a credential's `statusListCredential` names. Served as "
        "application/vc+ld+json unless the request's Accept ranks application/vc, application/ld+json or "
        "application/json higher (the same bytes; `Vary: Accept`, an ETag per media type). Public, CORS open, "
        "ETag / If-None-Match / If-Match, cacheable for its ttl."
    ),
    params=[
        PathParam("issuer", "The issuer's name"),
        PathParam("purpose", "The list's status purpose", {"type": "string", "enum": ["revocation", "suspension", "message"]}),
        PathParam("seq", "The list's number, from 1", {"type": "integer"}),
    ],
    replies={
        200: Reply(
            JsonLd,
            "The status list credential",
            media_type=MEDIA_TYPES,
            headers={"ETag": "A hash of the body (and of the media type but the default's)", "Cache-Control": "max-age=TTL, or no-cache", "Vary": "Accept"},
        ),
        304: Reply(None, "Not modified since the ETag the client holds", headers={"ETag": "A hash of the body", "Vary": "Accept"}),
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
    media_type = negotiate(request.headers.get("Accept"))
    etag = variant_etag(published.etag, media_type)
    headers = {
        "ETag": etag,
        "Cache-Control": f"max-age={max_age}" if max_age is not None else "no-cache",
        "Vary": "Accept",
    }
    unchanged = preconditions(request, etag, headers)
    if unchanged is not None:
        return unchanged
    return web.Response(body=published.body, content_type=media_type, headers=headers)


def setup(app: web.Application) -> None:
    api.register(app)
    open_to_browsers(app, "/status/{issuer}/{purpose}/{seq}")

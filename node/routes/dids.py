"""The issuers' did:web documents (did:web §3.2 Read): ``/.well-known/did.json`` for the
``default`` issuer (``did:web:HOST``), ``/issuers/{name}/did.json`` for the others
(``did:web:HOST:issuers:NAME``). Public keys only; served with CORS and a strong ETag
(If-None-Match gets a 304, a failed If-Match a 412: RFC 9110 §13).

Two representations (DID Core 1.0 §6), chosen by ``Accept`` (``negotiate``; ``Vary: Accept``,
an ETag each): the document as the node holds it, with its ``@context``, is the JSON-LD
representation and is labelled ``application/did+ld+json`` (§6.3.1 makes that label a MUST);
a client ranking ``application/did+json`` higher gets the JSON representation (§6.2), the
same document without ``@context``, the one JSON-LD-specific entry (§6.3). Plain JSON
clients (``application/json``, ``*/*``, no Accept) get the JSON-LD one, which is JSON too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field
from typing_extensions import TypedDict

from did.document import media_type as did_media_type
from node.pages import accept_ranges
from node.problems import not_found
from node.errors import UnknownIssuerError
from node.issuers import DEFAULT_ISSUER
from node.etags import strong_etag
from node.routes import node_of, open_to_browsers, preconditions
from node.routes.endpoint import Endpoints, PathParam, Reply

DID_JSON = "application/did+json"
DID_LD_JSON = "application/did+ld+json"
MEDIA_TYPES = (DID_LD_JSON, DID_JSON)

api = Endpoints()


def negotiate(accept: str | None) -> str:
    """The representation to serve for an ``Accept`` header (RFC 9110 §12.5.1): the JSON one
    only when ``application/did+json`` is ranked above ``application/did+ld+json``; a tie, no
    Accept, or an Accept naming neither (``application/json``) gets the JSON-LD one."""
    if not accept:
        return DID_LD_JSON
    ranges = accept_ranges(accept)

    def q(media: str) -> float:
        for key in (media, "application/*", "*/*"):
            if key in ranges:
                return ranges[key]
        return 0.0

    return DID_JSON if q(DID_JSON) > q(DID_LD_JSON) else DID_LD_JSON

DIDDocument = TypedDict(
    "DIDDocument",
    {
        "@context": list[str],
        "id": Annotated[str, Field(description="did:web:HOST, or did:web:HOST:issuers:NAME")],
        "verificationMethod": list[dict[str, Any]],
        "assertionMethod": list[str],
        "authentication": list[str],
    },
)
DIDDocument.__doc__ = "A DID document (DID Core 1.0) with Multikey verification methods; public keys only. The JSON-LD representation (§6.3)."
DIDDocumentJSON = TypedDict(
    "DIDDocumentJSON",
    {
        "id": Annotated[str, Field(description="did:web:HOST, or did:web:HOST:issuers:NAME")],
        "verificationMethod": list[dict[str, Any]],
        "assertionMethod": list[str],
        "authentication": list[str],
    },
)
DIDDocumentJSON.__doc__ = "The same DID document in the JSON representation (DID Core 1.0 §6.2): no @context."

_HEADERS = {"ETag": "A hash of the body (one per representation)", "Cache-Control": "max-age=300", "Vary": "Accept"}
_DOCUMENT = dict(
    tags=["DIDs"],
    description=(
        "Multikey verification methods, assertionMethod and authentication. Served as application/did+ld+json "
        "(the JSON-LD representation, with @context) unless the request's Accept ranks application/did+json higher, "
        "which gets the JSON representation (no @context); `Vary: Accept`. CORS open, ETag / If-None-Match / If-Match."
    ),
    replies={
        200: [
            Reply(DIDDocument, "The DID document (JSON-LD representation)", media_type=DID_LD_JSON, headers=_HEADERS),
            Reply(DIDDocumentJSON, "The DID document (JSON representation)", media_type=DID_JSON, headers=_HEADERS),
        ],
        304: Reply(None, "Not modified since the ETag the client holds", headers={"ETag": "A hash of the body", "Vary": "Accept"}),
    },
)


_PRECONDITION = "If-Match names none of the document's current ETag (RFC 9110 §13.1.1)"


async def _document(request: web.Request, name: str) -> web.Response:
    try:
        document = await node_of(request).issuers.did_document(name)
    except UnknownIssuerError:
        raise not_found(f"this node has no issuer named {name!r}, so there is no DID document here") from None
    media_type = negotiate(request.headers.get("Accept"))
    if media_type == DID_JSON:
        # DID Core 1.0 §6.2: the JSON representation holds the document's entries and no
        # @context, which belongs to the JSON-LD representation (§6.3).
        document = {key: value for key, value in document.items() if key != "@context"}
    else:
        media_type = did_media_type(document)  # what the document is: JSON-LD when its @context says so
    # RFC 9110 §13.1: a strong ETag of the bytes sent, so a resolver can revalidate its copy
    # (If-None-Match) and a client can make sure it holds the current keys (If-Match); each
    # representation has bytes of its own, so an ETag of its own (§8.8.1).
    body = json.dumps(document).encode("utf-8")
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": "max-age=300", "Vary": "Accept"}
    unchanged = preconditions(request, etag, headers)
    if unchanged is not None:
        return unchanged
    return web.Response(body=body, content_type=media_type, charset="utf-8", headers=headers)


@api.get(
    "/.well-known/did.json",
    "getDefaultDIDDocument",
    summary="The default issuer's did:web document",
    problems={404: "No default issuer on this node", 412: _PRECONDITION},
    **_DOCUMENT,
)
async def well_known(request: web.Request) -> web.Response:
    return await _document(request, DEFAULT_ISSUER)


@api.get(
    "/issuers/{name}/did.json",
    "getIssuerDIDDocument",
    summary="A named issuer's did:web document",
    params=[PathParam("name", "The issuer's name on this node")],
    problems={404: "No issuer of that name (the default issuer's document is at /.well-known/did.json)", 412: _PRECONDITION},
    **_DOCUMENT,
)
async def issuer_document(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == DEFAULT_ISSUER:
        # The default issuer's DID is did:web:HOST, whose document lives at /.well-known/did.json.
        raise not_found("the default issuer's DID document is at /.well-known/did.json")
    return await _document(request, name)


def setup(app: web.Application) -> None:
    api.register(app)
    open_to_browsers(app, "/.well-known/did.json", "/issuers/{name}/did.json")

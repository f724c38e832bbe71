"""The issuers' did:web documents (did:web §3.2 Read): ``/.well-known/did.json`` for the
``default`` issuer (``did:web:HOST``), ``/issuers/{name}/did.json`` for the others
(``did:web:HOST:issuers:NAME``). Public keys only; served with CORS and a strong ETag
(If-None-Match gets a 304, a failed If-Match a 412: RFC 9110 §13)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field
from typing_extensions import TypedDict

from node.problems import not_found
from node.errors import UnknownIssuerError
from node.issuers import DEFAULT_ISSUER
from node.etags import strong_etag
from node.routes import node_of, open_to_browsers, preconditions
from node.routes.endpoint import Endpoints, PathParam, Reply

DID_JSON = "application/did+json"

api = Endpoints()

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
DIDDocument.__doc__ = "A DID document (DID Core 1.0) with Multikey verification methods; public keys only."

_DOCUMENT = dict(
    tags=["DIDs"],
    description="Multikey verification methods, assertionMethod and authentication. CORS open, ETag / If-None-Match / If-Match.",
    replies={
        200: Reply(DIDDocument, "The DID document", media_type=DID_JSON, headers={"ETag": "A hash of the body", "Cache-Control": "max-age=300"}),
        304: Reply(None, "Not modified since the ETag the client holds", headers={"ETag": "A hash of the body"}),
    },
)


_PRECONDITION = "If-Match names none of the document's current ETag (RFC 9110 §13.1.1)"


async def _document(request: web.Request, name: str) -> web.Response:
    try:
        document = await node_of(request).issuers.did_document(name)
    except UnknownIssuerError:
        raise not_found(f"this node has no issuer named {name!r}, so there is no DID document here") from None
    # RFC 9110 §13.1: a strong ETag of the bytes sent, so a resolver can revalidate its copy
    # (If-None-Match) and a client can make sure it holds the current keys (If-Match).
    body = json.dumps(document).encode("utf-8")
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": "max-age=300"}
    unchanged = preconditions(request, etag, headers)
    if unchanged is not None:
        return unchanged
    return web.Response(body=body, content_type=DID_JSON, charset="utf-8", headers=headers)


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

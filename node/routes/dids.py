"""The issuers' did:web documents (did:web §3.2 Read): ``/.well-known/did.json`` for the
``default`` issuer (``did:web:HOST``), ``/issuers/{name}/did.json`` for the others
(``did:web:HOST:issuers:NAME``). Public keys only; served with CORS."""

from __future__ import annotations

from aiohttp import web

from node.problems import not_found
from node.errors import UnknownIssuerError
from node.issuers import DEFAULT_ISSUER
from node.routes import CORS_HEADERS, node_of, preflight

DID_JSON = "application/did+json"


async def _document(request: web.Request, name: str) -> web.Response:
    try:
        document = await node_of(request).issuers.did_document(name)
    except UnknownIssuerError:
        raise not_found(f"this node has no issuer named {name!r}, so there is no DID document here") from None
    return web.json_response(
        document, content_type=DID_JSON, headers={**CORS_HEADERS, "Cache-Control": "max-age=300"}
    )


async def well_known(request: web.Request) -> web.Response:
    return await _document(request, DEFAULT_ISSUER)


async def issuer_document(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == DEFAULT_ISSUER:
        # The default issuer's DID is did:web:HOST, whose document lives at /.well-known/did.json.
        raise not_found("the default issuer's DID document is at /.well-known/did.json")
    return await _document(request, name)


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/did.json", well_known, allow_head=True)
    app.router.add_route("OPTIONS", "/.well-known/did.json", preflight)
    app.router.add_get("/issuers/{name}/did.json", issuer_document, allow_head=True)
    app.router.add_route("OPTIONS", "/issuers/{name}/did.json", preflight)

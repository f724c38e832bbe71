"""HTTP routes. Each module exposes ``setup(app)``; ``node.app.create_app`` calls them.

Every endpoint is declared once in its module's ``node.routes.endpoint.Endpoints`` table (route,
scope, body model, replies), which ``setup`` registers and /openapi.json describes. Handlers
reach the node's capabilities through ``node_of(request)`` (``request.app[NODE_KEY]``, a
``node.node.Node``), each only the one it needs, and raise on failure; ``node.problems``
shapes every error.
"""

from __future__ import annotations

from aiohttp import web

from node.config import Config
from node.node import Node

CONFIG_KEY = web.AppKey("vcnode.config", Config)
NODE_KEY = web.AppKey("vcnode.node", Node)

# Public documents (DID documents, status lists, metadata) and the public verification POSTs are
# used by browser wallets and verifier apps on other origins. Every answer carries the CORS
# headers, errors too: without them a browser reports a 404 or a 429 as a network failure, and
# the page can neither tell a missing list from an outage nor back off. ETag and Retry-After
# are not CORS-safelisted response headers, so they are exposed explicitly; If-None-Match and
# If-Match are not safelisted request headers, so preflights allow them. Routes that take a
# token stay same-origin: a browser page has no business holding the node's tokens.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Cache-Control, Retry-After",
}
_ALLOW_HEADERS = {"GET": "If-None-Match, If-Match, Accept", "POST": "Content-Type"}
# (method, route template) answered with CORS_HEADERS whatever the status.
CORS_OPEN = web.AppKey("vcnode.cors_open", set)


def node_of(request: web.Request) -> Node:
    return request.app[NODE_KEY]


def open_to_browsers(app: web.Application, *paths: str, method: str = "GET") -> None:
    """Serve ``method`` on ``paths`` (route templates) to other origins: every answer gets the
    CORS headers, and an OPTIONS preflight is answered."""
    if CORS_OPEN not in app:
        app[CORS_OPEN] = set()
        app.on_response_prepare.append(_add_cors)
    methods = ("GET", "HEAD") if method == "GET" else (method,)
    preflight = {
        **CORS_HEADERS,
        "Access-Control-Allow-Methods": ", ".join((*methods, "OPTIONS")),
        "Access-Control-Allow-Headers": _ALLOW_HEADERS.get(method, "Content-Type"),
        "Access-Control-Max-Age": "86400",
    }

    async def answer_preflight(request: web.Request) -> web.Response:
        return web.Response(status=204, headers=preflight)

    for path in paths:
        app[CORS_OPEN].update((m, path) for m in methods)
        app.router.add_route("OPTIONS", path, answer_preflight)


async def _add_cors(request: web.Request, response: web.StreamResponse) -> None:
    route = request.match_info.route
    if route.resource is not None and (request.method, route.resource.canonical) in request.app[CORS_OPEN]:
        response.headers.update(CORS_HEADERS)

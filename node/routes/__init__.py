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

# Public documents (DID documents, status lists) are read by browser wallets on other origins.
# ETag is not a CORS-safelisted response header, so it is exposed explicitly; If-None-Match is
# not a safelisted request header, so preflights allow it.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Cache-Control",
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, Accept",
    "Access-Control-Max-Age": "86400",
}


def node_of(request: web.Request) -> Node:
    return request.app[NODE_KEY]


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight for the public GET resources."""
    return web.Response(status=204, headers=PREFLIGHT_HEADERS)

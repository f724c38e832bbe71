"""HTTP routes. Each module exposes ``setup(app)``; ``node.app.create_app`` calls them.

Every endpoint is declared once in its module's ``node.routes.endpoint.Endpoints`` table (route,
scope, body model, replies), which ``setup`` registers and /openapi.json describes. Handlers
reach the node's operations through ``request.app[SERVICE_KEY]`` (a
``node.service.NodeService``) and raise on failure; ``node.problems`` shapes every error.
"""

from __future__ import annotations

from aiohttp import web

from node.config import Config
from node.service import NodeService

CONFIG_KEY = web.AppKey("vcnode.config", Config)
SERVICE_KEY = web.AppKey("vcnode.service", NodeService)

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


def service(request: web.Request) -> NodeService:
    return request.app[SERVICE_KEY]


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight for the public GET resources."""
    return web.Response(status=204, headers=PREFLIGHT_HEADERS)

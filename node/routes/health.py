"""``GET /healthz``: liveness plus a cheap store round trip, for load balancers and compose."""

from __future__ import annotations

from aiohttp import web

from node.routes import node_of


async def healthz(request: web.Request) -> web.Response:
    # A store that cannot answer means the node cannot issue or publish: report it as down.
    version = await node_of(request).schema_version()
    return web.json_response({"status": "ok", "schemaVersion": version}, headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, allow_head=True)

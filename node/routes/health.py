"""``GET /healthz``: liveness plus a cheap store round trip, for load balancers and compose."""

from __future__ import annotations

import sqlite3

from aiohttp import web
from typing_extensions import TypedDict

from node.problems import HTTPProblem
from node.routes import service
from node.routes.endpoint import Endpoints, Reply

api = Endpoints()


class Health(TypedDict):
    status: str
    schemaVersion: int


@api.get(
    "/healthz",
    "health",
    summary="Liveness and readiness",
    tags=["Node"],
    replies={200: Reply(Health, "The node is serving and its store answers", headers={"Cache-Control": "no-store"})},
    problems={503: "The store is not available"},
)
async def healthz(request: web.Request) -> web.Response:
    # A store that cannot answer means the node cannot issue or publish: report it as down.
    try:
        version = await service(request).store.schema_version()
    except (sqlite3.Error, ValueError) as e:  # aiosqlite: ValueError once the connection is closed
        raise HTTPProblem(
            503, "unavailable", "Service unavailable", f"the node's store does not answer ({type(e).__name__})",
            headers={"Cache-Control": "no-store"},
        ) from e
    return web.json_response({"status": "ok", "schemaVersion": version}, headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    api.register(app)

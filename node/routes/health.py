"""``GET /healthz``: liveness plus a cheap store round trip, for load balancers and compose."""

from __future__ import annotations

from aiohttp import web
from typing_extensions import TypedDict

from node.problems import HTTPProblem
from node.routes import node_of
from node.routes.endpoint import Endpoints, Reply
from node.store import StoreUnavailable

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
    rate_limited=False,  # load balancers and operators must get an answer whatever the load
)
async def healthz(request: web.Request) -> web.Response:
    # A store that cannot answer means the node cannot issue or publish: report it as down.
    try:
        version = await node_of(request).schema_version()
    except StoreUnavailable as e:
        raise HTTPProblem(
            503, "unavailable", "Service unavailable", f"the node's store does not answer ({e.reason})",
            headers={"Cache-Control": "no-store"},
        ) from e
    return web.json_response({"status": "ok", "schemaVersion": version}, headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    api.register(app)

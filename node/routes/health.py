"""``GET /healthz`` and ``GET /readyz``: for load balancers, orchestrators and compose.

Both make one cheap store round trip (the number of applied migrations). ``/healthz`` is the
Docker health check as it always was. ``/readyz`` is the readiness probe: it answers within
``READY_TIMEOUT`` seconds whatever the store does (a store that hangs is as unready as one that
refuses), 503 problem+json while the store does not answer, so a load balancer stops sending
work that cannot be done and sends it again once the store is back.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from typing_extensions import TypedDict

from node.problems import HTTPProblem
from node.routes import node_of
from node.routes.endpoint import Endpoints, Reply
from node.store import StoreUnavailable

api = Endpoints()

NO_STORE = {"Cache-Control": "no-store"}
READY_TIMEOUT = 2.0


class Health(TypedDict):
    status: str
    schemaVersion: int


def _unavailable(reason: str) -> HTTPProblem:
    return HTTPProblem(503, "unavailable", "Service unavailable", f"the node's store does not answer ({reason})", headers=NO_STORE)


@api.get(
    "/healthz",
    "health",
    summary="Liveness and readiness",
    tags=["Node"],
    replies={200: Reply(Health, "The node is serving and its store answers", headers=NO_STORE)},
    problems={503: "The store is not available"},
    rate_limited=False,  # load balancers and operators must get an answer whatever the load
)
async def healthz(request: web.Request) -> web.Response:
    # A store that cannot answer means the node cannot issue or publish: report it as down.
    try:
        version = await node_of(request).schema_version()
    except StoreUnavailable as e:
        raise _unavailable(e.reason) from e
    return web.json_response({"status": "ok", "schemaVersion": version}, headers=NO_STORE)


@api.get(
    "/readyz",
    "ready",
    summary="Readiness: the node can do its work (its store answers)",
    description=f"Answers within {READY_TIMEOUT:g} seconds: 200 while the store answers a cheap query, "
    "503 while it is unreachable, locked or too slow.",
    tags=["Node"],
    replies={200: Reply(Health, "Ready: the store answers", headers=NO_STORE)},
    problems={503: "Not ready: the store does not answer, or not in time"},
)
async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            version = await node_of(request).schema_version()
    except StoreUnavailable as e:
        raise _unavailable(e.reason) from e
    except TimeoutError as e:
        raise _unavailable(f"no answer within {READY_TIMEOUT:g} s") from e
    return web.json_response({"status": "ready", "schemaVersion": version}, headers=NO_STORE)


def setup(app: web.Application) -> None:
    api.register(app)

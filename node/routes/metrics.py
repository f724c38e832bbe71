"""``GET /metrics``: the node's Prometheus metrics (``node.metrics``).

Declared per app, because who may read it is a setting: public with ``metrics_public = true``,
otherwise a bearer token with the ``admin`` scope (the metrics name issuers and show traffic).
Absent when ``metrics = false``.
"""

from __future__ import annotations

from aiohttp import web

from node.metrics import Metrics
from node.routes import CONFIG_KEY
from node.routes.endpoint import Endpoints, Reply, Scope

METRICS_KEY = web.AppKey("vcnode.metrics", Metrics)


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[METRICS_KEY].exposition(request.headers.get("Accept", ""))
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = content_type  # with its version and charset parameters
    return response


def setup(app: web.Application) -> None:
    if METRICS_KEY not in app:
        return
    public = app[CONFIG_KEY].metrics_public
    api = Endpoints()
    api.get(
        "/metrics",
        "metrics",
        summary="The node's metrics, in the Prometheus text format (or OpenMetrics when asked for)",
        description="Requests per route template and status, their latency, verifications by verdict and error "
        "code, credentials issued and status changes per issuer, status-list publish time, canonicalization "
        "time, remote fetches by outcome and cache hits; docs/operations.md, \"What to monitor\". "
        + ("Public on this node (`metrics_public = true`)." if public else "Public only with `metrics_public = true`."),
        tags=["Node"],
        scope=None if public else Scope("admin"),
        replies={
            200: Reply(
                str,
                "The metrics",
                media_type=("text/plain", "application/openmetrics-text"),
                headers={"Cache-Control": "no-store"},
            )
        },
    )(metrics)
    api.register(app)

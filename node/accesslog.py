"""One line per request, and the request metrics: the ``observe_requests`` middleware.

Each answered request is reported once, after the response is built (problem responses
included), with: the method, the **route template** (``/issuers/{name}/achievements/{slug}``,
never the path itself: paths carry ids and, for unknown routes, anything a client sends), the
status, the time taken and the issuer the route names (its ``{name}`` under ``/issuers/`` or
its ``{issuer}``, only when it has the form of an issuer name). Nothing else: no query string
(the verifier page's ``?url=`` may point at a learner's own credential), no header (tokens),
no body (credentials, learner names). A request the client abandoned is reported with status
499, as nginx does.

The line goes to the ``vcnode.access`` logger at INFO (``fields`` carries the values for the
JSON format, ``node.logs``); the metrics go to ``Observer.request`` (``node.metrics``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any, Awaitable, Callable, Mapping

from aiohttp import web

from node.logs import DirectLines
from node.observe import method_label

log = logging.getLogger("vcnode.access")

RequestHook = Callable[[str, str, int, float], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

UNMATCHED = "unmatched"  # the route label of a request no route matched (404, 405)
_ISSUER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")  # node.issuers' rule


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def issuer_of(match_info: Mapping[str, str], route: str) -> str | None:
    name = match_info.get("issuer") if "{issuer}" in route else (match_info.get("name") if route.startswith("/issuers/{name}") else None)
    return name if name is not None and _ISSUER_NAME.fullmatch(name) else None


def access_line(method: str, route: str, status: int, seconds: float, match_info: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The access line's message and its fields (the JSON format's members)."""
    issuer = issuer_of(match_info, route)
    ms = round(seconds * 1000, 3)
    message = f"{method} {route} {status} {ms:.1f} ms{f' issuer={issuer}' if issuer else ''}"
    return message, {"method": method, "route": route, "status": status, "durationMs": ms, "issuer": issuer}


def observe_requests(report: RequestHook | None, *, access_log: bool) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """The middleware: ``report(method, route, status, seconds)`` (metrics) and, with
    ``access_log``, one line on ``vcnode.access``. Install it outermost, so it sees the status
    the client gets."""

    direct = DirectLines(log)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as e:  # only what the problem middleware lets through
            status = e.status
            raise
        except asyncio.CancelledError:
            status = 499
            raise
        finally:
            seconds = time.perf_counter() - start
            method = method_label(request.method)
            route = route_of(request)
            if report is not None:
                report(method, route, status, seconds)
            if access_log:
                # Made when the log handler next writes (node.logs.DirectLines), or now.
                args = (method, route, status, seconds, request.match_info)
                if not direct.write(time.time(), access_line, args) and log.isEnabledFor(logging.INFO):
                    message, fields = access_line(*args)
                    # The record made directly: Logger.info would also look up its caller's
                    # frame, for a file and line no format shows.
                    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, (), None, extra={"fields": fields}))

    return middleware

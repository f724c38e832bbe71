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
from node.problems import HTTPProblem

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
    "Access-Control-Expose-Headers": "ETag, Cache-Control, Retry-After, WWW-Authenticate",
}
# A POST may carry a token: with one, a verifier app is not held to the public rate limit.
_ALLOW_HEADERS = {"GET": "If-None-Match, If-Match, Accept", "POST": "Content-Type, Authorization"}
# (method, route template) answered with CORS_HEADERS whatever the status.
CORS_OPEN = web.AppKey("vcnode.cors_open", set)


def node_of(request: web.Request) -> Node:
    return request.app[NODE_KEY]


def open_to_browsers(app: web.Application, *paths: str, method: str = "GET", allow_headers: str | None = None) -> None:
    """Serve ``method`` on ``paths`` (route templates) to other origins: every answer gets the
    CORS headers, and an OPTIONS preflight is answered, allowing ``allow_headers`` (by default
    the method's usual ones)."""
    if CORS_OPEN not in app:
        app[CORS_OPEN] = set()
        app.on_response_prepare.append(_add_cors)
    methods = ("GET", "HEAD") if method == "GET" else (method,)
    preflight = {
        **CORS_HEADERS,
        "Access-Control-Allow-Methods": ", ".join((*methods, "OPTIONS")),
        "Access-Control-Allow-Headers": allow_headers or _ALLOW_HEADERS.get(method, "Content-Type"),
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


def refuse_opened_scopes(app: web.Application) -> None:
    """A route that needs a token is never opened to other origins (another origin's page must
    not drive an operator's token-bearing browser): checked once every route is registered, so
    an open_to_browsers naming one stops the node from starting rather than open it."""
    opened = app.get(CORS_OPEN, set())
    for route in app.router.routes():
        endpoint = getattr(route.handler, "__self__", None)
        if route.resource is not None and (route.method, route.resource.canonical) in opened and getattr(endpoint, "scope", None):
            raise RuntimeError(f"{route.method} {route.resource.canonical} needs a token and cannot be opened to other origins")


def _listed(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    tags = [t.strip() for t in header.split(",")]
    if weak:  # RFC 9110 §8.8.3.2: W/"x" and "x" match weakly
        return any(t.removeprefix("W/") == etag for t in tags)
    return etag in tags  # strongly, a weak tag never matches


def preconditions(request: web.Request, etag: str, headers: dict[str, str]) -> web.Response | None:
    """RFC 9110 §13.2.2 for a GET or HEAD of a representation that exists, with ``etag``:
    If-Match first (strong comparison; no match is a 412), then If-None-Match (weak comparison;
    a match is a 304 with ``headers``). None: send the representation."""
    if_match = request.headers.get("If-Match")
    if if_match is not None and not _listed(if_match, etag, weak=False):
        raise HTTPProblem(
            412, "precondition-failed", "Precondition failed",
            f"If-Match names none of this resource's current representation; its ETag is {etag}",
            headers={"ETag": etag},
        )
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and _listed(if_none_match, etag, weak=True):
        return web.Response(status=304, headers=headers)
    return None

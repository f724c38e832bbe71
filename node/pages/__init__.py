"""Pages for people: the node's public verifier page and its issuer pages (docs/verifier-page.md).

``setup(app)`` adds ``GET /`` (the issuers, their DIDs and achievements), ``GET``/``POST
/verify`` (paste, file or ``?url=``; checked by the node's own verification, shown as a verdict,
the micro-credential's elements, the issuer's accreditation and a stack's parts) and
``GET /static/{name}`` (the pages' stylesheet and script). An achievement's URL answers HTML to a
browser through ``wants_html`` + ``achievement_page``, called by the achievement route.

Server-rendered with Jinja2 (autoescaped), a little same-origin JavaScript for dropping a file,
and a strict Content-Security-Policy; every text is in ``node.pages.texts``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.pages.handlers import achievement_page, home, verify_page, verify_submit
from node.pages.render import CSP, serve_static

__all__ = ["CSP", "achievement_page", "openapi_paths", "setup", "wants_html"]


def _accept(header: str) -> dict[str, float]:
    """Media ranges of an Accept header with their q-values (RFC 9110 §12.5.1)."""
    out: dict[str, float] = {}
    for item in header.split(","):
        kind, *params = [p.strip() for p in item.split(";")]
        if not kind:
            continue
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out[kind.lower()] = max(q, out.get(kind.lower(), 0.0))
    return out


def wants_html(request: web.Request) -> bool:
    """True when the client names ``text/html`` explicitly and prefers it to JSON, as browsers
    do; a client sending ``*/*``, ``application/json`` or no Accept at all gets JSON."""
    ranges = _accept(request.headers.get("Accept", ""))
    html = ranges.get("text/html", 0.0)
    if html <= 0:
        return False
    json_q = max(ranges.get("application/json", 0.0), ranges.get("application/ld+json", 0.0))
    if json_q == 0.0:
        json_q = max(ranges.get("application/*", 0.0), ranges.get("*/*", 0.0))
    return html > json_q or (html == json_q and "application/json" not in ranges)


def setup(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/verify", verify_page)
    app.router.add_post("/verify", verify_submit)
    app.router.add_get("/static/{name}", serve_static)


def openapi_paths() -> dict[str, Any]:
    """These pages in /openapi.json: HTML for people, listed so the document covers every route."""

    def html(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}

    return {
        "/": {
            "get": {
                "summary": "Issuer pages: this node's issuers, their DIDs and the micro-credentials they award (HTML)",
                "operationId": "issuersPage",
                "tags": ["Pages"],
                "responses": {"200": html("The page")},
            }
        },
        "/verify": {
            "get": {
                "summary": "The verifier page; with ?url=, the credential published at that URL checked (HTML)",
                "operationId": "verifierPage",
                "tags": ["Pages"],
                "parameters": [
                    {
                        "name": "url",
                        "in": "query",
                        "required": False,
                        "description": "An http(s) URL of a credential or presentation, fetched under the did:web rules",
                        "schema": {"type": "string", "maxLength": 2048},
                    }
                ],
                "responses": {
                    "200": html("The page, with the verification result when a URL was given"),
                    "400": html("The URL is refused or what it serves is not a credential; the page says why"),
                    "413": html("What the URL serves is over the node's size limit"),
                    "502": html("The URL could not be fetched"),
                },
            },
            "post": {
                "summary": "Verify a pasted or uploaded credential or presentation and show the result (HTML form)",
                "operationId": "verifierPageSubmit",
                "tags": ["Pages"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "document": {"type": "string"},
                                    "file": {"type": "string", "format": "binary"},
                                    "challenge": {"type": "string"},
                                    "domain": {"type": "string"},
                                },
                            }
                        },
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"document": {"type": "string"}, "challenge": {"type": "string"}, "domain": {"type": "string"}},
                            }
                        },
                    },
                },
                "responses": {
                    "200": html("The verification result"),
                    "400": html("The input is not a credential or presentation; the page says why and keeps it"),
                    "413": html("The body is over the node's size limit"),
                },
            },
        },
        "/static/{name}": {
            "get": {
                "summary": "The pages' stylesheet and script",
                "operationId": "pageAsset",
                "tags": ["Pages"],
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The asset", "content": {"text/css": {"schema": {"type": "string"}}, "text/javascript": {"schema": {"type": "string"}}}},
                    "404": {"description": "No such asset", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
                },
            }
        },
    }

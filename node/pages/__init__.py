"""Pages for people: the node's public verifier page and its issuer pages (docs/verifier-page.md).

``setup(app)`` adds ``GET /`` (the issuers, their DIDs and achievements), ``GET``/``POST
/verify`` (paste, file or ``?url=``; checked by the node's own verification, shown as a verdict,
the micro-credential's elements, the issuer's accreditation and a stack's parts) and
``GET /static/{name}`` (the pages' stylesheet and script), each declared in ``api``
(``node.routes.endpoint``) and so described in /openapi.json as ``text/html``. An achievement's URL answers HTML to a
browser through ``wants_html`` + ``achievement_page``, called by the achievement route.

Server-rendered with Jinja2 (autoescaped), a little same-origin JavaScript for dropping a file,
and a strict Content-Security-Policy; every text is in ``node.pages.texts``.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field, WithJsonSchema
from typing_extensions import TypedDict

from node.pages.handlers import achievement_page, home, verify_page, verify_submit
from node.pages.render import CSP, STATIC_TYPES, serve_static
from node.routes.endpoint import Endpoints, PathParam, QueryParam, Reply

__all__ = ["CSP", "accept_ranges", "achievement_page", "api", "setup", "wants_html"]


def accept_ranges(header: str) -> dict[str, float]:
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
    ranges = accept_ranges(request.headers.get("Accept", ""))
    html = ranges.get("text/html", 0.0)
    if html <= 0:
        return False
    json_q = max(ranges.get("application/json", 0.0), ranges.get("application/ld+json", 0.0))
    if json_q == 0.0:
        json_q = max(ranges.get("application/*", 0.0), ranges.get("*/*", 0.0))
    return html > json_q or (html == json_q and "application/json" not in ranges)


class VerifyForm(TypedDict, total=False):
    """What the verifier page's form posts: the pasted text or a chosen file, and a
    presentation's expected challenge and domain."""

    document: Annotated[str, Field(description="The credential or presentation, as JSON text; or only an http(s) URL, fetched as ?url= is")]
    file: Annotated[str, WithJsonSchema({"type": "string", "format": "binary"}), Field(description="The same, as a file (multipart only)")]
    challenge: str
    domain: str


class VerifyFields(TypedDict, total=False):
    document: Annotated[str, Field(description="The credential or presentation, as JSON text; or only an http(s) URL, fetched as ?url= is")]
    challenge: str
    domain: str


def _html(description: str) -> Reply:
    return Reply(str, description, media_type="text/html")


api = Endpoints()
_PAGES = dict(tags=["Pages"])

api.get(
    "/",
    "issuersPage",
    summary="Issuer pages: this node's issuers, their DIDs and the micro-credentials they award (HTML)",
    replies={200: _html("The page")},
    **_PAGES,
)(home)
api.get(
    "/verify",
    "verifierPage",
    summary="The verifier page; with ?url=, the credential published at that URL checked (HTML)",
    params=[QueryParam("url", "An http(s) URL of a credential or presentation, fetched under the did:web rules", {"type": "string", "maxLength": 2048})],
    replies={
        200: _html("The page, with the verification result when a URL was given"),
        400: _html("The URL is refused or what it serves is not a credential (the same sentence as that text pasted); the page says why"),
        413: _html("What the URL serves is over the node's size limit"),
        502: _html("The URL could not be fetched (no answer, an HTTP error status)"),
        503: _html("This node does not fetch URLs (it runs without network access)"),
    },
    **_PAGES,
)(verify_page)
api.post(
    "/verify",
    "verifierPageSubmit",
    summary="Verify a pasted or uploaded credential or presentation and show the result (HTML form)",
    form={"multipart/form-data": VerifyForm, "application/x-www-form-urlencoded": VerifyFields},
    replies={
        200: _html("The verification result"),
        400: _html("The input is not a credential or presentation; the page says why and keeps it"),
        413: _html("The body is over the node's size limit, or what a pasted link serves is"),
        502: _html("A link pasted alone in the box (checked as GET /verify?url= checks it) could not be fetched"),
        503: _html("A link was pasted, but this node does not fetch URLs"),
    },
    **_PAGES,
)(verify_submit)
api.get(
    "/static/{name}",
    "pageAsset",
    summary="The pages' stylesheet and script",
    params=[PathParam("name", "The asset's name (pages.css, verify.js)")],
    replies={200: Reply(str, "The asset", media_type=tuple(dict.fromkeys(STATIC_TYPES.values())))},
    problems={404: "No such asset"},
    **_PAGES,
)(serve_static)


def setup(app: web.Application) -> None:
    api.register(app)

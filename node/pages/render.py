"""Jinja2 rendering and the headers every page and asset is sent with.

Templates autoescape everything (``node/pages/templates``); the Content-Security-Policy lets a
page load only the node's own stylesheet and script, so even a rendering mistake could not run a
credential's ``<script>``. Static assets are a fixed list served from ``node/pages/static`` with
a content digest in their URL, so they can be cached and still change with the node.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from node.pages.texts import Texts
from node.pages.view import visible

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STATIC_TYPES = {"pages.css": "text/css", "verify.js": "text/javascript"}
STATIC_MAX_AGE = 24 * 3600


@lru_cache(maxsize=None)
def static_file(name: str) -> bytes:
    return resources.files("node.pages").joinpath("static", name).read_bytes()


def static_url(name: str) -> str:
    digest = hashlib.sha256(static_file(name)).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("node.pages", "templates"),
        autoescape=True,  # every template is HTML; nothing from a credential is ever marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    env.globals["visible"] = visible  # for what a template shows unshortened (a ?url= address)
    return env


def render(template: str, *, status: int = 200, texts: Texts | None = None, headers: dict[str, str] | None = None, **context: Any) -> web.Response:
    t = texts or Texts()
    body = environment().get_template(template).render(t=t, **context)
    return web.Response(
        text=body,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


async def serve_static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    kind = STATIC_TYPES.get(name)
    if kind is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=static_file(name),
        content_type=kind,
        charset="utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": f"public, max-age={STATIC_MAX_AGE}"},
    )

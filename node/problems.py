"""The one place an exception becomes an HTTP response: RFC 9457 ``application/problem+json``.

Route handlers raise; ``problem_middleware`` answers. Three kinds of exception arrive here:

* ``HTTPProblem``: the node's own refusals (bad request shape, missing token, unknown issuer),
  typed under ``PROBLEM_BASE``;
* ``vc.errors.ProblemError`` and ``did.errors.DIDError``: failures the library reports with
  the VC specifications' own problem types (via ``vc.errors.problem_from_exception``);
* aiohttp's ``HTTPException`` (unknown route, wrong method, body over ``client_max_size``),
  re-shaped so every error the node sends has the same form.

Anything else is a bug: it is logged with its traceback and answered with a 500 problem that
names no internals. Request bodies are read through ``read_json``, which bounds their size
(413) and turns every way JSON can be malformed into a 400 saying what to fix.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web

from vc.errors import problem_from_exception
from vc.limits import check_shape

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# The node's own problem types. A URN, because the node has no public documentation host to
# point a URL at, and RFC 9457 §3.1.1 only asks for a URI that identifies the type.
PROBLEM_BASE = "urn:vcnode:problem:"

# 1 MiB: a credential with an embedded image is tens to hundreds of KiB (vc/limits.py).
DEFAULT_MAX_BODY = 1024 * 1024
MAX_BODY_KEY = web.AppKey("vcnode.max_body", int)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HTTPProblem(Exception):
    """A refusal the node states itself. ``detail`` tells the client what to change."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = PROBLEM_BASE + kind
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        out.update(self.extra)
        return out


def bad_request(detail: str, **extra: Any) -> HTTPProblem:
    return HTTPProblem(400, "invalid-request", "The request is not valid", detail, **extra)


def not_found(detail: str, **extra: Any) -> HTTPProblem:
    return HTTPProblem(404, "not-found", "Not found", detail, **extra)


def unknown_issuer(name: str) -> HTTPProblem:
    return HTTPProblem(
        404, "unknown-issuer", "Unknown issuer", f"this node has no issuer named {name!r}", issuer=name
    )


def conflict(detail: str, **extra: Any) -> HTTPProblem:
    return HTTPProblem(409, "conflict", "Conflict", detail, **extra)


def problem_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> web.Response:
    body.setdefault("status", status)
    return web.json_response(body, status=status, content_type=PROBLEM_JSON, headers=headers)


# Titles for aiohttp's own HTTPExceptions, keyed by status; the detail says what to change.
_HTTP_DETAILS: dict[int, tuple[str, str, str]] = {
    404: ("not-found", "Not found", "no resource at this path; GET /openapi.json lists the endpoints"),
    405: ("method-not-allowed", "Method not allowed", "this path does not accept that method; see the Allow header"),
    413: ("payload-too-large", "Request body too large", "the request body exceeds the node's size limit"),
}


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    kind, title, detail = _HTTP_DETAILS.get(
        exc.status, ("http-error", exc.reason, exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason)
    )
    if exc.status == 413 and isinstance(exc, web.HTTPRequestEntityTooLarge):
        detail = f"{detail} ({exc.text.strip()})" if exc.text else detail
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate", "retry-after")}
    return problem_response({"type": PROBLEM_BASE + kind, "title": title, "detail": detail}, exc.status, headers)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every exception a handler raises to an ``application/problem+json`` response."""
    try:
        return await handler(request)
    except HTTPProblem as exc:
        return problem_response(exc.to_json(), exc.status, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc)
    except Exception as exc:  # noqa: BLE001 - this is the one place that catches everything
        problem = problem_from_exception(exc)
        if problem is not None:
            return problem_response(problem.to_json(), problem.http_status)
        log.exception("internal error handling %s %s", request.method, request.path)
        return problem_response(
            {
                "type": PROBLEM_BASE + "internal-error",
                "title": "Internal error",
                "detail": "the node failed to handle this request; this is a bug in the node, and it has been logged",
            },
            500,
        )


# Form encodings are what `curl -d` and HTML forms send by default: the body is then almost
# certainly not what the client meant to declare, and saying so beats a confusing parse error.
# Generic types (octet-stream, text/plain, none) are given the benefit of the doubt.
_REFUSED_TYPES = ("application/x-www-form-urlencoded", "multipart/")


def _check_content_type(request: web.Request) -> None:
    if not request.headers.get("Content-Type"):
        return
    ctype = request.content_type
    if not ctype.startswith(_REFUSED_TYPES):
        return
    raise HTTPProblem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"the body is declared as {ctype!r}; send JSON with Content-Type: application/json",
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_json(request: web.Request, *, max_bytes: int | None = None, allow_array: bool = False) -> Any:
    """The request body as a JSON object, or a problem saying why it is not one.

    The size bound is checked against Content-Length before reading and again while reading,
    so a chunked or lying client cannot make the node buffer more than ``max_bytes``.
    """
    limit = max_bytes if max_bytes is not None else request.app.get(MAX_BODY_KEY, DEFAULT_MAX_BODY)
    _check_content_type(request)
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(request.content_length, limit)
    data = await request.content.read(limit + 1)
    if len(data) > limit:
        raise _too_large(None, limit)
    if not data.strip():
        raise bad_request("the request body is empty; send a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad_request(f"the request body is not UTF-8 ({e.reason} at byte {e.start})") from e
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as e:
        raise bad_request("the JSON body nests too deeply") from e
    except json.JSONDecodeError as e:
        raise bad_request(f"the request body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except ValueError as e:  # NaN/Infinity, integers too long to convert
        raise bad_request(f"the request body is not valid JSON: {e}") from e
    if not isinstance(value, dict) and not (allow_array and isinstance(value, list)):
        raise bad_request(f"the request body must be a JSON object{' or array' if allow_array else ''}, not {_json_type(value)}")
    # Depth and value-count bounds before any handler walks the body (MALFORMED_VALUE_ERROR).
    check_shape(value)
    return value


def _too_large(size: int | None, limit: int) -> HTTPProblem:
    said = f"{size} bytes" if size is not None else "more than that"
    return HTTPProblem(
        413,
        "payload-too-large",
        "Request body too large",
        f"the request body is {said}; the limit is {limit} bytes",
        limit=limit,
    )


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True, where: str = "") -> Any:
    """``body[name]`` checked to be of JSON type ``kind``; a 400 naming the field otherwise."""
    path = f"{where}.{name}" if where else name
    if name not in body or body[name] is None:
        if required:
            raise bad_request(f"{path} is required", field=path)
        return None
    value = body[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python but not a number in JSON.
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        want = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise bad_request(f"{path} must be {want}, not {_json_type(value)}", field=path)
    return value


def options_field(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """``body.options`` (an object, empty when absent); a 400 naming any option not in ``allowed``,
    so a misspelt option is an error rather than silently ignored."""
    options = field(body, "options", dict, required=False) or {}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise bad_request(
            f"unknown option(s) {', '.join(map(repr, unknown))}; this node understands {', '.join(allowed)}",
            field="options",
        )
    return options


_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer", float: "a number"}



def setup(app: web.Application, *, max_body: int = DEFAULT_MAX_BODY) -> None:
    """Install the problem middleware first, so it also sees the other middlewares' errors."""
    app[MAX_BODY_KEY] = max_body
    app.middlewares.insert(0, problem_middleware)

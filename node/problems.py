"""The one place an exception becomes an HTTP response: RFC 9457 ``application/problem+json``.

Route handlers raise; ``problem_middleware`` answers. Three kinds of exception arrive here:

* ``HTTPProblem``: the node's own refusals (bad request shape, missing token, unknown issuer),
  typed under ``PROBLEM_BASE``;
* ``vc.errors.ProblemError`` and ``did.errors.DIDError``: failures the library reports with
  the VC specifications' own problem types (via ``vc.errors.problem_from_exception``);
* aiohttp's ``HTTPException`` (unknown route, wrong method, body over ``client_max_size``),
  re-shaped so every error the node sends has the same form.

A body the client sent but the node cannot read (a Content-Encoding it cannot decode, a
broken chunked framing) is the client's fault, answered 400 or 415 without a traceback; one the
client stopped sending by closing the connection is nobody's to answer, and is reported as 499
(``node.accesslog``'s status for a client that went away), never as a 500.
Anything else is a bug: it is logged with its traceback and answered with a 500 problem that
names no internals. Request bodies are read through ``read_json``, which bounds their size
(413) and turns every way JSON can be malformed into a 400 saying what to fix; a body that is
JSON but not what the endpoint declares (``node.routes.endpoint``) becomes, through
``invalid_body``, a 400 naming the field. ``ProblemDetails`` is the shape of every problem
response, as /openapi.json documents it.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import ContentEncodingError, TransferEncodingError
from pydantic import Field, ValidationError
from typing_extensions import NotRequired, TypedDict

from node.accesslog import route_of
from node.observe import method_label
from node.store import StoreError, StoreUnavailable
from vc.errors import problem_from_exception
from vc.limits import DuplicateMemberError, check_shape, loads_strict

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# The node's own problem types. A URN, because the node has no public documentation host to
# point a URL at, and RFC 9457 §3.1.1 only asks for a URI that identifies the type.
PROBLEM_BASE = "urn:vcnode:problem:"

# 1 MiB: a credential with an embedded image is tens to hundreds of KiB (vc/limits.py).
DEFAULT_MAX_BODY = 1024 * 1024
MAX_BODY_KEY = web.AppKey("vcnode.max_body", int)
# (method, route path) -> members(problem) -> more members for that route's 4xx problems
# (a verification's "verified": false, say). Filled from the endpoints' declarations
# (node.routes.endpoint.Refusal).
PROBLEM_MEMBERS = web.AppKey("vcnode.problem_members", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The status node.accesslog and the metrics record for a request whose client closed the
# connection before it was answered (nginx's "client closed request"); never sent.
CLIENT_CLOSED = 499


def _decodable_codings() -> tuple[str, ...]:
    """The Content-Encodings aiohttp decodes here: gzip and deflate always, br and zstd only
    with their optional libraries installed (without them aiohttp refuses the request)."""
    try:
        from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD
    except ImportError:  # an aiohttp without the module: the two it has always decoded
        HAS_BROTLI = HAS_ZSTD = False
    return ("gzip", "deflate", *(("br",) if HAS_BROTLI else ()), *(("zstd",) if HAS_ZSTD else ()))


DECODABLE_CODINGS = _decodable_codings()


class ProblemDetails(TypedDict):
    """RFC 9457 problem details (`application/problem+json`). The node's own problems are typed
    `urn:vcnode:problem:<kind>`; the VC specifications' failures keep the spec's type URL and
    `code`. Other members (`field`, `problems`, `items`, `parts`, ...) say more where the
    endpoint describes them."""

    type: str
    title: str
    status: int
    detail: Annotated[str, Field(description="What is wrong and what to change")]
    code: NotRequired[Annotated[str, Field(description="The VC specifications' error code, e.g. PROOF_VERIFICATION_ERROR")]]
    field: NotRequired[Annotated[str, Field(description="The request member at fault, as a path: options.challenge, items[2]")]]


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
    # RFC 9457 §3.1.2: ``status`` is the response's status code, whatever a problem's extras say.
    body["status"] = status
    return web.json_response(body, status=status, content_type=PROBLEM_JSON, headers=headers)


# Titles for aiohttp's own HTTPExceptions, keyed by status; the detail says what to change.
_HTTP_DETAILS: dict[int, tuple[str, str, str]] = {
    404: ("not-found", "Not found", "no resource at this path; GET /openapi.json lists the endpoints"),
    405: ("method-not-allowed", "Method not allowed", "this path does not accept that method; see the Allow header"),
    413: ("payload-too-large", "Request body too large", "the request body exceeds the node's size limit"),
}


def _from_http_exception(exc: web.HTTPException) -> tuple[dict[str, Any], dict[str, str]]:
    """The problem body and the headers worth keeping for one of aiohttp's own exceptions."""
    kind, title, detail = _HTTP_DETAILS.get(
        exc.status, ("http-error", exc.reason, exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason)
    )
    if exc.status == 413 and isinstance(exc, web.HTTPRequestEntityTooLarge):
        detail = f"{detail} ({exc.text.strip()})" if exc.text else detail
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate", "retry-after")}
    return {"type": PROBLEM_BASE + kind, "title": title, "detail": detail}, headers


def _route_members(request: web.Request, body: dict[str, Any], status: int) -> dict[str, Any]:
    """The problem with the members its route declares for refusals (4xx), its own kept."""
    if not 400 <= status < 500:
        return body
    route = request.match_info.route
    path = route.resource.canonical if route.resource is not None else None
    members = request.app.get(PROBLEM_MEMBERS, {}).get((request.method, path))
    if members is None:
        return body
    return {**body, **{k: v for k, v in members({**body, "status": status}).items() if k not in body}}


# Registered content codings (RFC 9110 §8.4.1, the IANA registry) a detail may name; any other
# value is the client's own text and is not repeated.
_REGISTERED_CODINGS = ("br", "compress", "deflate", "exi", "gzip", "pack200-gzip", "x-compress", "x-gzip", "zstd", "aes128gcm")


def unsupported_coding(coding: str | None) -> HTTPProblem:
    """RFC 9110 §15.5.16: a Content-Encoding the node cannot decode is a 415, with
    ``Accept-Encoding`` (§12.5.3) naming those it can. ``coding`` None: several codings, one
    over another (aiohttp undoes one)."""
    accepted = ", ".join(DECODABLE_CODINGS)
    if coding is None:
        what = "more than one content coding"
    elif coding in _REGISTERED_CODINGS:
        what = f"Content-Encoding {coding}"
    else:
        what = "a content coding it does not know"
    return HTTPProblem(
        415,
        "unsupported-content-encoding",
        "Unsupported content encoding",
        f"the node cannot decode a body sent with {what}; send it with Content-Encoding {' or '.join(DECODABLE_CODINGS)}, or uncompressed",
        headers={"Accept-Encoding": accepted},
    )


def _check_content_encoding(request: web.Request) -> None:
    # aiohttp decodes one coding it knows and passes any other body through as it came, which a
    # handler would then misread as malformed JSON or an empty form (RFC 9110 §8.4.1).
    declared = request.headers.get("Content-Encoding")
    if declared is None or not request.body_exists:
        return
    codings = [c.strip().lower() for c in declared.split(",") if c.strip().lower() not in ("", "identity")]
    for coding in codings:
        if coding not in DECODABLE_CODINGS:
            raise unsupported_coding(coding)
    if len(codings) > 1:  # gzip over gzip would reach the handler half decoded
        raise unsupported_coding(None)


def _where(request: web.Request) -> tuple[str, str]:
    """The request as the log names it: the access log's method and route template. Never the
    path: it is percent-decoded, so it can carry a learner's name or a newline that forges a
    second log line."""
    return method_label(request.method), route_of(request)


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _unreadable_body(request: web.Request, exc: web.RequestPayloadError) -> HTTPProblem:
    """The 400 for a body aiohttp could not read. The cause (``ContentEncodingError``, ...) is
    named by kind only: aiohttp's own message can quote the body's bytes."""
    cause = exc.__cause__
    if isinstance(cause, ContentEncodingError):
        coding = request.headers.get("Content-Encoding", "").strip().lower()
        coding = coding if coding in DECODABLE_CODINGS else "as declared"
        detail = (
            f"the body could not be decoded: Content-Encoding {coding} was declared but the body is not valid "
            f"{coding} data; send it compressed as declared, or uncompressed without Content-Encoding"
        )
    elif isinstance(cause, TransferEncodingError):
        detail = "the body could not be read: its chunked Transfer-Encoding is malformed"
    else:
        detail = "the body could not be read: its framing (Content-Length or chunked encoding) is malformed"
    return HTTPProblem(400, "unreadable-body", "The request body cannot be read", detail)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every exception a handler raises to an ``application/problem+json`` response."""
    try:
        _check_content_encoding(request)
        return await handler(request)
    except (web.RequestPayloadError, ConnectionError) as exc:
        if _client_gone(request):
            # The client closed the connection while its body was being read: there is no one
            # to answer, and nothing went wrong in the node. Not an ERROR, and not a 5xx in the
            # access log and metrics. The response is never sent.
            log.info("%s %s: the client closed the connection before sending the whole body", *_where(request))
            return web.Response(status=CLIENT_CLOSED)
        if isinstance(exc, web.RequestPayloadError):
            problem = _unreadable_body(request, exc)
            return problem_response(_route_members(request, problem.to_json(), problem.status), problem.status)
        return _internal_error(request, exc)  # a connection of the node's own (an outbound fetch)
    except HTTPProblem as exc:
        return problem_response(_route_members(request, exc.to_json(), exc.status), exc.status, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        body, headers = _from_http_exception(exc)
        return problem_response(_route_members(request, body, exc.status), exc.status, headers)
    except StoreError as exc:
        # The store cannot take the write now (locked or busy, disk full, read-only, unreachable):
        # nothing was written, and the request can be sent again once it can. Not a bug: no traceback.
        log.error("%s %s: %s", *_where(request), exc)
        detail = _without_store_path(request, exc.reason if isinstance(exc, StoreUnavailable) else str(exc))
        body = {"type": PROBLEM_BASE + "store-unavailable", "title": "The store is unavailable", "detail": detail}
        return problem_response(_route_members(request, body, 503), 503, {"Retry-After": "5"})
    except Exception as exc:  # noqa: BLE001 - this is the one place that catches everything
        return _internal_error(request, exc)


def _without_store_path(request: web.Request, detail: str) -> str:
    """A store's refusal as a client may read it: what is wrong (the disk is full, it is
    read-only), without where the store lives on the server, which the log line keeps."""
    from node.routes import NODE_KEY  # here: node.routes imports this module

    node = request.app.get(NODE_KEY)
    path = getattr(getattr(node, "db", None), "path", None)
    if path is None:
        return detail
    return detail.replace(f" ({path})", "").replace(str(path), "the store")


def _internal_error(request: web.Request, exc: Exception) -> web.Response:
    """A library failure as its specification's problem; anything else as a logged 500."""
    problem = problem_from_exception(exc)
    if problem is not None:
        return problem_response(_route_members(request, problem.to_json(), problem.http_status), problem.http_status)
    log.error("internal error handling %s %s", *_where(request), exc_info=exc)
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


async def read_json(request: web.Request, *, max_bytes: int | None = None, allow_array: bool = False) -> Any:
    """The request body as a JSON object, or a problem saying why it is not one.

    The size bound is checked against Content-Length before reading and again while reading,
    so a chunked or lying client cannot make the node buffer more than ``max_bytes``.
    """
    limit = max_bytes if max_bytes is not None else request.app.get(MAX_BODY_KEY, DEFAULT_MAX_BODY)
    _check_content_type(request)
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(request.content_length, limit)
    # StreamReader.read(n) returns what has arrived, up to n bytes: a body sent in several
    # TCP segments (a slow network, anything over the socket buffer) takes several reads.
    data = bytearray()
    while len(data) <= limit:
        chunk = await request.content.read(limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        raise _too_large(None, limit)
    if not data.strip():
        raise bad_request("the request body is empty; send a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad_request(f"the request body is not UTF-8 ({e.reason} at byte {e.start})") from e
    try:
        value = loads_strict(text)
    except DuplicateMemberError as e:
        # I-JSON (RFC 7493 §2.3): which of two values a signature covers depends on the parser.
        raise bad_request(f"the request body is not I-JSON: {e}", member=e.name) from e
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


class Invalid(ValueError):
    """A request-body rule that JSON types alone cannot say, raised inside a model's validator.

    ``detail`` is the message the client reads; the text ``{field}`` in it is replaced by the
    path of the value being validated (``options.credentialId``), and ``field`` (relative to
    that value, dotted) names a member of it when the rule is about one.
    """

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def invalid_body(error: ValidationError, body: Any) -> HTTPProblem:
    """A pydantic ``ValidationError`` of request ``body`` as a 400 naming the field and what to send.

    Only the first failure is reported (as the node always has: fix it and the next one shows);
    errors pydantic reports for the members of one union at one place are read together.
    """
    errors = error.errors(include_url=False)
    first = errors[0]
    path = _path(first, body)
    kind = first["type"]
    if kind == "value_error" and isinstance(first.get("ctx", {}).get("error"), Invalid):
        exc: Invalid = first["ctx"]["error"]
        if exc.field:
            path = [*path, *exc.field.split(".")]
        where = _dotted(path)
        return bad_request(exc.detail.replace("{field}", where or "the request body"), **({"field": where} if where else {}))
    where = _dotted(path)
    subject = where or "the request body"
    if kind in _WANT:
        # A union (int | float, say) fails once per member, each at the same place.
        wants = [_WANT[e["type"]] for e in errors if e["type"] in _WANT and _path(e, body) == path]
        want = "a number" if set(wants) == {"an integer", "a number"} else " or ".join(dict.fromkeys(wants))
        if not where:
            want = "a JSON object" if want == "an object" else want
        detail = f"{subject} must be {want}, not {_json_type(first['input'])}"
    else:
        detail = _message(kind, subject, first)
    return bad_request(detail, **({"field": where} if where else {}))


_WANT = {
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "none_required": "null",
}


def _message(kind: str, subject: str, error: Any) -> str:
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return f"{subject} is required"
    if kind == "literal_error" or kind == "enum":
        return f"{subject} must be one of {ctx.get('expected')}, not {_show(value)}"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return f"{subject} is empty" if n == 1 else f"{subject} must be at least {n} characters long"
    if kind == "string_too_long":
        return f"{subject} must be at most {ctx.get('max_length')} characters long"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        if ctx.get("actual_length") == 0:
            return f"{subject} is an empty array; send at least {n} item{'s' if n != 1 else ''}"
        return f"{subject} must have at least {n} items"
    if kind == "too_long":
        return f"{subject} must have at most {ctx.get('max_length')} items"
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("greater than", "gt"), "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"{subject} must be {words} {ctx.get(key)}, not {_show(value)}"
    if kind == "string_pattern_mismatch":
        return f"{subject} must match the pattern {ctx.get('pattern')}"
    if kind == "value_error" and ctx.get("error") is not None:
        return f"{subject}: {ctx['error']}"
    msg = str(error.get("msg", "is not valid"))
    return f"{subject}: {msg[:1].lower()}{msg[1:]}"


def _path(error: Any, body: Any) -> list[str | int]:
    """The error's location as a path into ``body``. Pydantic's ``loc`` also names the union
    member it tried (``int``, a form's tag): a step that is not in the body is such a name, except
    the last step of a missing field."""
    loc = error["loc"]
    path: list[str | int] = []
    node = body
    for i, step in enumerate(loc):
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            path.append(step)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            path.append(step)
            node = node[step]
        elif i == len(loc) - 1 and error["type"] == "missing" and isinstance(step, str):
            path.append(step)
    return path


def _dotted(path: list[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _show(value: Any) -> str:
    """A value as the client wrote it (JSON's true/null), strings quoted, containers by kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return _json_type(value)
    return repr(value)


def setup(app: web.Application, *, max_body: int = DEFAULT_MAX_BODY) -> None:
    """Install the problem middleware first, so it also sees the other middlewares' errors."""
    app[MAX_BODY_KEY] = max_body
    app.middlewares.insert(0, problem_middleware)

"""One declaration per HTTP endpoint: it registers the aiohttp route, authorizes the request,
validates the body into a typed object, and describes the operation in /openapi.json.

A route module keeps an ``Endpoints`` table, declares each endpoint on its handler and
registers the table in its ``setup(app)``::

    api = Endpoints()

    class RotateKeyRequest(Body):
        \"\"\"What to rotate.\"\"\"
        cryptosuite: str | None = None

    class RotatedKey(TypedDict):
        verificationMethod: str

    @api.post(
        "/issuers/{name}/keys/rotate",
        "rotateIssuerKey",
        summary="Rotate the issuer's signing key",
        tags=["Keys"],
        params=[ISSUER],
        scope=Scope("admin", issuer="{name}"),
        body=RotateKeyRequest,
        replies={201: Reply(RotatedKey, "The new verification method")},
        problems={404: "No issuer of that name on this node"},
    )
    async def rotate_key(request: web.Request, body: RotateKeyRequest) -> web.Response:
        ...

    def setup(app: web.Application) -> None:
        api.register(app)

Order of work for a request: the token (``scope``: 401/403), then the body (``read_json``'s
413/415/400, then the declared type: a 400 naming the field), then the handler, which gets
``(request, body)`` when a body is declared and ``(request)`` otherwise. The grant of the token
is at ``request[GRANT]``. Bodies declared with a model are ``Body`` subclasses (strict JSON
types, ``null`` for an absent optional member); a free-form JSON object is ``dict[str, Any]``
(credentials and presentations stay plain dicts). Responses are declared per status as
``Reply(shape, description)``: a ``TypedDict`` (or ``Body``) describing what the handler sends.
A body, a scope and ``problems`` add their problem responses (400/413/415, 401/403, and the
declared ones) to the description; a status both replied and refused (a verification's 400)
is described with both media types. Query parameters (``QueryParam``) and bodies the handler
parses itself (``form``: an HTML form) are documented, not validated; a status answered as
JSON or as a page (content negotiation) takes a list of replies. docs/CONTRACTS.md has the
rules ("Declaring an endpoint").
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, ClassVar, Iterable, Mapping, Sequence

from aiohttp import web
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

from node import auth
from node.problems import PROBLEM_MEMBERS, HTTPProblem, Invalid, invalid_body, read_json

JSON = "application/json"

# VCALM §"Error Handling": the one problem type the specification defines, for "an option that
# is unknown to the implementation" (VCALM §"Options": such an option MUST be an error).
UNKNOWN_OPTION_PROVIDED = "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED"

Handler = Callable[..., Awaitable[web.StreamResponse]]

GRANT = web.RequestKey("vcnode.grant", auth.Grant)


class Body(BaseModel):
    """Base of the declared request bodies.

    Members are checked as JSON types, strictly: ``"1"`` is not an integer, ``true`` not a
    number. ``null`` for a declared member means absent (an optional member is then its default;
    a required one is missing), so declare optional members ``T | None = None``, which the
    document shows as nullable. With ``extra="forbid"`` an unknown member is a 400 that lists the
    allowed ones (``noun`` names them: "option" reads better for ``options``, and an unknown
    option is typed ``UNKNOWN_OPTION_PROVIDED``, VCALM's problem type for it).
    """

    model_config = ConfigDict(strict=True)
    noun: ClassVar[str] = "field"

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent_and_unknowns_named(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = {f.alias or n for n, f in cls.model_fields.items()}
        if cls.model_config.get("extra") == "forbid":
            unknown = sorted(set(data) - names)
            if unknown:
                raise (UnknownOption if cls.noun == "option" else Invalid)(
                    f"unknown {cls.noun}(s) {', '.join(map(repr, unknown))} in {{field}}; allowed: {', '.join(names_in_order(cls))}"
                    if cls.noun == "field"
                    else f"unknown {cls.noun}(s) {', '.join(map(repr, unknown))}; this node understands {', '.join(names_in_order(cls))}"
                )
        # Members that are not declared (extra="allow") are the client's, left as sent.
        return {k: v for k, v in data.items() if v is not None or k not in names}


class UnknownOption(Invalid):
    """An option the endpoint does not understand (VCALM §"Options": "Implementations MUST throw
    an error if an endpoint receives data, options, or option values that it does not
    understand"); answered as VCALM's ``UNKNOWN_OPTION_PROVIDED`` problem."""


def _typed(problem: HTTPProblem, error: ValidationError) -> HTTPProblem:
    """The 400 for ``error``, typed ``UNKNOWN_OPTION_PROVIDED`` when an unknown option caused it."""
    first = error.errors(include_url=False)[0]
    if isinstance((first.get("ctx") or {}).get("error"), UnknownOption):
        problem.type = UNKNOWN_OPTION_PROVIDED
        problem.title = "An option that is unknown to the implementation was provided"
        problem.extra.setdefault("code", "UNKNOWN_OPTION_PROVIDED")
    return problem


def names_in_order(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


@dataclass(frozen=True)
class PathParam:
    """A ``{name}`` segment of the path, for the document (the handler reads ``request.match_info``)."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})

    def to_openapi(self) -> dict[str, Any]:
        return {"name": self.name, "in": "path", "required": True, "description": self.description, "schema": dict(self.schema)}


@dataclass(frozen=True)
class QueryParam:
    """A query parameter, for the document (the handler reads ``request.query`` and says what a
    bad one means)."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False

    def to_openapi(self) -> dict[str, Any]:
        return {"name": self.name, "in": "query", "required": self.required, "description": self.description, "schema": dict(self.schema)}


@dataclass(frozen=True)
class Scope:
    """The token scope an endpoint needs. ``issuer`` is the issuer the token must be allowed to act
    for: a literal name, or a ``{param}`` of the path (``"{name}"``); ``None`` means any issuer
    (the handler narrows it, reading ``request[GRANT]``)."""

    scope: str
    issuer: str | None = None

    async def authorize(self, request: web.Request) -> auth.Grant:
        if self.issuer is None:
            grant = await auth.authenticate(request)
            auth.require_scope(grant, self.scope)
            return grant
        return await auth.authorize(request, scope=self.scope, issuer=self.issuer.format_map(request.match_info))

    def explain(self) -> str:
        who = "for any issuer" if self.issuer is None else ("for this issuer" if "{" in self.issuer else f"for the {self.issuer!r} issuer")
        return f"Needs a bearer token with the `{self.scope}` scope {who} (or `admin`)."


@dataclass(frozen=True)
class Reply:
    """A response the endpoint sends: its body's shape (``None``: no body), what it means, and
    its media type (or several, of the same shape). ``headers`` documents response headers by
    name. A status answered in several forms (content negotiation: JSON for programs, HTML for
    browsers) is declared as a list of replies."""

    shape: Any
    description: str
    media_type: str | tuple[str, ...] = JSON
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type,) if isinstance(self.media_type, str) else tuple(self.media_type)


@dataclass(frozen=True)
class Refusal:
    """What the endpoint's problem responses (every 4xx, whoever raised it: the body's reading,
    the handler, a middleware) carry beyond RFC 9457: ``members(problem)`` gives the extra
    members (the problem's own are kept), ``shape`` documents the whole (a ``TypedDict``
    extending ``node.problems.ProblemDetails``)."""

    shape: Any
    members: Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One operation: everything /openapi.json says about it and everything the route does."""

    method: str
    path: str
    operation_id: str
    handler: Handler
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[PathParam | QueryParam, ...] = ()
    scope: Scope | None = None
    body: Any = None
    # Bodies the handler parses itself (an HTML form, an upload): media type -> shape, documented
    # only; the handler takes (request) and says what a bad one means.
    form: Mapping[str, Any] = field(default_factory=dict)
    replies: Mapping[int, Reply | Sequence[Reply]] = field(default_factory=dict)
    problems: Mapping[int, str] = field(default_factory=dict)
    refusal: Refusal | None = None  # what its 4xx problems add (None: plain problem details)
    in_api: bool = True  # False: served but not described (a page for people, say)
    # Public endpoints (no scope) are under the per-client rate limit (node/traffic.py); False
    # exempts one that must answer whatever the load (/healthz).
    rate_limited: bool = True
    allow_head: bool = True  # GET only
    # The router's pattern when a placeholder must not match everything (aiohttp's
    # ``{name:regex}``); ``path`` stays what /openapi.json and the route label say.
    pattern: str | None = None
    adapter: TypeAdapter[Any] | None = field(init=False, default=None, repr=False)
    accepts_array: bool = field(init=False, default=False, repr=False)

    def __post_init__(self) -> None:
        placeholders = re.findall(r"{(\w+)}", self.path)
        declared = [p.name for p in self.params if isinstance(p, PathParam)]
        if sorted(placeholders) != sorted(declared):
            raise ValueError(f"{self.method} {self.path}: path parameters {placeholders} but params declare {declared}")
        if not self.replies:
            raise ValueError(f"{self.method} {self.path}: declare at least one reply")
        if self.body is not None and self.form:
            raise ValueError(f"{self.method} {self.path}: a JSON body is validated here, a form is read by the handler: declare one")
        wants_body = len(inspect.signature(self.handler).parameters) == 2
        if wants_body != (self.body is not None):
            raise ValueError(
                f"{self.method} {self.path}: the handler takes (request, body) exactly when a body is declared"
            )
        if self.body is not None:
            adapter = TypeAdapter(self.body)
            object.__setattr__(self, "adapter", adapter)
            object.__setattr__(self, "accepts_array", _may_be_array(adapter.json_schema()))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.scope is not None:
            request[GRANT] = await self.scope.authorize(request)
        if self.adapter is None:
            return await self.handler(request)
        raw = await read_json(request, allow_array=self.accepts_array)
        try:
            body = self.adapter.validate_python(raw, strict=True)
        except ValidationError as e:
            raise _typed(invalid_body(e, raw), e) from None
        return await self.handler(request, body)

    def replies_at(self, status: int) -> tuple[Reply, ...]:
        declared = self.replies[status]
        return (declared,) if isinstance(declared, Reply) else tuple(declared)

    def problem_statuses(self) -> dict[int, str]:
        """Every problem response: the body's and the scope's, then the declared ones."""
        out: dict[int, str] = {}
        if self.body is not None:
            out[400] = "The body is not what this endpoint takes: malformed JSON, or a member missing, of the wrong type or not allowed; `detail` and `field` say which"
            out[413] = "The request body is larger than the node accepts"
            out[415] = "The body is declared as a form or multipart; send application/json"
        if self.body is not None or self.form:
            # node/problems.py answers these for every body, whoever reads it.
            unreadable = "The body cannot be read: not valid data of its Content-Encoding, or broken chunked framing"
            out[400] = f"{out[400]}; or: {unreadable[0].lower()}{unreadable[1:]}" if 400 in out else unreadable
            coding = "The body's Content-Encoding is one the node cannot decode; `Accept-Encoding` names those it can"
            out[415] = f"{out[415]}; or: {coding[0].lower()}{coding[1:]}" if 415 in out else coding
        # node/traffic.py answers what aiohttp's HTTP parser refuses, for any operation, as a problem too.
        malformed = "The request is not valid HTTP/1.1: a malformed request line or header line"
        out[400] = f"{out[400]}; or: {malformed[0].lower()}{malformed[1:]}" if 400 in out else malformed
        out[414] = "The request target is longer than the node reads (8190 bytes): a URL or query parameter too long"
        out[431] = "A header line is longer than the node reads (8190 bytes), or there are too many header fields"
        if self.body is not None or self.form:
            out[408] = "The request body did not arrive within the node's time limit (`body_timeout_seconds`); the connection is closed"
        if self.scope is None and self.rate_limited:
            out[429] = "This client sent more requests than the node answers for one client (`rate_limit_per_second`); `Retry-After` says when to try again"
        if self.scope is not None:
            out[401] = "No Authorization: Bearer token, or one the node does not know (revoked, mistyped)"
            out[403] = f"The token lacks the `{self.scope.scope}` scope, or is bound to another issuer"
        out.update(self.problems)
        return out


def _may_be_array(schema: Mapping[str, Any], defs: Mapping[str, Any] | None = None) -> bool:
    """Whether a JSON Schema (pydantic's, with its ``$defs``) lets the top level be an array."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return _may_be_array(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if schema.get("type") == "array":
        return True
    return any(_may_be_array(s, defs) for s in (*schema.get("anyOf", ()), *schema.get("oneOf", ())))


class Endpoints:
    """A route module's endpoints; ``@api.get(...)`` / ``post`` / ``delete`` declare them (stacked
    decorators declare one handler at several paths) and ``api.register(app)`` serves them."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(self, method: str, path: str, operation_id: str, **declaration: Any) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            for key in ("tags", "params"):
                if key in declaration:
                    declaration[key] = tuple(declaration[key])
            self.endpoints.append(Endpoint(method, path, operation_id, handler, **declaration))
            return handler

        return declare

    def get(self, path: str, operation_id: str, **declaration: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, operation_id, **declaration)

    def post(self, path: str, operation_id: str, **declaration: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, operation_id, **declaration)

    def delete(self, path: str, operation_id: str, **declaration: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, operation_id, **declaration)

    def register(self, app: web.Application) -> None:
        register(app, self.endpoints)


ENDPOINTS_KEY = web.AppKey("vcnode.endpoints", list)


def register(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    """Serve ``endpoints`` on ``app`` and record them for its /openapi.json."""
    known = app.setdefault(ENDPOINTS_KEY, [])
    taken = {e.operation_id for e in known}
    for ep in endpoints:
        if ep.operation_id in taken:
            raise ValueError(f"operationId {ep.operation_id!r} is declared twice")
        taken.add(ep.operation_id)
        known.append(ep)
        if ep.method == "GET":
            app.router.add_get(ep.pattern or ep.path, ep.handle, allow_head=ep.allow_head)
        else:
            app.router.add_route(ep.method, ep.pattern or ep.path, ep.handle)
        if ep.refusal is not None:
            app.setdefault(PROBLEM_MEMBERS, {})[(ep.method, ep.path)] = ep.refusal.members


def endpoints_of(app: web.Application) -> Sequence[Endpoint]:
    return tuple(app.get(ENDPOINTS_KEY, ()))

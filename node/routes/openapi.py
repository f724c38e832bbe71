"""``GET /openapi.json``: the OpenAPI 3.1 document, generated from the endpoints' declarations.

Every route is declared once (``node.routes.endpoint``): its path, method, scope, path
parameters, request body type and response shapes. The same declaration registers the route,
validates the request and, here, becomes the operation; the body and response types become
``components/schemas`` through pydantic's JSON Schema (2020-12, the dialect OpenAPI 3.1 uses).
Request and response shapes follow W3C CCG VC-API (issuer.yml, verifier.yml) where it has the
endpoint, operationIds included.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Iterable

from aiohttp import web
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from node.problems import PROBLEM_JSON, ProblemDetails
from node.routes.endpoint import JSON, Endpoint, Endpoints, Reply, endpoints_of

JsonObject = dict[str, Any]

VERSION = "0.1.0"
_REF = "#/components/schemas/{model}"
# Headers a problem response always carries (node/traffic.py sends them).
PROBLEM_HEADERS = {429: {"Retry-After": "Seconds to wait before the next request"}}

api = Endpoints()


class _Schema(GenerateJsonSchema):
    # Pydantic titles every member after its name ("Credentialid"); the names say it already.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _schemas(shapes: list[Any]) -> tuple[list[JsonObject], JsonObject]:
    """Each shape's schema (a ``$ref`` for a named model) and the named models' definitions."""
    inputs = [(i, "validation", TypeAdapter(shape)) for i, shape in enumerate(shapes)]
    by_key, defs = TypeAdapter.json_schemas(inputs, ref_template=_REF, schema_generator=_Schema)
    return [by_key[(i, "validation")] for i in range(len(shapes))], defs.get("$defs", {})


def document(endpoints: Iterable[Endpoint] | web.Application) -> JsonObject:
    """The OpenAPI document of ``endpoints`` (or of every endpoint registered on an app)."""
    if isinstance(endpoints, web.Application):
        endpoints = endpoints_of(endpoints)
    described = [ep for ep in endpoints if ep.in_api]
    shapes: list[Any] = [ProblemDetails]
    for ep in described:
        if ep.body is not None:
            shapes.append(ep.body)
        shapes += list(ep.form.values())
        if ep.refusal is not None:
            shapes.append(ep.refusal.shape)
        shapes += [r.shape for status in ep.replies for r in ep.replies_at(status) if r.shape is not None]
    unique: list[Any] = []
    for shape in shapes:
        if not any(shape is u for u in unique):
            unique.append(shape)
    schemas, components = _schemas(unique)

    def schema_of(shape: Any) -> JsonObject:
        return copy.deepcopy(schemas[next(i for i, u in enumerate(unique) if u is shape)])

    paths: JsonObject = {}
    for ep in described:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, schema_of)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vcnode: verifiable-credential trust node",
            "version": VERSION,
            "description": (
                "W3C VC-API endpoints for issuing and verifying W3C Verifiable Credentials with Data "
                "Integrity EdDSA proofs, Bitstring Status Lists and did:web documents, EU micro-credentials, "
                "accreditation and stacking. Errors are application/problem+json. Issuing and status "
                "changes need `Authorization: Bearer TOKEN`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token from `vcnode token create`"}
            },
        },
    }


def _operation(ep: Endpoint, schema_of: Any) -> JsonObject:
    op: JsonObject = {"summary": ep.summary, "operationId": ep.operation_id}
    if ep.tags:
        op["tags"] = list(ep.tags)
    description = " ".join(part for part in (ep.description, ep.scope.explain() if ep.scope else "") if part)
    if description:
        op["description"] = description
    if ep.params:
        op["parameters"] = [p.to_openapi() for p in ep.params]
    if ep.scope is not None:
        op["security"] = [{"bearer": [ep.scope.scope]}]
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": schema_of(ep.body)}}}
    elif ep.form:
        op["requestBody"] = {"required": True, "content": {media: {"schema": schema_of(shape)} for media, shape in ep.form.items()}}
    responses: JsonObject = {}
    for status in ep.replies:
        responses[str(status)] = _response(ep.replies_at(status), schema_of)
    for status, text in ep.problem_statuses().items():
        shape = ep.refusal.shape if ep.refusal is not None and 400 <= status < 500 else ProblemDetails
        problem = {PROBLEM_JSON: {"schema": schema_of(shape)}}
        if str(status) in responses:
            # A status that is both an answer and a refusal (a verification's 400): both media types.
            both = responses[str(status)]
            both["description"] += f"; or a problem: {text}"
            both.setdefault("content", {}).update(problem)
        else:
            responses[str(status)] = {"description": text, "content": problem}
        if status in PROBLEM_HEADERS:
            responses[str(status)]["headers"] = {
                name: {"description": what, "schema": {"type": "string"}, "required": True} for name, what in PROBLEM_HEADERS[status].items()
            }
    op["responses"] = dict(sorted(responses.items()))
    return op


def _response(replies: tuple[Reply, ...], schema_of: Any) -> JsonObject:
    out: JsonObject = {"description": "; or ".join(dict.fromkeys(r.description for r in replies))}
    headers = {name: text for r in replies for name, text in r.headers.items()}
    if headers:
        out["headers"] = {name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()}
    content = {media: {"schema": schema_of(r.shape)} for r in replies if r.shape is not None for media in r.media_types}
    if content:
        out["content"] = content
    return out


_DOCUMENT = web.AppKey("vcnode.openapi", dict)


@api.get(
    "/openapi.json",
    "openapi",
    summary="This description",
    tags=["Node"],
    replies={200: Reply(dict[str, Any], "The OpenAPI 3.1 document of every endpoint the node serves")},
)
async def get_openapi(request: web.Request) -> web.Response:
    # Built on first use, once every route module has registered; the routes cannot change later.
    cache = request.app[_DOCUMENT]
    if "text" not in cache:
        cache["text"] = json.dumps(document(request.app))
    return web.Response(text=cache["text"], content_type=JSON)


def setup(app: web.Application) -> None:
    app[_DOCUMENT] = {}
    api.register(app)

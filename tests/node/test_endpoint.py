"""node/routes/endpoint.py: one declaration registers the route, authorizes, validates, and describes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from typing_extensions import TypedDict

from node import auth, problems
from node.problems import PROBLEM_JSON
from node.routes.endpoint import GRANT, Body, Endpoints, PathParam, Reply, Scope, endpoints_of
from node.routes.openapi import document


class _Note(Body):
    text: str


class _Saved(TypedDict):
    text: str
    by: str


def _app() -> web.Application:
    api = Endpoints()

    @api.post(
        "/boards/{board}/notes",
        "addNote",
        summary="Add a note",
        params=[PathParam("board", "The board")],
        scope=Scope("issue", issuer="{board}"),
        body=_Note,
        replies={201: Reply(_Saved, "Saved")},
        problems={409: "Full"},
    )
    async def add(request: web.Request, body: _Note) -> web.Response:
        return web.json_response({"text": body.text, "by": request[GRANT].token_id}, status=201)

    @api.get("/page", "page", summary="A page for people", replies={200: Reply(str, "The page", media_type="text/html")})
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<p>hi</p>", content_type="text/html")

    @api.get("/hidden", "hidden", summary="Served, not described", replies={200: Reply(None, "ok")}, in_api=False)
    async def hidden(request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    problems.setup(app)

    async def verify(token: str) -> auth.Grant | None:
        return auth.Grant(token, frozenset({"issue"}), "team") if token == "good" else None

    auth.setup(app, verify)
    api.register(app)
    return app


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    return await aiohttp_client(_app())


async def test_one_declaration_authorizes_then_validates_then_calls_the_handler(client: Any) -> None:
    assert (await client.post("/boards/team/notes", json={})).status == 401  # the token first
    resp = await client.post("/boards/other/notes", json={"text": "x"}, headers={"Authorization": "Bearer good"})
    assert resp.status == 403 and "bound to issuer 'team'" in (await resp.json(content_type=None))["detail"]
    resp = await client.post("/boards/team/notes", json={"text": 5}, headers={"Authorization": "Bearer good"})
    assert resp.status == 400 and resp.content_type == PROBLEM_JSON
    assert (await resp.json(content_type=None))["field"] == "text"
    resp = await client.post("/boards/team/notes", json={"text": "hello"}, headers={"Authorization": "Bearer good"})
    assert resp.status == 201 and await resp.json() == {"text": "hello", "by": "good"}


async def test_the_document_says_what_the_declaration_says(client: Any) -> None:
    doc = document(client.app)
    op = doc["paths"]["/boards/{board}/notes"]["post"]
    assert op["operationId"] == "addNote" and op["security"] == [{"bearer": ["issue"]}]
    assert op["parameters"] == [{"name": "board", "in": "path", "required": True, "description": "The board", "schema": {"type": "string"}}]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/_Note"}
    # 408 with a body (node/traffic.py's body time limit); no 429: a scoped endpoint is not rate limited.
    assert sorted(op["responses"]) == ["201", "400", "401", "403", "408", "409", "413", "414", "415", "431"]
    assert list(op["responses"]["409"]["content"]) == [PROBLEM_JSON]
    assert doc["components"]["schemas"]["_Saved"]["required"] == ["text", "by"]
    assert doc["paths"]["/page"]["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert "/hidden" not in doc["paths"]
    assert {e.path for e in endpoints_of(client.app)} == {"/boards/{board}/notes", "/page", "/hidden"}
    assert (await client.get("/hidden")).status == 200
    assert (await client.head("/page")).status == 200


def test_a_status_both_answered_and_refused_is_described_with_both_media_types(tmp_path: Any) -> None:
    from node.app import create_app
    from node.config import Config

    doc = document(create_app(Config().replace(data_dir=tmp_path)))
    responses = doc["paths"]["/credentials/verify"]["post"]["responses"]
    assert set(responses["400"]["content"]) == {"application/json", PROBLEM_JSON}
    assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/VerifyCredentialResult"}
    # Content negotiation (JSON for programs, a page for browsers), a form the handler reads
    # itself, a query parameter: each declared on the endpoint, each in the document.
    achievement = doc["paths"]["/issuers/{name}/achievements/{slug}"]["get"]["responses"]
    assert set(achievement["200"]["content"]) == {"application/ld+json", "application/json", "text/html"}
    assert set(achievement["404"]["content"]) == {"text/html", PROBLEM_JSON}
    page = doc["paths"]["/verify"]
    assert set(page["post"]["requestBody"]["content"]) == {"multipart/form-data", "application/x-www-form-urlencoded"}
    assert [(p["name"], p["in"], p["required"]) for p in page["get"]["parameters"]] == [("url", "query", False)]
    assert set(page["get"]["responses"]) == {"200", "400", "413", "414", "429", "431", "502", "503"}


async def _handler(request: web.Request) -> web.Response:
    return web.Response()


async def _handler_with_body(request: web.Request, body: _Note) -> web.Response:
    return web.Response()


@pytest.mark.parametrize(
    "path,handler,declaration,says",
    [
        ("/a/{x}", _handler, {}, "path parameters ['x'] but params declare []"),
        ("/a", _handler, {"params": [PathParam("x", "x")]}, "path parameters [] but params declare ['x']"),
        ("/a", _handler, {"body": _Note}, "takes (request, body) exactly when a body is declared"),
        ("/a", _handler_with_body, {}, "takes (request, body) exactly when a body is declared"),
        ("/a", _handler, {"replies": {}}, "declare at least one reply"),
    ],
)
def test_a_declaration_that_cannot_be_true_is_refused_at_import(path: str, handler: Any, declaration: dict[str, Any], says: str) -> None:
    api = Endpoints()
    declaration = {"replies": {200: Reply(None, "ok")}, **declaration}
    with pytest.raises(ValueError) as e:
        api.post(path, "op", summary="s", **declaration)(handler)
    assert says in str(e.value)


def test_an_operation_id_is_declared_once_per_app() -> None:
    app = web.Application()
    api = Endpoints()
    api.get("/a", "same", summary="a", replies={200: Reply(None, "ok")})(_handler)
    api.get("/b", "same", summary="b", replies={200: Reply(None, "ok")})(_handler)
    with pytest.raises(ValueError, match="operationId 'same' is declared twice"):
        api.register(app)

"""node/problems.py: every error is application/problem+json, malformed bodies are 400/413/415."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from did.errors import NotFound
from node import problems
from node.problems import PROBLEM_JSON, read_json
from vc.errors import ProofVerificationError

LIMIT = 2048


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(await read_json(request))


async def _raise_vc(request: web.Request) -> web.Response:
    raise ProofVerificationError("the signature does not match")


async def _raise_did(request: web.Request) -> web.Response:
    raise NotFound("did:web:example.com has no document")


async def _raise_bug(request: web.Request) -> web.Response:
    raise KeyError("secret-internal-name")


async def _field(request: web.Request) -> web.Response:
    body = await read_json(request)
    problems.field(body, "credential", dict)
    problems.field(body, "count", int, required=False)
    return web.json_response({"ok": True})


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = web.Application()
    problems.setup(app, max_body=LIMIT)
    app.router.add_post("/echo", _echo)
    app.router.add_post("/field", _field)
    app.router.add_get("/vc", _raise_vc)
    app.router.add_get("/did", _raise_did)
    app.router.add_get("/bug", _raise_bug)
    return await aiohttp_client(app)


async def _problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == PROBLEM_JSON
    body = await resp.json(content_type=None)
    assert body["type"] and body["title"] and body["detail"]
    assert body["status"] == status
    return body


async def test_a_valid_object_passes_through(client: Any) -> None:
    resp = await client.post("/echo", json={"a": [1, 2.5, None, True]})
    assert resp.status == 200
    assert await resp.json() == {"a": [1, 2.5, None, True]}


MALFORMED = [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"{", "not valid JSON"),
    (b"{'a': 1}", "not valid JSON"),
    (b'{"a": 1,}', "not valid JSON"),
    (b'{"a": NaN}', "not valid JSON"),
    (b'{"a": Infinity}', "not valid JSON"),
    (b'{"a": -Infinity}', "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"a": "\xc3"}', "not UTF-8"),
    (b"[]", "must be a JSON object, not an array"),
    (b"[{}]", "must be a JSON object, not an array"),
    (b'"credential"', "must be a JSON object, not a string"),
    (b"42", "must be a JSON object, not a number"),
    (b"true", "must be a JSON object, not a boolean"),
    (b"null", "must be a JSON object, not null"),
    (b"[" * 1000 + b"]" * 1000, "nests too deeply"),
    (b'{"a":' * 60 + b"1" + b"}" * 60, "nests deeper than the limit"),
    (b'{"a": 1} trailing', "not valid JSON"),
    (b"\x00", "not valid JSON"),
]


@pytest.mark.parametrize("body,says", MALFORMED, ids=[repr(b[:12]) for b, _ in MALFORMED])
async def test_malformed_bodies_are_400_with_what_is_wrong(client: Any, body: bytes, says: str) -> None:
    resp = await client.post("/echo", data=body, headers={"Content-Type": "application/json"})
    if resp.status == 200:
        pytest.fail(f"accepted {body[:40]!r}")
    problem = await _problem(resp, 400)
    assert says in problem["detail"]


async def test_deep_nesting_is_a_400_even_past_the_parser_recursion_limit(client: Any) -> None:
    body = b"[" * 100_000
    resp = await client.post("/echo", data=body[: LIMIT - 1])
    await _problem(resp, 400)


async def test_a_body_over_the_limit_is_413_before_parsing(client: Any) -> None:
    body = json.dumps({"x": "a" * LIMIT}).encode()
    resp = await client.post("/echo", data=body, headers={"Content-Type": "application/json"})
    problem = await _problem(resp, 413)
    assert str(LIMIT) in problem["detail"]


async def test_a_chunked_body_over_the_limit_is_413(client: Any) -> None:
    async def gen() -> Any:
        for _ in range(10):
            yield b" " * 512
        yield b"{}"

    resp = await client.post("/echo", data=gen(), headers={"Content-Type": "application/json"})
    await _problem(resp, 413)


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
async def test_a_form_content_type_is_415(client: Any, ctype: str) -> None:
    resp = await client.post("/echo", data=b'{"a": 1}', headers={"Content-Type": ctype})
    problem = await _problem(resp, 415)
    assert "application/json" in problem["detail"]


@pytest.mark.parametrize(
    "ctype",
    ["application/json", "application/ld+json", "application/vc+json", "application/json; charset=utf-8", "text/plain"],
)
async def test_json_media_types_are_accepted(client: Any, ctype: str) -> None:
    resp = await client.post("/echo", data=b'{"a": 1}', headers={"Content-Type": ctype})
    assert resp.status == 200


@pytest.mark.parametrize(
    "body,says",
    [
        ({}, "credential is required"),
        ({"credential": None}, "credential is required"),
        ({"credential": []}, "credential must be an object, not an array"),
        ({"credential": "x"}, "credential must be an object, not a string"),
        ({"credential": {}, "count": "1"}, "count must be an integer, not a string"),
        ({"credential": {}, "count": True}, "count must be an integer, not a boolean"),
    ],
)
async def test_wrong_field_types_name_the_field(client: Any, body: dict[str, Any], says: str) -> None:
    resp = await client.post("/field", json=body)
    problem = await _problem(resp, 400)
    assert problem["detail"] == says


async def test_library_problems_keep_their_spec_type(client: Any) -> None:
    problem = await _problem(await client.get("/vc"), 400)
    assert problem["type"] == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    assert problem["detail"] == "the signature does not match"


async def test_did_errors_keep_their_did_code(client: Any) -> None:
    problem = await _problem(await client.get("/did"), 400)
    assert problem["didErrorCode"] == "notFound"


async def test_a_bug_is_a_500_problem_that_leaks_nothing(client: Any, caplog: Any) -> None:
    problem = await _problem(await client.get("/bug"), 500)
    assert "secret-internal-name" not in json.dumps(problem)
    assert "secret-internal-name" in caplog.text  # but it is logged for the operator


async def test_unknown_paths_and_methods_are_problems(client: Any) -> None:
    problem = await _problem(await client.get("/nowhere"), 404)
    assert "openapi.json" in problem["detail"]
    resp = await client.get("/echo")
    await _problem(resp, 405)
    assert "POST" in resp.headers["Allow"]

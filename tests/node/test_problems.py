"""node/problems.py: every error is application/problem+json, malformed bodies are 400/413/415."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from typing import Annotated, Literal

import pytest
from aiohttp import web
from pydantic import ConfigDict, Field, model_validator

from did.errors import NotFound
from node import problems
from node.problems import PROBLEM_JSON, Invalid, read_json
from node.routes.endpoint import Body, Endpoints, Reply
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


class _Options(Body):
    model_config = ConfigDict(extra="forbid")
    noun = "option"

    challenge: str | None = None
    tags: list[str] | None = None


class _Entry(Body):
    type: Literal["A", "B"]


class _Request(Body):
    credential: dict[str, Any]
    count: int | None = None
    ects: int | float | None = None
    name: Annotated[str, Field(min_length=1)] | None = None
    entries: Annotated[list[_Entry], Field(min_length=1)] | None = None
    options: _Options | None = None

    @model_validator(mode="after")
    def _not_both(self) -> "_Request":
        if self.count is not None and self.ects is not None:
            raise Invalid("send count or ects, not both", field="ects")
        return self


_api = Endpoints()


@_api.post("/field", "field", summary="A declared body", body=_Request, replies={200: Reply(dict[str, Any], "ok")})
async def _field(request: web.Request, body: _Request) -> web.Response:
    return web.json_response({"count": body.count, "ects": body.ects, "options": body.options.model_dump() if body.options else None})


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = web.Application()
    problems.setup(app, max_body=LIMIT)
    app.router.add_post("/echo", _echo)
    _api.register(app)
    app.router.add_get("/vc", _raise_vc)
    app.router.add_get("/did", _raise_did)
    app.router.add_get("/bug", _raise_bug)
    app.router.add_get("/store-busy", _raise_store_busy)
    app.router.add_get("/store-full", _raise_store_full)
    return await aiohttp_client(app)


async def _raise_store_busy(request: web.Request) -> web.Response:
    from node.store import StoreError

    raise StoreError("the store is busy: another process held its write lock for over 10 s")


async def _raise_store_full(request: web.Request) -> web.Response:
    from node.store import StoreUnavailable

    raise StoreUnavailable("the disk holding the store is full: nothing was written; free space and try again")


async def test_a_store_that_cannot_take_a_write_is_a_503_saying_why(client: Any) -> None:
    """Busy, locked, full, read-only, unreachable: not a bug, so no 500 and no traceback; the
    reason as the store said it, and when to try again."""
    for path, words in (("/store-busy", "the store is busy"), ("/store-full", "the disk holding the store is full")):
        resp = await client.get(path)
        body = await _problem(resp, 503)
        assert body["type"].endswith("store-unavailable") and body["detail"].startswith(words)
        assert resp.headers["Retry-After"] == "5"


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
    # Valid JSON syntax, but no I-JSON (RFC 7493 §2.1-2.2): half a surrogate pair, in a value
    # or a name (a 500 from the signer before), and numbers past a double's range (signed as
    # infinity and handed back as null before).
    (b'{"a": "\\ud800"}', "half of a surrogate pair with no partner"),
    (b'{"\\udc00name": 1}', "a property name holding U+DC00"),
    (b'{"a": {"b": ["x", "\\udfff"]}}', "U+DFFF"),
    (b'{"a": 1e400}', "no finite double"),
    (b'{"a": -1e400}', "no finite double"),
    # I-JSON §2.3: a member named twice, which parsers read differently (first or last wins).
    (b'{"name": "Ada", "name": "Eve"}', "the member 'name' appears twice"),
    (b'{"a": [{"b": {"id": 1, "x": 2, "id": 3}}]}', "the member 'id' appears twice"),
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


async def test_a_body_arriving_in_pieces_is_read_whole(client: Any) -> None:
    """Found building the hostile-traffic tests: read_json took one read(n) for the whole body,
    which returns what has arrived so far, so a body split over TCP segments (any body on a
    slow network) was refused as invalid JSON."""
    body = json.dumps({"a": "x" * 1500}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body[:700])
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.write(body[700:])
    head, _, answer = (await asyncio.wait_for(reader.read(), 5)).partition(b"\r\n\r\n")
    writer.close()
    assert head.startswith(b"HTTP/1.1 200") and json.loads(answer) == {"a": "x" * 1500}


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
        ({"credential": {}, "count": 1.5}, "count must be an integer, not a number"),
        ({"credential": {}, "ects": "5"}, "ects must be a number, not a string"),
        ({"credential": {}, "ects": False}, "ects must be a number, not a boolean"),
        ({"credential": {}, "name": ""}, "name is empty"),
        ({"credential": {}, "entries": []}, "entries is an empty array; send at least 1 item"),
        ({"credential": {}, "entries": [{"type": "A"}, {"type": "C"}]}, "entries[1].type must be one of 'A' or 'B', not 'C'"),
        ({"credential": {}, "entries": [{"type": "A"}, 5]}, "entries[1] must be an object, not a number"),
        ({"credential": {}, "entries": [{}]}, "entries[0].type is required"),
        ({"credential": {}, "options": []}, "options must be an object, not an array"),
        ({"credential": {}, "options": {"challenge": 5}}, "options.challenge must be a string, not a number"),
        ({"credential": {}, "options": {"tags": ["a", 5]}}, "options.tags[1] must be a string, not a number"),
        ({"credential": {}, "options": {"chalenge": "x", "domain": "y"}}, "unknown option(s) 'chalenge', 'domain'; this node understands challenge, tags"),
        ({"credential": {}, "count": 1, "ects": 2}, "send count or ects, not both"),
    ],
)
async def test_wrong_field_types_name_the_field(client: Any, body: dict[str, Any], says: str) -> None:
    resp = await client.post("/field", json=body)
    problem = await _problem(resp, 400)
    assert problem["detail"] == says
    where = says.split(" ")[0]
    if where != "unknown":
        assert problem["field"] == ("ects" if says.startswith("send") else where)
    else:
        assert problem["field"] == "options"


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null"])
async def test_a_declared_object_body_refuses_other_json_at_the_top(client: Any, body: bytes) -> None:
    problem = await _problem(await client.post("/field", data=body, headers={"Content-Type": "application/json"}), 400)
    assert problem["detail"].startswith("the request body must be a JSON object, not ")
    assert "field" not in problem


async def test_a_declared_body_keeps_json_types_and_reads_null_as_absent(client: Any) -> None:
    resp = await client.post("/field", json={"credential": {}, "count": None, "ects": 5, "options": {"challenge": None}})
    assert resp.status == 200
    # 5 stays an integer (5 and 5.0 canonicalize differently); null is an absent member.
    assert await resp.json() == {"count": None, "ects": 5, "options": {"challenge": None, "tags": None}}
    assert type((await resp.json())["ects"]) is int


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


# --- what the log says of a request: its route, never its path -------------------------------

# A percent-encoded path as a client may send it: decoded, it holds a learner-like name and a
# newline followed by what would read, in the text format, as a second line from another logger.
_HOSTILE = "/issuers/Zo%C3%AB%20Secretname%0AERROR%20vcnode.access:%20forged%20line"


async def _read_form(request: web.Request) -> web.Response:
    await request.post()
    return web.json_response({})


@pytest.fixture
async def served_port() -> Any:
    """A real server (node.traffic.start): aiohttp's test server would cancel the handler of a
    client that left, where vcnode's lets it run on into the closed body."""
    from node import traffic
    from node.config import Config

    config = Config().replace(exempt_clients=("127.0.0.1",))
    app = web.Application()
    problems.setup(app, max_body=LIMIT)
    traffic.setup(app, config)
    app.router.add_post("/issuers/{name}/oid4vci/token", _read_form)
    app.router.add_get("/issuers/{name}/store-busy", _raise_store_busy)
    app.router.add_get("/issuers/{name}/bug", _raise_bug)
    runner, site = await traffic.start(app, config, port=0)
    try:
        yield site.port
    finally:
        await runner.cleanup()


async def _raw(port: int, head: bytes, body: bytes = b"", *, leave: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    if leave:
        await asyncio.sleep(0.1)
        writer.close()
        return b""
    data = await reader.read(65536)
    writer.close()
    return data


async def test_the_log_names_the_route_never_the_decoded_path(served_port: int, caplog: pytest.LogCaptureFixture) -> None:
    from node.logs import TEXT_FORMAT, JsonFormatter

    caplog.set_level(logging.INFO)
    # A form POST whose client leaves mid-body, a store that cannot take the write, a bug.
    await _raw(served_port, f"POST {_HOSTILE}/oid4vci/token HTTP/1.1\r\nHost: x\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n".encode(),
               b"grant_type=", leave=True)
    for _ in range(50):
        if any("closed the connection" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    assert b" 503 " in await _raw(served_port, f"GET {_HOSTILE}/store-busy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert b" 500 " in await _raw(served_port, f"GET {_HOSTILE}/bug HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

    said = {r.getMessage() for r in caplog.records if r.name == "node.problems"}
    assert said == {
        "POST /issuers/{name}/oid4vci/token: the client closed the connection before sending the whole body",
        "GET /issuers/{name}/store-busy: the store is busy: another process held its write lock for over 10 s",
        "internal error handling GET /issuers/{name}/bug",
    }
    text, as_json = logging.Formatter(TEXT_FORMAT), JsonFormatter()
    for record in caplog.records:
        line = text.format(record)
        assert "Secretname" not in line and "Secretname" not in as_json.format(record)
        assert "forged" not in line and "\nERROR vcnode.access" not in line

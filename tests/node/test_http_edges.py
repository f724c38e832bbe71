"""What a QA sweep of the node's HTTP surface found: bodies the node cannot decode, a client
that leaves mid-body, the parser's refusals (no request bytes echoed; 414 and 431), status
list caching against validUntil, CORS on every answer of a CORS-open resource, and the
conditional requests (If-Match, If-None-Match) of RFC 9110 §13."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import zlib
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from node import traffic
from node.app import create_app
from node.config import Config
from node.metrics import Metrics
from node.problems import PROBLEM_JSON
from node.routes import NODE_KEY
from node.routes.metrics import METRICS_KEY
from support import ResponseLog

V2 = "https://www.w3.org/ns/credentials/v2"
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture
async def node(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Any]:
    config = Config().replace(data_dir=tmp_path / "data", access_log=True, metrics=True, exempt_clients=("127.0.0.1",))
    app = create_app(config, metrics=Metrics())
    log = ResponseLog(app)
    client = await aiohttp_client(app)
    client.token = (await app[NODE_KEY].tokens.create(["issue"], issuer="default")).token
    yield client
    log.check()  # every response as /openapi.json describes it


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[int, Any]]:
    """The node as ``vcnode serve`` runs it (node.traffic.start): aiohttp's test server cancels
    a handler whose client left, a real server lets it run on."""
    config = Config().replace(data_dir=tmp_path / "data", access_log=True, metrics=True, exempt_clients=("127.0.0.1",))
    app = create_app(config, metrics=Metrics())
    runner, site = await traffic.start(app, config, port=0)
    try:
        yield site.port, app
    finally:
        await runner.cleanup()


async def _problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == PROBLEM_JSON
    body = await resp.json(content_type=None)
    assert body["status"] == status
    return body


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# --- 1. bodies the node cannot decode, and a client that leaves mid-body --------------------


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_body_that_is_not_its_content_encoding_is_a_400_without_a_traceback(
    node: Any, caplog: pytest.LogCaptureFixture, coding: str
) -> None:
    caplog.set_level(logging.INFO)
    resp = await node.post("/credentials/verify", data=b"abcde", headers={**JSON_TYPE, "Content-Encoding": coding})
    problem = await _problem(resp, 400)
    assert problem["type"] == "urn:vcnode:problem:unreadable-body"
    assert problem["detail"].startswith(f"the body could not be decoded: Content-Encoding {coding}")
    assert not _errors(caplog)


async def test_every_reader_of_a_body_answers_a_bad_encoding_the_same_way(node: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The issuing POST (read_json), the OID4VCI token endpoint (its own form) and the
    verifier page (a form): one answer, given in node.problems."""
    auth = {"Authorization": f"Bearer {node.token}"}
    gz = {"Content-Encoding": "gzip"}
    for resp in (
        await node.post("/credentials/issue", data=b"abcde", headers={**JSON_TYPE, **gz, **auth}),
        await node.post("/issuers/default/oid4vci/token", data=b"abcde",
                        headers={"Content-Type": "application/x-www-form-urlencoded", **gz}),
        await node.post("/verify", data=b"abcde", headers={"Content-Type": "application/x-www-form-urlencoded", **gz}),
    ):
        assert (await _problem(resp, 400))["type"] == "urn:vcnode:problem:unreadable-body"
    assert not _errors(caplog)


async def test_a_body_in_its_content_encoding_is_read(node: Any) -> None:
    body = json.dumps({"verifiableCredential": {"@context": [V2]}}).encode()
    for coding, data in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        resp = await node.post("/credentials/verify", data=data, headers={**JSON_TYPE, "Content-Encoding": coding})
        assert resp.status == 400  # a verification's answer about the credential, not about the body
        assert "unreadable-body" not in await resp.text()


@pytest.mark.parametrize("coding", ["compress", "x-custom", "gzip, gzip"])
async def test_a_content_encoding_the_node_cannot_decode_is_a_415_naming_those_it_can(node: Any, coding: str) -> None:
    resp = await node.post("/credentials/verify", data=b"abcde", headers={**JSON_TYPE, "Content-Encoding": coding})
    problem = await _problem(resp, 415)
    assert problem["type"] == "urn:vcnode:problem:unsupported-content-encoding"
    assert resp.headers["Accept-Encoding"].startswith("gzip, deflate")
    assert "x-custom" not in problem["detail"]  # the client's own text is not repeated


async def test_a_client_that_leaves_mid_body_is_no_error_and_no_500(served: tuple[int, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    port, app = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{\"verifiableCredential\": "
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    for _ in range(50):
        access = [r for r in caplog.records if r.name == "vcnode.access"]
        if access:
            break
        await asyncio.sleep(0.02)
    assert [r.fields["status"] for r in access] == [499]
    assert not _errors(caplog)
    assert any("client closed the connection" in r.getMessage() for r in caplog.records)
    app[METRICS_KEY].flush()
    text = app[METRICS_KEY].exposition()[0].decode()
    assert 'status="499"' in text and 'status="500"' not in text


# --- 2, 3. what the HTTP parser refuses: no request bytes echoed; 414 and 431 ---------------

TOKEN = "vcn_s3cr3t-token-value-0123456789"


async def _raw(port: int, request: bytes) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def _status(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])  # HTTP/1.0 or 1.1: a request the parser refused has no version of its own


@pytest.mark.parametrize("header, status, kind", [
    (b"Authorization: Bearer " + TOKEN.encode() + b"a" * 9000, 431, "headers-too-large"),
    (b"Authorization: Bearer " + TOKEN.encode() + b"\nX: y", 400, "bad-http"),
    (b"Authorization: Bearer " + TOKEN.encode() + b"\x01", 400, "bad-http"),
    (b"X-" + TOKEN.encode() * 300 + b": 1", 431, "headers-too-large"),
], ids=["token-too-long", "bare-lf", "control-byte", "name-too-long"])
async def test_a_refused_header_is_not_echoed_in_the_answer_or_the_log(
    served: tuple[int, Any], caplog: pytest.LogCaptureFixture, header: bytes, status: int, kind: str
) -> None:
    caplog.set_level(logging.DEBUG)
    port, _ = served
    head, body = await _raw(port, b"POST /credentials/issue HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nContent-Length: 2\r\n\r\n{}")
    assert _status(head) == status and PROBLEM_JSON.encode() in head
    problem = json.loads(body)
    assert problem["type"] == f"urn:vcnode:problem:{kind}" and problem["status"] == status
    assert TOKEN not in (head + body).decode("latin-1") and "aaaa" not in problem["detail"]
    assert not [r for r in caplog.records if TOKEN in r.getMessage() or "aaaa" in r.getMessage()]
    assert any("refused a malformed request" in r.getMessage() for r in caplog.records)


async def test_a_request_target_over_the_limit_is_414_and_too_many_headers_431(served: tuple[int, Any]) -> None:
    port, _ = served
    head, body = await _raw(port, b"GET /status/default/revocation/1?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _status(head) == 414 and json.loads(body)["type"] == "urn:vcnode:problem:uri-too-long"
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(200))
    head, body = await _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert _status(head) == 431 and json.loads(body)["type"] == "urn:vcnode:problem:headers-too-large"


@pytest.mark.parametrize("coding", ["br", "zstd"])
async def test_a_coding_whose_library_is_missing_is_a_415_without_install_advice(served: tuple[int, Any], coding: str) -> None:
    from node.problems import DECODABLE_CODINGS

    if coding in DECODABLE_CODINGS:
        pytest.skip(f"aiohttp decodes {coding} here")
    port, _ = served
    head, body = await _raw(port, (
        f"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: {coding}\r\n"
        "Content-Length: 5\r\n\r\nabcde"
    ).encode())
    assert _status(head) == 415 and b"Accept-Encoding: gzip, deflate" in head
    problem = json.loads(body)
    assert problem["type"] == "urn:vcnode:problem:unsupported-content-encoding"
    assert f"Content-Encoding {coding}" in problem["detail"] and "install" not in problem["detail"].lower()


# --- 4. a status list is never cached past its re-signing, nor past its validUntil ---------


def test_a_status_list_ttl_longer_than_its_validity_allows_is_refused() -> None:
    from node.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        Config().replace(status_list_ttl_ms=3_600_000, status_list_valid_seconds=600)
    message = str(refused.value)
    assert "status_list_ttl_ms" in message and "status_list_valid_seconds=600" in message
    assert "at most 240000 ms" in message  # half of 600 s, less the 60 s between re-signing checks
    Config().replace(status_list_ttl_ms=240_000, status_list_valid_seconds=600)
    Config().replace(status_list_ttl_ms=3_600_000)  # no validUntil: any ttl


async def _issue_with_status(client: Any, token: str) -> str:
    issuer = (await client.server.app[NODE_KEY].issuers.get("default")).did
    resp = await client.post("/credentials/issue", headers={"Authorization": f"Bearer {token}"}, json={"credential": {
        "@context": [V2], "type": ["VerifiableCredential"], "issuer": issuer, "credentialSubject": {"id": "did:example:learner"}}})
    assert resp.status == 201, await resp.text()
    status = (await resp.json())["verifiableCredential"]["credentialStatus"]
    url = (status[0] if isinstance(status, list) else status)["statusListCredential"]
    return "/" + url.split("/", 3)[3]


async def test_a_status_list_max_age_stops_at_its_re_signing(tmp_path: Path, aiohttp_client: Any) -> None:
    from datetime import timedelta

    config = Config().replace(data_dir=tmp_path / "data", status_list_ttl_ms=240_000, status_list_valid_seconds=600)
    app = create_app(config)
    client = await aiohttp_client(app)
    token = (await app[NODE_KEY].tokens.create(["issue"], issuer="default")).token
    path = await _issue_with_status(client, token)
    resp = await client.get(path)
    assert resp.status == 200 and resp.headers["Cache-Control"] == "max-age=240"  # the ttl: 300 s to re-signing
    lists = app[NODE_KEY].status_lists
    signed = lists.clock()
    lists.clock = lambda: signed + timedelta(seconds=250)  # 50 s before half its validity
    resp = await client.get(path)
    age = int(resp.headers["Cache-Control"].removeprefix("max-age="))
    assert 45 <= age <= 50
    lists.clock = lambda: signed + timedelta(seconds=700)  # past validUntil (re-signing failed, say)
    assert (await client.get(path)).headers["Cache-Control"] == "max-age=0"


# --- 5. CORS on every answer of a CORS-open resource, errors included ----------------------

ORIGIN = {"Origin": "https://wallet.example"}


async def test_cors_open_resources_carry_cors_on_their_errors_too(node: Any) -> None:
    for path in (
        "/status/default/revocation/99",  # no such list
        "/issuers/nobody/did.json",
        "/.well-known/openid-credential-issuer/issuers/nobody",
        "/issuers/nobody/accreditations.json",
        "/issuers/nobody/achievements/x",
    ):
        resp = await node.get(path, headers=ORIGIN)
        assert resp.status == 404, path
        assert resp.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Retry-After" in resp.headers["Access-Control-Expose-Headers"], path
    resp = await node.post("/credentials/verify", data=b"{", headers={**ORIGIN, **JSON_TYPE})
    assert resp.status == 400 and resp.headers["Access-Control-Allow-Origin"] == "*"
    # A token-protected route stays same-origin, whatever its answer.
    resp = await node.post("/credentials/issue", json={}, headers=ORIGIN)
    assert resp.status == 401 and "Access-Control-Allow-Origin" not in resp.headers
    resp = await node.get("/no/such/path", headers=ORIGIN)
    assert resp.status == 404 and "Access-Control-Allow-Origin" not in resp.headers


async def test_a_route_that_needs_a_token_is_never_opened_even_if_named(tmp_path: Path, aiohttp_client: Any) -> None:
    """docs/CONTRACTS.md: routes with a scope are never opened. A review found nothing enforcing
    it: a later open_to_browsers naming a token-bearing route would have opened it (and its
    preflight). The node now refuses to start so."""
    from node.routes import CORS_OPEN, open_to_browsers

    app = create_app(Config().replace(data_dir=tmp_path / "data", exempt_clients=("127.0.0.1",)))
    open_to_browsers(app, "/credentials/issue", method="POST")
    with pytest.raises(RuntimeError, match="POST /credentials/issue needs a token and cannot be opened"):
        await aiohttp_client(app)
    # And the node's own openings start: none names one.
    app = create_app(Config().replace(data_dir=tmp_path / "data2", exempt_clients=("127.0.0.1",)))
    await aiohttp_client(app)
    assert ("POST", "/credentials/verify") in app[CORS_OPEN]


async def test_a_rate_limited_browser_can_read_the_429_and_its_retry_after(tmp_path: Path, aiohttp_client: Any) -> None:
    config = Config().replace(data_dir=tmp_path / "data", rate_limit_per_second=1, rate_limit_burst=1, exempt_clients=())
    client = await aiohttp_client(create_app(config))
    assert (await client.get("/.well-known/did.json", headers=ORIGIN)).status == 200
    resp = await client.get("/.well-known/did.json", headers=ORIGIN)
    assert resp.status == 429 and resp.headers["Retry-After"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in resp.headers["Access-Control-Expose-Headers"].split(", ")


async def test_every_answer_says_nosniff_and_the_verify_preflight_allows_a_token(node: Any) -> None:
    for path in ("/.well-known/did.json", "/status/default/revocation/99", "/openapi.json", "/healthz"):
        assert (await node.get(path)).headers["X-Content-Type-Options"] == "nosniff", path
    resp = await node.post("/credentials/verify", data=b"{", headers=JSON_TYPE)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = await node.options("/credentials/verify", headers={**ORIGIN, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "authorization"})
    assert resp.status == 204 and "Authorization" in resp.headers["Access-Control-Allow-Headers"].split(", ")


async def test_preflights_allow_the_conditional_headers(node: Any) -> None:
    resp = await node.options("/status/default/revocation/1", headers={**ORIGIN, "Access-Control-Request-Method": "GET"})
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == "*"
    assert {"If-None-Match", "If-Match"} <= set(resp.headers["Access-Control-Allow-Headers"].split(", "))
    resp = await node.options("/credentials/verify", headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
    assert resp.status == 204 and "POST" in resp.headers["Access-Control-Allow-Methods"]


# --- 6. conditional requests: If-Match on status lists, ETag and If-None-Match on did.json --


async def test_a_did_document_has_a_strong_etag_and_answers_if_none_match(node: Any) -> None:
    for path in ("/.well-known/did.json",):
        resp = await node.get(path)
        etag = resp.headers["ETag"]
        assert resp.status == 200 and etag.startswith('"') and not etag.startswith("W/")
        assert (await node.get(path, headers={"If-None-Match": etag})).status == 304
        assert (await node.get(path, headers={"If-None-Match": f"W/{etag}"})).status == 304  # weak comparison
        assert (await node.get(path, headers={"If-None-Match": "*"})).status == 304  # RFC 9110 §13.1.2
        unchanged = await node.get(path, headers={"If-None-Match": etag, **ORIGIN})
        assert unchanged.headers["ETag"] == etag and unchanged.headers["Access-Control-Allow-Origin"] == "*"
        assert (await node.get(path, headers={"If-None-Match": '"other"'})).status == 200
        assert (await node.get(path, headers={"If-Match": '"other"'})).status == 412
        assert (await node.get(path, headers={"If-Match": etag})).status == 200
    assert (await node.get("/issuers/nobody/did.json", headers={"If-None-Match": "*"})).status == 404


async def test_a_status_list_evaluates_if_match(node: Any) -> None:
    path = await _issue_with_status(node, node.token)
    resp = await node.get(path)
    etag = resp.headers["ETag"]
    refused = await node.get(path, headers={"If-Match": '"not-the-current-one"'})
    problem = await _problem(refused, 412)
    assert problem["type"] == "urn:vcnode:problem:precondition-failed" and refused.headers["ETag"] == etag
    assert (await node.get(path, headers={"If-Match": etag})).status == 200
    assert (await node.get(path, headers={"If-Match": "*"})).status == 200
    assert (await node.get(path, headers={"If-Match": f"W/{etag}"})).status == 412  # strong comparison
    # If-Match is evaluated first (RFC 9110 §13.2.2): a failing one is a 412 even when If-None-Match would be a 304.
    assert (await node.get(path, headers={"If-Match": '"x"', "If-None-Match": etag})).status == 412
    assert (await node.get(path, headers={"If-Match": etag, "If-None-Match": etag})).status == 304

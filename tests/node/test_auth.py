"""node/auth.py: bearer tokens, scopes and issuer binding; 401 versus 403, each saying why."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from node import auth, problems
from node.auth import Grant

TOKENS = {
    "tok-issue-a": Grant("1", frozenset({"issue"}), "a"),
    "tok-status-a": Grant("2", frozenset({"status"}), "a"),
    "tok-issue-any": Grant("3", frozenset({"issue"}), None),
    "tok-admin": Grant("4", frozenset({"admin"}), None),
    "tok-admin-bound": Grant("5", frozenset({"admin"}), "a"),
    "tok-none": Grant("6", frozenset(), None),
}


async def _verify(token: str) -> Grant | None:
    return TOKENS.get(token)


async def _guarded(request: web.Request) -> web.Response:
    grant = await auth.authorize(request, scope=request.query["scope"], issuer=request.match_info["issuer"])
    return web.json_response({"token": grant.token_id})


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = web.Application()
    problems.setup(app)
    auth.setup(app, _verify)
    app.router.add_post("/{issuer}/op", _guarded)
    return await aiohttp_client(app)


async def _call(client: Any, issuer: str, scope: str, authorization: str | None) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await client.post(f"/{issuer}/op?scope={scope}", headers=headers)


@pytest.mark.parametrize(
    "issuer,scope,token,tid",
    [
        ("a", "issue", "tok-issue-a", "1"),
        ("a", "status", "tok-status-a", "2"),
        ("b", "issue", "tok-issue-any", "3"),
        ("b", "status", "tok-admin", "4"),
        ("b", "issue", "tok-admin-bound", "5"),  # admin is node-wide even when created with --issuer
    ],
)
async def test_a_token_with_the_right_scope_and_issuer_is_let_through(
    client: Any, issuer: str, scope: str, token: str, tid: str
) -> None:
    resp = await _call(client, issuer, scope, f"Bearer {token}")
    assert resp.status == 200, await resp.text()
    assert (await resp.json()) == {"token": tid}


async def test_the_bearer_scheme_is_case_insensitive(client: Any) -> None:
    assert (await _call(client, "a", "issue", "bearer tok-issue-a")).status == 200


@pytest.mark.parametrize(
    "authorization,says,error",
    [
        (None, "needs an API token", None),
        ("Basic dXNlcjpwYXNz", "does not use the Bearer scheme", "invalid_request"),
        ("tok-issue-a", "does not use the Bearer scheme", "invalid_request"),
        ("Bearer", "no single token", "invalid_request"),
        ("Bearer   ", "no single token", "invalid_request"),
        ("Bearer a b", "no single token", "invalid_request"),
        ("Bearer tok-unknown", "unknown to this node or was revoked", "invalid_token"),
    ],
)
async def test_no_usable_token_is_401_with_a_bearer_challenge(
    client: Any, authorization: str | None, says: str, error: str | None
) -> None:
    resp = await _call(client, "a", "issue", authorization)
    assert resp.status == 401
    assert resp.content_type == problems.PROBLEM_JSON
    body = await resp.json(content_type=None)
    assert says in body["detail"]
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="vcnode"')
    if error:
        assert f'error="{error}"' in challenge
    else:
        assert "error=" not in challenge  # RFC 6750 §3.1: no error code when no credentials were sent


SECRET = "vcn_0123456789abcdef_S3cr3tPartOfTheToken-xyzXYZ0123456789abcdefgh"


@pytest.mark.parametrize(
    "authorization",
    [
        SECRET,  # the token without "Bearer "
        f"Basic {SECRET}",
        f"Token {SECRET}",
        f"{SECRET} {SECRET}",
        f"Bearer {SECRET[:30]} {SECRET[30:]}",
        f"Bearer {SECRET}",  # well formed, unknown
        f"Bearer\t{SECRET}",
    ],
)
async def test_no_part_of_an_authorization_header_is_ever_echoed(client: Any, authorization: str, caplog: Any) -> None:
    resp = await _call(client, "a", "issue", authorization)
    assert resp.status == 401
    seen = await resp.text() + "".join(f"{k}: {v}" for k, v in resp.headers.items()) + caplog.text
    pieces = {SECRET[i : i + 8] for i in range(len(SECRET) - 7)}
    assert not [p for p in pieces if p in seen], seen


async def test_an_expired_token_is_refused_saying_so(aiohttp_client: Any) -> None:
    async def verify(token: str) -> Any:
        return auth.Rejection("the API token 9 expired at 2025-01-01T00:00:00Z; create a new one") if token == "old" else None

    app = web.Application()
    problems.setup(app)
    auth.setup(app, verify)
    app.router.add_post("/{issuer}/op", _guarded)
    client = await aiohttp_client(app)
    resp = await _call(client, "a", "issue", "Bearer old")
    assert resp.status == 401
    assert "expired at 2025-01-01T00:00:00Z" in (await resp.json(content_type=None))["detail"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


async def test_a_token_without_the_scope_is_403_naming_the_scope(client: Any) -> None:
    resp = await _call(client, "a", "issue", "Bearer tok-status-a")
    assert resp.status == 403
    body = await resp.json(content_type=None)
    assert "lacks the 'issue' scope" in body["detail"] and "status" in body["detail"]
    assert body["requiredScope"] == "issue"
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    assert 'scope="issue"' in resp.headers["WWW-Authenticate"]


async def test_a_token_bound_to_another_issuer_is_403_naming_both(client: Any) -> None:
    resp = await _call(client, "b", "issue", "Bearer tok-issue-a")
    assert resp.status == 403
    body = await resp.json(content_type=None)
    assert "bound to issuer 'a'" in body["detail"] and "issuer 'b'" in body["detail"]


async def test_a_token_with_no_scopes_is_refused(client: Any) -> None:
    resp = await _call(client, "a", "status", "Bearer tok-none")
    assert resp.status == 403
    assert "it has: none" in (await resp.json(content_type=None))["detail"]


def test_grant_rules() -> None:
    assert Grant("x", frozenset({"issue", "status"}), "a").allows("status", "a")
    assert not Grant("x", frozenset({"issue", "status"}), "a").allows("status", "b")
    assert not Grant("x", frozenset({"issue"}), None).allows("status", "a")
    assert Grant("x", frozenset({"admin"}), "a").allows("status", "z")

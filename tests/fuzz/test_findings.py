"""What the API fuzzing (tests/fuzz/test_openapi_fuzz.py, docs/reliability.md) found, each pinned
as an ordinary test through the node's HTTP API, every response checked against /openapi.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from node.app import create_app
from node.config import Config
from node.routes import NODE_KEY
from support import ResponseLog

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Any]:
    app = create_app(Config().replace(data_dir=tmp_path / "data"))
    log = ResponseLog(app)
    client = await aiohttp_client(app)
    client.token = (await app[NODE_KEY].tokens.create(["admin"])).token
    client.issuer = (await app[NODE_KEY].issuers.get("default")).did
    yield client
    log.check()


def _badge(id: str, achievement: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "@context": [V2, OB], "id": id, "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": "did:key:z6MkpGL58vgNYdStEgWEvdAnvM1qHPrvQXbJFLozvgzzb1uJ", "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"type": ["Achievement"], **achievement}}, **more,
    }


def _poisoned_stack(poison: str) -> str:
    part = _badge("urn:uuid:11111111-1111-4111-8111-111111111111", {"id": "urn:x", "name": "x", "extra": "POISON"})
    stack = _badge(
        "urn:uuid:22222222-2222-4222-8222-222222222222", {"id": "urn:y", "name": "y", "creditsAvailable": 5},
        relatedResource=[{"id": part["id"], "digestMultibase": "zQmNotTheDigest"}],
    )
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [stack, part]}
    # Written by hand: Python's json would not write the lone surrogate a hostile client can send.
    return json.dumps({"verifiablePresentation": vp, "options": {"challenge": "abc"}}).replace('"POISON"', poison)


async def test_a_presented_part_jcs_cannot_represent_is_a_failed_stack_not_a_500(client: Any) -> None:
    """POST /presentations/verify of a stack whose part holds an integer past 2**53 that no
    double holds (2**60 + 1, so JCS has no form for it): vc.edu.stacking.part_digest raised
    rfc8785's error through node/trust.py."""
    body = _poisoned_stack('{"big": 1152921504606846977}')
    resp = await client.post("/presentations/verify", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    result = await resp.json()
    (stack_check,) = [c for c in result["checks"] if c["check"] == "stack"]
    assert stack_check["outcome"] == "failed"
    assert [p["code"] for p in stack_check["problems"]][-1] == "STACK_PART_TAMPERED"
    assert "has no digest" in stack_check["message"]


async def test_a_part_with_a_lone_surrogate_key_is_refused_at_the_door(client: Any) -> None:
    """The same stack with a lone-surrogate key in the part: no I-JSON (RFC 7493 §2.1), so the
    body is refused before anything reads it (it reached part_digest, a 500, before that)."""
    resp = await client.post("/presentations/verify", data=_poisoned_stack('{"\\ud800": 1}'), headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    problem = await resp.json(content_type=None)
    assert "half of a surrogate pair" in problem["detail"], problem


async def test_a_part_jcs_cannot_represent_cannot_be_issued_nor_stacked(client: Any) -> None:
    """A whole number no double holds (2**60 + 1) is refused by eddsa-rdfc-2022 as by
    eddsa-jcs-2022 (JSON-LD processors that read doubles would verify another number). Such a
    part offered to POST /issuers/{name}/stacks (altered after signing) is a 422 naming it,
    where building the stack raised rfc8785's error when rdfc signed any integer."""
    auth = {"Authorization": f"Bearer {client.token}"}
    credential = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": client.issuer,
                  "credentialSubject": {"id": "did:example:ana", "name": 2**60 + 1}}
    resp = await client.post("/credentials/issue", json={"credential": credential, "options": {"statusPurposes": []}}, headers=auth)
    assert resp.status == 400, await resp.text()
    problem = await resp.json(content_type=None)
    assert problem["code"] == "PROOF_TRANSFORMATION_ERROR" and "1152921504606846977 is more precise than a double" in problem["detail"]
    credential["credentialSubject"]["name"] = 2**60  # a double: issued
    resp = await client.post("/credentials/issue", json={"credential": credential, "options": {"statusPurposes": []}}, headers=auth)
    assert resp.status == 201, await resp.text()
    part = (await resp.json())["verifiableCredential"]
    part["credentialSubject"]["name"] = 2**60 + 1
    resp = await client.post(
        "/issuers/default/stacks", json={"parts": [part], "achievement": {"name": "x", "description": "y"}}, headers=auth
    )
    assert resp.status == 422, await resp.text()
    problem = await resp.json(content_type=None)
    assert "1152921504606846977 is more precise than a double" in problem["detail"], problem


async def test_a_multipart_form_with_a_malformed_part_is_a_page_saying_so(client: Any) -> None:
    """POST /verify (the verifier page) with a multipart part whose headers do not parse: aiohttp
    raises its HttpProcessingError, not the ValueError the page caught."""
    body = b"--a2\r\n[]--a2--\r\n"
    resp = await client.post("/verify", data=body, headers={"Content-Type": "multipart/form-data; boundary=a2"})
    assert resp.status == 400 and resp.content_type == "text/html"
    assert "The form could not be read" in await resp.text()

"""Two real nodes on 127.0.0.1: an issuer node and a verifier node that knows nothing of it
except what it resolves over HTTP (the issuer's did:web document and its status list).

The issuer node's base URL is http://127.0.0.1:PORT, so its DID is did:web:127.0.0.1%3APORT and
plain HTTP is allowed for that host alone; the verifier is configured to allow exactly that
host:port. Tokens are made the way an operator makes them, with ``vcnode token create``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest

from running import RunningNode, bearer, start, vcnode

V2 = "https://www.w3.org/ns/credentials/v2"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
async def nodes(tmp_path: Path, unused_tcp_port_factory: Any) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    issuer_port, verifier_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    issuer = await start(tmp_path / "issuer", issuer_port, status_purposes=("revocation",))
    verifier = await start(tmp_path / "verifier", verifier_port, allow_insecure_hosts=(f"127.0.0.1:{issuer_port}",))
    try:
        yield issuer, verifier
    finally:
        await verifier.runner.cleanup()
        await issuer.runner.cleanup()



async def test_issue_verify_revoke_across_two_nodes(nodes: tuple[RunningNode, RunningNode]) -> None:
    issuer, verifier = nodes
    # The operator's commands name the same data folder and base URL as the running node.
    where = ("--data", str(issuer.data), "--base-url", issuer.url, "--json")
    await vcnode("issuer", "create", "faculty", *where)
    # Three operators at once: the store serialises their writes (WAL, busy timeout).
    made = await asyncio.gather(
        vcnode("token", "create", "--scopes", "issue,status", "--issuer", "default", *where),
        vcnode("token", "create", "--scopes", "status", *where),
        vcnode("token", "create", "--scopes", "issue,status", "--issuer", "faculty", *where),
    )
    issue_token, status_only, faculty_token = (m["token"] for m in made)
    port = issuer.url.rsplit(":", 1)[1]
    issuer_did = f"did:web:127.0.0.1%3A{port}"
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer_did,  # VC-API: the request names the issuer it signs as
        "credentialSubject": {"id": "did:example:student", "name": "Course completion"},
    }

    async with aiohttp.ClientSession() as http:
        # The issuer node publishes its did:web document where did:web says it lives.
        async with http.get(f"{issuer.url}/.well-known/did.json") as resp:
            assert resp.status == 200
            assert (await resp.json(content_type=None))["id"] == issuer_did

        # Refusals: no token, wrong scope, another issuer's token. Nothing is issued.
        async with http.post(f"{issuer.url}/credentials/issue", json={"credential": credential}) as resp:
            assert resp.status == 401 and resp.content_type == PROBLEM_JSON
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        async with http.post(f"{issuer.url}/credentials/issue", json={"credential": credential}, headers=bearer(status_only)) as resp:
            assert resp.status == 403 and "'issue' scope" in (await resp.json(content_type=None))["detail"]
        async with http.post(f"{issuer.url}/credentials/issue", json={"credential": credential}, headers=bearer(faculty_token)) as resp:
            assert resp.status == 403 and "bound to issuer 'faculty'" in (await resp.json(content_type=None))["detail"]

        # Issue with revocation status through the HTTP API.
        async with http.post(f"{issuer.url}/credentials/issue", json={"credential": credential}, headers=bearer(issue_token)) as resp:
            assert resp.status == 201, await resp.text()
            vc = (await resp.json())["verifiableCredential"]
        assert vc["issuer"] == issuer_did
        assert vc["proof"]["verificationMethod"].startswith(issuer_did + "#")
        entry = vc["credentialStatus"]
        assert entry["statusPurpose"] == "revocation" and entry["statusListCredential"].startswith(issuer.url + "/")

        # The verifier resolves the issuer's did:web and fetches its status list over HTTP.
        async with http.post(f"{verifier.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
            result = await resp.json()
            assert resp.status == 200, result
        assert result["verified"] is True
        assert [c["outcome"] for c in result["checks"] if c["check"] in ("proof", "status")] == ["passed", "passed"]

        # Another issuer's token cannot revoke it; the status-only token can.
        revoke = {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True}
        async with http.post(f"{issuer.url}/credentials/status", json=revoke, headers=bearer(faculty_token)) as resp:
            assert resp.status == 404
        async with http.post(f"{issuer.url}/credentials/status", json=revoke) as resp:
            assert resp.status == 401
        async with http.post(f"{issuer.url}/credentials/status", json=revoke, headers=bearer(status_only)) as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["status"] == "revoked"

        # The verifier's next check reports it revoked.
        async with http.post(f"{verifier.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
            result = await resp.json()
            assert resp.status == 400, result
        assert result["verified"] is False
        status_checks = [c for c in result["checks"] if c["check"] == "status"]
        assert [c["outcome"] for c in status_checks] == ["failed"], status_checks
        assert [c["check"] for c in result["checks"] if c["outcome"] != "passed"] == ["status"]
        # A verifier app that reads only `errors` learns why, too.
        assert [e["code"] for e in result["errors"]] == ["STATUS_CHECK_FAILED"]
        assert "revoked" in result["errors"][0]["detail"]

        # A malformed body never produces a 500, on either node.
        for url in (issuer.url, verifier.url):
            for path in ("/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status"):
                for body in (b"{", b"[]", b'{"credential": 5, "verifiableCredential": 5, "credentialId": 5}', b"\xff", b"[" * 4000):
                    async with http.post(url + path, data=body, headers={**bearer(issue_token), "Content-Type": "application/json"}) as resp:
                        assert 400 <= resp.status < 500, (url, path, body[:20], resp.status)
                        assert resp.content_type == PROBLEM_JSON


async def test_the_verifier_does_not_fetch_from_hosts_it_was_not_told_to_trust_over_http(
    nodes: tuple[RunningNode, RunningNode], tmp_path: Path, unused_tcp_port_factory: Any
) -> None:
    """A third node on another port: the verifier refuses plain HTTP to it, so its credential
    does not verify (and the answer is a verification result, not a server error)."""
    issuer, verifier = nodes
    other = await start(tmp_path / "other", unused_tcp_port_factory())
    try:
        token = (
            await vcnode("token", "create", "--scopes", "issue", "--data", str(other.data), "--base-url", other.url, "--json")
        )["token"]
        async with aiohttp.ClientSession() as http:
            other_did = "did:web:127.0.0.1%3A" + other.url.rsplit(":", 1)[1]
            credential = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": other_did, "credentialSubject": {"id": "did:example:x"}}
            async with http.post(f"{other.url}/credentials/issue", json={"credential": credential}, headers=bearer(token)) as resp:
                assert resp.status == 201, await resp.text()
                vc = (await resp.json())["verifiableCredential"]
            async with http.post(f"{other.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                assert resp.status == 200, await resp.text()  # its own node verifies it
            async with http.post(f"{verifier.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                result = await resp.json()
                assert resp.status == 400, result
            assert result["verified"] is False
            proof = [c for c in result["checks"] if c["check"] == "proof"]
            assert proof and proof[0]["outcome"] != "passed"
    finally:
        await other.runner.cleanup()


async def test_a_verifier_node_accepts_credentials_signed_right_after_the_issuer_rotates(
    nodes: tuple[RunningNode, RunningNode],
) -> None:
    """The verifier has cached the issuer's did:web document (5 minutes by its Cache-Control);
    after a rotation, a credential naming the new key makes it fetch the document again rather
    than refuse the issuer's new credentials until its copy expires."""
    issuer, verifier = nodes
    where = ("--data", str(issuer.data), "--base-url", issuer.url, "--json")
    token = (await vcnode("token", "create", "--scopes", "issue", "--issuer", "default", *where))["token"]
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "credentialSubject": {"id": "did:example:student", "name": "Course completion"},
    }

    async def issue_and_verify(http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.post(f"{issuer.url}/credentials/issue", json={"credential": credential}, headers=bearer(token)) as resp:
            assert resp.status == 201, await resp.text()
            vc = (await resp.json())["verifiableCredential"]
        async with http.post(f"{verifier.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
            return {"vc": vc, "result": await resp.json(content_type=None)}

    async with aiohttp.ClientSession() as http:
        before = await issue_and_verify(http)  # the verifier now holds the issuer's document
        assert before["result"]["verified"] is True, before["result"]
        rotated = await vcnode("issuer", "rotate-key", "default", *where)
        new_key = rotated["activeKey"]["id"]
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # the serving node learns of the other process's rotation within its bound
            after = await issue_and_verify(http)
            if after["vc"]["proof"]["verificationMethod"].endswith("#" + new_key):
                break
            assert asyncio.get_running_loop().time() < deadline, "the issuer never signed with the new key"
            await asyncio.sleep(0.2)
        assert after["result"]["verified"] is True, after["result"]

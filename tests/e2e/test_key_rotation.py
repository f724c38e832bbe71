"""Key rotation and retirement across processes: ``vcnode serve`` in one process, the operator's
``vcnode issuer rotate-key / retire-key / show`` in others, credentials verified by the node
and by the JavaScript reference stack (../shared/interop).

The node is served under a domain base URL (https://registry.example.edu, as behind a TLS
proxy) and listens on 127.0.0.1; the reference stack maps the did:web and the status lists to
that address with ``--did-web-base``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest

from running import ServedNode, bearer, cli, serve
from support import run_js

BASE = "https://registry.example.edu"
DID = "did:web:registry.example.edu"
V2 = "https://www.w3.org/ns/credentials/v2"
REFRESH_MS = 400  # the served node's issuer_refresh_ms: how stale its view of the keys may be


def unsigned(subject: str, issuer: str = DID) -> dict[str, Any]:
    return {"@context": [V2], "type": ["VerifiableCredential"], "issuer": issuer, "credentialSubject": {"id": subject}}


async def ok(*args: str) -> Any:
    code, out, err = await cli(*args)
    assert code == 0, err
    return json.loads(out) if out.strip().startswith(("{", "[")) else out


class Journey:
    def __init__(self, node: ServedNode, token: str, http: aiohttp.ClientSession, tmp: Path) -> None:
        self.node, self.token, self.http, self.tmp = node, token, http, tmp

    @property
    def where(self) -> tuple[str, ...]:
        return ("--data", str(self.node.data))

    async def issue(self, vc: dict[str, Any], expect: int = 201) -> Any:
        async with self.http.post(f"{self.node.url}/credentials/issue", json={"credential": vc}, headers=bearer(self.token)) as resp:
            body = await resp.json(content_type=None)
            assert resp.status == expect, body
            return body.get("verifiableCredential", body)

    async def verify(self, vc: dict[str, Any]) -> Any:
        async with self.http.post(f"{self.node.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
            return await resp.json(content_type=None)

    async def did_document(self) -> Any:
        async with self.http.get(f"{self.node.url}/.well-known/did.json") as resp:
            assert resp.status == 200
            return await resp.json(content_type=None)

    async def js_verify(self, vc: dict[str, Any]) -> tuple[int, Any]:
        path = self.tmp / f"vc-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(vc))
        return await run_js("verify.mjs", str(path), "--did-web-base", self.node.url, "--status")

    async def document_keys_within(self, predicate: Any, bound_s: float) -> tuple[list[str], float]:
        """The did:web document's keys once ``predicate`` holds, and how long that took."""
        start = time.monotonic()
        while True:
            keys = [vm["publicKeyMultibase"] for vm in (await self.did_document())["verificationMethod"]]
            if predicate(keys):
                return keys, time.monotonic() - start
            assert time.monotonic() - start < bound_s, f"the served document still has {keys} after {bound_s} s"
            await asyncio.sleep(0.05)


@pytest.fixture
async def journey(tmp_path: Path, unused_tcp_port: int) -> AsyncIterator[Journey]:
    data = tmp_path / "node"
    await ok("init", "--data", str(data), "--base-url", BASE, "--json")
    (data / "vcnode.toml").write_text(f'status_purposes = ["revocation"]\nissuer_refresh_ms = {REFRESH_MS}\n')
    token = (await ok("token", "create", "--scopes", "issue,status", "--data", str(data), "--json"))["token"]
    node = await serve(data, unused_tcp_port)
    try:
        async with aiohttp.ClientSession() as http:
            yield Journey(node, token, http, tmp_path)
    finally:
        await node.stop()


@pytest.mark.interop
async def test_credentials_from_before_and_after_a_rotation_verify_until_the_old_key_is_retired(journey: Journey) -> None:
    before = await journey.issue(unsigned("did:example:before"))
    old_key = before["proof"]["verificationMethod"].split("#")[1]
    assert before["proof"]["verificationMethod"] == f"{DID}#{old_key}"

    rotated = await ok("issuer", "rotate-key", "default", *journey.where, "--json")
    new_key = rotated["activeKey"]["id"]
    assert rotated["previousKey"]["id"] == old_key and new_key != old_key
    assert rotated["statusListsResigned"] == 1
    assert "cannot rotate" in rotated["didKey"]

    # Issued right after the rotation by the other process, before the server's cached view is
    # refreshed: the active key is read inside the issuance transaction, so the new key signs.
    after = await journey.issue(unsigned("did:example:after"))
    assert after["proof"]["verificationMethod"] == f"{DID}#{new_key}"
    # The served document learns the new key within the refresh bound, keeping the old one.
    keys, took = await journey.document_keys_within(lambda k: new_key in k, REFRESH_MS / 1000 + 2)
    assert keys == [new_key, old_key]
    document = await journey.did_document()
    assert document["assertionMethod"] == [f"{DID}#{new_key}", f"{DID}#{old_key}"]
    assert document["authentication"] == [f"{DID}#{new_key}"]
    # The status list was re-signed with the new key.
    async with journey.http.get(f"{journey.node.url}/status/default/revocation/1") as resp:
        assert (await resp.json(content_type=None))["proof"]["verificationMethod"] == f"{DID}#{new_key}"

    for vc in (before, after):
        result = await journey.verify(vc)
        assert result["verified"] is True, result
        code, out = await journey.js_verify(vc)
        assert code == 0 and out["verified"] is True and out["status"]["verified"] is True, out

    shown = await ok("issuer", "show", "default", *journey.where, "--json")
    assert [(k["id"], k["state"], k["signedCredentials"]) for k in shown["keys"]] == [
        (old_key, "superseded", 1), (new_key, "active", 1)
    ]
    text = await ok("issuer", "show", "default", *journey.where)
    assert f"{old_key}  active " in text and f"{new_key}  active since" in text

    # The active key cannot be retired.
    code, _, err = await cli("issuer", "retire-key", "default", new_key, *journey.where)
    assert code == 1 and "rotate first" in err

    retired = await ok("issuer", "retire-key", "default", old_key, *journey.where, "--json")
    assert retired["retiredNow"] is True and retired["key"]["state"] == "retired"
    await journey.document_keys_within(lambda k: k == [new_key], REFRESH_MS / 1000 + 2)
    # What the retired key signed under the did:web no longer verifies, here or in the reference stack.
    result = await journey.verify(before)
    assert result["verified"] is False
    assert any(e["type"].endswith("INVALID_VERIFICATION_METHOD") or "PROOF" in e["type"] for e in result["errors"]), result
    code, out = await journey.js_verify(before)
    assert code == 1 and out["verified"] is False, out
    # What the new key signed still does, status list included.
    assert (await journey.verify(after))["verified"] is True
    code, out = await journey.js_verify(after)
    assert code == 0 and out["verified"] is True, out
    shown = await ok("issuer", "show", "default", *journey.where, "--json")
    assert [k["state"] for k in shown["keys"]] == ["retired", "active"] and "retired" in shown["keys"][0]


async def test_a_did_key_cannot_rotate_and_a_compromised_key_is_revoked_in_one_command(journey: Journey) -> None:
    issuer = (await ok("issuer", "list", *journey.where, "--json"))["issuers"][0]
    old_did_key = issuer["dids"][1]
    by_web = [await journey.issue(unsigned(f"did:example:w{i}")) for i in range(2)]
    by_key = await journey.issue(unsigned("did:example:k", issuer=old_did_key))
    assert by_key["proof"]["verificationMethod"].startswith(old_did_key + "#")
    old_key = old_did_key.removeprefix("did:key:")

    rotated = await ok("issuer", "rotate-key", "default", *journey.where, "--json")
    new_did_key = rotated["activeKey"]["didKey"]
    text = (await ok("issuer", "list", *journey.where, "--json"))["issuers"][0]
    assert text["dids"] == [DID, new_did_key]
    # A credential naming the old did:key is refused, saying why; the new did:key issues.
    refused = await journey.issue(unsigned("did:example:k2", issuer=old_did_key), expect=400)
    assert "cannot rotate" in refused["detail"] and new_did_key in refused["detail"]
    fresh = await journey.issue(unsigned("did:example:k3", issuer=new_did_key))
    assert fresh["proof"]["verificationMethod"] == f"{new_did_key}#{rotated['activeKey']['id']}"

    # A compromise: list what the old key signed, without revoking, then revoke it all in one command.
    listed = await ok("issuer", "retire-key", "default", old_key, "--compromised", *journey.where, "--json")
    assert listed["key"]["compromised"] is True and listed["revoked"] == []
    assert sorted(c["id"] for c in listed["signedCredentials"]) == sorted(vc["id"] for vc in [*by_web, by_key])
    code, out, _ = await cli("issuer", "retire-key", "default", old_key, "--compromised", *journey.where)
    assert code == 0 and "--compromised --revoke" in out and by_key["id"] in out
    revoked = await ok("issuer", "retire-key", "default", old_key, "--compromised", "--revoke", *journey.where, "--json")
    assert revoked["retiredNow"] is False and sorted(revoked["revoked"]) == sorted(vc["id"] for vc in [*by_web, by_key])
    assert all(c["status"] == "revoked" for c in revoked["signedCredentials"])

    # The did:key credential's proof still verifies (a did:key cannot be retired) but it is revoked.
    result = await journey.verify(by_key)
    assert result["verified"] is False
    assert [c["outcome"] for c in result["checks"] if c["check"] == "proof"] == ["passed"]
    # Its list is signed by that did:key, i.e. by the retired key, whose secret was kept for it.
    assert [c["outcome"] for c in result["checks"] if c["check"] == "status"] == ["failed"], result
    assert revoked["keptForDidKeyLists"] is True
    # Those signed under the did:web fail on their proof now; the new key's credential is untouched.
    assert (await journey.verify(by_web[0]))["verified"] is False
    assert (await journey.verify(await journey.issue(unsigned("did:example:w3"))))["verified"] is True
    assert (await journey.verify(fresh))["verified"] is True  # the new did:key, its own lists


async def test_a_node_serves_another_process_rotation_within_the_refresh_bound_and_signs_lists_with_the_active_key(
    journey: Journey,
) -> None:
    vc = await journey.issue(unsigned("did:example:x"))
    for _ in range(2):
        rotated = await ok("issuer", "rotate-key", "default", *journey.where, "--json")
        _, took = await journey.document_keys_within(lambda k, key=rotated["activeKey"]["id"]: k[0] == key, REFRESH_MS / 1000 + 2)
        assert took <= REFRESH_MS / 1000 + 1.0  # the bound, plus the time the polling itself takes
    # A revocation through the server signs the list with the key now active, not one it cached.
    async with journey.http.post(
        f"{journey.node.url}/credentials/status", json={"credentialId": vc["id"], "status": "revoked"}, headers=bearer(journey.token)
    ) as resp:
        assert resp.status == 200, await resp.text()
    async with journey.http.get(f"{journey.node.url}/status/default/revocation/1") as resp:
        assert (await resp.json(content_type=None))["proof"]["verificationMethod"] == f"{DID}#{rotated['activeKey']['id']}"
    result = await journey.verify(vc)
    assert result["verified"] is False and [c["outcome"] for c in result["checks"] if c["check"] == "status"] == ["failed"]

"""The README's journey, as an operator types it, under a domain base URL.

The node is initialised as https://credentials.example.edu (behind a TLS reverse proxy in
production; here it listens on 127.0.0.1 and nothing resolves that name). Everything that
must work without the name resolving does: the node verifies its own credentials (its own
DIDs and status lists from its store), ``vcnode verify`` verifies them as the node in
./vcnode-data, and the JavaScript reference stack verifies them with the name mapped to the
listening address (``--did-web-base``), status included.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from running import bearer, cli, serve
from support import run_js

BASE = "https://credentials.example.edu"
V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.mark.interop
async def test_the_readme_journey_under_a_domain_base_url(tmp_path: Path, unused_tcp_port: int) -> None:
    async def vcnode(*args: str, expect: int = 0) -> tuple[str, str]:
        code, out, err = await cli(*args, cwd=tmp_path)  # in the operator's folder: ./vcnode-data
        assert code == expect, err
        return out, err

    out, _ = await vcnode("init", "--base-url", BASE)
    assert f"base URL: {BASE}" in out and "did:web:credentials.example.edu" in out
    out, _ = await vcnode("issuer", "create", "physics")
    assert "did:web:credentials.example.edu:issuers:physics" in out
    token, err = await vcnode("token", "create", "--scopes", "issue,status", "--issuer", "physics", "--expires", "90d")
    token = token.strip()
    assert "expires" in err
    # The name is kept: a later command without it is the same node, one with another refused.
    _, err = await vcnode("issuer", "list", "--base-url", "https://elsewhere.example.edu", expect=2)
    assert f"initialised as {BASE}" in err

    node = await serve(Path("vcnode-data"), unused_tcp_port, cwd=tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{node.url}/issuers/physics/did.json") as resp:
                assert (await resp.json(content_type=None))["id"] == "did:web:credentials.example.edu:issuers:physics"
            request = {
                "credential": {
                    "@context": [V2],
                    "type": ["VerifiableCredential"],
                    "issuer": "did:web:credentials.example.edu:issuers:physics",
                    "credentialSubject": {"id": "did:example:ada", "name": "Physics 101"},
                }
            }
            async with http.post(f"{node.url}/issuers/physics/credentials/issue", json=request, headers=bearer(token)) as resp:
                assert resp.status == 201, await resp.text()
                vc = (await resp.json())["verifiableCredential"]
            assert vc["issuer"] == "did:web:credentials.example.edu:issuers:physics"
            assert vc["credentialStatus"]["statusListCredential"] == f"{BASE}/status/physics/revocation/1"
            (tmp_path / "issued.json").write_text(json.dumps(vc))

            async def node_verifies() -> bool:
                async with http.post(f"{node.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                    return bool((await resp.json(content_type=None))["verified"])

            assert await node_verifies()
            _, err = await vcnode("verify", "issued.json")
            assert "verifying as the node in vcnode-data" in err and "verified: the credential passed every check" in err
            code, js = await run_js("verify.mjs", str(tmp_path / "issued.json"), "--did-web-base", node.url, "--status")
            assert code == 0 and js["verified"] is True and js["status"]["verified"] is True, js

            out, _ = await vcnode("revoke", vc["id"])
            assert json.loads(out)["status"] == "revoked"
            assert not await node_verifies()
            _, err = await vcnode("verify", "issued.json", expect=1)
            assert "revoked" in err
            code, js = await run_js("verify.mjs", str(tmp_path / "issued.json"), "--did-web-base", node.url, "--status")
            assert code == 1 and js["verified"] is False, js

            out, _ = await vcnode("backup", "backup.sqlite3")
            assert f"backup of {BASE}" in out and (tmp_path / "backup.sqlite3").exists()
    finally:
        log = await node.stop()
    assert f"base URL {BASE}" in log


async def test_the_default_node_verifies_its_own_credentials_on_its_machine(tmp_path: Path) -> None:
    """``http://localhost:8443``: the guarded client would not fetch its did:web (plain HTTP to a
    loopback address), so ``vcnode verify`` verifies as the node in ./vcnode-data."""
    code, out, err = await cli("init", cwd=tmp_path)
    assert code == 0 and "base URL: http://localhost:8443" in out, err
    (tmp_path / "c.json").write_text(json.dumps({
        "@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:ada"},
    }))
    code, out, err = await cli("issue", "c.json", cwd=tmp_path)
    assert code == 0, err
    vc = json.loads(out)
    assert vc["issuer"] == "did:web:localhost%3A8443"
    (tmp_path / "issued.json").write_text(out)
    code, _, err = await cli("verify", "issued.json", cwd=tmp_path)
    assert code == 0 and "verifying as the node in vcnode-data" in err, err
    # Without the node nothing can be resolved here, and the result says so rather than pass.
    code, out, err = await cli("verify", "issued.json", "--network-only", "--json", cwd=tmp_path)
    assert code == 1 and json.loads(out)["verified"] is False
    code, _, err = await cli("revoke", vc["id"], cwd=tmp_path)
    assert code == 0, err
    code, _, err = await cli("verify", "issued.json", cwd=tmp_path)
    assert code == 1 and "revoked" in err

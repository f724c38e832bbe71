"""API tokens through the real CLI and a served node: expiry, revocation, last use, and a token
never echoed, in a response or in the node's log."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

from running import bearer, cli, serve

V2 = "https://www.w3.org/ns/credentials/v2"
VC = {
    "@context": [V2], "type": ["VerifiableCredential"], "issuer": "did:web:registry.example.edu",
    "credentialSubject": {"id": "did:example:a"},
}


async def made(data: Path, *flags: str) -> dict:
    code, out, err = await cli("token", "create", "--scopes", "issue", "--data", str(data), "--json", *flags)
    assert code == 0, err
    return json.loads(out)


async def listed(data: Path) -> dict:
    code, out, err = await cli("token", "list", "--data", str(data))
    assert code == 0, err
    return {t["id"]: t for t in json.loads(out)["tokens"]}


async def test_tokens_expire_are_revoked_record_their_last_use_and_are_never_echoed(tmp_path: Path, unused_tcp_port: int) -> None:
    data = tmp_path / "node"
    assert (await cli("init", "--data", str(data), "--base-url", "https://registry.example.edu"))[0] == 0
    monthly = await made(data, "--expires", "30d")
    forever = await made(data)
    assert forever["expires"] is None
    code, _, err = await cli("token", "create", "--scopes", "issue", "--expires", "2001-01-01", "--data", str(data))
    assert code == 2 and "not in the future" in err
    node = await serve(data, unused_tcp_port)
    try:
        # Made beside the running node, a few seconds before it expires.
        soon = (datetime.now(timezone.utc) + timedelta(seconds=6)).replace(microsecond=0)
        short = await made(data, "--expires", soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert short["expires"] == soon.strftime("%Y-%m-%dT%H:%M:%SZ")
        async with aiohttp.ClientSession() as http:

            async def issue(headers: dict[str, str]) -> tuple[int, str]:
                async with http.post(f"{node.url}/credentials/issue", json={"credential": VC}, headers=headers) as resp:
                    return resp.status, await resp.text() + json.dumps(dict(resp.headers))

            for token in (short, monthly, forever):
                assert (await issue(bearer(token["token"])))[0] == 201
            # Sent without "Bearer ", or under another scheme: refused, and nothing of it comes back.
            for header in (forever["token"], f"Basic {forever['token']}", f"{forever['token']} x"):
                status, seen = await issue({"Authorization": header})
                assert status == 401 and "does not use the Bearer scheme" in seen
                secret = forever["token"].split("_", 2)[2]
                assert not any(secret[i : i + 8] in seen for i in range(len(secret) - 7)), seen

            # The last use is recorded (in the background, once a minute at most).
            for _ in range(50):
                tokens = await listed(data)
                if all(tokens[t["id"]]["lastUsed"] for t in (short, monthly, forever)):
                    break
                await asyncio.sleep(0.1)
            assert tokens[forever["id"]]["lastUsed"] and tokens[forever["id"]]["state"] == "active"

            # Revoked: refused at once, by the node that keeps serving.
            assert (await cli("token", "revoke", monthly["id"], "--data", str(data)))[0] == 0
            status, seen = await issue(bearer(monthly["token"]))
            assert status == 401 and "unknown to this node or was revoked" in seen
            # Expired: refused, saying when it expired.
            await asyncio.sleep(max(0.0, soon.timestamp() - time.time()) + 0.2)
            status, seen = await issue(bearer(short["token"]))
            assert status == 401 and f"expired at {short['expires']}" in seen
            assert (await issue(bearer(forever["token"])))[0] == 201
            tokens = await listed(data)
            assert [tokens[t["id"]]["state"] for t in (short, monthly, forever)] == ["expired", "revoked", "active"]
    finally:
        log = await node.stop()
    for token in (monthly, forever):
        secret = token["token"].split("_", 2)[2]
        assert not any(secret[i : i + 8] in log for i in range(len(secret) - 7))

"""Issued credentials can be found again (issue 12.3), through the real CLI and a served node:
GET /credentials/{id} for the issuing issuer only, a replayed idempotency key answering the
credential itself, `vcnode credentials show` and `purge` (bodies erased, records kept: the
credential can still be revoked), and keep_credentials off keeping nothing."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp

from crashkit import make_node, ok, token
from running import bearer, cli, clean_env, serve


async def test_a_kept_credential_is_found_again_by_its_issuer_only_until_purged(tmp_path: Path, unused_tcp_port_factory) -> None:
    data = await make_node(tmp_path)
    await ok("issuer", "create", "other", "--data", str(data))
    mine, theirs = await token(data), await token(data, issuer="other")
    award = {"achievementId": "ds-101", "learner": {"name": "Ana Andromeda", "email": "ana@example.org"}, "idempotencyKey": "enrolment-42"}
    node = await serve(data, unused_tcp_port_factory())
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{node.url}/issuers/default/microcredentials", json=award, headers=bearer(mine)) as resp:
                assert resp.status == 201, await resp.text()
                vc = (await resp.json())["verifiableCredential"]
            # The response is "lost": the same key hands back the very credential, signed once.
            async with http.post(f"{node.url}/issuers/default/microcredentials", json=award, headers=bearer(mine)) as resp:
                assert resp.status == 200
                assert await resp.json() == {"credentialId": vc["id"], "verifiableCredential": vc, "replayed": True}
            url = f"{node.url}/credentials/{quote(vc['id'], safe='')}"
            async with http.get(url, headers=bearer(mine)) as resp:
                assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
                assert await resp.json() == {"verifiableCredential": vc}
            # Another issuer's token cannot tell it from a credential that does not exist.
            for headers, status in ((bearer(theirs), 404), ({}, 401)):
                async with http.get(url, headers=headers) as resp:
                    assert resp.status == status and resp.content_type == "application/problem+json"
                    assert "Ana" not in await resp.text()
            async with http.get(f"{node.url}/credentials/urn:uuid:00000000-0000-4000-8000-000000000000", headers=bearer(mine)) as resp:
                assert resp.status == 404 and "was issued by issuer 'default'" in (await resp.json())["detail"]
            # A POST-only VC-API path is not taken for a credential id.
            async with http.get(f"{node.url}/credentials/verify") as resp:
                assert resp.status == 405
            async with http.get(f"{node.url}/openapi.json") as resp:
                operation = (await resp.json())["paths"]["/credentials/{id}"]["get"]
            assert operation["operationId"] == "getCredential" and {"404", "410"} <= set(operation["responses"])

            # The CLI, beside the serving node: the credential as issued, then erased.
            shown = json.loads(await ok("credentials", "show", vc["id"], "--data", str(data)))
            assert shown == vc
            assert json.loads(await ok("credentials", "show", vc["id"], "--json", "--data", str(data))) == {"verifiableCredential": vc}
            out = json.loads(await ok("credentials", "purge", "--id", vc["id"], "--json", "--data", str(data)))
            assert out == {"erased": 1}
            async with http.get(url, headers=bearer(mine)) as resp:
                problem = await resp.json()
                # VCALM getCredential: 410 "Gone! There is no data here" (the id is known).
                assert resp.status == 410 and "erased on" in problem["detail"] and "Ana" not in json.dumps(problem)
                assert problem["bodyKept"] is False
            # The replay names it without a body; the record stays, so it can still be revoked.
            async with http.post(f"{node.url}/issuers/default/microcredentials", json=award, headers=bearer(mine)) as resp:
                assert resp.status == 200 and await resp.json() == {"credentialId": vc["id"], "replayed": True}
            revoked = json.loads(await ok("revoke", vc["id"], "--data", str(data)))
            assert revoked["status"] == "revoked"
    finally:
        await node.stop()
    code, _, err = await cli("credentials", "show", vc["id"], "--data", str(data))
    assert code == 1 and "erased on" in err
    listed = json.loads(await ok("credentials", "--data", str(data)))["credentials"]
    assert [c["id"] for c in listed] == [vc["id"]] and listed[0]["status"] == "revoked"


async def test_purge_older_than_and_by_subject_keep_the_records(tmp_path: Path) -> None:
    data = await make_node(tmp_path)
    unsigned = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
    files = []
    for i, subject in enumerate(("did:example:ana", "did:example:bo", "did:example:ana")):
        f = tmp_path / f"c{i}.json"
        f.write_text(json.dumps({**unsigned, "credentialSubject": {"id": subject}}))
        files.append(f)
    ana = [json.loads(await ok("issue", str(files[0]), "--data", str(data)))]
    bo = json.loads(await ok("issue", str(files[1]), "--data", str(data)))
    await asyncio.sleep(1.1)  # the store's times have one-second resolution
    ana.append(json.loads(await ok("issue", str(files[2]), "--data", str(data))))
    # A learner's: both of Ana's, nothing of Bo's.
    assert json.loads(await ok("credentials", "purge", "--subject", "did:example:ana", "--json", "--data", str(data))) == {"erased": 2}
    assert json.loads(await ok("credentials", "show", bo["id"], "--data", str(data))) == bo
    # By age: Bo's is older than 0 days once a second has passed.
    await asyncio.sleep(1.1)
    _, out, _ = await cli("credentials", "purge", "--older-than", "0", "--data", str(data))
    assert out.startswith("erased 1 credential body")
    code, _, err = await cli("credentials", "purge", "--data", str(data))
    assert code == 2 and "--older-than" in err
    records = json.loads(await ok("credentials", "list", "--data", str(data)))["credentials"]
    assert sorted(r["id"] for r in records) == sorted([a["id"] for a in ana] + [bo["id"]])


async def test_with_keep_credentials_off_nothing_is_kept(tmp_path: Path) -> None:
    data = await make_node(tmp_path)
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:ana"}}))
    vc = json.loads(await ok("issue", str(f), "--data", str(data), env=clean_env(VCNODE_KEEP_CREDENTIALS="false")))
    code, _, err = await cli("credentials", "show", vc["id"], "--data", str(data))
    assert code == 1 and "not kept (keep_credentials was off" in err
    code, _, err = await cli("credentials", "show", vc["id"], "--data", str(data), env=clean_env(VCNODE_RETENTION_DAYS="-1"))
    assert code == 2 and "retention_days" in err

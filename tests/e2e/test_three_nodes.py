"""Three real nodes on 127.0.0.1: an accreditation body, a university and a verifier.

Each node is an in-process aiohttp server on its own port with did:web of its base URL; the
verifier reaches the other two over plain HTTP because it is told to allow exactly their
host:port. The verifier knows the body only by its DID (``vcnode trust add``) and finds the
university's accreditation beside the university's DID document.

Shown: accredited university → micro-credential reported accredited; the body revokes the
accreditation → the verifier's next check reports not accredited; a stack of three
micro-credentials verifies with the right ECTS total; stacks with a revoked, tampered, missing
or duplicated part are refused with the reason.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest

from did.key import did_key_from_public_key
from running import RunningNode, start, vcnode
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader
from vc.presentations import create_presentation, sign_presentation
from vc.edu.stacking import part_digest


@pytest.fixture
async def nodes(tmp_path: Path, unused_tcp_port_factory: Any) -> AsyncIterator[tuple[RunningNode, RunningNode, RunningNode]]:
    ports = [unused_tcp_port_factory() for _ in range(3)]
    hosts = tuple(f"127.0.0.1:{p}" for p in ports)
    body = await start(tmp_path / "body", ports[0], status_purposes=("revocation",))
    uni = await start(tmp_path / "uni", ports[1], status_purposes=("revocation",), allow_insecure_hosts=hosts)
    verifier = await start(tmp_path / "verifier", ports[2], allow_insecure_hosts=hosts)
    try:
        for n in (body, uni):
            n.token = (await vcnode("token", "create", "--scopes", "issue,status", "--issuer", "default", *n.where()))["token"]
        yield body, uni, verifier
    finally:
        for n in (verifier, uni, body):
            await n.runner.cleanup()


class Client:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def post(self, node: RunningNode, path: str, body: Any, *, auth: bool = True) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {node.token}"} if auth else {}
        async with self.http.post(node.url + path, json=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


COURSE = {
    "description": "A module of the Certificate in Data Science.",
    "learningOutcomes": ["Apply the module's methods to real data"],
    "assessment": {"type": "written examination"},
    "participation": "online",
    "qualityAssurance": {"description": "Institutional accreditation", "url": "https://body.example/decisions/1"},
    "awardingBody": {"name": "University of Example", "countryCode": "NL"},
}


async def test_accreditation_and_stacks_across_three_nodes(nodes: tuple[RunningNode, RunningNode, RunningNode]) -> None:
    body, uni, verifier = nodes
    # The verifier trusts the accreditation body, by DID only (the operator's command).
    trusted = await vcnode("trust", "add", body.did, "--label", "Accreditation body", *verifier.where())
    assert trusted["did"] == body.did

    holder_key = Ed25519KeyPair.generate()
    holder = did_key_from_public_key(holder_key.public_key)
    holder_vm = f"{holder}#{holder_key.public_multibase}"
    learner = {"name": "Ana Andromeda", "id": holder}

    async with aiohttp.ClientSession() as http:
        api = Client(http)

        async def micro(slug: str, ects: float, eqf: int) -> dict[str, Any]:
            status, out = await api.post(uni, "/issuers/default/achievements", {**COURSE, "slug": slug, "title": f"Module {slug}", "ects": ects, "eqfLevel": eqf})
            assert status == 201, out
            status, out = await api.post(uni, "/issuers/default/microcredentials", {"achievementId": slug, "learner": learner})
            assert status == 201, out
            return out["verifiableCredential"]

        async def verify(vc: dict[str, Any]) -> tuple[int, Any]:
            return await api.post(verifier, "/credentials/verify", {"verifiableCredential": vc}, auth=False)

        async def present(credentials: list[dict[str, Any]], suite: str = "eddsa-rdfc-2022") -> tuple[int, Any]:
            async with http.post(verifier.url + "/challenges") as resp:
                challenge = (await resp.json())["challenge"]
            vp = sign_presentation(
                create_presentation(credentials, holder=holder),
                key=holder_key,
                verification_method=holder_vm,
                suite=SUITES[suite],
                loader=default_loader(),
                now=datetime.now(timezone.utc),
                challenge=challenge,
            )
            return await api.post(verifier, "/presentations/verify", {"verifiablePresentation": vp, "options": {"challenge": challenge}}, auth=False)

        async def revoke(node: RunningNode, credential_id: str) -> None:
            status, out = await api.post(node, "/credentials/status", {"credentialId": credential_id, "status": "revoked"})
            assert status == 200, out

        # Before any accreditation: the university publishes none, so not accredited.
        mc = await micro("ds1", 5, 6)
        status, result = await verify(mc)
        assert status == 200 and result["accreditation"]["status"] == "not-accredited", result["accreditation"]

        # The body accredits the university (issued with a revocation entry on the body's node);
        # the university stores it, and publishes it beside its DID document.
        status, out = await api.post(body, "/issuers/default/accredit", {"organisation": uni.did, "organisationName": "University of Example", "scope": {"eqfLevels": [5, 6], "jurisdictions": ["NL"]}, "expiryDate": "2040-01-01", "decision": "https://body.example/decisions/1"})
        assert status == 201, out
        accreditation = out["verifiableCredential"]
        assert accreditation["issuer"] == body.did and accreditation["credentialStatus"]["statusListCredential"].startswith(body.url)
        status, out = await api.post(uni, "/issuers/default/accreditations", {"verifiableCredential": accreditation})
        assert status == 201, out
        async with http.get(uni.url + "/.well-known/accreditations.json") as resp:
            assert resp.status == 200 and (await resp.json())["verifiableCredential"] == [accreditation]

        # The verifier reports the micro-credential's issuer accredited: by whom, scope, period.
        status, result = await verify(mc)
        report = result["accreditation"]
        assert status == 200 and report["status"] == "accredited", report
        assert report["accreditedBy"] == body.did and report["issuer"] == uni.did
        assert report["scope"] == {"eqfLevels": [5, 6], "jurisdictions": ["NLD"]} and report["revoked"] is False
        assert report["validPeriod"]["validUntil"] == "2040-01-01T00:00:00Z"
        assert result["microcredential"]["complete"] is True

        # A stack of three micro-credentials, issued by the university from parts it verified.
        parts = [mc, await micro("ds2", 2.5, 5), await micro("ds3", 2.5, 6)]
        status, out = await api.post(uni, "/issuers/default/stacks", {"parts": parts, "achievement": {"name": "Certificate in Data Science", "description": "Three modules, 10 ECTS."}, "totalEcts": 10, "eqfLevel": 6})
        assert status == 201, out
        stack = out["verifiableCredential"]
        assert [r["id"] for r in stack["relatedResource"]] == [p["id"] for p in parts]

        status, result = await present([stack, *parts])
        assert status == 200, result
        stacked = result["stacks"][0]
        assert stacked["verified"] is True and stacked["sumEcts"] == 10 and stacked["statedTotalEcts"] == 10
        assert stacked["ectsByEqfLevel"] == {"5": 2.5, "6": 7.5}
        assert [r["accreditation"]["status"] for r in result["credentialResults"]] == ["accredited"] * 4

        # Refused with the reason: missing, tampered, duplicated parts.
        status, result = await present([stack, parts[0], parts[2]])
        assert status == 400 and result["stacks"][0]["problems"][0]["code"] == "STACK_PART_MISSING"
        assert parts[1]["id"] in result["stacks"][0]["problems"][0]["message"]
        tampered = copy.deepcopy(parts[1])
        tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 7.5
        status, result = await present([stack, parts[0], tampered, parts[2]])
        assert status == 400 and [p["code"] for p in result["stacks"][0]["problems"]] == ["STACK_PART_TAMPERED"]
        # A stack that counts the same achievement twice (signed by a careless issuer through
        # the plain issue endpoint, since /stacks refuses to build it) is refused on verification.
        status, out = await api.post(uni, "/issuers/default/microcredentials", {"achievementId": "ds1", "learner": learner})
        assert status == 201, out
        again = out["verifiableCredential"]
        status, out = await api.post(uni, "/issuers/default/stacks", {"parts": [*parts, again], "achievement": {"name": "x", "description": "y"}})
        assert status == 422 and "STACK_PART_DUPLICATED" in json.dumps(out["problems"])
        doubled = {k: v for k, v in copy.deepcopy(stack).items() if k not in ("proof", "credentialStatus", "id")}
        doubled["relatedResource"].append({"id": again["id"], "digestMultibase": part_digest(again), "mediaType": "application/vc"})
        doubled["credentialSubject"]["achievement"]["creditsAvailable"] = 15
        status, out = await api.post(uni, "/credentials/issue", {"credential": doubled})
        assert status == 201, out
        # Two awards of one achievement in one presentation: near-identical graphs, which
        # RDFC-1.0 tells apart (the permutation limit once refused them; it now counts what it walks).
        status, result = await present([out["verifiableCredential"], *parts, again])
        assert status == 400 and [p["code"] for p in result["stacks"][0]["problems"]] == ["STACK_PART_DUPLICATED"]

        # A revoked part: refused at issue (422) and in a presentation.
        await revoke(uni, parts[2]["id"])
        status, out = await api.post(uni, "/issuers/default/stacks", {"parts": parts, "achievement": {"name": "x", "description": "y"}})
        assert status == 422 and out["parts"][0]["id"] == parts[2]["id"], out
        status, result = await present([stack, *parts])
        assert status == 400
        problems = result["stacks"][0]["problems"]
        assert [p["code"] for p in problems] == ["STACK_PART_FAILED"] and problems[0]["part"] == parts[2]["id"]
        assert "status failed" in problems[0]["message"]

        # The body withdraws the accreditation: the verifier's next check says not accredited.
        await revoke(body, accreditation["id"])
        status, result = await verify(mc)
        report = result["accreditation"]
        assert status == 200 and report["status"] == "not-accredited", report
        link = report["failedLinks"][0]
        assert link["link"] == 1 and link["accreditedBy"] == body.did and link["credentialId"] == accreditation["id"]
        assert any(r.startswith("revoked") for r in link["reasons"]), link
        # ...and a stack of its credentials no longer counts.
        status, result = await present([stack, parts[0], parts[1]])
        assert status == 400
        assert "not-accredited" in json.dumps(result["stacks"][0]["problems"])

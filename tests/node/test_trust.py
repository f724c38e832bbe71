"""Accreditation and stacking on one real node hosting several issuers (an agency, a QA body,
a university): accreditations issued through the normal path and published beside the DID
document, chains followed and the failed link named, depth bound, stacks issued and verified."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from support import ResponseLog

from did.key import did_key_from_public_key
from node import trust
from node.app import create_app
from postgres_server import stores  # noqa: F401  (the fixture)
from node.cli import main
from node.config import Config
from node.routes import NODE_KEY
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader
from vc.presentations import create_presentation, sign_presentation


def course(slug: str, ects: float, eqf: int) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Module {slug}",
        "description": "A module of the certificate.",
        "learningOutcomes": ["Apply the module's methods"],
        "ects": ects,
        "eqfLevel": eqf,
        "fieldOfStudy": "0613",
        "assessment": {"type": "written examination"},
        "participation": "online",
        "qualityAssurance": {"description": "Programme accreditation", "url": "https://qa.example/decisions/1"},
        "awardingBody": {"name": "University of Example", "countryCode": "NL"},
    }


class Node:
    def __init__(self, client: Any, core: Any, token: str) -> None:
        self.client, self.core, self.token = client, core, token

    async def post(self, path: str, body: Any, *, auth: bool = True) -> tuple[int, Any]:
        resp = await self.client.post(path, json=body, headers={"Authorization": f"Bearer {self.token}"} if auth else {})
        return resp.status, await resp.json(content_type=None)

    async def did(self, name: str) -> str:
        return (await self.core.issuers.get(name)).did

    async def accredit(self, body: str, organisation: str, **kw: Any) -> dict[str, Any]:
        status, out = await self.post(f"/issuers/{body}/accredit", {"organisation": await self.did(organisation), **kw})
        assert status == 201, out
        vc = out["verifiableCredential"]
        status, stored = await self.post(f"/issuers/{organisation}/accreditations", {"verifiableCredential": vc})
        assert status == 201, stored
        return vc

    async def microcredential(self, slug: str, ects: float = 5, eqf: int = 6, learner: dict[str, Any] | None = None) -> dict[str, Any]:
        status, out = await self.post("/issuers/uni/achievements", course(slug, ects, eqf))
        assert status in (201, 409), out
        status, out = await self.post("/issuers/uni/microcredentials", {"achievementId": slug, "learner": learner or {"name": "Ana Andromeda"}})
        assert status == 201, out
        return out["verifiableCredential"]

    async def verify(self, vc: dict[str, Any]) -> tuple[int, Any]:
        return await self.post("/credentials/verify", {"verifiableCredential": vc}, auth=False)

    async def revoke(self, credential_id: str) -> None:
        status, out = await self.post("/credentials/status", {"credentialId": credential_id, "status": "revoked"})
        assert status == 200, out


@pytest.fixture
async def node(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any, stores: Any) -> Any:
    """A node on each backend (tests/postgres_server.py)."""
    port = unused_tcp_port_factory()
    database_url = stores.where if stores.backend == "postgresql" else None
    cfg = Config().replace(
        data_dir=tmp_path / "data", host="127.0.0.1", port=port, status_purposes=("revocation",), database_url=database_url
    )
    app = create_app(cfg)
    responses = ResponseLog(app)
    client = await aiohttp_client(app, server_kwargs={"host": "127.0.0.1", "port": port})
    core = app[NODE_KEY]
    for name in ("national", "qa", "uni"):
        await core.issuers.create(name)
    token = (await core.tokens.create(["admin"])).token
    yield Node(client, core, token)
    responses.check()  # every response here is what /openapi.json says it is


def test_trusted_bodies_are_stored_and_managed_by_the_cli(tmp_path: Path, capsys: Any) -> None:
    data = str(tmp_path / "v")
    assert main(["init", "--data", data]) == 0
    assert main(["trust", "add", "did:web:agency.example", "--label", "Agency", "--data", data]) == 0
    assert main(["trust", "add", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "--data", data]) == 0
    assert main(["trust", "add", "agency.example", "--data", data]) == 2
    capsys.readouterr()
    assert main(["trust", "list", "--json", "--data", data]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [b["did"] for b in listed["trustedBodies"]] == ["did:web:agency.example", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"]
    assert listed["trustedBodies"][0]["label"] == "Agency" and listed["maxDepth"] == 3
    assert main(["trust", "remove", "did:web:agency.example", "--data", data]) == 0
    assert main(["trust", "remove", "did:web:agency.example", "--data", data]) == 1


async def test_accreditation_is_issued_with_revocation_status_and_published_beside_the_did_document(node: Node) -> None:
    vc = await node.accredit("national", "uni", organisationName="University of Example", scope={"eqfLevels": [5, 6, 7]}, expiryDate="2040-01-01")
    assert vc["type"] == ["VerifiableCredential", "VerifiableAccreditation", "VerifiableAccreditationToAttest"]
    assert vc["credentialStatus"]["statusPurpose"] == "revocation"
    assert vc["credentialSubject"]["accreditation"]["limitEQFLevel"][0] == "http://data.europa.eu/snb/eqf/5"
    published = await node.client.get("/issuers/uni/accreditations.json")
    assert published.status == 200 and published.headers["Access-Control-Allow-Origin"] == "*"
    doc = await published.json()
    assert doc["holder"] == await node.did("uni") and doc["verifiableCredential"] == [vc]
    # the default issuer's list sits beside /.well-known/did.json, empty here
    assert (await (await node.client.get("/.well-known/accreditations.json")).json())["verifiableCredential"] == []
    # refusals: about another issuer, tampered, not an accreditation, no token
    status, out = await node.post("/issuers/qa/accreditations", {"verifiableCredential": vc})
    assert status == 422 and "not issuer 'qa'" in out["detail"]
    bad = copy.deepcopy(vc)
    bad["credentialSubject"]["accreditation"]["limitEQFLevel"] = ["http://data.europa.eu/snb/eqf/8"]
    status, out = await node.post("/issuers/uni/accreditations", {"verifiableCredential": bad})
    assert status == 422 and "does not verify" in out["detail"]
    status, out = await node.post("/issuers/uni/accreditations", {"verifiableCredential": {"type": ["VerifiableCredential"]}})
    assert status == 422
    status, _ = await node.post("/issuers/uni/accreditations", {"verifiableCredential": vc}, auth=False)
    assert status == 401
    status, out = await node.post("/issuers/national/accredit", {"organisation": "not-a-did"})
    assert status == 400 and "DID" in out["detail"]


@pytest.mark.parametrize("code", ["XX", "nl"])
async def test_accreditation_scope_jurisdiction_must_be_a_real_country(node: Node, code: str) -> None:
    status, out = await node.post("/issuers/national/accredit", {"organisation": await node.did("uni"), "scope": {"jurisdictions": [code]}})
    assert status == 400 and f"scope.jurisdictions: {code!r} is not the code of a country" in out["detail"], out

async def test_direct_accreditation_reported_then_withdrawn(node: Node) -> None:
    mc = await node.microcredential("ds1")
    status, out = await node.verify(mc)
    assert status == 200 and out["accreditation"]["status"] == "not-assessed"  # trusts nobody yet
    await node.core.trust.add_trusted_body(await node.did("national"))
    status, out = await node.verify(mc)
    assert status == 200 and out["accreditation"]["status"] == "not-accredited"
    assert "publishes no accreditation" in out["accreditation"]["reason"]
    acc = await node.accredit("national", "uni", scope={"eqfLevels": [6], "fields": ["06"], "jurisdictions": ["NL"]}, expiryDate="2040-01-01")
    status, out = await node.verify(mc)
    report = out["accreditation"]
    assert status == 200 and report["status"] == "accredited", report
    assert report["accreditedBy"] == await node.did("national") and report["trustedBody"] == report["accreditedBy"]
    assert report["scope"] == {"eqfLevels": [6], "fields": ["06"], "jurisdictions": ["NLD"]}
    assert report["validPeriod"]["expiryDate"] == "2040-01-01T00:00:00Z" and report["revoked"] is False
    # outside the scope: EQF 7
    status, out = await node.verify(await node.microcredential("ds7", eqf=7))
    assert out["accreditation"]["status"] == "not-accredited"
    assert "EQF level 7 is outside the accredited levels 6" in out["accreditation"]["reason"]
    # withdrawn: the next check says so, naming the link and the revocation
    await node.revoke(acc["id"])
    status, out = await node.verify(mc)
    report = out["accreditation"]
    assert status == 200 and report["status"] == "not-accredited"  # the credential itself still verifies
    assert report["failedLinks"][0]["link"] == 1 and report["failedLinks"][0]["credentialId"] == acc["id"]
    assert any(r.startswith("revoked") for r in report["failedLinks"][0]["reasons"]), report


async def test_chain_national_qa_university_and_the_failed_middle_link_named(node: Node) -> None:
    national, qa, uni = [await node.did(n) for n in ("national", "qa", "uni")]
    await node.core.trust.add_trusted_body(national, label="National agency")
    middle = await node.accredit("national", "qa", kind="accredit", scope={"eqfLevels": [5, 6]})
    await node.accredit("qa", "uni", scope={"eqfLevels": [6, 7]})
    mc = await node.microcredential("chain6")
    status, out = await node.verify(mc)
    report = out["accreditation"]
    assert report["status"] == "accredited", report
    assert [(l["link"], l["organisation"], l["accreditedBy"]) for l in report["chain"]] == [(1, uni, qa), (2, qa, national)]
    assert report["trustedBody"] == national and report["accreditedBy"] == qa
    # EQF 7: the university's own accreditation allows it, the QA agency's does not (link 2)
    status, out = await node.verify(await node.microcredential("chain7", eqf=7))
    failed = out["accreditation"]["failedLinks"]
    assert out["accreditation"]["status"] == "not-accredited" and [l["link"] for l in failed] == [2]
    assert "link 2 (" + national + " accrediting " + qa in out["accreditation"]["reason"]
    # the depth bound: one link only reaches the QA agency, which is not trusted
    verifier = await node.core.trust.verifier()
    verifier.max_depth = 1
    bounded = (await verifier.assess(mc)).to_json()
    assert bounded["status"] == "not-accredited" and "no trusted body within 1 accreditation link" in bounded["reason"]
    # the middle link withdrawn: named as link 2, revoked
    await node.revoke(middle["id"])
    status, out = await node.verify(mc)
    report = out["accreditation"]
    assert report["status"] == "not-accredited", report
    bad = [l for l in report["failedLinks"] if l["link"] == 2]
    assert bad and bad[0]["organisation"] == qa and bad[0]["accreditedBy"] == national
    assert any(r.startswith("revoked") for r in bad[0]["reasons"])
    assert f"link 2 ({national} accrediting {qa}, credential {middle['id']}): revoked" in report["reason"]


async def test_a_body_accredited_only_to_attest_cannot_accredit(node: Node) -> None:
    await node.core.trust.add_trusted_body(await node.did("national"))
    await node.accredit("national", "qa", kind="attest")
    await node.accredit("qa", "uni")
    status, out = await node.verify(await node.microcredential("x1"))
    assert out["accreditation"]["status"] == "not-accredited"
    assert "may issue credentials but not accredit others" in out["accreditation"]["reason"]


def holder() -> tuple[Ed25519KeyPair, str, str]:
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    return key, did, f"{did}#{key.public_multibase}"


async def present(node: Node, credentials: list[dict[str, Any]], key: Any, did: str, vm: str) -> tuple[int, Any]:
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = sign_presentation(
        create_presentation(credentials, holder=did),
        key=key,
        verification_method=vm,
        suite=SUITES["eddsa-rdfc-2022"],
        loader=default_loader(),
        now=node.core.clock(),
        challenge=challenge,
    )
    return await node.post("/presentations/verify", {"verifiablePresentation": vp, "options": {"challenge": challenge}}, auth=False)


async def test_stack_issued_from_verified_parts_and_verified_in_a_presentation(node: Node) -> None:
    await node.core.trust.add_trusted_body(await node.did("national"))
    await node.accredit("national", "uni")
    key, did, vm = holder()
    learner = {"name": "Ana Andromeda", "id": did}
    parts = [await node.microcredential(s, e, q, learner) for s, e, q in (("m1", 5, 6), ("m2", 2.5, 5), ("m3", 2.5, 6))]
    status, out = await node.post("/issuers/uni/stacks", {"parts": parts, "achievement": {"name": "Certificate in Data Science", "description": "Three modules."}, "totalEcts": 10})
    assert status == 201, out
    stack = out["verifiableCredential"]
    assert stack["credentialSubject"]["achievement"]["creditsAvailable"] == 10
    assert stack["credentialStatus"]["statusPurpose"] == "revocation"
    assert [p["accreditation"] for p in out["parts"]] == ["accredited"] * 3

    status, result = await present(node, [stack, *parts], key, did, vm)
    assert status == 200, result
    check = next(c for c in result["checks"] if c["check"] == "stack")
    assert check["outcome"] == "passed" and check["sumEcts"] == 10
    assert result["stacks"][0]["ectsByEqfLevel"] == {"5": 2.5, "6": 7.5}
    assert [r["accreditation"]["status"] for r in result["credentialResults"]] == ["accredited"] * 4

    # missing part
    status, result = await present(node, [stack, parts[0], parts[2]], key, did, vm)
    assert status == 400 and result["stacks"][0]["problems"][0]["code"] == "STACK_PART_MISSING"
    assert result["stacks"][0]["problems"][0]["part"] == parts[1]["id"]
    # tampered part
    bad = copy.deepcopy(parts[1])
    bad["credentialSubject"]["achievement"]["creditsAvailable"] = 7.5
    status, result = await present(node, [stack, parts[0], bad, parts[2]], key, did, vm)
    assert status == 400 and [p["code"] for p in result["stacks"][0]["problems"]] == ["STACK_PART_TAMPERED"]
    # duplicated at issue: the same part twice, or the same achievement awarded twice
    status, out = await node.post("/issuers/uni/stacks", {"parts": [parts[0], parts[0]], "achievement": {"name": "x", "description": "y"}})
    assert status == 422 and "STACK_PART_DUPLICATED" in str(out["problems"])
    again = await node.microcredential("m1", 5, 6, learner)
    status, out = await node.post("/issuers/uni/stacks", {"parts": [parts[0], again], "achievement": {"name": "x", "description": "y"}})
    assert status == 422 and "awards achievement" in out["detail"]
    # wrong total at issue
    status, out = await node.post("/issuers/uni/stacks", {"parts": parts, "achievement": {"name": "x", "description": "y"}, "totalEcts": 12})
    assert status == 422 and "add up to 10" in out["detail"]
    # a revoked part: refused at issue (422 naming it) and at verification
    await node.revoke(parts[2]["id"])
    status, out = await node.post("/issuers/uni/stacks", {"parts": parts, "achievement": {"name": "x", "description": "y"}})
    assert status == 422 and out["parts"][0]["index"] == 2 and "status failed" in out["detail"]
    status, result = await present(node, [stack, *parts], key, did, vm)
    assert status == 400
    problems = result["stacks"][0]["problems"]
    assert [p["code"] for p in problems] == ["STACK_PART_FAILED"] and problems[0]["part"] == parts[2]["id"]


async def test_vcnode_verify_checks_the_stack_and_reports_accreditation(node: Node, tmp_path: Path, capsys: Any) -> None:
    national = await node.did("national")
    await node.accredit("national", "uni", scope={"eqfLevels": [5, 6]})
    key, did, vm = holder()
    learner = {"name": "Ana Andromeda", "id": did}
    parts = [await node.microcredential(s, e, q, learner) for s, e, q in (("c1", 4, 6), ("c2", 3, 5), ("c3", 3, 6))]
    status, out = await node.post("/issuers/uni/stacks", {"parts": parts, "achievement": {"name": "Certificate", "description": "Three modules."}, "eqfLevel": 6})
    assert status == 201, out
    stack = out["verifiableCredential"]
    host = f"localhost:{node.core.config.port}"  # the node's default base URL

    async def vcnode_verify(credentials: list[dict[str, Any]]) -> tuple[int, Any]:
        vp = sign_presentation(
            create_presentation(credentials, holder=did), key=key, verification_method=vm,
            suite=SUITES["eddsa-rdfc-2022"], loader=default_loader(), now=node.core.clock(), challenge="cli-check",
        )
        path = tmp_path / "vp.json"
        path.write_text(json.dumps(vp))
        capsys.readouterr()
        # the CLI runs its own event loop: a worker thread, while this loop keeps the node serving
        code = await asyncio.to_thread(main, ["verify", str(path), "--json", "--challenge", "cli-check", "--allow-insecure", host, "--trust", national])
        return code, json.loads(capsys.readouterr().out)

    code, result = await vcnode_verify([stack, *parts])
    assert code == 0, result
    assert result["stacks"][0]["sumEcts"] == 10 and result["stacks"][0]["ectsByEqfLevel"] == {"5": 3, "6": 7}
    assert [r["accreditation"]["status"] for r in result["credentialResults"]] == ["accredited"] * 4
    code, result = await vcnode_verify([stack, parts[0], parts[1]])
    assert code == 1 and result["stacks"][0]["problems"][0]["code"] == "STACK_PART_MISSING"


async def test_accreditations_are_signed_with_rdfc_only(node: Node) -> None:
    status, out = await node.post("/issuers/national/accredit", {"organisation": await node.did("uni"), "options": {"cryptosuite": "eddsa-jcs-2022"}})
    assert status == 400 and out["field"] == "options.cryptosuite"
    status, out = await node.post("/issuers/national/accredit", {"organisation": await node.did("uni"), "kind": "rule"})
    assert status == 400 and "kind" in out["detail"]


async def test_unknown_when_accreditations_cannot_be_fetched_or_the_issuer_has_no_place_for_them() -> None:
    from did.errors import FetchError
    from vc.results import VerificationResult

    async def unreachable(did: str) -> Any:
        raise FetchError(f"could not connect to {did}", reason="network")

    async def never(vc: dict[str, Any]) -> VerificationResult:  # pragma: no cover - not reached
        raise AssertionError("nothing to verify")

    verifier = trust.AccreditationVerifier(trusted=["did:web:agency.example"], verify=never, fetch=unreachable, now=None)
    report = (await verifier.assess({"issuer": "did:web:uni.example"})).to_json()
    assert report["status"] == "unknown" and "could not be fetched" in report["reason"]
    assert report["failedLinks"][0]["outcome"] == "unknown"

    async def via_http(did: str) -> Any:
        return await trust.fetch_published(None, did)

    verifier = trust.AccreditationVerifier(trusted=["did:web:agency.example"], verify=never, fetch=via_http, now=None)
    report = (await verifier.assess({"issuer": {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}})).to_json()
    assert report["status"] == "unknown" and "only did:web issuers can be assessed" in report["reason"]
    assert (await verifier.assess({"issuer": "did:web:agency.example"})).status == "accredited"  # a root itself
    assert (await verifier.assess({})).status == "unknown"


class CountingHTTP:
    """Stands in for the guarded client: serves the node's real published list (its real
    Cache-Control included) for any did:web URL, counting the fetches."""

    def __init__(self, node: Node, path: str) -> None:
        self.node, self.path, self.hits = node, path, 0

    def is_allowed_insecure(self, host: str, port: int) -> bool:
        return False

    async def get_json(self, url: str) -> Any:
        from did.http import FetchedJSON, parse_max_age

        self.hits += 1
        resp = await self.node.client.get(self.path)
        return FetchedJSON(url, resp.status, resp.headers, await resp.json(), parse_max_age(resp.headers.get("Cache-Control")))


async def test_published_lists_are_cached_per_url_within_max_age_on_the_trust_clock(node: Node, monkeypatch: Any) -> None:
    from datetime import timedelta

    vc = await node.accredit("national", "uni")
    published = await node.client.get("/issuers/uni/accreditations.json")
    assert published.headers["Cache-Control"] == "max-age=60"
    http = CountingHTTP(node, "/issuers/uni/accreditations.json")
    monkeypatch.setattr(node.core.trust, "http", http)
    start = node.core.clock()
    now = [start]
    monkeypatch.setattr(node.core.trust, "clock", lambda: now[0])
    remote = "did:web:uni.example"  # not one of this node's issuers: fetched over "HTTP"

    first = await node.core.trust.fetch_for(remote)
    assert first["verifiableCredential"] == [vc] and http.hits == 1
    first["verifiableCredential"].clear()  # the cache hands out copies
    now[0] = start + timedelta(seconds=59)
    assert (await node.core.trust.fetch_for(remote))["verifiableCredential"] == [vc] and http.hits == 1
    assert (await node.core.trust.fetch_for("did:web:other.example"))["verifiableCredential"] == [vc] and http.hits == 2  # per URL
    now[0] = start + timedelta(seconds=60)  # max-age passed: fetched again
    await node.core.trust.fetch_for(remote)
    assert http.hits == 3
    # never longer than the verifier's max staleness, whatever the server allows
    cache = node.core.trust.published_cache
    assert cache.max_ttl == node.core.config.status_max_staleness_seconds == 300
    cache.clear()

    class Generous(CountingHTTP):
        async def get_json(self, url: str) -> Any:
            fetched = await super().get_json(url)
            return type(fetched)(fetched.url, fetched.status, fetched.headers, fetched.data, 86400)

    generous = Generous(node, "/issuers/uni/accreditations.json")
    monkeypatch.setattr(node.core.trust, "http", generous)
    await node.core.trust.fetch_for(remote)
    now[0] += timedelta(seconds=299)
    await node.core.trust.fetch_for(remote)
    assert generous.hits == 1
    now[0] += timedelta(seconds=1)
    await node.core.trust.fetch_for(remote)
    assert generous.hits == 2


async def test_an_empty_list_is_not_cached_so_a_new_accreditation_shows_at_once(node: Node) -> None:
    http = CountingHTTP(node, "/issuers/uni/accreditations.json")
    cache = node.core.trust.published_cache
    assert (await trust.fetch_published(http, "did:web:uni.example", cache))["verifiableCredential"] == []
    vc = await node.accredit("national", "uni")
    assert (await trust.fetch_published(http, "did:web:uni.example", cache))["verifiableCredential"] == [vc]
    assert (await trust.fetch_published(http, "did:web:uni.example", cache))["verifiableCredential"] == [vc]
    assert http.hits == 2


async def test_the_cache_holds_documents_not_verdicts_a_revocation_shows_at_once(node: Node) -> None:
    """A cached list's accreditation is still verified, status included, every time."""
    vc = await node.accredit("national", "uni")
    http = CountingHTTP(node, "/issuers/uni/accreditations.json")
    cache = node.core.trust.published_cache

    def run() -> trust.AccreditationVerifier:  # one assessment run, as each request makes
        return trust.AccreditationVerifier(
            trusted=[national],
            verify=node.core.verification.verify_credential,
            # uni's list as a remote verifier gets it (uni's own did:web names 127.0.0.1 here)
            fetch=lambda did: trust.fetch_published(http, "did:web:uni.example", cache),
            now=node.core.clock(),
        )

    national, uni = await node.did("national"), await node.did("uni")
    first = await run().assess({"issuer": uni})
    assert first.status == "accredited", first.reason
    await node.revoke(vc["id"])
    report = await run().assess({"issuer": uni})
    assert http.hits == 1  # the list came from the cache ...
    assert report.status == "not-accredited" and "revoked" in report.reason  # ... the verdict did not


async def test_a_held_accreditation_is_removed_over_http_and_by_the_cli(node: Node, tmp_path: Path) -> None:
    from urllib.parse import quote

    vc = await node.accredit("national", "uni")
    other = await node.accredit("qa", "uni")
    path = f"/issuers/uni/accreditations/{quote(vc['id'], safe='')}"
    assert (await node.client.delete(path)).status == 401
    qa_only = (await node.core.tokens.create(["issue"], issuer="qa")).token
    resp = await node.client.delete(path, headers={"Authorization": f"Bearer {qa_only}"})
    assert resp.status == 403
    uni = (await node.core.tokens.create(["issue"], issuer="uni")).token
    resp = await node.client.delete(path, headers={"Authorization": f"Bearer {uni}"})
    assert resp.status == 204
    published = await (await node.client.get("/issuers/uni/accreditations.json")).json()
    assert published["verifiableCredential"] == [other]
    resp = await node.client.delete(path, headers={"Authorization": f"Bearer {uni}"})
    assert resp.status == 404 and "holds no accreditation" in (await resp.json())["detail"]
    resp = await node.client.delete("/issuers/nobody/accreditations/x", headers={"Authorization": f"Bearer {node.token}"})
    assert resp.status == 404
    # stored again, an admin token removes it too
    status, _ = await node.post("/issuers/uni/accreditations", {"verifiableCredential": vc})
    assert status == 201
    assert (await node.client.delete(path, headers={"Authorization": f"Bearer {node.token}"})).status == 204


def test_vcnode_trust_remove_accreditation(tmp_path: Path, capsys: Any) -> None:
    data = str(tmp_path / "h")
    assert main(["init", "--data", data]) == 0
    assert main(["trust", "remove-accreditation", "urn:uuid:nothing", "--data", data]) == 1
    assert "holds no accreditation" in capsys.readouterr().err


@pytest.mark.parametrize("status, published", [(404, False), (410, False), (500, None), (403, None)])
async def test_a_document_not_there_is_not_published_and_other_failures_are_errors(status: int, published: Any) -> None:
    """404 and 410 say the organisation publishes no accreditations (as for DID documents,
    did.errors.NOT_FOUND_STATUSES); any other status is a failure to establish it. The check
    read the error's text for "HTTP 404" and missed 410."""
    from did.errors import FetchError

    class Refusing:
        def is_allowed_insecure(self, host: str, port: int) -> bool:
            return False

        async def get_json(self, url: str) -> Any:
            raise FetchError(f"{url}: HTTP {status}", reason="http-status", status=status)

    with pytest.raises(trust.NotPublished if published is False else FetchError):
        await trust.fetch_published(Refusing(), "did:web:uni.example")


# --- achievements this node defines: only the issuer defining one awards it ------------------------


def test_only_the_issuer_defining_an_achievement_of_this_node_awards_it() -> None:
    url = "https://node.example/issuers/uni/achievements/ds-101"
    ach = trust.HostedAchievement(url, "DS 101", "uni", "University of Example", frozenset({"did:web:node.example:issuers:uni", "did:key:zUni"}))
    hosted = {url: ach}
    for issuer, borrowed in (("did:web:node.example:issuers:uni", []), ({"id": "did:key:zUni"}, []), ("did:key:zStranger", [ach]), ({"id": ["did:key:zUni"]}, [ach])):
        doc = {"issuer": issuer, "credentialSubject": [{"achievement": {"id": "urn:other"}}, {"achievement": {"id": url}}]}
        assert trust.borrowed_achievements(doc, hosted) == borrowed, issuer


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("https://n.example/issuers/uni/achievements/x", "HTTPS://N.EXAMPLE:443/issuers/uni/achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/uni/achievements/%78?q#f", True),
        ("http://n.example/issuers/uni/achievements/x", "http://n.example:80/issuers/uni/achievements/x/", True),
        ("https://n.example/issuers/uni/achievements/x", "http://n.example/issuers/uni/achievements/x", False),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example:8443/issuers/uni/achievements/x", False),
        # Spellings a review found slipping past: dot segments, empty segments, the DNS root's dot.
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/uni/achievements/./x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/other/../uni/achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example//issuers/uni//achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example./issuers/uni/achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/uni/achievements/y/../../x", False),
    ],
)
def test_achievement_urls_are_compared_as_addresses(a: str, b: str, same: bool) -> None:
    assert (trust.url_key(a) == trust.url_key(b)) is same
    assert trust.url_key("https://n.example:99999/x") is None and trust.url_key(42) is None

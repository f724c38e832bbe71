"""node/routes/vcapi.py and openapi.py: VC-API over a real node (real store, real HTTP on 127.0.0.1).

Each test starts the node's own app on a free port whose URL is the node's base URL, so its
did:web and status list URLs resolve against the very server under test.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import ResponseLog

from node.app import create_app
from node.config import Config
from node.node import Node as NodeCore
from node.problems import PROBLEM_JSON
from node.routes import NODE_KEY
from node.routes.endpoint import endpoints_of
from node.routes.openapi import document as openapi_document

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"  # @vocab for undefined terms


def unsigned(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
        **extra,
    }


@dataclass
class Node:
    client: Any
    core: NodeCore
    config: Config
    tokens: dict[str, str]
    responses: ResponseLog

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    async def issue(self, credential: dict[str, Any] | None = None, options: dict[str, Any] | None = None, *, token: str = "issue", path: str = "/credentials/issue") -> dict[str, Any]:
        credential = credential or unsigned()
        if "issuer" not in credential:
            # VC-API: the request names its issuer; here the path's issuer's did:web.
            name = path.split("/")[2] if path.startswith("/issuers/") else "default"
            credential = {**credential, "issuer": (await self.core.issuers.get(name)).did}
        body: dict[str, Any] = {"credential": credential}
        if options is not None:
            body["options"] = options
        resp = await self.client.post(path, json=body, headers=self.auth(token))
        assert resp.status == 201, await resp.text()
        return (await resp.json())["verifiableCredential"]

    async def verify(self, vc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        resp = await self.client.post("/credentials/verify", json={"verifiableCredential": vc})
        return resp.status, await resp.json(content_type=None)

    async def set_status(self, body: dict[str, Any], token: str = "status") -> Any:
        return await self.client.post("/credentials/status", json=body, headers=self.auth(token))


async def start_node(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any, **config: Any) -> Node:
    port = unused_tcp_port_factory()
    cfg = Config().replace(
        data_dir=tmp_path / "data", host="127.0.0.1", port=port, status_purposes=("revocation", "suspension"), **config
    )
    app = create_app(cfg)
    responses = ResponseLog(app)
    client = await aiohttp_client(app, server_kwargs={"host": "127.0.0.1", "port": port})
    core = app[NODE_KEY]
    await core.issuers.create("faculty")
    tokens = {
        "issue": (await core.tokens.create(["issue"], issuer="default")).token,
        "status": (await core.tokens.create(["status"], issuer="default")).token,
        "faculty": (await core.tokens.create(["issue", "status"], issuer="faculty")).token,
        "admin": (await core.tokens.create(["admin"])).token,
    }
    return Node(client, core, cfg, tokens, responses)


@pytest.fixture
async def node(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any) -> Any:
    node = await start_node(tmp_path, aiohttp_client, unused_tcp_port_factory)
    yield node
    node.responses.check()  # every response of every test here is what /openapi.json says


async def problem_of(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == PROBLEM_JSON
    body = await resp.json(content_type=None)
    assert body["type"] and body["title"] and body["detail"]
    return body


def check_named(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in result["checks"] if c["check"] == name]


# --- openapi -------------------------------------------------------------------------------


async def test_openapi_describes_exactly_the_routes_the_app_serves(node: Node) -> None:
    app = node.client.app
    resp = await node.client.get("/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc == json.loads(json.dumps(openapi_document(app)))
    described = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method in ("HEAD", "OPTIONS"):
            continue  # allow_head and CORS preflights ride along with their GET
        served.add((path, route.method))
    # Every route is declared (so validated and authorized as declared) and every declared one
    # is described, except those declared as not part of the API (pages for people).
    declared = {(e.path, e.method) for e in endpoints_of(app)}
    assert served == declared
    assert described == {(e.path, e.method) for e in endpoints_of(app) if e.in_api}


def test_openapi_document_is_valid_openapi_3_1(tmp_path: Path) -> None:
    from openapi_spec_validator import validate

    validate(openapi_document(create_app(Config().replace(data_dir=tmp_path))))  # raises, naming the offending path


def test_openapi_refs_all_resolve(tmp_path: Path) -> None:
    doc = openapi_document(create_app(Config().replace(data_dir=tmp_path)))
    text = json.dumps(doc)
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs and refs <= set(doc["components"]["schemas"])


async def test_responses_of_the_main_endpoints_match_their_declared_schemas(node: Node) -> None:
    """A run through the VC-API endpoints, answers and refusals alike; every response is checked
    against the schema /openapi.json declares for its operation and status (ResponseLog)."""
    vc = await node.issue()
    await node.issue(path="/issuers/faculty/credentials/issue", token="faculty")
    await node.client.post("/credentials/issue", json={"credential": "x"}, headers=node.auth("issue"))
    await node.client.post("/credentials/issue", json={"credential": unsigned(issuer=vc["issuer"])})
    await node.client.post("/credentials/issue", json={"credential": unsigned(issuer=vc["issuer"])}, headers=node.auth("status"))
    await node.client.post("/issuers/nobody/credentials/issue", json={"credential": unsigned(issuer="did:example:x")}, headers=node.auth("admin"))
    await node.client.post("/credentials/issue", data=b"a=1", headers={**node.auth("issue"), "Content-Type": "application/x-www-form-urlencoded"})
    await node.verify(vc)
    await node.verify({**vc, "credentialSubject": {"id": "did:example:mallory"}})
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(vc, challenge), "options": {"challenge": challenge, "returnPresentation": True}})
    await node.client.post("/presentations/verify", json={"verifiablePresentation": {}})
    await node.set_status({"credentialId": vc["id"], "status": "suspended"})
    await node.set_status({"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}})
    await node.set_status({"credentialId": vc["id"], "status": "active"})  # 409: revocation is final
    await node.set_status({"credentialId": "urn:nowhere", "status": "revoked"})
    list_url = vc["credentialStatus"][0]["statusListCredential"]
    path = list_url.split(str(node.config.port), 1)[1]
    etag = (await node.client.get(path)).headers["ETag"]
    await node.client.get(path, headers={"If-None-Match": etag})
    await node.client.get(path.rsplit("/", 1)[0] + "/99")
    await node.client.post(path + "/publish", headers=node.auth("status"))
    await node.client.get("/.well-known/did.json")
    await node.client.get("/issuers/faculty/did.json")
    await node.client.get("/issuers/nobody/did.json")
    await node.client.get("/healthz")
    await node.client.get("/openapi.json")
    covered = node.responses.check()
    assert {
        ("issueCredential", 201), ("issueCredentialAsIssuer", 201), ("issueCredential", 400), ("issueCredential", 401),
        ("issueCredential", 403), ("issueCredentialAsIssuer", 404), ("issueCredential", 415),
        ("verifyCredential", 200), ("verifyCredential", 400), ("createChallenge", 200), ("verifyPresentation", 200),
        ("verifyPresentation", 400), ("updateCredentialStatus", 200), ("updateCredentialStatus", 409),
        ("updateCredentialStatus", 404), ("getStatusList", 200), ("getStatusList", 304), ("getStatusList", 404),
        ("publishStatusList", 204), ("getDefaultDIDDocument", 200), ("getIssuerDIDDocument", 200),
        ("getIssuerDIDDocument", 404), ("health", 200), ("openapi", 200),
    } <= covered


# --- issue ---------------------------------------------------------------------------------


async def test_issue_signs_as_the_default_issuer_with_status_entries(node: Node) -> None:
    vc = await node.issue()
    issuer = await node.core.issuers.get("default")
    assert vc["issuer"] == issuer.did and issuer.did.startswith("did:web:localhost%3A")
    assert vc["id"].startswith("urn:uuid:") and "validFrom" in vc
    assert vc["proof"]["type"] == "DataIntegrityProof"
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert vc["proof"]["verificationMethod"] == issuer.verification_method
    statuses = vc["credentialStatus"]
    assert sorted(s["statusPurpose"] for s in statuses) == ["revocation", "suspension"]
    assert all(s["type"] == "BitstringStatusListEntry" for s in statuses)
    record = await node.core.credentials.get(vc["id"])
    assert record.issuer == "default" and record.subject_id == "did:example:alice"


async def test_issue_takes_vc_api_options(node: Node) -> None:
    vc = await node.issue(
        options={"cryptosuite": "eddsa-jcs-2022", "statusPurposes": ["revocation"], "credentialId": "urn:example:cred-1"}
    )
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert vc["id"] == "urn:example:cred-1"
    status = vc["credentialStatus"]
    assert isinstance(status, dict) and status["statusPurpose"] == "revocation"
    no_status = await node.issue(options={"statusPurposes": []})
    assert "credentialStatus" not in no_status


async def test_issue_as_a_named_issuer(node: Node) -> None:
    vc = await node.issue(path="/issuers/faculty/credentials/issue", token="faculty")
    faculty = await node.core.issuers.get("faculty")
    assert vc["issuer"] == faculty.did and faculty.did.endswith(":issuers:faculty")


async def test_issue_keeps_a_vc_1_1_credential_1_1(node: Node) -> None:
    cred = {"@context": [V1], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:bob"}}
    vc = await node.issue(cred)
    assert vc["@context"][0] == V1 and "issuanceDate" in vc and "validFrom" not in vc


@pytest.mark.parametrize(
    "body,says",
    [
        ({}, "credential is required"),
        ({"credential": "x"}, "credential must be an object, not a string"),
        ({"credential": unsigned(), "options": []}, "options must be an object"),
        ({"credential": unsigned(), "options": {"statusPurpose": ["revocation"]}}, "unknown option(s) 'statusPurpose'"),
        ({"credential": unsigned(), "options": {"cryptosuite": "ecdsa-rdfc-2019"}}, "not supported"),
        ({"credential": unsigned(), "options": {"cryptosuite": 5}}, "options.cryptosuite must be a string"),
        ({"credential": unsigned(), "options": {"statusPurposes": "revocation"}}, "options.statusPurposes must be an array"),
        ({"credential": unsigned(), "options": {"statusPurposes": ["expiry"]}}, "unknown status purpose"),
        ({"credential": unsigned(), "options": {"mandatoryPointers": ["/issuer"]}}, "selective-disclosure"),
        ({"credential": unsigned(id="urn:a"), "options": {"credentialId": "urn:b"}}, "differs from credential.id"),
        ({"credential": unsigned(issuer="did:example:someone-else")}, "names issuer 'did:example:someone-else'"),
        ({"credential": unsigned(proof={"type": "DataIntegrityProof"})}, "proof.proofPurpose is required"),
        ({"credential": unsigned(proof=[{"proofPurpose": "assertionMethod"}])}, "proof[0].type is required"),
        ({"credential": {"type": ["VerifiableCredential"], "credentialSubject": {}}}, "@context"),
    ],
)
async def test_issue_refuses_invalid_input_saying_what_is_wrong(node: Node, body: dict[str, Any], says: str) -> None:
    if isinstance(body.get("credential"), dict) and "issuer" not in body["credential"]:
        body = {**body, "credential": {**body["credential"], "issuer": (await node.core.issuers.get("default")).did}}
    resp = await node.client.post("/credentials/issue", json=body, headers=node.auth("issue"))
    problem = await problem_of(resp, 400)
    assert says in problem["detail"]


async def test_vc_api_issue_needs_the_issuer_named(node: Node) -> None:
    """VC DM 2.0 §4.7 and w3c-ccg/vc-api-issuer-test-suite ("credential MUST have property
    issuer"): a VC-API request without ``issuer`` is a 400, at either issuing path."""
    for path, token in (("/credentials/issue", "issue"), ("/issuers/faculty/credentials/issue", "faculty")):
        resp = await node.client.post(path, json={"credential": unsigned()}, headers=node.auth(token))
        problem = await problem_of(resp, 400)
        assert problem["field"] == "credential.issuer" and "required" in problem["detail"]
    assert await node.core.credentials.list() == []


async def test_issuing_the_same_id_twice_is_a_conflict(node: Node) -> None:
    vc = await node.issue(unsigned(id="urn:example:once"))
    resp = await node.client.post("/credentials/issue", json={"credential": unsigned(id="urn:example:once", issuer=vc["issuer"])}, headers=node.auth("issue"))
    await problem_of(resp, 409)


@pytest.mark.parametrize(
    "path,token,status,says",
    [
        ("/credentials/issue", None, 401, "needs an API token"),
        ("/credentials/issue", "status", 403, "lacks the 'issue' scope"),
        ("/credentials/issue", "faculty", 403, "bound to issuer 'faculty'"),
        ("/issuers/faculty/credentials/issue", "issue", 403, "bound to issuer 'default'"),
        ("/issuers/nobody/credentials/issue", "admin", 404, "no issuer named 'nobody'"),
    ],
)
async def test_issue_needs_a_token_for_that_issuer(node: Node, path: str, token: str | None, status: int, says: str) -> None:
    headers = node.auth(token) if token else {}
    resp = await node.client.post(path, json={"credential": unsigned(issuer="did:example:x")}, headers=headers)
    problem = await problem_of(resp, status)
    assert says in problem["detail"]
    assert await node.core.credentials.list() == []


async def test_a_revoked_token_is_refused(node: Node) -> None:
    new = await node.core.tokens.create(["issue"])
    headers = {"Authorization": f"Bearer {new.token}"}
    me = (await node.core.issuers.get("default")).did
    assert (await node.client.post("/credentials/issue", json={"credential": unsigned(issuer=me)}, headers=headers)).status == 201
    await node.core.tokens.revoke(new.id)
    resp = await node.client.post("/credentials/issue", json={"credential": unsigned(issuer=me)}, headers=headers)
    await problem_of(resp, 401)


# --- verify --------------------------------------------------------------------------------


async def test_an_issued_credential_verifies(node: Node) -> None:
    vc = await node.issue()
    status, result = await node.verify(vc)
    assert status == 200, result
    assert result["verified"] is True and result["errors"] == [] and result["problemDetails"] == []
    assert {"proof", "status"} <= {c["check"] for c in result["checks"]}
    assert all(c["outcome"] == "passed" for c in check_named(result, "status"))


async def test_a_tampered_credential_is_400_with_the_failed_proof_check(node: Node) -> None:
    vc = await node.issue()
    vc["credentialSubject"]["name"] = "Mallory"
    status, result = await node.verify(vc)
    assert status == 400 and result["verified"] is False
    assert [c["outcome"] for c in check_named(result, "proof")] == ["failed"]
    assert any(e["code"] == "PROOF_VERIFICATION_ERROR" for e in result["errors"])
    assert result["problemDetails"] == result["errors"]


async def test_verify_reports_an_unsigned_credential_as_not_verified(node: Node) -> None:
    status, result = await node.verify(unsigned())
    assert status == 400 and result["verified"] is False and result["errors"]


@pytest.mark.parametrize(
    "body,says",
    [
        ({}, "verifiableCredential is required"),
        ({"verifiableCredential": "eyJhbGciOi..."}, "verifiableCredential must be an object"),
        ({"verifiableCredential": [{}]}, "verifiableCredential must be an object"),
        ({"verifiableCredential": {}, "options": "x"}, "options must be an object"),
    ],
)
async def test_verify_refuses_a_body_that_is_not_a_request_as_a_problem(node: Node, body: dict[str, Any], says: str) -> None:
    problem = await problem_of(await node.client.post("/credentials/verify", json=body), 400)
    assert says in problem["detail"]


# --- status --------------------------------------------------------------------------------


async def test_revoke_in_vc_api_form_then_verification_fails_on_status(node: Node) -> None:
    vc = await node.issue()
    resp = await node.set_status(
        {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "revoked"
    status, result = await node.verify(vc)
    assert status == 400 and result["verified"] is False
    revocation = [c for c in check_named(result, "status") if c.get("statusPurpose", "revocation") == "revocation"]
    assert any(c["outcome"] == "failed" for c in revocation), result["checks"]


async def test_suspension_round_trip_in_the_three_accepted_forms(node: Node) -> None:
    vc = await node.issue()
    forms = [
        ({"credentialId": vc["id"], "status": "suspended"}, "suspended", 400),
        ({"credentialId": vc["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "active"}]}, "active", 200),
        (
            {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusList", "statusPurpose": "suspension"}, "status": True},
            "suspended",
            400,
        ),
        (
            {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}, "status": False},
            "active",
            200,
        ),
    ]
    for body, expect, verify_status in forms:
        resp = await node.set_status(body)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["status"] == expect
        assert (await node.verify(vc))[0] == verify_status, body


async def test_revocation_is_final(node: Node) -> None:
    vc = await node.issue()
    assert (await node.set_status({"credentialId": vc["id"], "status": "revoked"})).status == 200
    problem = await problem_of(await node.set_status({"credentialId": vc["id"], "status": "active"}), 409)
    assert "revocation is final" in problem["detail"]
    body = {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": False}
    problem = await problem_of(await node.set_status(body), 400)
    assert "not reversible" in problem["detail"]


async def test_the_named_status_entry_must_be_the_credentials_own(node: Node) -> None:
    vc = await node.issue()
    entry = next(s for s in vc["credentialStatus"] if s["statusPurpose"] == "revocation")
    wrong = {**entry, "statusListIndex": str(int(entry["statusListIndex"]) + 1)}
    wrong.pop("id", None)
    body = {"credentialId": vc["id"], "credentialStatus": wrong, "status": True}
    # VC-API's object allows only id, type, statusPurpose, statusListIndex, statusListCredential.
    problem = await problem_of(await node.set_status(body), 400)
    assert "has no revocation entry" in problem["detail"]
    right = {k: entry[k] for k in ("type", "statusPurpose", "statusListIndex", "statusListCredential")}
    assert (await node.set_status({"credentialId": vc["id"], "credentialStatus": right, "status": True})).status == 200


@pytest.mark.parametrize(
    "body,status,says",
    [
        ({}, 400, "credentialId is required"),
        ({"credentialId": 7, "status": "revoked"}, 400, "credentialId must be a string"),
        ({"credentialId": "", "status": "revoked"}, 400, "credentialId is empty"),
        ({"credentialId": "urn:x"}, 400, "status is required"),
        ({"credentialId": "urn:x", "status": "deleted"}, 400, "status must be one of 'active', 'revoked' or 'suspended', not 'deleted'"),
        ({"credentialId": "urn:x", "status": True}, 400, "status must be one of 'active', 'revoked' or 'suspended', not true"),
        ({"credentialId": "urn:x", "credentialStatus": "revoked"}, 400, "credentialStatus must be an object"),
        ({"credentialId": "urn:x", "credentialStatus": []}, 400, "empty array"),
        ({"credentialId": "urn:x", "credentialStatus": [{"type": "StatusList2021Entry", "status": "revoked"}]}, 400, "BitstringStatusListEntry"),
        (
            {"credentialId": "urn:x", "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}, {"type": "BitstringStatusListEntry", "status": "active"}]},
            400,
            "conflicting",
        ),
        ({"credentialId": "urn:x", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "refresh"}, "status": True}, 400, "credentialStatus.statusPurpose must be one of 'revocation', 'suspension' or 'message', not 'refresh'"),
        ({"credentialId": "urn:x", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": "yes"}, 400, "status is true or false for a revocation or suspension entry"),
        ({"credentialId": "urn:x", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True}, 404, "no credential with id 'urn:x'"),
        ({"credentialId": "urn:x", "status": "revoked"}, 404, "no credential with id 'urn:x'"),
    ],
)
async def test_status_refuses_invalid_requests(node: Node, body: dict[str, Any], status: int, says: str) -> None:
    problem = await problem_of(await node.set_status(body), status)
    assert says in problem["detail"]


async def test_status_needs_the_status_scope_and_the_credentials_issuer(node: Node) -> None:
    vc = await node.issue()
    body = {"credentialId": vc["id"], "status": "revoked"}
    await problem_of(await node.client.post("/credentials/status", json=body), 401)
    problem = await problem_of(await node.set_status(body, token="issue"), 403)
    assert "lacks the 'status' scope" in problem["detail"]
    # A token of another issuer cannot tell this credential from one that does not exist.
    problem = await problem_of(await node.set_status(body, token="faculty"), 404)
    assert "issuer 'faculty'" in problem["detail"]
    named = {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True}
    await problem_of(await node.set_status(named, token="faculty"), 404)
    assert (await node.core.credentials.get(vc["id"])).status == "active"
    assert (await node.set_status(body, token="admin")).status == 200


# --- challenges and presentations ----------------------------------------------------------


async def test_challenges_are_fresh_and_expire(node: Node) -> None:
    a = await (await node.client.post("/challenges")).json()
    b = await (await node.client.post("/challenges", data=b"")).json()
    assert a["challenge"] != b["challenge"] and len(a["challenge"]) >= 16
    assert a["expires"].endswith("Z")


def _holder() -> tuple[Any, str, str]:
    from did.key import did_key_from_public_key
    from vc.crypto import Ed25519KeyPair

    pair = Ed25519KeyPair.generate()
    did = did_key_from_public_key(pair.public_key)
    return pair, did, f"{did}#{pair.public_multibase}"


def _present(vc: dict[str, Any], challenge: str | None, domain: str | None = None) -> dict[str, Any]:
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader
    from vc.presentations import sign_presentation
    from datetime import datetime, timezone

    pair, did, vm = _holder()
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": did, "verifiableCredential": [vc]}
    return sign_presentation(
        vp,
        key=pair,
        verification_method=vm,
        suite=SUITES["eddsa-rdfc-2022"],
        loader=default_loader(),
        now=datetime.now(timezone.utc),
        challenge=challenge,
        domain=domain,
    )


async def test_return_presentation_returns_it_only_when_asked(node: Node) -> None:
    vc = await node.issue()
    for flag in (True, False):
        challenge = (await (await node.client.post("/challenges")).json())["challenge"]
        vp = _present(vc, challenge)
        resp = await node.client.post(
            "/presentations/verify", json={"verifiablePresentation": vp, "options": {"returnPresentation": flag}}
        )
        result = await resp.json()
        assert resp.status == 200, result
        assert ("verifiablePresentation" in result) is flag
        if flag:
            assert result["verifiablePresentation"] == vp
    problem = await problem_of(
        await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"returnPresentation": "yes"}}), 400
    )
    assert "returnPresentation must be a boolean" in problem["detail"]


async def test_verification_endpoints_are_open_to_other_origins_and_issuing_is_not(node: Node) -> None:
    for path in ("/credentials/verify", "/presentations/verify", "/challenges"):
        pre = await node.client.options(path, headers={"Origin": "https://wallet.example", "Access-Control-Request-Method": "POST"})
        assert pre.status == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
        assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]
    # Problem answers are readable cross-origin too, or a browser app could not show the error.
    resp = await node.client.post("/credentials/verify", data=b"{", headers={"Origin": "https://wallet.example"})
    assert resp.status == 400 and resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = await node.client.post("/credentials/issue", json={}, headers={"Origin": "https://wallet.example"})
    assert resp.status == 401 and "Access-Control-Allow-Origin" not in resp.headers


async def test_a_node_challenge_is_single_use(node: Node) -> None:
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge, "verifier.example")
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": "verifier.example"}}
    first = await node.client.post("/presentations/verify", json=body)
    result = await first.json()
    assert first.status == 200, result
    assert result["verified"] is True and result["credentialResults"][0]["verified"] is True
    again = await node.client.post("/presentations/verify", json=body)
    result = await again.json()
    assert again.status == 400 and result["verified"] is False
    assert any(e["code"] == "INVALID_CHALLENGE_ERROR" for e in result["errors"])
    # One check per name: the replay's proof still carries the expected challenge, but the
    # spent challenge decides, so the check is failed and not also passed.
    challenge_checks = [c for c in result["checks"] if c["check"] == "challenge"]
    assert [c["outcome"] for c in challenge_checks] == ["failed"], challenge_checks
    assert "already used" in challenge_checks[0]["message"]


@pytest.mark.parametrize("purpose", ["assertionMethod", "capabilityInvocation"])
async def test_a_presentation_verified_for_another_purpose_than_expected_fails(node: Node, purpose: str) -> None:
    """VC Data Integrity 1.0 §4.4 step 5: an expectedProofPurpose the proof does not have MUST
    raise an error. /presentations/verify dropped the option and answered verified; a request
    refused so spends no live challenge."""
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge, "verifier.example")
    options = {"challenge": challenge, "domain": "verifier.example"}
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {**options, "expectedProofPurpose": purpose}})
    result = await resp.json()
    assert resp.status == 400 and result["verified"] is False, result
    assert any(e["code"] == "PROOF_VERIFICATION_ERROR" and "expectedProofPurpose" in e["detail"] for e in result["errors"]), result["errors"]
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {**options, "expectedProofPurpose": "authentication"}})
    assert resp.status == 200, await resp.text()


async def test_a_forged_presentation_cannot_burn_a_live_challenge(node: Node) -> None:
    """Only a presentation whose holder proof verifies spends the challenge; otherwise anyone
    who saw a challenge in transit could deny the real holder by posting garbage first."""
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    genuine = _present(vc, challenge, "verifier.example")
    forged = json.loads(json.dumps(genuine))
    forged["proof"]["proofValue"] = genuine["proof"]["proofValue"][:-4] + "abcd"
    options = {"challenge": challenge, "domain": "verifier.example"}
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": forged, "options": options})
    result = await resp.json()
    assert resp.status == 400 and result["verified"] is False
    assert not any(e["code"] == "INVALID_CHALLENGE_ERROR" for e in result["errors"]), result["errors"]
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": genuine, "options": options})
    assert resp.status == 200, await resp.text()


async def test_leaving_the_challenge_option_out_cannot_replay_a_used_challenge(node: Node) -> None:
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge)
    first = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert first.status == 200, await first.text()
    for options in ({}, {"challenge": None}):
        replay = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": options})
        assert replay.status == 400
        assert any(e["code"] == "INVALID_CHALLENGE_ERROR" for e in (await replay.json())["errors"])


async def test_without_require_challenge_a_carried_challenge_is_still_single_use(
    tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any
) -> None:
    """With require_challenge off, options may omit the challenge; one the proof carries is then
    still checked and consumed, so the presentation cannot be replayed, while a presentation
    without any challenge verifies."""
    node = await start_node(tmp_path, aiohttp_client, unused_tcp_port_factory, require_challenge=False)
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge)
    first = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert first.status == 200, await first.text()
    for options in ({}, {"challenge": None}):
        replay = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": options})
        assert replay.status == 400, options
    plain = await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(vc, None)})
    assert plain.status == 200, await plain.text()


async def test_a_challenge_the_node_did_not_issue_is_refused_when_only_node_challenges_count(
    tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any
) -> None:
    """With accept_caller_challenges off (by default a caller's own challenge is its expected
    value, VC-API; tests/node/test_conformance.py covers that)."""
    node = await start_node(tmp_path, aiohttp_client, unused_tcp_port_factory, accept_caller_challenges=False)
    vc = await node.issue()
    vp = _present(vc, "made-up-by-someone")
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "made-up-by-someone"}})
    result = await resp.json()
    assert resp.status == 400 and any(e["code"] == "INVALID_CHALLENGE_ERROR" for e in result["errors"])


async def test_an_expired_challenge_is_refused(node: Node) -> None:
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    # Expire it in the store rather than waiting out the ttl.
    async with node.core.db.transaction() as tx:
        await tx.execute("UPDATE challenges SET expires = ? WHERE challenge = ?", ("2000-01-01T00:00:00Z", challenge))
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(vc, challenge)})
    result = await resp.json()
    assert resp.status == 400 and any(e["code"] == "INVALID_CHALLENGE_ERROR" for e in result["errors"])


async def test_a_presentation_without_a_challenge_is_refused_by_default(node: Node) -> None:
    vc = await node.issue()
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(vc, None)})
    result = await resp.json()
    assert resp.status == 400
    assert [c["check"] for c in result["checks"] if c["outcome"] == "failed"] == ["challenge"]


async def test_a_presentation_with_a_tampered_credential_is_not_verified(node: Node) -> None:
    vc = await node.issue()
    vc["credentialSubject"]["name"] = "Mallory"
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(vc, challenge)})
    result = await resp.json()
    assert resp.status == 400 and result["credentialResults"][0]["verified"] is False


async def test_a_presentation_with_a_revoked_credential_is_not_verified(node: Node) -> None:
    vc = await node.issue()
    await node.set_status({"credentialId": vc["id"], "status": "revoked"})
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(vc, challenge)})
    result = await resp.json()
    assert resp.status == 400 and result["credentialResults"][0]["verified"] is False


# --- hostile input ---------------------------------------------------------------------------

_GOOD_VC: dict[str, Any] = {}

FUZZ_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"x"',
    b"1e999999",
    b'{"a": NaN}',
    b"\xff\xfe\x00",
    b"[" * 5000,
    b'{"credential": null}',
    b'{"credential": {"@context": 5}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": 5, "credentialSubject": []}}',
    b'{"credential": {"@context": ["https://evil.example/ctx"], "type": ["VerifiableCredential"], "credentialSubject": {}}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": 5}, "validFrom": "yesterday"}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "credentialSubject": {"x": 1}, "issuer": {"id": 5}}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"x": 1}, "id": {"a": 1}}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": 5}], "type": ["VerifiableCredential"], "credentialSubject": {"x": 1}}}',
    b'{"credential": {}, "options": {"credentialId": 5}}',
    b'{"verifiableCredential": {"@context": [], "proof": 5}}',
    b'{"verifiableCredential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": "did:web:%%%", "credentialSubject": {}, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:key:zzz#zzz", "proofPurpose": "assertionMethod", "proofValue": "z!!"}}}',
    b'{"verifiableCredential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": "did:web:10.0.0.1", "credentialSubject": {"id": "did:example:a"}, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "-1", "statusListCredential": "file:///etc/passwd"}, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:web:10.0.0.1#k", "proofPurpose": "assertionMethod", "proofValue": "z3"}}}',
    b'{"verifiablePresentation": {"verifiableCredential": [1, "x", null, {}]}}',
    b'{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "proof": [{"challenge": 5}, "x"]}, "options": {"challenge": 5}}',
    b'{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "proof": {"challenge": "abc", "type": "DataIntegrityProof"}}}',
    b'{"credentialId": ["a"], "status": "revoked"}',
    b'{"credentialId": "x", "credentialStatus": [null]}',
    b'{"credentialId": "x", "credentialStatus": {"type": null}, "status": true}',
    b'{"credentialId": "x", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": 5}, "status": true}',
    # No I-JSON (RFC 7493 §2.1-2.2): half a surrogate pair reached the RDFC signer and the
    # challenge store (500s); 1e400 was signed as infinity and handed back as null.
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:abc", "name": "\\ud800"}}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": "https://example.org/#"}], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:abc", "\\udc00name": 1}}}',
    b'{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": "https://example.org/#"}], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:abc", "score": 1e400}}}',
    b'{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "authentication", "challenge": "\\ud800"}}}',
    b'{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}, "options": {"challenge": "\\ud800"}}',
]

POSTS = ["/credentials/issue", "/issuers/default/credentials/issue", "/issuers/no-such/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status", "/challenges"]


@pytest.mark.parametrize("path", POSTS)
async def test_malformed_bodies_never_produce_a_500(node: Node, path: str) -> None:
    """Every body at this POST endpoint, with an admin token: always a 2xx or a 4xx problem."""
    seen: set[int] = set()
    for body in FUZZ_BODIES:
        resp = await node.client.post(path, data=body, headers={**node.auth("admin"), "Content-Type": "application/json"})
        text = await resp.text()
        assert resp.status < 500, f"{path} {body[:80]!r} -> {resp.status} {text[:300]}"
        if resp.status >= 400 and not text.startswith('{"verified"'):
            assert resp.content_type == PROBLEM_JSON, f"{path} {body[:80]!r}"
            assert json.loads(text)["detail"]
        else:
            assert "INTERNAL_ERROR" not in text, f"{path} {body[:80]!r} -> {text[:300]}"
        seen.add(resp.status)
    # POST /challenges takes no body, or {} (VCALM refuses data an endpoint does not understand).
    assert (400 in seen and seen <= {200, 400}) if path == "/challenges" else seen & {400, 404}


_JUNK: list[Any] = [None, True, 0, -1, 2**70, 1.5, "", "x", "did:web:%00", "urn:uuid:", [], [None], {}, {"id": 5}, "9" * 400]


def _mutations(doc: Any, rng: Any, count: int) -> list[Any]:
    """``count`` copies of ``doc``, each with one value somewhere replaced by junk or deleted."""
    paths: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(doc, ())
    out = []
    for _ in range(count):
        mutant = copy.deepcopy(doc)
        path = rng.choice(paths[1:])
        parent = mutant
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_JUNK))
        out.append(mutant)
    return out


async def test_mutated_credentials_are_verification_failures_not_server_errors(node: Node) -> None:
    """A signed credential with one value replaced or deleted (seeded, 60 mutants): verify says
    400 verified:false (or 200 where the change is outside the proof, e.g. nothing), the issue
    endpoint refuses or signs, and no check ever reports an internal error."""
    import random

    rng = random.Random(20261128)
    vc = await node.issue()
    for mutant in _mutations(vc, rng, 60):
        resp = await node.client.post("/credentials/verify", json={"verifiableCredential": mutant})
        text = await resp.text()
        assert resp.status in (200, 400), f"{resp.status} {text[:300]}"
        assert "INTERNAL_ERROR" not in text, f"{json.dumps(mutant)[:400]} -> {text[:600]}"
        if mutant != vc:
            assert json.loads(text)["verified"] is False, json.dumps(mutant)[:400]
    unsigned_vc = {k: v for k, v in vc.items() if k not in ("proof", "credentialStatus", "id")}
    for mutant in _mutations(unsigned_vc, rng, 40):
        resp = await node.client.post("/credentials/issue", json={"credential": mutant}, headers=node.auth("issue"))
        assert resp.status in (201, 400, 409), f"{resp.status} {(await resp.text())[:300]}"


async def test_mutated_presentations_are_verification_failures_not_server_errors(node: Node) -> None:
    import random

    rng = random.Random(11)
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge)
    for mutant in _mutations(vp, rng, 40):
        resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": mutant})
        text = await resp.text()
        assert resp.status == 400, f"{resp.status} {text[:300]}"
        assert "INTERNAL_ERROR" not in text, f"{json.dumps(mutant)[:400]} -> {text[:600]}"


async def test_a_body_over_the_limit_is_413(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any) -> None:
    node = await start_node(tmp_path, aiohttp_client, unused_tcp_port_factory, max_body_bytes=4096)
    big = unsigned(credentialSubject={"id": "did:example:a", "blob": "x" * 5000})
    for path in ("/credentials/verify", "/credentials/issue"):
        resp = await node.client.post(path, json={"credential": big, "verifiableCredential": big}, headers=node.auth("issue"))
        problem = await problem_of(resp, 413)
        assert "4096" in problem["detail"]


async def test_unknown_paths_and_methods_are_problems(node: Node) -> None:
    # The VC-API's POST-only paths are not credential ids of GET /credentials/{id}: any other
    # method is a 405 whose Allow names no GET (schemathesis checks Allow against the spec).
    for path in ("/credentials/verify", "/credentials/issue", "/credentials/status"):
        for method in ("GET", "PUT"):
            resp = await node.client.request(method, path)
            await problem_of(resp, 405)
            allowed = set(resp.headers["Allow"].split(","))
            assert "POST" in allowed and not allowed & {"GET", "HEAD"}, (method, path, allowed)
    await problem_of(await node.client.post("/credentials/revoke/all", json={}), 404)
    # /credentials/{id} is a credential (GET): another method there is a 405, not a 404.
    await problem_of(await node.client.post("/credentials/revoke", json={}), 405)


# --- the event loop stays free -------------------------------------------------------------


async def test_health_is_503_when_the_store_does_not_answer(node: Node) -> None:
    resp = await node.client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"
    await node.core.db.close()
    problem = await problem_of(await node.client.get("/healthz"), 503)
    assert "store does not answer" in problem["detail"]


async def test_health_answers_while_verifications_are_pending(node: Node) -> None:
    """Verification (canonicalization, signatures, status list fetch) runs off the event loop:
    a health check sent after many verifications started finishes before most of them do."""
    n = 12
    # A credential each: the same one verified again would find its subject's expansion
    # remembered (vc.fastld), and finish too fast to show anything.
    vcs = [await node.issue(unsigned(**{"@context": [V2, EXAMPLES], "credentialSubject": {
        "id": f"did:example:a{k}", "items": [{"n": i, "t": f"item {i}"} for i in range(150)]}})) for k in range(n)]
    done_order: list[str] = []

    async def verify(i: int) -> None:
        status, _ = await node.verify(copy.deepcopy(vcs[i]))
        assert status == 200
        done_order.append(f"verify{i}")

    tasks = [asyncio.create_task(verify(i)) for i in range(n)]
    await asyncio.sleep(0.05)  # let the requests reach the server
    pending_at_health_start = sum(not t.done() for t in tasks)
    resp = await node.client.get("/healthz")
    assert resp.status == 200
    done_order.append("health")
    pending_at_health_end = sum(not t.done() for t in tasks)
    await asyncio.gather(*tasks)
    assert pending_at_health_start >= n // 2, "verifications finished too fast to test anything; make them heavier"
    # Measured: all 12 still pending when health returns (40-190 ms). Half leaves room for slow CI.
    assert pending_at_health_end >= n // 2, f"health was answered only after most verifications: {done_order}"


def _spy_thread(monkeypatch: Any, owner: Any, name: str, calls: list[str]) -> None:
    """Record, for each call of ``owner.name``, whether it ran on the server's event-loop thread
    (this test's thread) or elsewhere. A worker may run its own loop; what matters is the thread."""
    original = getattr(owner, name)
    server_thread = threading.get_ident()

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("event loop" if threading.get_ident() == server_thread else "worker thread")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)


async def test_signature_and_json_ld_work_of_a_verification_runs_off_the_event_loop(node: Node, monkeypatch: Any) -> None:
    """The deterministic half of the property above: the heavy calls themselves (Ed25519
    verification, RDFC-1.0 canonicalization), for the credential and for its status list,
    never run on the event loop's thread."""
    import nacl.signing

    from vc import jsonld

    vc = await node.issue()
    signatures: list[str] = []
    canonicalizations: list[str] = []
    _spy_thread(monkeypatch, nacl.signing.VerifyKey, "verify", signatures)
    _spy_thread(monkeypatch, jsonld, "canonize", canonicalizations)
    status, result = await node.verify(vc)
    assert status == 200, result
    # The credential's proof and each status list's proof (two purposes): three signatures.
    assert len(signatures) >= 3, "fewer Ed25519 verifications than proofs; the spy is in the wrong place"
    assert canonicalizations, "no RDFC-1.0 canonicalization was observed; the spy is in the wrong place"
    assert set(signatures) == {"worker thread"}, signatures
    assert set(canonicalizations) == {"worker thread"}, canonicalizations


async def test_signing_work_of_an_issue_and_a_revocation_runs_off_the_event_loop(node: Node, monkeypatch: Any) -> None:
    """Issuing signs the credential (and a new status list); revoking re-signs the list. The
    Ed25519 signatures and RDFC-1.0 canonicalization of both never run on the loop's thread."""
    from vc import jsonld
    from vc.crypto import Ed25519KeyPair

    signatures: list[str] = []
    canonicalizations: list[str] = []
    _spy_thread(monkeypatch, Ed25519KeyPair, "sign", signatures)
    _spy_thread(monkeypatch, jsonld, "canonize", canonicalizations)
    vc = await node.issue()
    issued = len(signatures)
    assert (await node.set_status({"credentialId": vc["id"], "status": "revoked"})).status == 200
    assert issued >= 1 and len(signatures) > issued, "a signature was not observed; the spy is in the wrong place"
    assert canonicalizations, "no canonicalization was observed; the spy is in the wrong place"
    assert set(signatures) == {"worker thread"}, signatures
    assert set(canonicalizations) == {"worker thread"}, canonicalizations


# --- an achievement of this node, awarded by another issuer -------------------------------------


async def test_a_stranger_awarding_this_nodes_achievement_is_not_verified_and_told_why(node: Node) -> None:
    """The library checks only that the signature is the named issuer's; an achievement whose
    URL is this node's is awarded only by the node's issuer defining it (node.trust, the rule
    the verifier page applies too). The API answered verified: true with no word of it."""
    from datetime import datetime, timezone

    from did.key import did_key_from_public_key
    from vc.credentials import issue_credential
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    stored = await node.core.achievements.create(
        "default",
        {
            "slug": "ds-101", "title": "Data Science Fundamentals", "description": "Statistics.", "learningOutcomes": ["Apply regression"],
            "ects": 5, "eqfLevel": 6, "assessment": {"type": "written examination"}, "participation": "online",
            "qualityAssurance": {"description": "Accredited", "url": "https://qa.example/1"},
            "awardingBody": {"name": "University of Example", "countryCode": "NL"},
        },
    )
    url = stored.definition.id
    claim = unsigned(credentialSubject={"id": "did:example:alice", "achievement": {"id": url, "name": "Data Science Fundamentals"}})
    claim["@context"] = [V2, EXAMPLES]
    status, ours = await node.verify(await node.issue(claim))
    assert status == 200 and ours["verified"] is True and not check_named(ours, "achievement"), ours

    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    for spelled in (url, url.replace("http://", "HTTP://") + "?from=mail"):
        doc = {**claim, "issuer": {"id": did, "name": "University of Example"}}
        doc["credentialSubject"] = {**claim["credentialSubject"], "achievement": {"id": spelled, "name": "Data Science Fundamentals"}}
        forged = issue_credential(doc, key=key, verification_method=f"{did}#{key.public_multibase}", suite=SUITES["eddsa-jcs-2022"], loader=default_loader(), now=datetime.now(timezone.utc))
        status, result = await node.verify(forged)
        assert status == 400 and result["verified"] is False, result
        assert [c["outcome"] for c in check_named(result, "proof")] == ["passed"]  # the signature itself is sound
        [check] = check_named(result, "achievement")
        assert check["outcome"] == "failed" and check["achievement"] == url  # the node's own spelling
        [error] = [e for e in result["errors"] if e["code"] == "ACHIEVEMENT_ISSUER_MISMATCH"]
        assert set(error) >= {"type", "code", "title", "detail"}
        assert url in error["detail"]
        assert "not issued by this node's issuer 'default'" in error["detail"] and did in error["detail"]

    # In a presentation, that credential is not verified, so neither is the presentation.
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": _present(forged, challenge), "options": {"challenge": challenge}})
    result = await resp.json()
    assert resp.status == 400 and result["credentialResults"][0]["verified"] is False
    assert any(e["code"] == "ACHIEVEMENT_ISSUER_MISMATCH" for e in result["errors"])


# --- VCALM: what the endpoints do not understand, and the options they do ---------------------

UNKNOWN_OPTION = "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED"


@pytest.mark.parametrize(
    "options,says",
    [
        ({"foo": 1}, "unknown option(s) 'foo'"),
        ({"returnPresentation": True}, "unknown option(s) 'returnPresentation'"),
    ],
)
async def test_verify_refuses_an_unknown_option_as_vcalm_unknown_option_provided(node: Node, options: dict[str, Any], says: str) -> None:
    """VCALM §"Options": "Implementations MUST throw an error if an endpoint receives data,
    options, or option values that it does not understand"; §"Error Handling" types it."""
    vc = await node.issue()
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc, "options": options})
    problem = await problem_of(resp, 400)
    assert problem["type"] == UNKNOWN_OPTION and problem["code"] == "UNKNOWN_OPTION_PROVIDED" and says in problem["detail"]
    assert problem["verified"] is False and problem["errors"][0]["type"] == UNKNOWN_OPTION


@pytest.mark.parametrize(
    "body,says",
    [
        ({"options": {"returnCredential": "yes"}}, "options.returnCredential must be a boolean"),
        ({"options": {"checks": ["proof", "frobnicate"]}}, "options.checks names 'frobnicate', which this node does not check"),
        ({"foo": 1}, "unknown field(s) 'foo'"),
        ({"credential": {}}, "unknown field(s) 'credential'"),
    ],
)
async def test_verify_refuses_option_values_and_members_it_does_not_understand(node: Node, body: dict[str, Any], says: str) -> None:
    vc = await node.issue()
    problem = await problem_of(await node.client.post("/credentials/verify", json={"verifiableCredential": vc, **body}), 400)
    assert says in problem["detail"] and problem["verified"] is False


async def test_verify_takes_every_option_the_w3c_suites_send(node: Node) -> None:
    """What the VC DM 2.0, vc-di-eddsa, Bitstring Status List, vc-api verifier and Data
    Integrity assertion suites post to /credentials/verify and /presentations/verify."""
    vc = await node.issue()
    for options in ({"checks": ["proof"]}, {"checks": ["proof", "credentialStatus"]}, {"expectedProofPurpose": "assertionMethod"}):
        resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc, "options": options})
        assert resp.status == 200, (options, await resp.text())
    # The Data Integrity suite's invalid-domain and invalid-challenge cases: a verification failure, not a refusal.
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc, "options": {"domain": "domain.example", "challenge": "1235abcd6789"}})
    assert resp.status == 400 and (await resp.json())["checks"], await resp.text()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge, "verifier.example")
    options = {"domain": "verifier.example", "challenge": challenge, "checks": ["proof"]}
    resp = await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": options})
    assert resp.status == 200, await resp.text()


async def test_presentation_verify_refuses_unknown_members_and_options(node: Node) -> None:
    vc = await node.issue()
    vp = _present(vc, "c")
    problem = await problem_of(await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"returnCredential": True}}), 400)
    assert problem["type"] == UNKNOWN_OPTION
    problem = await problem_of(await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "extra": 1}), 400)
    assert "unknown field(s) 'extra'" in problem["detail"]


async def test_issue_refuses_an_unknown_member_before_signing(node: Node) -> None:
    me = (await node.core.issuers.get("default")).did
    before = len(await node.core.credentials.list())
    resp = await node.client.post("/credentials/issue", json={"credential": unsigned(issuer=me), "foo": 1}, headers=node.auth("issue"))
    problem = await problem_of(resp, 400)
    assert "unknown field(s) 'foo'" in problem["detail"]
    assert len(await node.core.credentials.list()) == before
    # Issue options were strict already; an unknown one is now typed as VCALM's.
    resp = await node.client.post("/credentials/issue", json={"credential": unsigned(issuer=me), "options": {"created": "2020-04-02T18:48:36Z"}}, headers=node.auth("issue"))
    assert (await problem_of(resp, 400))["type"] == UNKNOWN_OPTION


@pytest.mark.parametrize(
    "edit,says",
    [
        (lambda b: {**b, "foo": 1}, "unknown field(s) 'foo'"),
        (lambda b: {**b, "credentialStatus": {**b["credentialStatus"], "foo": 1}}, "unknown field(s) 'foo' in credentialStatus"),
        (lambda b: {"credentialId": b["credentialId"], "status": "revoked", "reason": "x"}, "unknown field(s) 'reason'"),
        (lambda b: {"credentialId": b["credentialId"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked", "x": 1}]}, "unknown field(s) 'x'"),
    ],
)
async def test_status_refuses_unknown_members_and_revokes_nothing(node: Node, edit: Any, says: str) -> None:
    """Revocation cannot be undone: a member the node does not understand is refused before
    the status changes, not dropped."""
    vc = await node.issue()
    body = {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True}
    problem = await problem_of(await node.set_status(edit(body)), 400)
    assert says in problem["detail"]
    assert (await node.core.credentials.get(vc["id"])).status == "active"
    assert (await node.verify(vc))[0] == 200


async def test_challenges_take_no_body_or_an_empty_object(node: Node) -> None:
    for data in (b"", b"{}"):
        resp = await node.client.post("/challenges", data=data, headers={"Content-Type": "application/json"})
        assert resp.status == 200 and (await resp.json())["challenge"], data
    problem = await problem_of(await node.client.post("/challenges", json={"foo": 1}), 400)
    assert "does not understand 'foo'" in problem["detail"]
    problem = await problem_of(await node.client.post("/challenges", data=b"not json", headers={"Content-Type": "application/json"}), 400)
    assert "not valid JSON" in problem["detail"]


async def test_a_status_entry_named_by_id_must_be_the_credentials_own(node: Node) -> None:
    vc = await node.issue()
    entry = next(s for s in vc["credentialStatus"] if s["statusPurpose"] == "revocation")
    ref = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
    for other in ("https://elsewhere.example/status/9#1", next(s for s in vc["credentialStatus"] if s["statusPurpose"] == "suspension")["id"]):
        problem = await problem_of(await node.set_status({"credentialId": vc["id"], "credentialStatus": {**ref, "id": other}, "status": True}), 400)
        assert f"has no revocation entry with id {other!r}" in problem["detail"] and problem["field"] == "credentialStatus.id"
        assert (await node.core.credentials.get(vc["id"])).status == "active"
    resp = await node.set_status({"credentialId": vc["id"], "credentialStatus": {**ref, "id": entry["id"]}, "status": True})
    assert resp.status == 200 and (await resp.json())["status"] == "revoked"


async def test_return_credential_results_and_problem_details(node: Node) -> None:
    """VCALM VerifyCredentialOptions: returnCredential, returnResults, returnProblemDetails."""
    vc = await node.issue()
    post = lambda v, options: node.client.post("/credentials/verify", json={"verifiableCredential": v, "options": options})  # noqa: E731
    resp = await post(vc, {"returnCredential": True, "returnResults": True})
    result = await resp.json()
    assert resp.status == 200 and result["credential"] == vc
    results = result["results"]
    assert results["validFrom"] == {"verified": True, "input": vc["validFrom"]}
    assert [r["input"] for r in results["credentialStatus"]] == vc["credentialStatus"]
    assert all(r["verified"] is True and r["value"] == 0 for r in results["credentialStatus"])
    assert results["proof"] == [{"verified": True, "input": vc["proof"]}]
    plain = await (await post(vc, {})).json()
    assert "credential" not in plain and "results" not in plain and plain["problemDetails"] == []
    assert "problemDetails" not in await (await post(vc, {"returnProblemDetails": False})).json()
    # Revoked: the revocation entry's result says so, the suspension entry's does not.
    await node.set_status({"credentialId": vc["id"], "status": "revoked"})
    resp = await post(vc, {"returnResults": True, "returnProblemDetails": True})
    result = await resp.json()
    assert resp.status == 400 and result["problemDetails"] == result["errors"]
    by_purpose = {r["input"]["statusPurpose"]: r for r in result["results"]["credentialStatus"]}
    assert by_purpose["revocation"]["verified"] is False and by_purpose["revocation"]["value"] == 1
    assert by_purpose["suspension"]["verified"] is True and result["results"]["proof"][0]["verified"] is True
    # Tampered: the proof's result is false.
    tampered = {**vc, "credentialSubject": {**vc["credentialSubject"], "name": "Mallory"}}
    result = await (await post(tampered, {"returnResults": True})).json()
    assert result["results"]["proof"][0]["verified"] is False


async def test_an_expired_credentials_results_name_valid_until(node: Node) -> None:
    vc = await node.issue(unsigned(validFrom="2020-01-01T00:00:00Z", validUntil="2021-01-01T00:00:00Z"))
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc, "options": {"returnResults": True}})
    results = (await resp.json())["results"]
    assert resp.status == 400
    assert results["validFrom"] == {"verified": True, "input": "2020-01-01T00:00:00Z"}
    assert results["validUntil"] == {"verified": False, "input": "2021-01-01T00:00:00Z"}
    # Not yet valid: the other bound. Read from the bound the check names, not its wording.
    vc = await node.issue(unsigned(validFrom="2999-01-01T00:00:00Z", validUntil="2999-06-01T00:00:00Z"))
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc, "options": {"returnResults": True}})
    body = await resp.json()
    assert resp.status == 400 and body["results"]["validFrom"]["verified"] is False and body["results"]["validUntil"]["verified"] is True
    assert next(c for c in body["checks"] if c["check"] == "validity")["field"] == "validFrom"


async def test_the_proofless_presentation_form_verifies_its_credentials(node: Node) -> None:
    """VCALM ProoflessVerifyPresentationRequest: `{presentation}`; no holder proof, so no
    challenge is required (require_challenge is on here, the default) and none is consumed."""
    vc = await node.issue()
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [vc]}
    resp = await node.client.post("/presentations/verify", json={"presentation": vp, "options": {"returnPresentation": True}})
    result = await resp.json()
    assert resp.status == 200, result
    assert result["verified"] is True and result["credentialResults"][0]["verified"] is True
    assert result["verifiablePresentation"] == vp
    outcomes = {c["check"]: c["outcome"] for c in result["checks"]}
    assert outcomes["proof"] == outcomes["challenge"] == outcomes["domain"] == "skipped"
    # verified reflects the credentials.
    await node.set_status({"credentialId": vc["id"], "status": "revoked"})
    resp = await node.client.post("/presentations/verify", json={"presentation": vp})
    result = await resp.json()
    assert resp.status == 400 and result["verified"] is False and result["credentialResults"][0]["verified"] is False
    # Nothing to compare a challenge with, and a proof belongs in the other form.
    problem = await problem_of(await node.client.post("/presentations/verify", json={"presentation": vp, "options": {"challenge": "c"}}), 400)
    assert problem["type"] == UNKNOWN_OPTION
    signed = _present(vc, "c")
    problem = await problem_of(await node.client.post("/presentations/verify", json={"presentation": signed}), 400)
    assert "send it as verifiablePresentation" in problem["detail"]


async def test_openapi_offers_both_presentation_forms(node: Node) -> None:
    doc = await (await node.client.get("/openapi.json")).json()
    schema = doc["paths"]["/presentations/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    text = json.dumps(schema) + json.dumps(doc.get("components", {}))
    assert "ProoflessPresentationRequest" in text and "SignedPresentationRequest" in text


async def test_an_erased_credential_body_is_gone_not_unknown(node: Node) -> None:
    """VCALM getCredential: 410 "Gone! There is no data here" for a known id without a body."""
    from datetime import datetime, timezone

    vc = await node.issue()
    url = "/credentials/" + vc["id"]
    assert (await node.client.get(url, headers=node.auth("issue"))).status == 200
    await node.core.credentials.purge(now=datetime.now(timezone.utc), ids=[vc["id"]])
    problem = await problem_of(await node.client.get(url, headers=node.auth("issue")), 410)
    assert "erased on" in problem["detail"] and problem["bodyKept"] is False
    await problem_of(await node.client.get("/credentials/urn:uuid:00000000-0000-4000-8000-000000000000", headers=node.auth("issue")), 404)


async def test_a_used_challenge_carried_by_the_proof_is_named_as_the_proofs(node: Node) -> None:
    """No options.challenge was sent: the message names the proof's challenge, not the option."""
    vc = await node.issue()
    challenge = (await (await node.client.post("/challenges")).json())["challenge"]
    vp = _present(vc, challenge)
    assert (await node.client.post("/presentations/verify", json={"verifiablePresentation": vp})).status == 200
    result = await (await node.client.post("/presentations/verify", json={"verifiablePresentation": vp})).json()
    detail = next(e["detail"] for e in result["errors"] if e["code"] == "INVALID_CHALLENGE_ERROR")
    assert f"the proof's challenge {challenge!r}" in detail and "already used" in detail, detail
    result = await (await node.client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": challenge}})).json()
    assert any("options.challenge" in e["detail"] for e in result["errors"] if e["code"] == "INVALID_CHALLENGE_ERROR"), result["errors"]

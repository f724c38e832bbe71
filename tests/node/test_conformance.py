"""What the W3C/CCG interoperability suites send over VC-API, and what they expect back.

Each case below is the request one of those suites makes (the repository and file are named
next to it) and the answer it accepts. The suites drive the node only over HTTP:

- w3c-ccg/vc-api-issuer-test-suite tests/10-issuer.js: every refused issue request is exactly
  400 (not 401, not 422); a good one is 201 with the credential (an ``id`` string, a ``proof``
  object). Its credential is VC 1.1 with the examples/v1 context.
- w3c-ccg/vc-api-verifier-test-suite tests/10-vc-di.js, and
  w3c-ccg/data-integrity-test-suite-assertion suites/verify.js: a credential that must not
  verify answers exactly 400; they send ``options: {checks: ["proof"], ...}``, with
  ``expectedProofPurpose``, ``domain`` or ``challenge`` for some cases.
- w3c/vc-data-model-2.0-test-suite tests/TestEndpoints.js: the issue response may be wrapped in
  ``verifiableCredential``; a verify answer with a non-empty ``errors`` is a rejection, so a
  verified answer carries ``errors: []``; tests/*.js post data-model violations to
  /credentials/issue and expect an HTTP error. Its presentations are signed by the suite with
  its own challenge and domain (tests/data-generator.js), so the verifier must accept the
  challenge the caller expects (VC-API), not only challenges it handed out itself.
- w3c/vc-di-eddsa-test-suite tests/10-rdfc-create.js: ``options`` from the implementation
  manifest (``cryptosuite`` here), a did:key verification method, 64-byte proofValue.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.node.test_vcapi import V1, V2, Node, _present, start_node

EXAMPLES_V1 = "https://www.w3.org/2018/credentials/examples/v1"


@pytest.fixture
async def node(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any) -> Node:
    return await start_node(tmp_path, aiohttp_client, unused_tcp_port_factory)


async def did_key_of(node: Node) -> str:
    issuer = await node.service.get_issuer("default")
    return next(d for d in issuer.dids if d.startswith("did:key:"))


async def post_issue(node: Node, credential: Any, options: Any = None, **extra: Any) -> tuple[int, Any]:
    body: dict[str, Any] = {"credential": credential, **extra}
    if options is not None:
        body["options"] = options
    resp = await node.client.post("/credentials/issue", json=body, headers=node.auth("issue"))
    return resp.status, await resp.json(content_type=None)


# --- w3c-ccg/vc-api-issuer-test-suite tests/10-issuer.js -------------------------------------


def vc_api_issuer_credential(issuer: str) -> dict[str, Any]:
    """tests/validVC.json plus what tests/mock.data.js createRequestBody adds."""
    return {
        "@context": [V1, EXAMPLES_V1],
        "id": f"urn:uuid:{uuid.uuid4()}",  # a fresh one per request, as mock.data.js does
        "type": ["VerifiableCredential", "UniversityDegreeCredential"],
        "issuer": issuer,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b",
            "degree": {"degreeType": "BachelorDegree", "name": "Bachelor of Science and Arts"},
        },
    }


async def test_vc_api_issuer_suite_issues_its_vc_1_1_credential_with_201(node: Node) -> None:
    issuer = await did_key_of(node)
    for extra in ({}, {"expirationDate": "2099-01-01T00:00:00Z"}):
        status, body = await post_issue(node, {**vc_api_issuer_credential(issuer), **extra})
        assert status == 201, body
        vc = body["verifiableCredential"]
        assert isinstance(vc["id"], str) and isinstance(vc["proof"], dict)
        assert vc["issuer"] == issuer and vc["@context"][:2] == [V1, EXAMPLES_V1]


def _drop(key: str) -> Any:
    def edit(c: dict[str, Any]) -> None:
        del c[key]

    return edit


def _set(key: str, value: Any) -> Any:
    def edit(c: dict[str, Any]) -> None:
        c[key] = value

    return edit


ISSUER_SUITE_REFUSALS = [
    ("@context missing", _drop("@context")),
    ("@context 4", _set("@context", 4)),
    ("@context false", _set("@context", False)),
    ("@context null", _set("@context", None)),
    ("@context []", _set("@context", [])),
    ("type missing", _drop("type")),
    ("type 4", _set("type", 4)),
    ("type null", _set("type", None)),
    ("type true", _set("type", True)),
    ("type []", _set("type", [])),
    ("issuer null", _set("issuer", None)),
    ("issuer true", _set("issuer", True)),
    ("issuer 4", _set("issuer", 4)),
    ("issuer []", _set("issuer", [])),
    ("credentialSubject missing", _drop("credentialSubject")),
    ("credentialSubject null", _set("credentialSubject", None)),
    ("credentialSubject true", _set("credentialSubject", True)),
    ("credentialSubject 4", _set("credentialSubject", 4)),
    ("credentialSubject []", _set("credentialSubject", [])),
    ("credentialSubject string", _set("credentialSubject", "did:example:1234")),
]


@pytest.mark.parametrize("name,edit", ISSUER_SUITE_REFUSALS, ids=[n for n, _ in ISSUER_SUITE_REFUSALS])
async def test_vc_api_issuer_suite_refusals_are_exactly_400(node: Node, name: str, edit: Any) -> None:
    credential = vc_api_issuer_credential(await did_key_of(node))
    edit(credential)
    status, body = await post_issue(node, credential)
    assert status == 400, (name, body)
    assert body["type"] and body["title"] and body["detail"]


async def test_vc_api_issuer_suite_body_without_credential_is_400(node: Node) -> None:
    credential = vc_api_issuer_credential(await did_key_of(node))
    resp = await node.client.post("/credentials/issue", json={"verifiableCredential": credential}, headers=node.auth("issue"))
    assert resp.status == 400

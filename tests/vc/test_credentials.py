"""Issuing and verifying credentials: the verdict, one entry per check, and the spec's codes."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from did.key import DIDKeyResolver, did_key_from_public_key
from did.resolver import Resolver
from tests.conftest import load_json
from vc import credentials as credentials_mod
from vc.credentials import issue_credential, verify_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.errors import MalformedValueError, ProofGenerationError
from vc.loader import default_loader
from vc.results import Check, VerificationResult

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
LOADER = default_loader()
ISSUER_KEY = Ed25519KeyPair.from_seed(bytes(range(32)))
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
ISSUER_VM = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
OTHER_KEY = Ed25519KeyPair.from_seed(bytes([7]) * 32)
OTHER = did_key_from_public_key(OTHER_KEY.public_key)
OTHER_VM = f"{OTHER}#{OTHER.removeprefix('did:key:')}"
SUITE_NAMES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]


@pytest.fixture
def resolver() -> Resolver:
    return Resolver({"key": DIDKeyResolver()})


def unsigned(**extra: Any) -> dict[str, Any]:
    vc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:0b3aef56-d8ba-11ed-83dd-58172aacc33c",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": ISSUER,
        "validFrom": "2024-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:student", "degree": {"type": "ExampleBachelorDegree", "name": "BSc"}},
    }
    vc.update(extra)
    return vc


def issue(vc: dict[str, Any] | None = None, suite: str = "eddsa-rdfc-2022", **kw: Any) -> dict[str, Any]:
    return issue_credential(
        vc or unsigned(), key=ISSUER_KEY, verification_method=ISSUER_VM, suite=SUITES[suite], loader=LOADER, now=NOW, **kw
    )


def check(result: VerificationResult, name: str) -> Check:
    found = result.check(name)
    assert found is not None, f"no {name} check in {[c.name for c in result.checks]}"
    return found


def code(result: VerificationResult, name: str) -> str | None:
    c = check(result, name)
    return c.problem.code if c.problem else None


def summary(result: VerificationResult) -> dict[str, str]:
    return {c.name: c.outcome for c in result.checks}


# --- issue and verify round trip ------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITE_NAMES)
async def test_issued_credential_verifies_with_every_check_passed(suite: str, resolver: Resolver) -> None:
    vc = issue(suite=suite)
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert result.verified, result.to_json()
    assert summary(result) == {"bounds": "passed", "dataModel": "passed", "validity": "passed", "proof": "passed", "binding": "passed"}
    assert result.errors == []
    assert result.to_json()["verified"] is True


def test_issue_adds_only_the_proof_and_never_mutates_the_input() -> None:
    source = unsigned()
    before = copy.deepcopy(source)
    vc = issue(source)
    assert source == before
    assert set(vc) == set(source) | {"proof"}
    assert {k: v for k, v in vc.items() if k != "proof"} == source
    vc["credentialSubject"]["changed"] = True  # the signed copy shares nothing with the input
    assert source == before
    proof = vc["proof"]
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == ISSUER_VM
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"


def test_issue_refuses_a_malformed_credential_before_signing() -> None:
    with pytest.raises(MalformedValueError, match="credentialSubject"):
        issue(unsigned(credentialSubject={}))


def test_issue_refuses_a_key_the_issuer_does_not_control() -> None:
    with pytest.raises(ProofGenerationError, match="does not belong to the issuer"):
        issue_credential(unsigned(), key=OTHER_KEY, verification_method=OTHER_VM, suite=SUITES["eddsa-rdfc-2022"], loader=LOADER, now=NOW)


def test_issue_refuses_a_url_issuer_signing_with_a_did_key() -> None:
    with pytest.raises(ProofGenerationError, match="does not belong to the issuer https://university.example"):
        issue(unsigned(issuer={"id": "https://university.example", "name": "University"}))


def test_issue_refuses_vc_1_1() -> None:
    vc = unsigned()
    vc["@context"] = ["https://www.w3.org/2018/credentials/v1"]
    del vc["validFrom"], vc["validUntil"]
    vc["issuanceDate"] = "2024-01-01T00:00:00Z"
    with pytest.raises(MalformedValueError, match="issues VC Data Model 2.0 credentials only"):
        issue(vc)


# --- tampering ------------------------------------------------------------------------------


def _set(path: str, value: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        keys = path.split(".")
        target = doc
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return apply


TAMPERS = [
    ("id", _set("id", "urn:uuid:11111111-d8ba-11ed-83dd-58172aacc33c")),
    ("type", _set("type", ["VerifiableCredential", "ExampleMasterDegreeCredential"])),
    ("validUntil", _set("validUntil", "2031-01-01T00:00:00Z")),
    ("subject id", _set("credentialSubject.id", "did:example:someone-else")),
    ("subject claim", _set("credentialSubject.degree.name", "PhD")),
    ("added claim", _set("credentialSubject.honours", True)),
    ("proof created", _set("proof.created", "2025-01-01T00:00:00Z")),
]


@pytest.mark.parametrize("suite", SUITE_NAMES)
@pytest.mark.parametrize("field, tamper", TAMPERS, ids=[t[0] for t in TAMPERS])
async def test_tampering_with_a_signed_field_fails_the_proof(suite: str, field: str, tamper: Any, resolver: Resolver) -> None:
    vc = issue(suite=suite)
    tamper(vc)
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert not result.verified
    assert check(result, "proof").outcome == "failed"
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR"


async def test_a_proof_by_a_key_the_issuer_does_not_control_fails_binding(resolver: Resolver) -> None:
    from vc import proofs

    vc = proofs.add_proof(
        unsigned(), suite=SUITES["eddsa-rdfc-2022"], key=OTHER_KEY, verification_method=OTHER_VM,
        purpose="assertionMethod", created=NOW, loader=LOADER,
    )
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert check(result, "proof").outcome == "passed"
    assert check(result, "binding").outcome == "failed"
    assert not result.verified


# --- validity, data model, status -----------------------------------------------------------


@pytest.mark.parametrize(
    "now, words",
    [(datetime(2023, 6, 1, tzinfo=timezone.utc), "not yet valid"), (datetime(2031, 6, 1, tzinfo=timezone.utc), "expired")],
)
async def test_outside_the_validity_period_fails_validity_only(now: datetime, words: str, resolver: Resolver) -> None:
    # Signed before it becomes valid (pre-issued), so the proof's created is not in the future.
    vc = issue(created=datetime(2023, 1, 1, tzinfo=timezone.utc))
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=now)
    assert not result.verified
    assert check(result, "validity").outcome == "failed"
    assert code(result, "validity") == "RANGE_ERROR"
    assert words in check(result, "validity").message
    assert check(result, "proof").outcome == "passed"


async def test_a_data_model_error_is_reported_with_its_code_and_the_proof_still_checked(resolver: Resolver) -> None:
    vc = issue()
    vc["credentialSubject"] = {}
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert code(result, "dataModel") == "MALFORMED_VALUE_ERROR"
    assert "credentialSubject" in check(result, "dataModel").message
    assert result.check("validity") is None
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR"


STATUS = {
    "id": "https://university.example/status/1#42",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "42",
    "statusListCredential": "https://university.example/status/1",
}


async def test_credential_status_without_a_checker_is_unknown_not_verified(resolver: Resolver) -> None:
    result = await verify_credential(issue(unsigned(credentialStatus=STATUS)), resolver=resolver, loader=LOADER, now=NOW)
    assert check(result, "proof").outcome == "passed"
    assert check(result, "status").outcome == "unknown"
    assert "no status checker" in check(result, "status").message
    assert not result.verified


async def test_credential_status_is_asked_of_the_injected_checker(resolver: Resolver) -> None:
    seen: list[dict[str, Any]] = []

    async def not_revoked(credential: dict[str, Any]) -> list[Check]:
        seen.append(credential)
        return [Check("status", "passed", "not revoked")]

    vc = issue(unsigned(credentialStatus=STATUS))
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW, check_status=not_revoked)
    assert result.verified, result.to_json()
    assert seen == [vc]


async def test_a_revoked_status_fails_and_a_crashing_checker_is_contained(resolver: Resolver) -> None:
    from vc.errors import StatusRetrievalError

    async def revoked(credential: dict[str, Any]) -> list[Check]:
        return [Check("status", "failed", "revoked")]

    async def unreachable(credential: dict[str, Any]) -> list[Check]:
        raise StatusRetrievalError("https://university.example/status/1 could not be fetched")

    vc = issue(unsigned(credentialStatus=STATUS))
    assert check(await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW, check_status=revoked), "status").outcome == "failed"
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW, check_status=unreachable)
    assert check(result, "status").outcome == "unknown"
    assert code(result, "status") == "STATUS_RETRIEVAL_ERROR"
    assert not result.verified


async def test_a_credential_without_status_gets_no_status_entry(resolver: Resolver) -> None:
    async def never(credential: dict[str, Any]) -> list[Check]:
        raise AssertionError("the status checker must not be asked")

    result = await verify_credential(issue(), resolver=resolver, loader=LOADER, now=NOW, check_status=never)
    assert result.check("status") is None and result.verified


# --- never raises ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [None, [], "a string", 5, {}, {"proof": 5}, {"@context": 5, "proof": {"type": 5}}, unsigned(proof=[])],
)
async def test_verify_never_raises_on_garbage(doc: Any, resolver: Resolver) -> None:
    result = await verify_credential(doc, resolver=resolver, loader=LOADER, now=NOW)
    assert not result.verified
    assert result.errors
    assert isinstance(result.to_json(), dict)


async def test_a_credential_without_proof_fails_with_malformed_proof(resolver: Resolver) -> None:
    result = await verify_credential(unsigned(), resolver=resolver, loader=LOADER, now=NOW)
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR"


# --- VC Data Model 1.1 -----------------------------------------------------------------------


async def test_a_vc_1_1_credential_verifies(resolver: Resolver) -> None:
    from vc import proofs

    vc = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/data-integrity/v2",
            {"@vocab": "https://www.w3.org/ns/credentials/examples#"},
        ],
        "id": "urn:uuid:5c7d1a0e-41f7-11ee-be56-0242ac120002",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": ISSUER,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "expirationDate": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:student", "degreeName": "BSc"},
    }
    signed = proofs.add_proof(
        vc, suite=SUITES["eddsa-rdfc-2022"], key=ISSUER_KEY, verification_method=ISSUER_VM,
        purpose="assertionMethod", created=NOW, loader=LOADER,
    )
    result = await verify_credential(signed, resolver=resolver, loader=LOADER, now=NOW)
    assert result.verified, result.to_json()
    assert check(result, "dataModel").data["version"] == "1.1"
    late = await verify_credential(signed, resolver=resolver, loader=LOADER, now=datetime(2031, 1, 1, tzinfo=timezone.utc))
    assert "expirationDate" in check(late, "validity").message


# --- reference vectors ------------------------------------------------------------------------

BSL = Path("bitstring-status-list") / "spec-rec-examples"
BSL_SIGNED = ["appendix-revocable-credential.eddsa-rdfc-2022.signed.json", "appendix-status-list-credential.eddsa-rdfc-2022.signed.json"]


@pytest.mark.parametrize("name", BSL_SIGNED)
async def test_status_list_spec_examples_verify_at_the_proof_level(name: str, vectors: Path, resolver: Resolver) -> None:
    vc = load_json(vectors / BSL / name)
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert check(result, "dataModel").outcome == "passed"
    assert check(result, "validity").outcome == "passed"
    assert check(result, "proof").outcome == "passed", result.to_json()
    # The examples name issuer did:example:12345 but sign with a did:key: not bound to the issuer.
    assert check(result, "binding").outcome == "failed"
    assert not result.verified


async def test_status_list_spec_example_reports_status_unknown_without_a_checker(vectors: Path, resolver: Resolver) -> None:
    vc = load_json(vectors / BSL / BSL_SIGNED[0])
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert check(result, "status").outcome == "unknown"

    async def fake(credential: dict[str, Any]) -> list[Check]:
        assert credential["credentialStatus"]["statusListIndex"] == "94567"
        return [Check("status", "passed", "revocation bit 94567 is 0")]

    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW, check_status=fake)
    assert check(result, "status").outcome == "passed"


BSL_TAMPERS = [
    ("issuer", _set("issuer", "did:example:54321")),
    ("validFrom", _set("validFrom", "2021-04-05T14:27:43Z")),
    ("type", _set("type", ["VerifiableCredential", "ExampleCredential"])),
    ("subject type", _set("credentialSubject.type", "Organization")),
    ("status index", _set("credentialStatus.statusListIndex", "94568")),
    ("status purpose", _set("credentialStatus.statusPurpose", "suspension")),
    ("status list", _set("credentialStatus.statusListCredential", "https://example.com/credentials/status/4")),
    ("proof created", _set("proof.created", "2025-04-27T20:53:41Z")),
    ("proofValue", lambda vc: vc["proof"].update(proofValue=vc["proof"]["proofValue"][:-4] + "1111")),
]


@pytest.mark.parametrize("field, tamper", BSL_TAMPERS, ids=[t[0] for t in BSL_TAMPERS])
async def test_tampering_with_the_status_list_example_fails_the_proof(field: str, tamper: Any, vectors: Path, resolver: Resolver) -> None:
    vc = load_json(vectors / BSL / BSL_SIGNED[0])
    tamper(vc)
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR", result.to_json()
    assert not result.verified


DI_SIGNED = [
    "eddsa-rdfc-2022/signedDataInt.json",
    "eddsa-rdfc-2022/employ/signedDataInt.json",
    "eddsa-jcs-2022/signedJCS.json",
    "Ed25519Signature2020/signedEdSig.json",
]


@pytest.mark.parametrize("name", DI_SIGNED)
async def test_vc_di_eddsa_vectors_pass_the_proof_but_fail_binding(name: str, vectors: Path, resolver: Resolver) -> None:
    vc = load_json(vectors / "vc-di-eddsa" / name)
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert check(result, "proof").outcome == "passed", result.to_json()
    assert check(result, "binding").outcome == "failed"
    assert not result.verified


# --- hostile input is refused before any JSON-LD work -----------------------------------------


async def test_hostile_credential_is_refused_before_the_proof_engine_runs(monkeypatch: Any, resolver: Resolver) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("the proof engine must not see a document over the bounds")

    monkeypatch.setattr(credentials_mod.proofs, "verify_proofs", boom)
    deep: Any = "leaf"
    for _ in range(1000):
        deep = {"x": deep}
    for doc in (unsigned(evidence=deep), unsigned(proof=[{"type": "DataIntegrityProof"}] * 100)):
        result = await verify_credential(doc, resolver=resolver, loader=LOADER, now=NOW)
        assert [c.name for c in result.checks] == ["bounds"]
        assert code(result, "bounds") == "MALFORMED_VALUE_ERROR"
        assert not result.verified


# --- tampering with the context, the proof and the key ---------------------------------------

PROOF_TAMPERS = [
    # Without the examples context its terms are undefined: safe mode refuses to drop them.
    ("context dropped", lambda vc: vc.update({"@context": vc["@context"][:1]}), "PROOF_TRANSFORMATION_ERROR"),
    ("context swapped", lambda vc: vc["@context"].__setitem__(1, "https://w3id.org/citizenship/v4rc1"), None),
    ("context unknown", lambda vc: vc["@context"].append("https://evil.example/context"), "PROOF_TRANSFORMATION_ERROR"),
    ("cryptosuite", lambda vc: vc["proof"].update(cryptosuite="eddsa-jcs-2022"), "PROOF_VERIFICATION_ERROR"),
    ("proofPurpose", lambda vc: vc["proof"].update(proofPurpose="authentication"), "PROOF_VERIFICATION_ERROR"),
    ("proofValue", lambda vc: vc["proof"].update(proofValue="z" + "1" * 86), None),
    ("other key", lambda vc: vc["proof"].update(verificationMethod=OTHER_VM), "PROOF_VERIFICATION_ERROR"),
    ("proof removed", lambda vc: vc.pop("proof"), "PROOF_VERIFICATION_ERROR"),
]


@pytest.mark.parametrize("what, tamper, expected", PROOF_TAMPERS, ids=[t[0] for t in PROOF_TAMPERS])
async def test_tampering_with_context_proof_or_key_fails(what: str, tamper: Any, expected: str | None, resolver: Resolver) -> None:
    vc = issue()
    tamper(vc)
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert not result.verified
    proof = check(result, "proof")
    assert proof.outcome == "failed"
    assert proof.problem is not None
    if expected is not None:
        assert proof.problem.code == expected, result.to_json()
    else:  # any proof-level code will do, as long as it is one
        assert proof.problem.code.endswith("_ERROR") and proof.problem.code != "INTERNAL_ERROR", result.to_json()

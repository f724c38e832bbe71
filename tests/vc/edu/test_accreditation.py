"""Accreditation credentials: ELM terms with ELM's IRIs in an inline context (the edc-ap
context clashes with VC 2.0), parsed back exactly, refused when malformed, scope findings."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from support import interop_harness, load_json, run_js_sync

from vc.datamodel import check_credential
from vc.edu import IssuerProfile, Learner, build_microcredential, parse_achievement
from vc.edu.accreditation import (
    ACCREDITATION_CONTEXT,
    ELM,
    AccreditationError,
    CredentialFacts,
    Scope,
    build_accreditation_credential,
    credential_facts,
    parse_accreditation,
    period_problem,
    scope_findings,
    scope_from_json,
)
from vc.errors import ProofTransformationError
from vc.jsonld import canonize, expand
from vc.loader import default_loader

ISSUED = datetime(2025, 1, 1, tzinfo=timezone.utc)
BODY, UNI = "did:web:nvao.example", "did:web:uni.example"


def accreditation(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        accrediting_agent=BODY,
        organisation=UNI,
        organisation_name="University of Example",
        date_issued=ISSUED,
        expiry_date=datetime(2031, 1, 1, tzinfo=timezone.utc),
        review_date=datetime(2029, 1, 1, tzinfo=timezone.utc),
        decision="https://nvao.example/decisions/2025-17",
        scope=scope_from_json({"eqfLevels": [6, 5], "fields": ["06"], "jurisdictions": ["NL"]}),
        credential_id="urn:uuid:7d1c0a52-3c55-4c1e-9b7e-1f0b9c7e7a01",
    )
    args.update(kw)
    return build_accreditation_credential(**args)


def elm_context(vectors: Path) -> dict[str, Any]:
    return load_json(vectors / "contexts" / "edc-ap-context.edc-3.2-lts.jsonld")["@context"]


def test_inline_context_uses_elms_own_iris(vectors: Path) -> None:
    """Every term the inline context defines is defined the same way by ELM's edc-ap context."""
    elm = elm_context(vectors)
    own_types = {"VerifiableAccreditation", "VerifiableAccreditationToAttest", "VerifiableAccreditationToAccredit"}
    for term, definition in ACCREDITATION_CONTEXT.items():
        if term in own_types:
            continue
        assert elm[term] == definition, term
    # The clash the inline context avoids: ELM's description is not VC 2.0's.
    assert elm["description"] == {"@id": "dc:description", "@container": "@language"}
    assert "description" not in ACCREDITATION_CONTEXT and "title" not in ACCREDITATION_CONTEXT


def test_edc_ap_context_after_credentials_v2_is_a_protected_term_error(vectors: Path) -> None:
    """Why the inline context: the published ELM context cannot follow credentials/v2."""
    elm = elm_context(vectors)
    doc = accreditation()
    doc["@context"] = ["https://www.w3.org/ns/credentials/v2", elm]
    with pytest.raises(ProofTransformationError, match="redefines a protected term"):
        expand(doc, loader=default_loader())


def test_built_credential_canonicalizes_in_safe_mode_to_elm_triples() -> None:
    vc = accreditation()
    check_credential(vc)
    nquads = canonize(vc, loader=default_loader())
    for iri in ("accreditingAgent", "organisation", "limitEQFLevel", "limitField", "limitJurisdiction", "decision", "reviewDate", "expiryDate", "Accreditation", "Organisation"):
        assert f"<{ELM}{iri}>" in nquads, iri
    assert "<http://purl.org/dc/terms/issued>" in nquads
    assert f"<{UNI}> <https://schema.org/name> \"University of Example\"" in nquads
    assert "<http://data.europa.eu/snb/eqf/6>" in nquads and "country/NLD>" in nquads
    assert vc["validUntil"] == "2031-01-01T00:00:00Z" and vc["validFrom"] == "2025-01-01T00:00:00Z"


def test_parse_reads_back_what_was_built() -> None:
    acc = parse_accreditation(accreditation(kind="accredit"))
    assert acc.accrediting_agent == BODY and acc.organisation == UNI and acc.kind == "accredit"
    assert acc.scope == Scope((5, 6), ("06",), ("NLD",), ())
    assert acc.decision == "https://nvao.example/decisions/2025-17"
    assert acc.expiry_date == "2031-01-01T00:00:00Z" and acc.review_date == "2029-01-01T00:00:00Z"
    assert acc.to_json()["scope"] == {"eqfLevels": [5, 6], "fields": ["06"], "jurisdictions": ["NLD"]}


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda v: v["credentialSubject"]["accreditation"].update(accreditingAgent="did:web:other.example"), "not the credential's issuer"),
        (lambda v: v["credentialSubject"]["accreditation"].update(organisation="did:web:other.example"), "not the credential subject"),
        (lambda v: v["type"].append("VerifiableAccreditationToAccredit"), "exactly one"),
        (lambda v: v["@context"][1].update(limitEQFLevel={"@id": "https://evil.example/limit", "@type": "@id"}), "differently"),
        (lambda v: v["@context"].pop(1), "does not define"),
        (lambda v: v["credentialSubject"]["accreditation"].update(limitEQFLevel=["http://data.europa.eu/snb/eqf/9"]), "limitEQFLevel"),
        (lambda v: v["credentialSubject"].pop("accreditation"), "type Accreditation"),
    ],
)
def test_parse_refuses_malformed_accreditations_by_name(damage: Any, needle: str) -> None:
    vc = copy.deepcopy(accreditation())
    damage(vc)
    with pytest.raises(AccreditationError) as e:
        parse_accreditation(vc)
    assert needle in e.value.detail


def test_builder_refusals() -> None:
    with pytest.raises(AccreditationError, match="cannot accredit itself"):
        accreditation(organisation=BODY)
    with pytest.raises(AccreditationError, match="expiryDate"):
        accreditation(expiry_date=datetime(2024, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(AccreditationError, match="EQF level"):
        scope_from_json({"eqfLevels": [9]})
    with pytest.raises(AccreditationError, match="ISCED"):
        scope_from_json({"fields": ["computing"]})
    with pytest.raises(AccreditationError, match="unknown field"):
        scope_from_json({"levels": [1]})


def test_period() -> None:
    acc = parse_accreditation(accreditation())
    assert period_problem(acc, datetime(2026, 1, 1, tzinfo=timezone.utc)) is None
    assert "expired" in (period_problem(acc, datetime(2031, 6, 1, tzinfo=timezone.utc)) or "")
    assert "future" in (period_problem(acc, datetime(2024, 6, 1, tzinfo=timezone.utc)) or "")
    # a passed review date is not a withdrawal
    assert period_problem(acc, datetime(2030, 1, 1, tzinfo=timezone.utc)) is None


def microcredential(eqf: int, country: str = "NL", field: str | None = "0613") -> dict[str, Any]:
    data = {
        "id": "https://uni.example/achievements/ds",
        "title": "Data science",
        "description": "d",
        "learningOutcomes": ["x"],
        "ects": 5,
        "eqfLevel": eqf,
        "assessment": {"type": "exam"},
        "participation": "online",
        "qualityAssurance": {"description": "NVAO", "url": "https://nvao.example/decisions/2025-17"},
    }
    if field:
        data["fieldOfStudy"] = field
    return build_microcredential(parse_achievement(data), IssuerProfile(UNI, "Uni", country_code=country), Learner("Ana"), valid_from=ISSUED)


def test_scope_findings_against_a_microcredential() -> None:
    scope = parse_accreditation(accreditation()).scope
    facts = credential_facts(microcredential(6))
    assert facts == CredentialFacts(6, ("0613",), "NLD", "https://uni.example/achievements/ds")
    assert scope_findings(scope, facts) == []
    out = {f.dimension: f for f in scope_findings(scope, credential_facts(microcredential(7, "BE", "0411")))}
    assert out["EQF level"].outcome == "failed" and "EQF level 7 is outside the accredited levels 5, 6" in out["EQF level"].message
    assert out["field"].outcome == "failed" and out["jurisdiction"].outcome == "failed"
    silent = {f.dimension: f.outcome for f in scope_findings(scope, credential_facts(microcredential(6, field=None)))}
    assert silent == {"field": "unknown"}
    assert scope_findings(Scope(), CredentialFacts()) == []  # unlimited accreditation
    qual = Scope(qualifications=("https://uni.example/achievements/other",))
    assert [f.outcome for f in scope_findings(qual, facts)] == ["failed"]


# ------------------------------------------------------------------ Digital Bazaar's stack

HARNESS_ISSUER = "did:key:z6MksFHfJHbwxv8mz2eWqVCq1mLkkGzfBrDpKsM29Gg9JMug"  # the harness's fixed issuer key
HARNESS_SEED = bytes.fromhex("26bf2c9af943a2f2e61c56ec89ba1249936a82cd48ddb10dd70f1874b7fbdb00")


def _harness() -> Path:
    return interop_harness()


def _node(*args: str) -> tuple[int, Any]:
    return run_js_sync(*args)


@pytest.mark.interop
def test_reference_stack_verifies_our_accreditation_and_we_verify_its(tmp_path: Path) -> None:
    """The inline ELM context works in both directions with eddsa-rdfc-2022."""
    from did.key import DIDKeyResolver
    from did.resolver import Resolver
    from vc.credentials import issue_credential, verify_credential
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES

    _harness()
    unsigned = accreditation(accrediting_agent=HARNESS_ISSUER)
    key = Ed25519KeyPair.from_seed(HARNESS_SEED)
    ours = issue_credential(unsigned, key=key, verification_method=f"{HARNESS_ISSUER}#{HARNESS_ISSUER[8:]}", suite=SUITES["eddsa-rdfc-2022"], loader=default_loader(), now=ISSUED)
    (tmp_path / "ours.json").write_text(json.dumps(ours))
    code, out = _node("verify.mjs", str(tmp_path / "ours.json"), "--now", "2026-01-01T00:00:00Z")
    assert code == 0 and out["verified"] is True, out

    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    code, theirs = _node("issue.mjs", "--credential", str(tmp_path / "unsigned.json"), "--suite", "eddsa-rdfc-2022", "--created", "2025-01-15T00:00:00Z")
    assert code == 0, theirs
    assert parse_accreditation(theirs) == parse_accreditation(ours)
    result = asyncio.run(verify_credential(theirs, resolver=Resolver({"key": DIDKeyResolver()}), loader=default_loader(), now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert result.verified, result.to_json()


@pytest.mark.interop
def test_reference_eddsa_jcs_verifier_rejects_inline_contexts(tmp_path: Path) -> None:
    """Why the node issues accreditations with eddsa-rdfc-2022 only: @digitalbazaar/
    eddsa-jcs-2022-cryptosuite 1.0.0 compares @context entries with ``!==``, so an inline
    context object never "starts" the document's context, and its own JCS proof fails."""
    _harness()
    (tmp_path / "unsigned.json").write_text(json.dumps(accreditation(accrediting_agent=HARNESS_ISSUER)))
    code, signed = _node("issue.mjs", "--credential", str(tmp_path / "unsigned.json"), "--suite", "eddsa-jcs-2022", "--created", "2025-01-15T00:00:00Z")
    assert code == 0, signed
    (tmp_path / "jcs.json").write_text(json.dumps(signed))
    code, out = _node("verify.mjs", str(tmp_path / "jcs.json"), "--now", "2026-01-01T00:00:00Z")
    assert code == 1 and "does not start with proof.@context" in out["proofs"][0]["error"]["message"]

"""Presentations: holder authentication, challenge and domain, and every embedded credential verified."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from pathlib import Path

import pytest

from support import run_js

from did.key import DIDKeyResolver, did_key_from_public_key
from did.resolver import Resolver
from vc import proofs
from vc.credentials import issue_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.errors import MalformedValueError, ProofGenerationError
from vc.loader import default_loader
from vc.presentations import create_presentation, sign_presentation, verify_presentation
from vc.results import Check, VerificationResult

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
LOADER = default_loader()
RDFC = SUITES["eddsa-rdfc-2022"]


def _party(seed: int) -> tuple[Ed25519KeyPair, str, str]:
    key = Ed25519KeyPair.from_seed(bytes([seed]) * 32)
    did = did_key_from_public_key(key.public_key)
    return key, did, f"{did}#{did.removeprefix('did:key:')}"


ISSUER_KEY, ISSUER, ISSUER_VM = _party(1)
HOLDER_KEY, HOLDER, HOLDER_VM = _party(2)
MALLORY_KEY, MALLORY, MALLORY_VM = _party(3)
CHALLENGE = "c0ae1c8e-c7e7-469f-b252-86e6a0e7387e"
DOMAIN = "https://verifier.example"


@pytest.fixture
def resolver() -> Resolver:
    return Resolver({"key": DIDKeyResolver()})


def credential(n: int = 1, **extra: Any) -> dict[str, Any]:
    vc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": f"urn:uuid:00000000-0000-4000-8000-00000000000{n}",
        "type": ["VerifiableCredential", "ExampleBadgeCredential"],
        "issuer": ISSUER,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER, "badge": f"badge {n}"},
    }
    vc.update(extra)
    return issue_credential(vc, key=ISSUER_KEY, verification_method=ISSUER_VM, suite=RDFC, loader=LOADER, now=NOW)


def signed_vp(creds: list[dict[str, Any]] | None = None, *, challenge: str | None = CHALLENGE, domain: str | None = DOMAIN, suite: Any = RDFC) -> dict[str, Any]:
    vp = create_presentation(creds if creds is not None else [credential()], holder=HOLDER, id="urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5")
    return sign_presentation(
        vp, key=HOLDER_KEY, verification_method=HOLDER_VM, suite=suite, loader=LOADER, now=NOW, challenge=challenge, domain=domain
    )


async def verify(vp: Any, resolver: Resolver, *, challenge: str | None = CHALLENGE, domain: str | None = DOMAIN, **kw: Any) -> VerificationResult:
    return await verify_presentation(vp, resolver=resolver, loader=LOADER, now=NOW, challenge=challenge, domain=domain, **kw)


def check(result: VerificationResult, name: str) -> Check:
    found = result.check(name)
    assert found is not None, f"no {name} check in {[c.name for c in result.checks]}"
    return found


def code(result: VerificationResult, name: str) -> str | None:
    c = check(result, name)
    return c.problem.code if c.problem else None


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_signed_presentation_of_two_credentials_verifies(suite: str, resolver: Resolver) -> None:
    vp = signed_vp([credential(1), credential(2)], suite=SUITES[suite])
    result = await verify(vp, resolver)
    assert result.verified, result.to_json()
    assert {c.name: c.outcome for c in result.checks} == {
        "bounds": "passed", "dataModel": "passed", "challenge": "passed", "domain": "passed", "proof": "passed", "binding": "passed",
    }
    assert len(result.credentials) == 2 and all(r.verified for r in result.credentials)
    assert len(result.to_json()["credentialResults"]) == 2


def test_create_and_sign_never_mutate_and_sign_with_authentication() -> None:
    vc = credential()
    before = copy.deepcopy(vc)
    vp = create_presentation(vc, holder=HOLDER)
    assert vc == before
    assert vp["verifiableCredential"] == [vc] and vp["verifiableCredential"][0] is not vc
    assert "id" not in vp
    vp_before = copy.deepcopy(vp)
    signed = sign_presentation(vp, key=HOLDER_KEY, verification_method=HOLDER_VM, suite=RDFC, loader=LOADER, now=NOW, challenge="c", domain="d")
    assert vp == vp_before
    signed["verifiableCredential"][0]["credentialSubject"]["changed"] = True  # the signed copy shares nothing with the input
    assert vp == vp_before
    signed["verifiableCredential"][0]["credentialSubject"].pop("changed")
    assert signed["proof"]["proofPurpose"] == "authentication"
    assert signed["proof"]["challenge"] == "c" and signed["proof"]["domain"] == "d"


def test_create_refuses_unsigned_credentials_and_sign_refuses_a_key_not_the_holders() -> None:
    unsigned = {k: v for k, v in credential().items() if k != "proof"}
    with pytest.raises(MalformedValueError, match="has no proof"):
        create_presentation([unsigned])
    with pytest.raises(ProofGenerationError, match="does not belong to the holder"):
        sign_presentation(create_presentation([credential()], holder=HOLDER), key=MALLORY_KEY, verification_method=MALLORY_VM, suite=RDFC, loader=LOADER, now=NOW)


async def test_wrong_challenge_fails_with_invalid_challenge(resolver: Resolver) -> None:
    result = await verify(signed_vp(), resolver, challenge="another-challenge")
    assert not result.verified
    assert code(result, "challenge") == "INVALID_CHALLENGE_ERROR"
    assert "another-challenge" in check(result, "challenge").message


async def test_missing_challenge_fails_when_one_is_expected(resolver: Resolver) -> None:
    result = await verify(signed_vp(challenge=None), resolver)
    assert code(result, "challenge") == "INVALID_CHALLENGE_ERROR"
    assert not result.verified


async def test_wrong_domain_fails_with_invalid_domain(resolver: Resolver) -> None:
    result = await verify(signed_vp(), resolver, domain="https://evil.example")
    assert not result.verified
    assert code(result, "domain") == "INVALID_DOMAIN_ERROR"
    assert check(result, "challenge").outcome == "passed"


async def test_expected_challenge_without_any_proof_fails(resolver: Resolver) -> None:
    vp = create_presentation([credential()], holder=HOLDER)
    result = await verify(vp, resolver, domain=None)
    assert code(result, "challenge") == "INVALID_CHALLENGE_ERROR"
    assert "no proof" in check(result, "challenge").message
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR"
    assert not result.verified


async def test_unsigned_presentation_fails_unless_explicitly_allowed(resolver: Resolver) -> None:
    vp = create_presentation([credential()])
    refused = await verify(vp, resolver, challenge=None, domain=None)
    assert code(refused, "proof") == "PROOF_VERIFICATION_ERROR" and not refused.verified
    allowed = await verify(vp, resolver, challenge=None, domain=None, allow_unsigned=True)
    assert check(allowed, "proof").outcome == "skipped"
    assert allowed.verified, allowed.to_json()


async def test_challenge_changed_after_signing_fails_the_proof(resolver: Resolver) -> None:
    vp = signed_vp()
    vp["proof"]["challenge"] = "replayed"
    result = await verify(vp, resolver, challenge="replayed")
    assert check(result, "challenge").outcome == "passed"
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR"
    assert not result.verified


async def test_inner_credential_tampered_before_the_holder_signed_fails_that_credential(resolver: Resolver) -> None:
    tampered = credential()
    tampered["credentialSubject"]["badge"] = "a better badge"
    result = await verify(signed_vp([credential(2), tampered]), resolver)
    assert check(result, "proof").outcome == "passed"  # the holder did sign this
    assert result.credentials[0].verified
    assert not result.credentials[1].verified
    assert code(result.credentials[1], "proof") == "PROOF_VERIFICATION_ERROR"
    assert not result.verified
    assert any(p.code == "PROOF_VERIFICATION_ERROR" and p.detail.startswith("credential 1:") for p in result.errors)


async def test_inner_credential_tampered_after_signing_fails_both_proofs(resolver: Resolver) -> None:
    vp = signed_vp()
    vp["verifiableCredential"][0]["credentialSubject"]["badge"] = "forged"
    result = await verify(vp, resolver)
    assert code(result, "proof") == "PROOF_VERIFICATION_ERROR"
    assert code(result.credentials[0], "proof") == "PROOF_VERIFICATION_ERROR"


async def test_presentation_signed_by_someone_other_than_the_holder_fails_binding(resolver: Resolver) -> None:
    vp = create_presentation([credential()], holder=HOLDER)
    forged = proofs.add_proof(
        vp, suite=RDFC, key=MALLORY_KEY, verification_method=MALLORY_VM, purpose="authentication",
        created=NOW, loader=LOADER, challenge=CHALLENGE, domain=DOMAIN,
    )
    result = await verify(forged, resolver)
    assert check(result, "proof").outcome == "passed"
    assert check(result, "binding").outcome == "failed"
    assert not result.verified


def _own_credentials_presented_without_holder(*, own_proofs: bool) -> dict[str, Any]:
    """The issuer presents credentials it issued, naming no holder (w3c/vc-data-model-2.0-test-suite
    tests/4.13-verifiable-presentations.js, createLocalVp: one did:key signs both)."""
    creds = [credential(1), credential(2)]
    if not own_proofs:
        creds = [{k: v for k, v in c.items() if k != "proof"} for c in creds]
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": creds}
    return proofs.add_proof(
        vp, suite=RDFC, key=ISSUER_KEY, verification_method=ISSUER_VM, purpose="authentication",
        created=NOW, loader=LOADER, challenge=CHALLENGE, domain=DOMAIN,
    )


async def test_a_presenter_may_show_credentials_it_issued_without_naming_a_holder(resolver: Resolver) -> None:
    result = await verify(_own_credentials_presented_without_holder(own_proofs=True), resolver)
    assert result.verified, result.to_json()
    binding = check(result, "binding")
    # Nobody was named, so nobody is bound; who signed is still reported.
    assert binding.outcome == "skipped" and binding.data["signers"][0]["controller"] == ISSUER
    assert all(r.verified for r in result.credentials)


async def test_self_asserted_credentials_secured_only_by_the_presentation_need_a_holder(resolver: Resolver) -> None:
    """VC DM 2.0 §5.13: without their own proofs the presentation's proof is all that secures them."""
    result = await verify(_own_credentials_presented_without_holder(own_proofs=False), resolver)
    assert not result.verified
    assert code(result, "holder") == "MALFORMED_VALUE_ERROR"
    assert "secured only by the presentation's proof" in check(result, "holder").message
    # Each one also fails on its own: the node verifies embedded credentials by their proofs.
    assert [code(r, "proof") for r in result.credentials] == ["PROOF_VERIFICATION_ERROR"] * 2


async def test_presentation_proof_with_assertion_purpose_is_refused(resolver: Resolver) -> None:
    vp = create_presentation([credential()], holder=HOLDER)
    wrong = proofs.add_proof(
        vp, suite=RDFC, key=HOLDER_KEY, verification_method=HOLDER_VM, purpose="assertionMethod",
        created=NOW, loader=LOADER, challenge=CHALLENGE, domain=DOMAIN,
    )
    result = await verify(wrong, resolver)
    assert not result.verified
    assert any(p.code == "PROOF_VERIFICATION_ERROR" for p in result.errors), result.to_json()


async def test_status_checker_reaches_every_embedded_credential(resolver: Resolver) -> None:
    status = {
        "id": "https://issuer.example/status/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "5", "statusListCredential": "https://issuer.example/status/1",
    }
    vp = signed_vp([credential(1, credentialStatus=status), credential(2)])
    unknown = await verify(vp, resolver)
    assert check(unknown.credentials[0], "status").outcome == "unknown"
    assert not unknown.verified

    async def fine(c: dict[str, Any]) -> list[Check]:
        return [Check("status", "passed", "not revoked")]

    assert (await verify(vp, resolver, check_status=fine)).verified


@pytest.mark.parametrize(
    "credential_value, words",
    [
        ("eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln", "a string (a JWT"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "data:application/vc+sd-jwt,eyJ", "type": "EnvelopedVerifiableCredential"}, "EnvelopedVerifiableCredential"),
    ],
)
async def test_unsupported_credential_forms_are_refused_by_name(credential_value: Any, words: str, resolver: Resolver) -> None:
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": [credential_value]}
    result = await verify(vp, resolver, challenge=None, domain=None, allow_unsigned=True)
    assert code(result, "dataModel") == "MALFORMED_VALUE_ERROR"
    assert words in check(result, "dataModel").message
    assert "only embedded JSON-LD" in check(result, "dataModel").message
    assert not result.verified


async def test_an_empty_credential_array_is_refused_and_a_presentation_without_credentials_verifies(resolver: Resolver) -> None:
    # VC DM 2.0 §4.13: verifiableCredential, "If present, the value MUST be one or more
    # verifiable credential and/or enveloped verifiable credential objects".
    bare = sign_presentation(create_presentation([], holder=HOLDER), key=HOLDER_KEY, verification_method=HOLDER_VM, suite=RDFC,
                             loader=LOADER, now=NOW, challenge=CHALLENGE, domain=DOMAIN)
    assert "verifiableCredential" not in bare and (await verify(bare, resolver)).verified  # DID authentication: no credentials
    unsigned = {**create_presentation([], holder=HOLDER), "verifiableCredential": []}
    with pytest.raises(MalformedValueError, match="empty array"):
        sign_presentation(unsigned, key=HOLDER_KEY, verification_method=HOLDER_VM, suite=RDFC, loader=LOADER, now=NOW, challenge=CHALLENGE)
    # Signed by the holder elsewhere: the proof alone would pass, the data model refuses it.
    empty = proofs.add_proof(unsigned, suite=RDFC, key=HOLDER_KEY, verification_method=HOLDER_VM, purpose="authentication",
                             created=NOW, loader=LOADER, challenge=CHALLENGE, domain=DOMAIN)
    result = await verify(empty, resolver)
    assert not result.verified
    assert code(result, "dataModel") == "MALFORMED_VALUE_ERROR" and "empty array" in check(result, "dataModel").message
    assert check(result, "proof").ok


@pytest.mark.parametrize("doc", [None, "vp", [], {}, {"type": "VerifiablePresentation", "proof": "x"}])
async def test_verify_presentation_never_raises(doc: Any, resolver: Resolver) -> None:
    result = await verify(doc, resolver)
    assert not result.verified
    assert result.errors


async def test_too_many_credentials_are_refused_before_any_verification(resolver: Resolver, monkeypatch: Any) -> None:
    import vc.credentials as credentials_mod

    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("the proof engine must not run on a document over the bounds")

    monkeypatch.setattr(credentials_mod.proofs, "verify_proofs", boom)
    one = credential()
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": [one] * 65}
    result = await verify(vp, resolver)
    assert [c.name for c in result.checks] == ["bounds"]
    assert "65 credentials" in check(result, "bounds").message
    assert result.credentials == []


# --- interop with Digital Bazaar's stack (../shared/interop; skipped unless installed) -------


async def _node(*args: str, stdin: bytes | None = None) -> tuple[int, Any]:
    return await run_js(*args, stdin=stdin)


def micro_credentials(count: int) -> list[dict[str, Any]]:
    """``count`` awards of one achievement to one learner, alike but for their ids: what a
    learner presents for a stack, or a re-issued credential beside its predecessor."""
    from vc.edu import IssuerProfile, Learner, build_microcredential, parse_achievement

    achievement = parse_achievement({
        "id": "https://uni.example/achievements/ds-101", "title": "Data Science", "description": "A module.",
        "learningOutcomes": ["Explain regression", "Analyse data"], "ects": 5, "eqfLevel": 6,
        "assessment": {"type": "written examination"}, "participation": "online",
        "qualityAssurance": {"description": "Institutional accreditation", "url": "https://qa.example/decisions/1"},
    })
    issuer = IssuerProfile(ISSUER, "University of Example", country_code="NL")
    return [
        issue_credential(
            build_microcredential(achievement, issuer, Learner("Ana Andromeda", id=HOLDER), valid_from=NOW,
                                  credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}"),
            key=ISSUER_KEY, verification_method=ISSUER_VM, suite=RDFC, loader=LOADER, now=NOW,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [2, 6])
async def test_a_presentation_of_alike_micro_credentials_signs_and_verifies_with_rdfc(count: int, resolver: Resolver) -> None:
    """Two awards of one achievement in a presentation were refused (RDFC-1.0 permutation limit):
    the limit counted len(related)! where pyld walks a few dozen permutations, since a related
    list holds a node once per quad linking it."""
    vp = signed_vp(micro_credentials(count))
    result = await verify(vp, resolver)
    assert result.verified, result.to_json()


@pytest.mark.interop
async def test_we_verify_the_reference_stacks_rdfc_presentation_of_alike_micro_credentials(resolver: Resolver) -> None:
    """The same presentation signed by Digital Bazaar's stack (which signs it in ~80 ms) was
    a PROOF_TRANSFORMATION_ERROR here."""
    import json
    import shutil

    from support import interop_harness

    shutil.copy2(Path(__file__).parent / "js" / "sign_presentation.mjs", interop_harness() / "sign_presentation.mjs")
    code, vp = await _node("sign_presentation.mjs", "--challenge", CHALLENGE, stdin=json.dumps(micro_credentials(3)).encode())
    assert code == 0, vp
    # The harness dates its proof now.
    result = await verify_presentation(vp, resolver=resolver, loader=LOADER, now=datetime.now(timezone.utc), challenge=CHALLENGE, domain=None)
    assert result.verified, result.to_json()


@pytest.mark.interop
@pytest.mark.parametrize("vp_suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_we_verify_a_presentation_the_reference_stack_signed(vp_suite: str, resolver: Resolver) -> None:
    code, vp = await _node("issue.mjs", "--vp", "--challenge", "abc", "--domain", "verifier.example", "--vp-suite", vp_suite)
    assert code == 0, vp
    result = await verify_presentation(vp, resolver=resolver, loader=LOADER, now=NOW, challenge="abc", domain="verifier.example")
    assert result.verified, result.to_json()
    wrong = await verify_presentation(vp, resolver=resolver, loader=LOADER, now=NOW, challenge="abd", domain="verifier.example")
    assert code_of_first_error(wrong) == "INVALID_CHALLENGE_ERROR"


def code_of_first_error(result: VerificationResult) -> str:
    return result.errors[0].code


@pytest.mark.interop
async def test_we_verify_a_vc_1_1_credential_the_reference_stack_signed(resolver: Resolver) -> None:
    from vc.credentials import verify_credential

    code, vc = await _node("issue.mjs", "--suite", "eddsa-jcs-2022", "--vcdm", "1.1")
    assert code == 0, vc
    result = await verify_credential(vc, resolver=resolver, loader=LOADER, now=NOW)
    assert result.verified, result.to_json()
    assert check(result, "dataModel").data["version"] == "1.1"


@pytest.mark.interop
@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_the_reference_stack_verifies_our_presentation(suite: str) -> None:
    import json

    vp = signed_vp([credential(1), credential(2)], suite=SUITES[suite])
    data = json.dumps(vp).encode()
    code, out = await _node("verify.mjs", "-", "--challenge", CHALLENGE, "--domain", DOMAIN, "--now", "2025-06-01T12:00:00Z", stdin=data)
    assert code == 0 and out["verified"] is True, out
    code, out = await _node("verify.mjs", "-", "--challenge", "other", "--domain", DOMAIN, "--now", "2025-06-01T12:00:00Z", stdin=data)
    assert code == 1 and out["verified"] is False


# --- the offload hook -------------------------------------------------------------------------------


async def test_offload_runs_every_canonicalization_and_signature_check_in_its_steps(resolver: Resolver, monkeypatch: Any) -> None:
    """``offload=`` (vc.proofs.Offload) gets the CPU-heavy steps: the structural checks and each
    proof's canonicalization and signature check, of the presentation and of every embedded
    credential. The verdict is the one verifying inline gives."""
    import asyncio
    import threading

    import nacl.signing

    from vc import jsonld

    heavy: list[str] = []
    loop_thread = threading.get_ident()
    for owner, name in ((nacl.signing.VerifyKey, "verify"), (jsonld, "canonize")):
        original = getattr(owner, name)

        def spy(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            heavy.append("loop" if threading.get_ident() == loop_thread else "step")
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, spy)
    steps = 0

    async def offload(step: Any) -> Any:
        nonlocal steps
        steps += 1
        return await asyncio.to_thread(step)

    vp = signed_vp([credential(1), credential(2)])
    inline = await verify(vp, resolver)
    heavy.clear()
    offloaded = await verify(vp, resolver, offload=offload)
    assert offloaded.to_json() == inline.to_json() and offloaded.verified
    # structure + one proof, for the presentation and for each of its two credentials
    assert steps == 6
    assert heavy and set(heavy) == {"step"}, heavy
    tampered = copy.deepcopy(vp)
    tampered["verifiableCredential"][1]["credentialSubject"]["badge"] = "forged"
    result = await verify(tampered, resolver, offload=offload)
    assert not result.verified and result.credentials[0].verified and not result.credentials[1].verified

"""A verification method's ``revoked`` and ``expires`` (Controlled Identifiers 1.0 §2.2) against
the verifier's clock: at or after either time, no proof made with the method verifies; a value
that is no dateTimeStamp makes the method non-conforming (CID §3.3). The QA sweep's finding 1:
an issuer marking its key revoked, the CID way, did not stop its credentials verifying."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from did.multikey import encode_ed25519_public
from did.resolver import StaticResolver
from vc.credentials import verify_credential
from vc.crypto import Ed25519KeyPair
from vc.loader import default_loader
from vc.proofs import add_proof, verify_proofs

V2 = "https://www.w3.org/ns/credentials/v2"
EX = "https://www.w3.org/ns/credentials/examples/v2"
ISSUER = "did:web:issuer.example"
VM = ISSUER + "#key-1"
KEY = Ed25519KeyPair.from_seed(bytes(range(32)))
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def _resolver(**lifetime: str) -> StaticResolver:
    method = {"id": VM, "type": "Multikey", "controller": ISSUER, "publicKeyMultibase": encode_ed25519_public(KEY.public_key)}
    method.update(lifetime)
    return StaticResolver([{
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ISSUER,
        "verificationMethod": [method],
        "assertionMethod": [VM],
    }])


def _signed() -> dict:
    credential = {
        "@context": [V2, EX],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice"},
    }
    return add_proof(credential, suite="eddsa-rdfc-2022", key=KEY, verification_method=VM,
                     created="2025-01-15T00:00:00Z", loader=default_loader())


async def _proof_check(resolver: StaticResolver, now: datetime = NOW):
    checks = await verify_proofs(
        _signed(), resolver=resolver, loader=default_loader(), now=now,
        expected_purpose="assertionMethod", expected_controller=ISSUER,
    )
    return next(c for c in checks if c.name == "proof")


@pytest.mark.parametrize("name, when, said", [
    ("revoked", "2001-01-01T00:00:00Z", "was revoked at 2001-01-01T00:00:00Z"),
    ("expires", "2000-01-01T00:00:00Z", "expired at 2000-01-01T00:00:00Z"),
    # after the proof was created, before the verification: still refused (the proof's created
    # is the signer's word, and a thief of the revoked key can date it as they like)
    ("revoked", "2025-03-01T00:00:00+02:00", "was revoked at 2025-03-01T00:00:00+02:00"),
    # "at or after": the very instant counts
    ("revoked", "2025-06-01T00:00:00Z", "was revoked at 2025-06-01T00:00:00Z"),
    ("expires", "2025-06-01T02:00:00+02:00", "expired at 2025-06-01T02:00:00+02:00"),
])
async def test_a_method_revoked_or_expired_by_now_verifies_no_proof(name, when, said):
    check = await _proof_check(_resolver(**{name: when}))
    assert check.outcome == "failed"
    assert check.problem.code == "INVALID_VERIFICATION_METHOD"
    assert check.problem.type == "https://w3id.org/security#INVALID_VERIFICATION_METHOD"
    assert VM in check.message and said in check.message, check.message


async def test_a_forgery_naming_a_withdrawn_key_is_a_signature_that_does_not_verify():
    """The withdrawn-key refusal (which the page tells as the issuer's doing, not tampering) is
    said only of what the key did sign; a changed document naming it fails its signature."""
    tampered = _signed()
    tampered["credentialSubject"]["id"] = "did:example:mallory"
    checks = await verify_proofs(
        tampered, resolver=_resolver(revoked="2001-01-01T00:00:00Z"), loader=default_loader(), now=NOW,
        expected_purpose="assertionMethod", expected_controller=ISSUER,
    )
    check = next(c for c in checks if c.name == "proof")
    assert check.outcome == "failed" and check.problem.code == "PROOF_VERIFICATION_ERROR", check.message


@pytest.mark.parametrize("lifetime", [
    {"revoked": "2025-06-01T00:00:01Z"},
    {"expires": "2030-01-01T00:00:00Z"},
    {"revoked": "99999-01-01T00:00:00Z", "expires": "2026-01-01T00:00:00Z"},
])
async def test_a_method_revoked_or_expiring_later_still_verifies(lifetime):
    check = await _proof_check(_resolver(**lifetime))
    assert check.outcome == "passed", check.message


async def test_the_time_compared_is_the_verifiers_clock():
    resolver = _resolver(revoked="2025-03-01T00:00:00Z")
    assert (await _proof_check(resolver, now=datetime(2025, 2, 1, tzinfo=timezone.utc))).outcome == "passed"
    assert (await _proof_check(resolver, now=datetime(2025, 3, 1, tzinfo=timezone.utc))).outcome == "failed"


@pytest.mark.parametrize("name, value", [
    ("revoked", "yesterday"),
    ("revoked", "2001-01-01T00:00:00"),  # no time zone: a dateTime, not a dateTimeStamp
    ("expires", "2001-02-29T00:00:00Z"),
    ("revoked", 978307200),
    ("expires", None),
])
async def test_a_revoked_or_expires_that_is_no_date_time_stamp_makes_the_method_invalid(name, value):
    check = await _proof_check(_resolver(**{name: value}))
    assert check.outcome == "failed"
    assert check.problem.code == "INVALID_VERIFICATION_METHOD"
    assert "dateTimeStamp" in check.message and VM in check.message, check.message


async def test_verify_credential_refuses_a_credential_signed_with_a_revoked_key():
    result = await verify_credential(
        _signed(), resolver=_resolver(revoked="2001-01-01T00:00:00Z"), loader=default_loader(), now=NOW,
    )
    assert not result.verified
    assert [p.code for p in result.check_problems] == ["INVALID_VERIFICATION_METHOD"]
    # VC DM 2.0 §7.1: the failed proof also adds a CRYPTOGRAPHIC_SECURITY_ERROR after it.
    assert [p.code for p in result.errors] == ["INVALID_VERIFICATION_METHOD", "CRYPTOGRAPHIC_SECURITY_ERROR"]
    assert "was revoked at 2001-01-01T00:00:00Z" in result.errors[0].detail

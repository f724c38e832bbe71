"""End to end through verify_proofs: a verification method whose controller is not the DID of
the document holding it fails the proof (Controlled Identifiers 1.0 §3.3 step 10), even when
the foreign controller's document lists the key for the purpose; an over-long did:key is a
result entry, not minutes of base58 decoding."""

from __future__ import annotations

from datetime import datetime, timezone

from did.key import DIDKeyResolver
from did.multikey import encode_ed25519_public
from did.resolver import StaticResolver
from vc.crypto import Ed25519KeyPair
from vc.loader import default_loader
from vc.proofs import add_proof, verify_proofs

V2 = "https://www.w3.org/ns/credentials/v2"
EX = "https://www.w3.org/ns/credentials/examples/v2"
CTRL_A = "did:web:ctrl.example:ctrlA"
CTRL_B = "did:web:ctrl.example:ctrlB"
VM = CTRL_A + "#key-1"
KEY = Ed25519KeyPair.from_seed(bytes(range(32)))


def _documents(controller: str) -> list[dict]:
    a = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": CTRL_A,
        "verificationMethod": [
            {"id": "#key-1", "type": "Multikey", "controller": controller, "publicKeyMultibase": encode_ed25519_public(KEY.public_key)}
        ],
        "assertionMethod": ["#key-1"],
    }
    b = {"@context": ["https://www.w3.org/ns/did/v1"], "id": CTRL_B, "assertionMethod": [VM]}
    return [a, b]


def _signed(issuer: str) -> dict:
    credential = {
        "@context": [V2, EX],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice"},
    }
    return add_proof(credential, suite="eddsa-rdfc-2022", key=KEY, verification_method=VM,
                     created="2025-01-01T00:00:00Z", loader=default_loader())


async def _checks(controller: str, issuer: str) -> dict:
    checks = await verify_proofs(
        _signed(issuer),
        resolver=StaticResolver(_documents(controller)),
        loader=default_loader(),
        now=datetime(2025, 6, 1, tzinfo=timezone.utc),
        expected_purpose="assertionMethod",
        expected_controller=issuer,
    )
    return {c.name: (c.outcome, c.problem.code if c.problem else None, c.message, c.problem.type if c.problem else None) for c in checks}


async def test_a_method_of_the_documents_own_did_verifies_and_binds():
    checks = await _checks(CTRL_A, CTRL_A)
    assert {k: v[:2] for k, v in checks.items()} == {"proof": ("passed", None), "binding": ("passed", None)}


async def test_a_method_claiming_a_foreign_controller_fails_with_invalid_verification_method():
    checks = await _checks(CTRL_B, CTRL_B)
    assert {k: v[:2] for k, v in checks.items()} == {
        "proof": ("failed", "INVALID_VERIFICATION_METHOD"),
        "binding": ("failed", "INVALID_VERIFICATION_METHOD"),
    }
    assert "controller 'did:web:ctrl.example:ctrlB'" in checks["proof"][2]
    # Controlled Identifiers 1.0 §3.3's error type, under the security vocabulary
    assert checks["proof"][3] == "https://w3id.org/security#INVALID_VERIFICATION_METHOD"


async def test_the_qa_sweeps_400k_did_key_is_an_invalid_did_url_entry():
    signed = _signed(CTRL_A)
    signed["proof"]["verificationMethod"] = "did:key:z6Mk" + "2" * 400_000 + "#x"
    checks = await verify_proofs(
        signed,
        resolver=StaticResolver([], methods={"key": DIDKeyResolver()}),
        loader=default_loader(),
        now=datetime(2025, 6, 1, tzinfo=timezone.utc),
        expected_purpose="assertionMethod",
        expected_controller=CTRL_A,
    )
    proof = next(c for c in checks if c.name == "proof")
    assert (proof.outcome, proof.problem.code) == ("failed", "INVALID_DID_URL")
    assert proof.problem.extra["didErrorCode"] == "invalidDidUrl"
    assert "at most 4096 characters" in proof.message


async def test_a_proof_naming_a_bare_did_web_does_not_verify():
    """The QA sweep's finding 8: a proof whose verificationMethod is a bare did:web (one signing
    method in its document) verified; CID 1.0 §3.3 refuses it (the JS reference does too)."""
    signed = _signed(CTRL_A)
    signed["proof"]["verificationMethod"] = CTRL_A
    checks = await verify_proofs(
        signed, resolver=StaticResolver(_documents(CTRL_A)), loader=default_loader(),
        now=datetime(2025, 6, 1, tzinfo=timezone.utc), expected_purpose="assertionMethod", expected_controller=CTRL_A,
    )
    proof = next(c for c in checks if c.name == "proof")
    assert (proof.outcome, proof.problem.code) == ("failed", "INVALID_VERIFICATION_METHOD")
    assert "is a DID, not a verification method" in proof.message

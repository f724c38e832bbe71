"""vc.cryptosuites: lookup, the per-suite checks on proof options, proofValue decoding."""

from __future__ import annotations

import pytest

from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import (
    ED25519_SIGNATURE_2020,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    SUITES,
    decode_proof_value,
    suite_for,
)
from vc.errors import ProblemError
from vc.loader import default_loader

V2 = "https://www.w3.org/ns/credentials/v2"
DOC = {
    "@context": [V2],
    "id": "urn:uuid:1",
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "did:example:subject"},
}


def _code(fn) -> str:
    with pytest.raises(ProblemError) as e:
        fn()
    return e.value.problem().code


def test_suites_are_keyed_by_name():
    assert set(SUITES) == {"eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"}


@pytest.mark.parametrize(
    "proof, suite",
    [
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}, EDDSA_RDFC_2022),
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}, EDDSA_JCS_2022),
        ({"type": "Ed25519Signature2020"}, ED25519_SIGNATURE_2020),
    ],
)
def test_suite_for_finds_the_suite(proof, suite):
    assert suite_for(proof) is suite


@pytest.mark.parametrize(
    "proof",
    [
        {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdf-2022"},  # the OB3 example's typo
        {"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019"},
        {"type": "DataIntegrityProof"},
        {"type": "Ed25519Signature2018"},
        {"type": "DataIntegrityProof", "cryptosuite": "Ed25519Signature2020"},
        {"type": "Ed25519Signature2020", "cryptosuite": "eddsa-rdfc-2022"},
    ],
)
def test_unknown_suite_is_a_verification_error(proof):
    assert _code(lambda: suite_for(proof)) == "PROOF_VERIFICATION_ERROR"


@pytest.mark.parametrize("value", ["", "z", "uAAAA", "z0OIl", 7, None, "zz!"])
def test_bad_proof_value_is_malformed(value):
    assert _code(lambda: decode_proof_value(value)) == "PROOF_VERIFICATION_ERROR"


def test_an_over_long_proof_value_is_refused_before_it_is_decoded(monkeypatch):
    """base58 decoding is quadratic (a 400,000-character proofValue cost ~20 s of CPU): a value
    longer than any Ed25519 signature is refused before the decoder sees it."""
    import vc.cryptosuites.base as base

    seen: list[int] = []
    real = base.b58decode
    monkeypatch.setattr(base, "b58decode", lambda text: seen.append(len(text)) or real(text))
    with pytest.raises(Exception) as refused:
        decode_proof_value("z" + "2" * 400_000)
    assert "400001 characters" in refused.value.detail and seen == []
    signature = Ed25519KeyPair.from_seed(bytes(32)).sign(b"m")
    assert decode_proof_value("z" + base.b58encode(b"\0" * 64)) == b"\0" * 64  # the longest a signature is
    assert decode_proof_value("z" + base.b58encode(signature)) == signature


def test_short_signature_does_not_verify():
    key = Ed25519KeyPair.from_seed(bytes(32))
    assert _code(lambda: EDDSA_RDFC_2022.verify(b"x" * 64, "z3yMApqCuCjXDWPrbjfR5mjCPTHqFG8Pux1TxQrEM35jj", key.public_key)) == (
        "PROOF_VERIFICATION_ERROR"
    )


def test_signature_round_trip_and_wrong_key():
    key, other = Ed25519KeyPair.from_seed(bytes(32)), Ed25519KeyPair.from_seed(bytes([1]) * 32)
    value = EDDSA_JCS_2022.sign(b"data", key)
    EDDSA_JCS_2022.verify(b"data", value, key.public_key)
    assert _code(lambda: EDDSA_JCS_2022.verify(b"data", value, other.public_key)) == "PROOF_VERIFICATION_ERROR"
    assert _code(lambda: EDDSA_JCS_2022.verify(b"datA", value, key.public_key)) == "PROOF_VERIFICATION_ERROR"


def test_a_key_pair_signs_as_rfc_8032_and_refuses_a_public_key_not_its_seeds():
    # RFC 8032 §7.1, test 1: the seed, its public key and the signature of the empty message.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = Ed25519KeyPair.from_seed(seed)
    assert key.public_key.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    # A signature made with another public key than the seed's can give the seed away.
    with pytest.raises(ValueError, match="not the seed's"):
        Ed25519KeyPair(seed=seed, public_key=Ed25519KeyPair.from_seed(bytes(32)).public_key)


@pytest.mark.parametrize("suite", [EDDSA_RDFC_2022, EDDSA_JCS_2022, ED25519_SIGNATURE_2020], ids=lambda s: s.name)
def test_options_for_another_suite_are_refused(suite):
    other = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-other"}
    doc = ED25519_SIGNATURE_2020.prepare_document(DOC)
    assert _code(lambda: suite.transform(doc, other, loader=default_loader())) == "PROOF_TRANSFORMATION_ERROR"
    assert _code(lambda: suite.configure_proof(other, doc, loader=default_loader())) == "PROOF_GENERATION_ERROR"


def test_rdfc_proof_configuration_uses_the_document_context_not_the_proofs():
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
               "verificationMethod": "did:example:issuer#k", "@context": ["https://evil.example/ctx"]}
    # The proof's own @context is ignored (an unknown one would otherwise fail to load).
    canon = EDDSA_RDFC_2022.configure_proof(options, DOC, loader=default_loader()).decode()
    assert "https://w3id.org/security#assertionMethod" in canon
    assert EDDSA_RDFC_2022.proof_options(options, DOC) == options


def test_jcs_proof_carries_the_document_context():
    proof = EDDSA_JCS_2022.proof_options({"type": "DataIntegrityProof"}, DOC)
    assert proof["@context"] == [V2]


def test_jcs_refuses_a_document_whose_context_does_not_start_with_the_proofs():
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "@context": [V2, "https://x.example/c"]}
    assert _code(lambda: EDDSA_JCS_2022.transform(DOC, options, loader=default_loader())) == "PROOF_VERIFICATION_ERROR"


def test_jcs_signs_the_document_with_the_proofs_context():
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "@context": [V2]}
    longer = {**DOC, "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"]}
    assert EDDSA_JCS_2022.transform(longer, options, loader=default_loader()) == EDDSA_JCS_2022.transform(
        DOC, options, loader=default_loader()
    )


def test_jcs_refuses_values_json_cannot_hold():
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}
    assert _code(lambda: EDDSA_JCS_2022.transform({**DOC, "n": float("nan")}, options, loader=default_loader())) == (
        "PROOF_TRANSFORMATION_ERROR"
    )


def test_ed25519_2020_adds_its_context_once_and_requires_it_to_verify():
    prepared = ED25519_SIGNATURE_2020.prepare_document(DOC)
    assert prepared["@context"] == [V2, "https://w3id.org/security/suites/ed25519-2020/v1"]
    assert ED25519_SIGNATURE_2020.prepare_document(prepared) == prepared
    assert DOC["@context"] == [V2]  # input untouched
    options = {"type": "Ed25519Signature2020"}
    assert _code(lambda: ED25519_SIGNATURE_2020.transform(DOC, options, loader=default_loader())) == (
        "PROOF_TRANSFORMATION_ERROR"
    )


def test_hash_is_proof_config_hash_then_document_hash():
    import hashlib

    assert EDDSA_RDFC_2022.hash(b"doc", b"cfg") == hashlib.sha256(b"cfg").digest() + hashlib.sha256(b"doc").digest()


def test_public_surface_is_pinned():
    import vc.cryptosuites

    assert sorted(vc.cryptosuites.__all__) == sorted(
        ["Cryptosuite", "Ed25519Suite", "SUITES", "suite_for", "decode_proof_value",
         "EDDSA_RDFC_2022", "EDDSA_JCS_2022", "ED25519_SIGNATURE_2020"]
    )
    assert all(hasattr(vc.cryptosuites, name) for name in vc.cryptosuites.__all__)

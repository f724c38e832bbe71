"""Every vector of W3C vc-di-eddsa (../shared/vectors/vc-di-eddsa) reproduced byte for byte.

Step by step (canonical document, its hash, canonical proof options, their hash, the combined
hash, the signature, proofValue, the signed document), then verification of every signed
document, including the proof-set and proof-chain vectors. Ed25519 is deterministic, so signing
with the vector key must give exactly the published signed document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import base58
import pytest

from support import load_json
from did.key import DIDKeyResolver
from did.resolver import Resolver
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader
from vc.proofs import _unsecured, add_proof, proofs_of, verify_proofs


@dataclass(frozen=True)
class Vector:
    suite: str
    folder: str
    suffix: str  # file-name suffix the vector set uses
    unsigned: str

    def path(self, base: Path, stem: str, ext: str = "txt") -> Path:
        return base / "vc-di-eddsa" / self.folder / f"{stem}{self.suffix}.{ext}"


VECTORS = [
    Vector("eddsa-rdfc-2022", "eddsa-rdfc-2022", "DataInt", "unsigned.json"),
    Vector("eddsa-rdfc-2022", "eddsa-rdfc-2022/employ", "DataInt", "employmentAuth.json"),
    Vector("eddsa-jcs-2022", "eddsa-jcs-2022", "JCS", "unsigned.json"),
    Vector("Ed25519Signature2020", "Ed25519Signature2020", "EdSig", "unsigned.json"),
]
IDS = ["rdfc", "rdfc-employ", "jcs", "ed25519-2020"]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture
def resolver():
    return Resolver({"key": DIDKeyResolver()})


@pytest.fixture
def key(vectors):
    return Ed25519KeyPair.from_multikey(load_json(vectors / "vc-di-eddsa" / "keyPair.json"))


def _steps(vectors, v: Vector):
    suite = SUITES[v.suite]
    unsigned = suite.prepare_document(load_json(vectors / "vc-di-eddsa" / v.unsigned))
    options = load_json(v.path(vectors, "proofConfig", "json"))
    proof = suite.proof_options({k: val for k, val in options.items() if k != "@context"}, unsigned)
    return suite, unsigned, options, proof


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_canonical_document(vectors, v):
    suite, unsigned, _, proof = _steps(vectors, v)
    assert suite.transform(unsigned, proof, loader=default_loader()).decode() == _text(v.path(vectors, "canonDoc"))


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_document_hash(vectors, v):
    suite, unsigned, _, proof = _steps(vectors, v)
    transformed = suite.transform(unsigned, proof, loader=default_loader())
    assert hashlib.sha256(transformed).hexdigest() == _text(v.path(vectors, "docHash")).strip()


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_canonical_proof_configuration(vectors, v):
    suite, unsigned, options, proof = _steps(vectors, v)
    # The vector's proof options carry @context as the suite's configuration step sets it.
    assert options.get("@context") == unsigned["@context"]
    canon = suite.configure_proof(proof, unsigned, loader=default_loader())
    assert canon.decode() == _text(v.path(vectors, "proofCanon"))
    assert hashlib.sha256(canon).hexdigest() == _text(v.path(vectors, "proofHash")).strip()


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_combined_hash_signature_and_proof_value(vectors, v, key):
    suite, unsigned, _, proof = _steps(vectors, v)
    hash_data = suite.hash(
        suite.transform(unsigned, proof, loader=default_loader()),
        suite.configure_proof(proof, unsigned, loader=default_loader()),
    )
    assert hash_data.hex() == _text(v.path(vectors, "combinedHash")).strip()
    proof_value = suite.sign(hash_data, key)
    assert base58.b58decode(proof_value[1:]).hex() == _text(v.path(vectors, "sigHex")).strip()
    assert proof_value == _text(v.path(vectors, "sigBTC58")).strip()


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_signing_reproduces_the_signed_document(vectors, v, key):
    options = load_json(v.path(vectors, "proofConfig", "json"))
    signed = add_proof(
        load_json(vectors / "vc-di-eddsa" / v.unsigned),
        suite=v.suite,
        key=key,
        verification_method=options["verificationMethod"],
        purpose=options["proofPurpose"],
        created=options["created"],
        loader=default_loader(),
    )
    assert signed == load_json(v.path(vectors, "signed", "json"))


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
async def test_signed_document_verifies(vectors, v, resolver, now):
    signed = load_json(v.path(vectors, "signed", "json"))
    checks = await verify_proofs(
        signed, resolver=resolver, loader=default_loader(), now=now, expected_purpose="assertionMethod"
    )
    # No issuer expected here (see the next test): who signed is reported, not bound.
    assert [(c.name, c.outcome) for c in checks] == [("proof", "passed"), ("binding", "skipped")], [c.to_json() for c in checks]
    assert checks[0].data["cryptosuite"] == v.suite


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
async def test_issuer_does_not_control_the_vector_key(vectors, v, resolver, now):
    """Vectors README caveat 5: the proof verifies, but the issuer is not the key's controller."""
    signed = load_json(v.path(vectors, "signed", "json"))
    issuer = signed["issuer"] if isinstance(signed["issuer"], str) else signed["issuer"]["id"]
    checks = await verify_proofs(
        signed,
        resolver=resolver,
        loader=default_loader(),
        now=now,
        expected_purpose="assertionMethod",
        expected_controller=issuer,
    )
    proof, binding = checks
    assert proof.outcome == "passed"
    assert binding.outcome == "failed"
    assert binding.problem.code == "INVALID_VERIFICATION_METHOD"
    assert issuer in binding.message


# --- proof sets and chains ------------------------------------------------------------------------

SET_CHAIN = [
    # (signed result, previous document, proof configuration)
    ("signedProofSet1.json", "unsigned.json", "proofSetConfig1.json"),
    ("signedProofSet2.json", "signedProofSet1.json", "proofSetConfig2.json"),
    ("signedProofChain1.json", "signedProofSet2.json", "proofChainConfig1.json"),
    ("signedProofChain2.json", "signedProofChain1.json", "proofChainConfig2.json"),
]


def _keys(vectors) -> dict[str, Ed25519KeyPair]:
    pairs = load_json(vectors / "vc-di-eddsa" / "proof-set-chain" / "multiKeyPairs.json")
    return {p["publicKeyMultibase"]: Ed25519KeyPair.from_multikey(p) for p in pairs.values()}


@pytest.mark.parametrize("signed_name, previous_name, config_name", SET_CHAIN, ids=[s[0] for s in SET_CHAIN])
def test_proof_set_and_chain_signing_reproduces_vector(vectors, signed_name, previous_name, config_name):
    base = vectors / "vc-di-eddsa" / "proof-set-chain"
    config = load_json(base / config_name)
    key = _keys(vectors)[config["verificationMethod"].split("#")[1]]
    signed = add_proof(
        load_json(base / previous_name),
        suite=config["cryptosuite"],
        key=key,
        verification_method=config["verificationMethod"],
        purpose=config["proofPurpose"],
        created=config["created"],
        proof_id=config.get("id"),
        previous_proof=config.get("previousProof"),
        loader=default_loader(),
    )
    assert signed == load_json(base / signed_name)
    signed_config = load_json(base / config_name.replace("Config", "ConfigSigned"))
    assert proofs_of(signed)[-1] == signed_config


@pytest.mark.parametrize("stage", [1, 2])
def test_chained_proof_covers_the_document_with_its_previous_proofs(vectors, stage):
    base = vectors / "vc-di-eddsa" / "proof-set-chain"
    signed = load_json(base / f"signedProofChain{stage}.json")
    config = load_json(base / f"proofChainConfig{stage}.json")
    previous = config["previousProof"] if isinstance(config["previousProof"], list) else [config["previousProof"]]
    chained = [p for ref in previous for p in proofs_of(signed) if p.get("id") == ref]
    assert _unsecured(signed, chained) == load_json(base / f"proofChainTempDoc{stage}.json")


@pytest.mark.parametrize("name", [s[0] for s in SET_CHAIN])
async def test_proof_sets_and_chains_verify(vectors, name, resolver, now):
    signed = load_json(vectors / "vc-di-eddsa" / "proof-set-chain" / name)
    checks = await verify_proofs(
        signed, resolver=resolver, loader=default_loader(), now=now, expected_purpose="assertionMethod"
    )
    assert [c.name for c in checks] == ["proof"] * len(proofs_of(signed)) + ["binding"]
    assert all(c.outcome == "passed" for c in checks[:-1]), [c.to_json() for c in checks if not c.ok]
    assert checks[-1].outcome == "skipped"


async def test_chain_with_a_missing_previous_proof_fails(vectors, resolver, now):
    signed = load_json(vectors / "vc-di-eddsa" / "proof-set-chain" / "signedProofChain2.json")
    signed["proof"] = [p for p in signed["proof"] if p.get("id") != "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"]
    checks = await verify_proofs(
        signed, resolver=resolver, loader=default_loader(), now=now, expected_purpose="assertionMethod"
    )
    failed = [c for c in checks if c.name == "proof" and not c.ok]
    assert len(failed) == 1 and failed[0].problem.code == "PROOF_VERIFICATION_ERROR"
    assert "previousProof" in failed[0].message


async def test_one_bad_proof_in_a_set_fails_the_set(vectors, resolver, now):
    signed = load_json(vectors / "vc-di-eddsa" / "proof-set-chain" / "signedProofSet2.json")
    signed["proof"][1]["created"] = "2023-02-24T23:36:39Z"
    checks = await verify_proofs(
        signed, resolver=resolver, loader=default_loader(), now=now, expected_purpose="assertionMethod"
    )
    outcomes = [(c.name, c.outcome) for c in checks]
    assert outcomes == [("proof", "passed"), ("proof", "failed"), ("binding", "skipped")]
    assert checks[1].problem.code == "PROOF_VERIFICATION_ERROR"
    assert checks[1].data["proofIndex"] == 1


@pytest.mark.parametrize(
    "name",
    ["appendix-revocable-credential.eddsa-rdfc-2022.signed.json", "appendix-status-list-credential.eddsa-rdfc-2022.signed.json"],
)
async def test_bitstring_status_list_examples_verify(vectors, name, resolver, now):
    """The two signed examples of the Bitstring Status List Recommendation (bare did:key VM)."""
    signed = load_json(vectors / "bitstring-status-list" / "spec-rec-examples" / name)
    checks = await verify_proofs(
        signed, resolver=resolver, loader=default_loader(), now=now, expected_purpose="assertionMethod"
    )
    assert all(c.ok for c in checks), [c.to_json() for c in checks]

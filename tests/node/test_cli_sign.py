"""``vcnode sign``: reproduces the W3C vector, signs what verifies, exit 2 on unusable input."""

from __future__ import annotations

import json

import pytest

from support import load_json
from node.cli import main
from vc.crypto import Ed25519KeyPair


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "suite, signed",
    [
        ("eddsa-rdfc-2022", "eddsa-rdfc-2022/signedDataInt.json"),
        ("eddsa-jcs-2022", "eddsa-jcs-2022/signedJCS.json"),
        ("Ed25519Signature2020", "Ed25519Signature2020/signedEdSig.json"),
    ],
)
def test_sign_reproduces_the_vector(vectors, capsys, suite, signed):
    base = vectors / "vc-di-eddsa"
    vm = load_json(base / signed)["proof"]["verificationMethod"]
    code, out, err = _run(
        capsys, "sign", str(base / "unsigned.json"), "--key", str(base / "keyPair.json"), "--suite", suite,
        "--verification-method", vm, "--created", "2023-02-24T23:36:38Z",
    )
    assert code == 0, err
    assert json.loads(out) == load_json(base / signed)


def test_sign_defaults_to_the_key_files_id(tmp_path, capsys, vectors):
    pair = Ed25519KeyPair.from_seed(bytes(32))
    key = {"id": "did:web:uni.example#key-1", "type": "Multikey", "secretKeyMultibase": pair.secret_multibase}
    (tmp_path / "key.json").write_text(json.dumps(key))
    code, out, _ = _run(
        capsys, "sign", str(vectors / "vc-di-eddsa" / "unsigned.json"), "--key", str(tmp_path / "key.json"),
        "--suite", "eddsa-rdfc-2022", "--purpose", "authentication", "--challenge", "c1", "--domain", "https://v.example",
    )
    assert code == 0
    proof = json.loads(out)["proof"]
    assert proof["verificationMethod"] == "did:web:uni.example#key-1"
    assert (proof["proofPurpose"], proof["challenge"], proof["domain"]) == ("authentication", "c1", "https://v.example")
    assert proof["created"].endswith("Z")


@pytest.mark.parametrize(
    "doc, key, suite, message",
    [
        ("missing.json", "key", "eddsa-rdfc-2022", "cannot read"),
        ("notjson", "key", "eddsa-rdfc-2022", "not valid JSON"),
        ("doc", "badkey", "eddsa-rdfc-2022", "not a usable"),
        ("undefined", "key", "eddsa-rdfc-2022", "PROOF_TRANSFORMATION_ERROR"),
    ],
)
def test_unusable_input_exits_2(tmp_path, capsys, vectors, doc, key, suite, message):
    (tmp_path / "notjson").write_text("{")
    (tmp_path / "doc").write_text((vectors / "vc-di-eddsa" / "unsigned.json").read_text())
    (tmp_path / "undefined").write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "grade": "A",
        "issuer": "did:example:i", "credentialSubject": {"id": "did:example:s"},
    }))
    (tmp_path / "key").write_text((vectors / "vc-di-eddsa" / "keyPair.json").read_text())
    (tmp_path / "badkey").write_text(json.dumps({"secretKeyMultibase": "zNOPE"}))
    code, out, err = _run(capsys, "sign", str(tmp_path / doc), "--key", str(tmp_path / key), "--suite", suite)
    assert code == 2 and out == ""
    assert message in err


def test_unknown_suite_is_a_usage_error(capsys, vectors):
    with pytest.raises(SystemExit) as e:
        main(["sign", str(vectors / "vc-di-eddsa" / "unsigned.json"), "--key", "k", "--suite", "eddsa-2022"])
    assert e.value.code == 2


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--proof-id", "abc", "the proof id must be a URL"),
        ("--verification-method", "key-1", "the verificationMethod must be a URL"),
    ],
)
def test_proof_options_a_verifier_would_refuse_are_not_signed(capsys, vectors, option, value, words):
    """VC DI 1.0 §2.1: a proof id and a verificationMethod are URLs; the node's own verifier
    refused what sign used to write with them (exit 0), so it is refused before signing."""
    base = vectors / "vc-di-eddsa"
    code, out, err = _run(
        capsys, "sign", str(base / "unsigned.json"), "--key", str(base / "keyPair.json"), "--suite", "eddsa-jcs-2022", option, value,
    )
    assert code == 2 and out == ""
    assert words in err and "PROOF_GENERATION_ERROR" in err


@pytest.mark.interop
def test_the_reference_verifies_what_sign_makes_of_a_vc_1_1_credential(tmp_path, capsys, vectors):
    """VC Data Integrity 1.0 §2.4.2: sign appends data-integrity/v2 to a VC 1.1 credential's
    @context for an eddsa-rdfc-2022 proof. Without it the proof's terms fell under the examples'
    @vocab, the node verified its own output and Digital Bazaar's verifier said "Invalid
    signature"; without an @vocab signing failed."""
    from support import run_js_sync

    base = vectors / "vc-di-eddsa"
    for extra in ([], ["https://www.w3.org/ns/credentials/examples/v2"]):
        unsigned = {
            "@context": ["https://www.w3.org/2018/credentials/v1", *extra], "type": ["VerifiableCredential"],
            "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:alice"},
        }
        (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
        code, out, err = _run(
            capsys, "sign", str(tmp_path / "unsigned.json"), "--key", str(base / "keyPair.json"), "--suite", "eddsa-rdfc-2022",
            "--created", "2023-03-05T19:23:24Z",
        )
        assert code == 0, err
        signed = json.loads(out)
        assert signed["@context"] == [*unsigned["@context"], "https://w3id.org/security/data-integrity/v2"]
        (tmp_path / "signed.json").write_text(out)
        code, result = run_js_sync("verify.mjs", str(tmp_path / "signed.json"), "--now", "2026-01-01T00:00:00Z")
        assert code == 0 and result["verified"] is True, result
        code, out, err = _run(capsys, "verify", str(tmp_path / "signed.json"), "--json")
        assert code == 0 and json.loads(out)["verified"] is True, out


def test_a_document_naming_a_member_twice_is_not_signed(tmp_path, capsys, vectors):
    """I-JSON (RFC 7493 §2.3): an eddsa-jcs-2022 signature over "Eve" that a first-wins parser
    shows as "Ada" is not made."""
    base = vectors / "vc-di-eddsa"
    text = (base / "unsigned.json").read_text().replace('"credentialSubject": {', '"credentialSubject": {"name": "Ada", "name": "Eve", ', 1)
    assert '"name": "Ada", "name": "Eve"' in text
    (tmp_path / "dup.json").write_text(text)
    code, out, err = _run(capsys, "sign", str(tmp_path / "dup.json"), "--key", str(base / "keyPair.json"), "--suite", "eddsa-jcs-2022")
    assert code == 2 and out == "" and "the member 'name' appears twice" in err

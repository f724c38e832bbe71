"""did:key (Ed25519): every case under ../shared/vectors/did-key reproduces exactly."""

import asyncio
import json

import pytest

from did.errors import DIDError, InvalidPublicKey, InvalidPublicKeyLength, UnsupportedPublicKeyType
from did.key import (
    DIDKeyResolver,
    did_key_document,
    did_key_from_public_key,
    public_key_from_did_key,
    verification_methods,
)
from did.curve25519 import x25519_from_ed25519
from did.multikey import encode_ed25519_public
from did.resolver import Resolver
from tests.conftest import load_json

import base58


@pytest.fixture(scope="module")
def did_key_dir(vectors):
    return vectors / "did-key"


def test_reference_implementation_documents_match_exactly(did_key_dir):
    """@digitalbazaar/did-method-key 5.3.0 output: Multikey form and Ed25519VerificationKey2020 form."""
    data = load_json(did_key_dir / "reference-impl-output" / "digitalbazaar-did-method-key-5.3.0.json")
    assert len(data["dids"]) == 8
    for did, forms in data["dids"].items():
        assert did_key_document(did) == forms["multikey"]
        assert did_key_document(did, public_key_format="Ed25519VerificationKey2020") == forms["ed25519VerificationKey2020"]
        # the documents are also what the resolver returns
        result = asyncio.run(DIDKeyResolver().resolve(did))
        assert result.did_document == forms["multikey"]
        assert result.resolution_metadata == {}  # DID Core 1.0 §7.1.2: no contentType from resolve()


def test_ccg_vectors_seed_to_did_and_whole_documents(did_key_dir):
    """w3c-ccg test vectors: seed -> public key -> did:key; Ed25519 -> X25519; whole documents
    in the 2018/2019 form (experimental) and the JsonWebKey2020 form."""
    from vc.crypto import Ed25519KeyPair  # tests may use vc; the did package itself may not

    data = load_json(did_key_dir / "w3c-ccg-test-vectors" / "ed25519-x25519.json")
    assert len(data) == 5
    for did, vector in data.items():
        pair = Ed25519KeyPair.from_seed(bytes.fromhex(vector["seed"]))
        assert did_key_from_public_key(pair.public_key) == did
        assert public_key_from_did_key(did) == pair.public_key
        document = vector["didDocument"]
        fmt = document["verificationMethod"][0]["type"]
        assert did_key_document(did, public_key_format=fmt, enable_experimental_public_key_types=True) == document
        agreement = vector["keyAgreementKeyPair"]
        x_key = x25519_from_ed25519(pair.public_key)
        if "publicKeyBase58" in agreement:
            assert base58.b58encode(x_key).decode() == agreement["publicKeyBase58"]
        assert agreement["id"].endswith("#z" + base58.b58encode(b"\xec\x01" + x_key).decode())


def test_spec_example_document_2020_form(did_key_dir):
    expected = load_json(did_key_dir / "spec-examples" / "did-key-spec-example-did-document-ed25519-2020.json")
    assert did_key_document(expected["id"], public_key_format="Ed25519VerificationKey2020") == expected


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("did-key-spec-example-verification-methods-jsonwebkey2020.json", "JsonWebKey2020"),
        ("did-key-spec-example-verification-methods-multicodec-2020.json", "Ed25519VerificationKey2020"),
    ],
)
def test_spec_example_verification_methods(did_key_dir, name, fmt):
    expected = load_json(did_key_dir / "spec-examples" / name)["verificationMethod"]
    did = expected[0]["controller"]
    assert verification_methods(did, public_key_from_did_key(did), fmt) == expected


def test_spec_valid_identifiers(did_key_dir):
    """Ed25519 ones resolve; every other key type is unsupportedPublicKeyType, never invalidDid."""
    lists = load_json(did_key_dir / "spec-examples" / "did-key-spec-valid-identifiers.json")["validDidKeys"]
    seen = 0
    for kind, dids in lists.items():
        for did in dids:
            seen += 1
            result = asyncio.run(DIDKeyResolver().resolve(did))
            if kind.startswith("Ed25519"):
                assert result.error is None, (did, result.resolution_metadata)
                assert result.did_document["id"] == did
            else:
                assert result.error == "unsupportedPublicKeyType", (kind, did, result.resolution_metadata)
                assert result.did_document is None
    assert seen == 19


def test_vc_di_eddsa_multikey_examples_decode(did_key_dir):
    doc = load_json(did_key_dir / "spec-examples" / "vc-di-eddsa-spec-example-multikey-controller-document.json")
    vm = load_json(did_key_dir / "spec-examples" / "vc-di-eddsa-spec-example-multikey-verification-method.json")
    key = public_key_from_did_key("did:key:" + vm["publicKeyMultibase"])
    assert encode_ed25519_public(key) == doc["verificationMethod"][0]["publicKeyMultibase"]
    # the same key as a did:key expands to a Multikey document of the same shape
    expanded = did_key_document("did:key:" + vm["publicKeyMultibase"])
    assert expanded["@context"] == doc["@context"]
    assert expanded["verificationMethod"][0]["type"] == vm["type"] == "Multikey"
    assert set(expanded) == set(doc)


def test_invalid_did_key_cases_give_the_listed_errors(did_key_dir):
    data = load_json(did_key_dir / "invalid-did-key-cases.json")
    resolver = Resolver({"key": DIDKeyResolver()})
    assert len(data["cases"]) == 8

    async def run(case):
        if case["kind"] == "resolve":
            result = await resolver.resolve(case["input"], case.get("options"))
            assert result.did_document is None
            assert result.resolution_metadata["errorMessage"]
            return result.error
        with pytest.raises(DIDError) as info:
            await resolver.dereference(case["input"], case.get("options"))
        return info.value.code

    for case in data["cases"]:
        assert asyncio.run(run(case)) == case["expectedError"], case


def test_valid_base_did_and_its_vm_ids_from_invalid_cases_file(did_key_dir):
    data = load_json(did_key_dir / "invalid-did-key-cases.json")
    doc = did_key_document(data["baseValidDid"], public_key_format="Ed25519VerificationKey2020")
    assert doc["assertionMethod"] == [data["baseValidDid_assertionVmId"]]
    assert doc["keyAgreement"][0]["id"] == data["baseValidDid_keyAgreementVmId"]


def test_x25519_key_is_refused_as_an_ed25519_verification_key():
    """vc-di-eddsa: a Multikey prefix other than 0xed01 MUST be an error."""
    with pytest.raises(UnsupportedPublicKeyType, match="X25519"):
        public_key_from_did_key("did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F")


def test_off_curve_and_wrong_length_keys():
    # y = 2 is not the y coordinate of any Edwards25519 point
    off_curve = (2).to_bytes(32, "little")
    with pytest.raises(InvalidPublicKey):
        did_key_from_public_key(off_curve)
    forged = "did:key:z" + base58.b58encode(b"\xed\x01" + off_curve).decode()
    assert asyncio.run(DIDKeyResolver().resolve(forged)).error == "invalidPublicKey"
    too_long = "did:key:z" + base58.b58encode(b"\xed\x01" + bytes(33)).decode()
    with pytest.raises(InvalidPublicKeyLength):
        public_key_from_did_key(too_long)


def test_version_component():
    did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    assert public_key_from_did_key("did:key:1:" + did[8:]) == public_key_from_did_key(did)
    for bad in ("0", "x", "-1"):
        assert asyncio.run(DIDKeyResolver().resolve(f"did:key:{bad}:{did[8:]}")).error == "invalidDid"


def test_encryption_key_derivation_in_multikey_form_is_opt_in():
    did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    plain = did_key_document(did)
    assert "keyAgreement" not in plain
    with_x = did_key_document(did, enable_encryption_key_derivation=True)
    assert with_x["keyAgreement"] == [
        {
            "id": did + "#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
        }
    ]


def test_resolver_constructor_defaults_and_per_call_options():
    did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    r2020 = DIDKeyResolver(public_key_format="Ed25519VerificationKey2020")
    assert asyncio.run(r2020.resolve(did)).did_document["verificationMethod"][0]["type"] == "Ed25519VerificationKey2020"
    doc = asyncio.run(r2020.resolve(did, {"publicKeyFormat": "JsonWebKey2020"})).did_document
    assert doc["verificationMethod"][0]["publicKeyJwk"]["x"] == "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"
    json.dumps(doc)  # plain JSON


def _did_key(codec: int, key: bytes) -> str:
    varint = bytearray()
    while True:
        byte, codec = codec & 0x7F, codec >> 7
        varint.append(byte | (0x80 if codec else 0))
        if not codec:
            break
    return "did:key:z" + base58.b58encode(bytes(varint) + key).decode()


@pytest.mark.parametrize("codec, size, expected", [
    (0x1200, 10, "invalidPublicKeyLength"),  # P-256
    (0xEC, 5, "invalidPublicKeyLength"),  # X25519
    (0xE7, 3, "invalidPublicKeyLength"),  # secp256k1
    (0x1201, 48, "invalidPublicKeyLength"),  # P-384 is 49 bytes compressed
    (0xED, 31, "invalidPublicKeyLength"),
    (0x1200, 33, "unsupportedPublicKeyType"),  # the right length: a P-256 key, just not Ed25519
    (0xEC, 32, "unsupportedPublicKeyType"),
    (0x1201, 49, "unsupportedPublicKeyType"),
    (0xEB, 5, "unsupportedPublicKeyType"),  # BLS12-381 G2: not in the did:key v0.7 length table
    (0x1205, 7, "unsupportedPublicKeyType"),  # RSA: listed without a length
])
def test_a_listed_key_type_of_the_wrong_length_is_invalid_public_key_length(codec, size, expected):
    """did:key v0.7 Signature Method Creation: the length table is checked before the key type,
    so a wrong-length key of a listed codec is invalidPublicKeyLength (QA sweep finding 4)."""
    did = _did_key(codec, bytes([2]) * size)
    result = asyncio.run(Resolver({"key": DIDKeyResolver()}).resolve(did))
    assert result.error == expected, result.resolution_metadata
    if expected == "invalidPublicKeyLength":
        assert f"holds {size}" in result.resolution_metadata["errorMessage"]


@pytest.mark.parametrize("did", ["did:key:z3RFa4M2uoggytNEx9", "did:key:z9wiuPzZbBi", "did:key:zT4cH4st"])
def test_the_qa_sweeps_short_keys_are_invalid_public_key_length(did):
    """P-256 of 10 bytes, X25519 of 5, secp256k1 of 3: unsupportedPublicKeyType before."""
    assert asyncio.run(DIDKeyResolver().resolve(did)).error == "invalidPublicKeyLength"


DID = "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b"


@pytest.mark.parametrize("flag, value, outcome", [
    ("enableExperimentalPublicKeyTypes", "false", "invalidPublicKeyType"),
    ("enableExperimentalPublicKeyTypes", False, "invalidPublicKeyType"),
    ("enableExperimentalPublicKeyTypes", "true", "Ed25519VerificationKey2018"),
    ("enableExperimentalPublicKeyTypes", True, "Ed25519VerificationKey2018"),
    ("enableExperimentalPublicKeyTypes", "False", "invalidOptions"),
    ("enableExperimentalPublicKeyTypes", "yes", "invalidOptions"),
    ("enableExperimentalPublicKeyTypes", 1, "invalidOptions"),
    ("enableExperimentalPublicKeyTypes", 0, "invalidOptions"),
    ("enableExperimentalPublicKeyTypes", None, "invalidOptions"),
    ("enableExperimentalPublicKeyTypes", [], "invalidOptions"),
])
def test_the_experimental_flag_is_a_boolean_never_truth_tested(flag, value, outcome):
    """QA sweep finding 5: "false" enabled the experimental 2018 form."""
    options = {"publicKeyFormat": "Ed25519VerificationKey2018", flag: value}
    for resolver in (DIDKeyResolver(), Resolver({"key": DIDKeyResolver()})):
        result = asyncio.run(resolver.resolve(DID, options))
        if outcome.startswith("Ed25519"):
            assert result.error is None and result.did_document["verificationMethod"][0]["type"] == outcome
        else:
            assert result.error == outcome, result.resolution_metadata
            assert result.did_document is None


@pytest.mark.parametrize("value, agreement", [("false", False), (False, False), ("true", True), (True, True),
                                              ("no", None), (1, None), ("", None), (None, None)])
def test_the_key_derivation_flag_is_a_boolean_never_truth_tested(value, agreement):
    for fmt in ("Multikey", "Ed25519VerificationKey2020"):
        result = asyncio.run(DIDKeyResolver().resolve(DID, {"publicKeyFormat": fmt, "enableEncryptionKeyDerivation": value}))
        if agreement is None:
            assert result.error == "invalidOptions", result.resolution_metadata
            assert "enableEncryptionKeyDerivation" in result.resolution_metadata["errorMessage"]
        else:
            assert result.error is None
            assert ("keyAgreement" in result.did_document) is agreement, (fmt, value)


def test_did_key_document_takes_booleans_and_a_string_format():
    with pytest.raises(DIDError) as info:
        did_key_document(DID, enable_encryption_key_derivation="false")
    assert info.value.code == "invalidOptions"
    with pytest.raises(DIDError) as info:
        did_key_document(DID, public_key_format="Ed25519VerificationKey2018", enable_experimental_public_key_types="false")
    assert info.value.code == "invalidOptions"
    assert asyncio.run(DIDKeyResolver().resolve(DID, {"publicKeyFormat": ["Multikey"]})).error == "invalidOptions"

"""Over-long DIDs and keys are refused on their length, before base58 decoding (which is
quadratic: a 400,000-character did:key once held a worker ~7 s)."""

from __future__ import annotations

import base58
import pytest

import did.key
import did.multikey
from did.errors import InvalidDID, InvalidDIDURL, InvalidPublicKeyLength, UnsupportedPublicKeyType
from did.key import DIDKeyResolver, public_key_from_did_key
from did.multikey import MAX_KEY_MULTIBASE_LENGTH, decode_ed25519_public
from did.resolver import Resolver, StaticResolver
from did.syntax import MAX_DID_LENGTH

KEY_MB = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
QA_VALUE = "did:key:z6Mk" + "2" * 400_000  # the QA sweep's proof.verificationMethod, less its "#x"


@pytest.fixture
def decoded(monkeypatch):
    """The length of every value the base58 decoder is given, from did.key and did.multikey."""
    lengths: list[int] = []
    real = did.multikey.b58decode

    def counting(value):
        lengths.append(len(value))
        return real(value)

    monkeypatch.setattr(did.multikey, "b58decode", counting)
    monkeypatch.setattr(did.key, "b58decode", counting)
    return lengths


def test_the_qa_did_key_is_refused_without_decoding(decoded):
    with pytest.raises(InvalidDID, match=f"at most {MAX_DID_LENGTH} characters"):
        public_key_from_did_key(QA_VALUE)
    assert decoded == []


async def test_the_qa_verification_method_is_an_invalid_did_url_without_decoding(decoded):
    resolver = Resolver({"key": DIDKeyResolver()})
    with pytest.raises(InvalidDIDURL) as info:
        await resolver.resolve_verification_method(QA_VALUE + "#x")
    assert info.value.code == "invalidDidUrl"
    result = await resolver.resolve(QA_VALUE)
    assert result.error == "invalidDid" and result.did_document is None
    assert decoded == []


def test_a_did_key_within_the_did_bound_but_longer_than_any_key_is_invalid_public_key_length(decoded):
    did = "did:key:z6Mk" + "2" * (MAX_DID_LENGTH - len("did:key:z6Mk"))  # a valid DID, 2040 characters
    with pytest.raises(InvalidPublicKeyLength) as info:
        public_key_from_did_key(did)
    assert info.value.code == "invalidPublicKeyLength"
    assert decoded == []


def test_keys_of_other_types_up_to_the_bound_are_still_named(decoded):
    # did:key's longest listed key type, RSA-4096 (multicodec 0x1205): decoded, so its type is named
    rsa = "did:key:z" + base58.b58encode(b"\x85\x24" + bytes([0x30]) + bytes(525)).decode()
    with pytest.raises(UnsupportedPublicKeyType, match="RSA"):
        public_key_from_did_key(rsa)
    assert decoded == [len(rsa) - len("did:key:z")]
    assert max(decoded) <= MAX_KEY_MULTIBASE_LENGTH


def test_an_over_long_public_key_multibase_is_refused_before_decoding(decoded):
    with pytest.raises(InvalidPublicKeyLength):
        decode_ed25519_public("z6Mk" + "2" * 400_000)
    assert decode_ed25519_public(KEY_MB)  # a real key still decodes
    assert decoded == [len(KEY_MB) - 1]


async def test_an_over_long_key_in_a_fetched_document_fails_resolution_not_the_worker(decoded):
    issuer = "did:web:issuer.example"
    document = {
        "id": issuer,
        "verificationMethod": [
            {"id": "#big", "type": "Multikey", "controller": issuer, "publicKeyMultibase": "z6Mk" + "2" * 400_000}
        ],
        "assertionMethod": ["#big"],
    }
    with pytest.raises(InvalidPublicKeyLength) as info:
        await StaticResolver([document]).resolve_verification_method(issuer + "#big")
    assert info.value.code == "invalidPublicKeyLength"
    assert decoded == []

"""did.key: did:key <-> Ed25519 public key, and resolution of arbitrary did:key values.

Every 32-byte string is either an Ed25519 point (then its did:key parses back to it and
resolves in every publicKeyFormat) or not (then making its did:key fails with the DID layer's
InvalidPublicKey). Any did:key text, built from arbitrary multicodec headers, bodies and
version prefixes or mutated from a valid one, resolves or fails with a ``DIDError``; and a
did:key that resolves names its key in exactly one way (the canonical did:key of that key).
"""

from __future__ import annotations

import asyncio

from hypothesis import example, given
from hypothesis import strategies as st

from did.curve25519 import ed25519_point_y
from did.errors import DIDError, InvalidPublicKey
from did.key import (
    EXPERIMENTAL_FORMATS,
    SIGNATURE_FORMATS,
    DIDKeyResolver,
    did_key_from_public_key,
    public_key_from_did_key,
)
from did.multikey import b58encode
from strategies import any_text, huge_digits, mutated

# A real key (the did:key spec's first Ed25519 test vector).
VECTOR = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def _is_point(key: bytes) -> bool:
    try:
        ed25519_point_y(key)
    except InvalidPublicKey:
        return False
    return True


@given(st.binary(min_size=32, max_size=32))
def test_every_point_round_trips_and_every_non_point_is_refused(key: bytes) -> None:
    if not _is_point(key):
        try:
            did_key_from_public_key(key)
        except InvalidPublicKey:
            return
        raise AssertionError("a key that is not a curve point was given a did:key")
    did = did_key_from_public_key(key)
    assert did.startswith("did:key:z6Mk")
    assert public_key_from_did_key(did) == key
    resolver = DIDKeyResolver()
    for fmt in SIGNATURE_FORMATS + EXPERIMENTAL_FORMATS:
        options = {"publicKeyFormat": fmt, "enableExperimentalPublicKeyTypes": True}
        for derive in (False, True):
            try:
                document = resolver.document(did, {**options, "enableEncryptionKeyDerivation": derive})
            except InvalidPublicKey:
                # only the X25519 derivation can refuse a point: the identity has no X25519 key
                assert derive and key == (1).to_bytes(32, "little")
                continue
            assert document["id"] == did
            assert document["verificationMethod"][0]["controller"] == did


points = st.binary(min_size=32, max_size=32).filter(_is_point)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


@st.composite
def did_keys(draw: st.DrawFn) -> str:
    """did:key values from real parts: codec headers (minimal, overlong, unterminated), bodies
    of every length, version prefixes (including absurd ones), one edit at most."""
    codec = draw(st.sampled_from([0xED, 0xEC, 0x1200, 0xE7, 0x00, 0x7F, 2**63]) | st.just(0xED) | st.integers(0, 2**70))
    header = _varint(codec)
    header = draw(
        st.sampled_from(
            [header, header[:-1] + bytes([header[-1] | 0x80, 0x00]), header[:-1] + bytes([header[-1] | 0x80]), b"\xff" * 10]
        )
    )
    body = draw(st.one_of(points, st.binary(min_size=32, max_size=32), st.binary(max_size=40)))
    version = draw(st.sampled_from(["", "1:", "0:", "01:", "x:", "1:1:"]) | huge_digits.map(lambda d: d + ":"))
    text = f"did:key:{version}z{b58encode(header + body)}"
    return draw(st.one_of(st.just(text), mutated(text)))


async def _resolve(did: object) -> object:
    return await DIDKeyResolver().resolve(did)  # type: ignore[arg-type]


@given(st.one_of(did_keys(), st.just(VECTOR).flatmap(mutated), any_text.map(lambda t: "did:key:" + t)))
@example(VECTOR)
@example("did:key:zQhVUSQB8r3ACLXMQ8ZQ5LScK2FJMWTHMWfePRsSFou3J3afZ")  # found: 0xed as an overlong varint
@example("did:key:1" + "0" * 4300 + ":z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")  # found: int() limit
def test_any_did_key_resolves_or_fails_with_a_did_error(did: str) -> None:
    try:
        key = public_key_from_did_key(did)
    except DIDError as e:
        assert e.code != "internalError" and e.detail
        result = asyncio.run(_resolve(did))
        assert result.error == e.code  # type: ignore[attr-defined]
        return
    assert len(key) == 32
    # One key, one multibase value: only the canonical encoding names it (a version prefix,
    # any positive integer, may precede it: did:key §3.1.2 step 3).
    canonical = did_key_from_public_key(key)
    assert did.rsplit(":", 1)[1] == canonical.rsplit(":", 1)[1]
    result = asyncio.run(_resolve(did))
    assert result.did_document["id"] == did  # type: ignore[attr-defined]


"""Multibase values: did.multikey's base58btc codec against the ``base58`` package, the Multikey
prefixes, proofValue decoding and the digestMultibase / digestSRI of related resources.

The codec replaced the package on the verify path for speed, so it must give the package's
bytes and the package's errors (their messages reach problem details) on any input. The
decoders take keys from DID documents and values from credentials fetched off the network:
any text must decode or raise the layer's own errors.
"""

from __future__ import annotations

import base64

import base58
from hypothesis import example, given
from hypothesis import strategies as st

from did.errors import DIDError, InvalidPublicKey, InvalidPublicKeyLength, UnsupportedPublicKeyType
from did.multikey import (
    BASE58_ALPHABET,
    ED25519_PRIV_PREFIX,
    ED25519_PUB_PREFIX,
    b58decode,
    b58encode,
    decode_ed25519_public,
    decode_ed25519_secret,
    encode_ed25519_public,
    encode_ed25519_secret,
)
from strategies import any_char, json_scalars, mutated
from vc.cryptosuites import decode_proof_value
from vc.datamodel import _parse_multibase_digests, _parse_sri
from vc.errors import MalformedProofError, MalformedValueError

ALPHABET = BASE58_ALPHABET.decode("ascii")
# Leading zero bytes are the codec's special case ('1' each), so they are drawn often.
payloads = st.tuples(st.integers(0, 4), st.binary(max_size=100)).map(lambda zb: b"\0" * zb[0] + zb[1])
base58_texts = st.text(st.sampled_from(ALPHABET), max_size=80)
noisy_texts = st.one_of(
    base58_texts,
    base58_texts.flatmap(lambda t: mutated(t)),
    st.text(st.one_of(st.sampled_from(ALPHABET + "0OIl \t\n\r\x0b\x0c"), any_char), max_size=30),
)


@given(payloads)
def test_encoding_is_the_packages_and_decoding_inverts_it(data: bytes) -> None:
    text = b58encode(data)
    assert text == base58.b58encode(data).decode("ascii")
    assert b58decode(text) == data
    assert b58decode(text.encode("ascii")) == data


@given(noisy_texts)
def test_any_text_decodes_as_the_package_decodes_it_or_fails_as_it_fails(text: str) -> None:
    try:
        theirs: bytes | str = base58.b58decode(text)
    except ValueError as e:
        theirs = f"{type(e).__name__}: {e}"
    try:
        ours: bytes | str = b58decode(text)
    except ValueError as e:
        ours = f"{type(e).__name__}: {e}"
    if isinstance(theirs, bytes) or not str(theirs).startswith("UnicodeEncodeError"):
        assert ours == theirs
    else:  # non-ASCII text: both refuse it as a ValueError; the encoder's message names positions
        assert isinstance(ours, str) and ours.startswith("UnicodeEncodeError")


@given(st.binary(min_size=32, max_size=32))
def test_ed25519_multikeys_round_trip(key: bytes) -> None:
    public = encode_ed25519_public(key)
    assert public.startswith("z6Mk")
    assert decode_ed25519_public(public) == key
    assert b58decode(public[1:])[:2] == ED25519_PUB_PREFIX
    secret = encode_ed25519_secret(key)
    assert decode_ed25519_secret(secret) == key
    assert decode_ed25519_secret("z" + b58encode(ED25519_PRIV_PREFIX + key + bytes(32))) == key  # seed + public form


@st.composite
def multibase_keys(draw: st.DrawFn) -> str:
    """'z' + base58btc of a (sometimes valid) multicodec prefix and a body of any length."""
    prefix = draw(st.sampled_from([ED25519_PUB_PREFIX, ED25519_PRIV_PREFIX, b"\xec\x01", b"\x80\x24", b"\xed", b""]))
    body = draw(st.one_of(st.binary(min_size=30, max_size=66), st.binary(max_size=8)))
    text = "z" + b58encode(prefix + body)
    return draw(st.one_of(st.just(text), mutated(text), st.just(text[1:])))


@given(st.one_of(multibase_keys(), noisy_texts, st.none(), st.integers(), st.binary(max_size=8)))
@example("z")
@example("")
@example("z1111")
def test_any_multibase_value_is_a_key_or_a_did_error(value: object) -> None:
    for decode, lengths in ((decode_ed25519_public, (32,)), (decode_ed25519_secret, (32,))):
        try:
            key = decode(value)  # type: ignore[arg-type]
        except (InvalidPublicKey, InvalidPublicKeyLength, UnsupportedPublicKeyType) as e:
            assert isinstance(e, DIDError) and e.detail
        else:
            assert len(key) in lengths


@given(st.one_of(noisy_texts.map(lambda t: "z" + t), multibase_keys(), json_scalars()))
def test_any_proof_value_decodes_or_is_a_malformed_proof(value: object) -> None:
    try:
        raw = decode_proof_value(value)
    except MalformedProofError as e:
        assert e.detail
        return
    assert isinstance(value, str) and raw == b58decode(value[1:])


@st.composite
def digests(draw: st.DrawFn) -> str:
    """digestMultibase (multihash in base58btc or base64url) and digestSRI values, near-valid."""
    code, length = draw(st.sampled_from([(0x12, 32), (0x20, 48), (0x13, 64), (0x16, 32), (0x11, 20), (0x12, 31)]))
    raw = bytes([code, length]) + draw(st.binary(min_size=length, max_size=length))
    text = draw(
        st.sampled_from(
            [
                "z" + b58encode(raw),
                "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
                "sha384-" + base64.b64encode(raw[2:]).decode(),
                "sha256-" + base64.b64encode(raw[2:]).decode() + "?opt sha512-x",
            ]
        )
    )
    return draw(st.one_of(st.just(text), mutated(text)))


@given(st.one_of(digests(), noisy_texts, json_scalars()))
def test_any_resource_digest_parses_or_is_a_malformed_value(value: object) -> None:
    for parse in (_parse_multibase_digests, _parse_sri):
        try:
            parse(value, "relatedResource[0]")
        except MalformedValueError as e:
            assert e.detail.startswith("relatedResource[0].")

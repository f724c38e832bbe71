"""did.multikey.decode_multibase: the multibase reader of digestMultibase (it replaced the
``multiformats`` package). Encodings come from independent encoders: the standard library's
RFC 4648 codecs and the ``base58`` package."""

from __future__ import annotations

import base64
import random

import base58
import pytest

from did.multikey import decode_multibase


def _encoders() -> dict[str, object]:
    def nopad(text: bytes) -> str:
        return text.decode().rstrip("=")

    return {
        "z": lambda d: base58.b58encode(d).decode(),
        "u": lambda d: nopad(base64.urlsafe_b64encode(d)),
        "U": lambda d: base64.urlsafe_b64encode(d).decode(),
        "m": lambda d: nopad(base64.b64encode(d)),
        "M": lambda d: base64.b64encode(d).decode(),
        "f": lambda d: d.hex(),
        "F": lambda d: d.hex().upper(),
        "b": lambda d: nopad(base64.b32encode(d)).lower(),
        "B": lambda d: nopad(base64.b32encode(d)),
        "c": lambda d: base64.b32encode(d).decode().lower(),
        "C": lambda d: base64.b32encode(d).decode(),
    }


@pytest.mark.parametrize("header", sorted(_encoders()))
def test_every_supported_base_round_trips(header: str) -> None:
    encode = _encoders()[header]
    rng = random.Random(header)
    for data in [b"", b"\0", b"\0\0\x01", bytes(range(256))] + [rng.randbytes(n) for n in range(1, 70)]:
        assert decode_multibase(header + encode(data)) == data  # type: ignore[operator]


def test_the_specifications_examples() -> None:
    # VC Data Integrity 1.0 §2.3, example 8: base58btc of the sha2-256 multihash of "" (empty file)
    empty = bytes.fromhex("1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert decode_multibase("zQmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n") == empty
    # VC Data Model 2.0, the evidence example: base64url without padding
    assert decode_multibase("uELq9FnJ5YLa5iAszyJ518bXcnlc5P7xp1u-5uJRDYKvc") == bytes.fromhex(
        "10babd16727960b6b9880b33c89e75f1b5dc9e57393fbc69d6efb9b8944360abdc"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "non-empty"),
        ("x12", "unsupported multibase header 'x'"),
        ("kabc", "unsupported multibase header 'k'"),  # base36: not read
        ("uAA==", "not base64url"),  # base64url without padding, as the specification defines it
        ("u+/8", "not base64url"),
        ("uA", "not valid base64url"),
        ("z0OIl", "not base58btc"),
        ("zQm dfT", "not base58btc"),
        ("zQm\n", "not base58btc"),
        ("f123", "not base16"),
        ("fAB", "not base16"),
        ("mA-_", "not base64"),
        ("MAA=", "not base64pad"),
        ("bCI", "not base32"),
    ],
)
def test_malformed_values_are_refused_naming_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_multibase(value)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValueError):
        decode_multibase(b"zQm")  # type: ignore[arg-type]

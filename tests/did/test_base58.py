"""did.multikey's base58btc codec gives exactly what the ``base58`` package gives (it replaced the
package on the verify path for speed), errors included: their messages reach problem details."""

from __future__ import annotations

import random

import base58
import pytest

from did.multikey import b58decode, b58encode


def _samples() -> list[bytes]:
    rng = random.Random(20261129)
    out = [b"", b"\0", b"\0\0\0", b"\0\x01", b"\x01", b"\xff" * 64, bytes(range(256))]
    for _ in range(3000):
        zeros = b"\0" * rng.choice((0, 0, 0, 1, 2, 5))
        out.append(zeros + rng.randbytes(rng.randint(0, 80)))
    return out


def test_encode_and_decode_agree_with_the_base58_package() -> None:
    for data in _samples():
        text = base58.b58encode(data).decode("ascii")
        assert b58encode(data) == text
        assert b58decode(text) == data == base58.b58decode(text)
        assert b58decode(text.encode("ascii")) == data


@pytest.mark.parametrize(
    "text",
    ["", "1", "111", "2", "z", "1z", "zzzzzzzz", "21111111", "11111111z", "5Hue", "3yQ  ", "3yQ\n", "   "],
)
def test_decoding_edge_cases_match_the_package(text: str) -> None:
    assert b58decode(text) == base58.b58decode(text)


@pytest.mark.parametrize("text", ["0", "abc0", "O", "Il", "3yQ l", "+", "zz zz", "\t3y"])
def test_invalid_characters_raise_the_packages_error(text: str) -> None:
    with pytest.raises(ValueError) as ours:
        b58decode(text)
    with pytest.raises(ValueError) as theirs:
        base58.b58decode(text)
    assert str(ours.value) == str(theirs.value)


def test_non_ascii_text_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        b58decode("3yé")
    with pytest.raises(ValueError):
        base58.b58decode("3yé")

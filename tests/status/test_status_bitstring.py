"""status.bitstring: bit order (reference vectors), round trips, strict decoding."""

from __future__ import annotations

import base64
import gzip
import zlib

import pytest

from status.bitstring import (
    MIN_STATUS_LIST_LENGTH,
    Bitstring,
    BitstringError,
    decode_list,
    encode_list,
)
from tests.conftest import load_json
from vc.errors import RangeError


def _vectors(vectors):
    data = load_json(vectors / "bitstring-status-list" / "derived-bitstring-decode-vectors.json")
    return data["decodedAuthoritativeLists"], data["selfGenerated"]


def _u(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_authoritative_lists_decode_to_listed_length_and_bits(vectors):
    authoritative, _ = _vectors(vectors)
    assert len(authoritative) == 2
    for case in authoritative:
        bits = Bitstring.decode(case["encodedList"])
        assert bits.bit_length == case["lengthBits"]
        assert len(bits.to_bytes()) == case["uncompressedBytes"]
        expected = case.get("setIndexes_MSBfirst_spec", case.get("setIndexes"))
        assert bits.set_indexes() == expected
        if "firstTwoBytesHex" in case:
            assert bits.to_bytes()[:2].hex() == case["firstTwoBytesHex"]


def test_dcc_list_reads_msb_first_not_lsb_first(vectors):
    authoritative, _ = _vectors(vectors)
    dcc = next(c for c in authoritative if c["lengthBits"] == 100_000)
    bits = Bitstring.decode(dcc["encodedList"])
    assert bits.get(8) == 1 and bits.get(7) == 0
    for wrong in dcc["setIndexes_if_wrongly_read_LSBfirst"]:
        assert bits.get(wrong) == 0
    assert bits.length < MIN_STATUS_LIST_LENGTH


def test_self_generated_lists_every_index(vectors):
    _, generated = _vectors(vectors)
    assert len(generated) == 3
    for case in generated:
        bits = Bitstring.decode(case["encodedList"])
        assert bits.length == case["lengthBits"] == MIN_STATUS_LIST_LENGTH
        assert bits.set_indexes() == case["setIndexes"]
        for i in case["setIndexes"]:
            assert bits.get(i) == 1
        assert bits.to_bytes()[:2].hex() == case["firstTwoBytesHex"]
        assert bits.to_bytes()[-1:].hex() == case["lastByteHex"]
        with pytest.raises(RangeError):
            bits.get(131_072)
        # Our encoder, fed the same bits, decodes to the same bytes.
        rebuilt = Bitstring(case["lengthBits"])
        for i in case["setIndexes"]:
            rebuilt.set(i, 1)
        assert Bitstring.decode(rebuilt.encode()) == bits


def test_index_zero_is_most_significant_bit_of_byte_zero():
    bits = Bitstring(16)
    bits.set(0, 1)
    bits.set(9, True)
    assert bits.to_bytes() == b"\x80\x40"
    bits.set(0, 0)
    assert bits.to_bytes() == b"\x00\x40"


def test_round_trip_minimum_list_with_scattered_bits():
    bits = Bitstring(MIN_STATUS_LIST_LENGTH)
    chosen = [0, 1, 7, 8, 94_567, 100_000, 131_071]
    for i in chosen:
        bits.set(i, 1)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    again = Bitstring.decode(encoded)
    assert again.set_indexes() == chosen
    assert Bitstring.decode(bits.encode(level=9)) == again


def test_encoding_is_deterministic_and_gzip():
    data = bytes(range(256)) * 4
    a, b = encode_list(data), encode_list(data)
    assert a == b
    raw = base64.urlsafe_b64decode(a[1:] + "=" * (-len(a[1:]) % 4))
    assert gzip.decompress(raw) == data  # any GZIP reader gets the bytes back


@pytest.mark.parametrize("size", [2, 4])
def test_multi_bit_entries_round_trip(size):
    length = MIN_STATUS_LIST_LENGTH
    bits = Bitstring(length, status_size=size)
    values = {0: 1, 1: (1 << size) - 1, 5: 2, 94_567: 3 % (1 << size), length - 1: (1 << size) - 2}
    for i, v in values.items():
        bits.set(i, v)
    again = Bitstring.decode(bits.encode(), status_size=size)
    assert again.length == length
    for i, v in values.items():
        assert again.get(i) == v
    assert again.get(2) == 0 and again.get(length - 2) == 0
    assert again.set_indexes() == sorted(values)


def test_two_bit_entries_are_packed_msb_first():
    bits = Bitstring(8, status_size=2)
    bits.set(0, 0b10)
    bits.set(3, 0b01)
    bits.set(4, 0b11)
    assert bits.to_bytes() == bytes([0b10000001, 0b11000000])


def test_entry_spanning_a_byte_boundary():
    bits = Bitstring(8, status_size=3)
    bits.set(2, 0b101)  # bits 6, 7, 8
    assert bits.to_bytes() == bytes([0b00000010, 0b10000000, 0])
    assert [bits.get(i) for i in range(8)] == [0, 0, 5, 0, 0, 0, 0, 0]
    bits.set(2, 0)
    assert bits.to_bytes() == bytes(3)


def test_decoded_length_depends_on_status_size():
    encoded = Bitstring(MIN_STATUS_LIST_LENGTH).encode()
    assert Bitstring.decode(encoded, status_size=2).length == MIN_STATUS_LIST_LENGTH // 2


def test_set_rejects_values_too_wide_and_bad_indexes():
    bits = Bitstring(16, status_size=2)
    with pytest.raises(BitstringError, match="0..3"):
        bits.set(0, 4)
    with pytest.raises(RangeError, match="outside"):
        bits.set(16, 1)
    with pytest.raises(RangeError):
        bits.get(-1)
    with pytest.raises(BitstringError, match="integer"):
        bits.get("3")  # type: ignore[arg-type]


def test_constructor_rejects_lengths_that_are_not_whole_bytes():
    with pytest.raises(BitstringError, match="whole number of bytes"):
        Bitstring(10)
    with pytest.raises(BitstringError):
        Bitstring(0)
    with pytest.raises(BitstringError, match="statusSize"):
        Bitstring(8, status_size=0)


@pytest.mark.parametrize(
    "encoded, message",
    [
        (None, "must be a string"),
        ("", "empty"),
        ("zH4sIAAAAAAAAA", "starting with 'u'"),
        ("H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA", "starting with 'u'"),
        ("uH4sI+AAAA", "the character '\\+'"),
        ("uH4sIAA==", "padding"),
        ("uH4sIA", "length cannot encode whole bytes"),
        ("u" + base64.urlsafe_b64encode(zlib.compress(bytes(16))).rstrip(b"=").decode(), "not GZIP"),
    ],
)
def test_decode_rejects_malformed_input_with_a_clear_error(encoded, message):
    with pytest.raises(BitstringError, match=message):
        decode_list(encoded)


def test_decode_rejects_truncated_and_corrupt_gzip():
    good = gzip.compress(bytes(16384), mtime=0)
    with pytest.raises(BitstringError, match="truncated"):
        decode_list(_u(good[:-12]))
    corrupt = good[:10] + bytes([good[10] ^ 0xFF]) + good[11:]
    with pytest.raises(BitstringError, match="not valid GZIP"):
        decode_list(_u(corrupt))
    with pytest.raises(BitstringError, match="trailing bytes"):
        decode_list(_u(good + b"junk"))


def test_decode_refuses_a_decompression_bomb_before_inflating_it():
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9, mtime=0)
    assert len(bomb) < 100_000
    with pytest.raises(BitstringError, match="decompression bomb"):
        decode_list(_u(bomb))
    with pytest.raises(BitstringError, match="more than 1000 bytes"):
        decode_list(_u(gzip.compress(bytes(1001))), max_bytes=1000)
    assert decode_list(_u(gzip.compress(bytes(1000))), max_bytes=1000) == bytes(1000)


def test_decode_accepts_multi_member_gzip_within_the_cap():
    two = gzip.compress(b"\x80" * 8) + gzip.compress(b"\x01" * 8)
    assert decode_list(_u(two)) == b"\x80" * 8 + b"\x01" * 8


def test_empty_payload_is_rejected():
    with pytest.raises(BitstringError, match="empty bitstring"):
        decode_list(_u(gzip.compress(b"")))


def _gunzip_std(encoded: str) -> bytes:
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_incremental_encoding_matches_a_fresh_encoding_after_changes():
    # 1,048,576 one-bit entries = 128 KiB = two compression blocks.
    length = 1_048_576
    bits = Bitstring(length)
    first = bits.encode()
    assert _gunzip_std(first) == bytes(length // 8)
    for index in (3, 600_000, length - 1):  # both blocks change, one of them twice
        bits.set(index, 1)
        encoded = bits.encode()
        assert _gunzip_std(encoded) == bits.to_bytes()
        fresh = Bitstring.from_bytes(bits.to_bytes())
        assert encoded == fresh.encode()  # the cached blocks are exactly what a full pass gives
    assert Bitstring.decode(bits.encode()).set_indexes() == [3, 600_000, length - 1]
    bits.set(600_000, 0)
    assert Bitstring.decode(bits.encode()).set_indexes() == [3, length - 1]


def test_changing_the_level_recompresses_everything():
    bits = Bitstring(1_048_576)
    for i in range(0, 1_048_576, 997):
        bits.set(i, 1)
    six, nine = bits.encode(level=6), bits.encode(level=9)
    assert _gunzip_std(six) == _gunzip_std(nine) == bits.to_bytes()
    assert six == encode_list(bits.to_bytes(), level=6)
    assert nine == encode_list(bits.to_bytes(), level=9)
    with pytest.raises(ValueError, match="level"):
        bits.encode(level=10)


def test_multi_bit_entry_across_a_block_boundary_is_reencoded():
    # 3-bit entries: entry 174762 covers bits 524286..524288, i.e. bytes 65535 and 65536.
    bits = Bitstring(349_528, status_size=3)
    bits.encode()
    bits.set(174_762, 0b111)
    again = Bitstring.decode(bits.encode(), status_size=3)
    assert again.get(174_762) == 7 and again.set_indexes() == [174_762]


def test_block_memo_changes_speed_not_output():
    from status import bitstring as module

    bits = Bitstring(1_048_576)
    for i in range(0, 1_048_576, 1013):
        bits.set(i, 1)
    data = bits.to_bytes()
    module._MEMO.clear()
    cold = Bitstring.from_bytes(data).encode()
    warm = Bitstring.from_bytes(data).encode()  # every block now comes from the memo
    blocks = [module._deflate_block_uncached(data[i : i + 65_536], 6) for i in range(0, len(data), 65_536)]
    expected = module._multibase(module._gzip_member(data, blocks))
    assert cold == warm == expected
    assert _gunzip_std(expected) == data
    # A list of one block changes as a whole: it is never remembered (dead weight at once).
    module._MEMO.clear()
    Bitstring(131_072).encode()
    assert len(module._MEMO) == 0 and Bitstring.from_bytes(data).encode() == expected and len(module._MEMO) == len(data) // 65_536

"""status.bitstring: the Bitstring Status List v1.0 §3.3 generation and §3.4 expansion algorithms.

Round trips for every statusSize from 1 to 16: values set are the values read, after any
number of incremental re-encodings, and the entry layout is the specification's (bit 0 is the
most significant bit of byte 0, each value most significant bit first), checked against a bit
walk written here. Encoded lists are ordinary GZIP (the standard library reads them, and ours
reads the standard library's). Any ``encodedList`` (arbitrary text, a bad prefix or alphabet,
truncated or corrupted GZIP, trailing bytes, several members, bombs around the inflation cap)
decodes or raises ``BitstringError``.
"""

from __future__ import annotations

import base64
import gzip
import zlib

from hypothesis import example, given
from hypothesis import strategies as st

from status.bitstring import MAX_STATUS_SIZE, Bitstring, BitstringError, decode_list, encode_list
from strategies import any_text, mutated

sizes = st.integers(min_value=1, max_value=MAX_STATUS_SIZE)


def _u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _entry(data: bytes, index: int, size: int) -> int:
    """The specification's layout, one bit at a time."""
    value = 0
    for bit in range(index * size, (index + 1) * size):
        value = (value << 1) | ((data[bit // 8] >> (7 - bit % 8)) & 1)
    return value


@st.composite
def lists_and_writes(draw: st.DrawFn) -> tuple[Bitstring, list[tuple[int, int]]]:
    size = draw(sizes)
    # length * size must be whole bytes: a multiple of 8 entries always is
    length = 8 * draw(st.integers(min_value=1, max_value=64))
    bits = Bitstring(length, status_size=size)
    writes = draw(
        st.lists(st.tuples(st.integers(0, length - 1), st.integers(0, (1 << size) - 1)), max_size=40)
    )
    return bits, writes


@given(lists_and_writes(), st.integers(0, 9))
def test_values_set_are_values_read_after_encoding(case: tuple[Bitstring, list[tuple[int, int]]], level: int) -> None:
    bits, writes = case
    expected: dict[int, int] = {}
    for n, (index, value) in enumerate(writes):
        bits.set(index, value)
        expected[index] = value
        if n % 7 == 0:
            bits.encode(level=level)  # interleaved encodes exercise the incremental path
    encoded = bits.encode(level=level)
    assert encoded == encode_list(bits.to_bytes(), level=level)  # incremental == from scratch
    decoded = Bitstring.decode(encoded, status_size=bits.status_size)
    assert decoded == bits and len(decoded) == len(bits)
    data = decoded.to_bytes()
    for index in range(len(bits)):
        assert decoded.get(index) == expected.get(index, 0) == _entry(data, index, bits.status_size)
    assert decoded.set_indexes() == sorted(i for i, v in expected.items() if v)
    assert gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "==")) == data


@given(st.binary(min_size=1, max_size=300), sizes)
def test_any_bytes_read_as_the_specifications_layout(data: bytes, size: int) -> None:
    try:
        bits = Bitstring.from_bytes(data, status_size=size)
    except BitstringError:
        assert len(data) * 8 < size
        return
    assert len(bits) == len(data) * 8 // size
    for index in range(len(bits)):
        assert bits.get(index) == _entry(data, index, size)


@given(st.binary(min_size=1, max_size=2000), st.integers(0, 9), st.sampled_from([0, 1, 2]))
def test_decoding_inverts_encoding_and_reads_any_gzip_writer(data: bytes, level: int, mtime: int) -> None:
    assert decode_list(encode_list(data, level=level)) == data
    assert decode_list(_u(gzip.compress(data, compresslevel=level, mtime=mtime))) == data


def _refused(encoded: object, **kw: int) -> bool:
    try:
        decode_list(encoded, **kw)
    except BitstringError as e:
        assert e.detail and e.code == "MALFORMED_VALUE_ERROR"
        return True
    return False


@given(st.binary(min_size=1, max_size=500), st.data())
def test_every_truncation_of_a_gzip_stream_is_refused(data: bytes, draw: st.DataObject) -> None:
    compressed = gzip.compress(data, mtime=0)
    cut = draw.draw(st.integers(0, len(compressed) - 1))
    assert _refused(_u(compressed[:cut]))


@given(st.binary(min_size=1, max_size=200), st.binary(min_size=1, max_size=20))
def test_trailing_bytes_after_the_gzip_stream_are_refused(data: bytes, tail: bytes) -> None:
    compressed = gzip.compress(data, mtime=0)
    refused = _refused(_u(compressed + tail))
    if not tail.startswith(b"\x1f\x8b"):
        assert refused


@given(st.binary(min_size=1, max_size=200), st.data())
def test_corrupted_gzip_decodes_or_is_refused(data: bytes, draw: st.DataObject) -> None:
    compressed = bytearray(gzip.compress(data, mtime=0))
    for _ in range(draw.draw(st.integers(1, 3))):
        at = draw.draw(st.integers(0, len(compressed) - 1))
        compressed[at] ^= draw.draw(st.integers(1, 255))
    try:
        decoded = decode_list(_u(bytes(compressed)))
    except BitstringError:
        return
    # a flip that survives the CRC-32 and length check can only be in the header's free fields
    assert decoded == data


@given(st.integers(1, 6000), st.integers(1, 4), st.integers(1, 5000))
def test_the_inflation_cap_counts_every_member(member: int, members: int, cap: int) -> None:
    encoded = _u(b"".join(gzip.compress(bytes(member), mtime=0) for _ in range(members)))
    if member * members <= cap:
        assert decode_list(encoded, max_bytes=cap) == bytes(member * members)
    else:
        assert _refused(encoded, max_bytes=cap)


def test_a_bomb_just_past_the_default_cap_is_refused_and_one_at_it_is_read() -> None:
    from status.bitstring import MAX_DECODED_BYTES

    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    at_cap = compressor.compress(bytes(MAX_DECODED_BYTES)) + compressor.flush()
    assert len(decode_list(_u(at_cap))) == MAX_DECODED_BYTES
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    past = compressor.compress(bytes(MAX_DECODED_BYTES + 1)) + compressor.flush()
    assert _refused(_u(past))


valid_lists = st.binary(min_size=1, max_size=64).map(encode_list)
encoded_lists = st.one_of(
    any_text,
    st.text(st.sampled_from("uzABab09-_=+/ \n"), max_size=40),
    valid_lists,
    valid_lists.flatmap(lambda e: mutated(e)),
    st.binary(max_size=60).map(_u),
    st.binary(max_size=60).map(lambda b: _u(b"\x1f\x8b" + b)),
    st.one_of(st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2), st.binary(max_size=4)),
)


@given(encoded_lists, sizes | st.integers() | st.none() | st.text(max_size=2) | st.booleans())
@example("u", 1)
@example("uH4sI", 1)
def test_any_encoded_list_decodes_or_raises_bitstring_error(encoded: object, size: object) -> None:
    try:
        bits = Bitstring.decode(encoded, status_size=size)  # type: ignore[arg-type]
    except BitstringError:
        return
    assert isinstance(size, int) and 1 <= size <= MAX_STATUS_SIZE and len(bits) >= 1
    assert decode_list(bits.encode()) == bits.to_bytes()


@given(st.integers(-10, 10**6) | st.booleans() | st.none() | st.floats(), sizes | st.integers(-2, 40) | st.text(max_size=2))
def test_any_constructor_arguments_build_a_list_or_raise_bitstring_error(length: object, size: object) -> None:
    try:
        bits = Bitstring(length, status_size=size)  # type: ignore[arg-type]
    except BitstringError:
        return
    assert len(bits) == length and bits.bit_length == length * size  # type: ignore[operator]

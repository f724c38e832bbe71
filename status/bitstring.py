"""The status bitstring: get and set entries, encode and decode ``encodedList``.

Bitstring Status List v1.0 §3.1 (BitstringStatusListCredential, ``encodedList``) and §3.2
(Bitstring Generation / Expansion Algorithms). Entry ``i`` of ``statusSize`` bits occupies
bits ``i*statusSize .. (i+1)*statusSize - 1``; bit 0 is the left-most (most significant) bit
of byte 0, and a multi-bit value reads most significant bit first. ``encodedList`` is the
multibase base64url (``u``, no padding) form of the GZIP-compressed bytes.

Pure: no I/O, no clock. Decoding is strict because the input comes from the network: every
way it can be malformed (prefix, alphabet, padding, not GZIP, truncated, trailing bytes, too
large once inflated) is a ``BitstringError`` with a sentence saying which.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from vc.errors import MalformedValueError, RangeError

# Bitstring Status List v1.0 §3.1: "the uncompressed bitstring MUST be at least 16KB in size"
# and §3.4 validate step: minimumNumberOfEntries is 131,072.
MIN_STATUS_LIST_LENGTH = 131_072

# Level 6 is zlib's own default. On status lists (long zero runs, few set bits) level 9
# produces output within a few bytes of level 6 but costs several times as long, which
# matters for the "re-publish after one revocation" path (bench/bench_status.py measures
# both; see the numbers in its output).
DEFAULT_GZIP_LEVEL = 6

# A decompression-bomb cap: 16 MiB inflated is 134,217,728 one-bit entries, eight times the
# largest list we publish. GZIP reaches ~1000:1 on zeros, so a 16 KiB response can inflate to
# 16 MiB; anything beyond the cap is refused before it is allocated.
MAX_DECODED_BYTES = 16 * 1024 * 1024

# statusSize is "an integer greater than zero"; statusMessage then lists up to 2**statusSize
# values. Wider entries have no use we know of and would make statusMessage unbounded.
MAX_STATUS_SIZE = 16

_GZIP_MAGIC = b"\x1f\x8b"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class BitstringError(MalformedValueError):
    """An ``encodedList`` (or a bitstring parameter) is malformed."""


def encode_list(data: bytes | bytearray, *, level: int = DEFAULT_GZIP_LEVEL) -> str:
    """GZIP-compress ``data`` and return it as multibase base64url without padding (``u...``).

    zlib's GZIP wrapper (wbits=31) writes a zero mtime, so equal input gives equal output.
    """
    if not 0 <= level <= 9:
        raise ValueError(f"the GZIP compression level must be 0..9, got {level}")
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    compressed = compressor.compress(bytes(data)) + compressor.flush()
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: object, *, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """The uncompressed bytes of an ``encodedList``; ``BitstringError`` on any malformation."""
    if not isinstance(encoded, str):
        raise BitstringError(f"encodedList must be a string, not {type(encoded).__name__}")
    if not encoded:
        raise BitstringError("encodedList is empty")
    if encoded[0] != "u":
        raise BitstringError(
            f"encodedList must be multibase base64url (starting with 'u'), but it starts with {encoded[0]!r}"
        )
    body = encoded[1:]
    if not _B64URL.fullmatch(body):
        bad = next(ch for ch in body if not (ch.isascii() and (ch.isalnum() or ch in "-_")))
        what = "padding ('=')" if bad == "=" else f"the character {bad!r}"
        raise BitstringError(f"encodedList is not base64url without padding: it contains {what}")
    if len(body) % 4 == 1:
        raise BitstringError("encodedList is not valid base64url: its length cannot encode whole bytes")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as e:  # pragma: no cover - the regex admits only valid input
        raise BitstringError(f"encodedList is not valid base64url ({e})") from e
    return _gunzip(compressed, max_bytes=max_bytes)


def _gunzip(compressed: bytes, *, max_bytes: int) -> bytes:
    if compressed[:2] != _GZIP_MAGIC:
        raise BitstringError("encodedList is not GZIP-compressed (the GZIP header is missing)")
    out = bytearray()
    data = compressed
    # A GZIP file may hold several members back to back (RFC 1952 §2.2); inflate them all,
    # counting against one cap.
    while True:
        inflater = zlib.decompressobj(31)
        try:
            # max_length is at least 1 here (0 would mean "unlimited" to zlib).
            out += inflater.decompress(data, max_bytes - len(out) + 1)
        except zlib.error as e:
            raise BitstringError(f"encodedList is not valid GZIP data ({e})") from e
        if len(out) > max_bytes:
            raise BitstringError(
                f"encodedList inflates to more than {max_bytes} bytes; refusing it (decompression bomb guard)"
            )
        if not inflater.eof:
            raise BitstringError("encodedList is truncated: the GZIP stream ends before its end marker")
        data = inflater.unused_data
        if not data:
            break
        if data[:2] != _GZIP_MAGIC:
            raise BitstringError("encodedList has trailing bytes after the GZIP stream")
    if not out:
        raise BitstringError("encodedList decodes to an empty bitstring")
    return bytes(out)


def _check_status_size(status_size: object) -> int:
    if isinstance(status_size, bool) or not isinstance(status_size, int):
        raise BitstringError(f"statusSize must be an integer, not {status_size!r}")
    if not 1 <= status_size <= MAX_STATUS_SIZE:
        raise BitstringError(f"statusSize must be between 1 and {MAX_STATUS_SIZE}, got {status_size}")
    return status_size


class Bitstring:
    """``length`` entries of ``status_size`` bits each, all initially 0.

    ``length * status_size`` must be a whole number of bytes, so that the encoded list says
    exactly how many entries it holds.
    """

    __slots__ = ("_bits", "length", "status_size")

    def __init__(self, length: int, *, status_size: int = 1) -> None:
        status_size = _check_status_size(status_size)
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise BitstringError(f"a bitstring length is a positive integer, got {length!r}")
        if (length * status_size) % 8:
            raise BitstringError(
                f"{length} entries of {status_size} bit(s) is not a whole number of bytes; use a multiple of 8"
            )
        self.length = length
        self.status_size = status_size
        self._bits = bytearray(length * status_size // 8)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, *, status_size: int = 1) -> "Bitstring":
        """Wrap decoded bytes; the entry count is ``len(data) * 8 // status_size``.

        Trailing bits that do not fill a whole entry are kept (and re-encoded) but unreachable.
        """
        status_size = _check_status_size(status_size)
        if not data:
            raise BitstringError("a bitstring needs at least one byte")
        self = cls.__new__(cls)
        self.status_size = status_size
        self.length = len(data) * 8 // status_size
        self._bits = bytearray(data)
        if self.length == 0:
            raise BitstringError(f"{len(data)} byte(s) hold no whole entry of {status_size} bits")
        return self

    @classmethod
    def decode(
        cls, encoded: object, *, status_size: int = 1, max_bytes: int = MAX_DECODED_BYTES
    ) -> "Bitstring":
        """Bitstring Status List v1.0 §3.2 "Bitstring Expansion Algorithm", strictly."""
        return cls.from_bytes(decode_list(encoded, max_bytes=max_bytes), status_size=status_size)

    def encode(self, *, level: int = DEFAULT_GZIP_LEVEL) -> str:
        """Bitstring Status List v1.0 §3.2 "Bitstring Generation Algorithm"."""
        return encode_list(self._bits, level=level)

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    @property
    def bit_length(self) -> int:
        return len(self._bits) * 8

    def __len__(self) -> int:
        return self.length

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return (self.status_size, self._bits) == (other.status_size, other._bits)

    def __repr__(self) -> str:
        return f"Bitstring(length={self.length}, status_size={self.status_size})"

    def _check_index(self, index: object) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise BitstringError(f"a status list index is an integer, not {index!r}")
        if not 0 <= index < self.length:
            raise RangeError(
                f"index {index} is outside the status list, which holds entries 0 to {self.length - 1}"
            )
        return index

    def get(self, index: int) -> int:
        """The value of entry ``index`` (0 or 1 when ``status_size`` is 1)."""
        self._check_index(index)
        size = self.status_size
        if size == 1:
            return (self._bits[index >> 3] >> (7 - (index & 7))) & 1
        start = index * size
        end = start + size
        first, last = start >> 3, (end - 1) >> 3
        chunk = int.from_bytes(self._bits[first : last + 1], "big")
        return (chunk >> ((last + 1) * 8 - end)) & ((1 << size) - 1)

    def set(self, index: int, value: int | bool) -> None:
        """Set entry ``index`` to ``value`` (``0 <= value < 2**status_size``)."""
        self._check_index(index)
        size = self.status_size
        value = int(value)
        if not 0 <= value < (1 << size):
            raise BitstringError(f"a {size}-bit status value must be 0..{(1 << size) - 1}, got {value}")
        if size == 1:
            mask = 0x80 >> (index & 7)
            if value:
                self._bits[index >> 3] |= mask
            else:
                self._bits[index >> 3] &= ~mask & 0xFF
            return
        start = index * size
        end = start + size
        first, last = start >> 3, (end - 1) >> 3
        shift = (last + 1) * 8 - end
        width = last + 1 - first
        chunk = int.from_bytes(self._bits[first : last + 1], "big")
        chunk = (chunk & ~(((1 << size) - 1) << shift)) | (value << shift)
        self._bits[first : last + 1] = chunk.to_bytes(width, "big")

    def set_indexes(self) -> list[int]:
        """Indexes whose value is not 0, in order (for tests and diagnostics, O(bytes))."""
        out = []
        if self.status_size == 1:
            for byte_index, byte in enumerate(self._bits):
                if byte:
                    base = byte_index * 8
                    out.extend(base + bit for bit in range(8) if byte & (0x80 >> bit))
            return out
        return [i for i in range(self.length) if self.get(i)]

"""The status bitstring: get and set entries, encode and decode ``encodedList``.

Bitstring Status List v1.0 §2.2 (BitstringStatusListCredential, ``encodedList``) and §3.3 / §3.4
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
import hashlib
import re
import zlib

from did.cache import LRU
from vc.errors import MalformedValueError, RangeError

# Bitstring Status List v1.0 §2.2 encodedList: "The uncompressed bitstring MUST be at least 16KB
# in size", and §3.2 Validate Algorithm: "Let minimumNumberOfEntries be 131,072".
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

# Re-publishing after one revocation should not recompress a whole 2 MiB list. The bitstring
# is compressed in blocks of this many bytes, each a raw DEFLATE stream ended by a full flush
# (byte-aligned, no back-references across blocks, the technique pigz uses), and the
# compressed blocks are kept: a change recompresses only its block. The concatenation is one
# ordinary GZIP member, so any GZIP reader decodes it.
_BLOCK_BYTES = 64 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
# An empty fixed-Huffman DEFLATE block with BFINAL set (RFC 1951 §3.2.6): closes the stream
# after the flushed blocks (what zlib emits for Z_FINISH on no input).
_FINAL_BLOCK = b"\x03\x00"
# RFC 1952 §2.3: ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0 (reproducible output), XFL=0, OS=255.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class BitstringError(MalformedValueError):
    """An ``encodedList`` (or a bitstring parameter) is malformed."""


def _check_level(level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise ValueError(f"the GZIP compression level must be 0..9, got {level!r}")
    return level


def _deflate_block_uncached(block: bytes | bytearray | memoryview, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw DEFLATE, no wrapper
    return compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)


# Compressed blocks by (level, digest of the block): a bounded memo of a pure function. A
# publisher that rebuilds the Bitstring from stored bytes for every re-publication (the node
# reads it from SQLite) would otherwise recompress all of a 2 MiB list for one changed bit.
# Hashing a block (BLAKE2b, ~20 µs per 64 KiB) is far cheaper than deflating it (ms). Results
# are identical with or without the memo, so it changes speed only. Bounded by the bytes it
# holds, 8 MiB: every block of ~25 dense 16,777,216-entry lists. Lists of one block are not
# remembered, and every change leaves the block it replaced behind as dead weight, so a larger
# bound only fills for longer: 32 MiB of default-length lists took a node minutes of
# revocations to fill (bench/soak.py, issue 14). Encoding runs in worker threads
# (asyncio.to_thread); the LRU is thread-safe.
_MEMO: LRU[tuple[int, bytes], bytes] = LRU(8 * 1024 * 1024, sizeof=len)


def _deflate_block(block: bytes | bytearray | memoryview, level: int, *, remember: bool = True) -> bytes:
    if not remember:
        return _deflate_block_uncached(block, level)
    key = (level, hashlib.blake2b(block, digest_size=16).digest())
    compressed = _MEMO.get(key)
    if compressed is None:
        compressed = _deflate_block_uncached(block, level)
        _MEMO[key] = compressed
    return compressed


def _gzip_member(data: bytes | bytearray, deflated_blocks: list[bytes]) -> bytes:
    trailer = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    return b"".join((_GZIP_HEADER, *deflated_blocks, _FINAL_BLOCK, trailer))


def _multibase(compressed: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def encode_list(data: bytes | bytearray, *, level: int = DEFAULT_GZIP_LEVEL) -> str:
    """GZIP-compress ``data`` and return it as multibase base64url without padding (``u...``).

    Output is reproducible (zero mtime) and block-structured as ``Bitstring.encode`` writes it.
    """
    _check_level(level)
    view = memoryview(data)
    remember = len(data) > _BLOCK_BYTES
    blocks = [_deflate_block(view[i : i + _BLOCK_BYTES], level, remember=remember) for i in range(0, len(data), _BLOCK_BYTES)]
    return _multibase(_gzip_member(data, blocks))


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

    __slots__ = ("_bits", "length", "status_size", "_deflated", "_deflated_level", "_dirty")

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
        self._forget_compression()

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
        self._forget_compression()
        if self.length == 0:
            raise BitstringError(f"{len(data)} byte(s) hold no whole entry of {status_size} bits")
        return self

    @classmethod
    def decode(
        cls, encoded: object, *, status_size: int = 1, max_bytes: int = MAX_DECODED_BYTES
    ) -> "Bitstring":
        """Bitstring Status List v1.0 §3.4 "Bitstring Expansion Algorithm", strictly."""
        return cls.from_bytes(decode_list(encoded, max_bytes=max_bytes), status_size=status_size)

    def _forget_compression(self) -> None:
        self._deflated: list[bytes] | None = None
        self._deflated_level = -1
        self._dirty: set[int] = set()

    def encode(self, *, level: int = DEFAULT_GZIP_LEVEL) -> str:
        """Bitstring Status List v1.0 §3.3 "Bitstring Generation Algorithm".

        Only the blocks changed since the last ``encode`` at this level are recompressed.
        """
        _check_level(level)
        view = memoryview(self._bits)
        # A list of one block (the default 131,072 entries are 16 KiB) changes as a whole: no
        # other block of it could be found in the memo, so it is not put there.
        remember = len(self._bits) > _BLOCK_BYTES
        if self._deflated is None or self._deflated_level != level:
            self._deflated = [
                _deflate_block(view[i : i + _BLOCK_BYTES], level, remember=remember)
                for i in range(0, len(self._bits), _BLOCK_BYTES)
            ]
            self._deflated_level = level
        else:
            for block in self._dirty:
                start = block * _BLOCK_BYTES
                self._deflated[block] = _deflate_block(view[start : start + _BLOCK_BYTES], level, remember=remember)
        self._dirty.clear()
        return _multibase(_gzip_member(self._bits, self._deflated))

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
            self._dirty.add((index >> 3) // _BLOCK_BYTES)
            return
        start = index * size
        end = start + size
        first, last = start >> 3, (end - 1) >> 3
        shift = (last + 1) * 8 - end
        width = last + 1 - first
        chunk = int.from_bytes(self._bits[first : last + 1], "big")
        chunk = (chunk & ~(((1 << size) - 1) << shift)) | (value << shift)
        self._bits[first : last + 1] = chunk.to_bytes(width, "big")
        self._dirty.update((first // _BLOCK_BYTES, last // _BLOCK_BYTES))

    def set_indexes(self) -> list[int]:
        """Indexes whose value is not 0, in order (for tests and diagnostics, O(bytes))."""
        out = []
        if self.status_size == 1:
            for byte_index, byte in enumerate(self._bits):
                if byte:
                    base = byte_index * 8
                    out.extend(base + bit for bit in range(8) if byte & (0x80 >> bit))
            return out
        size = self.status_size
        candidates: set[int] = set()
        for byte_index, byte in enumerate(self._bits):
            if byte:
                first = byte_index * 8 // size
                last = min((byte_index * 8 + 7) // size, self.length - 1)
                candidates.update(range(first, last + 1))
        return [i for i in sorted(candidates) if self.get(i)]

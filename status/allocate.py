"""Which status list index a new credential gets: uniformly random among the free ones.

Bitstring Status List v1.0 §6.1 (Privacy: herd privacy), §2.1 statusListIndex
("Implementations SHOULD assign indexes randomly") and §6.5 ("allocate status list entry indexes
randomly"): sequential indexes leak issuance order and let a verifier
correlate neighbours, so an index is drawn with a cryptographically secure generator
(``secrets``) uniformly among the indexes not yet handed out. An index is never reused, even
after the credential that held it is gone, so ``used`` must include every index ever allocated.

This module is the POLICY only. It stores nothing and is not atomic by itself. The contract
with the caller (the node's store) is:

1. Open one write transaction (SQLite: ``BEGIN IMMEDIATE``), so no other issuer can allocate
   from the same list concurrently.
2. Read the list's used indexes inside that transaction (a ``UsedBitmap`` blob or a set of
   rows) and call ``choose_free_index(used, length)``.
3. ``None`` means the list is full: mark it full and create a fresh list in the same
   transaction, then choose from that one.
4. Record the chosen index as used (e.g. an ``INSERT`` into a table with
   ``UNIQUE(list_id, status_index)``, and/or ``bitmap.add(index)`` written back), and COMMIT
   before the credential carrying the index is signed or returned.

A crash after the commit but before issuance wastes one index (it stays used, never handed
out again); a crash before the commit hands out nothing. Either way no index is given to two
credentials.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from typing import Protocol

# Rejection sampling stays exact-uniform; after this many misses the list is so full that a
# counting pass is cheaper than further probing ((1 - free_fraction) ** 48 < 1% needs
# free_fraction > ~9%).
_PROBES = 48

# The counting pass inspects the bitmap in blocks of this many bytes with int.bit_count, so a
# 16,777,216-entry list is 512 block counts, not two million byte visits.
_BLOCK_BYTES = 4096


class UsedIndices(Protocol):
    """What ``choose_free_index`` needs: membership, a count, iteration (``set[int]`` qualifies)."""

    def __contains__(self, index: object) -> bool: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[int]: ...


class UsedBitmap:
    """The used indexes of one list as a bitmap (bit ``i`` set = index ``i`` handed out).

    Same bit order as the status bitstring (index 0 = most significant bit of byte 0), so a
    store can keep it as one BLOB per list: 16 KiB for 131,072 entries.
    """

    __slots__ = ("_bits", "length", "_count")

    def __init__(self, length: int) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise ValueError(f"a list length is a positive integer, got {length!r}")
        self.length = length
        self._bits = bytearray((length + 7) // 8)
        self._count = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, length: int) -> "UsedBitmap":
        self = cls(length)
        if len(data) != len(self._bits):
            raise ValueError(f"a bitmap of {length} entries is {len(self._bits)} bytes, got {len(data)}")
        self._bits[:] = data
        self._count = int.from_bytes(self._bits, "big").bit_count()
        return self

    @classmethod
    def from_indexes(cls, indexes: Iterable[int], length: int) -> "UsedBitmap":
        self = cls(length)
        for index in indexes:
            self.add(index)
        return self

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def __contains__(self, index: object) -> bool:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.length:
            return False
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        for byte_index, byte in enumerate(self._bits):
            if byte:
                base = byte_index * 8
                yield from (base + bit for bit in range(8) if byte & (0x80 >> bit))

    def add(self, index: int) -> None:
        """Mark ``index`` used; adding one already used is an error (it would be a reuse)."""
        if index in self:
            raise ValueError(f"index {index} is already used")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.length:
            raise ValueError(f"index {index!r} is outside 0..{self.length - 1}")
        self._bits[index >> 3] |= 0x80 >> (index & 7)
        self._count += 1

    def _free_between(self, start: int, stop: int) -> int:
        """Free indexes among bytes ``start..stop-1`` (bits past ``length`` do not count)."""
        entries = min((stop - start) * 8, self.length - start * 8)
        return entries - int.from_bytes(self._bits[start:stop], "big").bit_count()

    def nth_free(self, n: int) -> int:
        """The ``n``-th (0-based) free index in ascending order."""
        free_total = self.length - self._count
        if not 0 <= n < free_total:
            raise ValueError(f"there are {free_total} free indexes, no free index number {n}")
        # Narrow down by counting set bits in ever smaller chunks (4 KiB, 64 bytes, 1 byte),
        # so a 2 MiB bitmap costs a few hundred bit counts, not millions of bit tests.
        start, stop = 0, len(self._bits)
        for chunk in (_BLOCK_BYTES, 64, 1):
            for chunk_start in range(start, stop, chunk):
                chunk_stop = min(chunk_start + chunk, stop)
                free_here = self._free_between(chunk_start, chunk_stop)
                if n < free_here:
                    start, stop = chunk_start, chunk_stop
                    break
                n -= free_here
            else:  # pragma: no cover - the counts above are exact
                break
        else:
            byte = self._bits[start]
            for bit in range(8):
                index = start * 8 + bit
                if index < self.length and not byte & (0x80 >> bit):
                    if n == 0:
                        return index
                    n -= 1
        raise RuntimeError("free-index count and bitmap disagree")  # pragma: no cover


def choose_free_index(used: UsedIndices, length: int) -> int | None:
    """A uniformly random index in ``0..length-1`` not in ``used``; ``None`` if all are used.

    Random probing first (cheap while the list has room); when probing keeps missing, one
    exact pass picks the ``r``-th free index for a secure random ``r``. Both stages are
    uniform over the free indexes, so the mix is too.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
        raise ValueError(f"a list length is a positive integer, got {length!r}")
    free = length - len(used)
    if free <= 0:
        return None
    for _ in range(_PROBES):
        index = secrets.randbelow(length)
        if index not in used:
            return index
    bitmap = used if isinstance(used, UsedBitmap) and used.length == length else _as_bitmap(used, length)
    free = length - len(bitmap)
    if free <= 0:
        return None
    return bitmap.nth_free(secrets.randbelow(free))


def _as_bitmap(used: UsedIndices, length: int) -> UsedBitmap:
    bitmap = UsedBitmap(length)
    for index in used:
        if isinstance(index, int) and 0 <= index < length and index not in bitmap:
            bitmap.add(index)
    return bitmap


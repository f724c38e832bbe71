"""status.allocate: uniform, secure, never-reused index choice."""

from __future__ import annotations

import pytest

from status.allocate import UsedBitmap, choose_free_index


def test_thousands_of_draws_are_distinct_and_in_range():
    length = 131_072
    used = UsedBitmap(length)
    drawn = []
    for _ in range(5000):
        index = choose_free_index(used, length)
        assert index is not None and 0 <= index < length
        used.add(index)
        drawn.append(index)
    assert len(set(drawn)) == 5000
    assert len(used) == 5000


def test_draws_are_not_sequential():
    length = 131_072
    used: set[int] = set()
    drawn = []
    for _ in range(2000):
        index = choose_free_index(used, length)
        assert index is not None
        used.add(index)
        drawn.append(index)
    # Sequential or near-sequential allocation would make most neighbours close.
    # For uniform draws, P(|a - b| <= 16) is about 33/131072 per pair, so the 1,999 pairs give
    # about 0.5 close ones (Poisson): more than 8 happens about once in 3e8 runs (a bound of 3
    # failed about once in 600), while a sequential allocator gives about 1,999.
    close = sum(1 for a, b in zip(drawn, drawn[1:]) if abs(a - b) <= 16)
    assert close <= 8
    assert drawn != sorted(drawn)
    ascending = sum(1 for a, b in zip(drawn, drawn[1:]) if b > a)
    assert 850 < ascending < 1150  # about half, as for a random order


def test_draws_are_uniform_over_buckets():
    length = 1024
    counts = [0] * 8
    for _ in range(8000):
        index = choose_free_index(set(), length)
        assert index is not None
        counts[index * 8 // length] += 1
    chi2 = sum((c - 1000) ** 2 / 1000 for c in counts)
    assert chi2 < 30  # 7 degrees of freedom: p < 0.0002 to fail by chance


def test_full_list_gives_none():
    used = UsedBitmap(64)
    for i in range(64):
        used.add(i)
    assert choose_free_index(used, 64) is None
    assert choose_free_index(set(range(64)), 64) is None


def test_nearly_full_list_returns_only_the_free_indexes_uniformly():
    length = 131_072
    free = {5, 70_000, 131_071}
    blob = bytearray(b"\xff" * (length // 8))
    for i in free:
        blob[i // 8] &= ~(0x80 >> (i % 8)) & 0xFF
    used = UsedBitmap.from_bytes(blob, length)
    assert len(used) == length - len(free)
    assert all(i not in used for i in free)
    seen = {i: 0 for i in free}
    for _ in range(600):
        index = choose_free_index(used, length)
        assert index in free
        seen[index] += 1
    assert all(120 < n < 280 for n in seen.values()), seen
    # The same policy works on a plain set of used indexes.
    as_set = set(range(length)) - free
    assert choose_free_index(as_set, length) in free


class _CountingBitmap(UsedBitmap):
    lookups = 0

    def __contains__(self, index: object) -> bool:
        type(self).lookups += 1
        return super().__contains__(index)


def test_nearly_full_large_list_needs_bounded_work():
    # Efficiency without a timed test: a nearly full 16,777,216-entry list must not be probed
    # bit by bit; after a bounded number of random probes one counting pass finds the index.
    length = 16_777_216
    used = _CountingBitmap.from_bytes(b"\xff" * (length // 8 - 1) + b"\xfe", length)
    for _ in range(5):
        assert choose_free_index(used, length) == length - 1
    assert _CountingBitmap.lookups <= 5 * 64


def test_filling_a_small_list_completely_uses_every_index_once():
    length = 4096
    used = UsedBitmap(length)
    while (index := choose_free_index(used, length)) is not None:
        used.add(index)
    assert len(used) == length
    assert list(used) == list(range(length))


def test_bitmap_refuses_reuse_and_round_trips():
    used = UsedBitmap(16)
    used.add(3)
    with pytest.raises(ValueError, match="already used"):
        used.add(3)
    with pytest.raises(ValueError, match="outside"):
        used.add(16)
    again = UsedBitmap.from_bytes(used.to_bytes(), 16)
    assert 3 in again and len(again) == 1 and list(again) == [3]
    assert used.to_bytes() == b"\x10\x00"
    with pytest.raises(ValueError):
        UsedBitmap.from_bytes(b"\x00", 16)


def test_nth_free_counts_in_ascending_order():
    used = UsedBitmap.from_indexes([0, 2, 3, 9], 12)
    assert [used.nth_free(n) for n in range(8)] == [1, 4, 5, 6, 7, 8, 10, 11]
    with pytest.raises(ValueError):
        used.nth_free(8)


def test_nth_free_agrees_with_brute_force_on_random_bitmaps():
    import random

    rng = random.Random(11)
    for length in (1, 7, 8, 9, 513, 40_000, 70_001):
        chosen = rng.sample(range(length), rng.randrange(length + 1))
        used = UsedBitmap.from_indexes(chosen, length)
        free = sorted(set(range(length)) - set(chosen))
        for n in {0, len(free) // 2, len(free) - 1} if free else ():
            assert used.nth_free(n) == free[n]
        assert choose_free_index(used, length) in (set(free) or {None})

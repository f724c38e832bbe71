"""node.statuslists: atomic random index allocation, bit updates, re-signing, serving."""

from __future__ import annotations

import asyncio
import time

import pytest

from node.statuslists import StatusLists
from node.store import Store
from status.bitstring import Bitstring
from tests.conftest import FIXED_NOW


def _clock():
    return FIXED_NOW


async def _no_identity(name):  # allocation never signs
    raise AssertionError("allocation must not sign")


def _lists(store: Store, *, length: int = 131_072, min_length: int = 131_072) -> StatusLists:
    return StatusLists(
        store,
        base_url="https://node.example",
        identity=_no_identity,
        loader=None,
        clock=_clock,
        length=length,
        min_length=min_length,
    )


async def _issuer(store: Store, name: str = "default") -> None:
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO issuers (name, created, public_key_multibase, sealed_secret) VALUES (?, '2025-01-01T00:00:00Z', 'z', x'00')",
            (name,),
        )


async def _allocate(store: Store, lists: StatusLists, purpose: str = "revocation", count: int = 1):
    async with store.transaction() as db:
        allocations, created = await lists.allocate(db, "default", purpose, [None] * count, when="t")
    return allocations, created


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path)
    await _issuer(s)
    yield s
    await s.close()


async def test_thousands_of_concurrent_allocations_get_distinct_indexes(store):
    lists = _lists(store)
    started = time.perf_counter()
    results = await asyncio.gather(*(_allocate(store, lists) for _ in range(2000)))
    elapsed = time.perf_counter() - started
    indexes = [(a.list_id, a.index) for allocations, _ in results for a in allocations]
    assert len(indexes) == 2000 and len(set(indexes)) == 2000
    # Exactly one list was opened, by exactly one of the concurrent callers.
    assert sum(len(created) for _, created in results) == 1
    row = await store.fetchone("SELECT used_count FROM status_lists")
    assert row["used_count"] == 2000
    rows = await store.fetchall("SELECT COUNT(*) AS n FROM status_entries")
    assert rows[0]["n"] == 2000
    print(f"2000 concurrent allocations in {elapsed:.2f}s")


async def test_allocation_is_random_not_sequential(store):
    allocations, _ = await _allocate(store, _lists(store), count=50)
    indexes = [a.index for a in allocations]
    assert indexes != sorted(indexes)
    assert max(indexes) > 1000  # 50 sequential indexes would all be < 50


async def test_full_list_opens_a_fresh_one_and_never_reuses(store):
    lists = _lists(store, length=64, min_length=8)
    allocations, created = await _allocate(store, lists, count=64 + 10)
    first = [a for a in allocations if a.seq == 1]
    second = [a for a in allocations if a.seq == 2]
    assert sorted(a.index for a in first) == list(range(64))
    assert len(second) == 10 and len({a.index for a in second}) == 10
    assert len(created) == 2
    assert second[0].url == "https://node.example/status/default/revocation/2"
    more, created_again = await _allocate(store, lists, count=5)
    assert {a.seq for a in more} == {2} and not created_again
    assert not {a.index for a in more} & {a.index for a in second}


async def test_allocation_committed_before_a_crash_is_never_handed_out_again(tmp_path):
    store = await Store.open(tmp_path)
    await _issuer(store)
    lists = _lists(store, length=64, min_length=8)
    before, _ = await _allocate(store, lists, count=40)
    await store.close()  # the "crash": allocated, never issued
    store = await Store.open(tmp_path)
    try:
        lists = _lists(store, length=64, min_length=8)
        after, _ = await _allocate(store, lists, count=24)
        assert {a.index for a in before}.isdisjoint({a.index for a in after if a.seq == 1})
        assert sorted(a.index for a in before + after if a.seq == 1) == list(range(64))
    finally:
        await store.close()


async def test_rolled_back_allocation_hands_out_nothing(store):
    lists = _lists(store, length=64, min_length=8)
    with pytest.raises(RuntimeError):
        async with store.transaction() as db:
            await lists.allocate(db, "default", "revocation", [None] * 10, when="t")
            raise RuntimeError("issuance failed before commit")
    assert await store.fetchone("SELECT 1 FROM status_entries") is None
    allocations, _ = await _allocate(store, lists, count=64)
    assert sorted(a.index for a in allocations) == list(range(64))


async def test_lists_are_per_purpose(store):
    lists = _lists(store)
    rev, _ = await _allocate(store, lists, "revocation")
    sus, _ = await _allocate(store, lists, "suspension")
    assert rev[0].list_id != sus[0].list_id
    assert sus[0].url == "https://node.example/status/default/suspension/1"
    entry = lists.entry(sus[0])
    assert entry == {
        "id": f"{sus[0].url}#{sus[0].index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": str(sus[0].index),
        "statusListCredential": sus[0].url,
    }


async def test_set_bits_loads_and_writes_each_list_once_and_bumps_its_version(store):
    lists = _lists(store)
    allocations, _ = await _allocate(store, lists, count=100)
    list_id = allocations[0].list_id
    pending: dict[int, Bitstring] = {}
    async with store.transaction() as db:
        changed = await lists.set_bits(db, [(a.list_id, a.index, 1) for a in allocations], pending)
        await lists.write_bits(db, pending, changed)
    assert changed == {list_id}
    row = await store.fetchone("SELECT bits, version, published_version FROM status_lists WHERE id = ?", (list_id,))
    assert row["version"] == 2 and row["published_version"] == 0
    assert sorted(Bitstring.from_bytes(row["bits"]).set_indexes()) == sorted(a.index for a in allocations)
    # Setting a bit to the value it has is not a change.
    async with store.transaction() as db:
        assert await lists.set_bits(db, [(list_id, allocations[0].index, 1)], {}) == set()

"""node.store: migrations, WAL, durable serialised transactions."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from node.store import MIGRATIONS, Migration, Store, StoreError, register_migration


async def test_fresh_store_applies_every_registered_migration_and_uses_wal(tmp_path):
    store = await Store.open(tmp_path)
    try:
        assert await store.journal_mode() == "wal"
        assert await store.applied_migrations() == [m.name for m in MIGRATIONS]
        assert await store.schema_version() == len(MIGRATIONS)
        tables = {r["name"] for r in await store.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"issuers", "credentials", "status_lists", "status_entries", "tokens", "challenges"} <= tables
    finally:
        await store.close()


async def test_reopening_applies_only_new_migrations(tmp_path):
    first = await Store.open(tmp_path)
    await first.close()
    extra = Migration("test.0001_badges", ("CREATE TABLE badges (id TEXT PRIMARY KEY)",))
    store = await Store.open(tmp_path, migrations=[*MIGRATIONS, extra])
    try:
        assert (await store.applied_migrations())[-1] == "test.0001_badges"
        assert await store.schema_version() == len(MIGRATIONS) + 1
        applied_again = await store.migrate([*MIGRATIONS, extra])
        assert applied_again == []
    finally:
        await store.close()


async def test_failing_migration_is_rolled_back_and_named(tmp_path):
    bad = Migration("test.0002_broken", ("CREATE TABLE half (id TEXT)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match="test.0002_broken"):
        await Store.open(tmp_path, migrations=[*MIGRATIONS, bad])
    store = await Store.open(tmp_path)
    try:
        assert "test.0002_broken" not in await store.applied_migrations()
        # The first step ran inside the failed migration's transaction, so it is gone too.
        assert await store.fetchone("SELECT name FROM sqlite_master WHERE name = 'half'") is None
    finally:
        await store.close()


def test_register_migration_refuses_a_duplicate_name():
    with pytest.raises(ValueError, match="already registered"):
        register_migration(MIGRATIONS[0].name, "SELECT 1")


async def test_transaction_rolls_back_on_error_and_commits_otherwise(tmp_path):
    store = await Store.open(tmp_path)
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction() as db:
                await db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
                raise RuntimeError("boom")
        assert await store.get_setting("a") is None
        await store.set_setting("b", {"x": 1})
        assert await store.get_setting("b") == {"x": 1}
    finally:
        await store.close()
    # Committed data is on disk for an independent connection (durable, not just cached).
    with sqlite3.connect(tmp_path / "vcnode.sqlite3") as raw:
        assert raw.execute("SELECT value FROM settings WHERE key = 'b'").fetchone() == ('{"x": 1}',)


async def test_concurrent_transactions_do_not_interleave(tmp_path):
    store = await Store.open(tmp_path)
    try:
        await store.set_setting("counter", 0)

        async def bump() -> None:
            async with store.transaction() as db:
                async with db.execute("SELECT value FROM settings WHERE key = 'counter'") as cur:
                    value = int((await cur.fetchone())["value"])
                await asyncio.sleep(0)  # give other coroutines every chance to interleave
                await db.execute("UPDATE settings SET value = ? WHERE key = 'counter'", (str(value + 1),))

        await asyncio.gather(*(bump() for _ in range(200)))
        assert await store.get_setting("counter") == 200
    finally:
        await store.close()


async def test_reads_see_committed_data_and_do_not_wait_for_an_open_writer(tmp_path):
    store = await Store.open(tmp_path)
    try:
        await store.set_setting("k", "old")
        inside = asyncio.Event()
        release = asyncio.Event()

        async def writer() -> None:
            async with store.transaction() as db:
                await db.execute("UPDATE settings SET value = '\"new\"' WHERE key = 'k'")
                inside.set()
                await release.wait()

        task = asyncio.create_task(writer())
        await inside.wait()
        # The writer holds its transaction open; a read answers at once, with committed data.
        assert await asyncio.wait_for(store.get_setting("k"), 2) == "old"
        release.set()
        await task
        assert await store.get_setting("k") == "new"
    finally:
        await store.close()


async def test_the_read_connection_cannot_write(tmp_path):
    store = await Store.open(tmp_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            async with store.read() as db:
                await db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    finally:
        await store.close()

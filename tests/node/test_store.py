"""node.store: the storage contract every backend keeps, then what only SQLite promises.

The contract tests run through the ``database`` fixture, on every backend of
``tests/postgres_server.py`` (``stores``: it opens a test's database, a second time when asked,
the second handle standing for another process on the same data). A new backend added there
runs every contract test too.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import textwrap
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from postgres_server import Stores, stores  # noqa: F401  (the fixture)

from node.statuslists import StatusLists
from node.store import (
    MIGRATIONS,
    Database,
    Migration,
    PostgresDatabase,
    SQLiteDatabase,
    StoreError,
    applied,
    migrate,
    schema_version,
)
from node.store import issuers as issuer_rows
from node.store import settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def backend(stores: Stores) -> Stores:
    return stores


@pytest.fixture
async def database(backend: Stores) -> Database:
    return await backend.open()


async def get(db: Database, key: str) -> Any:
    async with db.read() as tx:
        return await settings.get(tx, key)


# --- migrations ----------------------------------------------------------------------------------


async def test_a_fresh_store_applies_every_migration_in_order(database: Database) -> None:
    assert await applied(database) == [m.name for m in MIGRATIONS]
    assert await schema_version(database) == len(MIGRATIONS)
    async with database.read() as tx:
        for table in ("issuers", "credentials", "status_lists", "status_list_chunks", "status_entries", "tokens", "challenges",
                      "achievements", "microcredential_keys", "trusted_bodies", "held_accreditations"):
            assert await tx.fetchall(f"SELECT * FROM {table}") == [], table


async def test_the_migration_names_of_existing_data_folders_never_change() -> None:
    # Recorded in every data folder since they were released: renaming one re-runs it.
    assert [m.name for m in MIGRATIONS][:4] == [
        "node.0001_initial",
        "node.0002_status_list_chunks",
        "microcredentials.0001_achievements",
        "trust.0001_trusted_bodies_and_held_accreditations",
    ]


async def test_reopening_applies_only_new_migrations_and_migrating_again_applies_none(backend: Stores) -> None:
    await backend.close(await backend.open())
    extra = Migration("test.0001_badges", ("CREATE TABLE badges (id TEXT PRIMARY KEY, image {blob})",))
    db = await backend.open([*MIGRATIONS, extra])
    assert (await applied(db, [*MIGRATIONS, extra]))[-1] == "test.0001_badges"
    assert await schema_version(db) == len(MIGRATIONS) + 1
    assert await migrate(db, [*MIGRATIONS, extra]) == []
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO badges (id, image) VALUES (?, ?)", ("b", b"\x00\xff"))
    async with db.read() as tx:
        assert bytes((await tx.fetchone("SELECT image FROM badges"))["image"]) == b"\x00\xff"


async def test_a_failing_migration_is_rolled_back_whole_and_named(backend: Stores) -> None:
    bad = Migration("test.0002_broken", ("CREATE TABLE half (id TEXT)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match="test.0002_broken"):
        await backend.open([*MIGRATIONS, bad])
    db = await backend.open()
    assert "test.0002_broken" not in await applied(db)
    async with db.read() as tx:
        # The first step ran inside the failed migration's transaction, so it is gone too.
        with pytest.raises(Exception):
            await tx.fetchall("SELECT * FROM half")


async def test_a_store_a_newer_version_migrated_is_served_as_in_a_rolling_upgrade_but_never_migrated_over(
    backend: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    """A version with nothing of its own to apply opens a store a newer one migrated, as the
    older replicas of a rolling upgrade must (docs/scaling.md), and says so; one that would apply
    its own migrations over the newer ones refuses (as restore refuses a newer backup)."""
    import logging

    newer = [*MIGRATIONS, Migration("node.0099_future", ())]
    await backend.close(await backend.open(newer))
    with caplog.at_level(logging.WARNING, logger="node.store.migrations"):
        await backend.close(await backend.open(MIGRATIONS))
    assert "migrated by a newer vcnode (it has node.0099_future)" in caplog.text
    await backend.close(await backend.open(newer))  # the newer still opens it, nothing applied
    refused = r"made by a newer vcnode: it has node\.0099_future, and this version would apply its own migrations"
    with pytest.raises(StoreError, match=refused):
        await backend.open([*MIGRATIONS, Migration("node.0098_of_another_line", ())])
    assert backend.handles == []
    # Nothing was applied meanwhile: the newer version finds its store as it left it.
    assert await applied(await backend.open(newer), newer) == [m.name for m in newer]


async def test_offers_made_before_their_keys_had_a_column_are_found_by_key(backend: Stores) -> None:
    """oid4vci.0002 fills the new column from each outstanding award, so an offer made before
    the upgrade still holds its key against a second offer; one already issued holds none."""
    from node.store import oid4vci as offers

    before = MIGRATIONS[: [m.name for m in MIGRATIONS].index("oid4vci.0002_offer_idempotency_keys")]
    db = await backend.open(before)
    await _issuer(db)
    async with db.transaction() as tx:
        for offer_id, request in (
            ("o1", {"achievementId": "ds-101", "idempotencyKey": "cohort-7/ana"}),
            ("o2", None),
            # PostgreSQL's jsonb holds no U+0000: such an award must not stop the migration.
            ("o3", {"achievementId": "ds-101", "learner": {"name": "A\u0000B"}, "idempotencyKey": "cohort-7/cy"}),
        ):
            await tx.execute(
                "INSERT INTO oid4vci_offers (id, issuer, configuration_id, request, code_hash, created, expires) "
                "VALUES (?, 'default', 'ds-101', ?, ?, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')",
                (offer_id, json.dumps(request) if request else None, f"hash-{offer_id}"),
            )
    await backend.close(db)
    db = await backend.open()
    async with db.read() as tx:
        assert [row["id"] for row in await offers.holding_key(tx, "default", "cohort-7/ana")] == ["o1"]
        assert await offers.holding_key(tx, "default", "cohort-7/bo") == []
        assert await offers.holding_key(tx, "physics", "cohort-7/ana") == []


async def test_a_token_redeemed_before_the_store_recorded_its_identifiers_says_not_recorded(backend: Stores) -> None:
    """oid4vci.0003 adds identifiers_granted with no backfill: a token redeemed before it is NULL
    ("not recorded", on which the credential endpoint takes either name, OpenID4VCI 1.0 §8.2),
    never 0, which would refuse the credential_identifier its wallet was given. A redemption
    since records whether the token response named credential_identifiers."""
    from node.store import oid4vci as offers

    before = MIGRATIONS[: [m.name for m in MIGRATIONS].index("oid4vci.0003_token_credential_identifiers")]
    db = await backend.open(before)
    await _issuer(db)
    async with db.transaction() as tx:
        for offer_id, redeemed in (("old", "2026-01-01T00:01:00Z"), ("plain", None), ("named", None)):
            await tx.execute(
                "INSERT INTO oid4vci_offers (id, issuer, configuration_id, request, code_hash, created, expires, redeemed, "
                "token_hash, token_expires) VALUES (?, 'default', 'ds-101', '{}', ?, '2026-01-01T00:00:00Z', "
                "'2026-01-02T00:00:00Z', ?, ?, ?)",
                (offer_id, f"code-{offer_id}", redeemed, f"token-{offer_id}" if redeemed else None,
                 "2026-01-01T00:06:00Z" if redeemed else None),
            )
    await backend.close(db)
    db = await backend.open()
    async with db.transaction() as tx:
        for offer_id, named in (("plain", False), ("named", True)):
            assert await offers.redeem(
                tx, offer_id, token_hash=f"token-{offer_id}", token_expires="2026-01-01T00:06:00Z",
                now="2026-01-01T00:01:00Z", max_failures=5, identifiers_granted=named,
            )
    async with db.read() as tx:
        granted = {offer_id: (await offers.by_token(tx, f"token-{offer_id}"))["identifiers_granted"] for offer_id in ("old", "plain", "named")}
    assert granted == {"old": None, "plain": 0, "named": 1}


async def test_a_read_only_sqlite_store_a_newer_version_migrated_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = await SQLiteDatabase.open(tmp_path)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO schema_migrations (name, applied) VALUES (?, ?)", ("node.0099_future", "2030-01-01T00:00:00Z"))
    await db.close()
    import node.store.sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "_read_only", lambda path: "its file system is mounted read-only")
    db = await SQLiteDatabase.open(tmp_path)
    assert db.read_only
    await db.close()


async def test_migration_names_must_be_unique(database: Database) -> None:
    with pytest.raises(StoreError, match="unique"):
        await migrate(database, [*MIGRATIONS, MIGRATIONS[0]])


async def test_a_step_can_differ_by_dialect(database: Database) -> None:
    step = {database.dialect.name: "CREATE TABLE mine (id TEXT)", "*": "CREATE TABLE theirs (id TEXT)"}
    other = {"no-such-dialect": "THIS IS NOT SQL", "*": None}
    await migrate(database, [*MIGRATIONS, Migration("test.0003_dialects", (step, other))])
    async with database.read() as tx:
        assert await tx.fetchall("SELECT * FROM mine") == []


# --- transactions --------------------------------------------------------------------------------


async def test_a_transaction_commits_on_normal_exit_and_rolls_back_on_an_exception(backend: Stores, database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as tx:
            await settings.put(tx, "a", 1)
            raise RuntimeError("boom")
    assert await get(database, "a") is None
    async with database.transaction() as tx:
        await settings.put(tx, "b", {"x": 1})
    assert await get(database, "b") == {"x": 1}
    # Committed means durable: another handle, opened after this one is closed, sees it.
    await backend.close(database)
    assert await get(await backend.open(), "b") == {"x": 1}


async def test_execute_reports_rows_changed_and_rows_read_by_column_name(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.executemany("INSERT INTO settings (key, value) VALUES (?, ?)", [("k1", "1"), ("k2", "2"), ("k3", "3")])
        assert await tx.execute("UPDATE settings SET value = ? WHERE key <> ?", ("0", "k1")) == 2
        assert await tx.execute("DELETE FROM settings WHERE key = ?", ("nothing",)) == 0
        assert await tx.fetchone("SELECT value FROM settings WHERE key = ?", ("nothing",)) is None
        rows = await tx.fetchall("SELECT key, value FROM settings ORDER BY key")
    assert [(r["key"], r["value"]) for r in rows] == [("k1", "1"), ("k2", "0"), ("k3", "0")]


async def test_on_conflict_do_nothing_and_do_update(database: Database) -> None:
    async with database.transaction() as tx:
        assert await settings.put_new(tx, "once", 1)
        assert not await settings.put_new(tx, "once", 2)
        await settings.put(tx, "twice", 1)
        await settings.put(tx, "twice", 2)
    assert (await get(database, "once"), await get(database, "twice")) == (1, 2)


async def test_a_savepoint_rolls_back_alone(database: Database) -> None:
    async with database.transaction() as tx:
        await settings.put(tx, "outer", 1)
        with pytest.raises(RuntimeError):
            async with tx.savepoint():
                await settings.put(tx, "inner", 1)
                raise RuntimeError("refused")
        async with tx.savepoint():
            await settings.put(tx, "kept", 1)
            with pytest.raises(RuntimeError):
                async with tx.savepoint():  # nested
                    await settings.put(tx, "nested", 1)
                    raise RuntimeError("refused too")
    assert [await get(database, k) for k in ("outer", "inner", "kept", "nested")] == [1, None, 1, None]


async def test_concurrent_transactions_do_not_interleave(database: Database) -> None:
    async with database.transaction() as tx:
        await settings.put(tx, "counter", 0)

    async def bump() -> None:
        async with database.transaction() as tx:
            value = await settings.get(tx, "counter")
            await asyncio.sleep(0)  # give other coroutines every chance to interleave
            await settings.put(tx, "counter", value + 1)

    await asyncio.gather(*(bump() for _ in range(200)))
    assert await get(database, "counter") == 200


async def test_transactions_of_two_handles_do_not_interleave(backend: Stores, database: Database) -> None:
    """Two handles on one store stand for two processes: the backend's own lock keeps them apart."""
    other = await backend.open()
    async with database.transaction() as tx:
        await settings.put(tx, "counter", 0)

    async def bump(db: Database) -> None:
        async with db.transaction() as tx:
            value = await settings.get(tx, "counter")
            await asyncio.sleep(0)
            await settings.put(tx, "counter", value + 1)

    await asyncio.gather(*(bump(database if i % 2 else other) for i in range(100)))
    assert await get(database, "counter") == 100


async def test_reads_see_committed_data_and_do_not_wait_for_an_open_writer(database: Database) -> None:
    async with database.transaction() as tx:
        await settings.put(tx, "k", "old")
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with database.transaction() as tx:
            await settings.put(tx, "k", "new")
            assert await settings.get(tx, "k") == "new"  # a transaction sees its own changes
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    # The writer holds its transaction open; a read answers at once, with committed data.
    assert await asyncio.wait_for(get(database, "k"), 2) == "old"
    release.set()
    await task
    assert await get(database, "k") == "new"


async def test_the_read_handle_cannot_write(database: Database) -> None:
    with pytest.raises(Exception):
        async with database.read() as tx:
            await tx.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    assert await get(database, "x") is None


# --- what the repositories rely on --------------------------------------------------------------


async def _issuer(db: Database, name: str = "default") -> None:
    async with db.transaction() as tx:
        await issuer_rows.insert(
            tx, name=name, created="2025-01-01T00:00:00Z", status_purposes='["revocation"]', public_key_multibase="z",
            sealed_secret=b"\x00",
        )


def _lists(db: Database, length: int = 64) -> StatusLists:
    async def no_identity(name: str, did: str | None = None) -> Any:
        raise AssertionError("allocation never signs")

    return StatusLists(db, base_url="https://node.example", identity=no_identity, loader=None, clock=lambda: None, length=length, min_length=8)


async def test_allocations_through_two_handles_never_share_an_index(backend: Stores, database: Database) -> None:
    """Concurrent issuance in two processes: the store's write lock, not an in-process lock,
    keeps every index unique, and exactly one of them opens each new list."""
    other = await backend.open()
    await _issuer(database)

    async def allocate(db: Database, n: int) -> tuple[list[Any], set[int]]:
        lists = _lists(db)  # each process has its own StatusLists (and its own locks)
        async with db.transaction() as tx:
            return await lists.allocate(tx, "default", "revocation", [None] * n, when="t")

    results = await asyncio.gather(*(allocate(database if i % 2 else other, 3) for i in range(60)))
    taken = [(a.list_id, a.index) for allocations, _ in results for a in allocations]
    assert len(taken) == 180 and len(set(taken)) == 180
    created = [list_id for _, lists in results for list_id in lists]
    assert len(created) == len(set(created)) == 3  # 180 indexes in lists of 64: three lists, each opened once
    async with database.read() as tx:
        rows = await tx.fetchall('SELECT seq, used_count, "full" FROM status_lists ORDER BY seq')
    assert [(r["seq"], r["used_count"], r["full"]) for r in rows] == [(1, 64, 1), (2, 64, 1), (3, 52, 0)]


async def test_kept_bodies_claimed_entries_journal_and_purge(database: Database) -> None:
    """The repository behind kept credentials (issue 12.3 / 14.1), on every backend: indexes
    allocated to nobody are claimed by their credential once it is recorded; bodies kept or
    journalled; the journal dropped alone; purges by age, id and subject erase bodies and mark
    the records, which stay."""
    from node.store import credentials as rows

    await _issuer(database)
    async with database.transaction() as tx:
        allocated, _ = await _lists(database).allocate(tx, "default", "revocation", [None, None, None], when="2025-01-01T00:00:00Z")
    async with database.transaction() as tx:
        await rows.insert_active(
            tx, [("urn:a", "default", "did:ex:ana", "2025-01-01T00:00:00Z"), ("urn:b", "default", "did:ex:bo", "2025-01-01T00:00:00Z"),
                 ("urn:c", "default", "did:ex:ana", "2025-03-01T00:00:00Z")],
        )
        await rows.claim_entries(tx, [(cid, a.list_id, a.index) for cid, a in zip(("urn:a", "urn:b", "urn:c"), allocated)])
        await rows.keep_bodies(tx, [("urn:a", "default", "2025-01-01T00:00:00Z", 0, '{"id": "urn:a"}'),
                                    ("urn:b", "default", "2025-01-01T00:00:00Z", 1, '{"id": "urn:b"}'),
                                    ("urn:c", "default", "2025-03-01T00:00:00Z", 0, '{"id": "urn:c"}')])
    async with database.transaction() as tx:
        # A claimed index is nobody else's: claiming it again changes nothing.
        await rows.claim_entries(tx, [("urn:b", allocated[0].list_id, allocated[0].index)])
        await rows.drop_journal(tx, ["urn:a", "urn:b"])
    async with database.read() as tx:
        assert [r["credential_id"] for r in await rows.entries_of(tx, "urn:a")] == ["urn:a"]
        assert set(await rows.bodies(tx, ["urn:a", "urn:b", "urn:c"])) == {"urn:a", "urn:c"}
        assert await rows.count_bodies(tx) == {"kept": 2, "journal": 0}
    async with database.transaction() as tx:
        assert await rows.purge_bodies(tx, when="2025-06-01T00:00:00Z", stored_before="2025-02-01T00:00:00Z") == 1
        assert await rows.purge_bodies(tx, when="2025-06-02T00:00:00Z", subject_id="did:ex:bo") == 0
        assert await rows.purge_bodies(tx, when="2025-06-03T00:00:00Z", ids=["urn:c"], subject_id="did:ex:ana") == 1
    async with database.read() as tx:
        a, c = await rows.with_body(tx, "urn:a"), await rows.with_body(tx, "urn:c")
        assert (a["body"], a["body_purged"], c["body_purged"]) == (None, "2025-06-01T00:00:00Z", "2025-06-03T00:00:00Z")
        assert await rows.with_body(tx, "urn:nobody") is None
        assert len(await rows.find(tx)) == 3  # the records stay


# --- SQLite only ----------------------------------------------------------------------------------


async def test_sqlite_uses_wal_and_keeps_user_version(tmp_path: Path) -> None:
    db = await SQLiteDatabase.open(tmp_path)
    try:
        assert await db.journal_mode() == "wal"
        async with db.read() as tx:
            assert (await tx.fetchone("PRAGMA user_version"))[0] == len(MIGRATIONS)
    finally:
        await db.close()
    with sqlite3.connect(tmp_path / "vcnode.sqlite3") as raw:  # durable for an independent connection
        assert raw.execute("SELECT COUNT(*) FROM schema_migrations").fetchone() == (len(MIGRATIONS),)


async def test_sqlite_read_connection_is_read_only(tmp_path: Path) -> None:
    db = await SQLiteDatabase.open(tmp_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            async with db.read() as tx:
                await tx.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    finally:
        await db.close()


async def test_a_data_folder_from_before_the_store_package_opens_and_migrates(tmp_path: Path) -> None:
    """A store made by the node before issue 10 (its four migrations recorded, a trusted body
    added) opens without re-running them and gets the one it lacks."""
    older = [m for m in MIGRATIONS if not m.name.startswith("trust.0002")]
    db = await SQLiteDatabase.open(tmp_path, migrations=older)
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO trusted_bodies (did, label, added) VALUES (?, NULL, '2025-01-01T00:00:00Z')",
            [("did:web:b.example",), ("did:web:a.example",)],
        )
    await db.close()
    db = await SQLiteDatabase.open(tmp_path)
    try:
        assert await applied(db) == [m.name for m in MIGRATIONS]
        from node.store import trust

        async with db.read() as tx:
            # Added in one second: the order they were added in, as before (SQLite's rowid).
            assert [r["did"] for r in await trust.bodies(tx)] == ["did:web:b.example", "did:web:a.example"]
    finally:
        await db.close()


_ALLOCATE_IN_A_PROCESS = textwrap.dedent(
    """
    import asyncio, json, sys
    sys.path.insert(0, sys.argv[2])
    from node.statuslists import StatusLists
    from node.store import SQLiteDatabase

    async def no_identity(name, did=None):
        raise AssertionError("allocation never signs")

    async def main():
        db = await SQLiteDatabase.open(sys.argv[1])
        lists = StatusLists(db, base_url="https://node.example", identity=no_identity, loader=None,
                            clock=lambda: None, length=64, min_length=8)
        out = []
        for _ in range(30):
            async with db.transaction() as tx:
                allocations, _ = await lists.allocate(tx, "default", "revocation", [None] * 2, when="t")
            out += [(a.list_id, a.index) for a in allocations]
        await db.close()
        print(json.dumps(out))

    asyncio.run(main())
    """
)


async def test_processes_allocating_in_one_sqlite_store_never_share_an_index(tmp_path: Path) -> None:
    """Real processes, as ``serve --workers`` and ``vcnode`` commands beside a server are."""
    db = await SQLiteDatabase.open(tmp_path)
    await _issuer(db)
    await db.close()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _ALLOCATE_IN_A_PROCESS, str(tmp_path), str(ROOT), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [await p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), [err.decode()[-2000:] for _, err in outputs]
    taken = [tuple(pair) for out, _ in outputs for pair in json.loads(out)]
    assert len(taken) == 180 and len(set(taken)) == 180


# --- PostgreSQL only ------------------------------------------------------------------------------


async def test_postgres_replicas_starting_together_create_the_schema_and_migrate_once() -> None:
    """Three processes' stores opened at once on a schema that does not exist yet: one creates
    and migrates it under the migration lock, the others wait and find every migration applied."""
    import asyncpg
    import secrets

    from postgres_server import server_url, with_schema

    schema = f"vct_new_{secrets.token_hex(4)}"
    url = with_schema(server_url(), schema)
    try:
        dbs = await asyncio.gather(*(PostgresDatabase.open(url) for _ in range(3)))
        try:
            assert {db.schema for db in dbs} == {schema}
            for db in dbs:
                assert await applied(db) == [m.name for m in MIGRATIONS]
            async with dbs[0].read() as tx:
                assert (await tx.fetchone("SELECT COUNT(*) AS n FROM schema_migrations"))["n"] == len(MIGRATIONS)
        finally:
            await asyncio.gather(*(db.close() for db in dbs))
    finally:
        conn = await asyncpg.connect(server_url())
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def test_postgres_store_presence_backup_refusal_and_placeholders(tmp_path: Path) -> None:
    from node.store import store_present
    from node.store.postgres import translate
    from postgres_server import fresh_schema

    async with fresh_schema() as url:
        assert not await store_present(tmp_path, url)  # an empty schema is no store (nothing is created)
        db = await PostgresDatabase.open(url)
        try:
            assert await store_present(tmp_path, url)
            with pytest.raises(StoreError, match="pg_dump"):
                await db.backup(tmp_path / "b.sqlite3")
            assert not (tmp_path / "b.sqlite3").exists()
            # A ? in a literal, a quoted identifier or a comment is not a placeholder.
            assert translate("SELECT '?''?' AS \"a?\", ? -- ?\n, /* ? */ ?") == "SELECT '?''?' AS \"a?\", $1 -- ?\n, /* ? */ $2"
            async with db.read() as tx:
                row = await tx.fetchone("SELECT '?' AS q, ? AS v", ("x",))
            assert (row["q"], row["v"]) == ("?", "x")
        finally:
            await db.close()


async def test_postgres_commits_are_durable_even_when_the_server_defaults_to_asynchronous_commit() -> None:
    from postgres_server import fresh_schema

    async with fresh_schema() as url:
        # As if the server's postgresql.conf said synchronous_commit = off.
        db = await PostgresDatabase.open(url + "&synchronous_commit=off")
        try:
            async with db.transaction() as tx:
                assert (await tx.fetchone("SHOW synchronous_commit"))[0] == "on"
        finally:
            await db.close()


async def test_postgres_writes_go_on_after_the_server_drops_every_connection() -> None:
    """As after a server restart or a fail-over: pooled connections are dead. A write
    transaction notices before its body runs and takes a fresh connection; nothing is lost."""
    import asyncpg

    from postgres_server import fresh_schema

    async with fresh_schema() as url:
        app = f"vct-drop-{id(url)}"
        db = await PostgresDatabase.open(f"{url}&application_name={app}")
        try:
            async with db.transaction() as tx:
                await settings.put(tx, "before", 1)
            assert await get(db, "before") == 1
            admin = await asyncpg.connect(url)
            try:
                dropped = await admin.fetchval(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app
                )
            finally:
                await admin.close()
            assert dropped >= 2  # at least one writer and one reader
            async with db.transaction() as tx:
                await settings.put(tx, "after", 2)
            for _ in range(2):  # a read on a connection found dead fails once; the pool replaces it
                try:
                    assert await get(db, "after") == 2
                    break
                except Exception:
                    continue
            else:
                raise AssertionError("reads did not recover")
        finally:
            await db.close()


async def test_postgres_a_connection_asyncpg_has_let_go_of_is_given_back_quietly() -> None:
    """A connection the server drops mid-statement is let go by asyncpg as soon as it sees the
    close: its proxy refuses every call from then on, terminate() included. Giving it back as
    broken must not raise in turn: the write transaction that found it dead takes a fresh one
    (the race the test above runs into now and then; it once failed the full suite with
    "cannot call Connection.terminate(): connection has been released back to the pool")."""
    from postgres_server import fresh_schema

    async with fresh_schema() as url:
        db = await PostgresDatabase.open(url)
        try:
            conn = await db._writers.acquire()
            await db._writers.release(conn)  # its proxy let go, as asyncpg lets go of a lost one
            await PostgresDatabase._release(db._writers, conn, broken=True)
            async with db.transaction() as tx:
                await settings.put(tx, "after", 1)
            assert await get(db, "after") == 1
        finally:
            await db.close()


async def test_postgres_a_writer_held_up_too_long_is_told_the_store_is_busy_and_a_frozen_one_is_cut_off() -> None:
    """As SQLite's busy_timeout: waiting for the write lock ends in StoreError, not a hung
    request. And a process that stops inside its transaction without its connection closing (a
    frozen or partitioned replica) loses it after idle_in_transaction_s, so the others go on."""
    from postgres_server import fresh_schema

    async with fresh_schema() as url:
        frozen = await PostgresDatabase.open(url, busy_timeout_s=0.3, idle_in_transaction_s=1.5)
        other = await PostgresDatabase.open(url, busy_timeout_s=0.3)
        try:
            holding, release = asyncio.Event(), asyncio.Event()

            async def freeze() -> None:
                async with frozen.transaction() as tx:
                    await settings.put(tx, "frozen", 1)
                    holding.set()
                    await release.wait()  # idle in its transaction, connection open

            task = asyncio.create_task(freeze())
            await holding.wait()
            with pytest.raises(StoreError, match="the store is busy"):
                async with other.transaction() as tx:
                    await settings.put(tx, "waiting", 1)
            await asyncio.sleep(2.0)  # past idle_in_transaction_s: the server ended the frozen session
            async with other.transaction() as tx:
                await settings.put(tx, "after", 1)
            release.set()
            with pytest.raises(Exception):
                await task  # its commit cannot succeed: the session is gone
            assert (await get(other, "frozen"), await get(other, "after")) == (None, 1)
        finally:
            await frozen.close()
            await other.close()


async def test_postgres_a_busy_store_keeps_its_pooled_writers_and_a_wrong_statement_is_no_lost_connection() -> None:
    """A review found two misreadings of connection loss: a writer told the store is busy
    renewed every pooled writer (the one holding the lock included), and a statement the driver
    refuses on a sound connection (a parameter count) became a 503 that did the same."""
    from postgres_server import fresh_schema

    async with fresh_schema() as url:
        holder = await PostgresDatabase.open(url)
        other = await PostgresDatabase.open(url, busy_timeout_s=0.3)
        try:
            def generations() -> list[int]:  # asyncpg's count of expire_connections() calls
                return [pool._generation for db in (holder, other) for pool in (db._writers, db._readers)]

            before = generations()
            holding, release = asyncio.Event(), asyncio.Event()

            async def hold() -> None:
                async with holder.transaction() as tx:
                    await settings.put(tx, "held", 1)
                    holding.set()
                    await release.wait()

            task = asyncio.create_task(hold())
            await holding.wait()
            with pytest.raises(StoreError, match="the store is busy"):
                async with other.transaction() as tx:
                    await settings.put(tx, "waiting", 1)
            release.set()
            await task
            assert generations() == before and await get(other, "held") == 1
            async with other.read() as tx:
                with pytest.raises(asyncpg.exceptions.InterfaceError, match="expects 2 arguments"):
                    await tx.fetchone("SELECT ?::int AS a, ?::int AS b", (1,))
            assert generations() == before
            async with other.read() as tx:
                assert (await tx.fetchone("SELECT 1 AS one"))["one"] == 1
        finally:
            await holder.close()
            await other.close()


# --- PostgreSQL: a connection lost in the middle of a statement ------------------------------------


class _Severed:
    """Holds a table locked from outside the node, so the node's next statement on it waits;
    ``sever()`` then ends the node's sessions (pg_terminate_backend, as an operator or a
    fail-over does) while that statement is in flight."""

    def __init__(self, url: str, app: str) -> None:
        self.url, self.app = url, app

    async def __aenter__(self) -> "_Severed":
        import asyncpg

        self.holder = await asyncpg.connect(self.url)
        self.watcher = await asyncpg.connect(self.url)  # pg_stat_activity is one snapshot per transaction
        self.locking = self.holder.transaction()
        await self.locking.start()
        return self

    async def lock(self, table: str) -> None:
        await self.holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    async def sever(self) -> int:
        for _ in range(500):
            waiting = await self.watcher.fetchval(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", self.app
            )
            if waiting:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the node's statement never reached the locked table")
        ended: int = await self.watcher.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", self.app
        )
        await self.locking.rollback()
        return ended

    async def __aexit__(self, *exc: Any) -> None:
        if not self.holder.is_closed():
            await self.holder.close()
        await self.watcher.close()


async def _postgres_with_name(url: str, app: str, pooled: int = 3) -> PostgresDatabase:
    db = await PostgresDatabase.open(f"{url}&application_name={app}")
    # Several pooled connections of each kind, all about to be ended together.
    await asyncio.gather(*(get(db, "warm") for _ in range(pooled)))
    return db


async def test_postgres_a_read_whose_connection_is_lost_mid_statement_is_store_unavailable_and_the_next_succeeds() -> None:
    from postgres_server import fresh_schema

    from node.store import StoreUnavailable

    async with fresh_schema() as url:
        app = f"vct-read-{id(url)}"
        db = await _postgres_with_name(url, app)
        try:
            async with db.transaction() as tx:
                await settings.put(tx, "kept", 1)
            async with _Severed(url, app) as severed:
                await severed.lock("settings")
                reading = asyncio.create_task(get(db, "kept"))
                assert await severed.sever() >= 2
                with pytest.raises(StoreUnavailable, match="connection was lost"):
                    await reading
            # The dead connection was not pooled again, nor its dead siblings handed out.
            assert await get(db, "kept") == 1
            async with db.transaction() as tx:
                await settings.put(tx, "after", 2)
            assert await get(db, "after") == 2
        finally:
            await db.close()


@pytest.mark.parametrize("in_savepoint", [False, True])
async def test_postgres_a_transaction_whose_connection_is_lost_mid_statement_is_store_unavailable_and_the_next_commits(
    in_savepoint: bool,
) -> None:
    from contextlib import nullcontext

    from postgres_server import fresh_schema

    from node.store import StoreUnavailable

    async with fresh_schema() as url:
        app = f"vct-write-{id(url)}"
        db = await _postgres_with_name(url, app)
        try:

            async def write() -> None:
                async with db.transaction() as tx:
                    await settings.put(tx, "first", 1)
                    # In a savepoint, its ROLLBACK TO runs on the dead connection too.
                    async with tx.savepoint() if in_savepoint else nullcontext():
                        await settings.put(tx, "lost", 1)

            async with _Severed(url, app) as severed:
                await severed.lock("settings")
                writing = asyncio.create_task(write())
                assert await severed.sever() >= 2
                with pytest.raises(StoreUnavailable, match="connection was lost"):
                    await writing
            async with db.transaction() as tx:
                await settings.put(tx, "after", 2)
            assert (await get(db, "first"), await get(db, "lost"), await get(db, "after")) == (None, None, 2)
        finally:
            await db.close()


def _group_commit_over(db: Database, failing: str | None = None) -> tuple[Any, list[str], Any]:
    """node.issuance's group commit alone, over ``db``; ``work(key)`` makes a request that
    records it ran and writes ``key`` (``failing`` finds the store gone instead)."""
    from node.issuance import Issuance
    from node.store import StoreUnavailable

    issuance = Issuance.__new__(Issuance)
    issuance.db, issuance._waiting, issuance._committer = db, [], None
    ran: list[str] = []

    def work(key: str) -> Any:
        async def run(tx: Any) -> str:
            ran.append(key)
            await settings.put(tx, key, 1)
            if key == failing:
                raise StoreUnavailable("the disk holding the store is full")
            return key

        return run

    return issuance, ran, work


async def test_postgres_a_group_commit_whose_connection_is_lost_answers_every_request_store_unavailable() -> None:
    """node.issuance's group commit runs the waiting requests in one transaction: once its
    connection is lost, none of them runs on it and each hears StoreUnavailable (503), not the
    driver's error (500); the next group commits."""
    from postgres_server import fresh_schema

    from node.store import StoreUnavailable

    async with fresh_schema() as url:
        app = f"vct-group-{id(url)}"
        db = await _postgres_with_name(url, app)
        try:
            issuance, ran, work = _group_commit_over(db)
            async with _Severed(url, app) as severed:
                await severed.lock("settings")
                group = asyncio.gather(*(issuance._grouped(work(k)) for k in ("a", "b", "c")), return_exceptions=True)
                assert await severed.sever() >= 2
                results = await group
            assert [type(r) for r in results] == [StoreUnavailable] * 3, results
            assert ran == ["a"]  # the others were not run on the dead connection
            assert await issuance._grouped(work("d")) == "d"
            assert [await get(db, k) for k in "abcd"] == [None, None, None, 1]
        finally:
            await db.close()


async def test_a_request_refused_in_a_group_commit_hears_so_once_what_refused_it_is_committed(database: Database) -> None:
    """A request refused because another of its group recorded something first (a batch whose
    credential id a single request with the same idempotency key took) reads the store to settle
    it. Told of its refusal before the group committed, it read nothing there and failed whole
    (tests/node/test_microcredential_batches.py, under load)."""
    issuance, _, work = _group_commit_over(database)
    seen: list[Any] = []

    async def refused(tx: Any) -> None:
        raise ValueError("the id was recorded by the request before this one")

    async def hear_refusal() -> None:
        try:
            await issuance._grouped(refused)
        except ValueError:
            seen.append(await get(database, "first"))  # what the caller reads to settle it

    await asyncio.gather(issuance._grouped(work("first")), hear_refusal())
    assert seen == [1]


async def test_a_group_commit_stops_at_the_first_request_that_finds_the_store_unavailable(database: Database) -> None:
    """Whatever the backend: a request finding the store gone (its transaction with it) ends the
    group; the requests after it are not run on that transaction, and all hear StoreUnavailable."""
    from node.store import StoreUnavailable

    issuance, ran, work = _group_commit_over(database, failing="b")
    results = await asyncio.gather(*(issuance._grouped(work(k)) for k in "abc"), return_exceptions=True)
    assert [type(r) for r in results] == [StoreUnavailable] * 3, results
    assert ran == ["a", "b"]
    assert [await get(database, k) for k in "abc"] == [None, None, None]

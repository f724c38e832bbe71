"""The node's SQLite store: one aiosqlite connection, WAL, named migrations, serialised transactions.

Every change runs inside ``async with store.transaction() as db`` (``BEGIN IMMEDIATE`` …
``COMMIT``), and the commit has returned before the caller answers anybody, so a status change
or an index allocation is durable before a response says so (``synchronous=FULL``).

One connection is shared by every coroutine of the app, so a transaction must not interleave
with another coroutine's statements: an ``asyncio.Lock`` serialises all use of the connection.
Each critical section is a few small statements; signing and canonicalisation happen outside.

Schema changes are named migrations applied in registration order and recorded in
``schema_migrations``. Other node modules (for instance the micro-credential tables) register
theirs with ``register_migration(name, steps)`` at import time, before the store is opened.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Sequence

import aiosqlite

log = logging.getLogger(__name__)

DB_FILENAME = "vcnode.sqlite3"


@dataclass(frozen=True)
class Migration:
    name: str  # unique, e.g. "node.0001_initial"; recorded in schema_migrations once applied
    steps: tuple[str, ...]  # SQL statements, run in order inside one transaction


MIGRATIONS: list[Migration] = []


def register_migration(name: str, steps: str | Sequence[str]) -> None:
    """Add a migration; applied (once, in registration order) when a store opens."""
    if any(m.name == name for m in MIGRATIONS):
        raise ValueError(f"a migration named {name!r} is already registered")
    if isinstance(steps, str):
        steps = [steps]
    MIGRATIONS.append(Migration(name, tuple(steps)))


register_migration(
    "node.0001_initial",
    [
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # One Ed25519 key per issuer; its DIDs (did:key, did:web) are derived, not stored,
        # because did:web follows the node's configured base URL.
        """CREATE TABLE issuers (
            name TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            status_purposes TEXT NOT NULL DEFAULT '["revocation"]',
            public_key_multibase TEXT NOT NULL,
            sealed_secret BLOB NOT NULL
        )""",
        """CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            scopes TEXT NOT NULL,
            issuer TEXT REFERENCES issuers(name),
            created TEXT NOT NULL,
            revoked TEXT
        )""",
        """CREATE TABLE challenges (
            challenge TEXT PRIMARY KEY,
            expires TEXT NOT NULL,
            used TEXT
        )""",
        # status: active | revoked | suspended. What an operator needs to find a credential and
        # change its status; the credential itself (personal data) is not kept.
        """CREATE TABLE credentials (
            id TEXT PRIMARY KEY,
            issuer TEXT NOT NULL REFERENCES issuers(name),
            subject_id TEXT,
            issued TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            status_changed TEXT
        )""",
        "CREATE INDEX credentials_by_issuer ON credentials(issuer, issued)",
        "CREATE INDEX credentials_by_subject ON credentials(subject_id)",
        # bits: the published statuses; used: every index ever handed out (status.allocate
        # UsedBitmap), so an index is never reused. Since node.0002 both live in 16 KiB
        # chunks (status_list_chunks, node/statuslists.py) and these columns stay empty.
        # version counts bit changes; a list is re-signed until published_version catches up
        # (also after a crash, at start-up).
        """CREATE TABLE status_lists (
            id INTEGER PRIMARY KEY,
            issuer TEXT NOT NULL REFERENCES issuers(name),
            purpose TEXT NOT NULL,
            seq INTEGER NOT NULL,
            length INTEGER NOT NULL,
            bits BLOB NOT NULL,
            used BLOB NOT NULL,
            used_count INTEGER NOT NULL DEFAULT 0,
            full INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1,
            published_version INTEGER NOT NULL DEFAULT 0,
            credential TEXT,
            etag TEXT,
            published TEXT,
            UNIQUE (issuer, purpose, seq)
        )""",
        # One row per handed-out index. credential_id is NULL when issuance never completed:
        # the index stays used (never reused) but belongs to nobody.
        """CREATE TABLE status_entries (
            list_id INTEGER NOT NULL REFERENCES status_lists(id),
            idx INTEGER NOT NULL,
            credential_id TEXT REFERENCES credentials(id),
            purpose TEXT NOT NULL,
            allocated TEXT NOT NULL,
            PRIMARY KEY (list_id, idx)
        )""",
        "CREATE INDEX status_entries_by_credential ON status_entries(credential_id)",
    ],
)


def utcnow_iso(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StoreError(Exception):
    """The store could not be opened or migrated."""


class Store:
    """The node's database. Open with ``await Store.open(path)``; close with ``await store.close()``."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self._reader: aiosqlite.Connection | None = None
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrations: Iterable[Migration] | None = None) -> "Store":
        """Open (creating) the database at ``path`` (a file, or a data folder) and migrate it."""
        path = Path(path)
        if path.is_dir():
            path = path / DB_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so Python's sqlite3 module
        # never opens implicit transactions behind our back.
        db = await aiosqlite.connect(str(path), isolation_level=None)
        store: Store | None = None
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before COMMIT returns, even in WAL mode.
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=10000")
            db.row_factory = aiosqlite.Row
            store = cls(db, path)
            await store.migrate(MIGRATIONS if migrations is None else list(migrations))
            # A second, read-only connection: WAL lets it read the last committed state while
            # a write transaction is open, so status-list GETs and token checks never queue
            # behind a writer's fsync.
            store._reader = await aiosqlite.connect(str(path), isolation_level=None)
            await store._reader.execute("PRAGMA query_only=ON")
            await store._reader.execute("PRAGMA busy_timeout=10000")
            store._reader.row_factory = aiosqlite.Row
        except BaseException:
            if store is not None and store._reader is not None:
                await store._reader.close()
            await db.close()
            raise
        return store

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        async with self._lock:
            await self._db.close()

    async def __aenter__(self) -> "Store":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # --- transactions ------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed on normal exit, rolled back on any exception."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            else:
                await self._db.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """The read-only connection: committed data only, never blocked by a writer.

        Inside ``transaction()`` read through the transaction's own connection instead, to
        see its uncommitted changes.
        """
        if self._reader is None:  # during migrations
            async with self._lock:
                yield self._db
        else:
            yield self._reader

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        async with self.read() as db:
            async with db.execute(sql, params) as cur:
                return await cur.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self.read() as db:
            async with db.execute(sql, params) as cur:
                return list(await cur.fetchall())

    # --- schema ------------------------------------------------------------------------

    async def migrate(self, migrations: Sequence[Migration]) -> list[str]:
        """Apply the migrations not yet recorded; return the names applied now."""
        applied_now: list[str] = []
        async with self.transaction() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)"
            )
        for migration in migrations:
            async with self.transaction() as db:
                async with db.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (migration.name,)) as cur:
                    if await cur.fetchone() is not None:
                        continue
                try:
                    for step in migration.steps:
                        await db.execute(step)
                except Exception as e:
                    raise StoreError(f"migration {migration.name} failed: {e}") from e
                await db.execute(
                    "INSERT INTO schema_migrations (name, applied) VALUES (?, ?)",
                    (migration.name, utcnow_iso(datetime.now(timezone.utc))),
                )
                count = await _count(db, "SELECT COUNT(*) FROM schema_migrations")
                await db.execute(f"PRAGMA user_version = {int(count)}")
            applied_now.append(migration.name)
            log.info("applied migration %s", migration.name)
        return applied_now

    async def applied_migrations(self) -> list[str]:
        rows = await self.fetchall("SELECT name FROM schema_migrations ORDER BY rowid")
        return [r["name"] for r in rows]

    async def schema_version(self) -> int:
        """The number of applied migrations (also kept in ``PRAGMA user_version``)."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row is not None else 0

    async def journal_mode(self) -> str:
        row = await self.fetchone("PRAGMA journal_mode")
        return str(row[0]) if row is not None else ""

    # --- settings ----------------------------------------------------------------------

    async def get_setting(self, key: str) -> Any | None:
        row = await self.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(row["value"]) if row is not None else None

    async def set_setting(self, key: str, value: Any) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )


async def _count(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    async with db.execute(sql, params) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row is not None else 0

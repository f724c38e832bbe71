"""The SQLite backend: aiosqlite, WAL, ``synchronous=FULL``, one writer connection, one reader.

Every change runs inside ``async with db.transaction() as tx`` (``BEGIN IMMEDIATE`` …
``COMMIT``), and the commit has returned before the caller answers anybody, so a status change
or an index allocation is durable before a response says so (``synchronous=FULL``: on disk
before ``COMMIT`` returns, in WAL mode too).

Within a process, one connection is shared by every coroutine of the app, so a transaction
must not interleave with another coroutine's statements: an ``asyncio.Lock`` serialises all use
of it. Between processes (``vcnode`` commands beside a running node, or several server
processes on one data folder), ``BEGIN IMMEDIATE`` takes SQLite's write lock, and a process
waits for another's transaction up to ``busy_timeout``: the lock, not anything in-process, is
what keeps concurrent allocations apart. Each critical section is a few small statements;
signing and canonicalisation happen outside.

A second, read-only connection serves ``read()``: WAL lets it read the last committed state
while a write transaction is open, so status-list GETs and token checks never queue behind a
writer's fsync.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Sequence

import aiosqlite

from node.store.base import Database, Dialect, Row, StoreError, Tx
from node.store.migrations import MIGRATIONS, Migration, migrate

DB_FILENAME = "vcnode.sqlite3"
BUSY_TIMEOUT_MS = 10_000

SQLITE = Dialect(name="sqlite", blob="BLOB", auto_id="INTEGER PRIMARY KEY")


class SQLiteTx(Tx):
    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._savepoints = itertools.count(1)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        # One trip to the connection's thread (execute, fetch and close a cursor would be three).
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        name = f"sp{next(self._savepoints)}"
        await self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self._conn.execute(f"ROLLBACK TO {name}")
            await self._conn.execute(f"RELEASE {name}")
            raise
        else:
            await self._conn.execute(f"RELEASE {name}")


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so Python's sqlite3 module never
    # opens implicit transactions behind our back.
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        # First, so that everything after it (switching to WAL too) waits for another
        # process's lock instead of failing at once.
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.row_factory = aiosqlite.Row
    except BaseException:
        await conn.close()
        raise
    return conn


class SQLiteDatabase(Database):
    """Open with ``await SQLiteDatabase.open(path)`` (a file, or a data folder)."""

    dialect = SQLITE

    def __init__(self, writer: aiosqlite.Connection, path: Path) -> None:
        self._writer = writer
        self._reader: aiosqlite.Connection | None = None
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> "SQLiteDatabase":
        """Open (creating) the database at ``path`` and apply the migrations not applied yet."""
        path = Path(path)
        if path.is_dir():
            path = path / DB_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        db: SQLiteDatabase | None = None
        writer = await _connect(path)
        try:
            await writer.execute("PRAGMA journal_mode=WAL")
            await writer.execute("PRAGMA synchronous=FULL")
            await writer.execute("PRAGMA foreign_keys=ON")
            db = cls(writer, path)
            if await migrate(db, migrations):
                # Kept equal to the number of applied migrations, as before schema_migrations
                # was counted, for operators who look there.
                async with db.transaction() as tx:
                    row = await tx.fetchone("SELECT COUNT(*) AS n FROM schema_migrations")
                    await tx.execute(f"PRAGMA user_version = {int(row['n']) if row is not None else 0}")
            reader = await _connect(path)
            db._reader = reader
            await reader.execute("PRAGMA query_only=ON")
        except BaseException:
            if db is not None and db._reader is not None:
                await db._reader.close()
            await writer.close()
            raise
        return db

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        async with self._lock:
            await self._writer.close()

    async def __aenter__(self) -> "SQLiteDatabase":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except aiosqlite.OperationalError as e:  # another process held the lock past busy_timeout
                raise StoreError(f"the store is busy: {e}") from e
            try:
                yield SQLiteTx(self._writer)
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        if self._reader is None:  # while migrating, before the reader exists
            async with self._lock:
                yield SQLiteTx(self._writer)
        else:
            yield SQLiteTx(self._reader)

    async def backup(self, target: Path) -> int:
        """A consistent copy of the store in one self-contained file, made while the node serves.

        SQLite's online backup API copies every page in one step, inside one read transaction:
        a snapshot of the last commit, which in WAL mode never stops a writer. The copy is
        written to a hidden ``.NAME.partial-PID`` beside ``target`` (mode 0600: it holds the
        sealed keys), checked (``PRAGMA integrity_check``), flushed to disk and only then renamed
        to ``target``. A copy interrupted at any point (even by SIGKILL) leaves ``target`` as it
        was, or absent; what is left is a file whose name says it is partial."""
        return await asyncio.to_thread(_backup, self.path, Path(target))

    async def journal_mode(self) -> str:
        async with self.read() as tx:
            row = await tx.fetchone("PRAGMA journal_mode")
        return str(row[0]) if row is not None else ""


# --- backups --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupContents:
    """What ``inspect_backup`` found in a backup file."""

    migrations: list[str]  # applied, by name
    settings: dict[str, Any]  # every settings row, JSON-decoded (the master-key record, the identity, ...)
    size: int


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _private_file(path: Path) -> None:
    """Create ``path`` empty, mode 0600 from the start (it will hold sealed keys)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _backup(source: Path, target: Path) -> int:
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    _private_file(partial)
    try:
        src = sqlite3.connect(str(source), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            src.execute("PRAGMA query_only=ON")
            dst = sqlite3.connect(str(partial), isolation_level=None)
            try:
                src.backup(dst)  # all pages in one step: one read transaction, one snapshot
                # One self-contained file: no -wal beside it to lose.
                dst.execute("PRAGMA journal_mode=DELETE")
                problems = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
                if problems != ["ok"]:
                    raise StoreError(f"the copy failed its integrity check: {'; '.join(problems[:5])}")
            finally:
                dst.close()
        finally:
            src.close()
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def inspect_backup(path: Path) -> BackupContents:
    """Open a backup file read-only (nothing is written beside it) and check that it is a sound
    vcnode store: SQLite's integrity check, its applied migrations and its settings.
    ``StoreError`` saying what is wrong otherwise."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror or e}") from e
    if header != b"SQLite format 3\x00":
        raise StoreError(f"{path} is not a vcnode backup (not an SQLite file)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as e:
        raise StoreError(f"{path} cannot be opened: {e}") from e
    try:
        try:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as e:
            problems = [str(e)]
        if problems != ["ok"]:
            raise StoreError(f"{path} is damaged (SQLite integrity check: {'; '.join(problems[:5])})")
        migrations = [r[0] for r in conn.execute("SELECT name FROM schema_migrations")]
        settings = {key: json.loads(value) for key, value in conn.execute("SELECT key, value FROM settings")}
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path} is not a vcnode backup ({e})") from e
    finally:
        conn.close()
    return BackupContents(migrations, settings, size)


def restore_file(backup: Path, data_dir: Path) -> Path:
    """Copy a backup file (checked with ``inspect_backup`` first) to be the store of ``data_dir``:
    written beside it under a partial name, flushed, then renamed, mode 0600."""
    target = Path(data_dir) / DB_FILENAME
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    _private_file(partial)
    try:
        with open(backup, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(partial, target)
        _fsync(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target

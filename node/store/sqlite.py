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
import contextlib
import errno
import itertools
import json
import os
import shutil
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Sequence
from urllib.parse import quote

import aiosqlite

from node.files import fsync_path
from node.store.base import Database, Dialect, Row, StoreError, StoreUnavailable, Tx
from node.store.migrations import MIGRATIONS, Migration, check_known, migrate

DB_FILENAME = "vcnode.sqlite3"
BUSY_TIMEOUT_MS = 10_000

SQLITE = Dialect(name="sqlite", blob="BLOB", auto_id="INTEGER PRIMARY KEY")


class SQLiteTx(Tx):
    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None, *, writing: bool = False) -> None:
        self._conn = conn
        self._path = path
        self._writing = writing
        self._savepoints = itertools.count(1)
        # Set when a failure made SQLite roll the whole transaction back by itself (SQLITE_FULL,
        # I/O errors): every later statement is refused, since it would run outside any
        # transaction and commit alone, half of an operation.
        self.broken: BaseException | None = None

    def _unwritable(self, error: sqlite3.Error) -> BaseException:
        """A statement that failed because the store cannot be written (full, read-only, locked)
        becomes ``StoreUnavailable``; any other error stays as it is (a constraint, a bug; and
        anything on the read-only reader, where a write is a bug)."""
        reason = _reason(error) if self._writing else None
        out: BaseException = StoreUnavailable(f"{reason} ({self._path})" if self._path else reason) if reason else error
        if self._writing and not self._conn.in_transaction:
            self.broken = out if reason else StoreUnavailable(f"the transaction was rolled back by the store ({error})")
        return out

    def _check(self) -> None:
        if self.broken is not None:
            raise self.broken

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._check()
        try:
            cursor = await self._conn.execute(sql, params)
        except sqlite3.Error as e:
            raise self._unwritable(e) from e
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._check()
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.Error as e:
            raise self._unwritable(e) from e

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self._check()
        # One trip to the connection's thread (execute, fetch and close a cursor would be three).
        try:
            rows = await self._conn.execute_fetchall(sql, params)
        except sqlite3.Error as e:
            raise self._unwritable(e) from e
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._check()
        try:
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.Error as e:
            raise self._unwritable(e) from e

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        name = f"sp{next(self._savepoints)}"
        await self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self.broken is None:  # else the whole transaction is gone already, the savepoint with it
                await self.execute(f"ROLLBACK TO {name}")
                await self.execute(f"RELEASE {name}")
            raise
        else:
            await self.execute(f"RELEASE {name}")


def _reason(error: BaseException) -> str | None:
    """Why SQLite could not write, in an operator's words; None for an error that says something
    else (a constraint, a bug). Told apart by SQLite's result code where Python gives it."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error).lower()
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in text:
        return (
            f"the store is locked by another process (waited {BUSY_TIMEOUT_MS // 1000} s for its write transaction "
            "to end): another vcnode command or server still writing, or a stuck process holding it open"
        )
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return "the disk holding the store is full: nothing was written; free space and try again"
    if primary == sqlite3.SQLITE_READONLY or "readonly database" in text or "read-only" in text:
        return "the store cannot be written: its data folder or file system is read-only"
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) or "disk i/o error" in text:
        return "the store could not be written (an I/O error: a full, read-only or failing disk)"
    return None


def _read_only(path: Path) -> str | None:
    """Why ``path`` (or, before it exists, its folder) cannot be written, or None."""
    target = path if path.exists() else path.parent
    try:
        if os.statvfs(target).f_flag & os.ST_RDONLY:
            return "its file system is mounted read-only"
    except OSError:
        return None
    if not os.access(target, os.W_OK) or (path.exists() and not os.access(path.parent, os.W_OK)):
        return "its data folder or file is read-only"
    return None


async def _connect_uri(uri: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    return conn


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
        # Why the store cannot be written (opened read-only: a read-only mount or file); None: writable.
        self.read_only: str | None = None

    @classmethod
    async def open(cls, path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> "SQLiteDatabase":
        """Open (creating) the database at ``path`` and apply the migrations not applied yet."""
        path = Path(path)
        if path.is_dir():
            path = path / DB_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        why = _read_only(path)
        if why is not None:
            return await cls._open_read_only(path, migrations, why)
        try:
            return await cls._open(path, migrations)
        except sqlite3.Error as e:  # before any transaction: the file cannot be opened or set up
            reason = _reason(e)
            raise (StoreUnavailable(f"{reason} ({path})") if reason else StoreError(f"cannot open the store {path}: {e}")) from e

    @classmethod
    async def _open(cls, path: Path, migrations: Sequence[Migration]) -> "SQLiteDatabase":
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

    @classmethod
    async def _open_read_only(cls, path: Path, migrations: Sequence[Migration], why: str) -> "SQLiteDatabase":
        """A store that cannot be written (a read-only mount or file) is opened to read only, so a
        node can go on answering verifications, status lists and DID documents; every write is
        refused (``StoreUnavailable``: a 503, the CLI's message), nothing half-done. Only a store
        whose migrations are all applied: a read-only one cannot be brought up to date."""
        reason = f"the store cannot be written: {why} ({path})"
        if not path.is_file():
            raise StoreUnavailable(reason)
        try:
            # mode=ro reads a WAL store when its -shm can be used; on a read-only mount after a
            # clean shutdown it is gone, and immutable=1 (nobody can write it there) reads anyway.
            writer = await _connect_uri(f"file:{path}?mode=ro")
            try:
                await writer.execute_fetchall("SELECT COUNT(*) FROM sqlite_master")
            except sqlite3.Error:
                await writer.close()
                writer = await _connect_uri(f"file:{path}?mode=ro&immutable=1")
            db = cls(writer, path)
            db.read_only = reason
            db._reader = writer
            done = {r[0] for r in await writer.execute_fetchall("SELECT name FROM schema_migrations")}
        except sqlite3.Error as e:
            raise StoreUnavailable(f"{reason}; and it cannot be read: {e}") from e
        try:
            check_known(done, [m.name for m in migrations])
        except StoreError:
            await writer.close()
            raise
        missing = [m.name for m in migrations if m.name not in done]
        if missing:
            await writer.close()
            raise StoreUnavailable(f"{reason}; and it needs migrations this version brings ({', '.join(missing)}), which need writing")
        return db

    async def close(self) -> None:
        if self._reader is not None and self._reader is not self._writer:
            await self._reader.close()
        async with self._lock:
            await self._writer.close()

    async def __aenter__(self) -> "SQLiteDatabase":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        if self.read_only is not None:
            raise StoreUnavailable(self.read_only)
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:  # another process held the lock past busy_timeout; a read-only folder
                raise self.unwritable(e) from e
            tx = SQLiteTx(self._writer, self.path, writing=True)
            try:
                yield tx
            except BaseException:
                # SQLite rolls a transaction back by itself on some failures (SQLITE_FULL, I/O
                # errors): then there is nothing left to roll back, and that is no news.
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("ROLLBACK")
                raise
            else:
                if tx.broken is not None:  # a statement failed, was caught, and took the transaction with it
                    raise tx.broken
                try:
                    await self._writer.execute("COMMIT")
                except sqlite3.Error as e:  # nothing was committed (the disk filled up, say)
                    with contextlib.suppress(sqlite3.Error):
                        await self._writer.execute("ROLLBACK")
                    raise self.unwritable(e) from e

    def unwritable(self, error: sqlite3.Error) -> StoreError:
        """What a failed write means, for an operator: ``StoreUnavailable`` (HTTP 503, the CLI's
        message) when the store cannot take writes now (locked, disk full, read-only, I/O
        errors), naming the data folder; nothing was written."""
        reason = _reason(error)
        if reason is None:
            return StoreError(f"the store refused a write: {error}")
        return StoreUnavailable(f"{reason} ({self.path})")

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
        return await asyncio.to_thread(_backup, self.path, Path(target), read_only=self.read_only is not None)

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


def _private_file(path: Path) -> None:
    """Create ``path`` empty, mode 0600 from the start (it will hold sealed keys)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _backup(source: Path, target: Path, *, read_only: bool = False) -> int:
    """See ``SQLiteDatabase.backup``. What stops it (a full or read-only destination, a store that
    cannot be read) is a ``StoreError`` saying so in one line, and no partial file is left."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        partial.unlink(missing_ok=True)
        _private_file(partial)
    except OSError as e:
        raise StoreError(_unwritable_backup(target, e)) from e
    try:
        src = _backup_source(source, read_only)
        try:
            dst = sqlite3.connect(str(partial), isolation_level=None)
            try:
                try:
                    src.backup(dst)  # all pages in one step: one read transaction, one snapshot
                    # One self-contained file: no -wal beside it to lose.
                    dst.execute("PRAGMA journal_mode=DELETE")
                    problems = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
                except sqlite3.Error as e:
                    raise StoreError(_unwritable_backup(target, e)) from e
                if problems != ["ok"]:
                    raise StoreError(f"the copy failed its integrity check: {'; '.join(problems[:5])}")
            finally:
                dst.close()
        finally:
            src.close()
        try:
            fsync_path(partial)
            os.replace(partial, target)
            fsync_path(target.parent)
        except OSError as e:
            raise StoreError(_unwritable_backup(target, e)) from e
    except BaseException:
        # On a file system that turned read-only even this can fail; what is left then is named partial.
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _backup_source(source: Path, read_only: bool) -> sqlite3.Connection:
    """A connection that reads the store to copy it. A store that cannot be written (a disk
    remounted read-only after errors: when a backup is wanted most) is read with ``mode=ro``,
    and where its WAL index cannot be used there (gone with a clean shutdown), as immutable,
    which is sound only because nobody can write a read-only mount."""
    uri = f"file:{quote(str(source))}"
    attempts = [(uri + "?mode=ro", True)] if read_only else [(str(source), False), (uri + "?mode=ro", True)]
    if _mounted_read_only(source):
        attempts.append((uri + "?mode=ro&immutable=1", True))
    error: sqlite3.Error | None = None
    for where, as_uri in attempts:
        conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, uri=as_uri)
        try:
            conn.execute("PRAGMA query_only=ON")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as e:
            conn.close()
            error = e
    raise StoreError(f"cannot read the store {source} to back it up: {error}")


def _mounted_read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _unwritable_backup(target: Path, error: BaseException) -> str:
    """Why the backup could not be written to ``target``, in one line (the CLI's refusal)."""
    code = getattr(error, "errno", None)
    primary = getattr(error, "sqlite_errorcode", -1) & 0xFF
    folder = target.parent
    if code in (errno.ENOSPC, errno.EDQUOT) or primary == sqlite3.SQLITE_FULL or "disk is full" in str(error):
        why = f"the disk holding {folder} is full; free space there, or write the backup to another disk"
    elif code == errno.EROFS or primary == sqlite3.SQLITE_READONLY or _mounted_read_only(folder):
        why = f"{folder} is on a read-only file system; write the backup elsewhere"
    elif code in (errno.EACCES, errno.EPERM):
        why = f"this user may not write into {folder}"
    else:
        why = getattr(error, "strerror", None) or str(error)
    return f"cannot write the backup {target}: {why} (nothing was written)"


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
        fsync_path(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target

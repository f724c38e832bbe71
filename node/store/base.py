"""The storage interface: what every backend (``node.store.sqlite`` today) provides.

A ``Database`` hands out two kinds of ``Tx`` handle:

* ``async with db.transaction() as tx``: a write transaction. It holds the database's write
  lock from its first statement (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the schema's advisory
  write lock; across processes, and replicas, too), is
  committed when the block ends normally and rolled back when it raises, and the commit is
  durable before the block exits: a change is on disk before the caller answers anybody.
* ``async with db.read() as tx``: committed data only, never blocked by a writer. Each
  statement sees what was committed when it started; two statements are not one snapshot.

SQL is written once, for every backend: ``?`` placeholders (a backend whose driver wants
``$1`` translates them), ``ON CONFLICT … DO NOTHING / DO UPDATE`` (not ``INSERT OR IGNORE``),
no ``rowid`` and no ``PRAGMA``. Where a statement truly differs between backends, the
``Dialect`` says how (``for_update``, the type tokens of ``node.store.migrations``), so one
repository serves them all.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncContextManager, Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

T = TypeVar("T")

# Parameters per IN (...) list: well under every backend's limit (SQLite's is 32,766).
IN_CHUNK = 500


class StoreError(Exception):
    """The store could not be opened or migrated."""


class StoreUnavailable(StoreError):
    """The store does not answer (closed, unreachable, broken); ``reason`` says how, briefly."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the store does not answer ({reason})")
        self.reason = reason


class Row(Protocol):
    """A result row, readable by column name (``row["name"]``)."""

    def __getitem__(self, key: str) -> Any: ...

    def keys(self) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between backends, so repositories and migrations are written once."""

    name: str  # "sqlite" | "postgresql"
    blob: str  # column type of raw bytes ("BLOB" | "BYTEA"): the {blob} token of migrations
    auto_id: str  # an integer primary key the database numbers: the {auto_id} token of migrations
    # Appended to a SELECT whose rows must stay locked until the transaction ends. SQLite's
    # write transaction already holds the whole database, so it is empty there.
    for_update: str = ""


class Tx(abc.ABC):
    """A transaction (or, from ``Database.read``, a read-only connection)."""

    dialect: Dialect

    @abc.abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abc.abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""

    @abc.abstractmethod
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""

    @abc.abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""

    @abc.abstractmethod
    def savepoint(self) -> AsyncContextManager[None]:
        """A nested transaction: rolled back alone when its block raises, kept otherwise."""


class Database(abc.ABC):
    """A backend. Open it with the backend's own ``open``; close it with ``close()``."""

    dialect: Dialect

    @abc.abstractmethod
    def transaction(self) -> AsyncContextManager[Tx]:
        """A write transaction: committed (durably) on normal exit, rolled back on an exception."""

    @abc.abstractmethod
    def read(self) -> AsyncContextManager[Tx]:
        """Committed data, never blocked by a writer (read through a transaction's own ``Tx`` to
        see its uncommitted changes)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connections."""

    async def backup(self, target: Path) -> int:
        """Write a consistent copy of the whole store to the file ``target`` while the store is
        in use (``vcnode backup``); its size in bytes. A backend whose data lives in a database
        server has its own tools for that, and says so instead of writing a wrong copy."""
        raise StoreError(
            f"vcnode backup writes a copy of an SQLite store; this store is {self.dialect.name}: back it up with "
            "the database's own tools (for PostgreSQL: pg_dump --format=custom, and pg_restore to restore), "
            "and keep the data folder's master.key (if any) beside it"
        )


def utcnow_iso(now: datetime) -> str:
    """How the store writes a moment: ``2025-06-01T12:00:00Z`` (UTC, seconds; sorts as text)."""
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def marks(n: int) -> str:
    """``?,?,…`` for an ``IN (…)`` list of ``n`` values."""
    return ",".join("?" * n)


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def fetch_in(tx: Tx, sql: Callable[[str], str], values: Sequence[Any], before: Sequence[Any] = ()) -> list[Row]:
    """The rows of ``sql(marks)`` for every one of ``values``: its ``IN (…)`` list filled
    ``IN_CHUNK`` values at a time (``marks`` the placeholders), after the parameters ``before``."""
    rows: list[Row] = []
    for part in chunked(values):
        rows += await tx.fetchall(sql(marks(len(part))), [*before, *part])
    return rows

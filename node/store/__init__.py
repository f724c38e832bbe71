"""The node's storage: all of its SQL lives in this package.

``base`` is the interface every backend implements (``Database``, ``Tx``, ``Dialect``);
``sqlite`` is the default backend (a file in the data folder), ``postgres`` the one chosen by a
``database_url`` (``postgresql://…``: replicas sharing one database, docs/scaling.md); ``migrations`` is the schema, one ordered list of named
migrations; the other modules are repositories, one per group of tables, each a few small
async functions taking a ``Tx``: ``settings``, ``issuers``, ``credentials`` (with the status
entries), ``status_lists`` (with their chunks), ``tokens``, ``challenges``, ``achievements``
(with the idempotency keys) and ``trust``. The capabilities in ``node/`` use the repositories
and never write SQL themselves (tests/test_architecture.py checks).

See docs/CONTRACTS.md ("node/store") for adding a backend or a migration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node.store.base import Database, Dialect, Row, StoreError, StoreUnavailable, Tx, utcnow_iso
from node.store.migrations import MIGRATIONS, Migration, applied, migrate, schema_version
from node.store.sqlite import DB_FILENAME, BackupContents, SQLiteDatabase, inspect_backup, restore_file

__all__ = [
    "BackupContents",
    "DB_FILENAME",
    "Database",
    "Dialect",
    "MIGRATIONS",
    "Migration",
    "PostgresDatabase",
    "Row",
    "SQLiteDatabase",
    "StoreError",
    "StoreUnavailable",
    "Tx",
    "applied",
    "inspect_backup",
    "migrate",
    "is_database_url",
    "open_database",
    "redact",
    "restore_file",
    "schema_version",
    "store_exists",
    "store_present",
    "utcnow_iso",
]


# The PostgreSQL backend (and asyncpg) is imported when first used: an SQLite node, and every
# CLI command on one, never pays for it.
_POSTGRES_NAMES = ("PostgresDatabase", "is_database_url", "redact")


def __getattr__(name: str) -> Any:
    if name in _POSTGRES_NAMES:
        from node.store import postgres

        return getattr(postgres, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def open_database(data_dir: str | Path, database_url: str | None = None) -> Database:
    """The node's database, migrated and ready: the PostgreSQL database at ``database_url``
    when one is given, else SQLite's ``vcnode.sqlite3`` in the data folder."""
    if database_url:
        from node.store.postgres import PostgresDatabase

        return await PostgresDatabase.open(database_url)
    return await SQLiteDatabase.open(data_dir)


def store_exists(data_dir: str | Path) -> bool:
    """Whether the data folder holds an SQLite store already (``open_database`` would create one)."""
    return (Path(data_dir) / DB_FILENAME).is_file()


async def store_present(data_dir: str | Path, database_url: str | None = None) -> bool:
    """Whether a node's store exists already: the SQLite file in the data folder or, with
    ``database_url``, the migrated schema in that database (a replica joining others finds it).
    ``StoreUnavailable`` when the database does not answer."""
    if not database_url:
        return store_exists(data_dir)
    from node.store.postgres import PostgresDatabase

    return await PostgresDatabase.exists(database_url)

"""The node's storage: all of its SQL lives in this package.

``base`` is the interface every backend implements (``Database``, ``Tx``, ``Dialect``);
``sqlite`` is the backend in use; ``migrations`` is the schema, one ordered list of named
migrations; the other modules are repositories, one per group of tables, each a few small
async functions taking a ``Tx``: ``settings``, ``issuers``, ``credentials`` (with the status
entries), ``status_lists`` (with their chunks), ``tokens``, ``challenges``, ``achievements``
(with the idempotency keys) and ``trust``. The capabilities in ``node/`` use the repositories
and never write SQL themselves (tests/test_architecture.py checks).

See docs/CONTRACTS.md ("node/store") for adding a backend or a migration.
"""

from __future__ import annotations

from pathlib import Path

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
    "Row",
    "SQLiteDatabase",
    "StoreError",
    "StoreUnavailable",
    "Tx",
    "applied",
    "inspect_backup",
    "migrate",
    "open_database",
    "restore_file",
    "schema_version",
    "store_exists",
    "utcnow_iso",
]


async def open_database(data_dir: str | Path) -> Database:
    """The node's database for a data folder, migrated and ready (SQLite, ``vcnode.sqlite3``)."""
    return await SQLiteDatabase.open(data_dir)


def store_exists(data_dir: str | Path) -> bool:
    """Whether the data folder holds a store already (``open_database`` would create one)."""
    return (Path(data_dir) / DB_FILENAME).is_file()

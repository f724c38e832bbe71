"""Backing up a node's store while it serves, and restoring a backup into a fresh data folder
(``vcnode backup FILE``, ``vcnode restore FILE --data DIR``).

A backup is one SQLite file, a consistent snapshot made with SQLite's online backup API
(``node.store.sqlite``): the issuers and their keys *sealed* with the master key, the
master-key record (how they are sealed: Argon2id salt and costs, or "a key file"), the node's
identity (its base URL), token hashes, credential records, status lists, achievements, trust.
It never holds the passphrase (which is stored nowhere) nor the key file ``master.key``:

* passphrase mode: the passphrase restores it (``VCNODE_PASSPHRASE``), as it opens the node;
* key-file mode: the key file is left out on purpose. Beside the sealed keys it would make the
  backup a copy of every issuer key, readable by whoever reads the backup. It never changes,
  so copy it once to a place apart from the backups; a restore takes it with ``--key-file``.

A restore refuses a folder that is not empty, checks the file (SQLite's integrity check, a
vcnode store, no migration this version does not know), opens the sealed keys with the
passphrase or key file *before* writing anything, then writes the store and opens it as a
node (applying migrations, if the backup is older): it keeps its identity, base URL included.

Both are SQLite's: a node on PostgreSQL (``database_url``) refuses them and names the
database's own tools instead (``pg_dump`` / ``pg_restore``, docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node import identity
from node.config import Config, ConfigError
from node.identity import IdentityError
from node.keys import KEYFILE_NAME, SETTING as MASTER_KEY_SETTING
from node.keys import KeyProtectionError, open_master
from node.node import Node, open_node
from node.store import DB_FILENAME, MIGRATIONS, BackupContents, StoreError, inspect_backup, open_database, restore_file
from node.store import issuers as issuer_rows
from node.store.migrations import unknown_migrations

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size: int
    base_url: str | None
    key_protection: str  # "passphrase" | "keyfile"
    key_file: Path | None  # the key file the backup needs beside it (key-file mode)

    def to_json(self) -> JsonObject:
        return {
            "file": str(self.path),
            "bytes": self.size,
            "baseUrl": self.base_url,
            "keyProtection": self.key_protection,
            "keyFile": str(self.key_file) if self.key_file else None,
        }


@dataclass(frozen=True)
class RestoreSummary:
    data_dir: Path
    base_url: str | None  # None: the backup has no recorded name (an older vcnode's) and none was given
    issuers: list[str]
    # Without a base URL: the ones its status lists name (the likely name), for the advice.
    names_in_store: list[str] = field(default_factory=list)

    def to_json(self) -> JsonObject:
        return {"data": str(self.data_dir), "baseUrl": self.base_url, "issuers": self.issuers}


def _base_url(contents: BackupContents) -> str | None:
    value = contents.settings.get(identity.SETTING)
    return value.get("base_url") if isinstance(value, dict) else None


async def backup(node: Node, target: Path) -> BackupSummary:
    """Copy the node's store to ``target`` (atomically: see ``Database.backup``)."""
    target = Path(target)
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; name the backup file, e.g. {target / 'vcnode-backup.sqlite3'}")
    if not target.parent.is_dir():
        raise ConfigError(f"the folder {target.parent} does not exist")
    _not_the_nodes_own(node.config.data_dir, target)
    size = await node.db.backup(target)
    contents = await asyncio.to_thread(inspect_backup, target)
    record = contents.settings.get(MASTER_KEY_SETTING) or {}
    mode = str(record.get("mode", "unknown"))
    key_file = node.config.data_dir / str(record.get("file", KEYFILE_NAME)) if mode == "keyfile" else None
    return BackupSummary(target, size, _base_url(contents), mode, key_file)


def _not_the_nodes_own(data_dir: Path, target: Path) -> None:
    """A backup replaces its target: over the live store (or its WAL) the serving node would
    write on into a file no longer there, and over the key file every sealed key is lost."""
    own = [data_dir / name for name in (DB_FILENAME, f"{DB_FILENAME}-wal", f"{DB_FILENAME}-shm",
                                        f"{DB_FILENAME}-journal", KEYFILE_NAME)]
    resolved = target.resolve()
    if any(resolved == path.resolve() for path in own):
        raise ConfigError(
            f"{target} is one of the node's own files; write the backup elsewhere, "
            f"best on another disk, e.g. /var/backups/vcnode-backup.sqlite3"
        )


def _empty_target(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise ConfigError(
            f"{data_dir} is not empty; restore into a new folder (or an empty one), so that nothing in it is overwritten"
        )


async def restore(backup_file: Path, config: Config, *, key_file: Path | None = None) -> RestoreSummary:
    """Make ``config.data_dir`` (absent or empty) the node the backup holds; see the module docstring."""
    data_dir = config.data_dir
    if config.database_url:
        raise StoreError(
            "vcnode restore writes an SQLite store into a data folder, but database_url names a PostgreSQL store; "
            "restore that with PostgreSQL's own tools (pg_restore of a pg_dump, docs/scaling.md), or unset "
            "database_url (VCNODE_DATABASE_URL) to restore this SQLite backup into a folder"
        )
    _empty_target(data_dir)
    contents = await asyncio.to_thread(inspect_backup, Path(backup_file))
    # A restore always refuses a newer backup: the restored node would be this older version.
    unknown = unknown_migrations(contents.migrations, [m.name for m in MIGRATIONS])
    if unknown:
        raise StoreError(f"{backup_file} was made by a newer vcnode (it has {', '.join(unknown)}); restore it with that version")
    record = contents.settings.get(MASTER_KEY_SETTING)
    if not isinstance(record, dict):
        raise StoreError(f"{backup_file} is not a vcnode backup: it holds no master-key record")
    recorded = _base_url(contents)
    if recorded and config.base_url and identity.normalize_base_url(config.base_url) != recorded:
        raise IdentityError(
            f"the backup is of the node {recorded}; a restore keeps that identity (its issuers' DIDs and status "
            f"lists name it). Leave out --base-url, or use {recorded}."
        )
    if not recorded and config.base_url:
        # A backup of an older vcnode's folder has no name: the one given is recorded, so it is
        # held to what init holds a new name to (no IP address unless allowed).
        problem = identity.serving_problem(identity.normalize_base_url(config.base_url), config.allow_insecure_hosts)
        if problem:
            raise IdentityError(problem)
    if record.get("mode") == "keyfile":
        if key_file is None:
            raise KeyProtectionError(
                "this backup's issuer keys are sealed with the node's key file (master.key), which a backup never holds; "
                "pass the copy you kept with --key-file FILE"
            )
        if config.passphrase:
            raise KeyProtectionError("this backup's keys are sealed with a key file, not a passphrase; unset VCNODE_PASSPHRASE")
    elif key_file is not None:
        raise KeyProtectionError("this backup's keys are sealed with a passphrase (VCNODE_PASSPHRASE), not a key file; leave out --key-file")
    elif record.get("mode") == "passphrase" and not config.passphrase:
        raise KeyProtectionError(
            "this backup's issuer keys are sealed with the node's passphrase, which no backup holds; set VCNODE_PASSPHRASE to it"
        )
    # The keys must open before anything is written.
    await asyncio.to_thread(open_master, data_dir, config.passphrase, record, key_file=key_file)

    data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    await asyncio.to_thread(restore_file, Path(backup_file), data_dir)
    if key_file is not None:
        target = data_dir / str(record.get("file", KEYFILE_NAME))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_file.read_bytes())
            f.flush()
            os.fsync(f.fileno())
    if recorded or config.base_url:
        # Under the name the backup recorded, or, for one without, the --base-url given (recorded now).
        async with open_node(config.replace(base_url=None) if recorded else config, network=False) as node:
            issuers = [i.name for i in await node.issuers.list()]
            return RestoreSummary(data_dir, node.config.effective_base_url, issuers)
    # No name anywhere: only the store is opened (its migrations applied), so that nothing is
    # signed or recorded under a default (node.identity); vcnode init records the name before
    # the node is served, and the caller says so.
    db = await open_database(data_dir)
    try:
        async with db.read() as tx:
            issuers = [row["name"] for row in await issuer_rows.list_all(tx)]
        names = await identity.names_in_store(db) or []
    finally:
        await db.close()
    return RestoreSummary(data_dir, None, issuers, names)

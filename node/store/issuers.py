"""Table ``issuers``: one row per issuer (name, purposes, public key, sealed secret key)."""

from __future__ import annotations

from node.store.base import Row, Tx

COLUMNS = "name, created, status_purposes, public_key_multibase"


async def insert(tx: Tx, *, name: str, created: str, status_purposes: str, public_key_multibase: str, sealed_secret: bytes) -> bool:
    """False when an issuer of that name exists (nothing is changed then)."""
    return await tx.execute(
        "INSERT INTO issuers (name, created, status_purposes, public_key_multibase, sealed_secret) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, created, status_purposes, public_key_multibase, sealed_secret),
    ) == 1


async def get(tx: Tx, name: str) -> Row | None:
    return await tx.fetchone(f"SELECT {COLUMNS} FROM issuers WHERE name = ?", (name,))


async def by_public_key(tx: Tx, public_key_multibase: str) -> Row | None:
    return await tx.fetchone(
        f"SELECT {COLUMNS} FROM issuers WHERE public_key_multibase = ? ORDER BY created, name", (public_key_multibase,)
    )


async def list_all(tx: Tx) -> list[Row]:
    return await tx.fetchall(f"SELECT {COLUMNS} FROM issuers ORDER BY created, name")


async def sealed_secret(tx: Tx, name: str) -> bytes | None:
    row = await tx.fetchone("SELECT sealed_secret FROM issuers WHERE name = ?", (name,))
    return bytes(row["sealed_secret"]) if row is not None else None


async def lock(tx: Tx, name: str) -> None:
    """Hold the issuer's row until the transaction ends, so that allocations in its status
    lists are serialised across processes. Nothing to do where a write transaction holds
    the whole database (SQLite)."""
    if tx.dialect.for_update:
        await tx.fetchone(f"SELECT name FROM issuers WHERE name = ?{tx.dialect.for_update}", (name,))

"""Tables ``achievements`` (an issuer's achievement definitions, by slug) and
``microcredential_keys`` (idempotency keys: which credential a key issued, for which request)."""

from __future__ import annotations

from typing import Iterable, Sequence

from node.store.base import Row, Tx, fetch_in


async def slug_taken(tx: Tx, issuer: str, slug: str) -> bool:
    return await tx.fetchone("SELECT 1 AS one FROM achievements WHERE issuer = ? AND slug = ?", (issuer, slug)) is not None


async def insert(tx: Tx, *, issuer: str, slug: str, created: str, definition: str) -> None:
    await tx.execute(
        "INSERT INTO achievements (issuer, slug, created, definition) VALUES (?, ?, ?, ?)", (issuer, slug, created, definition)
    )


async def get(tx: Tx, issuer: str, slug: str) -> Row | None:
    """``issuer, slug, created, definition``."""
    return await tx.fetchone(
        "SELECT issuer, slug, created, definition FROM achievements WHERE issuer = ? AND slug = ?", (issuer, slug)
    )


async def of_issuer(tx: Tx, issuer: str) -> list[Row]:
    return await tx.fetchall(
        "SELECT issuer, slug, created, definition FROM achievements WHERE issuer = ? ORDER BY created, slug", (issuer,)
    )


async def keys(tx: Tx, issuer: str, idempotency_keys: Sequence[str]) -> dict[str, Row]:
    """The recorded ones among ``idempotency_keys``: key -> ``idempotency_key, request_hash, credential_id``."""
    rows = await fetch_in(
        tx,
        lambda m: f"SELECT idempotency_key, request_hash, credential_id FROM microcredential_keys WHERE issuer = ? AND idempotency_key IN ({m})",
        idempotency_keys,
        before=(issuer,),
    )
    return {r["idempotency_key"]: r for r in rows}


async def record_keys(tx: Tx, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
    """``(issuer, idempotency_key, credential_id, request_hash, created)``; a key recorded
    already keeps its first credential."""
    await tx.executemany(
        "INSERT INTO microcredential_keys (issuer, idempotency_key, credential_id, request_hash, created) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (issuer, idempotency_key) DO NOTHING",
        rows,
    )

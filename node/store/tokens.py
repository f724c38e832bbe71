"""Table ``tokens``: API tokens by id, their scopes and issuer; only a hash of each token."""

from __future__ import annotations

from node.store.base import Row, Tx


async def insert(tx: Tx, *, token_id: str, token_hash: str, scopes: str, issuer: str | None, created: str) -> None:
    await tx.execute(
        "INSERT INTO tokens (id, token_hash, scopes, issuer, created) VALUES (?, ?, ?, ?, ?)",
        (token_id, token_hash, scopes, issuer, created),
    )


async def live_by_hash(tx: Tx, token_hash: str) -> Row | None:
    """``id, scopes, issuer`` of the unrevoked token with that hash."""
    return await tx.fetchone("SELECT id, scopes, issuer FROM tokens WHERE token_hash = ? AND revoked IS NULL", (token_hash,))


async def revoke(tx: Tx, token_id: str, when: str) -> bool:
    """False when there is no live token with that id."""
    return await tx.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (when, token_id)) == 1


async def exists(tx: Tx, token_id: str) -> bool:
    return await tx.fetchone("SELECT 1 AS one FROM tokens WHERE id = ?", (token_id,)) is not None


async def list_all(tx: Tx) -> list[Row]:
    return await tx.fetchall("SELECT id, scopes, issuer, created, revoked FROM tokens ORDER BY created, id")

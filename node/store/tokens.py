"""Table ``tokens``: API tokens by id, their scopes, issuer and expiry, when each was last
used; only a hash of each token."""

from __future__ import annotations

from node.store.base import Row, Tx

COLUMNS = "id, scopes, issuer, created, expires, last_used, revoked"


async def insert(
    tx: Tx, *, token_id: str, token_hash: str, scopes: str, issuer: str | None, created: str, expires: str | None = None
) -> None:
    await tx.execute(
        "INSERT INTO tokens (id, token_hash, scopes, issuer, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
        (token_id, token_hash, scopes, issuer, created, expires),
    )


async def live_by_hash(tx: Tx, token_hash: str) -> Row | None:
    """``id, scopes, issuer, expires, last_used`` of the unrevoked token with that hash (expired
    or not: the caller says which)."""
    return await tx.fetchone(
        "SELECT id, scopes, issuer, expires, last_used FROM tokens WHERE token_hash = ? AND revoked IS NULL", (token_hash,)
    )


async def touch(tx: Tx, token_id: str, when: str, *, unless_since: str) -> bool:
    """Record that the token was used at ``when``, unless a use at or after ``unless_since`` is
    recorded already (another process wrote it)."""
    return await tx.execute(
        "UPDATE tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)", (when, token_id, unless_since)
    ) == 1


async def revoke(tx: Tx, token_id: str, when: str) -> bool:
    """False when there is no live token with that id."""
    return await tx.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (when, token_id)) == 1


async def exists(tx: Tx, token_id: str) -> bool:
    return await tx.fetchone("SELECT 1 AS one FROM tokens WHERE id = ?", (token_id,)) is not None


async def list_all(tx: Tx) -> list[Row]:
    return await tx.fetchall(f"SELECT {COLUMNS} FROM tokens ORDER BY created, id")

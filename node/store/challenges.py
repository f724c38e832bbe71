"""Table ``challenges``: the single-use challenges the node handed out, until they expire."""

from __future__ import annotations

from node.store.base import Row, Tx


async def sweep(tx: Tx, now: str) -> None:
    """Forget challenges that expired before ``now``."""
    await tx.execute("DELETE FROM challenges WHERE expires < ?", (now,))


async def insert(tx: Tx, challenge: str, expires: str) -> None:
    await tx.execute("INSERT INTO challenges (challenge, expires) VALUES (?, ?)", (challenge, expires))


async def consume(tx: Tx, challenge: str, now: str) -> bool:
    """Mark a live challenge used; True exactly once (the update is atomic)."""
    return await tx.execute(
        "UPDATE challenges SET used = ? WHERE challenge = ? AND used IS NULL AND expires >= ?", (now, challenge, now)
    ) == 1


async def get(tx: Tx, challenge: str) -> Row | None:
    """``used, expires``."""
    return await tx.fetchone("SELECT used, expires FROM challenges WHERE challenge = ?", (challenge,))


"""Tables ``oid4vci_offers`` and ``oid4vci_nonces``: credential offers of the OpenID4VCI
pre-authorized code flow (their code, token and state) and the c_nonces handed out.

Every single-use step is one conditional ``UPDATE`` whose row count says whether this caller
won: two processes (or replicas) redeeming the same code, or sending the same nonce, cannot
both succeed, whatever the backend.
"""

from __future__ import annotations

from node.store.base import Row, Tx

_OFFER_COLUMNS = (
    "id, issuer, configuration_id, request, tx_code_hash, tx_failures, created, expires, token_expires, "
    "redeemed, claimed, holder, credential_id, notification_event, notified, identifiers_granted"
)


async def insert_offer(
    tx: Tx,
    *,
    offer_id: str,
    issuer: str,
    configuration_id: str,
    request: str,
    code_hash: str,
    tx_code_hash: str | None,
    created: str,
    expires: str,
    idempotency_key: str,
) -> None:
    await tx.execute(
        "INSERT INTO oid4vci_offers (id, issuer, configuration_id, request, code_hash, tx_code_hash, created, expires, "
        "idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (offer_id, issuer, configuration_id, request, code_hash, tx_code_hash, created, expires, idempotency_key),
    )


async def get(tx: Tx, offer_id: str) -> Row | None:
    return await tx.fetchone(f"SELECT {_OFFER_COLUMNS} FROM oid4vci_offers WHERE id = ?", (offer_id,))


async def by_code(tx: Tx, code_hash: str) -> Row | None:
    return await tx.fetchone(f"SELECT {_OFFER_COLUMNS} FROM oid4vci_offers WHERE code_hash = ?", (code_hash,))


async def by_token(tx: Tx, token_hash: str) -> Row | None:
    return await tx.fetchone(f"SELECT {_OFFER_COLUMNS} FROM oid4vci_offers WHERE token_hash = ?", (token_hash,))


async def of_issuer(tx: Tx, issuer: str) -> list[Row]:
    return await tx.fetchall(f"SELECT {_OFFER_COLUMNS} FROM oid4vci_offers WHERE issuer = ? ORDER BY created, id", (issuer,))


async def holding_key(tx: Tx, issuer: str, key: str) -> list[Row]:
    """The issuer's offers whose award (not yet issued, not yet forgotten) has idempotency key ``key``."""
    return await tx.fetchall(
        f"SELECT {_OFFER_COLUMNS} FROM oid4vci_offers WHERE issuer = ? AND idempotency_key = ? AND request IS NOT NULL",
        (issuer, key),
    )


async def count_tx_failure(tx: Tx, offer_id: str) -> int:
    """Count one wrong transaction code; the number of failures so far."""
    await tx.execute("UPDATE oid4vci_offers SET tx_failures = tx_failures + 1 WHERE id = ?", (offer_id,))
    row = await tx.fetchone("SELECT tx_failures FROM oid4vci_offers WHERE id = ?", (offer_id,))
    return int(row["tx_failures"]) if row is not None else 0


async def redeem(
    tx: Tx, offer_id: str, *, token_hash: str, token_expires: str, now: str, max_failures: int, identifiers_granted: bool
) -> bool:
    """Exchange the offer's code for a token: True exactly once, while the offer is live.
    ``identifiers_granted``: whether the token response names ``credential_identifiers``, which
    decides what the credential request must name (OpenID4VCI 1.0 §8.2)."""
    return await tx.execute(
        "UPDATE oid4vci_offers SET redeemed = ?, token_hash = ?, token_expires = ?, identifiers_granted = ? "
        "WHERE id = ? AND redeemed IS NULL AND expires >= ? AND tx_failures < ?",
        (now, token_hash, token_expires, int(identifiers_granted), offer_id, now, max_failures),
    ) == 1


async def claim(tx: Tx, offer_id: str, *, holder: str, now: str) -> bool:
    """Take the offer for issuing to ``holder``: True exactly once, while its token is live."""
    return await tx.execute(
        "UPDATE oid4vci_offers SET claimed = ?, holder = ? WHERE id = ? AND claimed IS NULL AND token_expires >= ?",
        (now, holder, offer_id, now),
    ) == 1


async def release(tx: Tx, offer_id: str) -> None:
    """Give a claimed offer back when its credential could not be issued."""
    await tx.execute(
        "UPDATE oid4vci_offers SET claimed = NULL, holder = NULL WHERE id = ? AND credential_id IS NULL", (offer_id,)
    )


async def complete(tx: Tx, offer_id: str, credential_id: str) -> None:
    """Record what the offer issued; the award's personal data is no longer needed."""
    await tx.execute("UPDATE oid4vci_offers SET credential_id = ?, request = NULL, idempotency_key = NULL WHERE id = ?", (credential_id, offer_id))


async def notify(tx: Tx, offer_id: str, event: str, now: str) -> None:
    await tx.execute("UPDATE oid4vci_offers SET notification_event = ?, notified = ? WHERE id = ?", (event, now, offer_id))


async def forget_unusable(tx: Tx, now: str) -> None:
    """Drop the award data of offers that can no longer issue anything (expired, never claimed)."""
    await tx.execute(
        "UPDATE oid4vci_offers SET request = NULL, idempotency_key = NULL WHERE request IS NOT NULL AND claimed IS NULL "
        "AND expires < ? AND (token_expires IS NULL OR token_expires < ?)",
        (now, now),
    )


async def insert_nonce(tx: Tx, nonce: str, expires: str) -> None:
    await tx.execute("INSERT INTO oid4vci_nonces (nonce, expires) VALUES (?, ?)", (nonce, expires))


async def consume_nonce(tx: Tx, nonce: str, now: str) -> bool:
    """Mark a live nonce used: True exactly once."""
    return await tx.execute(
        "UPDATE oid4vci_nonces SET used = ? WHERE nonce = ? AND used IS NULL AND expires >= ?", (now, nonce, now)
    ) == 1


async def sweep_nonces(tx: Tx, now: str) -> None:
    await tx.execute("DELETE FROM oid4vci_nonces WHERE expires < ?", (now,))

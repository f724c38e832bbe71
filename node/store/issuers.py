"""Tables ``issuers`` (one row per issuer: name, status purposes, the active key, public and sealed)
and ``issuer_keys`` (every key an issuer has had: when it became active, was superseded,
retired; the sealed secret until retirement)."""

from __future__ import annotations

from node.store.base import Row, Tx

COLUMNS = "name, created, status_purposes, public_key_multibase"
KEY_COLUMNS = "issuer, public_key_multibase, activated, superseded, retired, compromised"


async def insert(tx: Tx, *, name: str, created: str, status_purposes: str, public_key_multibase: str, sealed_secret: bytes) -> bool:
    """False when an issuer of that name exists (nothing is changed then)."""
    inserted = await tx.execute(
        "INSERT INTO issuers (name, created, status_purposes, public_key_multibase, sealed_secret) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, created, status_purposes, public_key_multibase, sealed_secret),
    ) == 1
    if inserted:
        await tx.execute(
            "INSERT INTO issuer_keys (issuer, public_key_multibase, sealed_secret, activated) VALUES (?, ?, ?, ?)",
            (name, public_key_multibase, sealed_secret, created),
        )
    return inserted


async def get(tx: Tx, name: str) -> Row | None:
    return await tx.fetchone(f"SELECT {COLUMNS} FROM issuers WHERE name = ?", (name,))


async def by_public_key(tx: Tx, public_key_multibase: str) -> Row | None:
    """The issuer that has (or had) this key."""
    return await tx.fetchone(
        "SELECT i.name, i.created, i.status_purposes, i.public_key_multibase FROM issuers i "
        "JOIN issuer_keys k ON k.issuer = i.name WHERE k.public_key_multibase = ? ORDER BY i.created, i.name",
        (public_key_multibase,),
    )


async def list_all(tx: Tx) -> list[Row]:
    return await tx.fetchall(f"SELECT {COLUMNS} FROM issuers ORDER BY created, name")


async def sealed_secret(tx: Tx, name: str) -> bytes | None:
    """The active key's sealed secret."""
    row = await tx.fetchone("SELECT sealed_secret FROM issuers WHERE name = ?", (name,))
    return bytes(row["sealed_secret"]) if row is not None else None


async def lock(tx: Tx, name: str) -> None:
    """Hold the issuer's row until the transaction ends, so that allocations in its status
    lists (and key changes) are serialised across processes. Nothing to do where a write
    transaction holds the whole database (SQLite)."""
    if tx.dialect.for_update:
        await tx.fetchone(f"SELECT name FROM issuers WHERE name = ?{tx.dialect.for_update}", (name,))


# --- keys ----------------------------------------------------------------------------------------


async def active_key(tx: Tx, name: str) -> str | None:
    """The public key (Multikey) the issuer signs with now; read inside a write transaction,
    it stays the active one until that transaction ends."""
    row = await tx.fetchone("SELECT public_key_multibase FROM issuers WHERE name = ?", (name,))
    return str(row["public_key_multibase"]) if row is not None else None


async def keys_of(tx: Tx, name: str) -> list[Row]:
    """``KEY_COLUMNS`` of every key the issuer has had, oldest first."""
    return await tx.fetchall(
        f"SELECT {KEY_COLUMNS} FROM issuer_keys WHERE issuer = ? ORDER BY activated, public_key_multibase", (name,)
    )


async def all_keys(tx: Tx) -> list[Row]:
    return await tx.fetchall(f"SELECT {KEY_COLUMNS} FROM issuer_keys ORDER BY issuer, activated, public_key_multibase")


async def key_secret(tx: Tx, name: str, public_key_multibase: str) -> tuple[Row | None, bytes | None]:
    """The key's row (``KEY_COLUMNS``) and its sealed secret (None once retired); (None, None)
    when the issuer has no such key."""
    row = await tx.fetchone(
        f"SELECT {KEY_COLUMNS}, sealed_secret FROM issuer_keys WHERE issuer = ? AND public_key_multibase = ?",
        (name, public_key_multibase),
    )
    if row is None:
        return None, None
    return row, (bytes(row["sealed_secret"]) if row["sealed_secret"] is not None else None)


async def rotate(tx: Tx, name: str, *, public_key_multibase: str, sealed_secret: bytes, when: str) -> None:
    """Make a new key the active one: the old one is superseded (it stays in the history and in
    the did:web document), the new one signs from now on."""
    await tx.execute(
        "UPDATE issuer_keys SET superseded = ? WHERE issuer = ? AND superseded IS NULL AND retired IS NULL "
        "AND public_key_multibase = (SELECT public_key_multibase FROM issuers WHERE name = ?)",
        (when, name, name),
    )
    await tx.execute(
        "INSERT INTO issuer_keys (issuer, public_key_multibase, sealed_secret, activated) VALUES (?, ?, ?, ?)",
        (name, public_key_multibase, sealed_secret, when),
    )
    await tx.execute(
        "UPDATE issuers SET public_key_multibase = ?, sealed_secret = ?, key_generation = key_generation + 1 WHERE name = ?",
        (public_key_multibase, sealed_secret, name),
    )


async def retire(tx: Tx, name: str, public_key_multibase: str, *, when: str, compromised: bool, erase: bool = True) -> bool:
    """Retire a superseded key: it leaves the did:web document, and with ``erase`` its secret is
    erased. False when it was retired already (then only ``compromised`` is recorded, if set)."""
    retired = await tx.execute(
        "UPDATE issuer_keys SET retired = ?, compromised = ? WHERE issuer = ? AND public_key_multibase = ? AND retired IS NULL",
        (when, 1 if compromised else 0, name, public_key_multibase),
    ) == 1
    if retired and erase:
        await tx.execute(
            "UPDATE issuer_keys SET sealed_secret = NULL WHERE issuer = ? AND public_key_multibase = ?", (name, public_key_multibase)
        )
    if not retired and compromised:
        await tx.execute(
            "UPDATE issuer_keys SET compromised = 1 WHERE issuer = ? AND public_key_multibase = ?", (name, public_key_multibase)
        )
    await tx.execute("UPDATE issuers SET key_generation = key_generation + 1 WHERE name = ?", (name,))
    return retired


async def set_purposes(tx: Tx, name: str, status_purposes: str) -> None:
    """Change the issuer's status purposes (a JSON array; read them in the same write
    transaction, after ``lock``). Counted as a key change is (generation + 1), so that every
    process keeping issuers in memory reads the issuer again (``node.issuers.Issuers.refresh``)."""
    await tx.execute(
        "UPDATE issuers SET status_purposes = ?, key_generation = key_generation + 1 WHERE name = ?", (status_purposes, name)
    )


async def generation(tx: Tx) -> int:
    """A number that grows with every change of any issuer's keys or status purposes (a cheap
    freshness probe; the column is named for keys, which came first)."""
    row = await tx.fetchone("SELECT COALESCE(SUM(key_generation), 0) AS n FROM issuers")
    return int(row["n"]) if row is not None else 0

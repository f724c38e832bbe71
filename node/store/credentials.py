"""Tables ``credentials`` (what was issued, to whom, its status), ``status_entries`` (the
status-list indexes handed out, and to which credential) and ``credential_bodies`` (the signed
credentials kept, or journalled until a batch's output holds them)."""

from __future__ import annotations

from typing import Iterable, Sequence

from node.store.base import Row, Tx, chunked, fetch_in, marks

COLUMNS = "id, issuer, subject_id, issued, status, status_changed"
# An entry with where it lives: its list's issuer, purpose and number make the list's URL.
_ENTRY = (
    "e.credential_id, e.list_id, e.idx, e.purpose, l.issuer, l.seq, l.status_size "
    "FROM status_entries e JOIN status_lists l ON l.id = e.list_id"
)


async def existing_ids(tx: Tx, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` name a recorded credential."""
    return {r["id"] for r in await fetch_in(tx, lambda m: f"SELECT id FROM credentials WHERE id IN ({m})", ids)}


async def by_ids(tx: Tx, ids: Sequence[str]) -> dict[str, Row]:
    return {r["id"]: r for r in await fetch_in(tx, lambda m: f"SELECT {COLUMNS} FROM credentials WHERE id IN ({m})", ids)}


async def get(tx: Tx, credential_id: str) -> Row | None:
    return await tx.fetchone(f"SELECT {COLUMNS} FROM credentials WHERE id = ?", (credential_id,))


async def find(
    tx: Tx, *, issuer: str | None = None, subject_id: str | None = None, signing_key: str | None = None
) -> list[Row]:
    """Oldest first, optionally of one issuer, subject or signing key."""
    sql, params = f"SELECT {COLUMNS} FROM credentials WHERE 1=1", []
    if issuer is not None:
        sql, params = sql + " AND issuer = ?", [*params, issuer]
    if subject_id is not None:
        sql, params = sql + " AND subject_id = ?", [*params, subject_id]
    if signing_key is not None:
        sql, params = sql + " AND signing_key = ?", [*params, signing_key]
    return await tx.fetchall(sql + " ORDER BY issued, id", params)


async def count_by_signing_key(tx: Tx, issuer: str) -> dict[str, int]:
    """How many credentials of ``issuer`` each of its keys signed."""
    rows = await tx.fetchall(
        "SELECT signing_key, COUNT(*) AS n FROM credentials WHERE issuer = ? GROUP BY signing_key", (issuer,)
    )
    return {r["signing_key"]: int(r["n"]) for r in rows if r["signing_key"] is not None}


async def insert_active(tx: Tx, rows: Iterable[tuple[str, str, str | None, str]], *, signing_key: str | None = None) -> None:
    """``(id, issuer, subject_id, issued)`` per credential, status active, signed by ``signing_key``
    (the issuer's key, Multikey, that will sign them)."""
    await tx.executemany(
        "INSERT INTO credentials (id, issuer, subject_id, issued, status, signing_key) VALUES (?, ?, ?, ?, 'active', ?)",
        [(*row, signing_key) for row in rows],
    )


async def set_statuses(tx: Tx, changes: Iterable[tuple[str, str, str]]) -> None:
    """``(status, when, id)`` per credential."""
    await tx.executemany("UPDATE credentials SET status = ?, status_changed = ? WHERE id = ?", changes)


# --- kept bodies ---------------------------------------------------------------------------------

_BODY = "b.credential_id, b.issuer, b.stored, b.journal, b.body"


async def keep_bodies(tx: Tx, rows: Iterable[tuple[str, str, str, int, str]]) -> None:
    """``(credential_id, issuer, stored, journal, body)`` per signed credential; ``journal`` 1:
    kept only until a batch's output holds it (``drop_journal``)."""
    await tx.executemany(
        "INSERT INTO credential_bodies (credential_id, issuer, stored, journal, body) VALUES (?, ?, ?, ?, ?)", rows
    )


async def bodies(tx: Tx, ids: Sequence[str]) -> dict[str, Row]:
    """The kept (or journalled) bodies among ``ids``: id -> ``credential_id, issuer, stored, journal, body``."""
    rows = await fetch_in(tx, lambda m: f"SELECT {_BODY} FROM credential_bodies b WHERE b.credential_id IN ({m})", ids)
    return {r["credential_id"]: r for r in rows}


async def with_body(tx: Tx, credential_id: str) -> Row | None:
    """``id, issuer, issued, body_purged, journal, body`` (body None when not kept), or None when unknown."""
    return await tx.fetchone(
        "SELECT c.id, c.issuer, c.issued, c.body_purged, b.journal, b.body FROM credentials c "
        "LEFT JOIN credential_bodies b ON b.credential_id = c.id WHERE c.id = ?",
        (credential_id,),
    )


async def drop_journal(tx: Tx, ids: Sequence[str]) -> None:
    """Forget journalled bodies (``journal`` 1) once the batch's output holds them; kept ones stay."""
    for part in chunked(ids):
        await tx.execute(f"DELETE FROM credential_bodies WHERE journal = 1 AND credential_id IN ({marks(len(part))})", part)


async def purge_bodies(
    tx: Tx, *, when: str, stored_before: str | None = None, ids: Sequence[str] | None = None, subject_id: str | None = None
) -> int:
    """Delete bodies (kept or journalled) stored before ``stored_before``, or of ``ids``, or of
    ``subject_id``'s credentials (the conditions that are given all hold); each credential's
    status record stays, its ``body_purged`` set to ``when``. The number deleted."""
    where, params = "1=1", []
    if stored_before is not None:
        where, params = where + " AND stored < ?", [*params, stored_before]
    if subject_id is not None:
        where, params = where + " AND credential_id IN (SELECT id FROM credentials WHERE subject_id = ?)", [*params, subject_id]
    groups: list[Sequence[str]] = list(chunked(ids)) if ids is not None else [()]
    deleted = 0
    for part in groups:
        w, p = where, list(params)
        if ids is not None:
            w, p = w + f" AND credential_id IN ({marks(len(part))})", [*p, *part]
        await tx.execute(f"UPDATE credentials SET body_purged = ? WHERE id IN (SELECT credential_id FROM credential_bodies WHERE {w})", [when, *p])
        deleted += await tx.execute(f"DELETE FROM credential_bodies WHERE {w}", p)
    return deleted


async def count_bodies(tx: Tx) -> dict[str, int]:
    """``{"kept": n, "journal": n}``."""
    rows = await tx.fetchall("SELECT journal, COUNT(*) AS n FROM credential_bodies GROUP BY journal")
    counts = {int(r["journal"]): int(r["n"]) for r in rows}
    return {"kept": counts.get(0, 0), "journal": counts.get(1, 0)}


# --- status entries ------------------------------------------------------------------------------


async def insert_entries(tx: Tx, rows: Iterable[tuple[int, int, str | None, str, str]]) -> None:
    """``(list_id, index, credential_id, purpose, allocated)`` per handed-out index. The primary
    key (list_id, idx) is the last line of defence against a reused index."""
    await tx.executemany(
        "INSERT INTO status_entries (list_id, idx, credential_id, purpose, allocated) VALUES (?, ?, ?, ?, ?)", rows
    )


async def claim_entries(tx: Tx, rows: Iterable[tuple[str, int, int]]) -> None:
    """``(credential_id, list_id, index)``: give indexes allocated to nobody (``insert_entries``
    with no credential) to the credential they were drawn for, once it is signed."""
    await tx.executemany(
        "UPDATE status_entries SET credential_id = ? WHERE list_id = ? AND idx = ? AND credential_id IS NULL", rows
    )


async def entries_of(tx: Tx, credential_id: str) -> list[Row]:
    """Rows ``credential_id, list_id, idx, purpose, issuer, seq, status_size``, by purpose."""
    return await tx.fetchall(f"SELECT {_ENTRY} WHERE e.credential_id = ? ORDER BY e.purpose", (credential_id,))


async def entries_of_many(tx: Tx, credential_ids: Sequence[str]) -> list[Row]:
    return await fetch_in(tx, lambda m: f"SELECT {_ENTRY} WHERE e.credential_id IN ({m}) ORDER BY e.purpose", credential_ids)


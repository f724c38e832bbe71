"""Tables ``credentials`` (what was issued, to whom, its status) and ``status_entries`` (the
status-list indexes handed out, and to which credential)."""

from __future__ import annotations

from typing import Iterable, Sequence

from node.store.base import Row, Tx, chunked, marks

COLUMNS = "id, issuer, subject_id, issued, status, status_changed"
# An entry with where it lives: its list's issuer, purpose and number make the list's URL.
_ENTRY = (
    "e.credential_id, e.list_id, e.idx, e.purpose, l.issuer, l.seq, l.status_size "
    "FROM status_entries e JOIN status_lists l ON l.id = e.list_id"
)


async def existing_ids(tx: Tx, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` name a recorded credential."""
    out: set[str] = set()
    for part in chunked(ids):
        out.update(r["id"] for r in await tx.fetchall(f"SELECT id FROM credentials WHERE id IN ({marks(len(part))})", part))
    return out


async def by_ids(tx: Tx, ids: Sequence[str]) -> dict[str, Row]:
    out: dict[str, Row] = {}
    for part in chunked(ids):
        for row in await tx.fetchall(f"SELECT {COLUMNS} FROM credentials WHERE id IN ({marks(len(part))})", part):
            out[row["id"]] = row
    return out


async def get(tx: Tx, credential_id: str) -> Row | None:
    return await tx.fetchone(f"SELECT {COLUMNS} FROM credentials WHERE id = ?", (credential_id,))


async def find(tx: Tx, *, issuer: str | None = None, subject_id: str | None = None) -> list[Row]:
    """Oldest first, optionally of one issuer or subject."""
    sql, params = f"SELECT {COLUMNS} FROM credentials WHERE 1=1", []
    if issuer is not None:
        sql, params = sql + " AND issuer = ?", [*params, issuer]
    if subject_id is not None:
        sql, params = sql + " AND subject_id = ?", [*params, subject_id]
    return await tx.fetchall(sql + " ORDER BY issued, id", params)


async def insert_active(tx: Tx, rows: Iterable[tuple[str, str, str | None, str]]) -> None:
    """``(id, issuer, subject_id, issued)`` per credential, status active."""
    await tx.executemany(
        "INSERT INTO credentials (id, issuer, subject_id, issued, status) VALUES (?, ?, ?, ?, 'active')", rows
    )


async def set_statuses(tx: Tx, changes: Iterable[tuple[str, str, str]]) -> None:
    """``(status, when, id)`` per credential."""
    await tx.executemany("UPDATE credentials SET status = ?, status_changed = ? WHERE id = ?", changes)


async def forget(tx: Tx, ids: Sequence[str]) -> None:
    """Drop credentials that were recorded but never handed out; their indexes stay used."""
    await tx.executemany("UPDATE status_entries SET credential_id = NULL WHERE credential_id = ?", [(i,) for i in ids])
    await tx.executemany("DELETE FROM credentials WHERE id = ?", [(i,) for i in ids])


# --- status entries ------------------------------------------------------------------------------


async def insert_entries(tx: Tx, rows: Iterable[tuple[int, int, str | None, str, str]]) -> None:
    """``(list_id, index, credential_id, purpose, allocated)`` per handed-out index. The primary
    key (list_id, idx) is the last line of defence against a reused index."""
    await tx.executemany(
        "INSERT INTO status_entries (list_id, idx, credential_id, purpose, allocated) VALUES (?, ?, ?, ?, ?)", rows
    )


async def entries_of(tx: Tx, credential_id: str) -> list[Row]:
    """Rows ``credential_id, list_id, idx, purpose, issuer, seq, status_size``, by purpose."""
    return await tx.fetchall(f"SELECT {_ENTRY} WHERE e.credential_id = ? ORDER BY e.purpose", (credential_id,))


async def entries_of_many(tx: Tx, credential_ids: Sequence[str]) -> list[Row]:
    out: list[Row] = []
    for part in chunked(credential_ids):
        out += await tx.fetchall(f"SELECT {_ENTRY} WHERE e.credential_id IN ({marks(len(part))}) ORDER BY e.purpose", part)
    return out


"""Tables ``status_lists`` (one row per list: its place, usage, version, the signed credential
last published) and ``status_list_chunks`` (its two bitstrings, in 16 KiB pieces).

The bitstrings are stored in chunks so that one status change or one allocation rewrites
16 KiB, not a whole list: a 16,777,216-entry list is 2 MiB, and rewriting (and fsyncing) it per
revocation cost ~140 ms of the ~150 ms a revocation took. Chunks never written are zeros.
"""

from __future__ import annotations

from typing import Iterable

from node.store.base import Row, Tx

CHUNK_BYTES = 16 * 1024
CHUNK_BITS = CHUNK_BYTES * 8
BITS, USED = "bits", "used"  # the statuses; every index ever handed out (status.allocate.UsedBitmap)


WEB_SIGNER = "did:web"  # status_lists.signer of a list signed by its issuer's did:web (node.0003)


async def current(tx: Tx, issuer: str, purpose: str, *, signer: str = WEB_SIGNER, status_size: int = 1) -> Row | None:
    """The issuer's newest list of ``purpose``, signed by ``signer`` and of ``status_size``-bit
    entries, that is not full: ``id, seq, length``. Allocating in it needs ``issuers.lock`` first."""
    return await tx.fetchone(
        "SELECT id, seq, length FROM status_lists WHERE issuer = ? AND purpose = ? AND signer = ? AND status_size = ? "
        "AND \"full\" = 0 ORDER BY seq DESC LIMIT 1",
        (issuer, purpose, signer, status_size),
    )


async def create(tx: Tx, issuer: str, purpose: str, length: int, *, signer: str = WEB_SIGNER, status_size: int = 1) -> Row:
    """A new, empty list numbered after the issuer's last one of ``purpose`` (whoever signs it and
    whatever its entries' size: the number alone names the list in its URL): ``id, seq, length``."""
    row = await tx.fetchone(
        "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM status_lists WHERE issuer = ? AND purpose = ?", (issuer, purpose)
    )
    seq = int(row["seq"]) if row is not None else 1
    # No chunks yet: an unwritten chunk reads as zeros. bits/used predate chunking and stay empty.
    await tx.execute(
        "INSERT INTO status_lists (issuer, purpose, seq, length, bits, used, signer, status_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (issuer, purpose, seq, length, b"", b"", signer, status_size),
    )
    created = await tx.fetchone(
        "SELECT id, seq, length FROM status_lists WHERE issuer = ? AND purpose = ? AND seq = ?", (issuer, purpose, seq)
    )
    if created is None:  # pragma: no cover - inserted just now, in this transaction
        raise RuntimeError(f"status list {issuer}/{purpose}/{seq} vanished inside its own transaction")
    return created


async def save_usage(tx: Tx, list_id: int, used_count: int, full: bool) -> None:
    await tx.execute("UPDATE status_lists SET used_count = ?, \"full\" = ? WHERE id = ?", (used_count, 1 if full else 0, list_id))


async def length(tx: Tx, list_id: int, *, lock: bool = False) -> tuple[int, int] | None:
    """The list's length (entries) and entry size (bits); with ``lock``, its row is held until the
    transaction ends (where the backend locks rows), so that two changes of one list cannot both
    write its bits."""
    row = await tx.fetchone(
        f"SELECT length, status_size FROM status_lists WHERE id = ?{tx.dialect.for_update if lock else ''}", (list_id,)
    )
    return (int(row["length"]), int(row["status_size"])) if row is not None else None


async def read_chunks(tx: Tx, list_id: int, kind: str, nbytes: int) -> bytearray:
    """One of the list's bitstrings (``BITS`` or ``USED``), ``nbytes`` long, read by one statement."""
    data = bytearray(nbytes)
    for row in await tx.fetchall("SELECT chunk, data FROM status_list_chunks WHERE list_id = ? AND kind = ?", (list_id, kind)):
        start = row["chunk"] * CHUNK_BYTES
        data[start : start + len(row["data"])] = row["data"]
    return data


async def write_chunks(tx: Tx, list_id: int, kind: str, data: bytes | bytearray, chunks: Iterable[int]) -> None:
    await tx.executemany(
        "INSERT INTO status_list_chunks (list_id, kind, chunk, data) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (list_id, kind, chunk) DO UPDATE SET data = excluded.data",
        [(list_id, kind, c, bytes(data[c * CHUNK_BYTES : (c + 1) * CHUNK_BYTES])) for c in sorted(set(chunks))],
    )


async def bump_versions(tx: Tx, list_ids: Iterable[int]) -> None:
    """Mark the lists changed: each is re-signed until its published version catches up."""
    await tx.executemany("UPDATE status_lists SET version = version + 1 WHERE id = ?", [(i,) for i in list_ids])


async def of_issuer(tx: Tx, issuer: str, *, signer: str = WEB_SIGNER) -> list[int]:
    """The ids of the lists of ``issuer`` that ``signer`` signs (a key rotation re-signs the
    did:web's; a did:key's lists stay signed by that did:key's one key)."""
    return [
        r["id"] for r in await tx.fetchall("SELECT id FROM status_lists WHERE issuer = ? AND signer = ? ORDER BY id", (issuer, signer))
    ]


async def unpublished(tx: Tx) -> list[int]:
    """Lists changed since they were last signed (after a crash: the start-up repair)."""
    return [r["id"] for r in await tx.fetchall("SELECT id FROM status_lists WHERE published_version < version")]


async def published_before(tx: Tx, cutoff: str) -> list[int]:
    """Published lists last signed at or before ``cutoff``."""
    rows = await tx.fetchall("SELECT id FROM status_lists WHERE credential IS NOT NULL AND published <= ?", (cutoff,))
    return [r["id"] for r in rows]


async def head(tx: Tx, list_id: int) -> Row | None:
    """``issuer, purpose, seq, signer, status_size, version, published_version``."""
    return await tx.fetchone(
        "SELECT issuer, purpose, seq, signer, status_size, version, published_version FROM status_lists WHERE id = ?",
        (list_id,),
    )


async def version(tx: Tx, list_id: int) -> int | None:
    row = await tx.fetchone("SELECT version FROM status_lists WHERE id = ?", (list_id,))
    return int(row["version"]) if row is not None else None


async def publish(tx: Tx, list_id: int, *, body: str, etag: str, published: str, version: int) -> bool:
    """Keep the signed list of ``version``, unless a later version is kept already."""
    return await tx.execute(
        "UPDATE status_lists SET credential = ?, etag = ?, published = ?, published_version = ? "
        "WHERE id = ? AND published_version < ?",
        (body, etag, published, version, list_id, version),
    ) == 1


async def published(tx: Tx, issuer: str, purpose: str, seq: int) -> Row | None:
    """The signed list as last published: ``credential, etag, published``."""
    return await tx.fetchone(
        "SELECT credential, etag, published FROM status_lists "
        "WHERE issuer = ? AND purpose = ? AND seq = ? AND credential IS NOT NULL",
        (issuer, purpose, seq),
    )

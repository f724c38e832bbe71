"""Publishing Bitstring Status Lists: allocate indexes, flip bits, re-sign, serve the signed list.

Bitstring Status List v1.0 §2 (entries and the list credential) and §6.1 (herd privacy:
random, never-reused indexes in lists of at least 131,072 entries). Each issuer has its own
lists per purpose, numbered 1, 2, …; a list is served at ``{base}/status/{issuer}/{purpose}/{n}``.

State lives in the store (``status_lists``, ``status_entries``):

* ``used`` (chunks in ``status_list_chunks``) is the ``status.allocate.UsedBitmap`` of every
  index ever handed out. Allocation reads it, draws with ``status.allocate.choose_free_index`` and writes it back inside the
  caller's transaction, which commits before the credential is signed: concurrent issuance
  cannot share an index, and a crash wastes an index rather than reusing it.
* ``bits`` (chunks too) are the statuses. Every change bumps ``version``; ``republish`` re-signs until
  ``published_version`` equals it, and the signed JSON (with its ETag) is what GET serves.
  A crash between a committed change and its re-signing is repaired by
  ``republish_pending`` at start-up.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Iterable, Sequence

import aiosqlite

from node.store import Store, register_migration, utcnow_iso
from status.allocate import UsedBitmap, choose_free_index
from status.bitstring import MIN_STATUS_LIST_LENGTH, Bitstring
from status.credential import issue_status_list_credential, status_list_entry

log = logging.getLogger(__name__)

# The bitstrings are stored in chunks so that one status change or one allocation rewrites
# 16 KiB, not a whole list: a 16,777,216-entry list is 2 MiB, and rewriting (and fsyncing) it
# per revocation cost ~140 ms of the ~150 ms a revocation took. Chunks never written are zeros.
CHUNK_BYTES = 16 * 1024
CHUNK_BITS = CHUNK_BYTES * 8
BITS, USED = "bits", "used"

register_migration(
    "node.0002_status_list_chunks",
    [
        """CREATE TABLE status_list_chunks (
            list_id INTEGER NOT NULL REFERENCES status_lists(id),
            kind TEXT NOT NULL CHECK (kind IN ('bits', 'used')),
            chunk INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (list_id, kind, chunk)
        )""",
        # Move lists written before chunking; status_lists.bits/used are left empty from here on.
        f"""INSERT INTO status_list_chunks (list_id, kind, chunk, data)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4095)
            SELECT l.id, k.kind, n.i, substr(CASE k.kind WHEN 'bits' THEN l.bits ELSE l.used END, n.i * {CHUNK_BYTES} + 1, {CHUNK_BYTES})
            FROM status_lists l JOIN (SELECT 'bits' AS kind UNION ALL SELECT 'used') k JOIN n
            ON n.i * {CHUNK_BYTES} < length(CASE k.kind WHEN 'bits' THEN l.bits ELSE l.used END)""",
        "UPDATE status_lists SET bits = x'', used = x''",
    ],
)

JsonObject = dict[str, Any]
# (keypair, issuer DID, verification method id) of an issuer, for signing its lists.
Identity = Callable[[str], Awaitable[tuple[Any, str, str]]]


@dataclass(frozen=True)
class Allocation:
    list_id: int
    seq: int
    index: int
    purpose: str
    url: str


@dataclass(frozen=True)
class EntryInfo:
    list_id: int
    purpose: str
    url: str
    index: int


@dataclass(frozen=True)
class PublishedList:
    body: bytes  # the signed list credential exactly as served (the ETag covers these bytes)
    etag: str  # strong validator, quoted
    ttl_ms: int | None
    published: str

    @property
    def credential(self) -> JsonObject:
        value: JsonObject = json.loads(self.body)
        return value


@dataclass
class PendingList:
    """A list's statuses loaded for a batch of changes, and which chunks the batch touched."""

    bits: Bitstring
    dirty: set[int]


async def read_chunks(db: aiosqlite.Connection, list_id: int, kind: str, nbytes: int) -> bytearray:
    data = bytearray(nbytes)
    async with db.execute(
        "SELECT chunk, data FROM status_list_chunks WHERE list_id = ? AND kind = ?", (list_id, kind)
    ) as cur:
        for row in await cur.fetchall():
            start = row["chunk"] * CHUNK_BYTES
            data[start : start + len(row["data"])] = row["data"]
    return data


async def write_chunks(db: aiosqlite.Connection, list_id: int, kind: str, data: bytes | bytearray, chunks: Iterable[int]) -> None:
    await db.executemany(
        "INSERT INTO status_list_chunks (list_id, kind, chunk, data) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (list_id, kind, chunk) DO UPDATE SET data = excluded.data",
        [(list_id, kind, c, bytes(data[c * CHUNK_BYTES : (c + 1) * CHUNK_BYTES])) for c in sorted(set(chunks))],
    )


class StatusLists:
    def __init__(
        self,
        store: Store,
        *,
        base_url: str,
        identity: Identity,
        loader: Any,
        clock: Callable[[], datetime],
        length: int = MIN_STATUS_LIST_LENGTH,
        ttl_ms: int | None = None,
        valid_for: timedelta | None = None,
        min_length: int = MIN_STATUS_LIST_LENGTH,
    ) -> None:
        if length < min_length or length % 8:
            raise ValueError(f"a status list holds a multiple of 8 entries, at least {min_length}; got {length}")
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.loader = loader
        self.clock = clock
        self.length = length
        self.ttl_ms = ttl_ms or None
        self.valid_for = valid_for
        self.min_length = min_length
        self._locks: dict[int, asyncio.Lock] = {}

    def url(self, issuer: str, purpose: str, seq: int) -> str:
        return f"{self.base_url}/status/{issuer}/{purpose}/{seq}"

    def entry(self, allocation: Allocation) -> JsonObject:
        """The credential's ``BitstringStatusListEntry`` for an allocated index."""
        return status_list_entry(list_url=allocation.url, index=allocation.index, purpose=allocation.purpose)

    # --- allocation (inside the caller's transaction) -----------------------------------

    async def allocate(
        self, db: aiosqlite.Connection, issuer: str, purpose: str, credential_ids: list[str | None], *, when: str
    ) -> tuple[list[Allocation], set[int]]:
        """One random free index per credential id; returns them and the ids of lists created."""
        out: list[Allocation] = []
        created: set[int] = set()
        row = await self._current_list(db, issuer, purpose)
        if row is None:
            row = await self._new_list(db, issuer, purpose)
            created.add(row["id"])
        list_id, seq, length = row["id"], row["seq"], row["length"]
        used = UsedBitmap.from_bytes(await read_chunks(db, list_id, USED, length // 8), length)
        rows: list[tuple[int, int, str | None, str, str]] = []
        for cid in credential_ids:
            index = choose_free_index(used, length)
            if index is None:
                await self._save_used(db, list_id, used, rows)
                rows = []
                row = await self._new_list(db, issuer, purpose)
                created.add(row["id"])
                list_id, seq, length = row["id"], row["seq"], row["length"]
                used = UsedBitmap(length)
                index = choose_free_index(used, length)
                if index is None:  # pragma: no cover - a fresh list is empty
                    raise RuntimeError("a fresh status list has no free index")
            used.add(index)
            rows.append((list_id, index, cid, purpose, when))
            out.append(Allocation(list_id, seq, index, purpose, self.url(issuer, purpose, seq)))
        await self._save_used(db, list_id, used, rows)
        return out, created

    async def _current_list(self, db: aiosqlite.Connection, issuer: str, purpose: str) -> Any:
        async with db.execute(
            "SELECT id, seq, length FROM status_lists WHERE issuer = ? AND purpose = ? AND full = 0 ORDER BY seq DESC LIMIT 1",
            (issuer, purpose),
        ) as cur:
            return await cur.fetchone()

    async def _new_list(self, db: aiosqlite.Connection, issuer: str, purpose: str) -> Any:
        async with db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM status_lists WHERE issuer = ? AND purpose = ?", (issuer, purpose)
        ) as cur:
            row = await cur.fetchone()
        seq = int(row[0]) if row is not None else 1
        # No chunks yet: an unwritten chunk reads as zeros.
        await db.execute(
            "INSERT INTO status_lists (issuer, purpose, seq, length, bits, used) VALUES (?, ?, ?, ?, x'', x'')",
            (issuer, purpose, seq, self.length),
        )
        log.info("opened status list %s", self.url(issuer, purpose, seq))
        async with db.execute(
            "SELECT id, seq, length FROM status_lists WHERE issuer = ? AND purpose = ? AND seq = ?", (issuer, purpose, seq)
        ) as cur:
            return await cur.fetchone()

    async def _save_used(
        self, db: aiosqlite.Connection, list_id: int, used: UsedBitmap, rows: list[tuple[int, int, str | None, str, str]]
    ) -> None:
        full = 1 if len(used) >= used.length else 0
        await db.execute("UPDATE status_lists SET used_count = ?, full = ? WHERE id = ?", (len(used), full, list_id))
        data = used.to_bytes()
        await write_chunks(db, list_id, USED, data, {index // CHUNK_BITS for _, index, *_ in rows})
        # The primary key (list_id, idx) is the last line of defence against a reused index.
        await db.executemany(
            "INSERT INTO status_entries (list_id, idx, credential_id, purpose, allocated) VALUES (?, ?, ?, ?, ?)", rows
        )

    # --- status bits -------------------------------------------------------------------

    async def entries_for(self, db: aiosqlite.Connection, credential_id: str) -> list[EntryInfo]:
        async with db.execute(
            "SELECT e.list_id, e.idx, e.purpose, l.issuer, l.seq FROM status_entries e JOIN status_lists l ON l.id = e.list_id "
            "WHERE e.credential_id = ? ORDER BY e.purpose",
            (credential_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [EntryInfo(r["list_id"], r["purpose"], self.url(r["issuer"], r["purpose"], r["seq"]), r["idx"]) for r in rows]

    async def entries_for_many(
        self, db: aiosqlite.Connection, credential_ids: Sequence[str], chunk: int = 500
    ) -> dict[str, list[EntryInfo]]:
        out: dict[str, list[EntryInfo]] = {}
        for start in range(0, len(credential_ids), chunk):
            part = list(credential_ids[start : start + chunk])
            async with db.execute(
                "SELECT e.credential_id, e.list_id, e.idx, e.purpose, l.issuer, l.seq FROM status_entries e "
                "JOIN status_lists l ON l.id = e.list_id "
                f"WHERE e.credential_id IN ({','.join('?' * len(part))}) ORDER BY e.purpose",
                part,
            ) as cur:
                for r in await cur.fetchall():
                    out.setdefault(r["credential_id"], []).append(
                        EntryInfo(r["list_id"], r["purpose"], self.url(r["issuer"], r["purpose"], r["seq"]), r["idx"])
                    )
        return out

    async def set_bits(
        self, db: aiosqlite.Connection, changes: Iterable[tuple[int, int, int]], pending: dict[int, PendingList]
    ) -> set[int]:
        """Set ``(list_id, index, value)`` in the lists held in ``pending`` (loading each once).

        Returns the lists that changed; ``write_bits`` then stores each of them once (only the
        chunks that changed), so a batch of many changes writes and re-signs every list once.
        """
        changed: set[int] = set()
        for list_id, index, value in changes:
            entry = pending.get(list_id)
            if entry is None:
                bits = await self.read_bits(db, list_id)
                entry = pending[list_id] = PendingList(bits, set())
            if entry.bits.get(index) != value:
                entry.bits.set(index, value)
                entry.dirty.add(index // CHUNK_BITS)
                changed.add(list_id)
        return changed

    async def write_bits(self, db: aiosqlite.Connection, pending: dict[int, PendingList], changed: Iterable[int]) -> None:
        for list_id in sorted(set(changed)):
            entry = pending[list_id]
            await write_chunks(db, list_id, BITS, entry.bits.to_bytes(), entry.dirty)
            await db.execute("UPDATE status_lists SET version = version + 1 WHERE id = ?", (list_id,))

    async def read_bits(self, db: aiosqlite.Connection, list_id: int) -> Bitstring:
        """The list's statuses as stored (committed or, through a transaction's ``db``, pending)."""
        async with db.execute("SELECT length FROM status_lists WHERE id = ?", (list_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise KeyError(f"no status list {list_id}")
        return Bitstring.from_bytes(await read_chunks(db, list_id, BITS, row["length"] // 8))

    # --- publishing --------------------------------------------------------------------

    async def republish(self, list_ids: Iterable[int]) -> None:
        """Re-sign each list whose bits changed since it was last signed (each once)."""
        for list_id in sorted(set(list_ids)):
            await self._republish_one(list_id)

    async def republish_pending(self) -> int:
        rows = await self.store.fetchall("SELECT id FROM status_lists WHERE published_version < version")
        await self.republish(r["id"] for r in rows)
        return len(rows)

    async def refresh_expiring(self) -> int:
        """Re-sign every list that has used half of its validity (``validUntil``); returns how many.

        With ``validUntil`` configured a list that is not re-signed expires, and verifiers must
        then treat every credential on it as of unknown status. The server calls this
        periodically (``node.app``).
        """
        if self.valid_for is None:
            return 0
        cutoff = utcnow_iso(self.clock() - self.valid_for / 2)
        async with self.store.transaction() as db:
            async with db.execute(
                "SELECT id FROM status_lists WHERE credential IS NOT NULL AND published <= ?", (cutoff,)
            ) as cur:
                due = [r["id"] for r in await cur.fetchall()]
            # A version bump marks them stale, so a crash before re-signing is repaired at start-up.
            await db.executemany("UPDATE status_lists SET version = version + 1 WHERE id = ?", [(i,) for i in due])
        await self.republish(due)
        return len(due)

    async def _republish_one(self, list_id: int) -> None:
        lock = self._locks.setdefault(list_id, asyncio.Lock())
        async with lock:
            # The version and the bits must belong together. A change commits its chunks and
            # its version bump at once, so bits read between two equal version reads are
            # exactly that version's (the chunks are read by one statement).
            while True:
                row = await self.store.fetchone(
                    "SELECT issuer, purpose, seq, version, published_version FROM status_lists WHERE id = ?", (list_id,)
                )
                if row is None or row["published_version"] >= row["version"]:
                    return  # someone already published this version or a later one
                async with self.store.read() as db:
                    bits = await self.read_bits(db, list_id)
                again = await self.store.fetchone("SELECT version FROM status_lists WHERE id = ?", (list_id,))
                if again is not None and again["version"] == row["version"]:
                    break
            version = row["version"]
            pair, did, vm = await self.identity(row["issuer"])
            now = self.clock()
            signed = await asyncio.to_thread(
                issue_status_list_credential,
                list_url=self.url(row["issuer"], row["purpose"], row["seq"]),
                issuer=did,
                purpose=row["purpose"],
                bitstring=bits,
                key=pair,
                verification_method=vm,
                now=now,
                loader=self.loader,
                valid_until=now + self.valid_for if self.valid_for else None,
                ttl=timedelta(milliseconds=self.ttl_ms) if self.ttl_ms else None,
                min_length=self.min_length,
            )
            body = json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            async with self.store.transaction() as db:
                await db.execute(
                    "UPDATE status_lists SET credential = ?, etag = ?, published = ?, published_version = ? "
                    "WHERE id = ? AND published_version < ?",
                    (body.decode("utf-8"), etag, utcnow_iso(now), version, list_id, version),
                )

    async def get(self, issuer: str, purpose: str, seq: int) -> PublishedList | None:
        row = await self.store.fetchone(
            "SELECT credential, etag, published FROM status_lists WHERE issuer = ? AND purpose = ? AND seq = ? AND credential IS NOT NULL",
            (issuer, purpose, seq),
        )
        if row is None:
            return None
        return PublishedList(row["credential"].encode("utf-8"), row["etag"], self.ttl_ms, row["published"])

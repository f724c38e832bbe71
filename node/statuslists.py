"""Publishing Bitstring Status Lists: allocate indexes, flip bits, re-sign, serve the signed list.

Bitstring Status List v1.0 §2 (entries and the list credential) and §6.1 (herd privacy:
random, never-reused indexes in lists of at least 131,072 entries). Each issuer has its own
lists per purpose, numbered 1, 2, …; a list is served at ``{base}/status/{issuer}/{purpose}/{n}``.

A list is signed by the DID its credentials name, so credentials naming the issuer's did:key get
entries in lists signed with that did:key, and those naming its did:web in lists signed with the
did:web. The Recommendation does not require it (§2.2: the two issuers "MAY be different"; §3.2
compares none), but verifiers that trust a list only from the credential's own issuer do exist
(Digital Bazaar's ``vc-bitstring-status-list``: "Issuers ... do not match"; this node's own by
default, ``status_list_publishers``), and a list that shares its credentials' issuer satisfies
both kinds.
Entries of one list have one size (§2.1 ``statusSize``; a ``message`` entry of 2 bits, say).
So an issuer has a list per (signing DID, purpose, size); the numbers stay one sequence per
issuer and purpose, so every list keeps a URL of the same form whoever signs it (the list
credential's ``issuer`` says who did).

State lives in the store (``node.store.status_lists``, ``node.store.credentials``):

* ``used`` is the ``status.allocate.UsedBitmap`` of every index ever handed out. Allocation
  reads it, draws with ``status.allocate.choose_free_index`` and writes it back inside the
  caller's transaction, which commits before the credential is signed: concurrent issuance
  (in this process or another) cannot share an index, and a crash wastes an index rather
  than reusing it.
* ``bits`` are the statuses. Every change bumps the list's ``version``; ``republish`` re-signs
  until the published version equals it, and the signed JSON (with its ETag) is what GET
  serves. A crash between a committed change and its re-signing is repaired by
  ``republish_pending`` at start-up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Iterable, Sequence

from node.etags import strong_etag
from node.offload import OPERATOR, Offload, shared_offload
from node.store import Database, StoreError, Tx, utcnow_iso
from node.store import credentials as entry_rows
from node.store import issuers as issuer_rows
from node.store import status_lists as table
from node.store.status_lists import BITS, CHUNK_BITS, USED
from status.allocate import UsedBitmap, choose_free_index
from status.bitstring import MIN_STATUS_LIST_LENGTH, Bitstring
from node.store.status_lists import WEB_SIGNER
from status.credential import StatusEntryOptions, issue_status_list_credential, status_list_entry
from vc.errors import ProblemError

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
# identity(issuer name, DID) -> (keypair, DID, verification method id): what signs the issuer's
# lists signed by that DID (None: the issuer's did:web).
Identity = Callable[[str, str | None], Awaitable[tuple[Any, str, str]]]
PLAIN = StatusEntryOptions()  # a one-bit entry without messages or references


@dataclass(frozen=True)
class Allocation:
    list_id: int
    seq: int
    index: int
    purpose: str
    url: str
    status_size: int = 1


@dataclass(frozen=True)
class EntryInfo:
    list_id: int
    purpose: str
    url: str
    index: int
    status_size: int = 1


@dataclass(frozen=True)
class PublishedList:
    body: bytes  # the signed list credential exactly as served (the ETag covers these bytes)
    etag: str  # strong validator, quoted
    ttl_ms: int | None
    published: str
    # The body's own validFrom and validUntil: what a cache of it must not outlive.
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def max_age(self, now: datetime) -> int | None:
        """Seconds a cache may keep this list (``Cache-Control: max-age``); None: no ttl.

        The ttl, but never past the list's validUntil (a cached copy would be served expired)
        nor past the moment the node re-signs it, half way through its validity
        (``StatusLists.refresh_expiring``): caches then fetch the fresh copy.
        """
        if not self.ttl_ms:
            return None
        seconds = self.ttl_ms // 1000
        if self.valid_until is not None:
            renewed = self.valid_until if self.valid_from is None else self.valid_from + (self.valid_until - self.valid_from) / 2
            seconds = min(seconds, int((min(renewed, self.valid_until) - now).total_seconds()))
        return max(0, seconds)

    @property
    def credential(self) -> JsonObject:
        value: JsonObject = json.loads(self.body)
        return value


@dataclass
class PendingList:
    """A list's statuses loaded for a batch of changes, and which chunks the batch touched."""

    bits: Bitstring
    dirty: set[int]


class StatusLists:
    def __init__(
        self,
        db: Database,
        *,
        base_url: str,
        identity: Identity,
        loader: Any,
        clock: Callable[[], datetime],
        length: int = MIN_STATUS_LIST_LENGTH,
        ttl_ms: int | None = None,
        valid_for: timedelta | None = None,
        min_length: int = MIN_STATUS_LIST_LENGTH,
        offload: Offload[Any] | None = None,
        observe_published: Callable[[float], None] | None = None,
    ) -> None:
        if length < min_length or length % 8:
            raise ValueError(f"a status list holds a multiple of 8 entries, at least {min_length}; got {length}")
        self.db = db
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.loader = loader
        self.clock = clock
        self.length = length
        self.ttl_ms = ttl_ms or None
        self.valid_for = valid_for
        self.min_length = min_length
        self.offload = offload or shared_offload(OPERATOR)
        self.observe_published = observe_published  # seconds to sign and store one list: node.observe
        self._locks: dict[int, asyncio.Lock] = {}
        self._validity: dict[str, tuple[datetime | None, datetime | None]] = {}  # ETag -> the body's validity
        self._unsignable: set[int] = set()  # lists republish_pending has already reported
        self._on_published: list[Callable[[str], None]] = []
        self._announced: dict[int, int] = {}  # list id -> the published version listeners last heard of

    def on_published(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(list_url)`` when ``republish`` in this process finds a version of the
        list published that it has not announced yet, whoever signed it: what keeps a copy of
        the list (``node.own_lists``) drops it at once rather than at the end of its lifetime."""
        self._on_published.append(listener)

    def _published(self, list_id: int, version: int, list_url: str) -> None:
        # Issuing republishes every list it allocated in, almost always already published: only
        # a version not announced before may have left a copy out of date.
        if self._announced.get(list_id) == version:
            return
        self._announced[list_id] = version
        for listener in self._on_published:
            listener(list_url)

    def url(self, issuer: str, purpose: str, seq: int) -> str:
        return f"{self.base_url}/status/{issuer}/{purpose}/{seq}"

    def entry(self, allocation: Allocation, options: StatusEntryOptions = PLAIN) -> JsonObject:
        """The credential's ``BitstringStatusListEntry`` for an allocated index; ``options`` (its
        ``statusSize`` must be the allocation's) add ``statusMessage`` and ``statusReference``."""
        if options.status_size != allocation.status_size:
            raise ValueError(f"a {options.status_size}-bit entry in a list of {allocation.status_size}-bit entries")
        return status_list_entry(list_url=allocation.url, index=allocation.index, purpose=allocation.purpose, **options.kwargs())

    # --- allocation (inside the caller's transaction) -----------------------------------

    async def allocate(
        self,
        tx: Tx,
        issuer: str,
        purpose: str,
        credential_ids: list[str | None],
        *,
        when: str,
        signer: str | None = None,
        status_size: int = 1,
    ) -> tuple[list[Allocation], set[int]]:
        """One random free index per credential id, in the issuer's list of ``purpose`` signed by
        ``signer`` (a DID; None: the issuer's did:web) with ``status_size``-bit entries; returns
        them and the ids of lists created."""
        out: list[Allocation] = []
        created: set[int] = set()
        kind = {"signer": signer or WEB_SIGNER, "status_size": status_size}
        await issuer_rows.lock(tx, issuer)
        row = await table.current(tx, issuer, purpose, **kind)
        if row is None:
            row = await self._new_list(tx, issuer, purpose, **kind)
            created.add(row["id"])
        list_id, seq, length = row["id"], row["seq"], row["length"]
        used = UsedBitmap.from_bytes(await table.read_chunks(tx, list_id, USED, length // 8), length)
        rows: list[tuple[int, int, str | None, str, str]] = []
        for cid in credential_ids:
            index = choose_free_index(used, length)
            if index is None:
                await self._save_used(tx, list_id, used, rows)
                rows = []
                row = await self._new_list(tx, issuer, purpose, **kind)
                created.add(row["id"])
                list_id, seq, length = row["id"], row["seq"], row["length"]
                used = UsedBitmap(length)
                index = choose_free_index(used, length)
                if index is None:  # pragma: no cover - a fresh list is empty
                    raise RuntimeError("a fresh status list has no free index")
            used.add(index)
            rows.append((list_id, index, cid, purpose, when))
            out.append(Allocation(list_id, seq, index, purpose, self.url(issuer, purpose, seq), status_size))
        await self._save_used(tx, list_id, used, rows)
        return out, created

    async def _new_list(self, tx: Tx, issuer: str, purpose: str, *, signer: str, status_size: int) -> Any:
        row = await table.create(tx, issuer, purpose, self.length, signer=signer, status_size=status_size)
        log.info("opened status list %s (signed by %s, %d-bit entries)", self.url(issuer, purpose, row["seq"]), signer, status_size)
        return row

    async def _save_used(self, tx: Tx, list_id: int, used: UsedBitmap, rows: list[tuple[int, int, str | None, str, str]]) -> None:
        await table.save_usage(tx, list_id, len(used), len(used) >= used.length)
        await table.write_chunks(tx, list_id, USED, used.to_bytes(), {index // CHUNK_BITS for _, index, *_ in rows})
        await entry_rows.insert_entries(tx, rows)

    # --- status bits -------------------------------------------------------------------

    def _entry(self, row: Any) -> EntryInfo:
        url = self.url(row["issuer"], row["purpose"], row["seq"])
        return EntryInfo(row["list_id"], row["purpose"], url, row["idx"], row["status_size"])

    async def entries_for(self, tx: Tx, credential_id: str) -> list[EntryInfo]:
        return [self._entry(r) for r in await entry_rows.entries_of(tx, credential_id)]

    async def entries_for_many(self, tx: Tx, credential_ids: Sequence[str]) -> dict[str, list[EntryInfo]]:
        out: dict[str, list[EntryInfo]] = {}
        for r in await entry_rows.entries_of_many(tx, credential_ids):
            out.setdefault(r["credential_id"], []).append(self._entry(r))
        return out

    async def set_bits(self, tx: Tx, changes: Iterable[tuple[int, int, int]], pending: dict[int, PendingList]) -> set[int]:
        """Set ``(list_id, index, value)`` in the lists held in ``pending`` (loading each once).

        Returns the lists that changed; ``write_bits`` then stores each of them once (only the
        chunks that changed), so a batch of many changes writes and re-signs every list once.
        """
        changed: set[int] = set()
        for list_id, index, value in changes:
            entry = pending.get(list_id)
            if entry is None:
                bits = await self.read_bits(tx, list_id, lock=True)
                entry = pending[list_id] = PendingList(bits, set())
            if entry.bits.get(index) != value:
                entry.bits.set(index, value)
                # An entry of several bits may straddle two chunks (a 3-bit one, say).
                size = entry.bits.status_size
                entry.dirty.update({index * size // CHUNK_BITS, (index * size + size - 1) // CHUNK_BITS})
                changed.add(list_id)
        return changed

    async def write_bits(self, tx: Tx, pending: dict[int, PendingList], changed: Iterable[int]) -> None:
        changed = sorted(set(changed))
        for list_id in changed:
            entry = pending[list_id]
            await table.write_chunks(tx, list_id, BITS, entry.bits.to_bytes(), entry.dirty)
        await table.bump_versions(tx, changed)

    async def read_bits(self, tx: Tx, list_id: int, *, lock: bool = False) -> Bitstring:
        """The list's statuses as stored (committed or, through a transaction's ``tx``, pending);
        ``lock`` holds the list for a change until the transaction ends."""
        shape = await table.length(tx, list_id, lock=lock)
        if shape is None:
            raise KeyError(f"no status list {list_id}")
        length, size = shape
        return Bitstring.from_bytes(await table.read_chunks(tx, list_id, BITS, length * size // 8), status_size=size)

    # --- publishing --------------------------------------------------------------------

    async def republish(self, list_ids: Iterable[int]) -> None:
        """Re-sign each list whose bits changed since it was last signed (each once)."""
        for list_id in sorted(set(list_ids)):
            await self._republish_one(list_id)

    async def republish_pending(self) -> int:
        """Re-sign every list left stale (a crash between a change and its publication), at
        start-up and every few seconds while serving (``node.node.repair_stale_lists``); returns
        how many were re-signed. A list that cannot be signed (its URL or issuer refused by the
        signer) is logged, once per process, and left as last published: one such list must not
        keep every issuer's documents and lists from being served, nor fill the log."""
        async with self.db.read() as tx:
            stale = await table.unpublished(tx)
        done = 0
        for list_id in sorted(set(stale)):
            try:
                # Counted only when this pass signed it: a list its own process published
                # meanwhile was not left stale by anyone.
                signed = await self._republish_one(list_id)
            except StoreError:
                raise  # the store is gone for every list alike: the caller says so, once
            except Exception as e:  # noqa: BLE001 - one list must not stop the others' repair
                first = list_id not in self._unsignable
                self._unsignable.add(list_id)
                detail = e.detail if isinstance(e, ProblemError) else f"{type(e).__name__}: {e}"
                log.log(logging.ERROR if first else logging.DEBUG, "status list %s cannot be signed and stays as last published: %s",
                        list_id, detail, exc_info=first and not isinstance(e, ProblemError))
                continue
            self._unsignable.discard(list_id)
            done += signed
        return done

    async def refresh_expiring(self) -> int:
        """Re-sign every list that has used half of its validity (``validUntil``); returns how many.

        With ``validUntil`` configured a list that is not re-signed expires, and verifiers must
        then treat every credential on it as of unknown status. The server calls this
        periodically (``node.app``).
        """
        if self.valid_for is None:
            return 0
        cutoff = utcnow_iso(self.clock() - self.valid_for / 2)
        async with self.db.transaction() as tx:
            due = await table.published_before(tx, cutoff)
            # A version bump marks them stale, so a crash before re-signing is repaired at start-up.
            await table.bump_versions(tx, due)
        await self.republish(due)
        return len(due)

    async def _republish_one(self, list_id: int) -> bool:
        """Sign and store the list's current version unless it is published already; whether
        this call signed it."""
        # The lock only saves this process from signing one version twice; between processes,
        # table.publish keeps whichever later version reaches the store, whatever the order.
        lock = self._locks.setdefault(list_id, asyncio.Lock())
        async with lock:
            # The version and the bits must belong together. A change commits its chunks and
            # its version bump at once, so bits read between two equal version reads are
            # exactly that version's (the chunks are read by one statement).
            while True:
                async with self.db.read() as tx:
                    row = await table.head(tx, list_id)
                    if row is None:
                        return False
                    if row["published_version"] >= row["version"]:
                        # Someone (another process, perhaps) already published this version or
                        # a later one: this process's copies are still out of date.
                        self._published(list_id, row["published_version"], self.url(row["issuer"], row["purpose"], row["seq"]))
                        return False
                    bits = await self.read_bits(tx, list_id)
                    again = await table.version(tx, list_id)
                if again == row["version"]:
                    break
            version = row["version"]
            started = time.perf_counter()
            signer = None if row["signer"] == WEB_SIGNER else row["signer"]
            pair, did, vm = await self.identity(row["issuer"], signer)
            now = self.clock()
            list_url = self.url(row["issuer"], row["purpose"], row["seq"])

            def sign() -> JsonObject:
                return issue_status_list_credential(
                    list_url=list_url,
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

            signed = await self.offload(sign)
            body = json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            etag = strong_etag(body)
            async with self.db.transaction() as tx:
                await table.publish(tx, list_id, body=body.decode("utf-8"), etag=etag, published=utcnow_iso(now), version=version)
            self._published(list_id, version, list_url)
            if self.observe_published is not None:
                self.observe_published(time.perf_counter() - started)
            return True

    async def get(self, issuer: str, purpose: str, seq: int) -> PublishedList | None:
        """The signed list credential as last published (what GET on its URL serves)."""
        async with self.db.read() as tx:
            row = await table.published(tx, issuer, purpose, seq)
        if row is None:
            return None
        body = row["credential"].encode("utf-8")
        validity = self._validity.get(row["etag"])
        if validity is None:
            validity = _validity(body)
            if len(self._validity) >= 4096:  # a list's ETag changes with every re-signing
                self._validity.clear()
            self._validity[row["etag"]] = validity
        return PublishedList(body, row["etag"], self.ttl_ms, row["published"], *validity)

    def max_age(self, published: PublishedList) -> int | None:
        return published.max_age(self.clock())


def _validity(body: bytes) -> tuple[datetime | None, datetime | None]:
    credential = json.loads(body)

    def when(name: str) -> datetime | None:
        value = credential.get(name)
        try:
            return datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None

    return when("validFrom"), when("validUntil")

"""Issuing credentials: prepare, admit (allocate status indexes), sign, complete.

A request goes through four steps, in this order:

1. **prepare** (off the loop): fill what the node fills (``issuer``, ``id``, ``validFrom``),
   refuse what it must not sign, check the data model. Nothing is stored yet.
2. **admit**: one transaction hands out the credentials' status-list indexes (to nobody yet).
   It commits before anything signed is handed out (for a small batch, before anything is
   signed), so a crash afterwards leaves the indexes used and never reused, a crash before
   leaves them free and nothing out, and a concurrent request (in this process or another)
   can never draw the same index.
3. **sign** (off the loop): canonicalize and sign each credential with the issuer's key,
   under the DID the credential names. A status list opened by the batch is published before
   the first credential is handed out, so its URL resolves as soon as the credential exists.
   A batch signed on every core is prepared and admitted in stages (``signing.stages``), in
   one admission transaction: each stage's parts go to the processes as soon as its indexes
   are allocated, and the next stage is prepared while they sign. Signing before the
   admission commits hands nothing out (step 4 comes after it); a refusal in any stage rolls
   the admission back whole, so no index is spent on a refused batch either way.
4. **complete**: one transaction records the credentials, gives them their indexes, keeps
   their bodies (``keep_credentials``, or a batch's journal) and whatever the caller records
   beside them (idempotency keys). Only then is anything handed out. For a batch signed on
   every core it opens while the last credentials are still signing (once no more than the
   tail, ``signing.tail``, is left for the processes to take): what does not depend on the
   signatures is written first, the bodies as they come back, so that its writes run beside
   the signing instead of after it. A credential that fails rolls it back, with everything
   else in it.

So an issued credential is whole or absent (issue 14): a crash or a failure before step 4
commits leaves indexes that belong to nobody (spent, never reused) and no record, so the same
request (an idempotency key, a re-run batch) issues afresh; after it, the record, the body and
the key are there together, and a replay hands back the credential itself. Concurrent
requests are group-committed: whatever is waiting when a transaction starts goes into it,
each request in its own savepoint (a refused request rolls back alone), and one fsync covers
them all, at admission and at completion alike.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence, TypeVar

from did.cache import json_copy
from node import signing
from node.config import Config, ConfigError
from node.errors import (
    DuplicateCredentialError,
    InvalidRequestError,
    IssuerMismatchError,
    RetiredKeyError,
    UnknownIssuerError,
    UnknownKeyError,
)
from node.ids import credential_urn
from node.jsonout import dumps
from node.issuers import IssuerInfo, Issuers, check_purposes
from node.offload import OPERATOR, Offload, shared_offload
from node.statuslists import PLAIN, Allocation, StatusLists
from node.store import Database, StoreUnavailable, Tx, utcnow_iso
from node.store import credentials as table
from node.store import issuers as issuer_rows
from status.credential import MESSAGE, StatusEntryOptions
from status.entry import EntryProblems, is_bitstring_entry, parse_status_entry
from status.urls import normalize_url
from vc.datamodel import check_credential, is_url
from vc.errors import MalformedValueError

JsonObject = dict[str, Any]
T = TypeVar("T")
# What a caller records in the completing transaction, beside the credentials (node.achievements:
# the idempotency keys), given the signed credentials.
Completion = Callable[[Tx, list[JsonObject]], Awaitable[None]]
# Per credential, its allocations in the order of its entries; the lists opened; and the
# issuer's key that signs them (read inside the admission transaction: node.issuers).
Admitted = tuple[list[list[Allocation]], set[int], str]

CRYPTOSUITES: tuple[str, ...] = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
ENTRY_PURPOSES: tuple[str, ...] = ("revocation", "suspension", MESSAGE)


@dataclass(frozen=True)
class EntrySpec:
    """One status entry the node adds: its purpose and its §2.1 options (size, messages,
    reference). Revocation and suspension are one bit: the node sets them, and a revoked or
    suspended credential is one whose bit is 1."""

    purpose: str
    options: StatusEntryOptions = PLAIN

    @classmethod
    def from_json(cls, raw: Any, where: str = "statusEntries") -> "EntrySpec":
        """``{"statusPurpose": "message", "statusSize": 2, "statusMessage": [...],
        "statusReference": "https://..."}`` (``type``, if given, BitstringStatusListEntry)."""
        if not isinstance(raw, Mapping):
            raise InvalidRequestError(f"{where} must be an object with statusPurpose", field=where)
        unknown = sorted(set(raw) - {"type", "statusPurpose", "statusSize", "statusMessage", "statusReference"})
        if unknown:
            raise InvalidRequestError(
                f"{where} has unknown member(s) {', '.join(map(repr, unknown))}; an entry template takes type, "
                "statusPurpose, statusSize, statusMessage and statusReference (the node allocates the list and index)",
                field=where,
            )
        if raw.get("type", "BitstringStatusListEntry") != "BitstringStatusListEntry":
            raise InvalidRequestError(f"{where}.type must be BitstringStatusListEntry", field=f"{where}.type")
        purpose = raw.get("statusPurpose")
        if purpose not in ENTRY_PURPOSES:
            raise InvalidRequestError(
                f"{where}.statusPurpose must be one of {', '.join(ENTRY_PURPOSES)}, not {purpose!r}", field=f"{where}.statusPurpose"
            )
        if purpose != MESSAGE and raw.get("statusSize", 1) != 1:
            raise InvalidRequestError(
                f"{where}: a {purpose} entry is one bit (the node revokes or suspends by setting it); "
                "use statusPurpose message for a multi-bit status",
                field=f"{where}.statusSize",
            )
        try:
            return cls(purpose, StatusEntryOptions.from_json(raw))
        except MalformedValueError as e:
            raise InvalidRequestError(f"{where}: {e.detail}", field=where) from e


def entry_specs(raw: Any, where: str = "statusEntries") -> tuple[EntrySpec, ...]:
    """A list of entry templates (``options.statusEntries``, ``status_entries_file``)."""
    if not isinstance(raw, list):
        raise InvalidRequestError(f"{where} must be an array of entry templates", field=where)
    return tuple(EntrySpec.from_json(item, f"{where}[{i}]") for i, item in enumerate(raw))


def read_entry_file(path: Path | None) -> tuple[EntrySpec, ...]:
    """The node's default entry templates (``Config.status_entries_file``): a JSON array."""
    if path is None:
        return ()
    try:
        return entry_specs(json.loads(path.read_text(encoding="utf-8")), "status_entries_file")
    except (OSError, ValueError) as e:
        raise ConfigError(f"status_entries_file {path}: {e}") from e
    except InvalidRequestError as e:
        raise ConfigError(f"status_entries_file {path}: {e.detail}") from e


@dataclass
class Prepared:
    """A credential ready to be admitted: the document, the DID it is signed as, and the status
    entries the node adds to it (in credentialStatus order)."""

    credential: JsonObject
    did: str
    signer: str | None  # the DID signing its status lists; None: the issuer's did:web
    entries: list[EntrySpec] = field(default_factory=list)


def subject_id(credential: JsonObject) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        return subject["id"]
    return None


def _issuer_id(credential: JsonObject) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict):
        value = issuer.get("id")
        return value if isinstance(value, str) else None
    return None


class Issuance:
    def __init__(
        self,
        db: Database,
        *,
        config: Config,
        clock: Callable[[], datetime],
        loader: Any,
        issuers: Issuers,
        status_lists: StatusLists,
        offload: Offload[Any] | None = None,
        observe_issued: Callable[[str, int], None] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.loader = loader
        self.issuers = issuers
        self.status_lists = status_lists
        self.offload = offload or shared_offload(OPERATOR)
        self.observe_issued = observe_issued  # (issuer name, credentials signed): node.observe
        # Entries every credential gets unless the request names its own (a message entry, say).
        self.default_entries = read_entry_file(config.status_entries_file)
        self._waiting: list[tuple[Callable[[Tx], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def issue(self, issuer_name: str, credential: Any, options: Mapping[str, Any] | None = None) -> JsonObject:
        """Issue one credential (VC-API /credentials/issue); returns the signed credential."""
        return (await self.issue_many(issuer_name, [credential], options))[0]

    async def issue_many(
        self,
        issuer_name: str,
        credentials: Sequence[Any],
        options: Mapping[str, Any] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
        journal: bool = False,
        complete: Completion | None = None,
    ) -> list[JsonObject]:
        """Issue a batch: status indexes for all of them are allocated in one transaction, and
        the credentials recorded (with their bodies, when kept) in another once all are signed.
        ``progress(1)`` is called once per credential signed (from the offload thread, or on
        the loop as each part comes back from the pool).
        ``journal``: keep the bodies even when ``keep_credentials`` is off, marked as a journal
        (``vcnode issue-batch`` drops them once its output holds them). ``complete(tx, signed)``
        runs inside the completing transaction (the caller's own records beside the credentials).

        Options: ``cryptosuite``; ``statusPurposes`` (one-bit entries; the issuer's configured
        purposes when absent); ``statusEntries`` (entry templates, ``EntrySpec``; the node's
        ``status_entries_file`` when absent). Message entries come last in credentialStatus.
        """
        issuer = await self.issuers.get(issuer_name)
        options = dict(options or {})
        suite_name = options.get("cryptosuite", "eddsa-rdfc-2022")
        if suite_name not in CRYPTOSUITES:
            raise InvalidRequestError(f"options.cryptosuite {suite_name!r} is not supported: use {' or '.join(CRYPTOSUITES)}")
        # Entries the request asks for by name (not the issuer's or node's defaults).
        asked = bool(options.get("statusPurposes")) or bool(options.get("statusEntries"))
        purposes = check_purposes(options["statusPurposes"]) if "statusPurposes" in options else issuer.status_purposes
        templates = entry_specs(options["statusEntries"], "options.statusEntries") if "statusEntries" in options else self.default_entries
        # Bitstring Status List 1.0 §2.1: message entries last (a reader that looks at one entry
        # sees them; the revocation and suspension entries keep their places).
        specs = sorted([*(EntrySpec(p) for p in purposes), *templates], key=lambda e: e.purpose == MESSAGE)
        now = self.clock()
        issued_at = utcnow_iso(now)
        keep = self.config.keep_credentials or journal
        stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        # A large batch is signed on every core (node.signing), in parts handed to the pool (the
        # processes take them in turn); a small one is one part, on the offload pool.
        pool = signing.pool_for(len(credentials), self.loader)
        chunks: list[asyncio.Future[list[JsonObject]]] = []
        sizes: dict[asyncio.Future[list[JsonObject]], int] = {}
        seed: bytes | None = None  # of the key the pool signs with

        def dispatch(items: list[tuple[JsonObject, str]], cuts: list[tuple[int, int]], pair: Any) -> None:
            nonlocal seed
            if abandoned:  # the caller went away while its admission ran on: nobody takes these
                return
            seed = pair.seed
            for start, stop in cuts:
                chunk = _task(self._sign_chunk(pool, items[start:stop], pair, suite_name, now, progress))
                chunks.append(chunk)
                sizes[chunk] = stop - start

        recording = abandoned = False
        try:
            if pool is None:
                # Copying and data-model checks of a batch are CPU work too: off the event loop.
                # All of it before anything is admitted: a refused credential refuses the batch at once.
                prepared = await self.offload(lambda: [self._prepare(issuer, c, now, stamp, specs, asked) for c in credentials])
                allocations, created, key_id = await self._admit(issuer.name, prepared, issued_at)
                self._add_entries(prepared, allocations)
                early = False
            else:
                # Admitted in stages, each stage's parts signed as soon as it is allocated
                # (``_admit_in_stages``): the processes sign while the rest is prepared.
                active = await self._active_pair(issuer)
                prepared, allocations, created, key_id, early = await self._grouped(
                    lambda tx: self._admit_in_stages(tx, issuer, credentials, now, stamp, specs, asked, issued_at, pool, active, dispatch)
                )
            if not early:
                # The key the admission recorded signs, even if another process rotated since: it
                # is still in the did:web document.
                if issuer.key(key_id) is None:  # rotated by another process since we read the issuer
                    self.issuers.forget(issuer.name)
                    issuer = await self.issuers.get(issuer.name)
                pair = await self.issuers.signing_key(issuer.name, key_id)
                items = _to_sign(issuer, prepared, key_id)
                dispatch(items, signing.units(len(items)) if pool is not None else [(0, len(items))], pair)
            ids = [p.credential["id"] for p in prepared]
            flag = 0 if self.config.keep_credentials else 1
            # Every list a credential names is published before the credential is handed out:
            # the lists this batch opened, and one that another request of the same group commit
            # opened and may still be signing (republish returns at once for a list already
            # published).
            named = {a.list_id for per_credential in allocations for a in per_credential}
            await self.status_lists.republish(created | named)
            # The completing transaction opens while the last credentials are still being signed,
            # so that its writes run beside them rather than after: once no more than the tail of
            # the batch (``signing.tail``) is left for the processes to take. It holds the
            # store's write lock about as long as it would take anyway.
            waiting, tail = set(chunks), signing.tail(len(prepared), pool)

            def left() -> int:
                # As the pool counts what its processes have not taken (they answer a run of
                # credentials at a time); the callers' own count when it holds none of them.
                untaken = None if pool is None or seed is None else pool.untaken(seed=seed, suite_name=suite_name, now=now)
                return sum(sizes[c] for c in waiting) if untaken is None else untaken

            while waiting and left() > tail:
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for chunk in done:
                    chunk.result()  # a part that failed fails the batch before anything is written

            async def record(tx: Tx) -> list[JsonObject]:
                taken = await table.existing_ids(tx, ids)
                if taken:  # a concurrent request with the same id completed first
                    first = sorted(taken)[0]
                    raise DuplicateCredentialError(f"a credential with id {first!r} was already issued", id=first)
                # A key retired while this batch was signed must not have signed anything handed
                # out: asked here, where a retirement cannot slip in before the commit.
                row, _ = await issuer_rows.key_secret(tx, issuer.name, key_id)
                if row is None or row["retired"]:
                    self.issuers.forget(issuer.name)
                    raise RetiredKeyError(f"issuer {issuer.name!r}'s key {key_id} was retired while this request was being signed; send it again")
                # What does not depend on the signatures first (the ids, subjects and indexes
                # are the prepared credentials'), then each part's bodies as it comes back.
                await table.insert_active(tx, [(p.credential["id"], issuer.name, subject_id(p.credential), issued_at) for p in prepared], signing_key=key_id)
                await table.claim_entries(
                    tx, [(p.credential["id"], a.list_id, a.index) for p, allocated in zip(prepared, allocations) for a in allocated]
                )
                # The bodies of the parts back, in one write, then of each that comes back after.
                pending: Sequence[asyncio.Future[list[JsonObject]]] = chunks
                while pending:
                    if not any(c.done() for c in pending):
                        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    back, pending = [c for c in pending if c.done()], [c for c in pending if not c.done()]
                    parts = [c.result() for c in back]
                    if keep:
                        # As the store will hold them; orjson writes 256 in about 0.1 ms, less than a thread hand-off.
                        await table.keep_bodies(tx, [(c["id"], issuer.name, issued_at, flag, dumps(c).decode("utf-8")) for part in parts for c in part])
                signed = [c for chunk in chunks for c in chunk.result()]
                if complete is not None:
                    await complete(tx, signed)
                return signed

            # From here the parts belong to the completing transaction, which finishes whole
            # even if this caller goes away (``_grouped``).
            recording = True
            signed = await self._grouped(record)
        except BaseException as e:
            # Nothing is recorded before step 4: a failure (or a crash) until it commits leaves
            # only the indexes, used by nobody and never reused. A caller gone away while the
            # completing transaction runs leaves it its parts (it finishes whole, or fails).
            if not recording or isinstance(e, Exception):
                abandoned = True
                for chunk in chunks:
                    chunk.cancel()
            raise
        if self.observe_issued is not None:
            self.observe_issued(issuer.name, len(signed))
        return signed

    def _sign_chunk(
        self,
        pool: signing.ProcessSigner | None,
        items: list[tuple[JsonObject, str]],
        key: Any,
        suite_name: str,
        now: datetime,
        progress: Callable[[int], None] | None,
    ) -> Awaitable[list[JsonObject]]:
        """``items`` (credential, verification method) signed by the pool, or in-process when
        there is none (or its processes stopped): 2.0, or 1.1 as asked (``signing.sign_one``).
        Queued to the pool now (``ProcessSigner.sign_chunk``): a stage's parts go out at the
        loop's next turn, before the next stage is prepared."""
        queued = pool.sign_chunk(items, seed=key.seed, suite_name=suite_name, now=now) if pool is not None else None
        return self._signed(queued, items, key, suite_name, now, progress)

    async def _signed(
        self,
        queued: Awaitable[list[JsonObject] | None] | None,
        items: list[tuple[JsonObject, str]],
        key: Any,
        suite_name: str,
        now: datetime,
        progress: Callable[[int], None] | None,
    ) -> list[JsonObject]:
        if queued is not None:
            signed = await queued
            if signed is not None:
                if progress is not None:
                    for _ in signed:
                        progress(1)
                return signed
        from vc.cryptosuites import SUITES

        suite, loader = SUITES[suite_name], self.loader

        def sign_all() -> list[JsonObject]:
            out = []
            for credential, vm in items:
                out.append(signing.sign_one(credential, key=key, verification_method=vm, suite=suite, loader=loader, now=now))
                if progress is not None:
                    progress(1)
            return out

        return await self.offload(sign_all)

    def _add_entries(self, prepared: list[Prepared], allocations: list[list[Allocation]]) -> None:
        """Each credential's status entries, from its allocations, after any of its own."""
        for p, allocated in zip(prepared, allocations):
            statuses = [self.status_lists.entry(a, spec.options) for a, spec in zip(allocated, p.entries)]
            if statuses:
                given = p.credential.get("credentialStatus", [])
                statuses = [*(given if isinstance(given, list) else [given]), *statuses]
                p.credential["credentialStatus"] = statuses[0] if len(statuses) == 1 else statuses

    # --- group commit ------------------------------------------------------------------

    async def _grouped(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work(tx)`` in a write transaction shared with whatever else is waiting (each in
        its own savepoint: one that raises rolls back alone); returns once that transaction has
        committed, durably."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._committer is None or self._committer.done():
            # A task of its own: a caller that goes away must not strand the others' requests.
            self._committer = asyncio.get_running_loop().create_task(self._commit_waiting())
        # A caller that goes away leaves its work to finish: what it admits is indexes for
        # nobody, what it completes is whole (and found again by its id or key).
        return await asyncio.shield(future)

    async def _commit_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            done: list[tuple[asyncio.Future[Any], Any]] = []
            # A refusal is told only once the transaction has committed, as results are: what
            # refused it (an id another request of this group recorded) is then there for the
            # caller to read. Told at once, a batch refused as a duplicate looked for the other
            # request's key before it was committed, found nothing, and failed whole.
            refused: list[tuple[asyncio.Future[Any], Exception]] = []
            try:
                async with self.db.transaction() as tx:
                    for work, future in batch:
                        try:
                            async with tx.savepoint():
                                result = await work(tx)
                        except StoreUnavailable:
                            # The transaction went with its connection: the rest of the batch
                            # is not run on it, and every request of it hears so (below).
                            raise
                        except Exception as e:
                            refused.append((future, e))
                        else:
                            done.append((future, result))
            except BaseException as e:  # the transaction itself failed: nothing was committed
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e if isinstance(e, Exception) else RuntimeError("transaction interrupted"))
                if not isinstance(e, Exception):
                    raise
                continue
            for future, error in refused:
                if not future.done():
                    future.set_exception(error)
            for future, result in done:
                if not future.done():
                    future.set_result(result)

    # --- admission ---------------------------------------------------------------------

    async def _admit(self, issuer_name: str, prepared: list[Prepared], issued_at: str) -> Admitted:
        """Allocate the credentials' indexes, durably, before anything is signed (group commit:
        see the module docstring). A request hears back only after the commit."""
        return await self._grouped(lambda tx: self._admit_one(tx, issuer_name, prepared, issued_at))

    async def _admit_one(self, tx: Tx, issuer_name: str, prepared: list[Prepared], issued_at: str) -> Admitted:
        await self._check_new(tx, [p.credential["id"] for p in prepared])
        key_id = await self._active_key(tx, issuer_name)
        allocations, created = await self._allocate(tx, issuer_name, prepared, issued_at)
        return allocations, created, key_id

    async def _admit_in_stages(
        self,
        tx: Tx,
        issuer: IssuerInfo,
        credentials: Sequence[Any],
        now: datetime,
        stamp: str,
        specs: list[EntrySpec],
        asked: bool,
        issued_at: str,
        pool: signing.ProcessSigner,
        pair: tuple[str, Any] | None,
        dispatch: Callable[[list[tuple[JsonObject, str]], list[tuple[int, int]], Any], None],
    ) -> tuple[list[Prepared], list[list[Allocation]], set[int], str, bool]:
        """The admission of a batch signed by the pool, stage by stage (``signing.stages``):
        each stage prepared (on the loop, a slice at a time), checked, allocated, and its parts
        handed to the processes at once, while the next stage is prepared beside them.

        Signing before this transaction commits hands nothing out: a credential is handed out
        only after the completing transaction, which runs after this one. A refusal in a later
        stage rolls the whole admission back (no index spent, as when everything was prepared
        first), and the caller drops the parts already signing. ``pair`` is the issuer's active
        key as read before the transaction (key id, key pair); when the key under the lock is
        another one (rotated meanwhile) nothing is handed out early, and the caller signs once
        this commits (the last value returned: whether the parts were handed out)."""
        key_id = await self._active_key(tx, issuer.name)
        early = pair is not None and pair[0] == key_id
        prepared: list[Prepared] = []
        allocations: list[list[Allocation]] = []
        created: set[int] = set()
        seen: set[str] = set()
        for cuts in signing.stages(len(credentials), pool.processes):
            lo, hi = cuts[0][0], cuts[-1][1]
            for start in range(lo, hi, PREPARE_SLICE):
                prepared += [self._prepare(issuer, c, now, stamp, specs, asked) for c in credentials[start : min(hi, start + PREPARE_SLICE)]]
                await asyncio.sleep(0)  # a slice at a time: the loop serves others between them
            stage = prepared[lo:hi]
            await self._check_new(tx, [p.credential["id"] for p in stage], seen)
            got, opened = await self._allocate(tx, issuer.name, stage, issued_at)
            allocations += got
            created |= opened
            self._add_entries(stage, got)
            if early:
                assert pair is not None
                dispatch(_to_sign(issuer, stage, key_id), [(start - lo, stop - lo) for start, stop in cuts], pair[1])
                await asyncio.sleep(0)  # the units queued, and parts sent to the processes waiting
        return prepared, allocations, created, key_id, early

    async def _active_pair(self, issuer: IssuerInfo) -> tuple[str, Any] | None:
        """The issuer's active key as this process knows it (key id, key pair), to sign with
        before the admission commits; None when it cannot be had now (the admission then reads
        the key under its lock and reports, as for a small batch)."""
        try:
            return issuer.public_key_multibase, await self.issuers.signing_key(issuer.name, issuer.public_key_multibase)
        except (RetiredKeyError, UnknownIssuerError, UnknownKeyError):
            return None

    async def _check_new(self, tx: Tx, ids: list[str], seen: set[str] | None = None) -> None:
        """Refuse ids given twice in a batch (``seen``: those of its earlier stages) or already issued."""
        _check_unique(ids, seen)
        existing = await table.existing_ids(tx, ids)
        taken = [i for i in ids if i in existing]
        if taken:
            raise DuplicateCredentialError(f"a credential with id {taken[0]!r} was already issued", id=taken[0])

    async def _active_key(self, tx: Tx, issuer_name: str) -> str:
        # The active key, read under the write lock: a rotation commits before or after this
        # transaction, never during it, so the key recorded here is the one that signs.
        key_id = await issuer_rows.active_key(tx, issuer_name)
        if key_id is None:
            raise UnknownIssuerError(f"this node has no issuer named {issuer_name!r}", issuer=issuer_name)
        return key_id

    async def _allocate(
        self, tx: Tx, issuer_name: str, prepared: list[Prepared], issued_at: str
    ) -> tuple[list[list[Allocation]], set[int]]:
        # One list per (signing DID, purpose, entry size): credentials naming the did:key get
        # entries in lists the did:key signs, those naming the did:web in the did:web's. The
        # indexes belong to nobody until the credentials are complete (claim_entries).
        wanted: dict[tuple[str | None, str, int], list[tuple[int, int]]] = {}
        for i, p in enumerate(prepared):
            for j, spec in enumerate(p.entries):
                wanted.setdefault((p.signer, spec.purpose, spec.options.status_size), []).append((i, j))
        allocations: list[list[Allocation]] = [[PENDING] * len(p.entries) for p in prepared]
        created: set[int] = set()
        for (signer, purpose, size), places in wanted.items():
            got, new_lists = await self.status_lists.allocate(
                tx, issuer_name, purpose, [None] * len(places), when=issued_at, signer=signer, status_size=size
            )
            for (i, j), allocation in zip(places, got):
                allocations[i][j] = allocation
            created |= new_lists
        return allocations, created

    # --- preparation -------------------------------------------------------------------

    def _prepare(self, issuer: IssuerInfo, credential: Any, now: datetime, stamp: str, specs: list[EntrySpec], asked: bool) -> Prepared:
        """Fill what the node fills (issuer, id: ``node.ids``, validFrom: ``stamp``, the request's time ``now``),
        refuse what it must not sign, and choose the status entries the node adds (``asked``:
        the request named them)."""
        if not isinstance(credential, dict):
            raise InvalidRequestError("credential must be a JSON object")
        vc = json_copy(credential)
        # VC Data Integrity 1.0 §4.3: a credential secured by others already gets the issuer's
        # proof beside theirs (a proof set). Their proofs cover the document as sent, so the
        # node changes nothing in it: no issuer, id, validFrom or status entry is filled in.
        cosigned = "proof" in vc
        if cosigned:
            _check_proofs(vc["proof"])
        if "credentialStatus" in vc:
            self._check_own_status(vc["credentialStatus"])
        contexts = vc.get("@context")
        if isinstance(contexts, str):
            contexts = [contexts]
        if not isinstance(contexts, list) or not contexts:
            raise InvalidRequestError(f"@context must start with {VC_V2!r} (or {VC_V1!r})")
        v1 = contexts[0] == VC_V1
        if v1 and DATA_INTEGRITY_V2 not in contexts:
            # VC 1.1's context does not define DataIntegrityProof; the data-integrity context
            # does. It is the only context the node adds: nothing else it writes needs one.
            if cosigned:
                raise InvalidRequestError(
                    f"a VC 1.1 credential signed by others needs {DATA_INTEGRITY_V2!r} in its @context for the issuer's "
                    "proof, and adding it would change what their proofs cover",
                    field="@context",
                )
            contexts = [*contexts, DATA_INTEGRITY_V2]
        vc["@context"] = contexts
        entries = list(specs)
        if entries and (v1 or cosigned):
            if asked:
                raise InvalidRequestError(
                    "Bitstring Status List 1.0 §2.1 entries belong in VC Data Model 2.0 credentials; this one is VC 1.1"
                    if v1
                    else "the credential is already signed: a status entry would change what its proofs cover",
                    field="options",
                )
            # The issuer's standing entries are for credentials that can carry them.
            entries = []
        named = _issuer_id(vc)
        did = named if named in issuer.dids else issuer.did
        if "issuer" not in vc:
            if cosigned:
                raise InvalidRequestError("the credential has no issuer; a signed credential is not completed", field="issuer")
            vc["issuer"] = issuer.did
        elif named is None:
            raise InvalidRequestError("issuer must be a DID string or an object with an id")
        elif named not in issuer.dids:
            if named in issuer.former_did_keys:
                # Never replaced, even with replace_foreign_issuer: it is the issuer's own, rotated away.
                issuer.verification_method_for(named, issuer.public_key_multibase)  # raises, saying why
            if not self.config.replace_foreign_issuer or cosigned:
                raise IssuerMismatchError(
                    f"the credential names issuer {named!r}, but this request signs as {issuer.name!r} ({', '.join(issuer.dids)})",
                    issuer=named,
                )
            # Opt-in (conformance runs; Digital Bazaar's issuer does the same): the node signs
            # as itself, so the issuer id becomes its own. A value that is no URL stays refused.
            if not is_url(named):
                raise InvalidRequestError(f"issuer {named!r} is not a URL", field="issuer")
            vc["issuer"] = {**vc["issuer"], "id": issuer.did} if isinstance(vc["issuer"], dict) else issuer.did
        if "id" not in vc:
            if cosigned:
                raise InvalidRequestError(
                    "a credential signed by others needs an id: the node records what it signs by id, and adding one "
                    "would change what their proofs cover",
                    field="id",
                )
            vc["id"] = credential_urn(now)
        elif not isinstance(vc["id"], str):
            raise InvalidRequestError("id must be a URL string")
        if not cosigned:
            vc.setdefault("issuanceDate" if v1 else "validFrom", stamp)
        check_credential(vc)
        return Prepared(vc, did, None if did == issuer.did else did, entries)

    def _check_own_status(self, given: Any) -> None:
        """A caller's own status entries (another status service, another scheme) are its claims
        to make and are kept; the node's entries are added after them. Entries in this node's
        own lists are the node's to allocate: a caller-chosen index could be another
        credential's, and revoking one would revoke both."""
        # Compared normalized: http://LOCALHOST:PORT/status/... is the same list, and a prefix
        # test on the raw text let it through, signed into a credential whose status no
        # verifier could then establish (the list's id is not that spelling).
        own = f"{normalize_url(self.status_lists.base_url)}/status/"
        for entry in given if isinstance(given, list) else [given]:
            if not isinstance(entry, dict):
                continue  # check_credential names it
            if any(_is_under(entry.get(k), own) for k in ("id", "statusListCredential")):
                raise InvalidRequestError(
                    "credentialStatus names one of this node's status lists; the node allocates entries "
                    "in its lists itself (options.statusPurposes)",
                    field="credentialStatus",
                )
            if is_bitstring_entry(entry):
                # Bitstring Status List 1.0 §2.1, the rules the verifier reads it by
                # (status.entry.parse_status_entry): the node does not sign an entry that every
                # conforming verifier must refuse as malformed.
                parsed = parse_status_entry(entry)
                if isinstance(parsed, EntryProblems):
                    raise InvalidRequestError(
                        f"a BitstringStatusListEntry in credentialStatus breaks Bitstring Status List 1.0 §2.1: {parsed}",
                        field="credentialStatus",
                    )


def _is_under(url: Any, prefix: str) -> bool:
    """Whether ``url``, normalized (``status.urls.normalize_url``), starts with ``prefix``."""
    if not isinstance(url, str):
        return False
    try:
        return normalize_url(url).startswith(prefix)
    except ValueError:
        return False  # not a URL at all: check_credential or the entry's own check names it


def _task(work: Awaitable[T]) -> "asyncio.Future[T]":
    """``work`` as a task whose failure is retrieved even when nobody awaits it any more (a
    later chunk of its batch failed first)."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task


def _to_sign(issuer: IssuerInfo, prepared: Sequence[Prepared], key_id: str) -> list[tuple[JsonObject, str]]:
    """Each credential with the verification method that signs it: the key ``key_id`` (the one
    the admission recorded) under the DID the credential names (did:web, or that key's
    did:key), so that the proof's controller is the issuer."""
    return [(p.credential, issuer.verification_method_for(p.did, key_id)) for p in prepared]


def _check_unique(ids: Iterable[str], seen: set[str] | None = None) -> None:
    seen = set() if seen is None else seen
    for i in ids:
        if i in seen:
            raise InvalidRequestError("the batch contains the same credential id more than once")
        seen.add(i)


# Credentials prepared on the loop between two turns of it (``_admit_in_stages``): ~0.4 ms.
PREPARE_SLICE = 16
# A placeholder while a credential's entries are being allocated (each is replaced).
PENDING = Allocation(0, 0, 0, "", "")


def _check_proofs(given: Any) -> None:
    """VC Data Integrity 1.0 §2.1: every proof is an object with a ``type`` and a ``proofPurpose``."""
    for i, proof in enumerate(given if isinstance(given, list) else [given]):
        where = f"proof[{i}]" if isinstance(given, list) else "proof"
        if not isinstance(proof, dict):
            raise InvalidRequestError(f"{where} must be an object", field=where)
        for name in ("type", "proofPurpose"):
            if not isinstance(proof.get(name), str) or not proof[name]:
                raise InvalidRequestError(f"{where}.{name} is required (VC Data Integrity 1.0 §2.1)", field=f"{where}.{name}")

"""The node's operations, shared by the HTTP routes and the CLI: issuers, issuing, status, tokens.

``NodeService`` is built from a ``Config`` and a ``Services`` bundle (store, HTTP client,
resolver, context loader, clock, master key), so tests can hand in fakes. Every method that
changes something does so inside a store transaction that has committed before it returns.
Canonicalisation and signing run in a worker thread (``asyncio.to_thread``) so the event loop
keeps answering health checks and status-list fetches while the node signs.

Errors are ``NodeError`` (a ``vc.errors.ProblemError``), so ``node.problems`` turns them into
problem+json with the right status without knowing this module.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import json
import logging
import re
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable, Literal, Mapping, Sequence, TypeVar

from did.key import did_key_from_public_key
from did.multikey import decode_ed25519_public
from did.web import url_to_did_web
from node.auth import SCOPES, Grant
from node.config import Config
from node.keys import MasterKey
from node.statuslists import PublishedList, StatusLists
from node.store import Store, utcnow_iso
from vc.crypto import Ed25519KeyPair
from vc.datamodel import check_credential, is_url
from vc.edu import REPORTERS
from vc.errors import InvalidChallengeError, MismatchedProofPurposeError
from vc.errors import ProblemError
from vc.results import Check, VerificationResult

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
T = TypeVar("T")
Status = Literal["active", "revoked", "suspended"]
STATUSES: tuple[str, ...] = ("active", "revoked", "suspended")
PURPOSES: tuple[str, ...] = ("revocation", "suspension")
CRYPTOSUITES: tuple[str, ...] = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
DEFAULT_ISSUER = "default"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

# Issuer names become a did:web path segment and a URL path segment, so they are kept to
# characters that need no escaping in either.
_ISSUER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


# --- errors ----------------------------------------------------------------------------------


class NodeError(ProblemError):
    """A refusal by the node itself (not a specification-defined problem)."""

    base = "urn:vcnode:problem:"
    code, title, http_status = "invalid-request", "The request is not valid", 400


class InvalidRequestError(NodeError):
    pass


class UnknownIssuerError(NodeError):
    code, title, http_status = "unknown-issuer", "Unknown issuer", 404


class IssuerExistsError(NodeError):
    code, title, http_status = "issuer-exists", "Issuer already exists", 409


class IssuerMismatchError(NodeError):
    code, title, http_status = "issuer-mismatch", "The credential names another issuer", 400


class UnknownCredentialError(NodeError):
    code, title, http_status = "unknown-credential", "Unknown credential", 404


class DuplicateCredentialError(NodeError):
    code, title, http_status = "duplicate-credential", "Credential id already issued", 409


class StatusChangeError(NodeError):
    code, title, http_status = "status-change-refused", "The status change is not possible", 409


class UnknownTokenError(NodeError):
    code, title, http_status = "unknown-token", "Unknown token", 404


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuerInfo:
    name: str
    dids: list[str]  # the signing DID first (did:web of the node's base URL), then did:key
    verification_methods: list[str]  # one per DID, same key
    public_key_multibase: str
    status_purposes: list[str]
    created: str

    @property
    def did(self) -> str:
        return self.dids[0]

    @property
    def verification_method(self) -> str:
        return self.verification_methods[0]

    def to_json(self) -> JsonObject:
        return {
            "name": self.name,
            "dids": list(self.dids),
            "verificationMethods": list(self.verification_methods),
            "statusPurposes": list(self.status_purposes),
        }


@dataclass(frozen=True)
class StatusEntryRecord:
    purpose: str
    list_url: str
    index: int


@dataclass(frozen=True)
class CredentialRecord:
    id: str
    issuer: str
    subject_id: str | None
    issued: str
    status: str
    status_entries: list[StatusEntryRecord]

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "issuer": self.issuer,
            "subjectId": self.subject_id,
            "issued": self.issued,
            "status": self.status,
            "statusEntries": [
                {"statusPurpose": e.purpose, "statusListCredential": e.list_url, "statusListIndex": str(e.index)}
                for e in self.status_entries
            ],
        }


@dataclass(frozen=True)
class NewToken:
    id: str
    token: str  # shown once; only its SHA-256 is stored
    scopes: list[str]
    issuer: str | None

    def to_json(self) -> JsonObject:
        return {"id": self.id, "token": self.token, "scopes": list(self.scopes), "issuer": self.issuer}


@dataclass(frozen=True)
class TokenRecord:
    id: str
    scopes: list[str]
    issuer: str | None
    created: str
    revoked: str | None

    def to_json(self) -> JsonObject:
        return {"id": self.id, "scopes": self.scopes, "issuer": self.issuer, "created": self.created, "revoked": self.revoked}


@dataclass(frozen=True)
class Challenge:
    challenge: str
    expires: datetime


@dataclass
class Services:
    """What the node's operations need from outside; tests pass fakes (constructor injection)."""

    store: Store
    master_key: MasterKey
    resolver: Any  # did.resolver.Resolver
    loader: Any  # vc.loader.ContextLoader
    clock: Callable[[], datetime]
    http: Any = None  # did.http.GuardedHTTP; None for offline CLI operations
    check_status: Callable[[JsonObject], Awaitable[list[Any]]] | None = None  # status.check.StatusChecker.check


def hash_token(token: str) -> str:
    """SHA-256 of a token: enough for 256-bit random tokens, which cannot be guessed offline."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_issuer_name(name: Any) -> str:
    if not isinstance(name, str) or not _ISSUER_NAME.match(name):
        raise InvalidRequestError(
            f"issuer name {name!r} is not allowed: use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def _subject_id(credential: JsonObject) -> str | None:
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


def _bridge_function(fn: Callable[..., Awaitable[Any]], loop: asyncio.AbstractEventLoop) -> Callable[..., Awaitable[Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), loop))

    return call


class _LoopBridge:
    """Proxy whose coroutine methods run on ``loop``, where the node's HTTP session and store live.

    Verification runs on a worker thread's own event loop (``_off_loop``) so canonicalization
    and signature checks never block the server's loop; the I/O it needs (resolving DIDs,
    fetching status lists) is sent back to the server's loop through this proxy.
    """

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if inspect.iscoroutinefunction(attr):
            return _bridge_function(attr, self._loop)
        return attr


# Verifications get threads of their own, never the loop's default executor: a verification
# thread waits for I/O done on the server loop (DNS for did:web uses the default executor) and
# for the status list's own proof check, so sharing one bounded pool lets N waiting
# verifications starve the work they wait for and deadlock the node. Credential verifications
# and status-list proof checks use separate pools for the same reason (the first wait on the
# second, the second never wait on anything but I/O).
_VERIFY_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="vcnode-verify")
_LIST_VERIFY_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vcnode-verify-list")


_worker = threading.local()


def _worker_loop() -> asyncio.AbstractEventLoop:
    """This worker thread's event loop, made once: ``asyncio.run`` per call built and tore down
    a loop for every verification (about a quarter of a millisecond each)."""
    loop = getattr(_worker, "loop", None)
    if loop is None or loop.is_closed():
        loop = _worker.loop = asyncio.new_event_loop()
    return loop


async def _off_loop(make: Callable[[], Awaitable[T]], executor: ThreadPoolExecutor = _VERIFY_POOL) -> T:
    """Run a coroutine to completion on a worker thread's own event loop."""

    def work() -> T:
        return _worker_loop().run_until_complete(make())

    return await asyncio.get_running_loop().run_in_executor(executor, work)


async def verify_credential_off_loop(
    document: Any, *, resolver: Any, loader: Any, now: datetime, check_status: Any = None
) -> VerificationResult:
    """``vc.credentials.verify_credential`` on a worker thread's loop, I/O bridged back.

    The status checker verifies each fetched list credential's proof; passed as its
    ``verify_credential``, this keeps that canonicalization off the server's loop too.
    """
    from vc.credentials import verify_credential

    loop = asyncio.get_running_loop()
    bridged = _LoopBridge(resolver, loop)
    bridged_status = _bridge_function(check_status, loop) if check_status is not None else None
    return await _off_loop(
        lambda: verify_credential(document, resolver=bridged, loader=loader, now=now, check_status=bridged_status),
        _LIST_VERIFY_POOL,
    )


async def _rows_by_id(db: Any, sql: str, ids: Sequence[str], chunk: int = 500) -> dict[str, Any]:
    """``SELECT … WHERE id IN (…)`` in chunks (SQLite bounds the number of parameters)."""
    out: dict[str, Any] = {}
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        async with db.execute(sql.format(",".join("?" * len(part))), part) as cur:
            for row in await cur.fetchall():
                out[row["id"]] = row
    return out


class NodeService:
    """The node's operations. ``await service.init()`` once before use (idempotent)."""

    def __init__(self, config: Config, services: Services) -> None:
        self.config = config
        self.services = services
        self.store = services.store
        self.clock = services.clock
        self.status_lists = StatusLists(
            services.store,
            base_url=config.effective_base_url,
            length=config.status_list_length,
            ttl_ms=config.status_list_ttl_ms,
            valid_for=timedelta(seconds=config.status_list_valid_seconds) if config.status_list_valid_seconds else None,
            identity=self._signing_identity,
            loader=services.loader,
            clock=services.clock,
        )
        self._keys: dict[str, Ed25519KeyPair] = {}
        self._admissions: list[tuple[str, list[str], list[JsonObject], str, asyncio.Future[Any]]] = []
        self._admitter: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # --- set-up and issuers ------------------------------------------------------------

    async def init(self) -> list[IssuerInfo]:
        """Create the ``default`` issuer if missing and republish any list a crash left stale."""
        if await self.store.fetchone("SELECT 1 FROM issuers WHERE name = ?", (DEFAULT_ISSUER,)) is None:
            try:
                await self.create_issuer(DEFAULT_ISSUER)
            except IssuerExistsError:
                pass  # created concurrently
        await self.status_lists.republish_pending()
        return await self.list_issuers()

    def _dids(self, name: str, public_multibase: str) -> tuple[list[str], list[str]]:
        did_key = did_key_from_public_key(decode_ed25519_public(public_multibase))
        did_web = self.did_web(name)
        return [did_web, did_key], [f"{did_web}#{public_multibase}", f"{did_key}#{public_multibase}"]

    def did_web(self, name: str) -> str:
        """``did:web:HOST`` for the default issuer, ``did:web:HOST:issuers:NAME`` for the others."""
        base = self.config.effective_base_url
        return url_to_did_web(base if name == DEFAULT_ISSUER else f"{base}/issuers/{name}")

    def _issuer_from_row(self, row: Any) -> IssuerInfo:
        dids, vms = self._dids(row["name"], row["public_key_multibase"])
        return IssuerInfo(
            name=row["name"],
            dids=dids,
            verification_methods=vms,
            public_key_multibase=row["public_key_multibase"],
            status_purposes=json.loads(row["status_purposes"]),
            created=row["created"],
        )

    async def create_issuer(self, name: str, *, status_purposes: Sequence[str] | None = None) -> IssuerInfo:
        """A new issuer with a fresh Ed25519 key (sealed at rest) and its own status lists."""
        check_issuer_name(name)
        purposes = self._check_purposes(status_purposes if status_purposes is not None else self.config.status_purposes)
        pair = await asyncio.to_thread(Ed25519KeyPair.generate)
        sealed = self.services.master_key.seal_keypair(pair)
        async with self.store.transaction() as db:
            async with db.execute("SELECT 1 FROM issuers WHERE name = ?", (name,)) as cur:
                if await cur.fetchone() is not None:
                    raise IssuerExistsError(f"an issuer named {name!r} already exists", issuer=name)
            await db.execute(
                "INSERT INTO issuers (name, created, status_purposes, public_key_multibase, sealed_secret) VALUES (?, ?, ?, ?, ?)",
                (name, utcnow_iso(self.clock()), json.dumps(purposes), pair.public_multibase, sealed),
            )
        self._keys[name] = pair
        log.info("created issuer %s (%s)", name, pair.public_multibase)
        return await self.get_issuer(name)

    async def get_issuer(self, name: str) -> IssuerInfo:
        row = await self.store.fetchone("SELECT * FROM issuers WHERE name = ?", (name,))
        if row is None:
            raise UnknownIssuerError(f"this node has no issuer named {name!r}", issuer=name)
        return self._issuer_from_row(row)

    async def list_issuers(self) -> list[IssuerInfo]:
        rows = await self.store.fetchall("SELECT * FROM issuers ORDER BY created, name")
        return [self._issuer_from_row(r) for r in rows]

    async def issuer_for_did(self, did: str) -> IssuerInfo | None:
        for issuer in await self.list_issuers():
            if did in issuer.dids:
                return issuer
        return None

    async def _keypair(self, name: str) -> Ed25519KeyPair:
        pair = self._keys.get(name)
        if pair is None:
            row = await self.store.fetchone("SELECT sealed_secret FROM issuers WHERE name = ?", (name,))
            if row is None:
                raise UnknownIssuerError(f"this node has no issuer named {name!r}", issuer=name)
            pair = self.services.master_key.open_keypair(bytes(row["sealed_secret"]))
            self._keys[name] = pair
        return pair

    async def did_document(self, name: str) -> JsonObject:
        """The issuer's did:web DID document: one Multikey, for assertionMethod and authentication."""
        issuer = await self.get_issuer(name)
        did = self.did_web(name)
        vm_id = f"{did}#{issuer.public_key_multibase}"
        return {
            "@context": [DID_V1, MULTIKEY_V1],
            "id": did,
            "verificationMethod": [
                {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": issuer.public_key_multibase}
            ],
            "assertionMethod": [vm_id],
            "authentication": [vm_id],
        }

    @staticmethod
    def _check_purposes(purposes: Any) -> list[str]:
        if not isinstance(purposes, (list, tuple)) or not all(isinstance(p, str) for p in purposes):
            raise InvalidRequestError("statusPurposes must be an array of strings")
        unknown = [p for p in purposes if p not in PURPOSES]
        if unknown:
            raise InvalidRequestError(
                f"unknown status purpose(s) {', '.join(map(repr, unknown))}: use {' or '.join(PURPOSES)}"
            )
        return list(dict.fromkeys(purposes))

    # --- issuing -----------------------------------------------------------------------

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
    ) -> list[JsonObject]:
        """Issue a batch: status indexes for all of them are allocated in one transaction.
        ``progress(1)`` is called (from the signing thread) after each credential is signed."""
        from vc.credentials import issue_credential
        from vc.cryptosuites import SUITES
        from vc.proofs import add_proof

        issuer = await self.get_issuer(issuer_name)
        options = dict(options or {})
        suite_name = options.get("cryptosuite", "eddsa-rdfc-2022")
        if suite_name not in CRYPTOSUITES:
            raise InvalidRequestError(f"options.cryptosuite {suite_name!r} is not supported: use {' or '.join(CRYPTOSUITES)}")
        purposes = self._check_purposes(options["statusPurposes"]) if "statusPurposes" in options else issuer.status_purposes
        now = self.clock()
        # Copying and data-model checks of a large batch are CPU work too: off the event loop.
        prepared = await asyncio.to_thread(lambda: [self._prepare(issuer, c, now) for c in credentials])
        ids = [p["id"] for p in prepared]
        if len(set(ids)) != len(ids):
            raise InvalidRequestError("the batch contains the same credential id more than once")

        issued_at = utcnow_iso(now)
        # One transaction: refuse known ids, record the credentials, hand out their indexes. It
        # commits before anything is signed, so a crash afterwards leaves the indexes used and
        # never reused, and a concurrent request can never draw the same index.
        allocations, created = await self._admit(issuer.name, purposes, prepared, issued_at)
        for i, credential in enumerate(prepared):
            statuses = [self.status_lists.entry(allocations[p][i]) for p in purposes]
            if statuses:
                given = credential.get("credentialStatus", [])
                statuses = [*(given if isinstance(given, list) else [given]), *statuses]
                credential["credentialStatus"] = statuses[0] if len(statuses) == 1 else statuses
        pair = await self._keypair(issuer.name)
        suite = SUITES[suite_name]
        loader = self.services.loader

        def sign_one(c: JsonObject) -> JsonObject:
            # Sign with the key's verification method under the DID the credential names
            # (did:web or did:key), so the proof's controller is the issuer.
            vm = issuer.verification_methods[issuer.dids.index(_issuer_id(c) or issuer.did)]
            if c["@context"][0] == VC_V1:
                # vc.credentials.issue_credential signs VC 2.0 only; a 1.1 credential the
                # operator asked for is signed as 1.1 (data-model checked in _prepare).
                return add_proof(
                    c,
                    suite=suite,
                    key=pair,
                    verification_method=vm,
                    purpose="assertionMethod",
                    created=now,
                    loader=loader,
                )
            return issue_credential(
                c, key=pair, verification_method=vm, suite=suite, loader=loader, now=now
            )

        def sign_all() -> list[JsonObject]:
            out = []
            for c in prepared:
                out.append(sign_one(c))
                if progress is not None:
                    progress(1)
            return out

        try:
            # A list opened by this batch is published before its first credential is handed
            # out, so the statusListCredential URL resolves as soon as the credential exists.
            await self.status_lists.republish(created)
            signed = await asyncio.to_thread(sign_all)
        except BaseException:
            # Nothing was handed out: forget the records, keep the indexes used (never reused).
            await self._forget(ids)
            raise
        return signed

    async def _admit(
        self, issuer_name: str, purposes: list[str], prepared: list[JsonObject], issued_at: str
    ) -> tuple[dict[str, list[Any]], set[int]]:
        """Record the credentials and allocate their indexes, durably, before anything is signed.

        Concurrent requests are group-committed: whatever is waiting when a transaction starts
        goes into it, each request in its own SAVEPOINT (a refused request rolls back alone),
        and one fsync covers them all. A request hears back only after the COMMIT.
        """
        future: asyncio.Future[tuple[dict[str, list[Any]], set[int]]] = asyncio.get_running_loop().create_future()
        self._admissions.append((issuer_name, purposes, prepared, issued_at, future))
        if self._admitter is None or self._admitter.done():
            # A task of its own: a caller that goes away must not strand the others' requests.
            self._admitter = asyncio.get_running_loop().create_task(self._admit_waiting())
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The caller went away; if its records commit anyway, nothing will be signed for
            # them, so they are forgotten again (their indexes stay used, never reused).
            ids = [c["id"] for c in prepared]

            def forget(f: asyncio.Future[Any]) -> None:
                if not f.cancelled() and f.exception() is None:
                    self._background.add(task := asyncio.get_running_loop().create_task(self._forget(ids)))
                    task.add_done_callback(self._background.discard)

            future.add_done_callback(forget)
            raise

    async def _forget(self, ids: Sequence[str]) -> None:
        """Drop the records of credentials that were admitted but will never be handed out."""
        async with self.store.transaction() as db:
            await db.executemany("UPDATE status_entries SET credential_id = NULL WHERE credential_id = ?", [(i,) for i in ids])
            await db.executemany("DELETE FROM credentials WHERE id = ?", [(i,) for i in ids])

    async def _admit_waiting(self) -> None:
        while self._admissions:
            batch, self._admissions = self._admissions, []
            done: list[tuple[asyncio.Future[Any], Any]] = []
            try:
                async with self.store.transaction() as db:
                    for issuer_name, purposes, prepared, issued_at, future in batch:
                        await db.execute("SAVEPOINT admit")
                        try:
                            result = await self._admit_one(db, issuer_name, purposes, prepared, issued_at)
                        except Exception as e:
                            await db.execute("ROLLBACK TO admit")
                            await db.execute("RELEASE admit")
                            if not future.done():
                                future.set_exception(e)
                        else:
                            await db.execute("RELEASE admit")
                            done.append((future, result))
            except BaseException as e:  # the transaction itself failed: nobody was admitted
                for _, _, _, _, future in batch:
                    if not future.done():
                        future.set_exception(e if isinstance(e, Exception) else RuntimeError("admission interrupted"))
                if not isinstance(e, Exception):
                    raise
                continue
            for future, result in done:
                if not future.done():
                    future.set_result(result)

    async def _admit_one(
        self, db: Any, issuer_name: str, purposes: list[str], prepared: list[JsonObject], issued_at: str
    ) -> tuple[dict[str, list[Any]], set[int]]:
        ids = [c["id"] for c in prepared]
        taken = list(await _rows_by_id(db, "SELECT id FROM credentials WHERE id IN ({})", ids))
        if taken:
            raise DuplicateCredentialError(f"a credential with id {taken[0]!r} was already issued", id=taken[0])
        await db.executemany(
            "INSERT INTO credentials (id, issuer, subject_id, issued, status) VALUES (?, ?, ?, ?, 'active')",
            [(c["id"], issuer_name, _subject_id(c), issued_at) for c in prepared],
        )
        allocations: dict[str, list[Any]] = {}
        created: set[int] = set()
        for purpose in purposes:
            allocations[purpose], new_lists = await self.status_lists.allocate(db, issuer_name, purpose, ids, when=issued_at)
            created |= new_lists
        return allocations, created

    def _prepare(self, issuer: IssuerInfo, credential: Any, now: datetime) -> JsonObject:
        """Fill what the node fills (issuer, id, validFrom), refuse what it must not sign."""
        if not isinstance(credential, dict):
            raise InvalidRequestError("credential must be a JSON object")
        vc = copy.deepcopy(credential)
        if "proof" in vc:
            raise InvalidRequestError("the credential already has a proof; send it unsigned")
        if "credentialStatus" in vc:
            # A caller's own status entries (another status service, another scheme) are its
            # claims to make and are kept; the node's entries are added after them. Entries in
            # this node's own lists are the node's to allocate: a caller-chosen index could be
            # another credential's, and revoking one would revoke both.
            own = f"{self.status_lists.base_url}/status/"
            for entry in vc["credentialStatus"] if isinstance(vc["credentialStatus"], list) else [vc["credentialStatus"]]:
                if not isinstance(entry, dict):
                    continue  # check_credential names it
                if any(isinstance(entry.get(k), str) and entry[k].startswith(own) for k in ("id", "statusListCredential")):
                    raise InvalidRequestError(
                        "credentialStatus names one of this node's status lists; the node allocates entries "
                        "in its lists itself (options.statusPurposes)",
                        field="credentialStatus",
                    )
                types = entry.get("type") if isinstance(entry.get("type"), list) else [entry.get("type")]
                if "BitstringStatusListEntry" in types:
                    # Bitstring Status List 1.0 §2.1: these three are required; a verifier
                    # could never check an entry without them.
                    index, url = entry.get("statusListIndex"), entry.get("statusListCredential")
                    if not (
                        isinstance(entry.get("statusPurpose"), str)
                        and isinstance(index, str)
                        and index.isascii()
                        and index.isdecimal()
                        and is_url(url)
                    ):
                        raise InvalidRequestError(
                            "a BitstringStatusListEntry in credentialStatus needs statusPurpose, statusListIndex "
                            "(a decimal string) and statusListCredential (a URL)",
                            field="credentialStatus",
                        )
        contexts = vc.get("@context")
        if isinstance(contexts, str):
            contexts = [contexts]
        if not isinstance(contexts, list) or not contexts:
            raise InvalidRequestError(f"@context must start with {VC_V2!r} (or {VC_V1!r})")
        v1 = contexts[0] == VC_V1
        if v1:
            # VC 1.1's context defines neither DataIntegrityProof nor the status list entry
            # terms; the data-integrity and Bitstring Status List contexts do.
            contexts = [*contexts, *(c for c in (STATUS_LIST_V1, DATA_INTEGRITY_V2) if c not in contexts)]
        vc["@context"] = contexts
        named = _issuer_id(vc)
        if "issuer" not in vc:
            vc["issuer"] = issuer.did
        elif named is None:
            raise InvalidRequestError("issuer must be a DID string or an object with an id")
        elif named not in issuer.dids:
            if not self.config.replace_foreign_issuer:
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
            vc["id"] = f"urn:uuid:{uuid.uuid4()}"
        elif not isinstance(vc["id"], str):
            raise InvalidRequestError("id must be a URL string")
        stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if v1:
            vc.setdefault("issuanceDate", stamp)
        else:
            vc.setdefault("validFrom", stamp)
        check_credential(vc)
        return vc

    # --- status ------------------------------------------------------------------------

    async def set_status(self, credential_id: str, status: str, *, issuer_name: str | None = None) -> CredentialRecord:
        """Revoke, suspend or reactivate a credential; the list is re-signed before this returns."""
        return (await self.set_status_many([(credential_id, status)], issuer_name=issuer_name))[0]

    async def set_status_many(
        self, changes: Iterable[tuple[str, str]], *, issuer_name: str | None = None
    ) -> list[CredentialRecord]:
        """Apply many status changes in one transaction, then re-sign each touched list once.

        All or nothing: one refused change (unknown credential, revoked one) refuses the batch.
        Rows are read and written in bulk, so 10,000 changes cost a few dozen statements.
        """
        changes = list(changes)
        for cid, status in changes:
            if not isinstance(cid, str) or not cid:
                raise InvalidRequestError("a credential id is a non-empty string")
            if status not in STATUSES:
                raise InvalidRequestError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        ids = list(dict.fromkeys(cid for cid, _ in changes))
        when = utcnow_iso(self.clock())
        touched: set[int] = set()
        pending: dict[int, Any] = {}  # each touched list is loaded once per batch
        async with self.store.transaction() as db:
            rows = await _rows_by_id(db, "SELECT * FROM credentials WHERE id IN ({})", ids)
            entries = await self.status_lists.entries_for_many(db, ids)
            current = {cid: row["status"] for cid, row in rows.items()}
            bits: list[tuple[int, int, int]] = []
            for cid, status in changes:
                row = rows.get(cid)
                if row is None or (issuer_name is not None and row["issuer"] != issuer_name):
                    raise UnknownCredentialError(
                        f"no credential with id {cid!r} was issued by "
                        + (f"issuer {issuer_name!r}" if issuer_name else "this node"),
                        credentialId=cid,
                    )
                if current[cid] == status:
                    continue
                if current[cid] == "revoked":
                    raise StatusChangeError(f"credential {cid!r} is revoked, and revocation is final", credentialId=cid)
                mine = entries.get(cid, [])
                needed = {"revoked": "revocation", "suspended": "suspension"}.get(status)
                if needed and needed not in {e.purpose for e in mine}:
                    raise StatusChangeError(
                        f"credential {cid!r} was issued without a {needed} status entry, so it cannot be {status}",
                        credentialId=cid,
                    )
                if status == "revoked":
                    bits += [(e.list_id, e.index, 1) for e in mine if e.purpose == "revocation"]
                else:  # suspended <-> active
                    value = 1 if status == "suspended" else 0
                    bits += [(e.list_id, e.index, value) for e in mine if e.purpose == "suspension"]
                current[cid] = status
            changed = [cid for cid in ids if current[cid] != rows[cid]["status"]]
            touched = await self.status_lists.set_bits(db, bits, pending)
            await self.status_lists.write_bits(db, pending, touched)
            await db.executemany(
                "UPDATE credentials SET status = ?, status_changed = ? WHERE id = ?", [(current[c], when, c) for c in changed]
            )
        # The change is committed (durable); the lists are re-signed before the caller hears back.
        await self.status_lists.republish(touched)
        records = {
            cid: self._record(rows[cid], current[cid], entries.get(cid, [])) for cid in ids
        }
        return [records[cid] for cid, _ in changes]

    @staticmethod
    def _record(row: Any, status: str, entries: Sequence[Any]) -> CredentialRecord:
        return CredentialRecord(
            id=row["id"],
            issuer=row["issuer"],
            subject_id=row["subject_id"],
            issued=row["issued"],
            status=status,
            status_entries=[StatusEntryRecord(e.purpose, e.url, e.index) for e in entries],
        )

    async def get_credential_record(self, credential_id: str) -> CredentialRecord:
        async with self.store.read() as db:
            async with db.execute("SELECT * FROM credentials WHERE id = ?", (credential_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise UnknownCredentialError(
                    f"no credential with id {credential_id!r} was issued by this node", credentialId=credential_id
                )
            entries = await self.status_lists.entries_for(db, credential_id)
        return self._record(row, row["status"], entries)

    async def list_credentials(self, *, issuer_name: str | None = None, subject_id: str | None = None) -> list[CredentialRecord]:
        """The issued credentials' records, oldest first, optionally of one issuer or subject."""
        sql, params = "SELECT * FROM credentials WHERE 1=1", []
        if issuer_name is not None:
            sql, params = sql + " AND issuer = ?", [*params, issuer_name]
        if subject_id is not None:
            sql, params = sql + " AND subject_id = ?", [*params, subject_id]
        async with self.store.read() as db:
            async with db.execute(sql + " ORDER BY issued, id", params) as cur:
                rows = list(await cur.fetchall())
            entries = await self.status_lists.entries_for_many(db, [r["id"] for r in rows])
        return [self._record(r, r["status"], entries.get(r["id"], [])) for r in rows]

    async def status_list(self, issuer_name: str, purpose: str, seq: int) -> PublishedList | None:
        """The signed list credential as last published (what GET on its URL serves)."""
        return await self.status_lists.get(issuer_name, purpose, seq)

    async def _signing_identity(self, issuer_name: str) -> tuple[Ed25519KeyPair, str, str]:
        issuer = await self.get_issuer(issuer_name)
        return await self._keypair(issuer_name), issuer.did, issuer.verification_method

    # --- verifying ---------------------------------------------------------------------

    async def verify_credential(self, vc: Any, options: Mapping[str, Any] | None = None) -> VerificationResult:
        """VC-API /credentials/verify: proof, data model, validity and status; never raises on bad input."""
        from vc.credentials import verify_credential

        options = dict(options or {})
        challenge, domain = options.get("challenge"), options.get("domain")
        resolver, check_status = self._bridged()
        now = self.clock()
        result = await _off_loop(
            lambda: verify_credential(
                vc,
                resolver=resolver,
                loader=self.services.loader,
                now=now,
                check_status=check_status,
                challenge=challenge if isinstance(challenge, str) else None,
                domain=domain if isinstance(domain, str) else None,
                reporters=REPORTERS,
            )
        )
        purpose = options.get("expectedProofPurpose")
        if purpose is not None and purpose != "assertionMethod":
            # An issuer's proof on a credential is an assertion (VC DM 2.0 §4.12): a caller
            # expecting another purpose is told no rather than shown a pass (Data Integrity
            # 1.0: a proofPurpose other than the expected one MUST raise an error).
            problem = MismatchedProofPurposeError(
                f"options.expectedProofPurpose is {purpose!r}, but a credential's proof is verified for "
                "assertionMethod, the issuer's assertion"
            )
            result.add(Check("proofPurpose", "failed", problem.detail, problem.problem()))
        return result

    async def verify_presentation(self, vp: Any, options: Mapping[str, Any] | None = None) -> VerificationResult:
        """VC-API /presentations/verify: the holder's proof, its challenge and domain, and
        every embedded credential.

        Challenges (VC-API: the caller passes the challenge it expects in ``options.challenge``):

        - one this node handed out (``create_challenge``) must be live and unused, and is
          consumed once the presentation's own proof (signature, binding, challenge, domain)
          has verified, so a forged presentation cannot burn a holder's live challenge;
          consumption is atomic, so a replay racing the first use fails;
        - one the node did not hand out is the caller's expected value: the proof must carry
          it, and the caller vouches for its freshness. Refused instead when
          ``config.accept_caller_challenges`` is off, or when ``options.checks`` names
          ``"challenge"`` (as Digital Bazaar's verifier reads it: check against this
          verifier's own challenges);
        - with no ``options.challenge``, a challenge in the proof that this node handed out is
          checked and consumed all the same (leaving the option out cannot replay it); any
          other is vouched for by nobody, so ``require_challenge`` refuses the presentation.
        """
        from vc.presentations import verify_presentation

        options = dict(options or {})
        challenge = options.get("challenge")
        domain = options.get("domain")
        checks_option = options.get("checks")
        node_only = not self.config.accept_caller_challenges or (
            isinstance(checks_option, list) and "challenge" in checks_option
        )
        problem: ProblemError | None = None
        consume = False
        if challenge is None:
            carried = [c for c in _proof_challenges(vp) if await self.challenge_state(c) is not None]
            if carried:
                challenge = carried[0]
            elif self.config.require_challenge:
                problem = InvalidChallengeError(
                    "options.challenge is required: pass the challenge the holder was asked to sign "
                    "(for instance one from POST /challenges)"
                )
        if isinstance(challenge, str) and problem is None:
            state = await self.challenge_state(challenge)
            if state == "live":
                consume = True
            elif state is not None:
                problem = _unusable_challenge()
            elif node_only:
                problem = InvalidChallengeError(
                    "options.challenge was not issued by this node (POST /challenges); this node only "
                    "accepts its own challenges"
                    + (" because options.checks names \"challenge\"" if self.config.accept_caller_challenges else "")
                )
        elif challenge is not None and not isinstance(challenge, str):
            problem = InvalidChallengeError("options.challenge must be a string")
        resolver, check_status = self._bridged()
        now = self.clock()
        result = await _off_loop(
            lambda: verify_presentation(
                vp,
                resolver=resolver,
                loader=self.services.loader,
                now=now,
                challenge=challenge if isinstance(challenge, str) else None,
                domain=domain if isinstance(domain, str) else None,
                check_status=check_status,
                reporters=REPORTERS,
            )
        )
        holder_proved = all(c.ok for c in result.checks if c.name in _HOLDER_PROOF_CHECKS)
        if problem is None and consume and holder_proved:
            if not await self.consume_challenge(challenge):
                problem = _unusable_challenge()
        if problem is not None:
            result.add(Check("challenge", "failed", problem.detail, problem.problem()))
        return result

    def _bridged(self) -> tuple[Any, Callable[[JsonObject], Awaitable[list[Any]]] | None]:
        loop = asyncio.get_running_loop()
        check_status = self.services.check_status
        return (
            _LoopBridge(self.services.resolver, loop),
            _bridge_function(check_status, loop) if check_status is not None else None,
        )

    async def create_challenge(self) -> Challenge:
        """A single-use, expiring challenge for presentation verification (VC-API /challenges)."""
        now = self.clock()
        value = CHALLENGE_PREFIX + secrets.token_urlsafe(24)
        expires = now + timedelta(seconds=self.config.challenge_ttl_seconds)
        async with self.store.transaction() as db:
            await db.execute("DELETE FROM challenges WHERE expires < ?", (utcnow_iso(now),))
            await db.execute("INSERT INTO challenges (challenge, expires) VALUES (?, ?)", (value, utcnow_iso(expires)))
        return Challenge(value, expires)

    async def consume_challenge(self, challenge: str) -> bool:
        """True exactly once for a live challenge this node issued."""
        now = utcnow_iso(self.clock())
        async with self.store.transaction() as db:
            cur = await db.execute(
                "UPDATE challenges SET used = ? WHERE challenge = ? AND used IS NULL AND expires >= ?",
                (now, challenge, now),
            )
            return cur.rowcount == 1

    async def challenge_state(self, challenge: str) -> Literal["live", "spent"] | None:
        """``live`` (issued here, unexpired, unused), ``spent`` (issued here, used or expired), or
        ``None``: this node never handed it out (or forgot it long after it expired)."""
        now = utcnow_iso(self.clock())
        async with self.store.read() as db:
            cur = await db.execute("SELECT used, expires FROM challenges WHERE challenge = ?", (challenge,))
            row = await cur.fetchone()
        if row is None:
            # Expired rows are deleted; the prefix still marks the value as one of ours, so a
            # forgotten challenge stays spent rather than turning into a caller's own value.
            return "spent" if challenge.startswith(CHALLENGE_PREFIX) else None
        return "live" if row[0] is None and row[1] >= now else "spent"

    async def challenge_is_live(self, challenge: str) -> bool:
        """Issued by this node, not expired and not used yet (read only; nothing consumed)."""
        now = utcnow_iso(self.clock())
        async with self.store.read() as db:
            cur = await db.execute(
                "SELECT 1 FROM challenges WHERE challenge = ? AND used IS NULL AND expires >= ?", (challenge, now)
            )
            return await cur.fetchone() is not None

    # --- tokens ------------------------------------------------------------------------

    async def create_token(self, scopes: Sequence[str], *, issuer: str | None = None) -> NewToken:
        """A new API token; the plaintext is returned here only, the store keeps its hash."""
        scopes = list(dict.fromkeys(scopes))
        if not scopes:
            raise InvalidRequestError(f"a token needs at least one scope ({', '.join(SCOPES)})")
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise InvalidRequestError(f"unknown scope(s) {', '.join(map(repr, bad))}: use {', '.join(SCOPES)}")
        if issuer is not None:
            await self.get_issuer(issuer)
        token_id = secrets.token_hex(8)
        token = f"vcn_{token_id}_{secrets.token_urlsafe(32)}"
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO tokens (id, token_hash, scopes, issuer, created) VALUES (?, ?, ?, ?, ?)",
                (token_id, hash_token(token), json.dumps(scopes), issuer, utcnow_iso(self.clock())),
            )
        return NewToken(token_id, token, scopes, issuer)

    async def check_token(self, token: str) -> Grant | None:
        """The grant of a live token, ``None`` for an unknown or revoked one (node.auth.TokenVerifier)."""
        row = await self.store.fetchone(
            "SELECT id, scopes, issuer FROM tokens WHERE token_hash = ? AND revoked IS NULL", (hash_token(token),)
        )
        if row is None:
            return None
        return Grant(token_id=row["id"], scopes=frozenset(json.loads(row["scopes"])), issuer=row["issuer"])

    async def revoke_token(self, token_id: str) -> None:
        async with self.store.transaction() as db:
            cur = await db.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (utcnow_iso(self.clock()), token_id)
            )
            if cur.rowcount != 1:
                async with db.execute("SELECT 1 FROM tokens WHERE id = ?", (token_id,)) as c:
                    if await c.fetchone() is None:
                        raise UnknownTokenError(f"no token with id {token_id!r}")

    async def list_tokens(self) -> list[TokenRecord]:
        rows = await self.store.fetchall("SELECT * FROM tokens ORDER BY created, id")
        return [TokenRecord(r["id"], json.loads(r["scopes"]), r["issuer"], r["created"], r["revoked"]) for r in rows]


# Every challenge this node hands out starts with this, so it is recognised as the node's own
# even after its row is gone (see challenge_state).
CHALLENGE_PREFIX = "vcnode-"

# The checks that show the holder signed this very challenge; only then is it spent.
_HOLDER_PROOF_CHECKS = frozenset({"proof", "binding", "challenge", "domain"})


def _proof_challenges(vp: Any) -> list[str]:
    """The challenges a presentation's proofs carry (whatever their shape; verification judges that)."""
    proofs = vp.get("proof") if isinstance(vp, dict) else None
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return [p["challenge"] for p in proofs if isinstance(p, dict) and isinstance(p.get("challenge"), str)]


def _unusable_challenge() -> InvalidChallengeError:
    return InvalidChallengeError("options.challenge was not issued by this node, has expired, or was already used")

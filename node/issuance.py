"""Issuing credentials: prepare, admit (record and allocate status indexes), sign.

A request goes through three steps, in this order:

1. **prepare** (off the loop): fill what the node fills (``issuer``, ``id``, ``validFrom``),
   refuse what it must not sign, check the data model. Nothing is stored yet.
2. **admit**: one transaction records the credentials and hands out their status-list
   indexes. It commits before anything is signed, so a crash afterwards leaves the indexes
   used and never reused, and a concurrent request (in this process or another) can never
   draw the same index. Concurrent requests are group-committed: whatever is waiting when a
   transaction starts goes into it, each request in its own savepoint (a refused request
   rolls back alone), and one fsync covers them all.
3. **sign** (off the loop): canonicalize and sign each credential with the issuer's key,
   under the DID the credential names. A failure here forgets the records (the indexes stay
   used). A status list opened by the batch is published before the first credential is
   handed out, so its URL resolves as soon as the credential exists.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from node.config import Config
from node.errors import DuplicateCredentialError, InvalidRequestError, IssuerMismatchError
from node.issuers import IssuerInfo, Issuers, check_purposes
from node.offload import Offload, shared_offload
from node.statuslists import Allocation, StatusLists
from node.store import Database, Tx, utcnow_iso
from node.store import credentials as table
from vc.datamodel import check_credential, is_url

JsonObject = dict[str, Any]
Admitted = tuple[dict[str, list[Allocation]], set[int]]

CRYPTOSUITES: tuple[str, ...] = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"


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
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.loader = loader
        self.issuers = issuers
        self.status_lists = status_lists
        self.offload = offload or shared_offload()
        self._admissions: list[tuple[str, list[str], list[JsonObject], str, asyncio.Future[Admitted]]] = []
        self._admitter: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

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

        issuer = await self.issuers.get(issuer_name)
        options = dict(options or {})
        suite_name = options.get("cryptosuite", "eddsa-rdfc-2022")
        if suite_name not in CRYPTOSUITES:
            raise InvalidRequestError(f"options.cryptosuite {suite_name!r} is not supported: use {' or '.join(CRYPTOSUITES)}")
        purposes = check_purposes(options["statusPurposes"]) if "statusPurposes" in options else issuer.status_purposes
        now = self.clock()
        # Copying and data-model checks of a large batch are CPU work too: off the event loop.
        prepared = await self.offload(lambda: [self._prepare(issuer, c, now) for c in credentials])
        ids = [p["id"] for p in prepared]
        if len(set(ids)) != len(ids):
            raise InvalidRequestError("the batch contains the same credential id more than once")

        allocations, created = await self._admit(issuer.name, purposes, prepared, utcnow_iso(now))
        for i, credential in enumerate(prepared):
            statuses = [self.status_lists.entry(allocations[p][i]) for p in purposes]
            if statuses:
                given = credential.get("credentialStatus", [])
                statuses = [*(given if isinstance(given, list) else [given]), *statuses]
                credential["credentialStatus"] = statuses[0] if len(statuses) == 1 else statuses
        pair = await self.issuers.keypair(issuer.name)
        suite = SUITES[suite_name]
        loader = self.loader

        def sign_one(c: JsonObject) -> JsonObject:
            # Sign with the key's verification method under the DID the credential names
            # (did:web or did:key), so the proof's controller is the issuer.
            vm = issuer.verification_methods[issuer.dids.index(_issuer_id(c) or issuer.did)]
            if c["@context"][0] == VC_V1:
                # vc.credentials.issue_credential signs VC 2.0 only; a 1.1 credential the
                # operator asked for is signed as 1.1 (data-model checked in _prepare).
                return add_proof(
                    c, suite=suite, key=pair, verification_method=vm, purpose="assertionMethod", created=now, loader=loader
                )
            return issue_credential(c, key=pair, verification_method=vm, suite=suite, loader=loader, now=now)

        def sign_all() -> list[JsonObject]:
            out = []
            for c in prepared:
                out.append(sign_one(c))
                if progress is not None:
                    progress(1)
            return out

        # Every list a credential names is published before the credential is handed out: the
        # lists this batch opened, and one that another request of the same group commit opened
        # and may still be signing (republish returns at once for a list already published).
        named = {a.list_id for per_purpose in allocations.values() for a in per_purpose}
        try:
            await self.status_lists.republish(created | named)
            signed = await self.offload(sign_all)
        except BaseException:
            # Nothing was handed out: forget the records, keep the indexes used (never reused).
            await self._forget(ids)
            raise
        return signed

    # --- admission ---------------------------------------------------------------------

    async def _admit(self, issuer_name: str, purposes: list[str], prepared: list[JsonObject], issued_at: str) -> Admitted:
        """Record the credentials and allocate their indexes, durably, before anything is signed
        (group commit: see the module docstring). A request hears back only after the commit."""
        future: asyncio.Future[Admitted] = asyncio.get_running_loop().create_future()
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
        async with self.db.transaction() as tx:
            await table.forget(tx, ids)

    async def _admit_waiting(self) -> None:
        while self._admissions:
            batch, self._admissions = self._admissions, []
            done: list[tuple[asyncio.Future[Admitted], Admitted]] = []
            try:
                async with self.db.transaction() as tx:
                    for issuer_name, purposes, prepared, issued_at, future in batch:
                        try:
                            async with tx.savepoint():
                                result = await self._admit_one(tx, issuer_name, purposes, prepared, issued_at)
                        except Exception as e:
                            if not future.done():
                                future.set_exception(e)
                        else:
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

    async def _admit_one(self, tx: Tx, issuer_name: str, purposes: list[str], prepared: list[JsonObject], issued_at: str) -> Admitted:
        ids = [c["id"] for c in prepared]
        existing = await table.existing_ids(tx, ids)
        taken = [i for i in ids if i in existing]
        if taken:
            raise DuplicateCredentialError(f"a credential with id {taken[0]!r} was already issued", id=taken[0])
        await table.insert_active(tx, [(c["id"], issuer_name, subject_id(c), issued_at) for c in prepared])
        allocations: dict[str, list[Allocation]] = {}
        created: set[int] = set()
        for purpose in purposes:
            allocations[purpose], new_lists = await self.status_lists.allocate(tx, issuer_name, purpose, ids, when=issued_at)
            created |= new_lists
        return allocations, created

    # --- preparation -------------------------------------------------------------------

    def _prepare(self, issuer: IssuerInfo, credential: Any, now: datetime) -> JsonObject:
        """Fill what the node fills (issuer, id, validFrom), refuse what it must not sign."""
        if not isinstance(credential, dict):
            raise InvalidRequestError("credential must be a JSON object")
        vc = copy.deepcopy(credential)
        if "proof" in vc:
            raise InvalidRequestError("the credential already has a proof; send it unsigned")
        if "credentialStatus" in vc:
            self._check_own_status(vc["credentialStatus"])
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

    def _check_own_status(self, given: Any) -> None:
        """A caller's own status entries (another status service, another scheme) are its claims
        to make and are kept; the node's entries are added after them. Entries in this node's
        own lists are the node's to allocate: a caller-chosen index could be another
        credential's, and revoking one would revoke both."""
        own = f"{self.status_lists.base_url}/status/"
        for entry in given if isinstance(given, list) else [given]:
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

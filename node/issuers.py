"""Issuers and their keys: create, look up (by name or DID), DID documents, signing key pairs,
and the store side of key rotation and retirement (``node.key_lifecycle`` orchestrates them).

Each issuer signs with one active Ed25519 key, sealed at rest with the master key
(``node.keys``), and has two DIDs for it: ``did:web`` under the node's base URL
(``did:web:HOST`` for ``default``, ``did:web:HOST:issuers:NAME`` for the others) and the
``did:key`` of the active key. The DIDs are derived, not stored: the base URL is the data
folder's (``node.identity``).

Keys have a history (``IssuerKey``): a rotation makes a fresh key active and supersedes the
old one, which stays in the did:web document (assertionMethod) so that what it signed keeps
verifying; retiring a superseded key takes it out of the document and erases its secret (kept,
for them alone, when its did:key signs status lists: see ``retire_key``). A
did:key is its key, so it cannot rotate: after a rotation the issuer's did:key is the new
key's, and credentials issued under an earlier did:key stay exactly what they were.

Issuers are kept in memory once read, with their opened key pairs, so resolving one of the
node's own DIDs (every verification of its own credentials) costs no store query. Another
process (``vcnode issuer rotate-key`` or ``enable-suspension`` beside the server, or another
server process) may change keys or status purposes: every such change bumps a counter in the
store (``issuers.key_generation``), which ``refresh`` reads at most once per
``refresh_seconds`` (1 s by default), forgetting everything kept when it moved. A running node
therefore serves another process's rotation or retirement, and issues with the status purposes
it added, within that bound. Signing never relies on it: issuance reads the active key inside its
admission transaction and asks the store again in its completing transaction (whose write
lock a retirement cannot slip past), and status lists are signed after a forced refresh.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from did.errors import MethodNotSupported
from did.key import did_key_from_public_key
from did.multikey import decode_ed25519_public
from did.resolver import DIDResolver, ResolutionResult
from did.web import url_to_did_web
from node.errors import (
    InvalidRequestError,
    IssuerExistsError,
    IssuerMismatchError,
    KeyLifecycleError,
    RetiredKeyError,
    UnknownIssuerError,
    UnknownKeyError,
)
from node.keys import MasterKey
from node.store import Database, Row, utcnow_iso
from node.store import issuers as table
from node.store import status_lists as list_rows
from vc.crypto import Ed25519KeyPair

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

DEFAULT_ISSUER = "default"
PURPOSES: tuple[str, ...] = ("revocation", "suspension")
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

# Issuer names become a did:web path segment and a URL path segment, so they are kept to
# characters that need no escaping in either. Matched whole (fullmatch): ``$`` alone also
# matches before a final newline, and "physics\n" became a second issuer with physics's did:web.
_ISSUER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def check_issuer_name(name: Any) -> str:
    if not isinstance(name, str) or not _ISSUER_NAME.fullmatch(name):
        raise InvalidRequestError(
            f"issuer name {name!r} is not allowed: use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def check_purposes(purposes: Any) -> list[str]:
    """Status purposes as given (``revocation``, ``suspension``), duplicates dropped."""
    if not isinstance(purposes, (list, tuple)) or not all(isinstance(p, str) for p in purposes):
        raise InvalidRequestError("statusPurposes must be an array of strings")
    unknown = [p for p in purposes if p not in PURPOSES]
    if unknown:
        raise InvalidRequestError(f"unknown status purpose(s) {', '.join(map(repr, unknown))}: use {' or '.join(PURPOSES)}")
    return list(dict.fromkeys(purposes))


def active_key_refusal(name: str, key_id: str) -> str:
    return f"{key_id} is issuer {name!r}'s active key; rotate first (vcnode issuer rotate-key {name}), then retire it"


@dataclass(frozen=True)
class IssuerKey:
    """One key an issuer has had, and when it signed (``vcnode issuer show``)."""

    id: str  # the public key, Multikey (z6Mk...): the fragment of its verification methods
    activated: str  # when it started signing
    superseded: str | None = None  # when a rotation replaced it: it verifies, it no longer signs
    retired: str | None = None  # when it left the DID document (and stopped signing for the did:web)
    compromised: bool = False

    @property
    def state(self) -> str:
        return "retired" if self.retired else "superseded" if self.superseded else "active"

    @property
    def did_key(self) -> str:
        return did_key_from_public_key(decode_ed25519_public(self.id))

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "state": self.state, "didKey": self.did_key, "activated": self.activated}
        if self.superseded:
            out["superseded"] = self.superseded
        if self.retired:
            out["retired"] = self.retired
        if self.compromised:
            out["compromised"] = True
        return out


@dataclass(frozen=True)
class IssuerInfo:
    name: str
    dids: list[str]  # the signing DID first (did:web of the node's base URL), then did:key of the active key
    verification_methods: list[str]  # one per DID, the active key
    public_key_multibase: str  # the active key
    status_purposes: list[str]
    created: str
    keys: tuple[IssuerKey, ...] = ()  # every key the issuer has had, oldest first

    @property
    def did(self) -> str:
        return self.dids[0]

    @property
    def verification_method(self) -> str:
        return self.verification_methods[0]

    @property
    def published_keys(self) -> list[IssuerKey]:
        """The keys in the did:web document: the active one first, then the superseded ones,
        newest first (credentials and lists they signed keep verifying); never a retired one."""
        live = sorted((k for k in self.keys if k.state != "retired"), key=lambda k: k.activated, reverse=True)
        return sorted(live, key=lambda k: k.state != "active")  # stable: the rest stay newest first

    @property
    def former_did_keys(self) -> list[str]:
        """The did:key DIDs of the issuer's earlier keys: a did:key is its key, so it cannot
        rotate; credentials issued under these stay what they were."""
        return [k.did_key for k in self.keys if k.id != self.public_key_multibase]

    def key(self, key_id: str) -> IssuerKey | None:
        """One of the issuer's keys, by its Multikey or a verification method id ending in it."""
        wanted = key_id.rsplit("#", 1)[-1]
        return next((k for k in self.keys if k.id == wanted), None)

    def verification_method_for(self, did: str, key_id: str) -> str:
        """The verification method of key ``key_id`` under ``did`` (the issuer's did:web, or the
        did:key of that very key); ``IssuerMismatchError`` for any other DID."""
        if did == self.did:
            return f"{did}#{key_id}"
        key = self.key(key_id)
        if key is not None and did == key.did_key:
            return f"{did}#{key_id}"
        raise IssuerMismatchError(
            f"the credential names issuer {did!r}, which is not issuer {self.name!r}'s did:web or the did:key "
            f"of the key it signs with now ({self.dids[1] if len(self.dids) > 1 else self.did})"
            + (
                "; that did:key belongs to one of its earlier keys: a did:key cannot rotate, so new credentials "
                "are issued under the did:key of the active key (or the did:web)"
                if did in self.former_did_keys
                else ""
            ),
            issuer=did,
        )

    def to_json(self) -> JsonObject:
        return {
            "name": self.name,
            "dids": list(self.dids),
            "verificationMethods": list(self.verification_methods),
            "statusPurposes": list(self.status_purposes),
            "keys": [k.to_json() for k in self.keys],
        }


def _key(row: Row) -> IssuerKey:
    return IssuerKey(
        id=row["public_key_multibase"],
        activated=row["activated"],
        superseded=row["superseded"],
        retired=row["retired"],
        compromised=bool(row["compromised"]),
    )


class Issuers:
    def __init__(
        self,
        db: Database,
        *,
        base_url: str,
        default_purposes: Sequence[str],
        master_key: MasterKey,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        refresh_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.base_url = base_url
        self.default_purposes = tuple(default_purposes)
        self.master_key = master_key
        self.clock = clock
        self.monotonic = monotonic
        self.refresh_seconds = refresh_seconds
        self._issuers: dict[str, IssuerInfo] = {}
        self._keys: dict[str, Ed25519KeyPair] = {}  # by public key (Multikey)
        self._generation: int | None = None
        self._checked = float("-inf")
        self._root = self.did_web(DEFAULT_ISSUER)

    def did_web(self, name: str) -> str:
        """``did:web:HOST`` for the default issuer, ``did:web:HOST:issuers:NAME`` for the others."""
        return url_to_did_web(self.base_url if name == DEFAULT_ISSUER else f"{self.base_url}/issuers/{name}")

    def _info(self, row: Row, key_rows: Sequence[Row]) -> IssuerInfo:
        name, public = row["name"], row["public_key_multibase"]
        did_key = did_key_from_public_key(decode_ed25519_public(public))
        did_web = self.did_web(name)
        info = IssuerInfo(
            name=name,
            dids=[did_web, did_key],
            verification_methods=[f"{did_web}#{public}", f"{did_key}#{public}"],
            public_key_multibase=public,
            status_purposes=json.loads(row["status_purposes"]),
            created=row["created"],
            keys=tuple(_key(k) for k in key_rows),
        )
        self._issuers[name] = info
        return info

    def forget(self, name: str | None = None) -> None:
        """Drop what is kept in memory about ``name`` (or every issuer): read again on next use."""
        if name is None:
            self._issuers.clear()
            self._keys.clear()
            return
        info = self._issuers.pop(name, None)
        for key in info.keys if info is not None else ():
            self._keys.pop(key.id, None)

    async def refresh(self, *, force: bool = False) -> None:
        """Forget what is kept in memory if any issuer's keys changed in the store (a rotation or
        retirement by another process). Asked at most every ``refresh_seconds``, unless ``force``:
        one small query, so the verification path stays free of per-request queries and a
        running node serves another process's rotation within that bound."""
        now = self.monotonic()
        if not force and now - self._checked < self.refresh_seconds:
            return
        self._checked = now  # before the await: concurrent callers do not all ask
        async with self.db.read() as tx:
            generation = await table.generation(tx)
        if generation != self._generation:
            # Also on the first reading: what was kept before it (list() keeps what it reads)
            # may predate a change that this reading already counts.
            log.debug("issuer keys changed in the store; reading them again")
            self.forget()
        self._generation = generation

    async def create(self, name: str, *, status_purposes: Sequence[str] | None = None) -> IssuerInfo:
        """A new issuer with a fresh Ed25519 key (sealed at rest) and its own status lists."""
        check_issuer_name(name)
        purposes = check_purposes(status_purposes if status_purposes is not None else list(self.default_purposes))
        pair = Ed25519KeyPair.generate()
        created = utcnow_iso(self.clock())
        async with self.db.transaction() as tx:
            inserted = await table.insert(
                tx,
                name=name,
                created=created,
                status_purposes=json.dumps(purposes),
                public_key_multibase=pair.public_multibase,
                sealed_secret=self.master_key.seal_keypair(pair),
            )
        if not inserted:
            raise IssuerExistsError(f"an issuer named {name!r} already exists", issuer=name)
        self._keys[pair.public_multibase] = pair
        log.info("created issuer %s (%s)", name, pair.public_multibase)
        return await self.get(name)

    async def add_status_purpose(self, name: str, purpose: str) -> tuple[IssuerInfo, bool]:
        """Give issuer ``name`` the status purpose ``purpose`` (``suspension``: ``vcnode issuer
        enable-suspension``): the credentials it issues from now on carry an entry of it, in its
        list of that purpose (opened with the first). Credentials issued before keep the entries
        they have. Returns the issuer as it is now and whether this call added the purpose
        (False: it had it; nothing changed). Read and changed in one write transaction holding
        the issuer's row, so calls at the same time (from any process) add it once; the change
        moves the generation, so every process keeping issuers in memory (a serving node)
        issues with it within ``refresh_seconds``."""
        (purpose,) = check_purposes([purpose])
        async with self.db.transaction() as tx:
            await table.lock(tx, name)
            row = await table.get(tx, name)
            if row is None:
                raise UnknownIssuerError(f"this node has no issuer named {name!r}", issuer=name)
            purposes = json.loads(row["status_purposes"])
            added = purpose not in purposes
            if added:
                await table.set_purposes(tx, name, json.dumps([*purposes, purpose]))
        self.forget(name)
        if added:
            log.info("issuer %s: status purpose %s added; its credentials carry one from now on", name, purpose)
        return await self.get(name), added

    async def _read(self, tx: Any, name: str) -> IssuerInfo | None:
        row = await table.get(tx, name)
        return self._info(row, await table.keys_of(tx, name)) if row is not None else None

    async def get(self, name: str) -> IssuerInfo:
        await self.refresh()
        issuer = self._issuers.get(name)
        if issuer is not None:
            return issuer
        async with self.db.read() as tx:
            issuer = await self._read(tx, name)
        if issuer is None:
            raise UnknownIssuerError(f"this node has no issuer named {name!r}", issuer=name)
        return issuer

    async def list(self) -> list[IssuerInfo]:
        """Every issuer, oldest first (read from the store)."""
        async with self.db.read() as tx:
            rows = await table.list_all(tx)
            keys: dict[str, list[Row]] = {}
            for k in await table.all_keys(tx):
                keys.setdefault(k["issuer"], []).append(k)
        return [self._info(r, keys.get(r["name"], [])) for r in rows]

    async def for_did(self, did: str) -> IssuerInfo | None:
        """The issuer one of whose DIDs ``did`` is (its did:web, or the did:key of any key it
        has had), or None."""
        await self.refresh()
        if did == self._root or did.startswith(self._root + ":"):
            name = DEFAULT_ISSUER if did == self._root else did.rsplit(":", 1)[1]
            kept = self._issuers.get(name)
            if kept is not None and kept.did == did:
                return kept  # the common case, without deriving the did:web again (~40 µs)
            if _ISSUER_NAME.fullmatch(name) and self.did_web(name) == did:
                try:
                    return await self.get(name)
                except UnknownIssuerError:
                    return None
            return None
        if not did.startswith("did:key:"):
            return None  # only DIDs under this node's base URL, or did:key, can be its issuers'
        for issuer in self._issuers.values():
            if did in issuer.dids or did in issuer.former_did_keys:
                return issuer
        # A did:key's method-specific id is the key's Multikey form, as the store keeps it.
        async with self.db.read() as tx:
            row = await table.by_public_key(tx, did.removeprefix("did:key:"))
            issuer = await self._read(tx, row["name"]) if row is not None else None
        return issuer if issuer is not None and (did in issuer.dids or did in issuer.former_did_keys) else None

    async def did_document(self, name: str) -> JsonObject:
        """The issuer's did:web DID document: a Multikey per key that is not retired, the active
        one first; all of them for assertionMethod (what they signed keeps verifying), the
        active one alone for authentication."""
        issuer = await self.get(name)
        did = issuer.did
        keys = issuer.published_keys or [IssuerKey(issuer.public_key_multibase, issuer.created)]
        methods = [f"{did}#{k.id}" for k in keys]
        return {
            "@context": [DID_V1, MULTIKEY_V1],
            "id": did,
            "verificationMethod": [
                {"id": vm, "type": "Multikey", "controller": did, "publicKeyMultibase": k.id} for vm, k in zip(methods, keys)
            ],
            "assertionMethod": methods,
            "authentication": [f"{did}#{issuer.public_key_multibase}"],
        }

    async def find_key(self, name: str, key_id: str) -> tuple[IssuerInfo, IssuerKey]:
        """The issuer and one of its keys (by Multikey, or a verification method id ending in
        it); ``UnknownKeyError`` listing its keys otherwise."""
        issuer = await self.get(name)
        key = issuer.key(key_id)
        if key is None:
            known = ", ".join(f"{k.id} ({k.state})" for k in issuer.keys)
            raise UnknownKeyError(f"issuer {name!r} has no key {key_id!r}; its keys: {known}", issuer=name)
        return issuer, key

    async def signing_key(self, name: str, key_id: str, *, retired_too: bool = False) -> Ed25519KeyPair:
        """The key pair of one of the issuer's keys, opened from the store once. ``RetiredKeyError``
        for a retired key, unless ``retired_too`` (its did:key's status lists, see
        ``signing_identity``) and its secret was kept; ``UnknownKeyError`` if the issuer never had it."""
        pair = self._keys.get(key_id)
        if pair is not None:
            # Kept only while no key change was seen (refresh); issuance asks the store again
            # in its completing transaction, status lists refresh before asking.
            return pair
        async with self.db.read() as tx:
            row, sealed = await table.key_secret(tx, name, key_id)
        if row is None:
            await self.get(name)  # UnknownIssuerError first, when that is the reason
            raise UnknownKeyError(f"issuer {name!r} has no key {key_id!r}", issuer=name)
        if (row["retired"] and not retired_too) or sealed is None:
            raise RetiredKeyError(f"issuer {name!r}'s key {key_id} was retired on {row['retired']}; it signs nothing any more")
        pair = self._keys[key_id] = self.master_key.open_keypair(sealed)
        return pair

    async def keypair(self, name: str) -> Ed25519KeyPair:
        """The active key pair (as this process last read it: see ``refresh``)."""
        issuer = await self.get(name)
        return await self.signing_key(name, issuer.public_key_multibase)

    async def signing_identity(self, name: str, did: str | None = None) -> tuple[Ed25519KeyPair, str, str]:
        """(key pair, DID, verification method) to sign the issuer's status lists with: the
        active key under its did:web (``did`` None or the did:web), or, for the did:key of one
        of its keys, that key: a did:key's lists can be signed by nothing else, so a retired key
        whose did:key has lists keeps its secret for them (``retire_key``). The store is asked
        first whether keys changed, so a did:web list is never signed with a key another process
        retired."""
        await self.refresh(force=True)
        issuer = await self.get(name)
        if did is None or did == issuer.did:
            return await self.signing_key(name, issuer.public_key_multibase), issuer.did, issuer.verification_method
        key = next((k for k in issuer.keys if k.did_key == did), None)
        if key is None:
            raise UnknownKeyError(f"{did} is not a DID of issuer {name!r}", issuer=name)
        return await self.signing_key(name, key.id, retired_too=True), did, f"{did}#{key.id}"

    async def ensure_default(self) -> None:
        """Create the ``default`` issuer if there is none (idempotent, also across processes)."""
        try:
            await self.get(DEFAULT_ISSUER)
        except UnknownIssuerError:
            try:
                await self.create(DEFAULT_ISSUER)
            except IssuerExistsError:
                pass  # created concurrently

    # --- key lifecycle (node.key_lifecycle orchestrates; these are the store changes) --------

    async def rotate_key(self, name: str) -> tuple[IssuerInfo, list[int]]:
        """A fresh key signs for ``name`` from now on; the old one is superseded. Returns the
        issuer as it is now and its status lists, marked for re-signing in the same transaction
        (a crash before they are re-signed is repaired at start-up)."""
        await self.get(name)
        pair = Ed25519KeyPair.generate()
        async with self.db.transaction() as tx:
            await table.lock(tx, name)
            await table.rotate(
                tx, name, public_key_multibase=pair.public_multibase, sealed_secret=self.master_key.seal_keypair(pair),
                when=utcnow_iso(self.clock()),
            )
            lists = await list_rows.of_issuer(tx, name)
            await list_rows.bump_versions(tx, lists)
        self.forget(name)
        self._keys[pair.public_multibase] = pair
        log.info("issuer %s rotated its key: %s signs from now on", name, pair.public_multibase)
        return await self.get(name), lists

    async def retire_key(self, name: str, key_id: str, *, compromised: bool = False) -> tuple[IssuerKey, bool, list[int], bool]:
        """Retire one of ``name``'s superseded keys: it leaves the did:web document and signs
        nothing for the did:web again; its secret is erased unless its did:key has status lists
        (then it signs those alone). Returns the key as it is now, whether this call retired it
        (False: it was retired before), the issuer's did:web lists, marked for re-signing with
        the active key, and whether the secret was kept for its did:key's lists."""
        _, key = await self.find_key(name, key_id)
        async with self.db.transaction() as tx:
            await table.lock(tx, name)
            if await table.active_key(tx, name) == key.id:
                raise KeyLifecycleError(active_key_refusal(name, key.id))
            # Its did:key's own status lists (credentials issued under that did:key) can be signed
            # by this key alone, and revoking is the only way left to withdraw those credentials:
            # the secret is kept for them. Without such lists it is erased.
            keeps_lists = bool(await list_rows.of_issuer(tx, name, signer=key.did_key))
            retired = await table.retire(
                tx, name, key.id, when=utcnow_iso(self.clock()), compromised=compromised, erase=not keeps_lists
            )
            lists = await list_rows.of_issuer(tx, name) if retired else []
            await list_rows.bump_versions(tx, lists)
        self.forget(name)
        if retired:
            log.warning("issuer %s retired its key %s%s", name, key.id, " (compromised)" if compromised else "")
        return (await self.get(name)).key(key.id) or key, retired, lists, keeps_lists


class OwnDIDWeb:
    """did:web resolution that answers the node's own DIDs from ``Issuers``, the rest through
    ``web`` (over HTTP), or not at all without it.

    A node verifying its own credentials should not depend on reaching itself through its
    public URL (it may sit behind a proxy, or not be serving at all, as in the CLI).
    """

    def __init__(self, issuers: Issuers, web: DIDResolver | None) -> None:
        self.issuers = issuers
        self.web = web

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult:
        issuer = await self.issuers.for_did(did)
        if issuer is not None and issuer.did == did:
            return ResolutionResult.success(await self.issuers.did_document(issuer.name))
        if self.web is None:
            return ResolutionResult.failure(MethodNotSupported("did:web resolution needs the network, which is off here"))
        return await self.web.resolve(did, options) if options else await self.web.resolve(did)

    async def refresh(self, did: str) -> bool:
        """Let the web resolver fetch another node's document again (see ``DIDWebResolver.refresh``);
        the node's own documents come from ``Issuers``, which follows key changes itself."""
        refresh = getattr(self.web, "refresh", None)
        if refresh is None or await self.issuers.for_did(did) is not None:
            return False
        return bool(await refresh(did))

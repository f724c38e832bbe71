"""Issuers and their keys: create, look up (by name or DID), DID documents, signing key pairs.

Each issuer has one Ed25519 key, sealed at rest with the master key (``node.keys``), and two
DIDs for it: ``did:web`` under the node's base URL (``did:web:HOST`` for ``default``,
``did:web:HOST:issuers:NAME`` for the others) and ``did:key``. The DIDs are derived, not
stored, because did:web follows the configured base URL.

Issuers are kept in memory once read, with their opened key pairs, so resolving one of the
node's own DIDs (every verification of its own credentials) costs no store query. An issuer
never changes once created, and a name or key that is not in memory is always looked up in
the store, so an issuer created by another process (``vcnode issuer create`` beside the
server) is found on first use. A change to an issuer (key rotation, one day) must go through
``Issuers`` and call ``forget``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from did.errors import MethodNotSupported
from did.key import did_key_from_public_key
from did.multikey import decode_ed25519_public
from did.resolver import DIDResolver, ResolutionResult
from did.web import url_to_did_web
from node.errors import InvalidRequestError, IssuerExistsError, UnknownIssuerError
from node.keys import MasterKey
from node.store import Database, Row, utcnow_iso
from node.store import issuers as table
from vc.crypto import Ed25519KeyPair

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

DEFAULT_ISSUER = "default"
PURPOSES: tuple[str, ...] = ("revocation", "suspension")
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

# Issuer names become a did:web path segment and a URL path segment, so they are kept to
# characters that need no escaping in either.
_ISSUER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def check_issuer_name(name: Any) -> str:
    if not isinstance(name, str) or not _ISSUER_NAME.match(name):
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


class Issuers:
    def __init__(
        self,
        db: Database,
        *,
        base_url: str,
        default_purposes: Sequence[str],
        master_key: MasterKey,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.base_url = base_url
        self.default_purposes = tuple(default_purposes)
        self.master_key = master_key
        self.clock = clock
        self._issuers: dict[str, IssuerInfo] = {}
        self._keys: dict[str, Ed25519KeyPair] = {}
        self._root = self.did_web(DEFAULT_ISSUER)

    def did_web(self, name: str) -> str:
        """``did:web:HOST`` for the default issuer, ``did:web:HOST:issuers:NAME`` for the others."""
        return url_to_did_web(self.base_url if name == DEFAULT_ISSUER else f"{self.base_url}/issuers/{name}")

    def _info(self, row: Row) -> IssuerInfo:
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
        )
        self._issuers[name] = info
        return info

    def forget(self, name: str | None = None) -> None:
        """Drop what is kept in memory about ``name`` (or every issuer): read again on next use."""
        for kept in (self._issuers, self._keys):
            if name is None:
                kept.clear()
            else:
                kept.pop(name, None)

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
        self._keys[name] = pair
        log.info("created issuer %s (%s)", name, pair.public_multibase)
        return self._info(
            {"name": name, "public_key_multibase": pair.public_multibase, "status_purposes": json.dumps(purposes), "created": created}
        )

    async def get(self, name: str) -> IssuerInfo:
        issuer = self._issuers.get(name)
        if issuer is not None:
            return issuer
        async with self.db.read() as tx:
            row = await table.get(tx, name)
        if row is None:
            raise UnknownIssuerError(f"this node has no issuer named {name!r}", issuer=name)
        return self._info(row)

    async def list(self) -> list[IssuerInfo]:
        """Every issuer, oldest first (read from the store)."""
        async with self.db.read() as tx:
            rows = await table.list_all(tx)
        return [self._info(r) for r in rows]

    async def for_did(self, did: str) -> IssuerInfo | None:
        """The issuer one of whose DIDs ``did`` is, or None."""
        if did == self._root or did.startswith(self._root + ":"):
            name = DEFAULT_ISSUER if did == self._root else did.rsplit(":", 1)[1]
            if _ISSUER_NAME.match(name) and self.did_web(name) == did:
                try:
                    return await self.get(name)
                except UnknownIssuerError:
                    return None
            return None
        if not did.startswith("did:key:"):
            return None  # only DIDs under this node's base URL, or did:key, can be its issuers'
        for issuer in self._issuers.values():
            if did in issuer.dids:
                return issuer
        # A did:key's method-specific id is the key's Multikey form, as the store keeps it.
        async with self.db.read() as tx:
            row = await table.by_public_key(tx, did.removeprefix("did:key:"))
        issuer = self._info(row) if row is not None else None
        return issuer if issuer is not None and did in issuer.dids else None

    async def did_document(self, name: str) -> JsonObject:
        """The issuer's did:web DID document: one Multikey, for assertionMethod and authentication."""
        issuer = await self.get(name)
        did = issuer.did
        vm_id = issuer.verification_method
        return {
            "@context": [DID_V1, MULTIKEY_V1],
            "id": did,
            "verificationMethod": [
                {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": issuer.public_key_multibase}
            ],
            "assertionMethod": [vm_id],
            "authentication": [vm_id],
        }

    async def keypair(self, name: str) -> Ed25519KeyPair:
        pair = self._keys.get(name)
        if pair is None:
            async with self.db.read() as tx:
                sealed = await table.sealed_secret(tx, name)
            if sealed is None:
                raise UnknownIssuerError(f"this node has no issuer named {name!r}", issuer=name)
            pair = self._keys[name] = self.master_key.open_keypair(sealed)
        return pair

    async def signing_identity(self, name: str, did: str | None = None) -> tuple[Ed25519KeyPair, str, str]:
        """(key pair, DID, its verification method): what the issuer's status lists signed by
        ``did`` (one of its DIDs; None: its did:web) are signed with."""
        issuer = await self.get(name)
        chosen = issuer.did if did is None else did
        if chosen not in issuer.dids:
            raise UnknownIssuerError(f"{chosen} is not a DID of issuer {name!r}", issuer=name)
        return await self.keypair(name), chosen, issuer.verification_methods[issuer.dids.index(chosen)]

    async def ensure_default(self) -> None:
        """Create the ``default`` issuer if there is none (idempotent, also across processes)."""
        try:
            await self.get(DEFAULT_ISSUER)
        except UnknownIssuerError:
            try:
                await self.create(DEFAULT_ISSUER)
            except IssuerExistsError:
                pass  # created concurrently


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

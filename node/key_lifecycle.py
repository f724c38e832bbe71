"""Key rotation and retirement for an issuer, with what they imply for its status lists and
credentials (``vcnode issuer rotate-key`` / ``retire-key``).

* **rotate**: a fresh Ed25519 key signs from now on. The old key is superseded: it stays in the
  issuer's did:web document (assertionMethod), so credentials and lists it signed keep
  verifying. The issuer's status lists are re-signed with the new key at once, so that
  retiring the old key later leaves no list signed by it.
* **retire**: a superseded key leaves the did:web document; from then on nothing it signed
  under the did:web verifies, and it signs nothing for the did:web again. Its secret is erased,
  unless its did:key signs status lists (credentials issued under that did:key): those lists
  can be signed by that key alone, and revoking is the only way left to withdraw such
  credentials, so the sealed secret is kept for them and nothing else. With ``compromised``,
  the credentials it signed are listed, and with ``revoke`` revoked in the same command.
* **did:key** cannot rotate: a did:key *is* its key. After a rotation the issuer's did:key is the
  new key's; credentials issued under an earlier did:key stay valid wherever did:key is
  accepted, also after retirement (nothing can withdraw a did:key document); the only way to
  withdraw them is to revoke them.

The changes are made in the store by ``node.issuers.Issuers`` (one transaction each, which also
marks the issuer's lists for re-signing, so a crash is repaired at the next start); this
module re-signs the lists and handles the credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from node.errors import InvalidRequestError, KeyLifecycleError
from node.issuers import IssuerInfo, IssuerKey, Issuers, active_key_refusal
from node.records import CredentialRecord, CredentialRecords
from node.status_changes import StatusChanges
from node.statuslists import StatusLists
from node.store import Database
from node.store import credentials as credential_rows

JsonObject = dict[str, Any]

DID_KEY_NOTE = (
    "a did:key is its key and cannot rotate: new credentials naming the issuer's did:key are issued under "
    "{new}; those issued under {old} keep verifying wherever did:key is accepted, even after that key is "
    "retired, and can only be withdrawn by revoking them"
)


@dataclass(frozen=True)
class Rotation:
    issuer: IssuerInfo  # as it is now
    previous: IssuerKey  # superseded by this rotation
    current: IssuerKey  # signs from now on
    lists_resigned: int

    @property
    def did_key_note(self) -> str:
        return DID_KEY_NOTE.format(new=self.current.did_key, old=self.previous.did_key)

    def to_json(self) -> JsonObject:
        return {
            "issuer": self.issuer.name,
            "did": self.issuer.did,
            "previousKey": self.previous.to_json(),
            "activeKey": self.current.to_json(),
            "statusListsResigned": self.lists_resigned,
            "didKey": self.did_key_note,
        }


@dataclass(frozen=True)
class Retirement:
    issuer: str
    key: IssuerKey  # as it is now
    retired_now: bool  # False: it was retired before (compromised may have been added now)
    lists_resigned: int
    signed: list[CredentialRecord] = field(default_factory=list)  # with compromised: what it signed
    revoked: list[str] = field(default_factory=list)  # revoked by this call
    not_revocable: list[str] = field(default_factory=list)  # issued without a revocation entry
    kept_for_did_key_lists: bool = False  # its secret kept to sign its did:key's status lists

    def to_json(self) -> JsonObject:
        return {
            "issuer": self.issuer,
            "key": self.key.to_json(),
            "retiredNow": self.retired_now,
            "statusListsResigned": self.lists_resigned,
            "signedCredentials": [
                {"id": r.id, "subjectId": r.subject_id, "issued": r.issued, "status": r.status} for r in self.signed
            ],
            "revoked": list(self.revoked),
            "notRevocable": list(self.not_revocable),
            "keptForDidKeyLists": self.kept_for_did_key_lists,
        }


class KeyLifecycle:
    def __init__(
        self,
        db: Database,
        *,
        issuers: Issuers,
        status_lists: StatusLists,
        status: StatusChanges,
        credentials: CredentialRecords,
    ) -> None:
        self.db = db
        self.issuers = issuers
        self.status_lists = status_lists
        self.status = status
        self.credentials = credentials

    async def rotate(self, name: str) -> Rotation:
        """A new key for ``name``; its status lists re-signed with it before this returns."""
        before = await self.issuers.get(name)
        previous = before.key(before.public_key_multibase) or IssuerKey(before.public_key_multibase, before.created)
        issuer, lists = await self.issuers.rotate_key(name)
        await self.status_lists.republish(lists)
        current = issuer.key(issuer.public_key_multibase) or IssuerKey(issuer.public_key_multibase, "")
        return Rotation(issuer, issuer.key(previous.id) or previous, current, len(lists))

    async def signed_by(self, name: str, key_id: str) -> list[CredentialRecord]:
        """Every credential of ``name`` the key signed (as recorded at issuance), oldest first."""
        _, key = await self.issuers.find_key(name, key_id)
        return await self.credentials.list(issuer_name=name, signing_key=key.id)

    async def retire(self, name: str, key_id: str, *, compromised: bool = False, revoke: bool = False) -> Retirement:
        """Retire a superseded key (see the module docstring). ``revoke`` needs ``compromised``:
        revoking everything a key signed is what a compromise calls for, not a routine retirement."""
        if revoke and not compromised:
            raise InvalidRequestError("--revoke revokes every credential the key signed: it needs --compromised")
        issuer, key = await self.issuers.find_key(name, key_id)
        if key.id == issuer.public_key_multibase:
            # Refused before anything is revoked (retire_key checks again under the write lock).
            raise KeyLifecycleError(active_key_refusal(name, key.id))
        signed = await self.signed_by(name, key_id) if compromised else []
        revoked: list[str] = []
        not_revocable: list[str] = []
        if revoke:
            for record in signed:
                if record.status == "revoked":
                    continue
                if "revocation" in {e.purpose for e in record.status_entries}:
                    revoked.append(record.id)
                else:
                    not_revocable.append(record.id)
            if revoked:
                await self.status.set_status_many([(cid, "revoked") for cid in revoked], issuer_name=name)
                signed = await self.signed_by(name, key_id)
        retired_key, retired_now, lists, kept = await self.issuers.retire_key(name, key_id, compromised=compromised)
        await self.status_lists.republish(lists)
        return Retirement(name, retired_key, retired_now, len(lists), signed, revoked, not_revocable, kept)

    async def signed_counts(self, name: str) -> dict[str, int]:
        """How many credentials each of the issuer's keys signed."""
        async with self.db.read() as tx:
            return await credential_rows.count_by_signing_key(tx, name)

"""What the node remembers of the credentials it issued: who, to whom, when, status, entries.

The credential itself (personal data) is not kept; a record is what an operator needs to find
a credential and change its status (``node.status_changes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from node.errors import UnknownCredentialError
from node.statuslists import EntryInfo, StatusLists
from node.store import Database, Row
from node.store import credentials as table

JsonObject = dict[str, Any]


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

    @classmethod
    def of(cls, row: Row, entries: Sequence[EntryInfo], status: str | None = None) -> "CredentialRecord":
        return cls(
            id=row["id"],
            issuer=row["issuer"],
            subject_id=row["subject_id"],
            issued=row["issued"],
            status=status if status is not None else row["status"],
            status_entries=[StatusEntryRecord(e.purpose, e.url, e.index) for e in entries],
        )

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


class CredentialRecords:
    def __init__(self, db: Database, *, status_lists: StatusLists) -> None:
        self.db = db
        self.status_lists = status_lists

    async def get(self, credential_id: str) -> CredentialRecord:
        async with self.db.read() as tx:
            row = await table.get(tx, credential_id)
            if row is None:
                raise UnknownCredentialError(
                    f"no credential with id {credential_id!r} was issued by this node", credentialId=credential_id
                )
            entries = await self.status_lists.entries_for(tx, credential_id)
        return CredentialRecord.of(row, entries)

    async def list(
        self, *, issuer_name: str | None = None, subject_id: str | None = None, signing_key: str | None = None
    ) -> list[CredentialRecord]:
        """The issued credentials' records, oldest first, optionally of one issuer, subject or
        signing key (the issuer's key, Multikey, that signed them: ``node.key_lifecycle``)."""
        async with self.db.read() as tx:
            rows = await table.find(tx, issuer=issuer_name, subject_id=subject_id, signing_key=signing_key)
            entries = await self.status_lists.entries_for_many(tx, [r["id"] for r in rows])
        return [CredentialRecord.of(r, entries.get(r["id"], [])) for r in rows]

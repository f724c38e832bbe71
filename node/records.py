"""What the node remembers of the credentials it issued: who, to whom, when, status, entries,
and (``keep_credentials``) the signed credential itself.

A record is what an operator needs to find a credential and change its status
(``node.status_changes``); it stays as long as the node does. The body is personal data (the
learner's name, e-mail, grade): kept so that a lost response can be recovered (``body``: GET
/credentials/{id}, ``vcnode credentials show``, a replayed idempotency key), erased after
``retention_days`` or on demand (``purge``: ``vcnode credentials purge``), the record staying.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from node.errors import CredentialGoneError, UnknownCredentialError
from node.statuslists import EntryInfo, StatusLists
from node.store import Database, Row, utcnow_iso
from node.store import credentials as table

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class StatusEntryRecord:
    purpose: str
    list_url: str
    index: int

    @property
    def id(self) -> str:
        """The entry's ``id`` in the issued credential: the node names each entry
        ``{statusListCredential}#{statusListIndex}`` (``status.credential``)."""
        return f"{self.list_url}#{self.index}"


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

    async def body(self, credential_id: str, *, issuer_name: str | None = None) -> JsonObject:
        """The signed credential as issued. ``UnknownCredentialError`` (404) when no credential
        of that id was issued (by ``issuer_name``, when given: another issuer's is not found
        either); ``CredentialGoneError`` (410) when it was but its body is not kept: the detail
        says which (purged when, or never kept)."""
        async with self.db.read() as tx:
            row = await table.with_body(tx, credential_id)
        if row is None or (issuer_name is not None and row["issuer"] != issuer_name):
            raise UnknownCredentialError(
                f"no credential with id {credential_id!r} was issued by " + (f"issuer {issuer_name!r}" if issuer_name else "this node"),
                credentialId=credential_id,
            )
        if row["body"] is None:
            why = (
                f"its body was erased on {row['body_purged']} (retention_days, or vcnode credentials purge); its status record remains"
                if row["body_purged"]
                else "its body is not kept (keep_credentials was off when it was issued); its status record remains"
            )
            raise CredentialGoneError(
                f"credential {credential_id!r} was issued on {row['issued']}, but {why}", credentialId=credential_id, bodyKept=False
            )
        body: JsonObject = json.loads(row["body"])
        return body

    async def purge(
        self,
        *,
        now: datetime,
        older_than_days: int | None = None,
        ids: Sequence[str] | None = None,
        subject_id: str | None = None,
    ) -> int:
        """Erase kept bodies (journalled ones too) stored more than ``older_than_days`` before
        ``now``, or of ``ids``, or of the credentials issued to ``subject_id`` (all given
        conditions hold); the status records stay. The number erased."""
        if older_than_days is None and ids is None and subject_id is None:
            raise ValueError("purge needs older_than_days, ids or subject_id")
        before = utcnow_iso(now - timedelta(days=older_than_days)) if older_than_days is not None else None
        async with self.db.transaction() as tx:
            return await table.purge_bodies(tx, when=utcnow_iso(now), stored_before=before, ids=ids, subject_id=subject_id)

    async def kept(self, ids: Sequence[str]) -> dict[str, JsonObject]:
        """The kept (or journalled) bodies among ``ids``."""
        async with self.db.read() as tx:
            rows = await table.bodies(tx, ids)
        return {cid: json.loads(row["body"]) for cid, row in rows.items()}

    async def drop_journal(self, ids: Sequence[str]) -> None:
        """Forget the journalled bodies of ``ids`` (a batch's output holds them now); kept ones stay."""
        async with self.db.transaction() as tx:
            await table.drop_journal(tx, ids)

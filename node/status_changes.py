"""Revoking, suspending and reinstating credentials (Bitstring Status List v1.0 §2.1).

A change is committed (durable) in one transaction with the bits it sets, and the lists it
touched are re-signed before the caller hears back, so the next GET of a list shows it.
Revocation is final; suspension can be lifted. A credential can only take a status its
entries have a purpose for. A ``message`` entry (§2.1: ``statusSize`` bits, one
``statusMessage`` per value) holds any of its values, set with ``set_message``; it says
something about the credential without revoking or suspending it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Callable, Iterable, Literal

from node.errors import InvalidRequestError, StatusChangeError, UnknownCredentialError
from node.records import CredentialRecord
from node.statuslists import EntryInfo, PendingList, StatusLists
from node.store import Database, utcnow_iso
from node.store import credentials as table
from status.credential import MESSAGE, status_value
from vc.errors import MalformedValueError

Status = Literal["active", "revoked", "suspended"]
STATUSES: tuple[str, ...] = ("active", "revoked", "suspended")


class StatusChanges:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        status_lists: StatusLists,
        observe: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.status_lists = status_lists
        self.observe = observe  # (issuer name, new status, how many): node.observe

    async def set_status(self, credential_id: str, status: str, *, issuer_name: str | None = None) -> CredentialRecord:
        """Revoke, suspend or reactivate a credential; the list is re-signed before this returns."""
        return (await self.set_status_many([(credential_id, status)], issuer_name=issuer_name))[0]

    async def set_status_many(self, changes: Iterable[tuple[str, str]], *, issuer_name: str | None = None) -> list[CredentialRecord]:
        """Apply many status changes in one transaction, then re-sign each list holding one of
        the credentials' entries (once, and only when stale).

        All or nothing: one refused change (unknown credential, revoked one) refuses the batch.
        Rows are read and written in bulk, so 10,000 changes cost a few dozen statements.
        With ``issuer_name``, only that issuer's credentials are found.
        """
        changes = list(changes)
        for cid, status in changes:
            if not isinstance(cid, str) or not cid:
                raise InvalidRequestError("a credential id is a non-empty string")
            if status not in STATUSES:
                raise InvalidRequestError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        ids = list(dict.fromkeys(cid for cid, _ in changes))
        when = utcnow_iso(self.clock())
        pending: dict[int, PendingList] = {}  # each touched list is loaded once per batch
        async with self.db.transaction() as tx:
            rows = await table.by_ids(tx, ids)
            entries = await self.status_lists.entries_for_many(tx, ids)
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
                    raise StatusChangeError(_no_entry(cid, row["issuer"], needed, status), credentialId=cid)
                if status == "revoked":
                    bits += [(e.list_id, e.index, 1) for e in mine if e.purpose == "revocation"]
                else:  # suspended <-> active
                    value = 1 if status == "suspended" else 0
                    bits += [(e.list_id, e.index, value) for e in mine if e.purpose == "suspension"]
                current[cid] = status
            changed = [cid for cid in ids if current[cid] != rows[cid]["status"]]
            touched = await self.status_lists.set_bits(tx, bits, pending)
            await self.status_lists.write_bits(tx, pending, touched)
            await table.set_statuses(tx, [(current[c], when, c) for c in changed])
        # The change is committed (durable); the lists are re-signed before the caller hears back.
        # Every list naming the credentials, not only those this call changed: a change already
        # committed by a process that died before re-signing is a no-op here, and the caller's
        # answer must still be what the served list says (a current list costs one read).
        await self.status_lists.republish(touched | _lists_of(entries, ids))
        if self.observe is not None:
            for (issuer, status), n in Counter((rows[c]["issuer"], current[c]) for c in changed).items():
                self.observe(issuer, status, n)
        records: dict[str, Any] = {cid: CredentialRecord.of(rows[cid], entries.get(cid, []), current[cid]) for cid in ids}
        return [records[cid] for cid, _ in changes]

    async def set_message(
        self,
        credential_id: str,
        value: Any,
        *,
        list_url: str | None = None,
        index: int | None = None,
        issuer_name: str | None = None,
    ) -> CredentialRecord:
        """Set the credential's ``message`` entries (or the one named by ``list_url`` and
        ``index``) to ``value``: a boolean for a one-bit entry, else an integer or ``0x`` hex
        string below 2**statusSize (``status.credential.status_value``). The list is re-signed
        before this returns."""
        pending: dict[int, PendingList] = {}
        async with self.db.transaction() as tx:
            row = await table.get(tx, credential_id)
            if row is None or (issuer_name is not None and row["issuer"] != issuer_name):
                raise UnknownCredentialError(
                    f"no credential with id {credential_id!r} was issued by "
                    + (f"issuer {issuer_name!r}" if issuer_name else "this node"),
                    credentialId=credential_id,
                )
            entries = await self.status_lists.entries_for(tx, credential_id)
            chosen = [e for e in entries if e.purpose == MESSAGE and _named(e, list_url, index)]
            if not chosen:
                raise StatusChangeError(
                    f"credential {credential_id!r} has no message status entry"
                    + (f" in {list_url!r}" if list_url else "")
                    + (f" at index {index}" if index is not None else ""),
                    credentialId=credential_id,
                )
            try:
                bits = [(e.list_id, e.index, status_value(value, status_size=e.status_size)) for e in chosen]
            except MalformedValueError as e:
                raise InvalidRequestError(e.detail, field="status") from e
            touched = await self.status_lists.set_bits(tx, bits, pending)
            await self.status_lists.write_bits(tx, pending, touched)
        # As in set_status_many: a value set already, by a process that died before re-signing,
        # is re-signed now.
        await self.status_lists.republish(touched | {e.list_id for e in chosen})
        return CredentialRecord.of(row, entries)


def _lists_of(entries: dict[str, list[EntryInfo]], ids: Iterable[str]) -> set[int]:
    return {e.list_id for cid in ids for e in entries.get(cid, [])}


def _named(entry: EntryInfo, list_url: str | None, index: int | None) -> bool:
    return (list_url is None or entry.url == list_url) and (index is None or entry.index == index)


def _no_entry(cid: str, issuer: str, purpose: str, status: str) -> str:
    """Why a credential cannot take ``status``, and how the next ones can: entries are fixed
    when a credential is signed, so the remedy is for credentials still to be issued."""
    message = f"credential {cid!r} was issued without a {purpose} status entry, so it cannot be {status}"
    if purpose != "suspension":
        return message
    return (
        message
        + "; a credential cannot gain one after it is issued. To issue credentials that can be suspended, "
        f"enable suspension for the issuer (vcnode issuer enable-suspension {issuer}; a running node follows "
        "within issuer_refresh_ms) or ask for it per credential (options.statusPurposes, vcnode issue --status-purposes)"
    )

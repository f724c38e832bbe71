"""Tables ``trusted_bodies`` (verifier side: the DIDs that end an accreditation chain) and
``held_accreditations`` (holder side: accreditation credentials an issuer received, kept
verbatim to be published)."""

from __future__ import annotations

from node.store.base import Row, Tx


async def add_body(tx: Tx, did: str, label: str | None, added: str) -> None:
    """Trust ``did`` (again: a new label replaces the old, ``added`` and the position stay)."""
    await tx.execute(
        "INSERT INTO trusted_bodies (did, label, added, position) "
        "VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM trusted_bodies)) "
        "ON CONFLICT (did) DO UPDATE SET label = COALESCE(excluded.label, trusted_bodies.label)",
        (did, label, added),
    )


async def body(tx: Tx, did: str) -> Row | None:
    """``did, label, added``."""
    return await tx.fetchone("SELECT did, label, added FROM trusted_bodies WHERE did = ?", (did,))


async def remove_body(tx: Tx, did: str) -> bool:
    return await tx.execute("DELETE FROM trusted_bodies WHERE did = ?", (did,)) == 1


async def bodies(tx: Tx) -> list[Row]:
    """In the order they were added."""
    return await tx.fetchall("SELECT did, label, added FROM trusted_bodies ORDER BY position, added, did")


async def keep_accreditation(tx: Tx, *, issuer: str, credential_id: str, accrediting_agent: str, stored: str, body: str) -> None:
    """Keep (or replace) an accreditation credential ``issuer`` holds."""
    await tx.execute(
        "INSERT INTO held_accreditations (issuer, credential_id, accrediting_agent, stored, body) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (issuer, credential_id) DO UPDATE SET body = excluded.body, stored = excluded.stored",
        (issuer, credential_id, accrediting_agent, stored, body),
    )


async def held(tx: Tx, issuer: str) -> list[str]:
    """The kept credentials' JSON, oldest first."""
    rows = await tx.fetchall(
        "SELECT body FROM held_accreditations WHERE issuer = ? ORDER BY stored, credential_id", (issuer,)
    )
    return [r["body"] for r in rows]


async def drop_accreditation(tx: Tx, issuer: str, credential_id: str) -> bool:
    return await tx.execute(
        "DELETE FROM held_accreditations WHERE issuer = ? AND credential_id = ?", (issuer, credential_id)
    ) == 1

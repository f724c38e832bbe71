"""API tokens: created with scopes (and optionally bound to one issuer), checked on every
authenticated request (``node.auth``), revoked, listed. The plaintext is shown once; the store
keeps its SHA-256 only."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from node.auth import SCOPES, Grant
from node.errors import InvalidRequestError, UnknownTokenError
from node.issuers import Issuers
from node.store import Database, utcnow_iso
from node.store import tokens as table

JsonObject = dict[str, Any]


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


def hash_token(token: str) -> str:
    """SHA-256 of a token: enough for 256-bit random tokens, which cannot be guessed offline."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    def __init__(self, db: Database, *, clock: Callable[[], datetime], issuers: Issuers) -> None:
        self.db = db
        self.clock = clock
        self.issuers = issuers

    async def create(self, scopes: Sequence[str], *, issuer: str | None = None) -> NewToken:
        """A new API token; the plaintext is returned here only, the store keeps its hash."""
        scopes = list(dict.fromkeys(scopes))
        if not scopes:
            raise InvalidRequestError(f"a token needs at least one scope ({', '.join(SCOPES)})")
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise InvalidRequestError(f"unknown scope(s) {', '.join(map(repr, bad))}: use {', '.join(SCOPES)}")
        if issuer is not None:
            await self.issuers.get(issuer)
        token_id = secrets.token_hex(8)
        token = f"vcn_{token_id}_{secrets.token_urlsafe(32)}"
        async with self.db.transaction() as tx:
            await table.insert(
                tx, token_id=token_id, token_hash=hash_token(token), scopes=json.dumps(scopes), issuer=issuer,
                created=utcnow_iso(self.clock()),
            )
        return NewToken(token_id, token, scopes, issuer)

    async def check(self, token: str) -> Grant | None:
        """The grant of a live token, ``None`` for an unknown or revoked one (``node.auth``'s verifier)."""
        async with self.db.read() as tx:
            row = await table.live_by_hash(tx, hash_token(token))
        if row is None:
            return None
        return Grant(token_id=row["id"], scopes=frozenset(json.loads(row["scopes"])), issuer=row["issuer"])

    async def revoke(self, token_id: str) -> None:
        async with self.db.transaction() as tx:
            if not await table.revoke(tx, token_id, utcnow_iso(self.clock())) and not await table.exists(tx, token_id):
                raise UnknownTokenError(f"no token with id {token_id!r}")

    async def list(self) -> list[TokenRecord]:
        async with self.db.read() as tx:
            rows = await table.list_all(tx)
        return [TokenRecord(r["id"], json.loads(r["scopes"]), r["issuer"], r["created"], r["revoked"]) for r in rows]

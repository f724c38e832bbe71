"""API tokens: created with scopes (optionally bound to one issuer, optionally expiring),
checked on every authenticated request (``node.auth``), revoked, listed with when each was
last used. The plaintext is shown once; the store keeps its SHA-256 only.

``last_used`` is written at most once a minute per token and process, by a small write
transaction in the background (never on the request's path), and not at all when the store
already records a use within that minute (another process's): a busy API costs the store one
write per token per minute, not one per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Sequence

from node.auth import SCOPES, Grant, Rejection
from node.errors import InvalidRequestError, UnknownTokenError
from node.issuers import Issuers
from node.store import Database, utcnow_iso
from node.store import tokens as table

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

LAST_USED_EVERY = timedelta(minutes=1)
_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class NewToken:
    id: str
    token: str  # shown once; only its SHA-256 is stored
    scopes: list[str]
    issuer: str | None
    expires: str | None = None

    def to_json(self) -> JsonObject:
        return {"id": self.id, "token": self.token, "scopes": list(self.scopes), "issuer": self.issuer, "expires": self.expires}


@dataclass(frozen=True)
class TokenRecord:
    id: str
    scopes: list[str]
    issuer: str | None
    created: str
    revoked: str | None
    expires: str | None = None
    last_used: str | None = None

    def state(self, now: datetime) -> str:
        if self.revoked:
            return "revoked"
        if self.expires and self.expires <= utcnow_iso(now):
            return "expired"
        return "active"

    def to_json(self, now: datetime | None = None) -> JsonObject:
        out: JsonObject = {
            "id": self.id, "scopes": self.scopes, "issuer": self.issuer, "created": self.created,
            "expires": self.expires, "lastUsed": self.last_used, "revoked": self.revoked,
        }
        if now is not None:
            out["state"] = self.state(now)
        return out


def hash_token(token: str) -> str:
    """SHA-256 of a token: enough for 256-bit random tokens, which cannot be guessed offline."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_expiry(text: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``90m``, ``2w`` from ``now``; an ISO date (the token expires as that day
    begins, UTC) or an ISO date-time with a time zone. Must lie in the future."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match:
        try:
            when = now + timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError:  # 600000w: past the year 9999
            raise InvalidRequestError(f"expiry {text!r} lies past the year 9999; give a nearer one") from None
    else:
        try:
            if len(value) == 10:
                when = datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
            else:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            when = None  # type: ignore[assignment]
        if when is None or when.tzinfo is None:
            raise InvalidRequestError(
                f"expiry {text!r} is not understood: give a duration (30d, 12h, 90m, 2w), a date (2026-09-01) "
                "or a date-time with a time zone (2026-09-01T12:00:00Z)"
            )
    if when <= now:
        raise InvalidRequestError(f"expiry {text!r} is not in the future")
    return when.astimezone(timezone.utc)


class Tokens:
    def __init__(self, db: Database, *, clock: Callable[[], datetime], issuers: Issuers) -> None:
        self.db = db
        self.clock = clock
        self.issuers = issuers
        self._touched: dict[str, datetime] = {}  # token id -> when this process last recorded a use
        self._writes: set[asyncio.Task[None]] = set()

    async def create(self, scopes: Sequence[str], *, issuer: str | None = None, expires: datetime | None = None) -> NewToken:
        """A new API token; the plaintext is returned here only, the store keeps its hash."""
        scopes = list(dict.fromkeys(scopes))
        if not scopes:
            raise InvalidRequestError(f"a token needs at least one scope ({', '.join(SCOPES)})")
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise InvalidRequestError(f"unknown scope(s) {', '.join(map(repr, bad))}: use {', '.join(SCOPES)}")
        if issuer is not None:
            await self.issuers.get(issuer)
        now = self.clock()
        if expires is not None and expires <= now:
            raise InvalidRequestError("a token's expiry must be in the future")
        token_id = secrets.token_hex(8)
        token = f"vcn_{token_id}_{secrets.token_urlsafe(32)}"
        until = utcnow_iso(expires) if expires is not None else None
        async with self.db.transaction() as tx:
            await table.insert(
                tx, token_id=token_id, token_hash=hash_token(token), scopes=json.dumps(scopes), issuer=issuer,
                created=utcnow_iso(now), expires=until,
            )
        return NewToken(token_id, token, scopes, issuer, until)

    async def check(self, token: str) -> Grant | Rejection | None:
        """The grant of a live token; a ``Rejection`` saying why for an expired one; ``None`` for
        an unknown or revoked one (``node.auth``'s verifier)."""
        async with self.db.read() as tx:
            row = await table.live_by_hash(tx, hash_token(token))
        if row is None:
            return None
        now = self.clock()
        if row["expires"] is not None and row["expires"] <= utcnow_iso(now):
            return Rejection(f"the API token {row['id']} expired at {row['expires']}; create a new one (vcnode token create --expires ...)")
        self._note_use(row["id"], row["last_used"], now)
        return Grant(token_id=row["id"], scopes=frozenset(json.loads(row["scopes"])), issuer=row["issuer"])

    def _note_use(self, token_id: str, recorded: str | None, now: datetime) -> None:
        since = now - LAST_USED_EVERY
        last = self._touched.get(token_id)
        if (last is not None and last > since) or (recorded is not None and recorded > utcnow_iso(since)):
            return
        self._touched[token_id] = now
        task = asyncio.get_running_loop().create_task(self._record_use(token_id, now, since))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _record_use(self, token_id: str, now: datetime, since: datetime) -> None:
        try:
            async with self.db.transaction() as tx:
                await table.touch(tx, token_id, utcnow_iso(now), unless_since=utcnow_iso(since))
        except Exception as e:  # a lost last-used time must never fail or slow a request
            log.warning("could not record when token %s was last used: %s", token_id, e)

    async def flush(self) -> None:
        """Wait for the last-used times being written (before the store closes)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    async def revoke(self, token_id: str) -> None:
        async with self.db.transaction() as tx:
            if not await table.revoke(tx, token_id, utcnow_iso(self.clock())) and not await table.exists(tx, token_id):
                raise UnknownTokenError(f"no token with id {token_id!r}")

    async def list(self) -> list[TokenRecord]:
        async with self.db.read() as tx:
            rows = await table.list_all(tx)
        return [
            TokenRecord(r["id"], json.loads(r["scopes"]), r["issuer"], r["created"], r["revoked"], r["expires"], r["last_used"])
            for r in rows
        ]

"""Single-use, expiring challenges for presentation verification (VC-API ``POST /challenges``).

Every challenge the node hands out starts with ``CHALLENGE_PREFIX``, so it is recognised as the
node's own even after its row is gone: a forgotten challenge stays spent rather than turning
into a caller's own value (``node.verification`` has the rules).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Literal

from node.store import Database, utcnow_iso
from node.store import challenges as table

CHALLENGE_PREFIX = "vcnode-"


@dataclass(frozen=True)
class Challenge:
    challenge: str
    expires: datetime


class Challenges:
    def __init__(self, db: Database, *, clock: Callable[[], datetime], ttl_seconds: int) -> None:
        self.db = db
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    async def create(self) -> Challenge:
        """A new challenge, live for ``ttl_seconds``; expired ones are swept away meanwhile."""
        now = self.clock()
        value = CHALLENGE_PREFIX + secrets.token_urlsafe(24)
        expires = now + timedelta(seconds=self.ttl_seconds)
        async with self.db.transaction() as tx:
            await table.sweep(tx, utcnow_iso(now))
            await table.insert(tx, value, utcnow_iso(expires))
        return Challenge(value, expires)

    async def consume(self, challenge: str) -> bool:
        """True exactly once for a live challenge this node issued."""
        async with self.db.transaction() as tx:
            return await table.consume(tx, challenge, utcnow_iso(self.clock()))

    async def state(self, challenge: str) -> Literal["live", "spent"] | None:
        """``live`` (issued here, unexpired, unused), ``spent`` (issued here, used or expired), or
        ``None``: this node never handed it out (or forgot it long after it expired)."""
        now = utcnow_iso(self.clock())
        async with self.db.read() as tx:
            row = await table.get(tx, challenge)
        if row is None:
            return "spent" if challenge.startswith(CHALLENGE_PREFIX) else None
        return "live" if row["used"] is None and row["expires"] >= now else "spent"

"""Credential ids the node makes: ``urn:uuid:`` of a time-ordered UUID (RFC 9562 §5.7, UUIDv7).

A credential the request gave no id gets one here. Its first 48 bits are the issuance time in
Unix milliseconds, the other 74 (beside version and variant) random: as unguessable among the
credentials of one millisecond as a UUIDv4, and, unlike one, in the order the credentials were
issued. The store indexes credentials, their bodies and their status entries by id; random ids
land on random pages of those indexes, and every page a commit touches is written to the
write-ahead log and flushed (SQLite, ``synchronous=FULL``; PostgreSQL alike). Ids in issuance
order land together: a batch of 256 EU micro-credentials wrote about half the bytes, and its
completing commit took about half as long (bench/README.md, "Eleventh pass"). The time is the
credential's ``validFrom`` to the millisecond; nothing the credential does not say already.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime


def uuid7(now: datetime) -> uuid.UUID:
    """RFC 9562 §5.7: ``unix_ts_ms`` (48 bits), version 7, ``rand_a`` (12), variant 0b10, ``rand_b`` (62)."""
    ms = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a, rand_b = (rand >> 62) & 0xFFF, rand & ((1 << 62) - 1)
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)


def credential_urn(now: datetime) -> str:
    """A new credential id issued at ``now``: ``urn:uuid:`` and a UUIDv7."""
    return f"urn:uuid:{uuid7(now)}"

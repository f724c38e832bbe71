"""Table ``settings``: small JSON values the node keeps about itself (the master key record)."""

from __future__ import annotations

import json
from typing import Any

from node.store.base import Tx


async def get(tx: Tx, key: str) -> Any | None:
    row = await tx.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
    return json.loads(row["value"]) if row is not None else None


async def put(tx: Tx, key: str, value: Any) -> None:
    await tx.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


async def put_new(tx: Tx, key: str, value: Any) -> bool:
    """Store ``value`` unless ``key`` has one already; True when this call stored it."""
    return await tx.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, json.dumps(value))
    ) == 1

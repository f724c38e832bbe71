"""A process that dies between committing a status change and re-signing its list (the store
left at version = published_version + 1), on every store backend: the same change sent again
(to any replica) re-signs the list before it is answered, and a serving node re-signs it on
its own within a few seconds, with no request at all. Real processes: tests/e2e/test_replicas.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from postgres_server import Stores, stores  # noqa: F401  (the fixture)

from node.config import load_config
from node.keys import new_master_record
from node.node import Node, compose, repair_stale_lists
from node.store import status_lists as list_rows
from status.bitstring import Bitstring
from tests.conftest import FIXED_NOW

VC_V2 = "https://www.w3.org/ns/credentials/v2"


class Died(Exception):
    """The process stopped here (its later work never ran)."""


@pytest.fixture
async def node(stores: Stores, tmp_path: Path) -> AsyncIterator[Node]:
    config = load_config(
        {"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"}, env={"VCNODE_STATUS_PURPOSES": "revocation"}
    )
    master, _ = new_master_record(tmp_path, None)
    node = compose(config, db=await stores.open(), master_key=master, clock=lambda: FIXED_NOW)
    await node.start()
    yield node


async def issued(node: Node) -> tuple[dict[str, Any], dict[str, Any]]:
    vc = await node.issuance.issue("default", {"@context": [VC_V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:alice"}})
    return vc, vc["credentialStatus"]


async def served_bit(node: Node, entry: dict[str, Any]) -> tuple[int, str]:
    published = await node.status_lists.get("default", "revocation", int(entry["statusListCredential"].rsplit("/", 1)[1]))
    assert published is not None
    return Bitstring.decode(published.credential["credentialSubject"]["encodedList"]).get(int(entry["statusListIndex"])), published.etag


async def die_before_re_signing(node: Node, change: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``change`` as a process that stops once it has committed, before it re-signs."""

    async def died(list_ids: Any) -> None:
        raise Died

    with monkeypatch.context() as m:
        m.setattr(node.status_lists, "republish", died)
        with pytest.raises(Died):
            await change()
    async with node.db.read() as tx:
        (stale,) = await list_rows.unpublished(tx)
        head = await list_rows.head(tx, stale)
    assert head["version"] == head["published_version"] + 1


async def test_the_same_change_sent_again_re_signs_the_list_a_dead_process_left_stale(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    vc, entry = await issued(node)
    bit, etag = await served_bit(node, entry)
    assert bit == 0
    await die_before_re_signing(node, lambda: node.status.set_status(vc["id"], "revoked"), monkeypatch)
    assert await served_bit(node, entry) == (0, etag)  # what a verifier is still told

    # The retry finds the credential revoked already (nothing to change) and answers so: the
    # list it serves must say so too, before the answer.
    record = await node.status.set_status(vc["id"], "revoked")
    assert record.status == "revoked"
    bit, etag_after = await served_bit(node, entry)
    assert bit == 1 and etag_after != etag
    async with node.db.read() as tx:
        assert await list_rows.unpublished(tx) == []

    # A no-op on a current list signs nothing again: the same bytes are served.
    await node.status.set_status(vc["id"], "revoked")
    assert await served_bit(node, entry) == (1, etag_after)


async def test_a_serving_node_re_signs_what_a_dead_process_left_stale_without_a_request(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    vc, entry = await issued(node)
    await die_before_re_signing(node, lambda: node.status.set_status(vc["id"], "revoked"), monkeypatch)
    periods: list[float] = []
    rounds = asyncio.Queue[None]()

    async def sleep(seconds: float) -> None:
        periods.append(seconds)
        if len(periods) > 1:
            rounds.put_nowait(None)  # the first repair has run
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(repair_stale_lists(node.status_lists, period=2.5, sleep=sleep))
    try:
        await asyncio.wait_for(rounds.get(), 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert periods == [2.5, 2.5]
    assert (await served_bit(node, entry))[0] == 1
    async with node.db.read() as tx:
        assert await list_rows.unpublished(tx) == []

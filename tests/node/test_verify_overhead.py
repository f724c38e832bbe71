"""What keeps a verification's node-side cost down (issue 13): cheap steps run inline rather
than through the offload pool, the trusted bodies are kept in memory (another process's change
seen within the refresh bound), the node's own did:web answered from memory."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from node.config import Config
from node.node import open_node
from node.observe import timed_offload
from node.offload import ThreadOffload, step_kind
from node.routes import NODE_KEY


def spin(seconds: float) -> str:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return threading.current_thread().name


async def test_a_step_cheaper_than_the_hand_off_runs_inline_after_its_first_run() -> None:
    offload = ThreadOffload(2, name="t-pool")
    try:
        def cheap() -> str:
            return threading.current_thread().name

        caller = threading.current_thread().name
        assert (await offload(cheap)).startswith("t-pool")  # never seen: on the pool, and measured
        assert await offload(cheap) == caller  # cheap since: inline
        assert await offload(cheap) == caller

        def costly() -> str:
            return spin(0.002)

        for _ in range(3):  # always dearer than a hand-off: always on the pool
            assert (await offload(costly)).startswith("t-pool")
    finally:
        offload.close()


async def test_one_expensive_run_sends_the_kind_back_to_the_pool_until_it_decays() -> None:
    offload = ThreadOffload(2, name="t-pool", inline_below=0.001)
    cost = {"seconds": 0.0}
    try:
        def step() -> str:
            return spin(cost["seconds"])

        caller = threading.current_thread().name
        await offload(step)
        assert await offload(step) == caller
        cost["seconds"] = 0.01  # a much larger document: runs inline once (it looked cheap)...
        assert await offload(step) == caller
        cost["seconds"] = 0.0
        assert (await offload(step)).startswith("t-pool")  # ...then the pool takes the kind again
        ran_on = [await offload(step) for _ in range(40)]  # 0.01 * 0.9**n falls below 0.001 after ~22 runs
        assert ran_on[0].startswith("t-pool") and ran_on[-1] == caller
    finally:
        offload.close()


async def test_kinds_are_told_apart_through_wrappers_and_partials() -> None:
    def a() -> None: ...
    def b() -> None: ...

    assert step_kind(functools.partial(a)) is a.__code__
    assert step_kind(a) is not step_kind(b)
    offload = ThreadOffload(1, inline_below=0)  # 0: every step on the pool
    try:
        wrapped = timed_offload(offload, "verify", lambda *args: None)
        await wrapped(a)
        await wrapped(b)
        assert set(offload._estimates) == {a.__code__, b.__code__}  # the timing wrapper hides no step
        assert (await offload(lambda: threading.current_thread().name)) != threading.current_thread().name
    finally:
        offload.close()


async def test_trusted_bodies_are_read_once_per_refresh_and_own_changes_seen_at_once(tmp_path: Path) -> None:
    cfg = Config().replace(data_dir=tmp_path / "n", base_url="https://node.example", kdf="interactive")
    async with open_node(cfg, create=True) as first, open_node(cfg) as second:
        now = [0.0]
        first.trust.monotonic = lambda: now[0]
        assert await first.trust.trusted_dids() == frozenset()
        await first.trust.add_trusted_body("did:web:agency.example")
        assert await first.trust.trusted_dids() == {"did:web:agency.example"}  # its own change: at once

        # Another process (here another node object on the same store) adds a body: seen once
        # the refresh bound has passed, not before (no store query per verification).
        await second.trust.add_trusted_body("did:web:qa.example")
        now[0] = 0.5
        assert await first.trust.trusted_dids() == {"did:web:agency.example"}
        now[0] = 1.01
        assert await first.trust.trusted_dids() == {"did:web:agency.example", "did:web:qa.example"}
        await second.trust.remove_trusted_body("did:web:agency.example")
        now[0] = 2.1
        assert await first.trust.trusted_dids() == {"did:web:qa.example"}


@pytest.mark.parametrize("kind", ["credential", "micro-credential"])
async def test_a_verification_of_the_nodes_own_credential_asks_the_store_nothing(tmp_path: Path, aiohttp_client: Any, kind: str) -> None:
    # Lists served with a ttl may be cached (by this node as by any verifier); with none (the
    # default) each verification reads the list's current version, the one query it needs.
    cfg = Config().replace(
        data_dir=tmp_path / "n", host="127.0.0.1", status_purposes=("revocation",), status_list_ttl_ms=300_000, kdf="interactive"
    )
    app = create_app(cfg)
    client = await aiohttp_client(app)
    node = app[NODE_KEY]
    token = (await node.tokens.create(["issue"], issuer="default")).token
    issuer = await node.issuers.get("default")
    body = {"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": issuer.did, "credentialSubject": {"id": "did:example:learner"},
    }}
    if kind == "credential":
        resp = await client.post("/credentials/issue", json=body, headers={"Authorization": f"Bearer {token}"})
    else:
        # Its achievement is this node's: the check of who awarded it (node.trust) must answer
        # from memory too, not read the issuer's definitions on each verification.
        from support import OFFERED_ACHIEVEMENT, OFFERED_AWARD

        await node.achievements.create("default", OFFERED_ACHIEVEMENT)
        resp = await client.post("/issuers/default/microcredentials", json=OFFERED_AWARD, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 201, await resp.text()
    vc = (await resp.json())["verifiableCredential"]
    resp = await client.post("/credentials/verify", json={"verifiableCredential": vc})  # warm: lists, bodies read
    assert resp.status == 200, await resp.text()

    queries: list[str] = []
    db = node.db
    original_read, original_tx = db.read, db.transaction

    def read(*args: Any, **kwargs: Any) -> Any:
        queries.append("read")
        return original_read(*args, **kwargs)

    def transaction(*args: Any, **kwargs: Any) -> Any:
        queries.append("transaction")
        return original_tx(*args, **kwargs)

    db.read, db.transaction = read, transaction  # type: ignore[method-assign]
    try:
        for _ in range(3):
            resp = await client.post("/credentials/verify", json={"verifiableCredential": vc})
            result = await resp.json()
            assert resp.status == 200 and result["verified"], result
    finally:
        db.read, db.transaction = original_read, original_tx  # type: ignore[method-assign]
    assert queries == []
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_a_flood_of_costly_public_verifications_does_not_queue_the_issuers_work(tmp_path: Path, aiohttp_client: Any) -> None:
    """A QA sweep had one client keep the node's CPU pool busy with valid, costly eddsa-rdfc
    verifications (well under the rate limit): every operator's issuance waited behind the whole
    queue (3.7 s against 8 ms). Issuing and re-signing lists run on a lane of their own
    (node.offload), so the issue here is answered while most of the flood is still queued."""
    import asyncio

    from node.offload import OPERATOR, PUBLIC, shared_offload

    config = Config().replace(data_dir=tmp_path / "n", base_url="https://node.example", rate_limit_per_second=0, kdf="interactive")
    client = await aiohttp_client(create_app(config))
    node = client.app[NODE_KEY]
    assert shared_offload(OPERATOR) is not shared_offload(PUBLIC)
    token = (await node.tokens.create(["issue"], issuer="default")).token
    did = (await node.issuers.get("default")).did
    # Hundreds of alike-shaped objects: a valid credential whose RDFC-1.0 work is real.
    subject = {"id": "did:example:x", "p": [{"k": f"o{i}", "x": [{"a": f"v{i}.{j}", "c": j} for j in range(8)]} for i in range(120)]}
    costly = await node.issuance.issue("default", {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": "https://example.org/vocab#"}],
        "type": ["VerifiableCredential"], "issuer": did, "credentialSubject": subject,
    })
    finished: list[str] = []

    async def verify(n: int) -> None:
        async with client.post("/credentials/verify", json={"verifiableCredential": costly}) as resp:
            assert resp.status == 200, await resp.text()
        finished.append(f"verify {n}")

    async def issue() -> None:
        await asyncio.sleep(0.05)  # once the flood has filled the public lane
        credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                      "issuer": did, "credentialSubject": {"id": "did:example:ana"}}
        async with client.post("/credentials/issue", json={"credential": credential}, headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 201, await resp.text()
        finished.append("issue")

    flood = 24
    await asyncio.gather(*(verify(n) for n in range(flood)), issue())
    assert finished.index("issue") < flood // 2, finished

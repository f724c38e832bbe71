"""Batch signing on every core (issue 13, node/signing.py): a large batch is signed by a pool of
processes, giving exactly what signing in-process gives; small batches stay in-process; a pool
whose processes die hands the batch back to in-process signing."""

from __future__ import annotations

import copy
import os
import signal
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from node import signing
from node.config import Config
from node.node import open_node
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)


def credential(issuer: str, i: int) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"did:example:learner{i}", "name": f"Learner {i}"},
    }


def items(n: int) -> tuple[Ed25519KeyPair, list[tuple[dict[str, Any], str]]]:
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = "did:key:" + key.public_multibase
    return key, [(credential(did, i), f"{did}#{key.public_multibase}") for i in range(n)]


def in_process(key: Ed25519KeyPair, batch: list[tuple[dict[str, Any], str]], suite: str) -> list[dict[str, Any]]:
    return [
        signing.sign_one(copy.deepcopy(c), key=key, verification_method=vm, suite=SUITES[suite], loader=default_loader(), now=NOW)
        for c, vm in batch
    ]


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_a_large_batch_is_signed_by_processes_exactly_as_in_process(suite: str) -> None:
    key, batch = items(signing.MIN_PARALLEL + 7)
    signer = signing.ProcessSigner(2)
    ticks: list[int] = []
    try:
        assert await signer.warm() and signer.ready

        async def refuse() -> list[dict[str, Any]]:
            raise AssertionError("a batch this large is signed by the pool")

        signed = await signing.sign_batch(
            batch, key=key, suite_name=suite, loader=default_loader(), now=NOW, in_process=refuse, progress=ticks.append, signer=signer
        )
        pids = set(signer._pool._processes)  # type: ignore[union-attr]
    finally:
        signer.close()
    assert len(pids) == 2 and os.getpid() not in pids
    assert signed == in_process(key, batch, suite)  # same bytes, same order
    assert sum(ticks) == len(batch)


async def test_a_batch_that_finds_the_pool_cold_is_signed_in_process_while_the_pool_starts() -> None:
    key, batch = items(signing.MIN_PARALLEL)
    signer = signing.ProcessSigner(2)
    calls = []

    async def here() -> list[dict[str, Any]]:
        calls.append(1)
        return in_process(key, batch, "eddsa-rdfc-2022")

    try:
        signed = await signing.sign_batch(
            batch, key=key, suite_name="eddsa-rdfc-2022", loader=default_loader(), now=NOW, in_process=here, signer=signer
        )
        assert calls == [1] and signed == in_process(key, batch, "eddsa-rdfc-2022")
        assert signer._pool is not None  # started for the next batch
        assert await signer.warm()
        again = await signing.sign_batch(
            batch, key=key, suite_name="eddsa-rdfc-2022", loader=default_loader(), now=NOW, in_process=here, signer=signer
        )
        assert calls == [1] and again == signed  # the next one: on the pool
    finally:
        signer.close()


async def test_a_small_batch_or_a_loader_of_its_own_stays_in_process() -> None:
    key, batch = items(signing.MIN_PARALLEL - 1)
    signer = signing.ProcessSigner(2)
    calls = []

    async def here() -> list[dict[str, Any]]:
        calls.append(1)
        return []

    await signing.sign_batch(batch, key=key, suite_name="eddsa-rdfc-2022", loader=default_loader(), now=NOW, in_process=here, signer=signer)
    _, large = items(signing.MIN_PARALLEL)
    await signing.sign_batch(large, key=key, suite_name="eddsa-rdfc-2022", loader=object(), now=NOW, in_process=here, signer=signer)
    assert calls == [1, 1] and signer._pool is None  # no process was started


async def test_a_pool_whose_processes_die_hands_the_batch_back_to_in_process_signing() -> None:
    key, batch = items(signing.MIN_PARALLEL)
    signer = signing.ProcessSigner(2)
    try:
        assert await signer.warm()  # the pool is up
        for pid in list(signer._pool._processes):  # type: ignore[union-attr]
            os.kill(pid, signal.SIGKILL)

        async def here() -> list[dict[str, Any]]:
            return in_process(key, batch, "eddsa-rdfc-2022")

        signed = await signing.sign_batch(
            batch, key=key, suite_name="eddsa-rdfc-2022", loader=default_loader(), now=NOW, in_process=here, signer=signer
        )
        assert signed == in_process(key, batch, "eddsa-rdfc-2022")
        assert signer._executor() is None  # one core from now on, said once in the log
    finally:
        signer.close()


async def test_issuing_a_large_batch_through_the_node_uses_the_pool_and_every_credential_verifies(tmp_path: Path) -> None:
    cfg = Config().replace(data_dir=tmp_path / "n", base_url="https://node.example", status_purposes=("revocation",), kdf="interactive")
    async with open_node(cfg, create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()  # as after a first batch
        n = signing.MIN_PARALLEL + 3
        ticks: list[int] = []
        signed = await node.issuance.issue_many("default", [credential(issuer.did, i) for i in range(n)], progress=ticks.append)
        assert signing.shared_signer()._pool is not None
        assert sum(ticks) == n
        indices = [c["credentialStatus"]["statusListIndex"] for c in signed]
        assert len(set(indices)) == n
        signing.shared_signer().close()
        for vc in signed[:5] + signed[-5:]:
            result = await node.verification.verify_credential(vc)
            # Offline (network=False) there is no status checker; everything else passes.
            assert {c.name for c in result.checks if c.ok} >= {"bounds", "dataModel", "validity", "proof", "binding"}
            assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()

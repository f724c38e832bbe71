"""Batch signing on every core (issue 13, node/signing.py): a large batch is signed by a pool of
processes, giving exactly what signing in-process gives; small batches stay in-process; a pool
whose processes die hands the batch back to in-process signing."""

from __future__ import annotations

import asyncio
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

from support import fresh_shared_signer  # noqa: F401  (autouse: each test ends with the pool closed)

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


def node_config(tmp_path: Path) -> Config:
    """A node of its own for a test that issues through it (one-bit revocation entries)."""
    return Config().replace(data_dir=tmp_path / "n", base_url="https://node.example", status_purposes=("revocation",), kdf="interactive")


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
async def test_a_chunk_is_signed_by_another_process_exactly_as_in_process(suite: str) -> None:
    key, batch = items(signing.MIN_PARALLEL + 7)
    signer = signing.ProcessSigner(2)
    try:
        assert await signer.warm() and signer.ready
        assert signing.pool_for(len(batch), default_loader(), signer) is signer
        signed = await signer.sign_chunk(batch, seed=key.seed, suite_name=suite, now=NOW)
        pids = set(signer.pids)
        # The processes run below the node's priority: a batch does not starve its requests.
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pids} == {os.getpriority(os.PRIO_PROCESS, 0) + signing.NICENESS}
    finally:
        signer.close()
    assert len(pids) == 2 and os.getpid() not in pids
    assert signed == in_process(key, batch, suite)  # same bytes, same order


async def test_a_batch_that_finds_the_pool_cold_is_signed_in_process_while_the_pool_starts() -> None:
    signer = signing.ProcessSigner(2)
    try:
        assert signing.pool_for(signing.MIN_PARALLEL, default_loader(), signer) is None
        assert signer.pids  # started for the next batch
        assert await signer.warm()
        assert signing.pool_for(signing.MIN_PARALLEL, default_loader(), signer) is signer  # the next one: on the pool
    finally:
        signer.close()
    # A batch too large to sign on one core while the pool starts waits for it.
    cold = signing.ProcessSigner(2)
    try:
        assert signing.pool_for(signing.COLD_MIN, default_loader(), cold) is cold
    finally:
        cold.close()


async def test_a_small_batch_a_loader_of_its_own_or_one_core_stays_in_process() -> None:
    signer = signing.ProcessSigner(2)
    assert signing.pool_for(signing.MIN_PARALLEL - 1, default_loader(), signer) is None
    assert signing.pool_for(signing.MIN_PARALLEL, object(), signer) is None
    assert signing.pool_for(signing.COLD_MIN, default_loader(), signing.ProcessSigner(1)) is None
    assert not signer.pids  # no process was started


async def test_a_pool_whose_processes_die_hands_the_chunk_back_to_in_process_signing() -> None:
    key, batch = items(signing.MIN_PARALLEL)
    signer = signing.ProcessSigner(2)
    try:
        assert await signer.warm()  # the pool is up
        for pid in signer.pids:
            os.kill(pid, signal.SIGKILL)
        assert await signer.sign_chunk(batch, seed=key.seed, suite_name="eddsa-rdfc-2022", now=NOW) is None
        assert not signer.start()  # one core from now on, said once in the log
        assert signing.pool_for(signing.COLD_MIN, default_loader(), signer) is None
    finally:
        signer.close()


async def test_issuing_a_large_batch_through_the_node_uses_the_pool_and_every_credential_verifies(tmp_path: Path) -> None:
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()  # as after a first batch
        n = signing.MIN_PARALLEL + 3
        ticks: list[int] = []
        signed = await node.issuance.issue_many("default", [credential(issuer.did, i) for i in range(n)], progress=ticks.append)
        assert signing.shared_signer().pids
        assert sum(ticks) == n
        indices = [c["credentialStatus"]["statusListIndex"] for c in signed]
        assert len(set(indices)) == n
        signing.shared_signer().close()
        for vc in signed[:5] + signed[-5:]:
            result = await node.verification.verify_credential(vc)
            # Offline (network=False) there is no status checker; everything else passes.
            assert {c.name for c in result.checks if c.ok} >= {"bounds", "dataModel", "validity", "proof", "binding"}
            assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()


async def test_batches_issued_at_once_share_the_pool_and_each_gets_its_own_credentials_back(tmp_path: Path) -> None:
    """Three requests' batches (two suites) queued on the pool together: each caller gets its
    own credentials, in its order, signed its way."""
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        n = 3 * signing.MIN_PARALLEL + 5
        asked = [(0, "eddsa-rdfc-2022"), (1, "eddsa-jcs-2022"), (2, "eddsa-rdfc-2022")]
        batches = [[credential(issuer.did, 1000 * b + i) for i in range(n)] for b, _ in asked]
        sent = signing.shared_signer().batches_sent
        try:
            results = await asyncio.gather(
                *(node.issuance.issue_many("default", batch, {"cryptosuite": suite}) for batch, (_, suite) in zip(batches, asked))
            )
            assert signing.shared_signer().batches_sent - sent >= len(asked)  # the processes signed them
        finally:
            signing.shared_signer().close()
        for batch, signed, (_, suite) in zip(batches, results, asked):
            assert [c["id"] for c in signed] == [c["id"] for c in batch]
            assert {c["proof"]["cryptosuite"] for c in signed} == {suite}
            for vc in (signed[0], signed[n // 2], signed[-1]):
                result = await node.verification.verify_credential(vc)
                assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()
        indexes = [c["credentialStatus"]["statusListIndex"] for signed in results for c in signed]
        assert len(set(indexes)) == 3 * n


async def test_a_credential_a_process_cannot_sign_refuses_the_batch_and_nothing_is_recorded(tmp_path: Path) -> None:
    from node.store import credentials as table
    from vc.errors import ProofTransformationError

    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        try:
            batch = [credential(issuer.did, i) for i in range(3 * signing.MIN_PARALLEL)]
            # Valid as a data model; JSON-LD refuses it when it is signed (a protected term
            # redefined), in whichever process signs the last part.
            batch[-1]["@context"] = ["https://www.w3.org/ns/credentials/v2", {"VerifiableCredential": "https://example.com/x"}]
            with pytest.raises(ProofTransformationError, match="protected term"):
                await node.issuance.issue_many("default", batch)
            async with node.db.read() as tx:
                assert await table.find(tx, issuer="default") == []
            # The pool is still up, and the same batch without the bad credential is issued.
            assert signing.shared_signer().ready
            signed = await node.issuance.issue_many("default", batch[:-1])
            assert [c["id"] for c in signed] == [c["id"] for c in batch[:-1]]
            async with node.db.read() as tx:
                assert len(await table.find(tx, issuer="default")) == len(batch) - 1
        finally:
            signing.shared_signer().close()


async def test_a_batch_whose_signing_processes_die_midway_is_signed_in_process_and_issued_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        signer = signing.shared_signer()
        assert await signer.warm()
        killed: list[int] = []

        def tick(_: int) -> None:
            # After the first part comes back, the processes are killed: the parts still out
            # fail in the pool and are signed here instead.
            if not killed and signer.pids:
                killed.extend(signer.pids)
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)

        try:
            n = 4 * signing.MIN_PARALLEL
            signed = await node.issuance.issue_many("default", [credential(issuer.did, i) for i in range(n)], progress=tick)
        finally:
            signer.close()
        assert killed and len(signed) == n
        assert [r.message for r in caplog.records if "signing processes stopped" in r.message]  # the rest was signed here
        assert [c["id"] for c in signed] == [credential(issuer.did, i)["id"] for i in range(n)]
        for vc in (signed[0], signed[-1]):
            result = await node.verification.verify_credential(vc)
            assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()


def test_a_process_sends_back_only_the_proofs_when_the_rest_is_the_credential_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    key, batch = items(3)
    # One cosigned credential: its proof set comes back whole, in the place its proof had.
    batch[1][0]["proof"] = {"type": "DataIntegrityProof", "proofPurpose": "assertionMethod", "proofValue": "zOther"}
    expected = in_process(key, batch, "eddsa-rdfc-2022")

    def answers() -> list[tuple[bool, Any]]:
        suite = SUITES["eddsa-rdfc-2022"]
        return [signing._signed_or_proof(copy.deepcopy(c), vm, key=key, suite=suite, loader=default_loader(), now=NOW) for c, vm in batch]

    out = answers()
    assert out == [(True, vc["proof"]) for vc in expected]
    rebuilt = [signing.with_proof(c, answer) for (c, _), answer in zip(batch, out)]
    assert rebuilt == expected and [list(vc) for vc in rebuilt] == [list(vc) for vc in expected]
    assert isinstance(rebuilt[1]["proof"], list) and list(rebuilt[1]).index("proof") == list(batch[1][0]).index("proof")

    # A suite that changed anything else (a context added, say) sends back the whole documents.
    real = signing.sign_one

    def adds_a_context(credential: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        signed = real(credential, **kwargs)
        return {**signed, "@context": [*signed["@context"], "https://w3id.org/security/data-integrity/v2"]}

    monkeypatch.setattr(signing, "sign_one", adds_a_context)
    out = answers()
    assert [only_proof for only_proof, _ in out] == [False] * 3
    assert [signing.with_proof(c, answer)["@context"][-1] for (c, _), answer in zip(batch, out)] == ["https://w3id.org/security/data-integrity/v2"] * 3


def test_the_completing_transaction_waits_for_the_tail_of_a_batch_only() -> None:
    pool = signing.ProcessSigner(2)
    assert signing.tail(10_000, None) == 0  # one part, signed in-process: nothing to overlap
    assert signing.tail(256, pool) == 32
    assert signing.tail(4, pool) == 4  # never more than the batch
    assert signing.tail(40, pool) == signing.PART_MIN


async def test_a_part_failing_after_the_completing_transaction_opened_rolls_it_back_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node import issuance as issuance_module
    from node.store import credentials as table
    from vc.errors import ProofTransformationError

    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        batch = [credential(issuer.did, i) for i in range(256)]
        # JSON-LD refuses the last credential only when it is signed: in the last part, still
        # signing when the completing transaction opens and writes the batch's rows.
        batch[-1]["@context"] = ["https://www.w3.org/ns/credentials/v2", {"VerifiableCredential": "https://example.com/x"}]
        real_insert = table.insert_active
        inside: list[int] = []
        beside: list[Any] = []

        async def insert_active(tx: Any, rows: Any, **kwargs: Any) -> None:
            rows = list(rows)
            inside.append(len(rows))
            if len(inside) == 1:
                # Another request arriving meanwhile waits for the next transaction and is issued.
                beside.append(asyncio.ensure_future(node.issuance.issue("default", credential(issuer.did, 9_999))))
            await real_insert(tx, rows, **kwargs)

        monkeypatch.setattr(issuance_module.table, "insert_active", insert_active)
        # However the parts fall between the processes, the transaction opens before the last one fails.
        monkeypatch.setattr(signing, "tail", lambda count, pool: count)
        with pytest.raises(ProofTransformationError, match="protected term"):
            await node.issuance.issue_many("default", batch)
        assert inside[0] == 256  # the batch's rows were written before its last part failed
        alone = await beside[0]
        async with node.db.read() as tx:
            assert [r["id"] for r in await table.find(tx, issuer="default")] == [alone["id"]]
            assert await table.bodies(tx, [c["id"] for c in batch]) == {}
            assert await table.entries_of_many(tx, [c["id"] for c in batch]) == []


async def test_a_credential_refused_deep_in_a_large_batch_refuses_it_before_any_index_is_spent(tmp_path: Path) -> None:
    from node.errors import InvalidRequestError
    from node.store import credentials as table

    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        batch = [credential(issuer.did, i) for i in range(256)]
        # Deep in a batch that the pool signs: an entry in one of this node's own lists is the
        # node's to allocate.
        own = "https://node.example/status/default/revocation/1"
        batch[200]["credentialStatus"] = {
            "id": f"{own}#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "7", "statusListCredential": own,
        }
        with pytest.raises(InvalidRequestError, match="names one of this node's status lists") as refused:
            await node.issuance.issue_many("default", batch)
        assert refused.value.extra == {"field": "credentialStatus"}
        async with node.db.read() as tx:
            # Refused before admission: not an index spent.
            assert await table.find(tx, issuer="default") == []
            assert await tx.fetchall("SELECT idx FROM status_entries") == []
        del batch[200]["credentialStatus"]
        signed = await node.issuance.issue_many("default", batch)
        # Ids kept, in order, one entry each at distinct indexes.
        assert [c["id"] for c in signed] == [c["id"] for c in batch]
        assert all(c["credentialStatus"]["statusPurpose"] == "revocation" for c in signed)
        assert len({c["credentialStatus"]["statusListIndex"] for c in signed}) == 256


@pytest.mark.parametrize("count,processes", [(1, 2), (64, 2), (65, 2), (256, 2), (1024, 2), (10_000, 2), (100, 8), (300, 3)])
def test_a_batch_is_admitted_in_stages_that_cover_it_once_each_cut_into_units(count: int, processes: int) -> None:
    stages = signing.stages(count, processes)
    cuts = [cut for stage in stages for cut in stage]
    assert [i for start, stop in cuts for i in range(start, stop)] == list(range(count))
    # Units of PART_MIN (the last of the batch smaller), which the pool sends several together.
    assert all(stop - start == signing.PART_MIN for start, stop in cuts[:-1]) and 0 < cuts[-1][1] - cuts[-1][0] <= signing.PART_MIN
    # First FIRST_PART per process, so that every core signs at once.
    done = stages[0][-1][1]
    assert done == min(count, processes * signing.FIRST_PART)
    for stage in stages[1:]:
        # Each later stage is prepared while the processes sign what went before: at most
        # GROWTH times that.
        size = stage[-1][1] - stage[0][0]
        assert stage[0][0] == done and size <= signing.GROWTH * done
        done += size


async def test_a_process_that_stops_holds_back_one_credential_at_most_and_the_others_sign_the_rest() -> None:
    # Each process takes the next credential when it is done with one (a claim), instead of a
    # part cut for it ahead: a process that stops (here SIGSTOP; a core taken by something
    # else, in life) holds back at most the one it took. A batch larger than the claims out at
    # once (CLAIMS_AHEAD a process; the rest queued in the node, put down the pipe as answers come).
    key, batch = items(2_000)
    signer = signing.ProcessSigner(2)
    try:
        assert await signer.warm()
        stopped, running = signer.pids
        os.kill(stopped, signal.SIGSTOP)
        try:
            units = signing.units(len(batch))
            signed = await asyncio.wait_for(
                asyncio.gather(*(signer.sign_chunk(batch[a:b], seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW) for a, b in units)), 60
            )
        finally:
            os.kill(stopped, signal.SIGCONT)
        # Each caller's credentials, in its order, exactly as in-process signing gives them.
        assert [c for part in signed for c in part or []] == in_process(key, batch, "eddsa-jcs-2022")
        # The stopped process, running again, takes the next batch with the other one.
        again = await signer.sign_chunk(batch[:64], seed=key.seed, suite_name="eddsa-rdfc-2022", now=NOW)
        assert again == in_process(key, batch[:64], "eddsa-rdfc-2022")
    finally:
        signer.close()


async def test_the_pool_counts_what_no_process_has_taken_yet() -> None:
    # What issuance opens its completing transaction by (signing.tail): the credentials of a
    # batch that no process has taken, queued in the node or waiting in the claims pipe.
    key, batch = items(200)
    signer = signing.ProcessSigner(2)
    try:
        assert await signer.warm()
        for pid in signer.pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            units = signing.units(len(batch))
            waiting = [asyncio.ensure_future(signer.sign_chunk(batch[a:b], seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW)) for a, b in units]
            assert signer.untaken(seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW) == 200  # queued, not sent yet
            await asyncio.sleep(0)
            # Sent: CLAIMS_AHEAD a process down the pipe, the rest queued here; nothing taken.
            assert signer.untaken(seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW) == 200
            assert signer.untaken(seed=key.seed, suite_name="eddsa-rdfc-2022", now=NOW) is None  # no such batch
        finally:
            for pid in signer.pids:
                os.kill(pid, signal.SIGCONT)
        seen = []
        for done in asyncio.as_completed(waiting):
            await done
            left = signer.untaken(seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW)
            seen.append(0 if left is None else left)
        assert seen == sorted(seen, reverse=True) and seen[0] < 200  # taken as they are signed
        assert signer.untaken(seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW) is None  # all answered: forgotten
    finally:
        signer.close()


class _Noted(dict):
    """A credential that leaves a line in ``path`` each time a process loads it from a pickle."""

    path = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return _loaded, (dict(self), self.path)


def _loaded(credential: dict[str, Any], path: str) -> dict[str, Any]:
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\n")
    return credential


async def test_a_process_loads_only_the_credentials_it_claims(tmp_path: Path) -> None:
    # Every process gets every item of a batch (any may claim it), each pickled on its own, and
    # loads only those it claims: each process loading all of them cost 3-4 % of the pool's CPU
    # on micro-credentials (bench/README.md, fourteenth pass).
    key, plain = items(256)
    noted = tmp_path / "loaded"
    batch = [(_Noted(c), vm) for c, vm in plain]
    for c, _ in batch:
        c.path = str(noted)
    signer = signing.ProcessSigner(2)
    try:
        assert await signer.warm()
        units = signing.units(len(batch))
        signed = await asyncio.gather(*(signer.sign_chunk(batch[a:b], seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW) for a, b in units))
        pids = set(signer.pids)
    finally:
        signer.close()
    assert [c for part in signed for c in part or []] == in_process(key, plain, "eddsa-jcs-2022")
    loads = noted.read_text().split()
    assert len(loads) == len(batch)  # once each, in whichever process signed it
    assert {int(pid) for pid in loads} <= pids and os.getpid() not in {int(pid) for pid in loads}


async def test_claims_go_down_the_pipe_in_whole_writes_of_at_most_pipe_buf(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two processes could read the two halves of a torn claim: every write is at most PIPE_BUF
    # bytes (atomic, or refused whole) of whole claims, however many processes have claims out.
    import select

    signer = signing.ProcessSigner(8)
    monkeypatch.setattr(signer, "start", lambda: True)  # no process is started: the node's side alone
    read_end, signer._claims = os.pipe()
    os.set_blocking(signer._claims, False)
    writes: list[int] = []
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    key, batch = items(1_000)
    pending = signer.sign_chunk(batch, seed=key.seed, suite_name="eddsa-rdfc-2022", now=NOW)
    try:
        signer._feed()
        out = signing.CLAIMS_AHEAD * 8
        assert sum(writes) == out * 16 and max(writes) <= select.PIPE_BUF and all(n % 16 == 0 for n in writes), writes
        assert signer.untaken(seed=key.seed, suite_name="eddsa-rdfc-2022", now=NOW) == 1_000  # nothing taken yet
        claims = os.read(read_end, 1 << 20)
        assert [int.from_bytes(claims[i + 8 : i + 16], "big") for i in range(0, len(claims), 16)] == list(range(out))
    finally:
        os.close(read_end)
        signer.close()
        pending.close()  # type: ignore[attr-defined]  (the caller's coroutine, never awaited here)


async def test_a_batch_whose_callers_went_away_is_skipped_by_the_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    key, batch = items(1_024)
    signer = signing.ProcessSigner(2)
    signed_of: dict[int, int] = {}
    real = signer._answered

    def count(batch_id: int, answers: list[Any]) -> None:
        signed_of[batch_id] = signed_of.get(batch_id, 0) + sum(1 for _, only_proof, _ in answers if only_proof is not None)
        real(batch_id, answers)

    monkeypatch.setattr(signer, "_answered", count)
    try:
        assert await signer.warm()
        gone = [asyncio.ensure_future(signer.sign_chunk(batch[a:b], seed=key.seed, suite_name="eddsa-rdfc-2022", now=NOW))
                for a, b in signing.units(len(batch))]
        await asyncio.sleep(0)  # sent to the processes, and awaited
        for waiting in gone:  # the caller goes away
            waiting.cancel()
        # The next batch is signed after what the processes had taken of the first, not after all of it.
        signed = await signer.sign_chunk(batch[:32], seed=key.seed, suite_name="eddsa-jcs-2022", now=NOW)
        assert signed == in_process(key, batch[:32], "eddsa-jcs-2022")
        first, second = sorted(signed_of)
        assert signed_of[second] == 32 and signed_of[first] <= signing.CLAIMS_AHEAD * signer.processes, signed_of
    finally:
        signer.close()


async def test_the_pool_signs_the_first_stage_while_the_rest_of_the_batch_is_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node.issuance import Issuance

    events: list[tuple[str, int]] = []
    real_prepare, real_sign = Issuance._prepare, Issuance._sign_chunk

    def prepare(self: Issuance, *args: Any) -> Any:
        events.append(("prepare", 1))
        return real_prepare(self, *args)

    async def sign_chunk(self: Issuance, pool: Any, items: Any, *args: Any) -> Any:
        events.append(("sign", len(items)))
        return await real_sign(self, pool, items, *args)

    monkeypatch.setattr(Issuance, "_prepare", prepare)
    monkeypatch.setattr(Issuance, "_sign_chunk", sign_chunk)
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        try:
            n = 256
            signed = await node.issuance.issue_many("default", [credential(issuer.did, i) for i in range(n)])
        finally:
            signing.shared_signer().close()
        stages = signing.stages(n, signing.shared_signer().processes)
        # The first stage's parts went to the processes once it alone was prepared, before the
        # rest of the batch was: signing and preparing overlap.
        first_sign = next(i for i, (kind, _) in enumerate(events) if kind == "sign")
        assert [kind for kind, _ in events[:first_sign]] == ["prepare"] * (stages[0][-1][1])
        assert [size for kind, size in events if kind == "sign"] == [stop - start for stage in stages for start, stop in stage]
        assert len(events) == n + len([cut for stage in stages for cut in stage])
        assert [c["id"] for c in signed] == [credential(issuer.did, i)["id"] for i in range(n)]
        assert len({c["credentialStatus"]["statusListIndex"] for c in signed}) == n
        for vc in (signed[0], signed[-1]):
            result = await node.verification.verify_credential(vc)
            assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()


@pytest.mark.parametrize("clash", ["twice in the batch", "already issued"])
async def test_an_id_refused_in_a_later_stage_refuses_the_batch_and_spends_no_index(tmp_path: Path, clash: str) -> None:
    from node.errors import DuplicateCredentialError, InvalidRequestError
    from node.store import credentials as table

    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        try:
            batch = [credential(issuer.did, i) for i in range(256)]
            if clash == "twice in the batch":
                # The first stage's credential 0 is already signing when stage two names it again.
                batch[200]["id"] = batch[0]["id"]
                expected: type[Exception] = InvalidRequestError
            else:
                expected = DuplicateCredentialError
                await node.issuance.issue("default", credential(issuer.did, 200))
            async with node.db.read() as tx:
                before = await tx.fetchall("SELECT list_id, idx FROM status_entries")
            with pytest.raises(expected):
                await node.issuance.issue_many("default", batch)
            async with node.db.read() as tx:
                assert await tx.fetchall("SELECT list_id, idx FROM status_entries") == before
                assert len(await table.find(tx, issuer="default")) == len(before)
                used = await tx.fetchall("SELECT used_count FROM status_lists")
            assert [r["used_count"] for r in used] == ([1] if before else [])
            # The pool is still up, and the batch without the clash is issued.
            assert signing.shared_signer().ready
            signed = await node.issuance.issue_many("default", [c for i, c in enumerate(batch) if i != 200])
            assert len(signed) == 255
        finally:
            signing.shared_signer().close()


async def test_a_key_rotated_after_the_issuer_was_read_signs_nothing_and_the_new_key_signs_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node.issuance import Issuance

    real = Issuance._active_pair
    rotated: list[str] = []

    async def then_rotate(self: Issuance, issuer: Any) -> Any:
        # The key as read before the admission; then a rotation commits before the admission
        # takes the write lock (another process's, or an operator's, in between).
        pair = await real(self, issuer)
        rotation = await node.keys.rotate(issuer.name)
        rotated.append(rotation.current.id)
        return pair

    monkeypatch.setattr(Issuance, "_active_pair", then_rotate)
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        assert await signing.shared_signer().warm()
        try:
            signed = await node.issuance.issue_many("default", [credential(issuer.did, i) for i in range(256)])
        finally:
            signing.shared_signer().close()
        assert rotated and rotated[0] != issuer.public_key_multibase
        # Every proof names the key the admission found active: the new one.
        assert {vc["proof"]["verificationMethod"].rsplit("#", 1)[1] for vc in signed} == {rotated[0]}
        for vc in (signed[0], signed[-1]):
            result = await node.verification.verify_credential(vc)
            assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()


def _node_process(tmp_path: Path, then: str) -> tuple[Path, Path]:
    """A script (its path, and the project's root to run it from) for a node's process that
    warms a pool of two (``signer``; ``pids``, its processes; ``parents``, theirs: the
    forkserver), then runs the lines ``then`` (``os``, ``signal`` and ``sys`` imported)."""
    path = tmp_path / "node_process.py"
    path.write_text(
        "import asyncio, os, signal, sys\n"
        "from node import signing\n"
        "async def main():\n"
        "    signer = signing.ProcessSigner(2)\n"
        "    assert await signer.warm()\n"
        "    pids = list(signer.pids)\n"
        "    parents = [open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1] for pid in pids]\n"
        f"{then}"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n"
    )
    return path, Path(__file__).resolve().parents[2]


def test_the_pool_processes_end_when_the_node_process_is_killed(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    # A node's process with a warm pool, killed with SIGKILL (it cannot shut the pool down):
    # its signing processes and their forkserver must not stay behind, idle, for ever.
    path, root = _node_process(
        tmp_path,
        "    open(sys.argv[1], 'w').write(' '.join(map(str, pids + parents)))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n",
    )
    # Files, not pipes: processes left behind would hold a pipe open, and the run would not end.
    out, errors = tmp_path / "pids", tmp_path / "stderr"
    with errors.open("w") as stderr:
        done = subprocess.run([sys.executable, str(path), str(out)], cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=stderr, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == -signal.SIGKILL, errors.read_text()
    pids = [int(pid) for pid in out.read_text().split()]
    workers, forkservers = pids[:2], set(pids[2:])
    assert len(workers) == 2 and len(forkservers) == 1 and os.getpid() not in forkservers

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in [*workers, *forkservers]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in [*workers, *forkservers] if alive(pid)]


def test_the_forkserver_imports_the_library_once_for_the_pool_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    # A fresh process (this one may have a forkserver already): its pool's forkserver holds the
    # library before it forks the signing processes, which then start with it (orjson, which the
    # library imports and node.signing does not, mapped in the forkserver's memory).
    path, root = _node_process(
        tmp_path,
        "    assert len(set(parents)) == 1, parents\n"
        "    maps = open(f'/proc/{parents[0]}/maps').read()\n"
        "    signer.close()\n"
        "    print('orjson' in maps, 'orjson' in sys.modules)\n",
    )
    done = subprocess.run([sys.executable, str(path)], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    # In the forkserver, and not because the node's process had it: it never imported it.
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr

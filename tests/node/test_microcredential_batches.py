"""Batches of micro-credentials on every core (node.achievements over node.issuance and the
signing pool): the credentials are built while the first ones sign, and a request found
refused then refuses the batch (or is set aside) exactly as when everything was checked first,
with nothing handed out and no status index spent."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from node import signing
from node.achievements import Achievements, BatchOutcome, BatchRefusedError
from node.config import Config
from node.errors import IdempotencyConflictError
from node.issuance import Issuance
from node.node import open_node

from support import OFFERED_ACHIEVEMENT as ACHIEVEMENT
from support import fresh_shared_signer  # noqa: F401  (autouse: each test ends with the pool closed)

N = 256  # a batch the pool signs, in several stages


def requests(n: int = N) -> list[dict[str, Any]]:
    return [{"achievementId": "ds-101", "learner": {"name": f"Learner {i}"}, "grade": "ABC"[i % 3]} for i in range(n)]


def node_config(tmp_path: Path) -> Config:
    return Config().replace(data_dir=tmp_path / "n", base_url="https://node.example", status_purposes=("revocation",), kdf="interactive")


async def entries(node: Any) -> list[Any]:
    async with node.db.read() as tx:
        return [tuple(r) for r in await tx.fetchall("SELECT list_id, idx FROM status_entries")]


async def test_a_large_batch_signs_its_first_credentials_before_its_last_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_build, real_sign = Achievements._build, Issuance._sign_chunk

    def build(self: Achievements, *args: Any) -> Any:
        events.append("build")
        return real_build(self, *args)

    async def sign_chunk(self: Issuance, *args: Any) -> Any:
        events.append("sign")
        return await real_sign(self, *args)

    monkeypatch.setattr(Achievements, "_build", build)
    monkeypatch.setattr(Issuance, "_sign_chunk", sign_chunk)
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        await node.achievements.create("default", copy.deepcopy(ACHIEVEMENT))
        assert await signing.shared_signer().warm()
        outcome = await node.achievements.issue("default", requests())
        assert outcome.new == N and not outcome.refused
        # Each credential built once, and the first stage's parts on their way to the processes
        # before the rest of the batch was built.
        assert events.count("build") == N
        first_stage = signing.stages(N, signing.shared_signer().processes)[0][-1][1]
        assert events.index("sign") == first_stage < N
        names = [i.credential["credentialSubject"]["identifier"][0]["identityHash"] for i in outcome.issued]
        assert names == [f"Learner {i}" for i in range(N)]
        for issued in (outcome.issued[0], outcome.issued[-1]):
            result = await node.verification.verify_credential(issued.credential)
            assert [c.name for c in result.checks if not c.ok] == ["status"], result.to_json()  # its list is not served here


@pytest.mark.parametrize("all_or_nothing", [True, False])
async def test_a_request_refused_while_the_batch_signs_is_named_and_spends_nothing(tmp_path: Path, all_or_nothing: bool) -> None:
    batch = requests()
    # It passes the screening (an achievement, a key), and is refused when its credential is
    # built: the first stages are signing by then.
    batch[200] = {**batch[200], "learner": {"name": ""}, "grade": "Z"}
    plans: list[tuple[int, int, int]] = []
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        await node.achievements.create("default", copy.deepcopy(ACHIEVEMENT))
        assert await signing.shared_signer().warm()
        before = await entries(node)
        if all_or_nothing:
            with pytest.raises(BatchRefusedError) as refused:
                await node.achievements.issue("default", batch, plan=lambda *p: plans.append(p))
            assert refused.value.extra["items"] == [
                {"index": 200, "problems": ["(a) learner identification: the learner's name is required",
                                            "grade: 'Z' is not one of the assessment's allowed values (A, B, C, F)"]}
            ]
            assert await entries(node) == before
            async with node.db.read() as tx:
                assert (await tx.fetchall("SELECT COUNT(*) AS n FROM credentials"))[0]["n"] == 0
            assert plans == [(N, 0, 0)]  # said before the refusal was found; the checked batch refused at once
            assert signing.shared_signer().ready  # the pool is still up
        else:
            outcome = await node.achievements.issue("default", batch, all_or_nothing=False, plan=lambda *p: plans.append(p))
            assert [r.index for r in outcome.refused] == [200] and outcome.new == N - 1
            assert plans == [(N, 0, 0), (N - 1, 0, 1)]
            # Only the credentials issued hold indexes: none spent on the abandoned attempt.
            assert len(await entries(node)) == N - 1
            async with node.db.read() as tx:
                assert (await tx.fetchall("SELECT SUM(used_count) AS n FROM status_lists"))[0]["n"] == N - 1


async def test_a_request_the_screening_refuses_signs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signed: list[int] = []
    real_sign = Issuance._sign_chunk

    async def sign_chunk(self: Issuance, pool: Any, items: Any, *args: Any) -> Any:
        signed.append(len(items))
        return await real_sign(self, pool, items, *args)

    monkeypatch.setattr(Issuance, "_sign_chunk", sign_chunk)
    batch = requests()
    batch[200] = {**batch[200], "achievementId": "nope"}
    batch[201] = {**batch[201], "idempotencyKey": "k"}
    batch[202] = {**batch[202], "idempotencyKey": "k"}
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        await node.achievements.create("default", copy.deepcopy(ACHIEVEMENT))
        with pytest.raises(BatchRefusedError) as refused:
            await node.achievements.issue("default", batch)
        assert [item["index"] for item in refused.value.extra["items"]] == [200, 202]
        assert signed == []


def test_an_error_while_building_an_award_fails_the_batch_instead_of_ending_it_short() -> None:
    from node.achievements import _Awards

    def build(n: Any) -> dict[str, Any]:
        if n == 2:
            raise IndexError("a bug in the builder")
        return {"n": n}

    awards = _Awards([0, 1, 2, 3], build)  # type: ignore[list-item,arg-type]
    with pytest.raises(IndexError, match="a bug in the builder"):
        list(awards)
    assert awards[1] == {"n": 1} and awards[0:2] == [{"n": 0}, {"n": 1}] and len(awards) == 4


# --- one idempotency key sent twice at once ---------------------------------------------------------


async def credential_count(node: Any) -> int:
    async with node.db.read() as tx:
        return (await tx.fetchone("SELECT COUNT(*) AS n FROM credentials"))["n"]


def keyed(key: str, name: str = "Ada") -> dict[str, Any]:
    return {"achievementId": "ds-101", "learner": {"name": name}, "idempotencyKey": key}


async def test_the_same_keyed_request_sent_twice_at_once_issues_once_and_replays_it(tmp_path: Path) -> None:
    """Both look the key up before either has recorded it; the one that completes second is
    the replay of the first (as POST .../microcredentials promises), not a duplicate-credential."""
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        await node.achievements.create("default", copy.deepcopy(ACHIEVEMENT))
        first, second = await asyncio.gather(*(node.achievements.issue("default", [keyed("enrol-1")]) for _ in range(2)))
        (a,), (b,) = first.issued, second.issued
        assert sorted([a.replayed, b.replayed]) == [False, True]
        assert a.credential_id == b.credential_id and a.credential == b.credential  # the replay is the credential issued
        assert await credential_count(node) == 1


async def test_the_same_key_with_another_request_sent_at_once_is_an_idempotency_conflict(tmp_path: Path) -> None:
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        await node.achievements.create("default", copy.deepcopy(ACHIEVEMENT))
        results = await asyncio.gather(
            node.achievements.issue("default", [keyed("enrol-1", "Ada")]),
            node.achievements.issue("default", [keyed("enrol-1", "Grace")]),
            return_exceptions=True,
        )
        issued = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(issued) == 1 and not issued[0].issued[0].replayed
        assert [type(e) for e in refused] == [IdempotencyConflictError], refused
        assert await credential_count(node) == 1


@pytest.mark.parametrize("all_or_nothing", [True, False])
async def test_a_batch_whose_key_another_request_takes_meanwhile_replays_that_item_and_issues_the_rest(tmp_path: Path, all_or_nothing: bool) -> None:
    async with open_node(node_config(tmp_path), create=True, network=False) as node:
        await node.achievements.create("default", copy.deepcopy(ACHIEVEMENT))
        batch = [keyed(f"batch-{i}", f"Learner {i}") for i in range(5)]
        single, whole = await asyncio.gather(
            node.achievements.issue("default", [batch[2]]),
            node.achievements.issue("default", batch, all_or_nothing=all_or_nothing),
        )
        assert not whole.refused
        assert [i.index for i in whole.issued] == [0, 1, 2, 3, 4]
        replays = [i for i in whole.issued if i.replayed] + [i for i in single.issued if i.replayed]
        assert len(replays) == 1 and replays[0].credential_id == node.achievements.credential_id_for("default", "batch-2")
        assert await credential_count(node) == 5

        # A conflicting key in a batch issued meanwhile: refused (409) alone, or the batch with it.
        other = [keyed(f"other-{i}", f"Other {i}") for i in range(3)]
        racing = node.achievements.issue("default", [keyed("other-1", "Someone else")])
        if all_or_nothing:
            # Whichever is admitted first holds "other-1"; the other is refused whole. The single
            # usually wins (it is started first), but the event loop does not promise it.
            results = await asyncio.gather(racing, node.achievements.issue("default", other), return_exceptions=True)
            kinds = [type(r) for r in results]
            assert kinds in ([BatchOutcome, IdempotencyConflictError], [IdempotencyConflictError, BatchOutcome]), results
            assert await credential_count(node) == (6 if kinds[0] is BatchOutcome else 8)
        else:
            first, outcome = await asyncio.gather(
                racing, node.achievements.issue("default", other, all_or_nothing=False), return_exceptions=True
            )
            assert isinstance(outcome, BatchOutcome), outcome
            if isinstance(first, BatchOutcome):  # the single held the key first: that item alone is refused
                assert [(r.index, r.status) for r in outcome.refused] == [(1, 409)]
                assert [(i.index, i.replayed) for i in outcome.issued] == [(0, False), (2, False)]
            else:  # the batch held it first: the single is the one refused
                assert isinstance(first, IdempotencyConflictError), first
                assert not outcome.refused and [i.index for i in outcome.issued] == [0, 1, 2]
            assert await credential_count(node) == 8

"""Two replicas of one node: two real ``vcnode serve`` processes, each with its own data folder,
sharing one PostgreSQL schema (issue 13, docs/scaling.md).

What a replica must never do is disagree with the other: every status-list index is handed out
once whichever replica allocates it, a revocation taken by one is served by the other on its
next request (the list's bits and its ETag), a challenge is spent once across both, tokens,
issuers, keys and idempotency keys are one set, and a replica killed in the middle of issuing
loses nothing it had confirmed. Each replica keeps its own caches of remote documents; its own
lists and DIDs come from the store, and verdicts are never cached.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import asyncpg
import pytest

from did.key import did_key_from_public_key
from postgres_server import fresh_schema
from served_node import ServedNode, bearer, clean_env, cli, served
from status.bitstring import Bitstring
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader
from vc.presentations import create_presentation, sign_presentation

BASE_URL = "https://replicas.example"  # the public URL both replicas serve under (behind one proxy)
ALLOCATIONS = 10_000
BATCH = 250  # items per POST .../microcredentials
COURSE = {
    "slug": "ds-101",
    "title": "Data Science 101",
    "description": "A module of the Certificate in Data Science.",
    "learningOutcomes": ["Apply the module's methods to real data"],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": {"type": "written examination"},
    "participation": "online",
    "qualityAssurance": {"description": "Institutional accreditation", "url": "https://body.example/decisions/1"},
    "awardingBody": {"name": "University of Example", "countryCode": "NL"},
}


def _env(url: str) -> dict[str, str]:
    # A passphrase, not a key file: every replica, on any machine, derives the same master key.
    return {"VCNODE_DATABASE_URL": url, "VCNODE_PASSPHRASE": "replicas share this passphrase"}


class Replicas:
    def __init__(self, a: ServedNode, b: ServedNode, url: str, token: dict[str, Any], http: aiohttp.ClientSession) -> None:
        self.a, self.b, self.url, self.http = a, b, url, http
        self.token, self.token_id = token["token"], token["id"]

    async def post(self, node: ServedNode, path: str, body: Any, *, token: str | None = None) -> tuple[int, Any]:
        headers = bearer(token if token is not None else self.token)
        async with self.http.post(node.url + path, json=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    async def get(self, node: ServedNode, path: str) -> tuple[int, Any, str]:
        async with self.http.get(node.url + path) as resp:
            return resp.status, await resp.json(content_type=None), resp.headers.get("ETag", "")

    async def issue(self, node: ServedNode, keys: list[str]) -> tuple[int, Any]:
        items = [{"achievementId": "ds-101", "learner": {"name": f"Learner {k}"}, "idempotencyKey": k} for k in keys]
        return await self.post(node, "/issuers/default/microcredentials", {"items": items, "options": {"cryptosuite": "eddsa-jcs-2022"}})

    async def rows(self, sql: str, *args: Any) -> list[Any]:
        conn = await asyncpg.connect(self.url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()


@pytest.fixture
async def replicas(tmp_path: Path, unused_tcp_port_factory: Any) -> AsyncIterator[Replicas]:
    async with fresh_schema("vcrep") as url:
        env = _env(url)
        await cli("init", "--data", str(tmp_path / "a"), "--base-url", BASE_URL, env=env)
        # Made through the other replica's folder: the token lives in the shared store.
        _, out, _ = await cli("token", "create", "--scopes", "issue,status", "--issuer", "default", "--json",
                              "--data", str(tmp_path / "b"), env=env)
        token = json.loads(out)
        async with served(tmp_path / "a", unused_tcp_port_factory(), env=env, log_name="a.log") as a, \
                served(tmp_path / "b", unused_tcp_port_factory(), env=env, log_name="b.log") as b, \
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
            yield Replicas(a, b, url, token, http)


def _bits(list_credential: dict[str, Any]) -> Bitstring:
    return Bitstring.decode(list_credential["credentialSubject"]["encodedList"])


def _entries(vc: dict[str, Any]) -> list[dict[str, Any]]:
    status = vc["credentialStatus"]
    return status if isinstance(status, list) else [status]


def _path(entry: dict[str, Any]) -> str:
    return entry["statusListCredential"].removeprefix(BASE_URL)


async def test_two_replicas_on_one_postgresql_agree_on_everything(replicas: Replicas) -> None:
    r = replicas
    # The achievement defined through A is issued through B; the issuer and its keys are one.
    status, out = await r.post(r.a, "/issuers/default/achievements", COURSE)
    assert status == 201, out
    assert (await r.get(r.a, "/.well-known/did.json"))[1] == (await r.get(r.b, "/.well-known/did.json"))[1]

    # 10,000 allocations at once, half through each replica: all distinct, one list, its
    # used-bitmap counting every one (a lost update between replicas would show there).
    keys = [f"enrolment-{i}" for i in range(ALLOCATIONS)]
    batches = [keys[i : i + BATCH] for i in range(0, ALLOCATIONS, BATCH)]
    results = await asyncio.gather(*(r.issue(r.a if n % 2 else r.b, batch) for n, batch in enumerate(batches)))
    assert all(status == 201 for status, _ in results), [out for status, out in results if status != 201][:1]
    credentials = [vc for _, out in results for vc in out["verifiableCredentials"]]
    taken = [(e["statusListCredential"], int(e["statusListIndex"])) for vc in credentials for e in _entries(vc)]
    assert len(taken) == ALLOCATIONS and len(set(taken)) == ALLOCATIONS
    rows = await r.rows('SELECT COUNT(*) AS n, COUNT(DISTINCT (list_id, idx)) AS d FROM status_entries')
    assert (rows[0]["n"], rows[0]["d"]) == (ALLOCATIONS, ALLOCATIONS)
    rows = await r.rows('SELECT used_count FROM status_lists')
    assert [row["used_count"] for row in rows] == [ALLOCATIONS]

    # Idempotency keys are shared: a batch issued through B, sent again to A, issues nothing.
    first_ids = [vc["id"] for vc in results[0][1]["verifiableCredentials"]]
    status, out = await r.issue(r.a, batches[0])
    assert status == 200 and out["issued"] == 0, out
    assert [item["credentialId"] for item in out["replayed"]] == first_ids

    # A revocation through A is what B serves on the very next request: the bit and a new ETag,
    # the same bytes (ETag) as A serves; and B's verdict on the credential follows at once.
    vc = results[0][1]["verifiableCredentials"][0]  # issued through B
    (entry,) = _entries(vc)
    _, before, etag_before = await r.get(r.b, _path(entry))
    status, verdict = await r.post(r.b, "/credentials/verify", {"verifiableCredential": vc})
    assert status == 200 and verdict["verified"] is True, verdict
    status, out = await r.post(r.a, "/credentials/status", {"credentialId": vc["id"], "status": "revoked"})
    assert status == 200, out
    _, after, etag_after = await r.get(r.b, _path(entry))
    assert etag_after != etag_before
    assert _bits(before).get(int(entry["statusListIndex"])) == 0 and _bits(after).get(int(entry["statusListIndex"])) == 1
    assert (await r.get(r.a, _path(entry)))[2] == etag_after
    status, verdict = await r.post(r.b, "/credentials/verify", {"verifiableCredential": vc})
    assert verdict["verified"] is False, verdict  # not a cached "verified"

    # A challenge made on A and spent on B cannot be spent again on A.
    holder_key = Ed25519KeyPair.generate()
    holder = did_key_from_public_key(holder_key.public_key)
    async with r.http.post(r.a.url + "/challenges") as resp:
        challenge = (await resp.json())["challenge"]
    vp = sign_presentation(
        create_presentation([credentials[1]], holder=holder), key=holder_key, verification_method=f"{holder}#{holder_key.public_multibase}",
        suite=SUITES["eddsa-jcs-2022"], loader=default_loader(), now=datetime.now(timezone.utc), challenge=challenge,
    )
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge}}
    status, out = await r.post(r.b, "/presentations/verify", body)
    assert status == 200 and out["verified"] is True, out
    status, out = await r.post(r.a, "/presentations/verify", body)
    assert status == 400 and any(e["code"] == "INVALID_CHALLENGE_ERROR" for e in out["errors"]), out

    # Keys are one set: a credential B signed verifies on A; a key rotated through A's folder
    # (the operator's CLI) is what both publish within a second (issuer_refresh_ms) and what
    # B signs with from then on.
    status, verdict = await r.post(r.a, "/credentials/verify", {"verifiableCredential": credentials[3]})
    assert status == 200 and verdict["verified"] is True, verdict
    await cli("issuer", "rotate-key", "default", "--json", "--data", str(r.a.data), env=_env(r.url))
    for _ in range(40):
        docs = [(await r.get(node, "/.well-known/did.json"))[1] for node in (r.a, r.b)]
        if docs[0] == docs[1] and len(docs[0]["verificationMethod"]) == 2:
            break
        await asyncio.sleep(0.1)
    assert docs[0] == docs[1] and len(docs[0]["verificationMethod"]) == 2, docs
    active = docs[0]["authentication"][0]
    status, out = await r.issue(r.b, ["after-rotation"])
    assert status == 201 and out["verifiableCredentials"][0]["proof"]["verificationMethod"] == active, out

    # A token revoked through one replica's folder is refused by both at once.
    await cli("token", "revoke", r.token_id, "--data", str(r.a.data), env=_env(r.url))
    for node in (r.a, r.b):
        status, _ = await r.post(node, "/credentials/status", {"credentialId": credentials[2]["id"], "status": "revoked"})
        assert status == 401


async def test_a_replica_killed_mid_batch_loses_nothing_it_confirmed(replicas: Replicas) -> None:
    r = replicas
    status, out = await r.post(r.a, "/issuers/default/achievements", COURSE)
    assert status == 201, out
    confirmed: list[tuple[list[str], list[str]]] = []  # (idempotency keys, credential ids) answered 201 by B
    counter = iter(range(1_000_000))

    async def keep_issuing() -> None:
        while True:
            keys = [f"kill-{next(counter)}" for _ in range(50)]
            try:
                status, out = await r.issue(r.b, keys)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return  # B is gone: what it had not answered was never confirmed
            assert status == 201, out
            confirmed.append((keys, [vc["id"] for vc in out["verifiableCredentials"]]))

    workers = [asyncio.create_task(keep_issuing()) for _ in range(6)]
    deadline = asyncio.get_running_loop().time() + 120
    while len(confirmed) < 8:
        failed = [w for w in workers if w.done()]
        if failed or asyncio.get_running_loop().time() > deadline:
            r.b.proc.kill()
            await asyncio.gather(*workers)  # raises what went wrong, if anything did
            raise AssertionError(f"replica B confirmed only {len(confirmed)} batches:\n{r.b.log()[-3000:]}")
        await asyncio.sleep(0.05)
    r.b.proc.kill()  # SIGKILL, with batches in flight
    await r.b.proc.wait()
    await asyncio.gather(*workers)

    ids = [cid for _, batch in confirmed for cid in batch]
    assert len(ids) >= 8 * 50
    stored = await r.rows(
        "SELECT c.id FROM credentials c JOIN status_entries e ON e.credential_id = c.id WHERE c.id = ANY($1::text[])", ids
    )
    assert sorted(row["id"] for row in stored) == sorted(ids)  # every confirmed one, with its status entry
    # A, still serving, knows every confirmed key (nothing is issued twice) and can revoke what B issued.
    for keys, batch in confirmed:
        status, out = await r.issue(r.a, keys)
        assert status == 200 and [item["credentialId"] for item in out["replayed"]] == batch, out
    # The kept credential B confirmed is what A returns (GET /credentials/{id}).
    async with r.http.get(f"{r.a.url}/credentials/{ids[-1]}", headers=bearer(r.token)) as resp:
        assert resp.status == 200 and (await resp.json())["verifiableCredential"]["id"] == ids[-1]
    status, out = await r.post(r.a, "/credentials/status", {"credentialId": ids[-1], "status": "revoked"})
    assert status == 200, out
    rows = await r.rows("SELECT COUNT(*) AS n, COUNT(DISTINCT (list_id, idx)) AS d FROM status_entries")
    assert rows[0]["n"] == rows[0]["d"]


# A replica's process that commits a revocation and is SIGKILLed before it re-signs the list:
# the state a crash leaves (version = published_version + 1), every time rather than by luck.
DIE_BEFORE_RE_SIGNING = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from node.config import load_config
    from node.node import open_node

    async def main(data, credential_id):
        async with open_node(load_config({"data_dir": data}), network=False) as node:
            async def killed(list_ids):
                os.kill(os.getpid(), signal.SIGKILL)
            node.status_lists.republish = killed
            await node.status.set_status(credential_id, "revoked")

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def die_before_re_signing(r: Replicas, data: Path, credential_id: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DIE_BEFORE_RE_SIGNING, str(data), credential_id, env=clean_env(_env(r.url)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == -9, err.decode()
    (row,) = await r.rows("SELECT version, published_version FROM status_lists WHERE purpose = 'revocation'")
    assert row["version"] == row["published_version"] + 1


async def test_a_revocation_whose_replica_died_before_re_signing_is_served_by_the_others(replicas: Replicas) -> None:
    r = replicas
    status, out = await r.post(r.a, "/issuers/default/achievements", COURSE)
    assert status == 201, out
    status, out = await r.issue(r.a, ["died-1", "died-2"])
    assert status == 201, out
    first, second = out["verifiableCredentials"]
    (entry,) = _entries(first)
    _, _, etag_before = await r.get(r.b, _path(entry))

    # Nobody asks again: B re-signs what the dead process left within a few seconds, and its
    # verdict follows.
    await die_before_re_signing(r, r.a.data, first["id"])
    for _ in range(100):
        _, listed, etag = await r.get(r.b, _path(entry))
        if etag != etag_before:
            break
        await asyncio.sleep(0.1)
    assert _bits(listed).get(int(entry["statusListIndex"])) == 1, r.b.log()[-3000:]
    _, verdict = await r.post(r.b, "/credentials/verify", {"verifiableCredential": first})
    assert verdict["verified"] is False, verdict
    assert "re-signed 1 status list" in r.a.log() + r.b.log()

    # The caller's retry, on the other replica at once, is answered only once the list says
    # so (the retry re-signs it, or B's repair got there first: either way, before the 200).
    (entry,) = _entries(second)
    _, _, etag_before = await r.get(r.b, _path(entry))
    await die_before_re_signing(r, r.a.data, second["id"])
    status, out = await r.post(r.b, "/credentials/status", {"credentialId": second["id"], "status": "revoked"})
    assert status == 200 and out["status"] == "revoked", out
    _, listed, etag = await r.get(r.b, _path(entry))
    assert etag != etag_before and _bits(listed).get(int(entry["statusListIndex"])) == 1


async def _sever_when_waiting(url: str, app: str, holder: Any, query: str) -> None:
    """Once the replica's statement matching ``query`` waits on the lock ``holder`` holds, end
    every session of the replica (as an operator's pg_terminate_backend or a fail-over does),
    then let the lock go."""
    watcher = await asyncpg.connect(url)
    try:
        for _ in range(1000):
            if await watcher.fetchval(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND query ILIKE $2",
                app, f"%{query}%",
            ):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"the replica's statement ({query}) never waited on the lock")
        await watcher.fetchval("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app)
    finally:
        await watcher.close()
    await holder.execute("ROLLBACK")


async def test_a_replica_whose_database_sessions_are_ended_mid_request_answers_503_then_serves_again(
    tmp_path: Path, unused_tcp_port_factory: Any
) -> None:
    async with fresh_schema("vcrep") as url:
        app = "vcnode-severed"
        env = _env(f"{url}&application_name={app}")
        await cli("init", "--data", str(tmp_path / "a"), "--base-url", BASE_URL, env=env)
        _, out, _ = await cli("token", "create", "--scopes", "issue,status", "--issuer", "default", "--json", "--data", str(tmp_path / "a"), env=env)
        async with served(tmp_path / "a", unused_tcp_port_factory(), env=env) as a, aiohttp.ClientSession() as http:
            r = Replicas(a, a, url, json.loads(out), http)
            status, out = await r.post(a, "/issuers/default/achievements", COURSE)
            assert status == 201, out
            status, out = await r.issue(a, ["severed"])
            assert status == 201, out
            (vc,) = out["verifiableCredentials"]
            (entry,) = _entries(vc)
            holder = await asyncpg.connect(url)
            try:
                # A read in flight (GET of a status list).
                await holder.execute("BEGIN; LOCK TABLE status_lists IN ACCESS EXCLUSIVE MODE")
                reading = asyncio.create_task(r.get(a, _path(entry)))
                await _sever_when_waiting(url, app, holder, "SELECT credential, etag")
                status, problem, _ = await reading
                assert status == 503 and problem["type"] == "urn:vcnode:problem:store-unavailable", problem
                status, listed, _ = await r.get(a, _path(entry))
                assert status == 200 and _bits(listed).get(int(entry["statusListIndex"])) == 0

                # A write transaction in flight (a revocation): nothing is committed, and it is
                # taken when sent again.
                await holder.execute("BEGIN; LOCK TABLE status_lists IN ACCESS EXCLUSIVE MODE")
                revoking = asyncio.create_task(r.post(a, "/credentials/status", {"credentialId": vc["id"], "status": "revoked"}))
                await _sever_when_waiting(url, app, holder, "status_entries")
                status, problem = await revoking
                assert status == 503 and problem["type"] == "urn:vcnode:problem:store-unavailable", problem
                assert (await r.rows("SELECT status FROM credentials"))[0]["status"] == "active"
                status, out = await r.post(a, "/credentials/status", {"credentialId": vc["id"], "status": "revoked"})
                assert status == 200 and out["status"] == "revoked", out
                status, listed, _ = await r.get(a, _path(entry))
                assert status == 200 and _bits(listed).get(int(entry["statusListIndex"])) == 1
            finally:
                await holder.close()
            assert "internal error" not in a.log().lower(), a.log()[-3000:]


async def test_one_idempotency_key_sent_to_both_replicas_at_once_issues_once(replicas: Replicas) -> None:
    """Each replica looks the key up before the other has recorded it; the one completing
    second answers the replay of the first (or, for another request under the key, 409
    idempotency-conflict), never duplicate-credential."""
    r = replicas
    status, out = await r.post(r.a, "/issuers/default/achievements", COURSE)
    assert status == 201, out

    def single(key: str, name: str) -> dict[str, Any]:
        return {"achievementId": "ds-101", "learner": {"name": name}, "idempotencyKey": key}

    path = "/issuers/default/microcredentials"
    for n in range(6):
        same = single(f"same-{n}", "Ada")
        answers = await asyncio.gather(r.post(r.a, path, same), r.post(r.b, path, same), r.post(r.b, path, same))
        assert sorted(status for status, _ in answers) == [200, 200, 201], answers
        (new,) = [out["verifiableCredential"] for status, out in answers if status == 201]
        for status, out in answers:
            if status == 200:
                assert out["replayed"] is True and out["verifiableCredential"] == new, out

        answers = await asyncio.gather(r.post(r.a, path, single(f"other-{n}", "Ada")), r.post(r.b, path, single(f"other-{n}", "Grace")))
        assert sorted(status for status, _ in answers) == [201, 409], answers
        (problem,) = [out for status, out in answers if status == 409]
        assert problem["type"].endswith("idempotency-conflict"), problem
    rows = await r.rows("SELECT COUNT(*) AS n FROM credentials")
    assert rows[0]["n"] == 12

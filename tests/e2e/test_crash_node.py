"""A served node killed with SIGKILL at seeded random moments while clients issue batches of
micro-credentials (idempotency keys) and revoke them, then restarted (issue 14): every
confirmed credential is there, as it was answered; every confirmed revocation is in the store
and in the published list; a replayed key hands back the credential or issues it once; no
index is reused; every published list verifies and agrees with the store. Also a bulk
revocation (`vcnode revoke --from`) and a start-up migration killed at random moments.

More seeds (docs/reliability.md):

    VCNODE_CRASH_SEEDS=20 python -m pytest tests/e2e/test_crash_node.py -s
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

import aiohttp

from crashkit import check_lists, check_store, env, kill_all, make_node, ok, store, token
from running import bearer, cli, serve
from test_crash_batch import SEEDS, run_and_kill

CLIENTS = 4
BATCH = 5


async def client(http: aiohttp.ClientSession, url: str, tok: str, n: int, rng: random.Random, confirmed: dict, revoked: set, tried: dict) -> None:
    """Issue batches of BATCH awards with keys, and revoke one confirmed credential in three; record only what was answered."""
    round_ = 0
    while True:
        keys = [f"c{n}-r{round_}-i{i}" for i in range(BATCH)]
        items = [{"achievementId": "ds-101", "learner": {"name": f"Learner {k}"}, "idempotencyKey": k} for k in keys]
        for k, item in zip(keys, items):
            tried[k] = item
        round_ += 1
        async with http.post(f"{url}/issuers/default/microcredentials", json={"items": items}, headers=bearer(tok)) as resp:
            assert resp.status == 201, await resp.text()
            body = await resp.json()
        for k, vc in zip(keys, body["verifiableCredentials"]):
            confirmed[k] = vc
        if confirmed and rng.random() < 0.35:
            victim = rng.choice(sorted(confirmed))
            cid = confirmed[victim]["id"]
            async with http.post(f"{url}/credentials/status", json={"credentialId": cid, "status": "revoked"}, headers=bearer(tok)) as resp:
                assert resp.status == 200, await resp.text()
            revoked.add(cid)


async def test_a_node_killed_while_issuing_and_revoking_loses_nothing_it_confirmed(tmp_path: Path, unused_tcp_port_factory) -> None:
    data = await make_node(tmp_path)
    tok = await token(data)
    confirmed: dict[str, dict] = {}
    revoked: set[str] = set()
    tried: dict[str, dict] = {}
    kills = []
    for seed in SEEDS:
        rng = random.Random(seed)
        node = await serve(data, unused_tcp_port_factory())
        async with aiohttp.ClientSession() as http:
            tasks = [asyncio.create_task(client(http, node.url, tok, seed * 100 + n, random.Random(seed * 100 + n), confirmed, revoked, tried)) for n in range(CLIENTS)]
            delay = rng.uniform(0.2, 2.5)
            await asyncio.sleep(delay)
            # The arbiter and every worker at once: mid-request, mid-transaction, mid-signing.
            victims = kill_all(node.proc.pid)
            await node.proc.wait()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        unexpected = [r for r in results if not isinstance(r, aiohttp.ClientError)]
        assert not unexpected, unexpected  # each client stopped on the lost connection, nothing else
        kills.append({"seed": seed, "killedAfter": round(delay, 2), "processes": len(victims), "confirmed": len(confirmed), "revoked": len(revoked)})

    node = await serve(data, unused_tcp_port_factory())
    try:
        async with aiohttp.ClientSession() as http:
            # Every confirmed credential, exactly as answered.
            for k, vc in confirmed.items():
                async with http.get(f"{node.url}/credentials/{quote(vc['id'], safe='')}", headers=bearer(tok)) as resp:
                    assert resp.status == 200 and (await resp.json())["verifiableCredential"] == vc, k
            # Every key tried, again: confirmed ones hand back their credential; the others were
            # issued whole before the crash (handed back now) or not at all (issued now), once.
            items = list(tried.values())
            for start in range(0, len(items), 200):
                async with http.post(f"{node.url}/issuers/default/microcredentials", json={"items": items[start : start + 200]}, headers=bearer(tok)) as resp:
                    assert resp.status in (200, 201), await resp.text()
                    body = await resp.json()
                for replay in body["replayed"]:
                    key = items[start + replay["index"]]["idempotencyKey"]
                    if key in confirmed:
                        assert replay["verifiableCredential"] == confirmed[key]
    finally:
        log = await node.stop()
    assert "internal error" not in log.lower(), log[-3000:]
    summary = check_store(data)
    assert len(summary["credentials"]) == len(tried), "a key issued twice, or not at all"
    for cid in revoked:
        assert summary["credentials"][cid]["status"] == "revoked", f"confirmed revocation of {cid} lost"
    await check_lists(data, tmp_path)
    print("\nkills:", json.dumps(kills), f"keys tried {len(tried)}, confirmed {len(confirmed)}, revocations {len(revoked)}")


async def test_a_bulk_revocation_killed_at_random_moments_is_all_or_nothing_and_republished(tmp_path: Path) -> None:
    data = await make_node(tmp_path)
    unsigned = tmp_path / "c.json"
    unsigned.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}))
    outcomes = []
    for seed in SEEDS:
        rng = random.Random(seed)
        csv_rows = "name\n" + "".join(f"Learner {seed}-{i}\n" for i in range(200))
        (tmp_path / "l.csv").write_text(csv_rows)
        out = tmp_path / f"o{seed}.jsonl"
        await ok("issue-batch", "ds-101", str(tmp_path / "l.csv"), "--out", str(out), "--cryptosuite", "eddsa-jcs-2022", "--data", str(data))
        ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
        (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
        code = await run_and_kill(["revoke", "--from", str(tmp_path / "ids.txt"), "--data", str(data)], rng.uniform(0.5, 2.0), {})
        with store(data) as conn:
            statuses = {r[0] for r in conn.execute(f"SELECT status FROM credentials WHERE id IN ({','.join('?' * len(ids))})", ids)}
        assert statuses in ({"active"}, {"revoked"}), f"a bulk revocation half done: {statuses}"
        outcomes.append({"seed": seed, "exited": code, "statuses": sorted(statuses)})
        # Run again: what the crash left is done, and any list it left unsigned is re-signed.
        await ok("revoke", "--from", str(tmp_path / "ids.txt"), "--data", str(data))
    check_store(data)
    await check_lists(data, tmp_path)
    print("\nbulk revocations:", json.dumps(outcomes))


async def test_a_start_up_migration_killed_at_random_moments_applies_once(tmp_path: Path) -> None:
    """A store from before credentials.0001_kept_bodies (its table and column taken away again)
    is opened by a command killed at random moments of its start-up: each migration is applied
    whole or not at all, exactly once, and the data is there after."""
    data = await make_node(tmp_path)
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}))
    issued = [json.loads(await ok("issue", str(f), "--data", str(data)))["id"] for _ in range(3)]
    outcomes = []
    for seed in SEEDS:
        with sqlite3.connect(data / "vcnode.sqlite3", isolation_level=None) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DROP TABLE credential_bodies")
            conn.execute("ALTER TABLE credentials DROP COLUMN body_purged")
            conn.execute("DELETE FROM schema_migrations WHERE name = 'credentials.0001_kept_bodies'")
            conn.execute("COMMIT")
        code = await run_and_kill(["credentials", "--data", str(data)], random.Random(seed).uniform(0.3, 1.5), {})
        with store(data) as conn:
            recorded = conn.execute("SELECT COUNT(*) FROM schema_migrations WHERE name = 'credentials.0001_kept_bodies'").fetchone()[0]
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'credential_bodies'").fetchone()[0]
            columns = [r[1] for r in conn.execute("PRAGMA table_info(credentials)")]
        assert recorded == tables == int("body_purged" in columns), "a migration half applied"
        outcomes.append({"seed": seed, "exited": code, "applied": bool(recorded)})
        listed = json.loads(await ok("credentials", "--data", str(data)))["credentials"]
        assert sorted(c["id"] for c in listed) == sorted(issued)
    check_store(data)
    print("\nmigrations:", json.dumps(outcomes))

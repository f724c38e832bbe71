"""What the kept-credential and crash tests share: a node folder made through the real CLI, a
CSV of learners, and the checks a store must pass after any crash (every confirmed write there,
no index reused, every published list verifying and agreeing with the store)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

from running import cli, clean_env
from support import OFFERED_ACHIEVEMENT

BASE = "https://registry.example.edu"

ACHIEVEMENT = OFFERED_ACHIEVEMENT  # the shared complete achievement (slug ds-101)


async def ok(*args: str, env: dict[str, str] | None = None) -> str:
    code, out, err = await cli(*args, env=env)
    assert code == 0, f"vcnode {' '.join(args)}: exit {code}\n{err}"
    return out


async def make_node(tmp: Path, *, purposes: str = "revocation,suspension") -> Path:
    """``vcnode init`` under a domain base URL, the ds-101 achievement defined; the data folder."""
    data = tmp / "node"
    await ok("init", "--data", str(data), "--base-url", BASE)
    spec = tmp / "achievement.json"
    spec.write_text(json.dumps(ACHIEVEMENT))
    await ok("achievement", "create", str(spec), "--data", str(data))
    return data


async def token(data: Path, scopes: str = "issue,status", issuer: str = "default") -> str:
    return json.loads(await ok("token", "create", "--scopes", scopes, "--issuer", issuer, "--data", str(data), "--json"))["token"]


def learners(path: Path, n: int, start: int = 0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "email", "grade"])
        for i in range(start, start + n):
            writer.writerow([f"Learner {i}", f"learner{i}@example.org", "ABCF"[i % 4]])
    return path


def env(**extra: str) -> dict[str, str]:
    return clean_env(**extra)


def store(data: Path) -> sqlite3.Connection:
    """The node's store, opened read-only by the test (never written behind the node's back)."""
    conn = sqlite3.connect(f"file:{data / 'vcnode.sqlite3'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def check_store(data: Path) -> dict[str, Any]:
    """The invariants every crash must leave intact; returns a summary of the store.

    * every credential recorded has all its status entries, and every entry names at most one
      credential (the primary key (list, index) makes reuse impossible, and it is checked too);
    * every index handed out is marked used in its list's ``used`` bitmap;
    * a credential's kept body names exactly the entries the store gives it;
    * the status bits of revoked / suspended credentials are set in the store.
    """
    with store(data) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        credentials = {r["id"]: dict(r) for r in conn.execute("SELECT id, issuer, status FROM credentials")}
        entries = conn.execute(
            "SELECT e.list_id, e.idx, e.credential_id, e.purpose, l.issuer, l.seq FROM status_entries e JOIN status_lists l ON l.id = e.list_id"
        ).fetchall()
        seen: set[tuple[int, int]] = set()
        by_credential: dict[str, list[Any]] = {}
        for e in entries:
            key = (e["list_id"], e["idx"])
            assert key not in seen, f"index {key} handed out twice"
            seen.add(key)
            if e["credential_id"] is not None:
                by_credential.setdefault(e["credential_id"], []).append(e)
        for cid in credentials:
            assert cid in by_credential, f"credential {cid} has no status entry"
        bodies = {r["credential_id"]: json.loads(r["body"]) for r in conn.execute("SELECT credential_id, body FROM credential_bodies")}
        for cid, body in bodies.items():
            assert cid in credentials, f"a body without its record: {cid}"
            named = body["credentialStatus"] if isinstance(body["credentialStatus"], list) else [body["credentialStatus"]]
            got = sorted((s["statusListCredential"].rsplit("/", 1)[-1], int(s["statusListIndex"]), s["statusPurpose"]) for s in named)
            want = sorted((str(e["seq"]), e["idx"], e["purpose"]) for e in by_credential[cid])
            assert got == want, f"{cid}: body entries {got} but the store has {want}"
        used_counts = {r["id"]: r["used_count"] for r in conn.execute("SELECT id, used_count FROM status_lists")}
        per_list: dict[int, int] = {}
        for list_id, _ in seen:
            per_list[list_id] = per_list.get(list_id, 0) + 1
        for list_id, n in per_list.items():
            assert used_counts[list_id] == n, f"list {list_id}: {n} entries but used_count {used_counts[list_id]}"
        return {"credentials": credentials, "entries": len(entries), "bodies": bodies}


async def check_lists(data: Path, tmp: Path) -> int:
    """Every status list is published at its latest version, the published bitstring is the
    store's, each credential's bits say its status, and each published list verifies (the real
    ``vcnode verify``, answering the node's own did:web from its store). The number of lists."""
    from status.bitstring import Bitstring, decode_list

    with store(data) as conn:
        lists = conn.execute("SELECT id, issuer, purpose, seq, length, status_size, version, published_version, credential FROM status_lists").fetchall()
        chunks: dict[int, bytearray] = {}
        for l in lists:
            raw = bytearray(l["length"] * l["status_size"] // 8)
            for c in conn.execute("SELECT chunk, data FROM status_list_chunks WHERE list_id = ? AND kind = 'bits'", (l["id"],)):
                raw[c["chunk"] * 16384 : c["chunk"] * 16384 + len(c["data"])] = c["data"]
            chunks[l["id"]] = raw
        statuses = conn.execute(
            "SELECT c.status, e.list_id, e.idx, e.purpose FROM credentials c JOIN status_entries e ON e.credential_id = c.id"
        ).fetchall()
    for l in lists:
        assert l["published_version"] == l["version"], f"list {l['issuer']}/{l['purpose']}/{l['seq']} left unpublished"
        published = json.loads(l["credential"])
        served = decode_list(published["credentialSubject"]["encodedList"])
        assert served == bytes(chunks[l["id"]]), f"list {l['issuer']}/{l['purpose']}/{l['seq']}: published bits differ from the store's"
    bits = {l["id"]: Bitstring.from_bytes(chunks[l["id"]], status_size=l["status_size"]) for l in lists}
    for s in statuses:
        if s["purpose"] == "message":
            continue
        want = int((s["purpose"] == "revocation" and s["status"] == "revoked") or (s["purpose"] == "suspension" and s["status"] == "suspended"))
        assert bits[s["list_id"]].get(s["idx"]) == want, f"bit {s['idx']} of list {s['list_id']} disagrees with status {s['status']}"
    for l in lists:
        path = tmp / f"list-{l['id']}.json"
        path.write_text(l["credential"])
        code, out, err = await cli("verify", str(path), "--data", str(data))
        assert code == 0, f"published list {l['issuer']}/{l['purpose']}/{l['seq']} does not verify: {out}{err}"
    return len(lists)


def descendants(pid: int) -> list[int]:
    """The process ids below ``pid`` (its children, theirs, ...), read from /proc."""
    out: list[int] = []
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        children = [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except (OSError, ValueError):
        return out
    for child in children:
        out += [child, *descendants(child)]
    return out


async def kill_now(proc: Any) -> int | None:
    """SIGKILL the command ``proc`` (an asyncio subprocess) unless it has ended already, even at
    this very moment (asyncio then raises ProcessLookupError), and wait for it. Its exit code,
    None if the kill ended it."""
    import contextlib
    import os
    import signal

    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            # os.kill, not proc.send_signal: on Python 3.11 Popen.send_signal polls first
            # (waitpid), so a process ending on its own at this moment was reaped there, behind
            # asyncio's child watcher, which then reported 255 instead of its exit code.
            os.kill(proc.pid, signal.SIGKILL)
    code = await proc.wait()
    return None if code == -signal.SIGKILL else code


def kill_all(pid: int) -> list[int]:
    """SIGKILL ``pid`` and every process below it at once (a served node is an arbiter and its
    workers: killing the arbiter alone lets the workers finish their requests gracefully, which
    is not a crash). The ids killed."""
    import os
    import signal

    victims = [*descendants(pid), pid]
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return victims

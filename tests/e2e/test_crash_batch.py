"""`vcnode issue-batch` killed with SIGKILL at seeded random moments, then run again (issue 14):
every row's credential ends up in the output exactly once, as the node recorded it, with no cut
line; nothing is issued twice and no status index is reused; every published list verifies and
agrees with the store. The same with keep_credentials off (the journal), and over a torn line a
crash of an older version left.

CI runs a few seeds; more, and bigger batches, with (docs/reliability.md):

    VCNODE_CRASH_SEEDS=40 VCNODE_CRASH_ROWS=3000 python -m pytest tests/e2e/test_crash_batch.py -s
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

from crashkit import check_lists, check_store, env, kill_now, learners, make_node, store
from running import cli

SEEDS = [int(s) for s in os.environ.get("VCNODE_CRASH_SEED_LIST", "").split(",") if s] or list(
    range(1, 1 + int(os.environ.get("VCNODE_CRASH_SEEDS", "3")))
)
ROWS = int(os.environ.get("VCNODE_CRASH_ROWS", "300"))


def batch_args(data: Path, csv_path: Path, out: Path) -> list[str]:
    return ["issue-batch", "ds-101", str(csv_path), "--out", str(out), "--cryptosuite", "eddsa-jcs-2022", "--no-progress", "--data", str(data)]


async def run_and_kill(args: list[str], delay: float, extra_env: dict[str, str]) -> int | None:
    """Start ``vcnode ARGS``; SIGKILL it after ``delay`` seconds unless it ended first. Its exit code, None if killed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", *args, env=env(**extra_env), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        return await asyncio.wait_for(proc.wait(), delay)
    except TimeoutError:
        return await kill_now(proc)


async def run_and_kill_mid_output(args: list[str], out: Path, extra_delay: float, limit: float) -> int | None:
    """Start ``vcnode ARGS``; SIGKILL it ``extra_delay`` seconds after its output file first has
    bytes (the batch is recorded by then: the window between commit and a whole output)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", *args, env=env(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    deadline = time.monotonic() + limit
    while proc.returncode is None and time.monotonic() < deadline:
        if out.exists() and out.stat().st_size > 0:
            await asyncio.sleep(extra_delay)
            break
        await asyncio.sleep(0.001)
    return await kill_now(proc)


def state(data: Path, out: Path) -> tuple[int, int]:
    """(credentials recorded, lines in the output): where the kill left things."""
    with store(data) as conn:
        recorded = conn.execute("SELECT COUNT(*) FROM credentials").fetchone()[0]
    lines = out.read_bytes().count(b"\n") if out.exists() else 0
    return recorded, lines


def check_output(out: Path, data: Path, rows: int) -> None:
    """One whole line per row's credential, each the one the store recorded (and kept, when kept)."""
    raw = out.read_bytes()
    assert raw.endswith(b"\n"), "the output ends in a cut line"
    credentials = [json.loads(line) for line in raw.splitlines()]
    ids = [c["id"] for c in credentials]
    assert len(ids) == len(set(ids)), "a credential written twice"
    names = sorted(c["credentialSubject"]["identifier"][0]["identityHash"] for c in credentials)
    assert names == sorted(f"Learner {i}" for i in range(rows)), "a row's credential missing from the output"
    summary = check_store(data)
    assert set(summary["credentials"]) == set(ids), "the store and the output disagree on what was issued"
    for c in credentials:
        if c["id"] in summary["bodies"]:
            assert summary["bodies"][c["id"]] == c, "the output's credential is not the one the node kept"


async def calibrate(tmp: Path) -> tuple[float, float]:
    """How long the CLI takes to start and open a node here, and one whole run (start-up
    included), on a node of its own: kills are drawn between the two, where the work is."""
    data = await make_node(tmp / "calibration")
    csv_path = learners(tmp / "calibration" / "l.csv", ROWS)
    started = time.monotonic()
    await cli("credentials", "--data", str(data), env=env())
    opened = time.monotonic() - started
    started = time.monotonic()
    code, _, err = await cli(*batch_args(data, csv_path, tmp / "calibration" / "o.jsonl"), env=env())
    assert code == 0, err
    return opened, time.monotonic() - started


async def test_issue_batch_killed_at_random_moments_writes_every_credential_once(tmp_path: Path) -> None:
    opened, duration = await calibrate(tmp_path)
    seen = []
    for n, seed in enumerate(SEEDS):
        rng = random.Random(seed)
        # Each seed: a node of its own, the batch killed somewhere in a run's lifetime.
        data = await make_node(tmp_path / f"seed{seed}")
        csv_path = learners(tmp_path / f"l{seed}.csv", ROWS)
        out = tmp_path / f"out{seed}.jsonl"
        if n % 3 == 2:  # aimed at the narrow window while the recorded batch is being written out
            delay = rng.uniform(0, 0.02)
            code = await run_and_kill_mid_output(batch_args(data, csv_path, out), out, delay, duration * 3)
        else:
            delay = rng.uniform(opened * 0.8, duration * 1.05)
            code = await run_and_kill(batch_args(data, csv_path, out), delay, {})
        recorded, lines = state(data, out)
        torn = n % 2 == 1 and out.exists()
        if torn:
            # An older version's crash could cut a line: the re-run sets it aside and says so.
            with out.open("ab") as f:
                f.write(b'{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:uuid:cut')
        rerun, _, err = await cli(*batch_args(data, csv_path, out), env=env())
        assert rerun == 0, err
        if torn:
            assert "cut-off line" in err and list(tmp_path.glob(f"out{seed}.jsonl.torn-*"))
        check_output(out, data, ROWS)
        await check_lists(data, tmp_path)
        seen.append({"seed": seed, "killedAfter": round(delay, 3), "midOutput": n % 3 == 2, "exited": code, "recorded": recorded, "lines": lines})
    print(f"\nstart-up {opened:.2f}s, whole run {duration:.2f}s; where each kill left things:", json.dumps(seen))


async def test_with_keep_credentials_off_the_journal_recovers_the_batch_and_is_then_dropped(tmp_path: Path) -> None:
    """The journal's case, made certain: the batch is recorded but its output cannot be written
    (its folder is a file). The credentials are nowhere but the store's journal; the re-run,
    with the output fixed, writes them all and drops the journal."""
    off = {"VCNODE_KEEP_CREDENTIALS": "false"}
    data = await make_node(tmp_path)
    csv_path = learners(tmp_path / "l.csv", ROWS)
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    out = blocker / "out.jsonl"
    code, _, err = await cli(*batch_args(data, csv_path, out), env=env(**off))
    assert code == 2 and "kept in the store, run the same command again" in err, err
    with store(data) as conn:
        assert conn.execute("SELECT COUNT(*) FROM credential_bodies WHERE journal = 1").fetchone()[0] == ROWS
    blocker.unlink()
    code, _, err = await cli(*batch_args(data, csv_path, out), env=env(**off))
    assert code == 0 and f"issued 0, already issued {ROWS}" in err, err
    check_output(out, data, ROWS)
    with store(data) as conn:
        assert conn.execute("SELECT COUNT(*) FROM credential_bodies").fetchone()[0] == 0, "the journal outlived the output"
    # And killed at a random moment, journal and all, the re-run completes the output.
    opened, duration = await calibrate(tmp_path)
    data = await make_node(tmp_path / "killed")
    out = tmp_path / "killed.jsonl"
    killed = await run_and_kill(batch_args(data, csv_path, out), random.Random(SEEDS[0]).uniform(opened, duration * 1.05), off)
    recorded, lines = state(data, out)
    code, _, err = await cli(*batch_args(data, csv_path, out), env=env(**off))
    assert code == 0, err
    check_output(out, data, ROWS)
    with store(data) as conn:
        assert conn.execute("SELECT COUNT(*) FROM credential_bodies").fetchone()[0] == 0
    await check_lists(data, tmp_path)
    print(f"\nkeep_credentials off: killed run exit {killed}, recorded {recorded}, lines {lines} before the re-run")


async def test_a_folder_output_interrupted_mid_file_is_completed_without_partial_files(tmp_path: Path) -> None:
    """--out DIR: a file cut off by a crash is only ever a hidden partial one (removed by the
    re-run); a whole file is never rewritten, a missing one is written from the kept credential."""
    data = await make_node(tmp_path)
    csv_path = learners(tmp_path / "l.csv", 20)
    folder = tmp_path / "out"
    code, _, err = await cli(*batch_args(data, csv_path, folder), env=env())
    assert code == 0, err
    files = sorted(folder.iterdir())
    assert len(files) == 20
    # As a crash would leave it: one file never renamed into place, one not written at all.
    files[0].rename(folder / f".{files[0].name}.partial")
    (folder / f".{files[0].name}.partial").write_bytes(b'{"@context": ["https://www.w3.org/ns/cred')
    kept_mtime = files[5].stat().st_mtime_ns
    files[1].unlink()
    code, _, err = await cli(*batch_args(data, csv_path, folder), env=env())
    assert code == 0 and "issued 0, already issued 20" in err and "(2 written, 18 there already)" in err, err
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in files]
    assert files[5].stat().st_mtime_ns == kept_mtime
    summary = check_store(data)
    for p in folder.iterdir():
        vc = json.loads(p.read_text())
        assert summary["bodies"][vc["id"]] == vc

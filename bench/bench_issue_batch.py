#!/usr/bin/env python3
"""``vcnode issue-batch`` end to end: N learners, one command, in a fresh data folder.

    python3 bench/bench_issue_batch.py [--n 10000] [--cryptosuite eddsa-rdfc-2022] [--json]

Not a test (speed targets live here). Runs the real command in-process (achievement create,
then issue-batch to a .jsonl file) and prints rows/s, the time of the checking phase (every
row built and validated before anything is signed) and of signing, and the number of writes to
the status-list table (the point of batching: one allocation write and one publication per list,
whatever N is). A second run of the same file is timed too: it must issue nothing.

Measured (2026-11-28, shared 2-core machine under load from other jobs): N=10,000 with
eddsa-rdfc-2022 in 215 s (46.6 rows/s), 1 allocation write and 1 publication of the one status
list; the re-run took 4.3 s and issued nothing. Signing is single-threaded and dominates.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from node.cli import main  # noqa: E402
from node.store import SQLiteDatabase  # noqa: E402

ACHIEVEMENT = {
    "title": "Data Science Fundamentals",
    "description": "Statistics and Python for data analysis.",
    "humanCode": "DS-101",
    "learningOutcomes": ["Explain the assumptions of linear regression", "Analyse test data"],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": {"type": "written examination", "resultType": "LetterGrade", "allowedValues": ["A", "B", "C", "F"]},
    "participation": "blended",
    "qualityAssurance": {"description": "Institutional accreditation", "url": "https://qa.example/decisions/1"},
    "awardingBody": {"name": "University of Example", "countryCode": "NL"},
}


def run(n: int, suite: str) -> dict[str, Any]:
    statements: list[str] = []
    real_open = SQLiteDatabase.open.__func__

    def trace(sql: str) -> None:
        if "status_lists" in sql[:40].lower():
            statements.append(sql[:60])

    async def traced_open(cls: Any, path: Any, **kw: Any) -> SQLiteDatabase:
        store = await real_open(cls, path, **kw)
        await store._writer.set_trace_callback(trace)
        return store

    SQLiteDatabase.open = classmethod(traced_open)  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        data = ["--data", str(d / "data")]
        (d / "a.json").write_text(json.dumps(ACHIEVEMENT))
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["init", *data]) == 0  # only init and serve make a node of a folder
            assert main(["achievement", "create", str(d / "a.json"), *data]) == 0
        with (d / "learners.csv").open("w") as f:
            f.write("name,email,grade\n")
            for i in range(n):
                f.write(f"Learner {i},learner{i}@example.org,{'ABC'[i % 3]}\n")
        statements.clear()
        t0 = time.perf_counter()
        code = main(["issue-batch", "ds-101", str(d / "learners.csv"), "--out", str(d / "out.jsonl"), "--cryptosuite", suite, "--no-progress", *data])
        first = time.perf_counter() - t0
        writes = list(statements)
        lines = sum(1 for _ in (d / "out.jsonl").open())
        t0 = time.perf_counter()
        again = main(["issue-batch", "ds-101", str(d / "learners.csv"), "--out", str(d / "out.jsonl"), "--no-progress", *data])
        rerun = time.perf_counter() - t0
        lines_after = sum(1 for _ in (d / "out.jsonl").open())
    return {
        "n": n,
        "cryptosuite": suite,
        "exit": code,
        "seconds": round(first, 2),
        "rowsPerSecond": round(n / first, 1),
        "credentialsWritten": lines,
        "statusListAllocationWrites": sum(1 for s in writes if "SET used" in s),
        "statusListPublications": sum(1 for s in writes if "SET credential" in s),
        "rerunSeconds": round(rerun, 2),
        "rerunExit": again,
        "rerunNewCredentials": lines_after - lines,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--cryptosuite", default="eddsa-rdfc-2022", choices=("eddsa-rdfc-2022", "eddsa-jcs-2022"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = run(args.n, args.cryptosuite)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:28} {v}")

"""The layering rules of docs/CONTRACTS.md, checked rather than hoped for."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ("did", "vc", "status")


def test_import_layers_hold() -> None:
    """node -> status -> vc -> did, and nacl/pyld only behind vc (pyproject [tool.importlinter])."""
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("import-linter is a test dependency: pip install -e '.[test]'")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# did/http.py may build the guarded session the node then owns and injects everywhere.
SESSION_FACTORY = "did/http.py"

# Reading the clock or the network directly below node/ makes behaviour untestable.
FORBIDDEN = {
    r"\bdatetime\.now\(": "reads the wall clock; take `now` as a parameter",
    r"\bdatetime\.utcnow\(": "reads the wall clock; take `now` as a parameter",
    r"\bdate\.today\(": "reads the wall clock; take `now` as a parameter",
    r"\btime\.time\(": "reads the wall clock; take a clock callable",
    r"\bClientSession\(": "opens its own HTTP client; take the shared session",
    r"\bset_document_loader\(": "sets pyld's process-global loader; pass the loader per call",
    r"\burllib\.request\b": "reaches the network directly",
}


@pytest.mark.parametrize("package", LIBRARY)
def test_library_reads_no_clock_and_opens_no_client(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        for pattern, why in FORBIDDEN.items():
            if rel == SESSION_FACTORY and "ClientSession" in pattern:
                continue
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                offences.append(f"{rel}:{line}: {why}")
    assert not offences, "\n".join(offences)


# --- the node's storage seam -------------------------------------------------------------------

STORE = ROOT / "node" / "store"
SQL = re.compile(
    r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX)|ALTER TABLE|DROP TABLE|PRAGMA|BEGIN|COMMIT|"
    r"ROLLBACK|SAVEPOINT|ON CONFLICT)\b"
)
DRIVERS = re.compile(r"^\s*(import|from)\s+(aiosqlite|sqlite3|asyncpg|psycopg)\b", re.MULTILINE)
# What only SQLite understands, allowed in its backend (and in migration steps keyed "sqlite").
SQLITE_ONLY = re.compile(r"\browid\b|\bPRAGMA\b|INSERT OR|AUTOINCREMENT|\bx''")
# The backends, the schema (dialect-keyed steps) and the interface's description of the rules.
NOT_REPOSITORIES = {"sqlite.py", "postgres.py", "migrations.py", "base.py", "__init__.py"}


def _offences(paths: list[Path], pattern: re.Pattern[str], why: str) -> list[str]:
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for m in pattern.finditer(text):
            out.append(f"{path.relative_to(ROOT).as_posix()}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r} {why}")
    return out


def test_all_sql_lives_in_the_store_package() -> None:
    """Capabilities, routes and CLI reach the database through node.store's repositories only,
    so a second backend never has to look outside node/store/."""
    outside = [p for p in sorted((ROOT / "node").rglob("*.py")) if STORE not in p.parents]
    offences = _offences(outside, SQL, "is SQL; put it in a node/store repository")
    offences += _offences(outside, DRIVERS, "is a database driver; only node/store backends import one")
    assert not offences, "\n".join(offences)


def test_repositories_are_written_once_for_every_backend() -> None:
    repositories = [p for p in sorted(STORE.glob("*.py")) if p.name not in NOT_REPOSITORIES]
    assert len(repositories) >= 8, [p.name for p in repositories]
    offences = _offences(repositories, SQLITE_ONLY, "is SQLite's own; write portable SQL or a Dialect hook")
    offences += _offences(repositories, DRIVERS, "is a database driver; repositories take a Tx")
    offences += _offences(repositories, re.compile(r"%s|\$\d"), "is a driver's placeholder; write ?")
    assert not offences, "\n".join(offences)

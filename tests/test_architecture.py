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

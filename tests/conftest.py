"""Shared fixtures: the reference vectors folder, a fixed clock.

Vectors live in ../shared/vectors beside the project (override with VC_VECTORS_DIR). They
are never copied into the repository. When CI=true and they are missing, tests that need
them fail rather than skip, so a broken checkout cannot pass by skipping.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

# prometheus_client picks its value class (one process, or files under PROMETHEUS_MULTIPROC_DIR)
# once, when first imported. Imported here, before any test sets that variable for the length
# of one test, the choice no longer depends on which test ran first.
import prometheus_client  # noqa: F401
import pytest

from support import load_json  # noqa: F401  (re-exported for older imports)

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(os.environ.get("VC_VECTORS_DIR", ROOT.parent / "shared" / "vectors")).resolve()
INTEROP = Path(os.environ.get("VC_INTEROP_DIR", ROOT.parent / "shared" / "interop")).resolve()
FIXED_NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def _require(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path} (set VC_VECTORS_DIR to point at shared/vectors)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """Tests that call ``node.cli.main`` in process have it configure logging: the root logger's
    handlers are replaced by one writing to that test's captured standard error, which pytest
    closes after the test, and every later test that logs printed "I/O operation on closed
    file". Each test gets back the root logger it started with."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The reference vectors folder (../shared/vectors)."""
    return _require(VECTORS, "reference vectors")


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW

"""Shared fixtures: the reference vectors folder, a fixed clock.

Vectors live in ../shared/vectors beside the project (override with VC_VECTORS_DIR). They
are never copied into the repository. When CI=true and they are missing, tests that need
them fail rather than skip, so a broken checkout cannot pass by skipping.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

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


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The reference vectors folder (../shared/vectors)."""
    return _require(VECTORS, "reference vectors")


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW

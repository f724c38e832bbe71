"""Helpers shared by test modules (importable as ``support``: pytest puts tests/ on the path).

Kept out of conftest.py because several conftest.py files exist and ``from conftest import``
picks whichever was imported first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))

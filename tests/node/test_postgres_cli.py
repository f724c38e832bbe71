"""The CLI on a PostgreSQL store (``VCNODE_DATABASE_URL``): what is SQLite's own says so and
points at PostgreSQL's tools; a database without a store is not a node until ``init``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.cli import main
from postgres_server import fresh_schema


@pytest.fixture
async def database_url(monkeypatch: pytest.MonkeyPatch) -> Any:
    async with fresh_schema() as url:
        monkeypatch.setenv("VCNODE_DATABASE_URL", url)
        monkeypatch.setenv("VCNODE_KDF", "interactive")
        monkeypatch.setenv("VCNODE_PASSPHRASE", "cli on postgresql")
        yield url


async def test_backup_and_restore_refuse_and_name_pg_dump(database_url: str, tmp_path: Path, capsys: Any) -> None:
    import asyncio

    data = ["--data", str(tmp_path / "data")]
    # Not a node until init: the empty schema is refused, and nothing is created in it.
    assert await asyncio.to_thread(main, ["issuer", "list", *data]) == 2
    assert "holds no vcnode store" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["init", *data, "--base-url", "https://registry.example.edu"]) == 0
    assert await asyncio.to_thread(main, ["issuer", "list", *data]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["backup", str(tmp_path / "b.sqlite3"), *data]) != 0
    assert "pg_dump" in capsys.readouterr().err and not (tmp_path / "b.sqlite3").exists()
    (tmp_path / "b.sqlite3").write_bytes(b"")
    assert await asyncio.to_thread(main, ["restore", str(tmp_path / "b.sqlite3"), "--data", str(tmp_path / "new")]) != 0
    assert "pg_restore" in capsys.readouterr().err

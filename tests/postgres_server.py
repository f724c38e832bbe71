"""The real PostgreSQL server the tests of the PostgreSQL backend run against.

``VCNODE_TEST_DATABASE_URL`` names it (default: postgresql://postgres@127.0.0.1:5432/test, the
server this project's machines and CI run, trust authentication). Each test gets a schema of
its own, created empty and dropped afterwards, so tests never see each other's rows and a
failed run leaves nothing behind. When no server answers, a test is skipped, or under
``CI=true`` fails: CI must not pass by skipping the backend it is meant to prove.
"""

from __future__ import annotations

import os
import secrets
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("VCNODE_TEST_DATABASE_URL") or DEFAULT_URL


def with_schema(url: str, schema: str) -> str:
    """``url`` with libpq's ``options=-csearch_path=SCHEMA`` (understood by asyncpg, psql and pg_dump)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        message = f"no PostgreSQL server answers at {url} ({e}); set VCNODE_TEST_DATABASE_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@asynccontextmanager
async def fresh_schema(prefix: str = "vct") -> AsyncIterator[str]:
    """A new empty schema on the test server for one test: yields the URL naming it; drops it
    (and everything in it) afterwards."""
    url = server_url()
    schema = f"{prefix}_{secrets.token_hex(6)}"
    conn = await _connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    try:
        yield with_schema(url, schema)
    finally:
        conn = await _connect(url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


# Every store backend the tests run over; a new backend adds its name here and its class in
# Stores.open, and every test taking ``stores`` (the store contract tests included) runs on it.
BACKENDS = ("sqlite", "postgresql")


class Stores:
    """Opens one test's store on one backend, as often as asked (each handle stands for another
    process on the same data); every handle is closed when the test ends."""

    def __init__(self, backend: str, where: Any) -> None:
        self.backend, self.where = backend, where
        self.handles: list[Any] = []

    async def open(self, migrations: Any = None) -> Any:
        from node.store import MIGRATIONS, PostgresDatabase, SQLiteDatabase

        kind = {"sqlite": SQLiteDatabase, "postgresql": PostgresDatabase}[self.backend]
        db = await kind.open(self.where, migrations=MIGRATIONS if migrations is None else migrations)
        self.handles.append(db)
        return db

    async def close(self, db: Any) -> None:
        self.handles.remove(db)
        await db.close()


@pytest.fixture(params=BACKENDS)
async def stores(request: Any, tmp_path: Path) -> AsyncIterator[Stores]:
    """The test's store on each backend in turn: SQLite in ``tmp_path``, PostgreSQL in a fresh schema."""
    async with AsyncExitStack() as stack:
        where: Any = tmp_path
        if request.param == "postgresql":
            where = await stack.enter_async_context(fresh_schema())
        s = Stores(request.param, where)
        try:
            yield s
        finally:
            for db in s.handles:
                await db.close()

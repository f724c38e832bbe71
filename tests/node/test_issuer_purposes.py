"""node/issuers.py ``add_status_purpose`` over a real store, on every backend: an issuer created
without suspension gets it (``vcnode issuer enable-suspension``) while another process serves
the same store; the serving process issues with it within its freshness bound, adding it twice
at once adds it once. (The real CLI beside ``vcnode serve``: tests/e2e/test_operator_cli.py.)"""

from __future__ import annotations

import asyncio

import pytest

from node.config import load_config
from node.errors import InvalidRequestError, StatusChangeError, UnknownIssuerError
from node.keys import new_master_record
from node.node import compose
from node.store import SQLiteDatabase
from postgres_server import stores  # noqa: F401  (the fixture)
from support import query_one
from tests.conftest import FIXED_NOW

VC_V2 = "https://www.w3.org/ns/credentials/v2"


def unsigned(subject: str = "did:example:alice") -> dict:
    return {"@context": [VC_V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": subject}}


def purposes_of(vc: dict) -> list[str]:
    status = vc.get("credentialStatus", [])
    return [e["statusPurpose"] for e in (status if isinstance(status, list) else [status])]


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _node(folder, master, db):
    config = load_config({"data_dir": str(folder), "base_url": "https://registry.example.edu"}, env={})
    node = compose(config, db=db or await SQLiteDatabase.open(folder), master_key=master, clock=lambda: FIXED_NOW)
    await node.start()
    return node


@pytest.fixture
async def pair(tmp_path, stores):
    """A serving process and the operator's, on one store (each backend); the default issuer
    has revocation only (the configuration's default)."""
    master, _ = new_master_record(tmp_path, None)
    server = await _node(tmp_path, master, await stores.open())
    operator = await _node(tmp_path, master, await stores.open())
    return server, operator


async def test_a_serving_process_issues_with_suspension_within_its_bound_and_it_can_be_suspended(pair) -> None:
    server, operator = pair
    clock = Monotonic()
    server.issuers.monotonic = clock
    server.issuers.refresh_seconds = 1.0
    before = await server.issuance.issue("default", unsigned("did:example:before"))
    assert purposes_of(before) == ["revocation"]

    issuer, added = await operator.issuers.add_status_purpose("default", "suspension")
    assert added and issuer.status_purposes == ["revocation", "suspension"]
    # The operator's own process issues with it at once.
    assert purposes_of(await operator.issuance.issue("default", unsigned("did:example:op"))) == ["revocation", "suspension"]
    # The serving process has not asked the store yet (its clock stands still) ...
    assert purposes_of(await server.issuance.issue("default", unsigned("did:example:stale"))) == ["revocation"]
    # ... and issues with it once its bound has passed.
    clock.now += 1.0
    after = await server.issuance.issue("default", unsigned("did:example:after"))
    assert purposes_of(after) == ["revocation", "suspension"]
    assert after["credentialStatus"][1]["statusListCredential"] == "https://registry.example.edu/status/default/suspension/1"

    record = await server.status.set_status(after["id"], "suspended")
    assert record.status == "suspended"
    assert (await server.status.set_status(after["id"], "active")).status == "active"
    with pytest.raises(StatusChangeError, match="vcnode issuer enable-suspension default"):
        await server.status.set_status(before["id"], "suspended")


async def test_adding_a_purpose_is_idempotent_also_when_two_processes_add_it_at_once(pair) -> None:
    server, operator = pair
    results = await asyncio.gather(
        *(node.issuers.add_status_purpose("default", "suspension") for node in (server, operator, server, operator))
    )
    assert sorted(added for _, added in results) == [False, False, False, True]
    assert all(issuer.status_purposes == ["revocation", "suspension"] for issuer, _ in results)
    row = await query_one(operator.db, "SELECT status_purposes FROM issuers WHERE name = ?", ("default",))
    assert row["status_purposes"] == '["revocation", "suspension"]'
    issuer, added = await operator.issuers.add_status_purpose("default", "suspension")
    assert not added and issuer.status_purposes == ["revocation", "suspension"]


async def test_adding_a_purpose_refuses_an_unknown_issuer_or_purpose(pair) -> None:
    _, operator = pair
    with pytest.raises(UnknownIssuerError, match="no issuer named 'physics'"):
        await operator.issuers.add_status_purpose("physics", "suspension")
    with pytest.raises(InvalidRequestError, match="unknown status purpose"):
        await operator.issuers.add_status_purpose("default", "message")
    assert (await operator.issuers.get("default")).status_purposes == ["revocation"]

"""node/issuers.py and node/key_lifecycle.py over a real store: key history, the freshness
bound of the in-memory view, signing only with keys that are not retired, and stores made
before key history existed. (Across real processes and with the reference stack:
tests/e2e/test_key_rotation.py.)"""

from __future__ import annotations

import pytest

from node.config import load_config
from node.errors import KeyLifecycleError, RetiredKeyError, UnknownKeyError
from node.keys import new_master_record
from node.node import compose
from node.store import MIGRATIONS, SQLiteDatabase
from postgres_server import stores  # noqa: F401  (the fixture)
from support import query, query_one
from tests.conftest import FIXED_NOW
from vc.crypto import Ed25519KeyPair

VC_V2 = "https://www.w3.org/ns/credentials/v2"


def unsigned(subject: str = "did:example:alice") -> dict:
    return {"@context": [VC_V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": subject}}


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _node(folder, master, db=None):
    config = load_config({"data_dir": str(folder), "base_url": "https://registry.example.edu"}, env={})
    db = db or await SQLiteDatabase.open(folder)
    node = compose(config, db=db, master_key=master, clock=lambda: FIXED_NOW)
    await node.start()
    return node


@pytest.fixture
async def pair(tmp_path, stores):
    """Two nodes on one store, standing for two processes (a server and the operator's CLI, or
    two replicas), on each backend (tests/postgres_server.py)."""
    master, _ = new_master_record(tmp_path, None)
    server = await _node(tmp_path, master, await stores.open())
    operator = await _node(tmp_path, master, await stores.open())
    return server, operator


async def test_the_in_memory_view_asks_the_store_at_most_once_per_interval(pair) -> None:
    server, operator = pair
    clock = Monotonic()
    server.issuers.monotonic = clock
    server.issuers.refresh_seconds = 1.0
    await server.issuers.refresh(force=True)
    reads = 0
    real_read = server.db.read

    def counting_read():
        nonlocal reads
        reads += 1
        return real_read()

    server.issuers.db.read = counting_read  # type: ignore[method-assign]
    issuer = await server.issuers.get("default")
    document = await server.issuers.did_document("default")
    for _ in range(50):  # the verification path: resolving the node's own DID
        await server.resolver.resolve(issuer.did)
    assert reads == 0
    rotation = await operator.keys.rotate("default")
    assert (await server.issuers.did_document("default")) == document  # not asked yet: within the bound
    clock.now += 1.0
    refreshed = await server.issuers.did_document("default")
    assert reads == 2  # the generation, then the issuer it forgot
    assert [vm["publicKeyMultibase"] for vm in refreshed["verificationMethod"]] == [
        rotation.current.id, rotation.previous.id
    ]


async def test_issuance_uses_the_key_active_in_its_transaction_and_records_it(pair) -> None:
    server, operator = pair
    server.issuers.monotonic = Monotonic()  # the clock stands still: the server never refreshes by itself
    await server.issuers.get("default")  # cached by the server
    rotation = await operator.keys.rotate("default")
    vc = await server.issuance.issue("default", unsigned())  # the server's cache still names the old key
    assert vc["proof"]["verificationMethod"].endswith("#" + rotation.current.id)
    row = await query_one(server.db, "SELECT signing_key FROM credentials WHERE id = ?", (vc["id"],))
    assert row["signing_key"] == rotation.current.id


async def test_a_key_retired_while_a_credential_is_signed_fails_the_request_and_keeps_nothing(pair) -> None:
    server, operator = pair
    real = server.issuers.signing_key
    retired: list[str] = []

    async def then_retired(name, key_id):
        key = await real(name, key_id)
        # Another process rotates and retires the very key this request was admitted with.
        await operator.keys.rotate(name)
        await operator.keys.retire(name, key_id)
        retired.append(key_id)
        return key

    server.issuers.signing_key = then_retired  # type: ignore[method-assign]
    with pytest.raises(RetiredKeyError, match="retired while this request was being signed"):
        await server.issuance.issue("default", unsigned())
    assert retired and await query(server.db, "SELECT id FROM credentials") == []


async def test_retiring_needs_a_superseded_key_and_erases_its_secret(pair) -> None:
    _, node = pair
    first = (await node.issuers.get("default")).public_key_multibase
    with pytest.raises(KeyLifecycleError, match="rotate first"):
        await node.keys.retire("default", first)
    with pytest.raises(UnknownKeyError, match="its keys: z6Mk"):
        await node.keys.retire("default", "z6MkNoSuchKey")
    await node.keys.rotate("default")
    # A verification method id ending in the key names it too.
    retirement = await node.keys.retire("default", f"did:web:registry.example.edu#{first}")
    assert retirement.retired_now and retirement.key.state == "retired"
    row = await query_one(node.db, "SELECT sealed_secret, retired FROM issuer_keys WHERE public_key_multibase = ?", (first,))
    assert row["sealed_secret"] is None and row["retired"]
    node.issuers.forget()
    with pytest.raises(RetiredKeyError):
        await node.issuers.signing_key("default", first)
    again = await node.keys.retire("default", first)
    assert not again.retired_now
    with pytest.raises(Exception, match="needs --compromised"):
        await node.keys.retire("default", first, revoke=True)


async def test_status_lists_of_a_did_key_are_signed_by_that_key_while_it_is_kept(pair) -> None:
    """For lists kept per signing DID (branch conf-node): the identity of a did:key is its own key."""
    _, node = pair
    old = await node.issuers.get("default")
    await node.keys.rotate("default")
    pair_, did, vm = await node.issuers.signing_identity("default", old.dids[1])
    assert (did, vm) == (old.dids[1], old.verification_methods[1]) and pair_.public_multibase == old.public_key_multibase
    _, did, vm = await node.issuers.signing_identity("default")
    current = await node.issuers.get("default")
    assert (did, vm) == (current.did, current.verification_method)
    await node.keys.retire("default", old.public_key_multibase)
    with pytest.raises(RetiredKeyError):
        await node.issuers.signing_identity("default", old.dids[1])
    # Its issuer is still found by that did:key (the credentials it issued are the issuer's).
    assert (await node.issuers.for_did(old.dids[1])).name == "default"


async def test_a_store_made_before_key_history_gets_its_keys_and_signers(tmp_path) -> None:
    before = [m for m in MIGRATIONS if not m.name.startswith(("keys.", "tokens."))]
    master, _ = new_master_record(tmp_path, None)
    db = await SQLiteDatabase.open(tmp_path, migrations=before)
    config = load_config({"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"}, env={})
    async with db.transaction() as tx:  # as that version wrote an issuer and a credential
        pair_ = Ed25519KeyPair.generate()
        await tx.execute(
            "INSERT INTO issuers (name, created, status_purposes, public_key_multibase, sealed_secret) VALUES (?, ?, ?, ?, ?)",
            ("default", "2025-01-01T00:00:00Z", '["revocation"]', pair_.public_multibase, master.seal_keypair(pair_)),
        )
        await tx.execute(
            "INSERT INTO credentials (id, issuer, subject_id, issued, status) VALUES ('urn:x:1', 'default', NULL, '2025-01-02T00:00:00Z', 'active')"
        )
    await db.close()
    db = await SQLiteDatabase.open(tmp_path)
    try:
        node = compose(config, db=db, master_key=master, clock=lambda: FIXED_NOW)
        issuer = await node.issuers.get("default")
        assert [(k.id, k.state, k.activated) for k in issuer.keys] == [(pair_.public_multibase, "active", "2025-01-01T00:00:00Z")]
        assert await node.keys.signed_counts("default") == {pair_.public_multibase: 1}
        assert (await node.keys.signed_by("default", pair_.public_multibase))[0].id == "urn:x:1"
    finally:
        await db.close()


async def test_a_retired_key_whose_did_key_has_lists_keeps_its_secret_for_them_alone(pair) -> None:
    _, node = pair
    old = await node.issuers.get("default")
    vc = await node.issuance.issue("default", {**unsigned(), "issuer": old.dids[1]}, {"statusPurposes": ["revocation"]})
    await node.keys.rotate("default")
    retirement = await node.keys.retire("default", old.public_key_multibase)
    assert retirement.kept_for_did_key_lists and retirement.key.state == "retired"
    node.issuers.forget()
    # Nothing else may use it...
    with pytest.raises(RetiredKeyError):
        await node.issuers.signing_key("default", old.public_key_multibase)
    with pytest.raises(Exception, match="which is not issuer 'default'|cannot rotate"):
        await node.issuance.issue("default", {**unsigned(), "issuer": old.dids[1]})
    # ...but its did:key's credentials can still be revoked: their list is signed by that did:key.
    record = await node.status.set_status(vc["id"], "revoked")
    issuer, purpose, seq = record.status_entries[0].list_url.rsplit("/status/", 1)[1].split("/")
    published = await node.status_lists.get(issuer, purpose, int(seq))
    proof = published.credential["proof"]
    assert proof["verificationMethod"] == old.verification_methods[1]

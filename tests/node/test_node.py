"""The node's capabilities composed over a real store (node.node.compose): issuing fills and
refuses what it must, status changes are durable and re-published at once, and a verifier
reading the published lists sees every change."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

import node.statuslists as statuslists_module
from did.http import FetchedJSON
from node.config import ConfigError, load_config
from node.errors import (
    DuplicateCredentialError,
    InvalidRequestError,
    IssuerMismatchError,
    StatusChangeError,
    UnknownCredentialError,
    UnknownIssuerError,
)
from node.keys import new_master_record
from node.node import Node, compose
from node.store import SQLiteDatabase
from status.bitstring import Bitstring
from support import query, query_one
from tests.conftest import FIXED_NOW
from vc.errors import ProblemError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
DI_V2 = "https://w3id.org/security/data-integrity/v2"


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self):
        return self.now


class StoreHTTP:
    """Serves the node's published lists to the status checker as its HTTP client would."""

    def __init__(self) -> None:
        self.node: Node | None = None
        self.fetches = 0

    async def get_json(self, url, *, max_bytes=None, headers=None):
        self.fetches += 1
        issuer, purpose, seq = url.split("/status/", 1)[1].split("/")
        published = await self.node.status_lists.get(issuer, purpose, int(seq))
        return FetchedJSON(url, 200, {}, published.credential, 0)


def unsigned(**extra):
    vc = {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
    }
    vc.update(extra)
    return vc


@pytest.fixture
async def node(tmp_path):
    config = load_config(
        {"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"},
        env={"VCNODE_STATUS_PURPOSES": "revocation,suspension", "VCNODE_STATUS_MAX_STALENESS_SECONDS": "0"},
    )
    db = await SQLiteDatabase.open(tmp_path)
    master, record = new_master_record(tmp_path, None)
    clock = Clock()
    http = StoreHTTP()
    node = compose(config, db=db, master_key=master, clock=clock, http=http)
    http.node = node
    await node.start()
    yield node
    await db.close()


async def list_bit(node: Node, entry: dict) -> int:
    issuer, purpose, seq = entry["statusListCredential"].split("/status/", 1)[1].split("/")
    published = await node.status_lists.get(issuer, purpose, int(seq))
    bits = Bitstring.decode(published.credential["credentialSubject"]["encodedList"])
    return bits.get(int(entry["statusListIndex"]))


def entries_of(vc: dict) -> dict[str, dict]:
    raw = vc["credentialStatus"]
    return {e["statusPurpose"]: e for e in (raw if isinstance(raw, list) else [raw])}


async def test_issue_fills_issuer_id_validfrom_and_status_and_leaves_input_alone(node):
    original = unsigned()
    before = copy.deepcopy(original)
    vc = await node.issuance.issue("default", original, {})
    assert original == before
    assert vc["issuer"] == "did:web:registry.example.edu"
    assert vc["id"].startswith("urn:uuid:")
    assert vc["validFrom"] == "2025-06-01T12:00:00Z"
    entries = entries_of(vc)
    assert set(entries) == {"revocation", "suspension"}
    for purpose, entry in entries.items():
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListCredential"] == f"https://registry.example.edu/status/default/{purpose}/1"
        assert entry["statusListIndex"].isdigit()
        assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
    proof = vc["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].startswith("did:web:registry.example.edu#z6Mk")
    record = await node.credentials.get(vc["id"])
    assert record.issuer == "default" and record.subject_id == "did:example:alice" and record.status == "active"
    assert {e.purpose for e in record.status_entries} == {"revocation", "suspension"}


async def test_issued_credential_verifies_including_status(node):
    vc = await node.issuance.issue("default", unsigned(), {})
    result = await node.verification.verify_credential(vc, {})
    assert result.verified, result.to_json()
    assert [c.outcome for c in result.checks if c.name == "status"] == ["passed", "passed"]


async def test_jcs_suite_and_status_purpose_override(node):
    vc = await node.issuance.issue("default", unsigned(), {"cryptosuite": "eddsa-jcs-2022", "statusPurposes": ["revocation"]})
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert isinstance(vc["credentialStatus"], dict) and vc["credentialStatus"]["statusPurpose"] == "revocation"
    assert (await node.verification.verify_credential(vc, {})).verified
    with pytest.raises(InvalidRequestError, match="cryptosuite"):
        await node.issuance.issue("default", unsigned(), {"cryptosuite": "ecdsa-rdfc-2019"})
    with pytest.raises(InvalidRequestError, match="refresh"):
        await node.issuance.issue("default", unsigned(), {"statusPurposes": ["refresh"]})


async def test_vc_1_1_is_issued_as_1_1_with_the_data_integrity_context(node):
    # VC 1.1 has no @vocab, so the subject carries only its id.
    v1 = unsigned(**{"@context": [VC_V1], "credentialSubject": {"id": "did:example:alice"}})
    vc = await node.issuance.issue("default", v1, {})
    # Bitstring Status List 1.0 §2.1: its entries belong in VC 2.0 credentials. So a 1.1
    # credential gets none of the issuer's default entries, and no context it does not use
    # (DataIntegrityProof needs the data-integrity one; the status/v1 one is not added).
    assert vc["@context"] == [VC_V1, DI_V2] and "credentialStatus" not in vc
    assert vc["issuanceDate"] == "2025-06-01T12:00:00Z" and "validFrom" not in vc
    assert (await node.verification.verify_credential(vc, {})).verified
    with pytest.raises(InvalidRequestError, match="VC Data Model 2.0"):
        await node.issuance.issue("default", v1, {"statusPurposes": ["revocation"]})


async def test_issuer_named_in_the_credential_must_be_this_issuer(node):
    default = await node.issuers.get("default")
    ok = await node.issuance.issue("default", unsigned(issuer={"id": default.dids[1], "name": "Registry"}), {})
    assert ok["issuer"]["id"] == default.dids[1]
    with pytest.raises(IssuerMismatchError, match="did:web:elsewhere.example"):
        await node.issuance.issue("default", unsigned(issuer="did:web:elsewhere.example"), {})
    await node.issuers.create("physics")
    with pytest.raises(IssuerMismatchError):
        await node.issuance.issue("physics", unsigned(issuer=default.did), {})
    with pytest.raises(UnknownIssuerError):
        await node.issuance.issue("nobody", unsigned(), {})


async def test_bad_credentials_are_refused_before_anything_is_allocated(node):
    for bad, message in [
        ("not an object", "JSON object"),
        (unsigned(proof={"type": "DataIntegrityProof"}), "proofPurpose is required"),
        (unsigned(credentialStatus={"type": "BitstringStatusListEntry"}), "credentialStatus"),
        ({"@context": ["https://example.org/ctx"], "type": ["VerifiableCredential"]}, "@context"),
    ]:
        with pytest.raises(ProblemError, match=message) as refused:
            await node.issuance.issue("default", bad, {})
        assert refused.value.http_status == 400
    assert await query_one(node.db, "SELECT 1 FROM status_entries") is None


async def test_duplicate_credential_id_is_refused(node):
    await node.issuance.issue("default", unsigned(id="urn:uuid:5d2c8f8e-0000-4000-8000-000000000001"), {})
    with pytest.raises(DuplicateCredentialError):
        await node.issuance.issue("default", unsigned(id="urn:uuid:5d2c8f8e-0000-4000-8000-000000000001"), {})


async def test_signing_failure_records_nothing_and_burns_the_indexes(node):
    # An undefined term makes RDFC safe-mode canonicalization refuse the document.
    bad = unsigned(credentialSubject={"id": "did:example:alice", "undefinedTerm": 1})
    with pytest.raises(Exception):
        await node.issuance.issue("default", bad, {})
    assert await query_one(node.db, "SELECT 1 FROM credentials") is None
    rows = await query(node.db, "SELECT credential_id FROM status_entries")
    assert len(rows) == 2 and all(r["credential_id"] is None for r in rows)


async def test_revoke_sets_the_bit_republishes_and_a_verifier_sees_it(node):
    vc = await node.issuance.issue("default", unsigned(), {})
    entry = entries_of(vc)["revocation"]
    assert await list_bit(node, entry) == 0
    record = await node.status.set_status(vc["id"], "revoked")
    assert record.status == "revoked"
    assert await list_bit(node, entry) == 1
    result = await node.verification.verify_credential(vc, {})
    assert not result.verified
    revocation = [c for c in result.checks if c.name == "status" and c.data.get("statusPurpose", "revocation") == "revocation"]
    assert any(c.outcome == "failed" for c in revocation), result.to_json()


async def test_revocation_is_final(node):
    vc = await node.issuance.issue("default", unsigned(), {})
    await node.status.set_status(vc["id"], "revoked")
    for status in ("active", "suspended"):
        with pytest.raises(StatusChangeError, match="final"):
            await node.status.set_status(vc["id"], status)
    assert (await node.status.set_status(vc["id"], "revoked")).status == "revoked"  # idempotent


async def test_suspend_and_unsuspend(node):
    vc = await node.issuance.issue("default", unsigned(), {})
    entry = entries_of(vc)["suspension"]
    await node.status.set_status(vc["id"], "suspended")
    assert await list_bit(node, entry) == 1
    assert not (await node.verification.verify_credential(vc, {})).verified
    await node.status.set_status(vc["id"], "active")
    assert await list_bit(node, entry) == 0
    assert (await node.verification.verify_credential(vc, {})).verified


async def test_suspension_needs_a_suspension_entry(node):
    vc = await node.issuance.issue("default", unsigned(), {"statusPurposes": ["revocation"]})
    with pytest.raises(StatusChangeError, match="suspension"):
        await node.status.set_status(vc["id"], "suspended")


async def test_unknown_credential_and_bad_status_are_clear_errors(node):
    with pytest.raises(UnknownCredentialError, match="urn:uuid:nope"):
        await node.status.set_status("urn:uuid:nope", "revoked")
    vc = await node.issuance.issue("default", unsigned(), {})
    with pytest.raises(InvalidRequestError, match="deleted"):
        await node.status.set_status(vc["id"], "deleted")
    await node.issuers.create("physics")
    with pytest.raises(UnknownCredentialError, match="physics"):
        await node.status.set_status(vc["id"], "revoked", issuer_name="physics")


async def test_batch_issue_and_revoke_sign_each_list_once(node, monkeypatch):
    calls: list[str] = []
    real = statuslists_module.issue_status_list_credential

    def counting(**kw):
        calls.append(kw["list_url"])
        return real(**kw)

    monkeypatch.setattr(statuslists_module, "issue_status_list_credential", counting)
    issued = await node.issuance.issue_many("default", [unsigned() for _ in range(30)], {"statusPurposes": ["revocation"]})
    assert len(calls) == 1  # the new list, published once before handing out credentials
    indexes = {int(vc["credentialStatus"]["statusListIndex"]) for vc in issued}
    assert len(indexes) == 30
    calls.clear()
    records = await node.status.set_status_many([(vc["id"], "revoked") for vc in issued])
    assert [r.status for r in records] == ["revoked"] * 30
    assert calls == ["https://registry.example.edu/status/default/revocation/1"]
    published = await node.status_lists.get("default", "revocation", 1)
    bits = Bitstring.decode(published.credential["credentialSubject"]["encodedList"])
    assert set(bits.set_indexes()) == indexes


async def test_batch_status_change_is_all_or_nothing(node):
    vc = await node.issuance.issue("default", unsigned(), {})
    with pytest.raises(UnknownCredentialError):
        await node.status.set_status_many([(vc["id"], "revoked"), ("urn:uuid:missing", "revoked")])
    assert (await node.credentials.get(vc["id"])).status == "active"
    assert await list_bit(node, entries_of(vc)["revocation"]) == 0


async def test_committed_change_left_unpublished_by_a_crash_is_published_at_start(node):
    vc = await node.issuance.issue("default", unsigned(), {})
    entry = entries_of(vc)["revocation"]
    # The change commits, then the process dies before re-signing.
    async with node.db.transaction() as tx:
        [info] = [e for e in await node.status_lists.entries_for(tx, vc["id"]) if e.purpose == "revocation"]
        pending: dict = {}
        changed = await node.status_lists.set_bits(tx, [(info.list_id, info.index, 1)], pending)
        await node.status_lists.write_bits(tx, pending, changed)
    assert await list_bit(node, entry) == 0  # still the old signed list
    restarted = compose(node.config, db=node.db, master_key=node.issuers.master_key, clock=node.clock)
    await restarted.start()
    assert await list_bit(node, entry) == 1


async def test_challenges_are_single_use_and_expire(node):
    challenge = await node.challenges.create()
    assert await node.challenges.consume(challenge.challenge)
    assert not await node.challenges.consume(challenge.challenge)
    late = await node.challenges.create()
    node.clock.now = FIXED_NOW + timedelta(seconds=node.config.challenge_ttl_seconds + 1)
    assert not await node.challenges.consume(late.challenge)
    assert not await node.challenges.consume("never-issued")


async def test_presentation_without_a_node_challenge_is_not_verified(node):
    result = await node.verification.verify_presentation({"@context": [VC_V2], "type": ["VerifiablePresentation"]}, {})
    assert not result.verified
    assert result.check("challenge").outcome == "failed"


async def test_tokens_grant_their_scopes_until_revoked(node):
    await node.issuers.create("physics")
    new = await node.tokens.create(["issue"], issuer="physics")
    grant = await node.tokens.check(new.token)
    assert grant.scopes == frozenset({"issue"}) and grant.issuer == "physics"
    assert grant.allows("issue", "physics") and not grant.allows("issue", "default") and not grant.allows("status", "physics")
    assert await node.tokens.check(new.token + "x") is None
    await node.tokens.revoke(new.id)
    assert await node.tokens.check(new.token) is None


async def test_lists_with_valid_until_are_resigned_at_half_life(tmp_path):
    config = load_config({"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"}, env={"VCNODE_STATUS_LIST_VALID_SECONDS": "3600"})
    db = await SQLiteDatabase.open(tmp_path)
    master, _ = new_master_record(tmp_path, None)
    clock = Clock()
    node = compose(config, db=db, master_key=master, clock=clock)
    try:
        await node.start()
        await node.issuance.issue("default", unsigned(), {})
        first = (await node.status_lists.get("default", "revocation", 1)).credential
        assert first["validUntil"] == "2025-06-01T13:00:00Z"
        clock.now = FIXED_NOW + timedelta(minutes=20)
        assert await node.status_lists.refresh_expiring() == 0
        clock.now = FIXED_NOW + timedelta(minutes=31)
        assert await node.status_lists.refresh_expiring() == 1
        again = (await node.status_lists.get("default", "revocation", 1)).credential
        assert again["validFrom"] == "2025-06-01T12:31:00Z" and again["validUntil"] == "2025-06-01T13:31:00Z"
        assert again["credentialSubject"]["encodedList"] == first["credentialSubject"]["encodedList"]
    finally:
        await db.close()


async def test_concurrent_issuance_never_shares_an_index(node):
    import asyncio

    issued = await asyncio.gather(*(node.issuance.issue("default", unsigned(), {"statusPurposes": ["revocation"]}) for _ in range(200)))
    keys = {(vc["credentialStatus"]["statusListCredential"], vc["credentialStatus"]["statusListIndex"]) for vc in issued}
    assert len(keys) == 200
    assert len({vc["id"] for vc in issued}) == 200


async def test_grouped_admission_refuses_one_request_without_touching_the_others(node):
    import asyncio

    fixed = "urn:uuid:5d2c8f8e-0000-4000-8000-0000000000aa"
    await node.issuance.issue("default", unsigned(id=fixed), {})
    results = await asyncio.gather(
        *(node.issuance.issue("default", unsigned(), {}) for _ in range(20)),
        node.issuance.issue("default", unsigned(id=fixed), {}),
        *(node.issuance.issue("default", unsigned(), {}) for _ in range(20)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], DuplicateCredentialError)
    issued = [r for r in results if isinstance(r, dict)]
    assert len(issued) == 40
    records = await node.credentials.list()
    assert len(records) == 41  # the first one plus the 40; the refused request left nothing


async def test_a_caller_that_goes_away_leaves_no_record(node, monkeypatch):
    import asyncio

    entered, release = asyncio.Event(), asyncio.Event()
    real = node.issuance._admit_one

    async def slow_admit(*args):
        result = await real(*args)  # recorded and allocated inside the open transaction
        entered.set()
        await release.wait()
        return result

    monkeypatch.setattr(node.issuance, "_admit_one", slow_admit)
    task = asyncio.create_task(node.issuance.issue("default", unsigned(), {}))
    await entered.wait()
    task.cancel()  # the client disconnects while its admission is being committed
    # (its admission commits anyway: indexes for nobody; nothing is recorded before signing)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):  # the commit and then the clean-up finish in the background
        await asyncio.sleep(0.01)
        issuance = node.issuance
        if issuance._committer.done():
            break
    assert await query_one(node.db, "SELECT 1 FROM credentials") is None
    rows = await query(node.db, "SELECT credential_id FROM status_entries")
    assert rows and all(r["credential_id"] is None for r in rows)  # the index stays used, never reused


async def test_two_processes_opening_a_fresh_store_make_one_master_key(tmp_path, monkeypatch):
    """Two handles on one store stand for two processes starting together; making the master
    key is slow (Argon2id), and both must end up with the one the store records."""
    import asyncio

    import node.node as composition
    from node.node import open_master_key

    config = load_config({"data_dir": str(tmp_path)}, env={"VCNODE_PASSPHRASE": "pass phrase", "VCNODE_KDF": "interactive"})
    made = []
    real = composition.new_master_record

    def slow(*args, **kwargs):
        made.append(1)
        import time

        time.sleep(0.3)  # both processes have read "no master key yet" by now
        return real(*args, **kwargs)

    monkeypatch.setattr(composition, "new_master_record", slow)
    first, second = await SQLiteDatabase.open(tmp_path), await SQLiteDatabase.open(tmp_path)
    try:
        keys = await asyncio.gather(open_master_key(first, config, announce=False), open_master_key(second, config, announce=False))
    finally:
        await first.close()
        await second.close()
    assert made == [1] and keys[0].key == keys[1].key


async def test_verifying_the_nodes_own_did_web_credential_asks_the_store_nothing(node, monkeypatch):
    """Its issuers are kept in memory: resolving the node's own did:web costs no query."""
    vc = await node.issuance.issue("default", unsigned(), {"statusPurposes": []})
    physics = await node.issuers.create("physics")
    other = await node.issuance.issue("physics", unsigned(issuer=physics.did), {"statusPurposes": []})
    opened = []
    real_read, real_transaction = node.db.read, node.db.transaction
    monkeypatch.setattr(node.db, "read", lambda: opened.append("read") or real_read())
    monkeypatch.setattr(node.db, "transaction", lambda: opened.append("transaction") or real_transaction())
    for credential in (vc, other, vc):
        result = await node.verification.verify_credential(credential, {})
        assert result.verified, result.to_json()
    assert opened == []
    # An issuer made elsewhere (another process, here a second composition on the store) is
    # not in memory yet: found in the store on first use.
    elsewhere = compose(node.config, db=node.db, master_key=node.issuers.master_key, clock=node.clock)
    await elsewhere.issuers.create("chemistry")
    chemistry = await elsewhere.issuance.issue("chemistry", unsigned(), {"statusPurposes": []})
    opened.clear()
    assert (await node.verification.verify_credential(chemistry, {})).verified
    assert opened == ["read"]


async def test_create_app_serves_a_node_it_is_given(node, aiohttp_client):
    """create_app(config, node=...) serves a composed node (a test's fakes) as it would its own."""
    from node.app import create_app

    client = await aiohttp_client(create_app(node.config, node=node))
    response = await client.get("/.well-known/did.json")
    assert response.status == 200 and await response.json() == await node.issuers.did_document("default")
    token = (await node.tokens.create(["issue"])).token
    response = await client.post(
        "/credentials/issue",
        json={"credential": unsigned(issuer=(await node.issuers.get("default")).did)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 201, await response.text()
    vc = (await response.json())["verifiableCredential"]
    assert (await node.credentials.get(vc["id"])).issuer == "default"
    response = await client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert response.status == 200 and (await response.json())["verified"] is True


async def test_no_credential_is_handed_out_before_its_status_list_is_published(tmp_path):
    """Found by bench/soak.py (issue 14): of two requests admitted in one group commit, the one
    that did not open the new list returned before the other had signed it, and a verifier
    fetching that list got a 404. Signing the list is slowed here so the second request would
    always win that race."""
    import asyncio

    config = load_config({"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"}, env={})
    db = await SQLiteDatabase.open(tmp_path)
    master, _ = new_master_record(tmp_path, None)

    async def offload(step):
        if "_republish_one" in getattr(step, "__qualname__", ""):
            await asyncio.sleep(0.3)  # the list credential's signing, and only it, is slow
        return step()

    node = compose(config, db=db, master_key=master, clock=Clock(), offload=offload)
    try:
        await node.start()

        async def issue_then_fetch_list(n: int) -> object:
            vc = await node.issuance.issue("default", unsigned(credentialSubject={"id": f"did:example:{n}"}), {})
            issuer, purpose, seq = vc["credentialStatus"]["statusListCredential"].split("/status/", 1)[1].split("/")
            return await node.status_lists.get(issuer, purpose, int(seq))

        published = await asyncio.gather(*(issue_then_fetch_list(n) for n in range(3)))
        assert all(p is not None for p in published), published
    finally:
        await db.close()


@pytest.mark.parametrize("minimum, outcome", [(None, ("unknown", "STATUS_LIST_LENGTH_ERROR")), ("100000", ("passed", None))])
async def test_an_ecosystems_lower_bound_on_list_length_reaches_the_nodes_status_check(tmp_path, minimum, outcome):
    """Bitstring Status List 1.0 §3.2: 131,072 entries at least "unless a different lower bound is
    established by a specific ecosystem specification". The Digital Credentials Consortium's
    service publishes lists of 100,000: refused by default, read with the operator's bound."""
    from did.key import did_key_from_public_key
    from status.credential import issue_status_list_credential, status_list_entry
    from vc.credentials import issue_credential
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    env = {} if minimum is None else {"VCNODE_STATUS_MIN_LIST_ENTRIES": minimum}
    config = load_config({"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"}, env=env)
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{did.split(':')[-1]}"
    list_url = "https://status.dcc.example/status/7"
    loader = default_loader()
    listed = issue_status_list_credential(
        list_url=list_url, issuer=did, purpose="revocation", bitstring=Bitstring(100_000),
        key=key, verification_method=vm, now=FIXED_NOW - timedelta(days=1), loader=loader, min_length=100_000,
    )

    class ListHTTP:
        async def get_json(self, url, *, max_bytes=None, headers=None):
            assert url == list_url
            return FetchedJSON(url, 200, {}, copy.deepcopy(listed), 0)

    credential = issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:student"},
            "credentialStatus": status_list_entry(list_url=list_url, index=8, purpose="revocation"),
        },
        key=key, verification_method=vm, suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=FIXED_NOW - timedelta(days=1),
    )
    db = await SQLiteDatabase.open(tmp_path)
    master, _ = new_master_record(tmp_path, None)
    node = compose(config, db=db, master_key=master, clock=Clock(), http=ListHTTP())
    try:
        result = await node.verification.verify_credential(credential)
    finally:
        await db.close()
    status = next(c for c in result.checks if c.name == "status")
    assert (status.outcome, status.problem.code if status.problem else None) == outcome, status


@pytest.mark.parametrize("value", ["0", "131073"])
def test_the_lower_bound_on_list_length_may_only_be_lowered(value):
    with pytest.raises(ConfigError, match="status_min_list_entries must be 1 to 131072"):
        load_config({}, env={"VCNODE_STATUS_MIN_LIST_ENTRIES": value})

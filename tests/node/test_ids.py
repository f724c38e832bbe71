"""Credential ids the node makes (node/ids.py): RFC 9562 UUIDv7, the issuance time first."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from node.config import Config
from node.ids import credential_urn, uuid7
from node.node import open_node

NOW = datetime(2026, 12, 6, 3, 0, 0, 123000, tzinfo=timezone.utc)


def test_a_uuid7_carries_the_millisecond_version_and_variant_and_74_random_bits() -> None:
    made = [uuid7(NOW) for _ in range(2000)]
    assert len(set(made)) == len(made)
    for u in made[:50]:
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert u.int >> 80 == int(NOW.timestamp() * 1000)
    # The random bits are all used: each of rand_a's 12 and rand_b's 62 is set in some id and clear in another.
    rand = [(u.int >> 64) & 0xFFF | ((u.int & ((1 << 62) - 1)) << 12) for u in made]
    ors = andn = 0
    for r in rand:
        ors |= r
        andn |= ~r
    assert ors == andn & ((1 << 74) - 1) == (1 << 74) - 1
    # Later is larger, whatever the random bits: the store's indexes see them in issuance order.
    later = [uuid7(NOW + timedelta(milliseconds=1)) for _ in range(200)]
    assert max(made) < min(later)
    assert credential_urn(NOW).startswith("urn:uuid:") and uuid.UUID(credential_urn(NOW)[9:]).version == 7


async def test_a_credential_without_an_id_gets_a_uuid7_of_its_issuance(tmp_path: Path) -> None:
    cfg = Config().replace(data_dir=tmp_path / "n", base_url="https://node.example", status_purposes=("revocation",), kdf="interactive")
    async with open_node(cfg, create=True, network=False) as node:
        node.issuance.clock = lambda: NOW  # the request's time
        issuer = await node.issuers.get("default")
        vc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
              "credentialSubject": {"name": "Ana"}}
        signed = await node.issuance.issue_many("default", [vc, dict(vc)])
        ids = [uuid.UUID(c["id"].removeprefix("urn:uuid:")) for c in signed]
        assert [u.version for u in ids] == [7, 7] and ids[0] != ids[1]
        assert {u.int >> 80 for u in ids} == {int(NOW.timestamp() * 1000)}
        assert signed[0]["issuer"] == issuer.did

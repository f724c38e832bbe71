"""Fakes for the status tests: an HTTP object serving lists, a settable clock, a signer.

Not a conftest.py: other test folders import `conftest` by bare name, and a second module of
that name here would shadow theirs. Test modules import the `world` fixture from here.

The fake signature is a SHA-256 over the canonical JSON of the document without its proof, so
a tampered or unsigned list really fails; real eddsa-rdfc-2022 / eddsa-jcs-2022 proofs are
exercised in test_status_signed.py.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from did.errors import FetchError
from status.bitstring import Bitstring
from status.check import StatusChecker
from status.credential import build_status_list_credential, status_list_entry
from vc.results import Check, VerificationResult

ISSUER = "did:example:university"
# The options of the Recommendation's message entry (§2.1 example, its elided fourth message
# filled in): statusSize 2, one message per value, a reference.
REC_MESSAGE_ENTRY: dict[str, Any] = {
    "statusSize": 2,
    "statusMessage": [
        {"status": "0x0", "message": "pending_review"},
        {"status": "0x1", "message": "accepted"},
        {"status": "0x2", "message": "rejected"},
        {"status": "0x3", "message": "undefined"},
    ],
    "statusReference": "https://example.org/status-dictionary/",
}
LIST_URL = "https://issuer.example/status/1"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


@dataclass
class Fetched:
    url: str
    status: int
    headers: dict[str, str]
    data: Any
    max_age: int | None


class FakeHTTP:
    """Serves documents by URL like GuardedHTTP.get_json; records every fetch."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[Any, int | None]] = {}
        self.errors: dict[str, FetchError] = {}
        self.calls: list[str] = []
        self.delay = 0.0

    def serve(self, url: str, document: Any, *, max_age: int | None = None) -> None:
        self.documents[url] = (copy.deepcopy(document), max_age)

    async def get_json(self, url: str, *, max_bytes: int | None = None) -> Fetched:
        self.calls.append(url)
        if self.delay:
            await asyncio.sleep(self.delay)
        if url in self.errors:
            raise self.errors[url]
        if url not in self.documents:
            raise FetchError(f"{url} answered HTTP 404", reason="http-status")
        document, max_age = self.documents[url]
        return Fetched(url, 200, {}, copy.deepcopy(document), max_age)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def _digest(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "proof"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def fake_sign(document: dict[str, Any]) -> dict[str, Any]:
    signed = copy.deepcopy(document)
    signed["proof"] = {"type": "FakeProof", "digest": _digest(document)}
    return signed


class FakeVerifier:
    """Stands in for vc.credentials.verify_credential; counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, document, *, resolver, loader, now, check_status=None) -> VerificationResult:
        self.calls += 1
        result = VerificationResult("credential", document)
        proof = document.get("proof")
        if not isinstance(proof, dict):
            result.add(Check("proof", "failed", "the credential has no proof"))
        elif proof.get("digest") != _digest(document):
            result.add(Check("proof", "failed", "the signature does not match the document"))
        else:
            result.add(Check("proof", "passed"))
        return result


@dataclass
class World:
    http: FakeHTTP = field(default_factory=FakeHTTP)
    clock: Clock = field(default_factory=Clock)
    verifier: FakeVerifier = field(default_factory=FakeVerifier)

    def checker(self, **kw: Any) -> StatusChecker:
        return StatusChecker(self.http, None, None, self.clock, verify_credential=self.verifier, **kw)

    def publish(
        self,
        *,
        url: str = LIST_URL,
        purpose: str = "revocation",
        set_bits: dict[int, int] | None = None,
        length: int = 131_072,
        status_size: int = 1,
        issuer: str = ISSUER,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        ttl: timedelta | None = None,
        max_age: int | None = None,
        sign: bool = True,
        min_length: int = 131_072,
        edit: Any = None,
    ) -> dict[str, Any]:
        bits = Bitstring(length, status_size=status_size)
        for i, v in (set_bits or {}).items():
            bits.set(i, v)
        doc = build_status_list_credential(
            list_url=url,
            issuer=issuer,
            purpose=purpose,
            bitstring=bits,
            valid_from=valid_from or self.clock() - timedelta(days=1),
            valid_until=valid_until,
            ttl=ttl,
            min_length=min_length,
        )
        if edit is not None:
            edit(doc)
        if sign:
            doc = fake_sign(doc)
        self.http.serve(url, doc, max_age=max_age)
        return doc

    @staticmethod
    def credential(*entries: dict[str, Any], issuer: str = ISSUER) -> dict[str, Any]:
        return credential(*entries, issuer=issuer)

    @staticmethod
    def entry(index: int, purpose: str = "revocation", url: str = LIST_URL, **kw: Any) -> dict[str, Any]:
        return entry(index, purpose, url, **kw)


def credential(*entries: dict[str, Any], issuer: str = ISSUER) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:student"},
        "credentialStatus": list(entries) if len(entries) != 1 else entries[0],
    }


def entry(index: int, purpose: str = "revocation", url: str = LIST_URL, **kw: Any) -> dict[str, Any]:
    return status_list_entry(list_url=url, index=index, purpose=purpose, **kw)


@pytest.fixture
def world() -> World:
    return World()

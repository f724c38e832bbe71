"""The core's profile hook: ``reporters=`` of verify_credential / verify_presentation.

A reporter reads a verified credential and adds to ``result.reports``; it is information, never
a check, so it runs after every check, cannot change the verdict, and a bug in one is logged
rather than raised. Nothing runs unless a caller passes one (the core knows no profile)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import pytest

from did.key import DIDKeyResolver, did_key_from_public_key
from did.resolver import Resolver
from vc.credentials import issue_credential, verify_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.limits import Limits
from vc.loader import default_loader
from vc.presentations import create_presentation, verify_presentation
from vc.results import VerificationResult

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
LOADER = default_loader()
KEY = Ed25519KeyPair.from_seed(bytes(range(32)))
DID = did_key_from_public_key(KEY.public_key)
RESOLVER = Resolver({"key": DIDKeyResolver()})


def issued(name: str) -> dict[str, Any]:
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": f"urn:example:{name}",
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "credentialSubject": {"name": name},
    }
    return issue_credential(
        unsigned, key=KEY, verification_method=f"{DID}#{DID.removeprefix('did:key:')}", suite=SUITES["eddsa-rdfc-2022"], loader=LOADER, now=NOW
    )


class Recorder:
    """A reporter that notes what it saw and reports the subject's name."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, list[str], bool]] = []

    def __call__(self, credential: Any, result: VerificationResult) -> None:
        self.seen.append((credential, [c.name for c in result.checks], result.verified))
        result.reports["recorded"] = {"name": credential["credentialSubject"]["name"]}


def broken(credential: Any, result: VerificationResult) -> None:
    result.reports["half"] = True
    raise RuntimeError("a bug in a profile")


async def test_no_reporter_runs_unless_one_is_passed() -> None:
    result = await verify_credential(issued("Ana"), resolver=RESOLVER, loader=LOADER, now=NOW)
    assert result.verified and result.reports == {}


async def test_a_reporter_runs_once_after_every_check_and_adds_information_only() -> None:
    vc, recorder = issued("Ana"), Recorder()
    result = await verify_credential(vc, resolver=RESOLVER, loader=LOADER, now=NOW, reporters=[recorder])
    assert len(recorder.seen) == 1
    credential, checks, verified = recorder.seen[0]
    assert credential is vc and verified is True
    assert checks == [c.name for c in result.checks] and "proof" in checks  # nothing checked after it
    assert result.verified and result.to_json()["recorded"] == {"name": "Ana"}


async def test_a_failing_reporter_is_logged_and_changes_neither_verdict_nor_other_reports(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    with caplog.at_level(logging.ERROR, logger="vc.credentials"):
        result = await verify_credential(issued("Ana"), resolver=RESOLVER, loader=LOADER, now=NOW, reporters=[broken, recorder])
    assert result.verified
    assert result.reports["recorded"] == {"name": "Ana"} and len(recorder.seen) == 1
    assert any("the report broken failed" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_a_credential_refused_by_its_bounds_is_not_reported_on() -> None:
    recorder = Recorder()
    result = await verify_credential(issued("Ana"), resolver=RESOLVER, loader=LOADER, now=NOW, reporters=[recorder], limits=Limits(max_depth=2))
    assert not result.verified and recorder.seen == [] and result.reports == {}


async def test_a_presentation_passes_its_reporters_to_each_embedded_credential_only() -> None:
    recorder = Recorder()
    vp = create_presentation([issued("Ana"), issued("Bo")])
    result = await verify_presentation(
        vp, resolver=RESOLVER, loader=LOADER, now=NOW, challenge=None, domain=None, allow_unsigned=True, reporters=[recorder]
    )
    assert result.verified
    assert [r.reports for r in result.credentials] == [{"recorded": {"name": "Ana"}}, {"recorded": {"name": "Bo"}}]
    assert result.reports == {} and len(recorder.seen) == 2

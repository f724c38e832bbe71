"""The profile's package: its public surface is pinned, and the core never loads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_public_surface_is_pinned() -> None:
    import vc.edu

    assert sorted(vc.edu.__all__) == sorted(
        [
            "ACHIEVEMENT_TYPE", "CONTEXT", "ELEMENTS", "OPTIONAL_ELEMENTS", "REPORTERS",
            "AchievementDefinition", "Assessment", "ElementProblem", "ElementReport", "EvidenceItem", "Integration",
            "IssuerProfile", "Learner", "LearningOutcome", "ProfileError", "ProfileReport", "QualityAssurance",
            "achievement_document", "achievement_problems", "attach_report", "build_microcredential", "country_problem", "hash_identity",
            "is_microcredential", "is_open_badge", "issuer_problems", "label", "learner_problems", "normalise_grade", "parse_achievement",
            "parse_datetime", "parse_evidence", "parse_learner", "profile_report", "render_report",
        ]
    )
    assert all(hasattr(vc.edu, name) for name in vc.edu.__all__)
    assert vc.edu.REPORTERS == (vc.edu.attach_report,)


# Issues and verifies a credential and a presentation with the core alone, then lists what of
# vc.edu got loaded on the way.
CORE_ONLY = """
import asyncio, sys
from datetime import datetime, timezone
import status.check
from did.key import DIDKeyResolver, did_key_from_public_key
from did.resolver import Resolver
from vc.credentials import issue_credential, verify_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader
from vc.presentations import create_presentation, verify_presentation

key = Ed25519KeyPair.from_seed(bytes(32))
did = did_key_from_public_key(key.public_key)
now, loader, resolver = datetime(2025, 6, 1, tzinfo=timezone.utc), default_loader(), Resolver({"key": DIDKeyResolver()})
vc = issue_credential(
    {"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
     "type": ["VerifiableCredential"], "issuer": did, "credentialSubject": {"name": "Ana"}},
    key=key, verification_method=f"{did}#{did.removeprefix('did:key:')}", suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=now,
)
one = asyncio.run(verify_credential(vc, resolver=resolver, loader=loader, now=now))
vp = create_presentation([vc])
many = asyncio.run(verify_presentation(vp, resolver=resolver, loader=loader, now=now, challenge=None, domain=None, allow_unsigned=True))
assert one.verified and many.verified, (one.to_json(), many.to_json())
print(sorted(m for m in sys.modules if m == "vc.edu" or m.startswith("vc.edu.")))
"""


def test_the_core_verifies_without_loading_the_profile() -> None:
    """import-linter reads the static imports; this also catches one made at run time."""
    proc = subprocess.run([sys.executable, "-c", CORE_ONLY], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


async def test_the_core_with_the_profiles_reporters_reports_a_micro_credential() -> None:
    from datetime import datetime, timezone

    from did.key import DIDKeyResolver, did_key_from_public_key
    from did.resolver import Resolver
    from vc.credentials import issue_credential, verify_credential
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from tests.vc.edu.test_microcredential import achievement_json
    from vc.edu import REPORTERS, IssuerProfile, Learner, build_microcredential, parse_achievement, profile_report
    from vc.loader import default_loader

    now, loader, resolver = datetime(2025, 6, 1, tzinfo=timezone.utc), default_loader(), Resolver({"key": DIDKeyResolver()})
    key = Ed25519KeyPair.from_seed(bytes(32))
    did = did_key_from_public_key(key.public_key)
    unsigned = build_microcredential(
        parse_achievement(achievement_json()), IssuerProfile(did, "University of Example", country_code="NL"), Learner("Ana"), valid_from=now
    )
    vc = issue_credential(
        unsigned, key=key, verification_method=f"{did}#{did.removeprefix('did:key:')}", suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=now
    )
    reported = await verify_credential(vc, resolver=resolver, loader=loader, now=now, reporters=REPORTERS)
    assert reported.verified and reported.to_json()["microcredential"] == profile_report(vc).to_json()
    assert reported.reports["microcredential"]["complete"] is True
    plain = await verify_credential(vc, resolver=resolver, loader=loader, now=now)
    assert plain.verified and plain.reports == {}

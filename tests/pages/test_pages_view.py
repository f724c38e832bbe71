"""node.pages.view and node.pages.texts on their own: verdicts, links, content negotiation, texts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from node.pages import wants_html
from node.pages.texts import CATALOGUES, EN, Texts
from node.pages.view import (
    credential_outcome,
    credential_verdict,
    presentation_outcome,
    safe_href,
    words,
)

t = Texts()
PAGES = Path(__file__).resolve().parents[2] / "node" / "pages"


def result(*checks: tuple[str, str], verified: bool | None = None, **data: Any) -> dict[str, Any]:
    rows = [{"check": name, "outcome": outcome, "message": f"{name} said {outcome}", **data.get(name, {})} for name, outcome in checks]
    ok = all(o in ("passed", "skipped") for _, o in checks) and bool(checks)
    return {"verified": ok if verified is None else verified, "checks": rows}


def test_verified_only_when_the_node_says_so_and_every_check_passed() -> None:
    assert credential_verdict(t, result(("proof", "passed"), ("status", "passed"))).kind == "verified"
    assert credential_verdict(t, result(("proof", "passed"), ("status", "skipped"))).kind == "verified"
    # A result claiming verified while a check could not run, or with no checks at all, is not.
    assert credential_verdict(t, result(("proof", "passed"), ("status", "unknown"), verified=True)).kind == "status-unknown"
    assert credential_verdict(t, result(("proof", "passed"), ("binding", "unknown"), verified=True)).kind == "not-verified"
    assert credential_verdict(t, {"verified": True, "checks": []}).kind == "not-verified"
    assert credential_verdict(t, result(("proof", "passed"), verified=False)).kind == "not-verified"


def test_failed_checks_decide_before_status() -> None:
    revocation = {"status": {"statusPurpose": "revocation"}}
    v = credential_verdict(t, result(("proof", "failed"), ("status", "failed"), **revocation))
    assert v.kind == "not-verified"
    assert [words for words, _ in v.reasons] == [EN["reason.failed.proof"], EN["reason.revoked"]]
    assert credential_verdict(t, result(("proof", "passed"), ("status", "failed"), **revocation)).kind == "revoked"
    suspension = {"status": {"statusPurpose": "suspension"}}
    assert credential_verdict(t, result(("proof", "passed"), ("status", "failed"), **suspension)).kind == "suspended"
    v = credential_verdict(t, result(("proof", "passed"), ("validity", "failed"), ("status", "unknown")))
    assert v.kind == "not-verified" and [w for w, _ in v.reasons] == [EN["reason.failed.validity"], EN["reason.unknown.status"]]
    v = credential_verdict(t, result(("proof", "passed"), ("frobnicate", "failed")))
    assert v.reasons == [("The frobnicate check failed.", "frobnicate said failed")]


def test_a_presentation_is_verified_only_with_every_credential() -> None:
    good = {**result(("proof", "passed")), "document": {"id": "urn:a", "name": "A"}, "accreditation": {"status": "accredited"}}
    bad = {**result(("proof", "failed")), "document": {"id": "urn:b", "name": "B"}}
    vp = {**result(("proof", "passed"), ("challenge", "passed")), "credentialResults": [good, bad], "document": {"holder": "did:example:h"}}
    vp["verified"] = True  # even if a caller's result said so
    outcome = presentation_outcome(t, vp)
    assert outcome.verdict.kind == "not-verified" and [c.verdict.kind for c in outcome.cards] == ["verified", "not-verified"]
    # The card's own first reason is said beside it, so the reader need not find the card.
    assert [(words(w), d) for w, d in outcome.verdict.reasons] == [(f"Credential 2 (B): Not verified. {EN['reason.failed.proof']}", "")]
    vp["credentialResults"] = [good]
    assert presentation_outcome(t, vp).verdict.kind == "verified" and presentation_outcome(t, vp).holder == "did:example:h"


def test_an_achievement_of_this_node_awarded_by_a_stranger_is_said_first() -> None:
    # node.trust.check_achievement_issuers decides; the page says it in words, before a
    # revocation: a revoked credential from a stranger is first of all not the node issuer's.
    borrowed = {"achievement": {"achievementName": "DS 101", "awardingBody": "University of Example", "achievement": "https://n.example/x"}}
    r = result(("proof", "passed"), ("status", "failed"), ("achievement", "failed"), status={"statusPurpose": "revocation"}, **borrowed)
    v = credential_verdict(t, r)
    assert v.kind == "not-verified" and words(v.reasons[0][0]).startswith("It names the achievement DS 101 that University of Example")
    assert words(v.reasons[1][0]) == EN["reason.revoked"]
    assert credential_verdict(t, result(("proof", "passed"), ("achievement", "unknown"), verified=True)).kind == "not-verified"


def test_an_unreachable_issuer_is_named_as_the_cause_and_its_domain_is_not_vouched_for() -> None:
    # did:web whose domain does not answer: the proof could not run, so the binding fails.
    doc = {"issuer": {"id": "did:web:unknown-university.example", "name": "Totally Real University"}, "credentialSubject": {"id": "did:example:x"}}
    r = {**result(("dataModel", "passed"), ("proof", "unknown"), ("binding", "failed")), "document": doc}
    card = credential_outcome(t, r).cards[0]
    assert card.verdict.kind == "not-verified"
    assert [words(w) for w, _ in card.verdict.reasons] == [EN["reason.unknown.proof"], EN["reason.failed.binding.unresolved"]]
    assert words(card.awarded_by) == "Awarded by Totally Real University (name stated by the issuer, not checked)"
    # Tied by the proof and binding, the domain backs the name; nobody vouching for it, the
    # verdict says so instead of Verified.
    r = {**result(("proof", "passed"), ("binding", "passed")), "document": doc}
    card = credential_outcome(t, r).cards[0]
    assert words(card.awarded_by) == "Awarded by Totally Real University (unknown-university.example)"
    assert card.verdict.kind == "unrecognised" and "unknown-university.example" in words(card.verdict.summary)
    assert credential_outcome(t, r, frozenset({"did:web:unknown-university.example"})).verdict.kind == "verified"
    assert credential_outcome(t, {**r, "accreditation": {"status": "accredited"}}).verdict.kind == "verified"


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://esco.ec.europa.eu/skill/1", True),
        ("http://data.europa.eu/snb/eqf/6", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:x", False),
        ("//evil.example/x", False),
        ("/relative", False),
        ("https://", False),
        ("https://ok.example/a b", False),
        (42, False),
    ],
)
def test_links_are_made_only_from_http_urls(url: Any, ok: bool) -> None:
    assert (safe_href(url) is not None) is ok


@pytest.mark.parametrize(
    "accept, html",
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # browsers
        ("text/html", True),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        ("application/json, text/html;q=0.9", False),
        ("text/html, application/json", False),
        ("text/html;q=0", False),
        ("text/html;q=bogus, */*", False),
    ],
)
def test_content_negotiation_gives_html_only_to_clients_preferring_it(accept: str, html: bool) -> None:
    request = make_mocked_request("GET", "/issuers/x/achievements/y", headers={"Accept": accept} if accept else {})
    assert wants_html(request) is html


def _used_keys() -> set[str]:
    used: set[str] = set()
    for path in list((PAGES / "templates").glob("*.html")) + list(PAGES.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\b(?:t\(|fill\(t,)\s*["']([a-z_.\-]+)["']""", source))
    return used


def test_every_text_the_pages_use_is_in_each_catalogue() -> None:
    used = _used_keys()
    assert len(used) > 100  # the scan finds the templates' and the view's texts
    # Keys built at run time: every member of each family must exist.
    families = {
        "verdict.": ["verified", "not-verified", "revoked", "suspended", "status-unknown", "no-credentials", "unrecognised"],
        "outcome.": ["passed", "failed", "unknown", "skipped"],
        "acc.": ["accredited", "not-accredited", "unknown", "not-assessed"],
        "element.": list("abcdefghijk"),
        "participation.": ["online", "on-site", "blended"],
        "month.": [str(m) for m in range(1, 13)],
        "input.kind.": ["array", "string", "number", "boolean", "null"],
        "reason.": ["revoked", "suspended"],
    }
    used |= {prefix + member for prefix, members in families.items() for member in members}
    for language, catalogue in CATALOGUES.items():
        assert not sorted(used - set(catalogue)), language


# --- a failed check told by its cause (QA page sweep, findings 1-6, 13-14) ---------------------


def _entry(name: str, exc: Exception, **data: Any) -> dict[str, Any]:
    """The result entry the library makes of ``exc`` (vc.results.failed), as the page receives it."""
    from vc.results import failed

    entry = failed(name, exc)
    entry.data.update(data)
    return entry.to_json()


def _revoked_key_error() -> Exception:
    from did.resolver import VerificationMethod
    from datetime import datetime, timezone

    vm = VerificationMethod("did:web:u.example#key-1", "Multikey", "did:web:u.example", b"k" * 32, {}, revoked="2001-01-01T00:00:00Z")
    try:
        vm.check_usable(datetime(2026, 1, 1, tzinfo=timezone.utc))
    except Exception as e:  # did.errors.InvalidVerificationMethod
        return e
    raise AssertionError("a revoked key must not be usable")


def test_a_proof_failing_on_a_withdrawn_key_is_not_called_a_change() -> None:
    r = {"verified": False, "checks": [{"check": "dataModel", "outcome": "passed"}, _entry("proof", _revoked_key_error()), {"check": "binding", "outcome": "passed"}]}
    v = credential_verdict(t, r)
    assert v.kind == "not-verified" and len(v.reasons) == 1
    said = words(v.reasons[0][0])
    assert said == EN["reason.failed.proof.key_revoked"].format(date="1 January 2001, 00:00 UTC")
    assert "changed after it was signed" not in said
    # A signature that does not match is still told as a change.
    from vc.errors import ProofVerificationError

    r = {"verified": False, "checks": [_entry("proof", ProofVerificationError("the signature does not verify"))]}
    assert [words(w) for w, _ in credential_verdict(t, r).reasons] == [EN["reason.failed.proof"]]


def test_an_unpinned_context_is_unknown_not_altered_and_gives_no_operator_advice() -> None:
    from vc.loader import UnknownContextError

    r = {"verified": False, "checks": [_entry("proof", UnknownContextError("https://example.org/unknown-context/v1")), {"check": "binding", "outcome": "failed", "message": "no proof by the issuer's key"}]}
    outcome = credential_outcome(t, r)
    assert [words(w) for w, _ in outcome.verdict.reasons] == [EN["reason.unknown.proof.context"], EN["reason.failed.binding.unresolved"]]
    detail = outcome.verdict.reasons[0][1]
    assert "https://example.org/unknown-context/v1" in detail and "extra_dir" not in detail and "operator" not in detail
    assert all("extra_dir" not in row.message for row in outcome.cards[0].checks)


def test_a_context_appended_after_signing_is_told_as_an_addition_not_an_unknown_vocabulary() -> None:
    from vc.loader import UnknownContextError

    appended = UnknownContextError("https://example.org/unknown-context/v1")
    appended.extra["appendedAfterSigning"] = True  # as vc.cryptosuites.eddsa_jcs_2022.check_contexts marks it
    r = {"verified": False, "checks": [_entry("proof", appended)]}
    said = [words(w) for w, _ in credential_verdict(t, r).reasons]
    assert said == [EN["reason.failed.proof.appended"]] and "does not show it was altered" not in said[0]


def test_a_validity_failure_names_the_bound_and_its_date() -> None:
    from datetime import datetime, timezone

    from vc.datamodel import check_validity

    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-12-06T18:08:38Z"}
    try:
        check_validity(doc, now=datetime(2026, 12, 6, 19, 0, tzinfo=timezone.utc))
    except Exception as e:  # ValidityPeriodError, field validUntil
        exc = e
    entry = _entry("validity", exc, field=getattr(exc, "field"))
    v = credential_verdict(t, {"verified": False, "document": doc, "checks": [{"check": "proof", "outcome": "passed"}, entry]})
    assert v.title == EN["verdict.expired"]
    assert [words(w) for w, _ in v.reasons] == ["It expired on 6 December 2026, 18:08 UTC: it is valid only until then."]
    entry["field"], doc["validFrom"] = "validFrom", "2027-03-01T09:30:00Z"
    v = credential_verdict(t, {"verified": False, "document": doc, "checks": [{"check": "proof", "outcome": "passed"}, entry]})
    assert v.title == EN["verdict.not-yet-valid"] and words(v.reasons[0][0]) == "It is not valid yet: it is valid only from 1 March 2027, 09:30 UTC."


def test_a_period_met_only_within_the_clock_skew_is_not_called_within_it() -> None:
    from datetime import datetime, timezone

    from vc.datamodel import check_validity, validity_period

    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "validUntil": "2026-12-06T18:16:44Z"}
    message, skew = validity_period(doc, now=datetime(2026, 12, 6, 18, 18, 44, tzinfo=timezone.utc))  # 2 minutes after
    assert skew == 300
    r = {"verified": True, "document": doc, "checks": [{"check": "proof", "outcome": "passed"}, {"check": "validity", "outcome": "passed", "message": message, "clockSkewAllowed": skew}, {"check": "status", "outcome": "passed"}]}
    v = credential_verdict(t, r)
    assert v.kind == "verified" and "within its validity period" not in v.summary
    assert v.summary == EN["verdict.verified.credential.skew"].format(minutes="5")
    # Inside the period itself, the summary is as before.
    message = check_validity(doc, now=datetime(2026, 12, 6, 18, 0, tzinfo=timezone.utc))
    r["checks"][1] = {"check": "validity", "outcome": "passed", "message": message}
    assert credential_verdict(t, r).summary == EN["verdict.verified.credential"]


def test_every_card_shows_its_validity_period_micro_credentials_too() -> None:
    doc = {"id": "urn:x", "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-12-06T18:08:38Z"}
    r = {**result(("proof", "passed")), "document": doc, "microcredential": {"isMicroCredential": True, "complete": True, "elements": []}}
    card = credential_outcome(t, r).cards[0]
    assert card.is_micro and [(label, words(line)) for label, line in card.period] == [
        ("Valid from", "1 January 2026, 00:00 UTC"),
        ("Valid until", "6 December 2026, 18:08 UTC"),
    ]


def test_status_rows_are_labelled_by_purpose() -> None:
    r = result(("proof", "passed"))
    r["checks"] += [
        {"check": "status", "outcome": "failed", "statusPurpose": "revocation", "message": "revoked"},
        {"check": "status", "outcome": "passed", "statusPurpose": "suspension", "message": "not suspended"},
    ]
    rows = credential_outcome(t, r).cards[0].checks
    assert [(row.label, row.outcome) for row in rows if row.name == "status"] == [("Revocation status", "failed"), ("Suspension status", "passed")]


def test_a_presentation_without_the_holders_proof_gets_one_reason_in_plain_words() -> None:
    from vc.errors import InvalidChallengeError, MalformedProofError

    good = {**result(("proof", "passed")), "document": {"id": "urn:a", "name": "A"}, "accreditation": {"status": "accredited"}}
    vp = {
        "verified": False,
        "document": {"holder": "did:example:h"},
        "checks": [
            {"check": "dataModel", "outcome": "passed"},
            _entry("proof", MalformedProofError("the presentation has no proof")),
            _entry("challenge", InvalidChallengeError("options.challenge is required: pass the challenge the holder was asked to sign (for instance one from POST /challenges)")),
        ],
        "credentialResults": [good],
    }
    outcome = presentation_outcome(t, vp)
    assert [words(w) for w, _ in outcome.verdict.reasons] == [EN["reason.failed.proof.none.presentation"]]
    # The technical row speaks of the page's field, not of the API's option or endpoint.
    challenge_row = next(r for r in outcome.checks if r.name == "challenge")
    assert "options.challenge" not in challenge_row.message and "POST /challenges" not in challenge_row.message
    assert "Expected challenge" in challenge_row.message


@pytest.mark.parametrize(
    "message, key",
    [
        ("options.challenge is required: pass the challenge the holder was asked to sign (for instance one from POST /challenges)", "reason.failed.challenge.none"),
        ("the proof's challenge 'vcnode-x' was handed out by this node and has expired or was already used (no options.challenge was sent, so the proof's own challenge was checked)", "reason.failed.challenge.used"),
        ("options.challenge was not issued by this node, has expired, or was already used", "reason.failed.challenge.typed_unusable"),
        ("proof 0 has challenge 'x'; the verifier expects 'abc123'", "reason.failed.challenge.other"),
        ("proof 0 has no challenge; the verifier expects 'abc123'", "reason.failed.challenge.unsigned"),
    ],
)
def test_each_challenge_failure_has_its_own_sentence_in_the_pages_terms(message: str, key: str) -> None:
    from vc.errors import InvalidChallengeError

    vp = {"verified": False, "document": {}, "checks": [{"check": "proof", "outcome": "passed"}, _entry("challenge", InvalidChallengeError(message))]}
    (said, detail), = presentation_outcome(t, vp).verdict.reasons
    assert words(said) == EN[key]
    assert "options.challenge" not in words(said) + detail and "POST /challenges" not in detail


def test_a_presentations_binding_speaks_of_the_holder_and_follows_a_failed_proof() -> None:
    vp = {"verified": False, "document": {}, "checks": [{"check": "proof", "outcome": "passed"}, {"check": "binding", "outcome": "failed", "message": "m"}]}
    assert [words(w) for w, _ in presentation_outcome(t, vp).verdict.reasons] == [EN["reason.failed.binding.holder"]]
    vp["checks"][0] = {"check": "proof", "outcome": "failed", "message": "the signature does not verify", "error": {"code": "PROOF_VERIFICATION_ERROR"}}
    assert [words(w) for w, _ in presentation_outcome(t, vp).verdict.reasons] == [EN["reason.failed.proof"]]

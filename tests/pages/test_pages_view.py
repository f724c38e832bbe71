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
    assert [(words(w), d) for w, d in outcome.verdict.reasons] == [("Credential 2 (B): Not verified.", "")]
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

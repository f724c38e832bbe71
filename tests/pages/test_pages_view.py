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
    HostedAchievement,
    checked_verdict,
    credential_verdict,
    presentation_outcome,
    safe_href,
    url_key,
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
    good = {**result(("proof", "passed")), "document": {"id": "urn:a", "name": "A"}}
    bad = {**result(("proof", "failed")), "document": {"id": "urn:b", "name": "B"}}
    vp = {**result(("proof", "passed"), ("challenge", "passed")), "credentialResults": [good, bad], "document": {"holder": "did:example:h"}}
    vp["verified"] = True  # even if a caller's result said so
    outcome = presentation_outcome(t, vp)
    assert outcome.verdict.kind == "not-verified" and [c.verdict.kind for c in outcome.cards] == ["verified", "not-verified"]
    assert [(words(w), d) for w, d in outcome.verdict.reasons] == [("Credential 2 (B): Not verified.", "")]
    vp["credentialResults"] = [good]
    assert presentation_outcome(t, vp).verdict.kind == "verified" and presentation_outcome(t, vp).holder == "did:example:h"


def test_only_the_issuer_defining_an_achievement_of_this_node_awards_it() -> None:
    url = "https://node.example/issuers/uni/achievements/ds-101"
    hosted = {url: HostedAchievement(url, "DS 101", "uni", "University of Example", frozenset({"did:web:node.example:issuers:uni", "did:key:zUni"}))}
    for issuer, kind in (("did:web:node.example:issuers:uni", "verified"), ({"id": "did:key:zUni"}, "verified"), ("did:key:zStranger", "not-verified"), ({"id": ["did:key:zUni"]}, "not-verified")):
        doc = {"issuer": issuer, "credentialSubject": [{"achievement": {"id": "urn:other"}}, {"achievement": {"id": url}}]}
        assert checked_verdict(t, {**result(("proof", "passed")), "document": doc}, hosted).kind == kind, issuer
    # A revoked credential from a stranger is first of all not this node's issuer's.
    v = checked_verdict(t, {**result(("proof", "passed"), ("status", "failed"), status={"statusPurpose": "revocation"}), "document": doc}, hosted)
    assert v.kind == "not-verified" and words(v.reasons[0][0]).startswith("It names the achievement DS 101 that University of Example")
    assert words(v.reasons[1][0]) == EN["reason.revoked"]


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("https://n.example/issuers/uni/achievements/x", "HTTPS://N.EXAMPLE:443/issuers/uni/achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/uni/achievements/%78?q#f", True),
        ("http://n.example/issuers/uni/achievements/x", "http://n.example:80/issuers/uni/achievements/x/", True),
        ("https://n.example/issuers/uni/achievements/x", "http://n.example/issuers/uni/achievements/x", False),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example:8443/issuers/uni/achievements/x", False),
        # Spellings a review found slipping past: dot segments, empty segments, the DNS root's dot.
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/uni/achievements/./x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/other/../uni/achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example//issuers/uni//achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example./issuers/uni/achievements/x", True),
        ("https://n.example/issuers/uni/achievements/x", "https://n.example/issuers/uni/achievements/y/../../x", False),
    ],
)
def test_achievement_urls_are_compared_as_addresses(a: str, b: str, same: bool) -> None:
    assert (url_key(a) == url_key(b)) is same
    assert url_key("https://n.example:99999/x") is None and url_key(42) is None


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
        "verdict.": ["verified", "not-verified", "revoked", "suspended", "status-unknown", "no-credentials"],
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

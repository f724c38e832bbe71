"""The pages over HTTP, against a real node on 127.0.0.1 (no browser: tests/pages/test_browser.py).

What a person would see is read from the HTML the node sends: verdicts, elements, the chain, a
stack's parts; the hostile credential's fields arrive as text; bad input gets a page that says
why; ``?url=`` follows the did:web fetch rules; achievement URLs negotiate HTML or JSON.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from did.key import did_key_from_public_key
from node.pages.render import CSP
from node.pages.texts import EN
from pagereader import Page, read
from running import start
from scene import DS101, IMG_LEARNER, JS_URL, RLO_NAME, SCRIPT_TITLE, Scene, copied, free_port, signed_by_a_new_key
from vc.credentials import issue_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.loader import default_loader

pytestmark = pytest.mark.asyncio(loop_scope="module")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def get(scene: Scene, path: str, headers: dict[str, str] | None = None) -> tuple[int, Page, Any]:
    async with scene.http.get(scene.url + path, headers=headers or BROWSER) as resp:
        return resp.status, read(await resp.text()), resp


async def post(scene: Scene, document: Any = None, *, raw: str | None = None, file: bytes | None = None, **fields: str) -> tuple[int, Page, Any]:
    form = aiohttp.FormData()
    form.add_field("document", raw if raw is not None else (json.dumps(document) if document is not None else ""))
    for k, v in fields.items():
        form.add_field(k, v)
    if file is not None:
        form.add_field("file", file, filename="credential.json", content_type="application/json")
    async with scene.http.post(scene.url + "/verify", data=form) as resp:
        return resp.status, read(await resp.text()), resp


async def api_verified(scene: Scene, vc: Any) -> bool:
    async with scene.http.post(scene.url + "/credentials/verify", json={"verifiableCredential": vc}) as resp:
        return bool((await resp.json(content_type=None))["verified"])


def verdict(page: Page) -> str:
    return page.find("div", data_verdict="*")[0].attrs["data-verdict"]


def check_outcome_of(page: Page, check: str) -> str:
    """The outcome of a presentation's own ``check`` (its table comes before the cards)."""
    row = next(e for e in page.elements if e.tag == "tr" and e.attrs.get("data-check") == check)
    return row.attrs["class"].removeprefix("outcome--")


def check_outcome(page: Page, card: int, check: str) -> str:
    article = page.one("article", data_card=str(card))
    start = page.elements.index(article)
    row = next(e for e in page.elements[start:] if e.tag == "tr" and e.attrs.get("data-check") == check)
    return row.attrs["class"].removeprefix("outcome--")


# --- issuer pages --------------------------------------------------------------------------------


async def test_home_lists_the_issuers_with_their_dids_and_achievements(scene: Scene) -> None:
    status, page, resp = await get(scene, "/")
    assert status == 200 and resp.content_type == "text/html"
    names = [e.attrs["data-issuer"] for e in page.find("section", data_issuer="*")]
    assert sorted(names) == ["agency", "default", "ministry", "uni"]
    for name, did in scene.dids.items():
        assert did in page.text, name
    links = {e.attrs["href"]: e.text for e in page.find("a") if "/achievements/" in e.attrs.get("href", "")}
    assert links["/issuers/uni/achievements/ds-101"] == "Data Science Fundamentals"


async def test_achievement_url_answers_html_to_browsers_and_json_to_programs(scene: Scene) -> None:
    path = "/issuers/uni/achievements/ds-101"
    status, page, resp = await get(scene, path)
    assert status == 200 and resp.content_type == "text/html" and resp.headers["Vary"] == "Accept"
    assert resp.headers["Content-Security-Policy"] == CSP
    assert page.one("h1").text == "Data Science Fundamentals"
    for shown in ("5 ECTS credits", "EQF level 6", "written examination", "Blended (online and on site)",
                  "Institutional accreditation by NVAO", "Secondary school mathematics", "Netherlands (NL)",
                  "Supervised with identity verification on site", scene.dids["uni"]):
        assert shown in page.text, shown
    hrefs = {e.attrs["href"] for e in page.find("a")}
    assert {DS101["qualityAssurance"]["url"], DS101["learningOutcomes"][0]["url"], "http://data.europa.eu/snb/eqf/6"} <= hrefs
    for accept in ("application/json", "*/*", None, "text/html, application/json"):
        headers = {"Accept": accept} if accept else {}
        async with scene.http.get(scene.url + path, headers=headers) as resp:
            assert resp.status == 200 and resp.content_type == "application/json", accept
            assert (await resp.json())["name"] == "Data Science Fundamentals" and resp.headers["Vary"] == "Accept"


async def test_unknown_achievement_is_a_page_for_browsers_and_a_problem_for_programs(scene: Scene) -> None:
    status, page, resp = await get(scene, "/issuers/uni/achievements/nope")
    assert status == 404 and resp.content_type == "text/html" and "has no achievement nope" in page.text
    status, page, _ = await get(scene, "/issuers/nobody/achievements/ds-101")
    assert status == 404 and "no issuer named nobody" in page.text
    async with scene.http.get(scene.url + "/issuers/uni/achievements/nope") as resp:
        assert resp.status == 404 and resp.content_type == "application/problem+json"


async def test_pages_load_only_their_own_assets_under_a_strict_policy(scene: Scene) -> None:
    status, page, resp = await get(scene, "/verify")
    assert status == 200
    policy = dict(d.strip().split(" ", 1) for d in resp.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert not page.inline_script and not page.find("style")
    assert not [e for e in page.elements if "style" in e.attrs or any(a.startswith("on") for a in e.attrs)]
    assets = [e.attrs.get("src") or e.attrs.get("href") for e in page.find("script") + page.find("link")]
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        async with scene.http.get(scene.url + asset) as r:
            assert r.status == 200 and r.content_type in ("text/css", "text/javascript")
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    async with scene.http.get(scene.url + "/static/../node/app.py") as r:
        assert r.status == 404
    async with scene.http.get(scene.url + "/static/texts.py") as r:
        assert r.status == 404


# --- verdicts ------------------------------------------------------------------------------------


async def test_a_valid_micro_credential_is_verified_with_every_element(scene: Scene) -> None:
    status, page, resp = await post(scene, scene.valid)
    assert status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert verdict(page) == "verified" and page.one("h2", id="result-title").text == "✓ Verified"
    assert [e.attrs["data-element"] for e in page.find("div", data_element="*")][:11] == list("abcdefghijk")
    values = {e.attrs["data-element"]: e.text for e in page.find("div", data_element="*")}
    expected = {
        "a": "Ana Andromeda", "b": "Data Science Fundamentals", "c": "Netherlands (NL)", "d": "University of Example",
        "e": "UTC", "f": "Apply linear regression to real data", "g": "5 ECTS credits", "h": "EQF level 6",
        "i": "written examination", "j": "Blended", "k": "Institutional accreditation by NVAO",
        "grade": "A in written examination", "prerequisites": "Secondary school mathematics",
    }
    for key, value in expected.items():
        assert value in values[key], (key, values[key])
    assert page.one("p", data_missing="0").text == "All eleven mandatory elements are present."
    assert scene.holder in values["a"] and "e-mail address (hashed)" in values["a"]
    signer = page.one("code", data_signer="")
    assert signer.text.startswith(scene.dids["uni"] + "#")
    assert all(check_outcome(page, 1, c) == "passed" for c in ("proof", "binding", "validity", "status"))


async def test_awarded_by_says_what_backs_the_issuers_name(scene: Scene) -> None:
    # A did:web's domain is what the proof and binding checks tie the key to; a name is only
    # what the issuer wrote, and anyone can write "University of Example" under a did:key.
    _, page, _ = await post(scene, scene.valid)
    host = scene.url.removeprefix("http://")
    assert page.one("p", **{"class": "awarded"}).text == f"Awarded by University of Example ({host}), Netherlands (NL)"
    stranger = copied(scene.valid, achievement_id="https://courses.example.org/ds-101")
    _, page, _ = await post(scene, stranger)
    assert verdict(page) == "unrecognised"  # its own did:key: nobody vouches for it
    assert page.one("p", **{"class": "awarded"}).text == "Awarded by University of Example (name stated by the issuer, not checked), Netherlands (NL)"


async def test_a_stranger_awarding_this_nodes_achievement_is_not_verified(scene: Scene) -> None:
    # Signed by its own did:key, so the library calls it verified; but the achievement it
    # awards is uni's on this node, and uni did not issue it. The API says so too (one rule,
    # node.trust.check_achievement_issuers).
    ours = scene.valid["credentialSubject"]["achievement"]["id"]
    spellings = (ours, ours.replace("/ds-101", "/ds%2D101") + "?from=mail", ours.replace("http://", "HTTP://"))
    for achievement_id in spellings:
        forged = copied(scene.valid, achievement_id=achievement_id)
        assert not await api_verified(scene, forged), achievement_id
        _, page, _ = await post(scene, forged)
        assert verdict(page) == "not-verified", achievement_id
        why = page.one("ul", **{"aria-label": "Why"}).text
        assert why.startswith(
            "It names the achievement Data Science Fundamentals that University of Example defines on this node, "
            "but University of Example did not issue it"
        ), why
        assert scene.dids["uni"] in why and forged["issuer"]["id"] in why
    # In a presentation, its card and so the presentation are not verified.
    vp = await scene.presentation([scene.parts[1], copied(scene.valid)])
    _, page, _ = await post(scene, vp)
    assert verdict(page) == "not-verified"
    assert [e.attrs["data-verdict"] for e in page.find("article")] == ["verified", "not-verified"]
    # An address on this node that no issuer defines, or another node's, decides nothing.
    for elsewhere in (ours.replace("/ds-101", "/no-such-course"), ours.replace("/uni/", "/nobody/"), "https://courses.example.org/ds-101"):
        _, page, _ = await post(scene, copied(scene.valid, achievement_id=elsewhere))
        assert verdict(page) == "unrecognised", elsewhere  # sound, by an issuer nobody vouches for


async def test_a_self_made_issuer_is_not_shown_as_verified(scene: Scene) -> None:
    # A fresh did:key calling itself a university: the signature is sound, but nobody vouches
    # for the issuer, and an employer reads a green "Verified" as "a real university issued this".
    vc = copied(scene.valid, issuer_name="Totally Real University", achievement_id="https://courses.example.org/ds-101")
    _, page, _ = await post(scene, vc)
    assert verdict(page) == "unrecognised"
    assert page.one("h2", id="result-title").text == "! Signature valid — issuer not recognised"
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert summary.startswith("The credential is unchanged since its issuer signed it, but nobody this node trusts vouches for that issuer")
    assert "Totally Real University is only what the issuer calls itself" in summary
    assert check_outcome(page, 1, "proof") == "passed"  # the cryptographic verdict stays as it is
    # This node's own issuer vouches for itself, accredited or not.
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": scene.dids["default"], "credentialSubject": {"id": "did:example:someone", "name": "Someone"},
    }
    out = await scene.post("/credentials/issue", {"credential": unsigned})
    _, page, _ = await post(scene, out["verifiableCredential"])
    assert verdict(page) == "verified" and page.one("section", data_accreditation="*").attrs["data-accreditation"] != "accredited"


async def test_a_presentation_says_when_nothing_ties_the_holder_to_the_learner(scene: Scene) -> None:
    # A learner named without an id (as issue-batch makes them): the holder's key signed, but
    # nothing compares that key with the learner.
    nameless = await scene.award("ds-102", {"name": "Dee Draco", "email": "dee@example.org"})
    _, page, _ = await post(scene, await scene.presentation([nameless]))
    assert verdict(page) == "verified"
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert "the holder signed" not in summary
    assert summary.startswith(f"Every check passed: the key {scene.holder}#{scene.holder_key.public_multibase} signed this presentation and its credential verifies.")
    assert "Nothing ties that key to the learner of credential 1" in summary and "credential(s)" not in summary
    _, page, _ = await post(scene, await scene.presentation([scene.valid, nameless]))
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert "each of its 2 credentials verifies" in summary and "learner of credential 2:" in summary


async def test_a_tampered_credential_is_not_verified_and_the_proof_is_named(scene: Scene) -> None:
    status, page, _ = await post(scene, scene.tampered)
    assert status == 200 and verdict(page) == "not-verified"
    reasons = page.one("ul", **{"aria-label": "Why"}).text
    assert "The signature (proof) does not verify" in reasons
    assert check_outcome(page, 1, "proof") == "failed"
    assert "50 ECTS credits" in page.text  # what the tampered credential claims is still shown


async def test_revoked_and_suspended_credentials_say_so(scene: Scene) -> None:
    _, page, _ = await post(scene, scene.revoked)
    assert verdict(page) == "revoked" and "The issuer has revoked this credential." in page.text
    assert check_outcome(page, 1, "status") == "failed"
    _, page, _ = await post(scene, scene.suspended)
    assert verdict(page) == "suspended" and EN["reason.suspended"] in page.text


async def test_a_status_that_cannot_be_checked_is_never_verified(scene: Scene) -> None:
    # Signed with a did:key, valid, but its status list sits on an address the node refuses.
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:someone", "name": "Someone"},
        "credentialStatus": {
            "id": "https://10.0.0.1/status/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "5", "statusListCredential": "https://10.0.0.1/status/1",
        },
    }
    vc = issue_credential(unsigned, key=key, verification_method=f"{did}#{key.public_multibase}", suite=SUITES["eddsa-jcs-2022"], loader=default_loader(), now=datetime.now(timezone.utc))
    _, page, _ = await post(scene, vc)
    assert verdict(page) == "status-unknown" and page.one("h2", id="result-title").text == "! Could not check status"
    assert check_outcome(page, 1, "proof") == "passed" and check_outcome(page, 1, "status") == "unknown"
    assert "Verified" not in page.one("title").text


async def test_the_accreditation_chain_is_shown_from_the_trusted_body_down(scene: Scene) -> None:
    _, page, _ = await post(scene, scene.valid)
    section = page.one("section", data_accreditation="accredited")
    assert f"Accredited by {scene.dids['ministry']}, a body this node trusts." in section.text
    links = [e.text for e in page.find("li") if e.attrs.get("class") == "link link--passed"]
    assert len(links) == 2
    assert links[0].startswith(f"{scene.dids['ministry']} accredits {scene.dids['agency']} (to accredit others)")
    assert links[1].startswith(f"{scene.dids['agency']} accredits {scene.dids['uni']} (to issue credentials)")
    assert "EQF levels 5, 6" in links[1] and "jurisdictions NLD" in links[1] and "Expires 30 June 2035" in links[1]
    assert "Not revoked" in links[1]


async def test_a_presentation_shows_each_credential_and_a_stack_with_a_missing_part(scene: Scene) -> None:
    vp = await scene.presentation([scene.stack, scene.parts[0], scene.parts[2]])
    status, page, _ = await post(scene, vp)
    assert status == 200 and page.one("section", id="result").attrs["data-kind"] == "presentation"
    assert verdict(page) == "not-verified"
    # The stacked credential is authentic but counts for nothing without its parts.
    assert [e.attrs["data-verdict"] for e in page.find("article")] == ["not-verified", "verified", "verified"]
    missing = page.one("tr", data_part=scene.parts[1]["id"])
    assert "Missing: not in this presentation" in missing.text
    assert "The stacked credential does not hold together" in page.find("ul", **{"aria-label": "Why"})[0].text
    assert scene.parts[1]["id"] in page.find("div", data_verdict="not-verified")[0].text

    vp = await scene.presentation([scene.stack, *scene.parts])
    _, page, _ = await post(scene, vp)
    assert verdict(page) == "verified"
    assert page.one("section", data_stack="holds")
    levels = {e.text for e in page.find("tr")}
    assert {"EQF level 5 2.5", "EQF level 6 7.5", "Total 10"} <= levels
    assert page.one("tr", data_part=scene.parts[1]["id"]).attrs["class"] == "part part--verified"


async def test_a_verified_credential_says_whether_its_status_was_checked(scene: Scene) -> None:
    _, page, _ = await post(scene, scene.valid)
    assert verdict(page) == "verified" and check_outcome(page, 1, "status") == "passed"
    assert page.find("p", **{"class": "verdict-summary"})[0].text == EN["verdict.verified.credential"]
    # No credentialStatus: no status check ran, so "not revoked" would be a claim nobody checked.
    _, page, _ = await post(scene, copied(scene.valid, achievement_id="https://courses.example.org/ds-101"))
    assert verdict(page) == "unrecognised"
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert "not been revoked" not in summary and "carries no revocation status" in summary


async def test_a_presentation_says_who_signed_it(scene: Scene) -> None:
    _, page, _ = await post(scene, await scene.presentation([scene.valid]))
    assert verdict(page) == "verified"
    assert page.find("p", **{"class": "verdict-summary"})[0].text == "Every check passed: the holder signed this presentation, and its credential verifies."
    # Naming no holder, the binding check is skipped: a key signed it, for nobody named.
    _, page, _ = await post(scene, await scene.presentation([scene.valid], named=False))
    assert verdict(page) == "verified" and check_outcome_of(page, "binding") == "skipped"
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert "the holder signed" not in summary
    assert summary.startswith(f"Every check passed: the key {scene.holder}#{scene.holder_key.public_multibase} signed this presentation, which names no holder")


async def test_a_presentation_with_no_credential_is_not_verified_as_one(scene: Scene) -> None:
    status, page, _ = await post(scene, await scene.presentation([]))
    assert status == 200 and verdict(page) == "no-credentials"
    assert page.one("h2", id="result-title").text == "! No credential to check"
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert "holds no credential, so there is nothing to verify" in summary and scene.holder in summary
    assert "Verified" not in page.one("title").text


async def test_a_replayed_presentation_is_not_verified(scene: Scene) -> None:
    vp = await scene.presentation([scene.valid])
    _, page, _ = await post(scene, vp)
    assert verdict(page) == "verified"
    _, page, _ = await post(scene, vp)  # its challenge was used up by the first check
    assert verdict(page) == "not-verified" and "challenge" in page.one("ul", **{"aria-label": "Why"}).text
    rows = [e for e in page.elements if e.tag == "tr" and e.attrs.get("data-check") == "challenge"]
    assert [r.attrs["class"] for r in rows] == ["outcome--failed"]  # not also "Passed"


async def test_dates_past_the_calendar_in_utc_are_shown_as_written(scene: Scene) -> None:
    # 9999-12-31T23:00-05:00 is in year 10000 in UTC, 0001-01-01T00:30+01:00 in year 0: neither
    # is a Python datetime in UTC, and formatting them for people was a 500.
    for key, value in (("validUntil", "9999-12-31T23:00:00-05:00"), ("validFrom", "0001-01-01T00:30:00+01:00")):
        unsigned = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:placeholder",
            key: value,
            "credentialSubject": {"id": "did:example:someone", "name": "Someone"},
        }
        vc = signed_by_a_new_key(unsigned)
        status, page, _ = await post(scene, vc)
        assert status == 200, (key, page.text[:500])
        assert verdict(page) == ("unrecognised" if await api_verified(scene, vc) else "not-verified"), key
        assert value in page.one("article", data_card="1").text, key


async def test_a_credential_whose_id_is_not_a_string_is_refused_in_a_presentation(scene: Scene) -> None:
    # A list or object as a credential's id reached a dict lookup of the presentation's stacks.
    for bad_id in (["urn:a", "urn:b"], {"id": "urn:a"}):
        unsigned = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "id": "urn:uuid:3c6f1a52-0b4e-4c55-9d0e-8f1f5e0a7b21",
            "issuer": "did:example:placeholder",
            "credentialSubject": {"id": scene.holder, "name": "Someone"},
        }
        vp = await scene.presentation([signed_by_a_new_key(unsigned)])
        vp["verifiableCredential"][0]["id"] = bad_id  # after signing: the library signs only a string id
        status, page, _ = await post(scene, vp)
        assert status == 200, (bad_id, page.text[:500])
        assert verdict(page) == "not-verified"
        assert page.one("article", data_card="1").attrs["data-verdict"] == "not-verified"
        assert EN["reason.failed.dataModel"] in page.one("article", data_card="1").text
        assert check_outcome(page, 1, "dataModel") == "failed"


# --- hostile input -------------------------------------------------------------------------------


async def test_direction_controls_in_a_credential_are_shown_and_isolated(scene: Scene) -> None:
    vc = copied(scene.valid, issuer_name=RLO_NAME, achievement_id="https://courses.example.org/ds-101")
    status, page, resp = await post(scene, raw=json.dumps(vc, ensure_ascii=False))
    assert status == 200 and verdict(page) == "unrecognised"
    html = await resp.text()
    # The override is written out wherever the name is shown, and obeyed nowhere but in the
    # text box, which holds the credential exactly as pasted.
    before, box = html.split("<textarea", 1)
    assert "\u202e" not in before and "\u202e" not in box.split("</textarea>", 1)[1]
    assert RLO_NAME in page.one("textarea").text
    awarded = page.one("p", **{"class": "awarded"})
    assert awarded.text == "Awarded by [U+202E]elpmaxE fo ytisrevinU (name stated by the issuer, not checked), Netherlands (NL)"
    isolated = [e.text for e in page.elements[page.elements.index(awarded):] if e.tag == "bdi"]
    assert isolated[0] == "[U+202E]elpmaxE fo ytisrevinU"
    assert "[U+202E]elpmaxE fo ytisrevinU" in page.one("div", data_element="d").text
    note = page.one("p", data_direction_controls="")
    assert note.text == EN["card.direction_controls"]
    _, page, _ = await post(scene, scene.valid)
    assert not page.find("p", data_direction_controls="")



async def test_markup_and_script_in_a_credential_are_shown_as_text(scene: Scene) -> None:
    status, page, resp = await post(scene, scene.hostile)
    assert status == 200 and verdict(page) == "verified"  # a genuine credential, with nasty fields
    html = await resp.text()
    assert len(page.find("script")) == 1 and not page.inline_script
    for tag in ("iframe", "img", "svg", "style", "b", "i"):
        assert not page.find(tag), tag
    assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)]
    hrefs = [e.attrs["href"] for e in page.find("a")]
    assert all(h.startswith(("/", "http://", "https://", "#")) for h in hrefs), hrefs
    assert "javascript:" not in " ".join(hrefs)
    assert SCRIPT_TITLE in page.text and IMG_LEARNER in page.text and JS_URL in page.text
    assert "&lt;script&gt;" in html
    # A javascript: URL in the pasted text area is inert text too.
    assert page.one("textarea").text.count("javascript:") >= 2


async def test_bad_input_gets_a_clear_message_and_keeps_what_was_typed(scene: Scene) -> None:
    status, page, _ = await post(scene, raw="")
    assert status == 400 and "Nothing to verify" in page.one("section", id="result").text
    status, page, _ = await post(scene, raw='{"type": ["VerifiableCredential"],')
    assert status == 400 and "This is not valid JSON" in page.text and "line 1, column" in page.text
    assert page.one("textarea").text == '{"type": ["VerifiableCredential"],'
    status, page, _ = await post(scene, raw="[1, 2]")
    assert status == 400 and "This JSON is a list, not a credential or presentation" in page.text
    status, page, _ = await post(scene, raw='{"type": ["VerifiableCredential"], "name": "Ada", "name": "Eve"}')
    assert status == 400 and "Do not rely on this document: it gives the member 'name' two values" in page.text
    status, page, _ = await post(scene, raw="[" * 5000 + "]" * 5000)
    assert status == 400 and "nests too deeply" in page.text
    status, page, _ = await post(scene, file=b"\xff\xfe\x00binary")
    assert status == 400 and "not text (UTF-8)" in page.text
    status, page, _ = await post(scene, {"type": "not a credential"})
    assert status == 200 and verdict(page) == "not-verified"
    # A file wins over the text box, and is shown in it afterwards.
    status, page, _ = await post(scene, raw="ignored", file=json.dumps(scene.valid).encode())
    assert status == 200 and verdict(page) == "verified" and scene.valid["id"] in page.one("textarea").text


async def test_a_body_over_the_node_limit_is_refused_with_a_page(scene: Scene) -> None:
    limit = scene.core.config.max_body_bytes
    huge = json.dumps({"padding": "x" * (limit + 10)})
    for kind in ("text", "file"):
        status, page, resp = await (post(scene, raw=huge) if kind == "text" else post(scene, file=huge.encode()))
        assert status == 413 and resp.content_type == "text/html", kind
        assert "too large: this node accepts at most 1 MiB" in page.one("section", id="result").text
    async with scene.http.post(scene.url + "/verify", data=b"document=" + b"x" * (limit + 1), headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
        assert resp.status == 413 and "too large" in await resp.text()


# --- ?url= ---------------------------------------------------------------------------------------


async def test_url_fetches_a_published_credential_under_the_did_web_rules(scene: Scene) -> None:
    # The node's own status list is a credential published on the web (its host:port is allowed).
    published = f"{scene.url}/status/uni/revocation/1"
    status, page, _ = await get(scene, "/verify?url=" + published)
    assert status == 200 and verdict(page) == "verified"
    assert published in page.one("p", **{"class": "source"}).text
    assert page.one("code", data_issuer="").text == scene.dids["uni"]


async def test_url_refuses_addresses_the_node_may_not_fetch(scene: Scene) -> None:
    hits: list[str] = []

    async def spy(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response(scene.valid)

    app = web.Application()
    app.router.add_get("/{tail:.*}", spy)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        for url in (f"http://127.0.0.1:{port}/cred.json", f"https://127.0.0.1:{port}/cred.json", "https://169.254.169.254/latest/meta-data", "https://[::1]/x"):
            status, page, _ = await get(scene, "/verify?url=" + url)
            assert status == 400 and "The node will not fetch" in page.text, (url, page.text)
        for url in ("javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/x", "/verify", "https://" + "a" * 2100 + ".org/"):
            status, page, _ = await get(scene, "/verify?url=" + url)
            assert status == 400 and "must be an http or https URL" in page.text, url
        assert hits == []
    finally:
        await runner.cleanup()
    # A page that is not JSON: the fetch succeeds, the content is refused with the reason, as
    # the same text pasted would be (a fault of the content, not of the fetch).
    status, page, _ = await get(scene, f"/verify?url={scene.url}/verify")
    assert status == 400 and "This is not valid JSON" in page.text and "could not fetch" not in page.text


async def test_a_link_pasted_into_the_box_is_checked_like_url(scene: Scene) -> None:
    published = f"{scene.url}/status/uni/revocation/1"
    status, page, _ = await post(scene, raw=f"  {published}\n")
    assert status == 200 and verdict(page) == "verified"
    assert published in page.one("p", **{"class": "source"}).text
    assert page.one("textarea").text.strip() == published  # what was typed is kept
    # The fetch guards still apply to a pasted link.
    status, page, _ = await post(scene, raw="https://169.254.169.254/latest/meta-data")
    assert status == 400 and "The node will not fetch" in page.text
    # A link among other text is not a link: it is checked as JSON.
    status, page, _ = await post(scene, raw=f"see {published}")
    assert status == 400 and "This is not valid JSON" in page.text
    # The form says a link may be pasted, in plain words.
    _, page, _ = await get(scene, "/verify")
    assert "a link to one published on the web" in page.one("p", **{"class": "intro"}).text


async def test_a_member_named_twice_is_one_warning_on_every_path(scene: Scene, tmp_path: Any) -> None:
    dup = json.dumps(scene.valid, indent=2)
    dup = dup.replace('"credentialSubject": {', '"credentialSubject": {\n    "achievement": "Nothing",', 1)
    assert json.loads(dup) and dup.count('"achievement": "Nothing"') == 1
    sentence = "Do not rely on this document: it gives the member 'achievement' two values in one object"
    advice = "A credential from a genuine issuer never does this; ask the holder for the original file."
    for kind in ("paste", "upload"):
        status, page, _ = await (post(scene, raw=dup) if kind == "paste" else post(scene, file=dup.encode()))
        result = page.one("section", id="result").text
        assert status == 400 and sentence + " (in credentialSubject)" in result and advice in result, (kind, result)
        assert page.one("h2", id="problem-title").text == "Do not rely on this document"
    status, page, _ = await post(scene, raw='{"a": [{"b": {"c": 1, "c": 2}}]}')
    assert status == 400 and "(in a[0] › b)" in page.text
    status, page, _ = await post(scene, raw='{"name": 1, "name": 2}')
    assert status == 400 and "(at the top level)" in page.text
    # Through ?url=: the fetch succeeded and the content is refused in the same words, as a 400.
    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=dup, content_type="application/json")

    app = web.Application()
    app.router.add_get("/dup.json", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    files = free_port()
    await web.TCPSite(runner, "127.0.0.1", files).start()
    node = await start(tmp_path, free_port(), allow_insecure_hosts=(f"127.0.0.1:{files}",))
    try:
        async with scene.http.get(f"{node.url}/verify?url=http://127.0.0.1:{files}/dup.json", headers=BROWSER) as resp:
            status, page = resp.status, read(await resp.text())
        result = page.one("section", id="result").text
        assert status == 400 and sentence in result and advice in result, (status, result)
        assert "could not fetch" not in result
    finally:
        await node.runner.cleanup()
        await runner.cleanup()


# --- what a failed check is told as, on the page (QA page sweep) ---------------------------------


def _signed_copy(scene: Scene, **fields: Any) -> dict[str, Any]:
    """scene.valid's content with ``fields`` set, signed by a stranger's did:key (for another
    achievement id, so the achievement rule is not what refuses it)."""
    doc = json.loads(json.dumps(scene.valid))
    for k in ("proof", "credentialStatus"):
        doc.pop(k, None)
    doc["credentialSubject"]["achievement"]["id"] = "https://courses.example.org/ds-101"
    doc.update(fields)
    return signed_by_a_new_key(doc)


async def test_an_unpinned_context_appended_after_signing_is_told_as_an_addition_on_the_page(scene: Scene) -> None:
    """Not "changed after it was signed" (the signature matches), not "a vocabulary this node
    does not know" (no sign of a change): the context came after the signed ones. The case of a
    credential signed with an unknown vocabulary is tests/pages/test_pages_view.py's."""
    vc = signed_by_a_new_key({k: v for k, v in scene.valid.items() if k not in ("proof", "credentialStatus")})
    vc["@context"] = [*vc["@context"], "https://example.org/unknown-context/v1"]
    _, page, _ = await post(scene, vc)
    assert verdict(page) == "not-verified"
    reasons = page.find("ul", **{"aria-label": "Why"})[0].text
    assert EN["reason.failed.proof.appended"] in reasons and "changed after it was signed" not in reasons
    assert "extra_dir" not in page.text


async def test_an_expired_micro_credential_says_so_with_its_date_on_the_card(scene: Scene) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    until = now - timedelta(minutes=10)
    since = (now - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    _, page, _ = await post(scene, _signed_copy(scene, validFrom=since, validUntil=until.isoformat().replace("+00:00", "Z")))
    assert verdict(page) == "not-verified" and page.one("h2", id="result-title").text == "✗ Expired"
    said = f"{until.day} {until.strftime('%B')} {until.year}, {until.strftime('%H:%M')} UTC"
    assert f"It expired on {said}" in page.one("ul", **{"aria-label": "Why"}).text
    assert f"Valid until{said}" in page.one("dl", data_period="").text  # a micro-credential's card too
    # Two minutes out: accepted within the clock allowance, and not said to be within its period.
    _, page, _ = await post(scene, _signed_copy(scene, validFrom=since, validUntil=(now - timedelta(minutes=2)).isoformat().replace("+00:00", "Z")))
    summary = page.find("p", **{"class": "verdict-summary"})[0].text
    assert verdict(page) == "unrecognised" and "within its validity period" not in summary and "clocks may differ by up to 5 minutes" in summary


async def test_status_rows_say_which_status_they_checked(scene: Scene) -> None:
    _, page, _ = await post(scene, scene.revoked)
    rows = [(e.text, e.attrs["class"]) for e in page.elements if e.tag == "tr" and e.attrs.get("data-check") == "status"]
    assert [(text.startswith("Revocation status"), text.startswith("Suspension status"), cls) for text, cls in rows] == [
        (True, False, "outcome--failed"),
        (False, True, "outcome--passed"),
    ]
    assert "Revocation and suspension status" not in page.text


async def test_a_tampered_card_says_its_contents_cannot_be_relied_on(scene: Scene) -> None:
    _, page, _ = await post(scene, scene.tampered)
    assert page.one("p", data_caution="").text == EN["card.unreliable"]
    assert "completeness" not in page.one("p", data_missing="*").attrs["class"].split()  # not the green line
    # Only the failure keeps its colour; the Passed rows are muted, not green.
    assert [e.text for e in page.find("span", **{"class": "outcome"})] == ["Failed"]
    assert {e.text for e in page.find("span", **{"class": "outcome-unrelied hint"})} == {"Passed"}
    _, page, _ = await post(scene, scene.valid)
    assert not page.find("p", data_caution="") and page.one("p", data_missing="*").attrs["class"] == "completeness"


async def test_a_presentation_without_the_holders_proof_is_one_plain_reason(scene: Scene) -> None:
    vp = await scene.presentation([scene.valid])
    vp.pop("proof")
    _, page, _ = await post(scene, vp)
    assert verdict(page) == "not-verified"
    reasons = page.find("ul", **{"aria-label": "Why"})[0]
    items = [e for e in page.elements[page.elements.index(reasons) + 1 :] if e.tag == "li"][:2]
    assert items[0].text.startswith(EN["reason.failed.proof.none.presentation"]) and "challenge" not in reasons.text
    assert "options.challenge" not in page.text and "POST /challenges" not in page.text


async def test_a_replayed_presentation_is_told_in_the_pages_words_and_cards_are_numbered(scene: Scene) -> None:
    vp = await scene.presentation([scene.valid, scene.tampered])
    await post(scene, vp)
    _, page, _ = await post(scene, vp)
    reasons = page.find("ul", **{"aria-label": "Why"})[0].text
    assert EN["reason.failed.challenge.used"] in reasons and "options.challenge" not in page.text
    assert "Credential 2 (Data Science Fundamentals, Ana Andromeda): Not verified. The signature (proof) does not verify" in reasons
    assert [e.text for e in page.find("p", data_card_number="")] == ["Credential 1 of 2", "Credential 2 of 2"]

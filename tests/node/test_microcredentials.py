"""Micro-credentials on a real node: achievements, issuing over HTTP with 422s naming every
Annex I element, idempotent batches, the verify report, and `vcnode achievement` / `issue-batch`.
"""

from __future__ import annotations

import copy
import sys
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from support import ResponseLog, run_js

from node.app import create_app
from node import signing
from node.cli import main
from node.config import Config
from node.problems import PROBLEM_JSON
from node.routes import NODE_KEY
from node.store import SQLiteDatabase
from support import query_one
from vc.edu import ELEMENTS

ACHIEVEMENT: dict[str, Any] = {
    "title": "Data Science Fundamentals",
    "description": "Statistics and Python for data analysis.",
    "humanCode": "DS-101",
    "learningOutcomes": [
        "Explain the assumptions of linear regression",
        {"statement": "Analyse test data", "url": "http://data.europa.eu/esco/skill/81a2db2c-7e55-44d0-9cd9-74c25147d7cd", "framework": "ESCO"},
    ],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": {"type": "written examination", "resultType": "LetterGrade", "allowedValues": ["A", "B", "C", "F"]},
    "participation": "blended",
    "qualityAssurance": {"description": "Institutional accreditation by NVAO", "url": "https://www.nvao.net/decisions/12345"},
    "awardingBody": {"name": "University of Example", "countryCode": "NL", "country": "Netherlands"},
    "prerequisites": ["Secondary school mathematics"],
}


def achievement(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(ACHIEVEMENT)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


class Node:
    def __init__(self, client: Any, core: Any, token: str) -> None:
        self.client, self.core, self.token = client, core, token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, path: str, body: Any, *, auth: bool = True) -> tuple[int, Any, Any]:
        resp = await self.client.post(path, json=body, headers=self.auth if auth else {})
        return resp.status, await resp.json(content_type=None), resp

    async def count(self, table: str) -> int:
        row = await query_one(self.core.db, f"SELECT COUNT(*) AS n FROM {table}")
        return int(row["n"])


@pytest.fixture
async def node(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any) -> Any:
    port = unused_tcp_port_factory()
    cfg = Config().replace(data_dir=tmp_path / "data", host="127.0.0.1", port=port, status_purposes=("revocation", "suspension"))
    app = create_app(cfg)
    responses = ResponseLog(app)
    client = await aiohttp_client(app, server_kwargs={"host": "127.0.0.1", "port": port})
    core = app[NODE_KEY]
    token = (await core.tokens.create(["issue"], issuer="default")).token
    yield Node(client, core, token)
    responses.check()  # every response here is what /openapi.json says it is


async def define(node: Node, body: dict[str, Any] | None = None) -> dict[str, Any]:
    status, out, _ = await node.post("/issuers/default/achievements", body or achievement())
    assert status == 201, out
    return out


# ------------------------------------------------------------------ achievements


async def test_achievement_is_defined_once_and_published_at_its_id(node: Node) -> None:
    status, out, resp = await node.post("/issuers/default/achievements", achievement())
    assert status == 201, out
    assert out["slug"] == "ds-101"
    assert out["id"] == f"{node.core.config.effective_base_url}/issuers/default/achievements/ds-101"
    assert resp.headers["Location"] == out["id"]
    # A second definition with the same derived slug gets its own; an explicit slug is not reused.
    again = await define(node)
    assert again["slug"] == "ds-101-2"
    status, problem, _ = await node.post("/issuers/default/achievements", achievement(slug="ds-101"))
    assert status == 409 and problem["type"].endswith("achievement-exists")
    # Matched whole: a trailing newline passed the slug rule's "$" (it becomes a URL segment).
    status, problem, _ = await node.post("/issuers/default/achievements", achievement(slug="ds-102\n"))
    assert status == 422 and problem["problems"] == ["slug: must be 1-63 lower-case letters, digits or '-', starting with a letter or digit"], problem
    # Public reads (credentials name this URL as their achievement id).
    listing = await (await node.client.get("/issuers/default/achievements")).json()
    assert [a["slug"] for a in listing["achievements"]] == ["ds-101", "ds-101-2"]
    one = await node.client.get("/issuers/default/achievements/ds-101")
    assert one.status == 200 and (await one.json())["name"] == "Data Science Fundamentals"
    definition = await node.client.get("/issuers/default/achievements/ds-101?format=definition")
    assert (await definition.json()) == listing["achievements"][0]
    missing = await node.client.get("/issuers/default/achievements/nope")
    assert missing.status == 404 and missing.content_type == PROBLEM_JSON
    status, _, _ = await node.post("/issuers/default/achievements", achievement(), auth=False)
    assert status == 401


async def test_incomplete_achievement_is_refused_with_every_problem_by_element(node: Node) -> None:
    body = achievement(ects=-1, eqfLevel=9, participation=None, awardingBody={"countryCode": "Netherlands"})
    status, problem, resp = await node.post("/issuers/default/achievements", body)
    assert status == 422 and resp.content_type == PROBLEM_JSON
    assert problem["problems"] == [
        "(c) issuer country or region: the country code must be ISO 3166-1 alpha-2, such as \"IE\"",
        "(d) awarding body: the awarding body's name is required (the issuer profile's name)",
        "(g) workload: ECTS must be a positive number",
        "(h) EQF level: the EQF level must be an integer from 1 to 8",
        "(j) form of participation: participation is required (online, on-site or blended)",
    ]
    assert "(g) workload: ECTS must be a positive number" in problem["detail"]
    assert await node.count("achievements") == 0
    # A bad slug is one more problem, said with the others (it was a 400 hiding them all).
    status, problem, _ = await node.post("/issuers/default/achievements", {**body, "slug": "DS 101!"})
    assert status == 422, problem
    assert problem["problems"][:5] == [
        "(c) issuer country or region: the country code must be ISO 3166-1 alpha-2, such as \"IE\"",
        "(d) awarding body: the awarding body's name is required (the issuer profile's name)",
        "(g) workload: ECTS must be a positive number",
        "(h) EQF level: the EQF level must be an integer from 1 to 8",
        "(j) form of participation: participation is required (online, on-site or blended)",
    ]
    assert problem["problems"][5:] == ["slug: must be 1-63 lower-case letters, digits or '-', starting with a letter or digit"]
    assert await node.count("achievements") == 0


@pytest.mark.parametrize(
    "code, problem",
    [
        ("XX", "'XX' is not an ISO 3166-1 alpha-2 country code: no country has it"),
        ("ZZ", "'ZZ' is not an ISO 3166-1 alpha-2 country code: no country has it"),
        ("nl", "the country code 'nl' must be written in capitals, as ISO 3166-1 writes it: 'NL'"),
    ],
)
async def test_awarding_body_country_code_must_be_a_real_iso_code(node: Node, code: str, problem: str) -> None:
    body = achievement(awardingBody={"name": "University of Example", "countryCode": code})
    status, out, resp = await node.post("/issuers/default/achievements", body)
    assert status == 422 and resp.content_type == PROBLEM_JSON
    assert out["problems"] == [f"(c) issuer country or region: {problem}"]
    assert await node.count("achievements") == 0

@pytest.mark.parametrize("element", list(ELEMENTS))
async def test_each_element_missing_at_issue_is_refused_by_name_before_any_index(node: Node, element: str) -> None:
    """(a) and (e) come with the award, the others with the achievement: either way, 422 by name."""
    body, request = achievement(slug="x"), {"achievementId": "x", "learner": {"name": "Ana"}}
    drop = {"b": "title", "f": "learningOutcomes", "g": "ects", "h": "eqfLevel", "i": "assessment", "j": "participation", "k": "qualityAssurance"}
    if element in drop:
        del body[drop[element]]
    elif element == "c":
        body["awardingBody"] = {"name": "University of Example"}
    elif element == "d":
        body["awardingBody"] = {"countryCode": "NL"}
    elif element == "a":
        request["learner"] = {"email": "ana@example.org"}
    elif element == "e":
        request["validFrom"] = "yesterday"
    status, out, _ = await node.post("/issuers/default/achievements", body)
    if element in ("a", "e"):
        assert status == 201, out
        status, out, _ = await node.post("/issuers/default/microcredentials", request)
    assert status == 422, out
    assert out["problems"][0].startswith(f"({element}) {ELEMENTS[element]}: ")
    assert await node.count("credentials") == 0
    assert await node.count("status_entries") == 0


@pytest.mark.parametrize(
    "award, problem",
    [
        # The calendar's edges: astimezone() overflowed (a 500), and strftime wrote year 99 as "99".
        ({"validFrom": "9999-12-31T23:00:00-14:00"}, "(e) date of issue: must be a date-time from the year 1000 to 9999 (in UTC)"),
        ({"validFrom": "0001-01-01T00:00:00+14:00"}, "(e) date of issue: must be a date-time from the year 1000 to 9999 (in UTC)"),
        ({"validFrom": "0099-01-01T00:00:00Z"}, "(e) date of issue: must be a date-time from the year 1000 to 9999 (in UTC)"),
        # Annex I (e) is the date of issuing: not a date to come (every verifier would refuse it).
        ({"validFrom": "2099-01-01T00:00:00Z"}, "(e) date of issue: the date of issue cannot be in the future"),
        # A misspelt field vanished, and the credential went out without it.
        ({"learner": {"name": "Ana", "emial": "ana@example.org"}}, "(a) learner identification: learner has unknown fields emial"),
        ({"learner": {"name": "Ana", "salt": "s"}}, "(a) learner identification: a salt is for the learner's e-mail or emailHash"),
        # PostgreSQL's text holds no NUL: the key's insert failed there after everything was checked.
        ({"idempotencyKey": "enrolment\u000042"}, "idempotencyKey: must be a non-empty string of at most 200 characters, none a control"),
    ],
)
async def test_what_a_qa_sweep_found_an_award_may_not_hold(node: Node, award: dict[str, Any], problem: str) -> None:
    await define(node)
    status, out, resp = await node.post("/issuers/default/microcredentials", {"achievementId": "ds-101", "learner": {"name": "Ana"}, **award})
    assert status == 422 and resp.content_type == PROBLEM_JSON, out
    assert [p for p in out["problems"] if p.startswith(problem)], out["problems"]
    assert await node.count("credentials") == 0 and await node.count("status_entries") == 0
    status, out, _ = await node.post("/issuers/default/microcredentials", {"achievementId": "ds-101", "learner": {"name": "Ana"}, "validFrom": "1985-06-30T10:00:00+02:00"})
    assert status == 201 and out["verifiableCredential"]["validFrom"] == "1985-06-30T08:00:00Z"


@pytest.mark.parametrize(
    "change, problem",
    [
        # A number no signature survives: 10**400 failed every award (each spending an index), 1e-300
        # is "0" to jsonld.js, and past 2**53 eddsa-jcs-2022 refuses it.
        ({"ects": 10**400}, "(g) workload: ECTS must be at most 180"),
        ({"ects": 1e-300}, "(g) workload: ECTS must be at most 180 with at most two decimals"),
        ({"ects": 181}, "(g) workload: ECTS must be at most 180"),
        ({"ects": 2.125}, "(g) workload: ECTS must be at most 180 with at most two decimals"),
        # RFC 5646: a singleton needs a subtag after it, "12" is no region, a region comes once.
        ({"language": "en-a"}, "language: must be a BCP 47 language tag"),
        ({"language": "en-12"}, "language: must be a BCP 47 language tag"),
        ({"language": "en-US-US"}, "language: must be a BCP 47 language tag"),
    ],
)
async def test_what_a_qa_sweep_found_an_achievement_may_not_hold(node: Node, change: dict[str, Any], problem: str) -> None:
    status, out, _ = await node.post("/issuers/default/achievements", achievement(**change))
    assert status == 422, out
    assert [p for p in out["problems"] if p.startswith(problem)], out["problems"]
    assert await node.count("achievements") == 0
    for fine in ({"ects": 0.25, "language": "sr-Latn-RS"}, {"ects": 180, "language": "de-CH-1901", "slug": "big"}):
        await define(node, achievement(**fine))


async def test_batch_with_one_bad_item_issues_nothing_and_names_the_item(node: Node) -> None:
    await define(node)
    items = [
        {"achievementId": "ds-101", "learner": {"name": "Ana"}},
        {"achievementId": "ds-101", "learner": {"name": ""}, "grade": "Z"},
        {"achievementId": "nope", "learner": {"name": "Bo"}},
    ]
    status, problem, _ = await node.post("/issuers/default/microcredentials", {"items": items})
    assert status == 422, problem
    assert problem["items"] == [
        {"index": 1, "problems": ["(a) learner identification: the learner's name is required", "grade: 'Z' is not one of the assessment's allowed values (A, B, C, F)"]},
        {"index": 2, "problems": ["achievementId: issuer 'default' has no achievement 'nope'"]},
    ]
    assert await node.count("credentials") == 0 and await node.count("status_entries") == 0


async def test_an_achievement_the_issuer_has_not_defined_is_a_problem_of_the_request(node: Node) -> None:
    """422, as /openapi.json says: the URL (the issuer's micro-credentials) exists, the request
    names an achievement that does not, and that is reported with the request's other problems.
    Only an unknown issuer, the URL itself, is a 404."""
    status, problem, _ = await node.post("/issuers/default/microcredentials", {"achievementId": "nope", "learner": {"name": ""}})
    assert status == 422, problem
    assert problem["problems"] == ["(a) learner identification: the learner's name is required", "achievementId: issuer 'default' has no achievement 'nope'"]
    status, problem, _ = await node.post("/issuers/default/microcredentials", {"achievementId": "nope", "learner": {"name": "Ana"}})
    assert status == 422 and problem["problems"] == ["achievementId: issuer 'default' has no achievement 'nope'"], problem
    # Typed and titled as what it is, not as a malformed micro-credential.
    assert problem["type"] == "urn:vcnode:problem:unknown-achievement", problem
    assert problem["title"] == "The request names an achievement the issuer has not defined"
    admin = (await node.core.tokens.create(["admin"])).token
    resp = await node.client.post("/issuers/nobody/microcredentials", json={"achievementId": "x"}, headers={"Authorization": f"Bearer {admin}"})
    assert resp.status == 404 and "no issuer named 'nobody'" in (await resp.json(content_type=None))["detail"]
    described = (await (await node.client.get("/openapi.json")).json())["paths"]["/issuers/{name}/microcredentials"]["post"]["responses"]
    assert "an achievementId the issuer has not defined" in described["422"]["description"]
    assert "achievement" not in described["404"]["description"]


# ------------------------------------------------------------------ issuing and verifying


async def test_issue_over_http_then_verify_finds_all_eleven_elements(node: Node) -> None:
    await define(node)
    request = {
        "achievementId": "ds-101",
        "learner": {"name": "Ana Andromeda", "email": "ana@example.org", "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
        "validFrom": "2025-05-01T09:30:00Z",
        "grade": "B",
        "evidence": [{"id": "https://uni.example/evidence/1", "name": "Final exam"}],
    }
    status, out, _ = await node.post("/issuers/default/microcredentials", request)
    assert status == 201, out
    vc = out["verifiableCredential"]
    assert out["replayed"] is False
    assert vc["issuer"]["id"] == (await node.core.issuers.get("default")).did
    assert {e["statusPurpose"] for e in vc["credentialStatus"]} == {"revocation", "suspension"}
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert "ana@example.org" not in json.dumps(vc)

    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc})
    result = await resp.json()
    assert resp.status == 200 and result["verified"] is True, result
    report = result["microcredential"]
    assert report["isMicroCredential"] and report["complete"] and report["missing"] == []
    assert [e["element"] for e in report["elements"]] == list("abcdefghijk")
    assert all(e["status"] == "present" for e in report["elements"])
    values = {e["element"]: e.get("value") for e in report["elements"]}
    assert values["a"]["name"] == "Ana Andromeda" and values["g"] == {"ects": 5} and values["h"]["level"] == 6
    assert values["c"] == {"addressCountry": "Netherlands", "addressCountryCode": "NL"}
    assert values["e"] == "2025-05-01T09:30:00Z"
    grade = next(e for e in report["optional"] if e["element"] == "grade")
    assert grade["value"] == {"value": "B", "assessment": "written examination"}

    # Revoked: still a micro-credential report, but no longer verified.
    await node.core.status.set_status(vc["id"], "revoked")
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": vc})
    result = await resp.json()
    assert resp.status == 400 and result["verified"] is False and result["microcredential"]["complete"]


async def test_the_commission_annex_i_sample_is_defined_issued_and_verified(node: Node, vectors: Path) -> None:
    from tests.vc.edu.test_microcredential import ec_sample

    sample = ec_sample(vectors)
    stored = await define(node, sample["achievement"] | {"awardingBody": sample["awardingBody"], "slug": "digital-mc-creation"})
    request = {"achievementId": stored["slug"], "learner": sample["learner"], "validFrom": sample["validFrom"], "grade": sample["grade"]}
    status, out, _ = await node.post("/issuers/default/microcredentials", request)
    assert status == 201, out
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": out["verifiableCredential"]})
    result = await resp.json()
    assert resp.status == 200 and result["verified"] is True, result
    report = result["microcredential"]
    assert report["complete"] is True
    values = {e["element"]: e.get("value") for e in report["elements"]}
    assert values["b"] == "Digital micro-credential creation" and values["d"]["name"] == "University of Zed"
    assert values["e"] == "2022-12-31T23:00:00Z" and values["h"]["url"] == "http://data.europa.eu/snb/eqf/6"


async def test_valid_open_badge_missing_elements_verifies_with_the_report_saying_so(node: Node) -> None:
    """Signed through plain VC-API issuing (which knows nothing of the profile) without (k)."""
    stored = await define(node)
    built = (await node.core.achievements.issue("default", [{"achievementId": stored["slug"], "learner": {"name": "Ana"}}])).issued[0].credential
    unsigned = {k: v for k, v in built.items() if k not in ("proof", "credentialStatus", "id")}
    ach = unsigned["credentialSubject"]["achievement"]
    ach["alignment"] = [a for a in ach["alignment"] if a["targetType"] != "ext:QualityAssurance"]
    status, out, _ = await node.post("/credentials/issue", {"credential": unsigned})
    assert status == 201, out
    resp = await node.client.post("/credentials/verify", json={"verifiableCredential": out["verifiableCredential"]})
    result = await resp.json()
    assert resp.status == 200 and result["verified"] is True, result
    assert result["microcredential"]["complete"] is False
    assert result["microcredential"]["missing"] == ["(k) quality assurance"]


async def test_node_credential_verifies_for_a_verifier_that_knows_nothing_of_the_profile(node: Node) -> None:
    from vc.credentials import verify_credential

    await define(node)
    vc = (await node.post("/issuers/default/microcredentials", {"achievementId": "ds-101", "learner": {"name": "Ana"}}))[1]["verifiableCredential"]
    # The core with no reporters is such a verifier: it knows nothing of vc.edu.
    core = node.core
    result = await verify_credential(vc, resolver=core.resolver, loader=core.loader, now=core.clock(), check_status=core.check_status)
    assert result.verified, result.to_json()
    assert "microcredential" not in result.to_json()
    # Only the two published contexts, nothing else to fetch or know.
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


async def test_idempotency_key_replays_and_refuses_other_content(node: Node) -> None:
    await define(node)
    request = {"achievementId": "ds-101", "learner": {"name": "Ana", "email": "ana@example.org"}, "idempotencyKey": "enrolment-42"}
    status, first, _ = await node.post("/issuers/default/microcredentials", request)
    assert status == 201
    status, again, _ = await node.post("/issuers/default/microcredentials", request)
    # The kept credential itself comes back, byte for byte as first issued: nothing is signed twice.
    assert status == 200 and again == {"credentialId": first["verifiableCredential"]["id"], "verifiableCredential": first["verifiableCredential"], "replayed": True}
    assert await node.count("credentials") == 1 and await node.count("status_entries") == 2  # revocation + suspension
    status, problem, _ = await node.post("/issuers/default/microcredentials", request | {"grade": "A"})
    assert status == 409 and problem["type"].endswith("idempotency-conflict"), problem
    # A batch mixing the replayed key with a new one issues only the new one.
    status, out, _ = await node.post(
        "/issuers/default/microcredentials", {"items": [request, {"achievementId": "ds-101", "learner": {"name": "Bo"}, "idempotencyKey": "enrolment-43"}]}
    )
    assert status == 201 and out["issued"] == 1
    assert out["replayed"] == [{"index": 0, "credentialId": first["verifiableCredential"]["id"], "verifiableCredential": first["verifiableCredential"]}]
    assert [c["credentialSubject"]["identifier"][0]["identityHash"] for c in out["verifiableCredentials"]] == ["Bo"]
    assert await node.count("credentials") == 2
    # The same endpoint takes a bare JSON list as a batch.
    status, out, _ = await node.post("/issuers/default/microcredentials", [{"achievementId": "ds-101", "learner": {"name": "Cy"}}])
    assert status == 201 and out["issued"] == 1 and len(out["verifiableCredentials"]) == 1


async def test_a_grade_over_http_takes_the_spellings_the_cli_takes(node: Node) -> None:
    """'b' on a scale of A, B, C, F is B over HTTP as in vcnode issue-batch (vc.edu.normalise_grade):
    the credential carries the scale's spelling, and an idempotency key stands for it, so the
    same award sent as 'b' and as 'B' is one credential. A scale on which case tells grades
    apart is taken as written."""
    await define(node)
    request = {"achievementId": "ds-101", "learner": {"name": "Ana"}, "grade": "b", "idempotencyKey": "enrolment-7"}
    status, first, _ = await node.post("/issuers/default/microcredentials", request)
    assert status == 201, first
    vc = first["verifiableCredential"]
    assert vc["credentialSubject"]["result"][0]["value"] == "B"
    status, again, _ = await node.post("/issuers/default/microcredentials", request | {"grade": " B "})
    assert status == 200 and again["replayed"] is True and again["credentialId"] == vc["id"]
    status, out, _ = await node.post(
        "/issuers/default/microcredentials", {"items": [{"achievementId": "ds-101", "learner": {"name": "Bo"}, "grade": "f"}]}
    )
    assert status == 201 and out["verifiableCredentials"][0]["credentialSubject"]["result"][0]["value"] == "F"
    status, problem, _ = await node.post("/issuers/default/microcredentials", {"achievementId": "ds-101", "learner": {"name": "Cy"}, "grade": "z"})
    assert status == 422 and problem["problems"] == ["grade: 'z' is not one of the assessment's allowed values (A, B, C, F)"], problem

    cased = await define(node, achievement(slug="cased", assessment={"type": "oral examination", "allowedValues": ["A", "a", "B"]}))
    status, out, _ = await node.post("/issuers/default/microcredentials", {"achievementId": cased["slug"], "learner": {"name": "Di"}, "grade": "a"})
    assert status == 201 and out["verifiableCredential"]["credentialSubject"]["result"][0]["value"] == "a"
    status, problem, _ = await node.post("/issuers/default/microcredentials", {"achievementId": cased["slug"], "learner": {"name": "Ed"}, "grade": "b"})
    assert status == 422 and problem["problems"] == ["grade: 'b' is not one of the assessment's allowed values (A, a, B)"], problem


# ------------------------------------------------------------------ CLI


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_cli_achievement_create_list_and_refusal(tmp_path: Path, capsys: Any) -> None:
    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    good = tmp_path / "a.json"
    good.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(good), *data]) == 0
    assert "achievement ds-101" in capsys.readouterr().out
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps(achievement(ects=0, qualityAssurance=None)))
    assert main(["achievement", "create", str(bad), *data]) == 2
    err = capsys.readouterr().err
    assert "(g) workload: ECTS must be a positive number" in err and "(k) quality assurance:" in err
    assert main(["achievement", "list", "--json", *data]) == 0
    assert [a["slug"] for a in json.loads(capsys.readouterr().out)["achievements"]] == ["ds-101"]


def test_cli_issue_batch_starts_the_signing_pool_before_it_checks_the_rows(tmp_path: Path, monkeypatch: Any) -> None:
    """The command knows how many rows it has before it checks them: the pool's processes start
    then, and come up while the rows are checked, not after. Only for rows not issued before: a
    re-run of the file, or one with fewer new rows than the pool is for, starts none."""
    from node.achievements import Achievements

    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    rows = signing.MIN_PARALLEL
    learners = write_csv(tmp_path / "learners.csv", [{"name": f"Learner {i}", "email": f"l{i}@example.org"} for i in range(rows)])
    started: list[int] = []
    real_issue = Achievements.issue

    async def issue(self: Achievements, *args: Any, **kwargs: Any) -> Any:
        started.append(len(signing.shared_signer().pids))  # before any row is checked
        return await real_issue(self, *args, **kwargs)

    monkeypatch.setattr(Achievements, "issue", issue)

    def issue_batch(csv: Path) -> None:
        try:
            assert main(["issue-batch", "ds-101", str(csv), "--out", str(tmp_path / "out.jsonl"), *data]) == 0
        finally:
            if signing._shared is not None:
                signing._shared.close()
            signing._shared = None

    issue_batch(learners)
    expected = signing.default_processes() if signing.default_processes() >= 2 else 0
    assert started == [expected]
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == rows
    issue_batch(learners)  # every row issued before
    more = write_csv(tmp_path / "more.csv", [{"name": f"Learner {i}", "email": f"l{i}@example.org"} for i in range(rows + 1)])
    issue_batch(more)  # one new row
    assert started == [expected, 0, 0]
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == rows + 1


def test_cli_issue_batch_reports_refused_rows_and_reruns_issue_nothing_twice(tmp_path: Path, capsys: Any) -> None:
    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    learners = write_csv(
        tmp_path / "learners.csv",
        [
            {"name": "Ana Andromeda", "email": "ana@example.org", "grade": "A", "evidence": "https://uni.example/e/1"},
            {"name": "", "email": "nobody@example.org", "grade": "B", "evidence": ""},
            {"name": "Bo", "email": "", "grade": "Z", "evidence": "passed the oral exam"},
            {"name": "Cy", "email": "cy@example.org", "grade": "C", "evidence": ""},
        ],
    )
    out = tmp_path / "out.jsonl"
    capsys.readouterr()
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(out), *data]) == 1
    err = capsys.readouterr().err
    assert "line 3: (a) learner identification: the learner's name is required" in err
    assert "line 4: grade: 'Z' is not one of the assessment's allowed values (A, B, C, F)" in err
    assert "issued 2, already issued 0, refused 2 of 4 rows" in err
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert [c["credentialSubject"]["identifier"][0]["identityHash"] for c in first] == ["Ana Andromeda", "Cy"]

    assert main(["issue-batch", "ds-101", str(learners), "--out", str(out), *data]) == 1
    assert "issued 0, already issued 2, refused 2 of 4 rows" in capsys.readouterr().err
    assert [json.loads(line) for line in out.read_text().splitlines()] == first  # kept, nothing added

    # Fixing the refused rows and re-running issues exactly those.
    learners = write_csv(
        tmp_path / "learners.csv",
        [
            {"name": "Ana Andromeda", "email": "ana@example.org", "grade": "A", "evidence": "https://uni.example/e/1"},
            {"name": "Nobody", "email": "nobody@example.org", "grade": "B", "evidence": ""},
            {"name": "Bo", "email": "", "grade": "B", "evidence": "passed the oral exam"},
            {"name": "Cy", "email": "cy@example.org", "grade": "C", "evidence": ""},
        ],
    )
    folder = tmp_path / "creds"
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(folder), *data]) == 0
    assert "issued 2, already issued 2, refused 0 of 4 rows" in capsys.readouterr().err
    # A new output gets every row's credential: the two issued now, and the two issued before as
    # the node kept them (the very credentials the first output holds).
    written = [json.loads(p.read_text()) for p in folder.iterdir()]
    assert sorted(c["credentialSubject"]["identifier"][0]["identityHash"] for c in written) == ["Ana Andromeda", "Bo", "Cy", "Nobody"]
    assert sorted((c for c in written if c["id"] in {f["id"] for f in first}), key=lambda c: c["id"]) == sorted(first, key=lambda c: c["id"])
    bo = next(c for c in written if c["credentialSubject"]["identifier"][0]["identityHash"] == "Bo")
    assert bo["evidence"] == [{"type": ["Evidence"], "narrative": "passed the oral exam"}]

    # A date past the calendar in one row ended the whole run in a traceback (OverflowError).
    edge = write_csv(tmp_path / "edge.csv", [{"name": "Di", "email": "", "grade": "A", "evidence": "", "valid_from": "9999-12-31T23:00:00-14:00"},
                                             {"name": "Ed", "email": "", "grade": "A", "evidence": "", "valid_from": "2024-09-01"}])
    assert main(["issue-batch", "ds-101", str(edge), "--out", str(tmp_path / "edge.jsonl"), *data]) == 1
    err = capsys.readouterr().err
    assert "line 2: (e) date of issue: must be a date-time from the year 1000 to 9999" in err
    assert "issued 1, already issued 0, refused 1 of 2 rows" in err

    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("name,shoe_size\nAna,42\n")
    assert main(["issue-batch", "ds-101", str(bad_header), *data]) == 2
    assert "unknown column(s) 'shoe_size'" in capsys.readouterr().err
    assert main(["issue-batch", "nope", str(learners), *data]) == 1
    assert "no achievement 'nope'; vcnode achievement list shows the slugs it has" in capsys.readouterr().err


def test_cli_issue_batch_goes_to_the_node_in_batches_and_says_every_row_by_its_line(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    """A file longer than ROWS_PER_BATCH (3 here) is issued batch by batch: every row's
    credential written once, refusals and repeats said by line wherever they fall, one bar."""
    from node.achievements import Achievements
    from node.cli import issue_batch

    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    monkeypatch.setattr(issue_batch, "ROWS_PER_BATCH", 3)
    calls: list[int] = []
    real_issue = Achievements.issue

    async def issue(self: Achievements, issuer: str, requests: Any, **kw: Any) -> Any:
        calls.append(len(requests))
        return await real_issue(self, issuer, requests, **kw)

    monkeypatch.setattr(Achievements, "issue", issue)
    rows = [{"name": f"Learner {i}", "grade": "A", "key": ""} for i in range(8)]
    rows[2]["name"] = ""  # line 4: refused by the node, in the first batch
    rows[6] = dict(rows[1])  # line 8: the content of line 3, in the third batch
    rows[7]["key"] = "k-7"
    rows[5]["key"] = "k-7"  # lines 7 and 9: one key twice
    learners = write_csv(tmp_path / "l.csv", rows)
    out = tmp_path / "out.jsonl"
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(out), *data]) == 1
    err = capsys.readouterr().err
    assert calls == [3, 3] and "5/5" in err  # 8 rows, two repeats set aside: 6 in batches of 3
    assert "line 4: (a) learner identification: the learner's name is required" in err
    assert "line 8: idempotencyKey: the same content as line 3 (without a key, a row's content is its idempotency key)" in err
    assert "line 9: idempotencyKey: the same key as line 7" in err
    assert "issued 5, already issued 0, refused 3 of 8 rows" in err
    written = [json.loads(line) for line in out.read_text().splitlines()]
    names = sorted(c["credentialSubject"]["identifier"][0]["identityHash"] for c in written)
    assert names == sorted(f"Learner {i}" for i in (0, 1, 3, 4, 5))
    # Run again: every row issued before is said by its own line, across the batches.
    calls.clear()
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(out), "--json", *data]) == 1
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert calls == [3, 3] and summary["issued"] == 0 and summary["written"] == 0
    assert [r["line"] for r in summary["replayed"]] == [2, 3, 5, 6, 7]
    assert [r["line"] for r in summary["refused"]] == [4, 8, 9]


def test_cli_issue_batch_of_10000_rows_writes_each_status_list_once(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    """One command, 10,000 rows: every status list's allocation and its publication happen once."""
    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    n = 10_000
    learners = tmp_path / "learners.csv"
    with learners.open("w", encoding="utf-8") as f:
        f.write("name,email\n")
        for i in range(n):
            f.write(f"Learner {i},learner{i}@example.org\n")

    statements: list[str] = []
    real_open = SQLiteDatabase.open.__func__

    def trace(sql: str) -> None:
        if "status_lists" in sql[:40].lower():
            statements.append(sql[:200])

    async def traced_open(cls: Any, path: Any, **kw: Any) -> SQLiteDatabase:
        store = await real_open(cls, path, **kw)
        await store._writer.set_trace_callback(trace)
        return store

    monkeypatch.setattr(SQLiteDatabase, "open", classmethod(traced_open))
    out = tmp_path / "out.jsonl"
    capsys.readouterr()
    # eddsa-jcs-2022 keeps this test quick (no RDF canonicalization); allocation and list
    # publication do not depend on the suite. bench/ measures the eddsa-rdfc-2022 throughput.
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(out), "--cryptosuite", "eddsa-jcs-2022", *data]) == 0
    assert f"issued {n}, already issued 0, refused 0 of {n} rows" in capsys.readouterr().err
    issued = out.read_text().splitlines()
    assert len(issued) == n

    lists = [s for s in statements if s.lstrip().upper().startswith(("UPDATE STATUS_LISTS", "INSERT INTO STATUS_LISTS"))]
    allocations = [s for s in lists if "SET used" in s]
    publications = [s for s in lists if "SET credential" in s]
    created = [s for s in lists if s.lstrip().upper().startswith("INSERT")]
    # One list per purpose (revocation only, the default): created once, its signed list
    # credential published once, and its used-index bitmap written once per admission stage
    # (node.signing.stages: six for 10,000 rows on two cores; once when one core signs).
    stages = len(signing.stages(n, max(2, signing.default_processes())))
    assert len(created) == 1 and len(allocations) in (1, stages) and len(publications) == 1, lists


async def test_cli_verify_prints_the_report_readably_and_json_with_json(node: Node, tmp_path: Path, capsys: Any) -> None:
    import asyncio
    from urllib.parse import urlsplit

    await define(node)
    vc = (await node.post("/issuers/default/microcredentials", {"achievementId": "ds-101", "learner": {"name": "Ana"}}))[1]["verifiableCredential"]
    path = tmp_path / "vc.json"
    path.write_text(json.dumps(vc))
    host = urlsplit(node.core.config.effective_base_url).netloc
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["verify", str(path), "--allow-insecure", host]) == 0
    err = capsys.readouterr().err
    assert "EU micro-credential (Annex I): all mandatory elements present" in err
    assert "(g) workload" in err and "5 ECTS credits" in err and "(h) EQF level" in err
    assert await asyncio.to_thread(main, ["verify", str(path), "--allow-insecure", host, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["microcredential"]["complete"] is True
    assert "EU micro-credential" not in captured.err


# ------------------------------------------------------------------ the JS reference stack


HARNESS_ISSUER = "did:key:z6MksFHfJHbwxv8mz2eWqVCq1mLkkGzfBrDpKsM29Gg9JMug"  # the harness's fixed key


async def _js(*args: str) -> tuple[int, Any]:
    return await run_js(*args)


@pytest.mark.interop
async def test_reference_stack_verifies_a_micro_credential_the_node_issued(node: Node, tmp_path: Path) -> None:
    """A plain VC 2.0 / OB 3.0 verifier (Digital Bazaar's) that knows nothing of the profile."""
    await define(node)
    request = {"achievementId": "ds-101", "learner": {"name": "Ana", "email": "ana@example.org"}, "grade": "A",
               "evidence": [{"id": "https://uni.example/evidence/1", "name": "Final exam"}]}
    vc = (await node.post("/issuers/default/microcredentials", request))[1]["verifiableCredential"]
    path = tmp_path / "vc.json"
    path.write_text(json.dumps(vc))
    base = node.core.config.effective_base_url
    code, out = await _js("verify.mjs", str(path), "--did-web-base", base, "--status")
    assert code == 0 and out["verified"] is True, out
    assert out["status"]["checked"] is True and out["status"]["verified"] is True, out
    # A batch signed with eddsa-jcs-2022 as well.
    body = {"items": [{"achievementId": "ds-101", "learner": {"name": "Bo"}}], "options": {"cryptosuite": "eddsa-jcs-2022"}}
    status, batch, _ = await node.post("/issuers/default/microcredentials", body)
    assert status == 201, batch
    jcs = batch["verifiableCredentials"][0]
    assert jcs["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    path.write_text(json.dumps(jcs))
    code, out = await _js("verify.mjs", str(path), "--did-web-base", base, "--status")
    assert code == 0 and out["verified"] is True, out
    # And once revoked, the reference stack sees it too.
    await node.core.status.set_status(vc["id"], "revoked")
    path.write_text(json.dumps(vc))
    code, out = await _js("verify.mjs", str(path), "--did-web-base", base, "--status")
    assert code == 1 and out["verified"] is False, out


@pytest.mark.interop
async def test_micro_credential_signed_by_the_reference_stack_verifies_here_with_its_report(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from did.key import DIDKeyResolver
    from did.resolver import Resolver
    from vc.credentials import verify_credential
    from vc.loader import default_loader
    from vc.edu import REPORTERS, IssuerProfile, Learner, build_microcredential, parse_achievement

    spec = {k: v for k, v in achievement().items() if k != "awardingBody"}
    spec["id"] = "https://uni.example/issuers/default/achievements/ds-101"
    for ects in (5, 2.5):  # a whole and a fractional xsd:float, canonicalized alike on both sides
        unsigned = build_microcredential(
            parse_achievement(spec | {"ects": ects}),
            IssuerProfile(HARNESS_ISSUER, "University of Example", country_code="NL"),
            Learner("Ana", email="ana@example.org"),
            valid_from=datetime(2025, 1, 15, tzinfo=timezone.utc),
            grade="B",
        )
        path = tmp_path / "unsigned.json"
        path.write_text(json.dumps(unsigned))
        code, signed = await _js("issue.mjs", "--credential", str(path))
        assert code == 0, signed
        result = await verify_credential(
            signed,
            resolver=Resolver({"key": DIDKeyResolver()}),
            loader=default_loader(),
            now=datetime(2025, 6, 1, tzinfo=timezone.utc),
            reporters=REPORTERS,
        )
        assert result.verified, result.to_json()
        assert result.reports["microcredential"]["complete"] is True


def test_cli_issue_batch_shows_a_progress_bar_on_a_terminal(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    learners = write_csv(tmp_path / "l.csv", [{"name": f"Learner {i}"} for i in range(7)] + [{"name": ""}])
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(tmp_path / "o.jsonl"), *data]) == 0
    err = capsys.readouterr().err
    assert "issuing" in err and "7/7" in err
    assert "issued 7, already issued 0, refused 0 of 7 rows" in err  # the empty row is no row


def test_cli_issue_batch_reads_what_spreadsheets_save_or_says_how_to_save_it(tmp_path: Path, capsys: Any) -> None:
    """A first-hour sweep's files: ';' separators (Excel where ',' is the decimal mark) are read,
    an export's extra column is refused with the flag that leaves it out (a misspelt known
    column with "did you mean"), and a Latin-1 file is refused saying to save it as UTF-8."""
    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    capsys.readouterr()
    out = tmp_path / "out.jsonl"

    semicolon = tmp_path / "semicolon.csv"
    semicolon.write_bytes("Name;E-mail;Grade\r\nEve Eridanus;eve@example.org;A\r\n\"Lima, Ana\";ana@example.org;B\r\n".encode())
    assert main(["issue-batch", "ds-101", str(semicolon), "--out", str(out), *data]) == 0
    err = capsys.readouterr().err
    assert "its header is separated by ';'" in err and "issued 2, already issued 0, refused 0 of 2 rows" in err
    names = [json.loads(line)["credentialSubject"]["identifier"][0]["identityHash"] for line in out.read_text().splitlines()]
    assert names == ["Eve Eridanus", "Lima, Ana"]
    excel = tmp_path / "excel.csv"  # Excel's "sep=" first line names the separator; line numbers count it
    excel.write_bytes(b"sep=;\r\nname;grade\r\nUma Ursa;Z\r\n")
    assert main(["issue-batch", "ds-101", str(excel), "--out", str(out), *data]) == 1
    assert "line 3: grade: 'Z'" in capsys.readouterr().err

    extra = tmp_path / "extra.csv"
    extra.write_text("Name,Email,Student ID,Grdae\nUma Ursa,uma@example.org,S-771204,A\n")
    assert main(["issue-batch", "ds-101", str(extra), "--out", str(out), *data]) == 2
    err = capsys.readouterr().err
    assert "unknown column(s) 'Student ID', 'Grdae' (did you mean grade?)" in err
    assert "or leave it out with --ignore-columns 'Student ID'" in err
    extra.write_text("Name,Email,Student ID,Grade\nUma Ursa,uma@example.org,S-771204,A\n")
    assert main(["issue-batch", "ds-101", str(extra), "--out", str(out), "--ignore-columns", "student id", *data]) == 0
    err = capsys.readouterr().err
    assert "leaving out the column(s) 'Student ID' (--ignore-columns)" in err and "issued 1" in err
    uma = json.loads(out.read_text().splitlines()[-1])
    assert "S-771204" not in json.dumps(uma)

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,email\nJosé Müller,jose@example.org\n".encode("latin-1"))
    assert main(["issue-batch", "ds-101", str(latin1), "--out", str(out), *data]) == 2
    err = capsys.readouterr().err
    assert "latin1.csv is not UTF-8 (line 2 holds the byte 0xe9" in err and "save it as CSV UTF-8" in err
    assert "codec" not in err


def test_cli_issue_batch_takes_a_grade_in_any_case_and_says_both_date_forms(tmp_path: Path, capsys: Any) -> None:
    """'b' on a scale of A, B, C, F is B (no two of its grades differ only in case); a date the
    reader cannot read is refused naming both forms it takes, a date alone and a date-time."""
    data = ["--data", str(tmp_path / "data")]
    assert main(["init", *data]) == 0
    spec = tmp_path / "a.json"
    spec.write_text(json.dumps(achievement()))
    assert main(["achievement", "create", str(spec), *data]) == 0
    capsys.readouterr()
    learners = tmp_path / "l.csv"
    learners.write_text("name,grade,valid_from\nVic Vela,b,2025-01-15\nWu Wei,B,31/12/2025\nXi Xu,z,\n")
    out = tmp_path / "out.jsonl"
    assert main(["issue-batch", "ds-101", str(learners), "--out", str(out), *data]) == 1
    err = capsys.readouterr().err
    assert ("line 3: (e) date of issue: must be a date such as 2025-06-01 (taken as midnight UTC) or a date-time "
            "with a time zone such as 2025-06-01T12:00:00Z, got '31/12/2025'") in err
    assert "line 4: grade: 'z' is not one of the assessment's allowed values (A, B, C, F)" in err
    (vic,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert vic["credentialSubject"]["result"][0]["value"] == "B"
    # A scale on which case tells grades apart is taken as written.
    from node.cli.issue_batch import fold_grades

    rows = [(2, {"name": "A", "grade": "a"}), (3, {"name": "B", "grade": "b"})]
    fold_grades(rows, ("A", "a", "B"))
    assert [r["grade"] for _, r in rows] == ["a", "b"]
    fold_grades(rows, ("A", "B"))
    assert [r["grade"] for _, r in rows] == ["A", "B"]

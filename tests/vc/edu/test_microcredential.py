"""The EU micro-credential profile (Annex I of 2022/C 243/02) on Open Badges 3.0.

The European Commission's Annex I sample is read from the shared vectors and re-expressed in the
profile; every element removed in turn is refused by its name; the verify-time report reads back
exactly what the builder wrote; the built credential uses only terms the pinned contexts define.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.conftest import load_json
from vc.datamodel import check_credential
from vc.errors import ProofTransformationError
from vc.jsonld import canonize, expand
from vc.loader import default_loader
from vc.edu import (
    ELEMENTS,
    AchievementDefinition,
    Assessment,
    EvidenceItem,
    IssuerProfile,
    Learner,
    ProfileError,
    QualityAssurance,
    achievement_document,
    build_microcredential,
    hash_identity,
    is_microcredential,
    normalise_grade,
    parse_achievement,
    parse_datetime,
    parse_evidence,
    parse_learner,
    profile_report,
    render_report,
)

ISSUED = datetime(2025, 5, 1, 9, 30, tzinfo=timezone.utc)


def achievement_json() -> dict[str, Any]:
    return {
        "id": "https://uni.example/issuers/uni/achievements/ds101",
        "title": "Data Science Fundamentals",
        "description": "Statistics and Python for data analysis.",
        "learningOutcomes": [
            "Explain the assumptions of linear regression",
            {"statement": "Analyse test data", "url": "http://data.europa.eu/esco/skill/81a2db2c-7e55-44d0-9cd9-74c25147d7cd", "framework": "ESCO"},
        ],
        "ects": 5,
        "eqfLevel": 6,
        "assessment": {"type": "written examination", "resultType": "LetterGrade", "allowedValues": ["A", "B", "C", "F"], "requiredValue": "C"},
        "participation": "blended",
        "qualityAssurance": {"description": "Institutional accreditation by NVAO", "url": "https://www.nvao.net/decisions/12345", "framework": "ESG"},
        "prerequisites": ["Secondary school mathematics"],
        "supervision": "Supervised on-site with identity verification",
        "integration": {"mode": "stackable", "towards": "MSc Data Science", "url": "https://uni.example/programmes/msc-ds"},
        "language": "en",
        "humanCode": "DS-101",
    }


ISSUER = IssuerProfile("did:web:uni.example:issuers:uni", "University of Example", country_code="NL", country="Netherlands", region="Utrecht")
LEARNER = Learner("Ana Andromeda", email="ana@example.org")


def full_credential(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"valid_from": ISSUED, "credential_id": "urn:uuid:0f0e2b4e-8d56-4d0b-a7a1-0d4c8c7e2d11", "grade": "B", "salt": "fixed-salt"}
    args.update(kw)
    return build_microcredential(parse_achievement(achievement_json()), ISSUER, LEARNER, **args)


# ------------------------------------------------------------------ the EC Annex I sample


def _en(v: Any) -> str:
    return v["en"] if isinstance(v, dict) else v


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def ec_sample(vectors) -> dict[str, Any]:
    """The EC Annex I sample's elements, read from the ELM document, in the profile's input form."""
    ec = load_json(vectors / "microcredentials" / "eu-elm-edc" / "Sample-MC-Annex1-unsigned.jsonld")
    subject = ec["credentialSubject"]
    claim = subject["hasClaim"]
    spec = claim["specifiedBy"]
    assessment = claim["provenBy"]
    body = claim["awardedBy"]["awardingBody"]
    location = ec["issuer"]["location"]
    outcomes = []
    for lo in spec["learningOutcome"]:
        skill = _as_list(lo.get("relatedESCOSkill"))[0]
        outcomes.append({"statement": _en(lo["title"]), "url": skill["id"], "framework": "ESCO"})
    eqf_uri = spec["eqfLevel"]["id"]
    return {
        "achievement": {
            "title": _en(spec["title"]),
            "description": _en(claim["influencedBy"]["description"]),
            "learningOutcomes": outcomes,
            "ects": float(spec["creditPoint"]["point"]),
            "eqfLevel": int(eqf_uri.rsplit("/", 1)[1]),
            "assessment": {"type": _en(assessment["specifiedBy"]["dcType"]["prefLabel"]), "allowedValues": ["Pass", "Fail"]},
            "participation": _en(spec["mode"]["prefLabel"]),
            # The sample has no (k) (see MICROCREDENTIAL-FIELD-MAP.md): the issuer supplies one.
            "qualityAssurance": {"description": "Internal quality assurance under the ESG", "url": "https://uniz.edu/quality"},
            "prerequisites": [_en(spec["entryRequirement"]["noteLiteral"])],
            "supervision": _en(assessment["idVerification"]["prefLabel"]),
        },
        "awardingBody": {
            "name": _en(body["legalName"]),
            "country": _en(location["address"]["countryCode"]["prefLabel"]),
            "region": _en(location["spatialCode"]["prefLabel"]),
        },
        "learner": {"name": _en(subject["fullName"]), "email": subject["contactPoint"]["emailAddress"]["id"].removeprefix("mailto:")},
        "validFrom": ec["validFrom"],
        "grade": _en(assessment["grade"]["noteLiteral"]),
        "eqfUri": eqf_uri,
    }


def test_the_commission_annex_i_sample_is_expressible_and_reads_back(vectors):
    """Every element the EC sample carries lands in the profile and is found again by the report."""
    sample = ec_sample(vectors)
    achievement = parse_achievement(sample["achievement"] | {"id": "https://uniz.edu/achievements/digital-mc-creation"})
    body = sample["awardingBody"]
    issuer = IssuerProfile("did:web:uniz.edu", body["name"], country=body["country"], region=body["region"])
    learner = Learner(**sample["learner"])
    issued = datetime.fromisoformat(sample["validFrom"].replace("Z", "+00:00"))
    vc = build_microcredential(achievement, issuer, learner, valid_from=issued, grade=sample["grade"], salt="s")
    eqf_uri = sample["eqfUri"]

    report = profile_report(vc)
    assert report.complete, report.to_json()
    values = {e.element: e.value for e in report.elements}
    assert values["a"]["name"] == "Ana Andromeda"
    assert values["b"] == "Digital micro-credential creation"
    assert values["c"] == {"addressCountry": "Ireland", "addressRegion": "Dublin city"}
    assert values["d"]["name"] == "University of Zed"
    assert values["e"] == "2022-12-31T23:00:00Z"
    assert [o["statement"] for o in values["f"]] == ["Communication, collaboration and creativity", "Developing digital content"]
    assert values["f"][1]["url"] == "http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a"
    assert values["g"] == {"ects": 2}
    assert values["h"] == {"level": 6, "url": eqf_uri}
    assert values["i"] == "artefact assessment"
    assert values["j"] == "blended"
    optional = {e.element: e.value for e in report.optional}
    assert optional["grade"]["value"] == "Pass"
    assert optional["prerequisites"] == ["The learner needs to have an EDC Online Credential Builder account, that requires an EU Login ID."]
    assert optional["supervision and identity verification"] == "Unsupervised without ID Verification"
    # A valid VC 2.0 credential that canonicalizes under safe mode with the shipped contexts.
    check_credential(vc, now=issued)
    assert canonize(vc, loader=default_loader())


# ------------------------------------------------------------------ building


def test_full_micro_credential_has_all_eleven_elements_in_the_report():
    vc = full_credential()
    assert is_microcredential(vc)
    report = profile_report(vc)
    assert [e.element for e in report.elements] == list("abcdefghijk")
    assert all(e.status == "present" for e in report.elements), report.to_json()
    assert report.complete and report.missing == [] and report.malformed == []
    j = report.to_json()
    assert j["complete"] is True and len(j["elements"]) == 11
    assert {e["element"] for e in j["optional"]} == {"prerequisites", "grade", "supervision and identity verification", "integration/stackability"}
    grade = next(e for e in j["optional"] if e["element"] == "grade")
    assert grade["value"] == {"value": "B", "assessment": "written examination"}


def test_built_credential_uses_only_defined_terms_and_canonicalizes_in_safe_mode():
    vc = full_credential(evidence=[EvidenceItem(name="Final exam", narrative="Scored 78%", id="https://uni.example/evidence/1", genre="Exam")])
    loader = default_loader()
    nquads = canonize(vc, loader=loader)
    # Every property expands to the vocabulary that defines it: nothing falls back to an @vocab.
    assert "issuer-dependent" not in nquads
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#creditsAvailable> \"5\"^^<https://www.w3.org/2001/XMLSchema#float>" in nquads
    assert "<https://schema.org/targetUrl> \"http://data.europa.eu/snb/eqf/6\"^^<https://www.w3.org/2001/XMLSchema#anyURI>" in nquads
    # Negative control: the same credential with a term the contexts do not define is refused.
    bad = copy.deepcopy(vc)
    bad["credentialSubject"]["achievement"]["ECTS"] = 5
    with pytest.raises(ProofTransformationError):
        expand(bad, loader=loader)


def test_the_achievement_document_is_the_achievement_the_credentials_carry():
    """What an achievement's URL serves to programs (issue 12, point 8): an OB 3.0 Achievement
    with the OB 3.0 contexts, the very object inside every credential awarding it, and the
    awarding body as its creator; it expands in safe mode with the shipped contexts."""
    definition = parse_achievement(achievement_json())
    doc = achievement_document(definition, ISSUER)
    carried = full_credential()["credentialSubject"]["achievement"]
    assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert {k: v for k, v in doc.items() if k not in ("@context", "creator")} == carried
    assert doc["id"] == "https://uni.example/issuers/uni/achievements/ds101" and doc["type"] == ["Achievement"]
    assert doc["achievementType"] == "MicroCredential" and doc["name"] == "Data Science Fundamentals"
    assert doc["criteria"]["narrative"] and doc["creditsAvailable"] == 5
    assert doc["creator"] == full_credential()["issuer"]  # the awarding body's Profile: (c), (d)
    expanded = expand(doc, loader=default_loader())  # safe mode: an undefined term would raise
    (node,) = expanded
    ob = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
    assert node["@type"] == [ob + "Achievement"]
    for term in ("achievementType", "creator", "Criteria", "creditsAvailable", "alignment", "resultDescription", "humanCode"):
        assert ob + term in node, term
    nquads = canonize(doc, loader=default_loader())
    assert "issuer-dependent" not in nquads
    assert "creator" not in achievement_document(definition)  # no awarding body given, none written


@pytest.mark.parametrize("text", ["1_0", "\u0665", "\uff11", "1e1", " 5", "5 ", "nan", "inf", "0x10", "+5", "5.", ".5", "-1"])
def test_ects_text_must_be_a_plain_decimal(text):
    # float() takes "1_0" as 10 and other scripts' digits; a CSV cell or form field may hold any
    # of these, and only a plain decimal is a number of ECTS credits.
    with pytest.raises(ProfileError) as refused:
        parse_achievement({**achievement_json(), "ects": text})
    assert [str(p) for p in refused.value.problems] == ["(g) workload: ECTS must be a positive number"]


def test_ects_plain_decimal_text_is_a_number():
    assert parse_achievement({**achievement_json(), "ects": "10"}).ects == 10
    assert parse_achievement({**achievement_json(), "ects": "2.5"}).ects == 2.5


@pytest.mark.parametrize("text", ["2025-06-01T12:00:00+14:30", "2025-06-01T12:00:00-15:00", "2025-06-01T12:00:00+23:59", "\u0662025-06-01T12:00:00Z"])
def test_issue_dates_beyond_fourteen_hours_or_in_other_digits_are_refused(text):
    with pytest.raises(ProfileError) as refused:
        parse_datetime(text)
    assert refused.value.problems[0].element == "e"


def test_issue_dates_at_the_zone_limits_are_read():
    assert parse_datetime("2025-06-01T12:00:00+14:00").utcoffset().total_seconds() == 14 * 3600
    assert parse_datetime("2025-06-01T12:00:00-14:00").utcoffset().total_seconds() == -14 * 3600


def test_whole_ects_are_written_as_integers_fractions_kept():
    # 5.0 and 5 canonicalize differently and other-language JSON readers turn 5.0 into 5.
    a = achievement_json() | {"ects": 5.0}
    vc = build_microcredential(parse_achievement(a), ISSUER, LEARNER, valid_from=ISSUED)
    assert type(vc["credentialSubject"]["achievement"]["creditsAvailable"]) is int
    a = achievement_json() | {"ects": 2.5}
    vc = build_microcredential(parse_achievement(a), ISSUER, LEARNER, valid_from=ISSUED)
    assert vc["credentialSubject"]["achievement"]["creditsAvailable"] == 2.5


def test_learner_email_is_only_written_salted_and_hashed():
    vc = full_credential()
    ids = vc["credentialSubject"]["identifier"]
    assert ids[0] == {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": "Ana Andromeda"}
    email = ids[1]
    assert email["hashed"] is True and email["salt"] == "fixed-salt"
    assert email["identityHash"] == "sha256$" + hashlib.sha256(b"ana@example.orgfixed-salt").hexdigest()
    assert "ana@example.org" not in str(vc)
    # Without a given salt each credential gets a fresh one (hashes are not linkable).
    a = build_microcredential(parse_achievement(achievement_json()), ISSUER, LEARNER, valid_from=ISSUED)
    b = build_microcredential(parse_achievement(achievement_json()), ISSUER, LEARNER, valid_from=ISSUED)
    ha, hb = a["credentialSubject"]["identifier"][1], b["credentialSubject"]["identifier"][1]
    assert ha["salt"] != hb["salt"] and ha["identityHash"] != hb["identityHash"]
    assert ha["identityHash"] == hash_identity("ana@example.org", ha["salt"])


def test_caller_never_holding_the_address_can_supply_the_hash():
    h = hash_identity("x@y.z", "pepper")
    vc = build_microcredential(parse_achievement(achievement_json()), ISSUER, Learner("X", email_hash=h, salt="pepper"), valid_from=ISSUED)
    assert vc["credentialSubject"]["identifier"][1]["identityHash"] == h
    with pytest.raises(ProfileError, match=r"\(a\) learner identification: emailHash needs the salt"):
        build_microcredential(parse_achievement(achievement_json()), ISSUER, Learner("X", email_hash=h), valid_from=ISSUED)


def test_definition_round_trips_through_its_json_form():
    a = parse_achievement(achievement_json())
    assert parse_achievement(a.to_json()) == a
    assert a.participation == "blended" and a.eqf_level == 6
    assert parse_achievement(achievement_json() | {"participation": "On-Site"}).participation == "on-site"


# ------------------------------------------------------------------ refusals, by element name

# For each Annex I element: how to take it away from the input.
def _drop_key(key: str):
    def f(a: dict, issuer: IssuerProfile, learner: dict, opts: dict) -> None:
        del a[key]

    return f


REMOVALS = {
    "a": lambda a, i, l, o: l.update(name=""),
    "b": _drop_key("title"),
    "c": lambda a, i, l, o: o.update(issuer=replace(i, country_code=None, country=None, region=None)),
    "d": lambda a, i, l, o: o.update(issuer=replace(i, name="")),
    "e": lambda a, i, l, o: o.update(valid_from=None),
    "f": _drop_key("learningOutcomes"),
    "g": _drop_key("ects"),
    "h": _drop_key("eqfLevel"),
    "i": _drop_key("assessment"),
    "j": _drop_key("participation"),
    "k": _drop_key("qualityAssurance"),
}


def _issue(a: dict, learner: dict, opts: dict) -> dict:
    """The whole input path the node uses: JSON achievement + JSON learner + options."""
    problems: list = []
    try:
        achievement = parse_achievement(a)
    except ProfileError as e:
        problems += e.problems
        achievement = parse_achievement(achievement_json())
    try:
        lrn = parse_learner(learner)
    except ProfileError as e:
        problems += e.problems
        lrn = LEARNER
    try:
        vc = build_microcredential(achievement, opts.get("issuer", ISSUER), lrn, valid_from=opts.get("valid_from"))
    except ProfileError as e:
        problems += e.problems
    if problems:
        raise ProfileError(problems)
    return vc


@pytest.mark.parametrize("element", list(ELEMENTS))
def test_each_element_removed_is_refused_with_its_name(element):
    a, learner, opts = achievement_json(), {"name": "Ana Andromeda"}, {"issuer": ISSUER, "valid_from": ISSUED}
    REMOVALS[element](a, ISSUER, learner, opts)
    with pytest.raises(ProfileError) as info:
        _issue(a, learner, opts)
    named = {p.element for p in info.value.problems}
    assert named == {element}, [str(p) for p in info.value.problems]
    assert str(info.value).startswith(f"({element}) {ELEMENTS[element]}: ")
    assert info.value.http_status == 422
    assert info.value.problem().extra["problems"][0].startswith(f"({element}) ")


def test_every_problem_is_listed_at_once_in_annex_order():
    bad = achievement_json() | {"ects": -2, "eqfLevel": 9, "participation": "by carrier pigeon", "learningOutcomes": []}
    del bad["title"]
    with pytest.raises(ProfileError) as info:
        parse_achievement(bad)
    messages = [str(p) for p in info.value.problems]
    assert messages == [
        "(b) title: title is required",
        "(f) learning outcomes: at least one learning outcome is required",
        "(g) workload: ECTS must be a positive number",
        "(h) EQF level: the EQF level must be an integer from 1 to 8",
        "(j) form of participation: the form of participation must be online, on-site or blended",
    ]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"ects": 0}, "(g) workload: ECTS must be a positive number"),
        ({"ects": "five"}, "(g) workload: ECTS must be a positive number"),
        ({"ects": True}, "(g) workload: ECTS must be a positive number"),
        ({"eqfLevel": 0}, "(h) EQF level: the EQF level must be an integer from 1 to 8"),
        ({"eqfLevel": 4.5}, "(h) EQF level: the EQF level must be an integer from 1 to 8"),
        ({"assessment": {"type": "  "}}, "(i) type of assessment: the type of assessment is required"),
        ({"assessment": {"type": "exam", "resultType": "Vibes"}}, "(i) type of assessment: resultType must be one of"),
        ({"qualityAssurance": {"description": "ESG"}}, "(k) quality assurance: a URL of the quality assurance"),
        ({"qualityAssurance": "accredited"}, "(k) quality assurance: qualityAssurance must be an object"),
        ({"learningOutcomes": [{"statement": "ok", "url": "not a url"}]}, "(f) learning outcomes: learning outcome 1: url must be a URL"),
        ({"integration": {"mode": "stackable"}}, "integration/stackability: stackable needs the credential it stacks into"),
        ({"id": "no scheme"}, "achievement id: must be a URL or URN"),
        ({"supervison": "typo"}, "achievement: unknown field(s) supervison"),
    ],
)
def test_malformed_elements_are_named(change, expected):
    with pytest.raises(ProfileError) as info:
        parse_achievement(achievement_json() | change)
    assert any(str(p).startswith(expected) for p in info.value.problems), [str(p) for p in info.value.problems]


def test_issue_time_checks_on_learner_issuer_grade_and_dates():
    a = parse_achievement(achievement_json())
    with pytest.raises(ProfileError) as info:
        build_microcredential(
            a,
            replace(ISSUER, country_code="NLD"),
            Learner("Ana", email="not-an-address"),
            valid_from=datetime(2025, 1, 1),  # naive
            grade="Z",
        )
    messages = [str(p) for p in info.value.problems]
    assert messages == [
        "(a) learner identification: the learner's e-mail address is malformed",
        "(c) issuer country or region: the country code must be ISO 3166-1 alpha-2, such as \"IE\"",
        "(e) date of issue: the date of issue must be a date-time with a time zone",
        "grade: 'Z' is not one of the assessment's allowed values (A, B, C, F)",
    ]
    with pytest.raises(ProfileError, match="evidence: item 1 has unknown fields colour"):
        parse_evidence([{"name": "x", "colour": "red"}])


@pytest.mark.parametrize(
    ("scale", "given", "read"),
    [
        (("A", "B", "C", "F"), "b", "B"),
        (("A", "B", "C", "F"), " B ", "B"),
        (("Pass", "Fail"), "PASS", "Pass"),
        (("A", "B", "C", "F"), "B", "B"),
        (("A", "B", "C", "F"), "z", "z"),  # not on the scale: as given, for the refusal to name
        (("A", "a", "B"), "a", "a"),
        (("A", "a", "B"), "b", "b"),  # case tells two of its values apart: taken as written
        ((), "b", "b"),  # no fixed values: any text, as given
        ((), " 8.5 ", " 8.5 "),
    ],
)
def test_a_grade_is_read_as_the_scale_writes_it_when_case_tells_none_of_its_values_apart(scale, given, read):
    assert normalise_grade(given, scale) == read


def test_the_credential_carries_the_scales_spelling_of_the_grade():
    assert full_credential(grade="b")["credentialSubject"]["result"][0]["value"] == "B"
    assert full_credential(grade=" c")["credentialSubject"]["result"][0]["value"] == "C"
    with pytest.raises(ProfileError, match="grade: 'Z' is not one of the assessment's allowed values"):
        full_credential(grade="Z")


# ------------------------------------------------------------------ the verify-time report


def _without(vc: dict, target_type: str) -> dict:
    out = copy.deepcopy(vc)
    ach = out["credentialSubject"]["achievement"]
    ach["alignment"] = [a for a in ach["alignment"] if a["targetType"] != target_type]
    return out


def _strip(vc: dict, *path: str) -> dict:
    out = copy.deepcopy(vc)
    obj = out
    for k in path[:-1]:
        obj = obj[k]
    del obj[path[-1]]
    return out


STRIPS = {
    "a": lambda vc: _strip(vc, "credentialSubject", "identifier"),
    "b": lambda vc: _strip(vc, "credentialSubject", "achievement", "name"),
    "c": lambda vc: _strip(vc, "issuer", "address"),
    "d": lambda vc: _strip(vc, "issuer", "name"),
    "e": lambda vc: _strip(vc, "validFrom"),
    "f": lambda vc: _without(vc, "ext:LearningOutcome"),
    "g": lambda vc: _strip(vc, "credentialSubject", "achievement", "creditsAvailable"),
    "h": lambda vc: _without(vc, "ext:EQFLevel"),
    "i": lambda vc: _strip(vc, "credentialSubject", "achievement", "resultDescription"),
    "j": lambda vc: _without(vc, "ext:FormOfParticipation"),
    "k": lambda vc: _without(vc, "ext:QualityAssurance"),
}


@pytest.mark.parametrize("element", list(ELEMENTS))
def test_report_names_exactly_the_missing_element(element):
    report = profile_report(STRIPS[element](full_credential()))
    assert report.is_microcredential
    assert not report.complete
    assert report.missing == [f"({element}) {ELEMENTS[element]}"]
    text = render_report(report.to_json())
    assert "INCOMPLETE" in text
    line = next(line for line in text.splitlines() if line.strip().startswith(f"({element})"))
    assert line.split("  ")[-1].strip().startswith("MISSING (")


@pytest.mark.parametrize(
    "mutate, element",
    [
        (lambda ach: ach.update(creditsAvailable="five"), "g"),
        (lambda ach: ach.update(creditsAvailable=-1), "g"),
        (lambda ach: [a.update(targetUrl="http://data.europa.eu/snb/eqf/9") for a in ach["alignment"] if a["targetType"] == "ext:EQFLevel"], "h"),
        (lambda ach: [a.update(targetCode="5") for a in ach["alignment"] if a["targetType"] == "ext:EQFLevel"], "h"),
        (lambda ach: [a.update(targetCode="telepathy") for a in ach["alignment"] if a["targetType"] == "ext:FormOfParticipation"], "j"),
    ],
)
def test_report_flags_malformed_values(mutate, element):
    vc = full_credential()
    mutate(vc["credentialSubject"]["achievement"])
    report = profile_report(vc)
    assert report.malformed == [f"({element}) {ELEMENTS[element]}"] and not report.complete


def test_report_on_a_community_ob3_micro_credential_says_what_is_missing(vectors):
    mni = load_json(vectors / "microcredentials" / "third-party" / "mynextid-open-badge-mc-example.json")
    report = profile_report(mni)
    assert report.is_microcredential
    status = {e.element: e.status for e in report.elements}
    assert {k for k, v in status.items() if v == "present"} == {"b", "d", "e", "g"}
    assert report.missing == ["(a) learner identification", "(c) issuer country or region", "(f) learning outcomes", "(h) EQF level", "(i) type of assessment", "(j) form of participation", "(k) quality assurance"]
    a = next(e for e in report.elements if e.element == "a")
    assert "emailAddress (hashed)" in a.note


def test_report_on_plain_open_badges_and_non_credentials(vectors):
    basic = load_json(vectors / "microcredentials" / "1edtech-ob3-spec-examples" / "basicOpenBadgeCredential.json")
    assert not is_microcredential(basic)
    report = profile_report(basic)
    assert not report.is_microcredential and not report.complete
    assert "Not a micro-credential" in render_report(report.to_json())
    for junk in (None, [], "x", {"credentialSubject": 5}, {"type": "OpenBadgeCredential", "credentialSubject": [1, {"achievement": []}]}):
        r = profile_report(junk)
        assert not r.complete and len(r.elements) == 11


def test_rendered_report_lists_every_element_with_its_value():
    text = render_report(profile_report(full_credential()).to_json())
    lines = text.splitlines()
    assert lines[0] == "EU micro-credential (Annex I): all mandatory elements present"
    for key, name in ELEMENTS.items():
        assert any(line.strip().startswith(f"({key}) {name}") for line in lines)
    assert "Netherlands (NL), Utrecht" in text
    assert "5 ECTS credits" in text and "EQF level 6" in text
    assert "University of Example (did:web:uni.example:issuers:uni)" in text
    assert "B in written examination" in text


def test_attach_report_adds_information_only_for_micro_credentials(vectors):
    from vc.edu import attach_report
    from vc.results import Check, VerificationResult

    result = VerificationResult("credential", checks=[Check("proof", "passed")])
    attach_report(STRIPS["k"](full_credential()), result)
    assert result.verified  # an incomplete profile is not a failed check
    assert result.to_json()["microcredential"]["missing"] == ["(k) quality assurance"]
    plain = VerificationResult("credential", checks=[Check("proof", "passed")])
    attach_report(load_json(vectors / "microcredentials" / "1edtech-ob3-spec-examples" / "basicOpenBadgeCredential.json"), plain)
    assert plain.reports == {}

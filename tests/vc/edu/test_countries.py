"""Country codes in the education profile: ISO 3166-1 codes that exist (pycountry's copy of the
ISO list), never just two letters. Element (c) at issue and at verification, and the
jurisdictions of an accreditation's scope."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from vc.edu import IssuerProfile, Learner, ProfileError, build_microcredential, country_problem, parse_achievement, profile_report
from vc.edu.accreditation import AccreditationError, credential_facts, jurisdiction, scope_from_json

ISSUED = datetime(2025, 5, 1, tzinfo=timezone.utc)
DID = "did:web:uni.example:issuers:uni"
ACHIEVEMENT = {
    "id": "https://uni.example/issuers/uni/achievements/ds101",
    "title": "Data Science Fundamentals",
    "description": "Statistics and Python for data analysis.",
    "learningOutcomes": ["Explain the assumptions of linear regression"],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": "written examination",
    "participation": "online",
    "qualityAssurance": {"description": "Institutional accreditation by NVAO", "url": "https://www.nvao.net/decisions/12345"},
}


def build(country_code: str | None, **issuer: Any) -> dict[str, Any]:
    return build_microcredential(
        parse_achievement(ACHIEVEMENT), IssuerProfile(DID, "University of Example", country_code=country_code, **issuer), Learner("Ana"), valid_from=ISSUED
    )


def problems_of(country_code: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        build(country_code)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("code", ["IE", "NL", "US", "JP"])
def test_a_real_alpha_2_code_is_written_and_reads_back_present(code: str) -> None:
    vc = build(code)
    assert vc["issuer"]["address"]["addressCountryCode"] == code
    c = next(e for e in profile_report(vc).elements if e.element == "c")
    assert (c.status, c.value) == ("present", {"addressCountryCode": code})
    assert country_problem(code) is None


@pytest.mark.parametrize("code", ["XX", "ZZ"])
def test_a_code_of_no_country_is_refused_naming_element_c(code: str) -> None:
    assert problems_of(code) == [f"(c) issuer country or region: {code!r} is not an ISO 3166-1 alpha-2 country code: no country has it"]


def test_a_lower_case_code_is_refused_with_its_capital_form_not_changed() -> None:
    assert problems_of("nl") == [
        "(c) issuer country or region: the country code 'nl' must be written in capitals, as ISO 3166-1 writes it: 'NL'"
    ]
    assert problems_of("Nl") == [
        "(c) issuer country or region: the country code 'Nl' must be written in capitals, as ISO 3166-1 writes it: 'NL'"
    ]


@pytest.mark.parametrize("code, iso", [("UK", "GB"), ("EL", "GR")])
def test_the_eus_own_abbreviations_are_refused_with_the_iso_code(code: str, iso: str) -> None:
    assert problems_of(code) == [f"(c) issuer country or region: {code!r} is the EU's abbreviation; the ISO 3166-1 alpha-2 code is {iso!r}"]


@pytest.mark.parametrize("code", ["NLD", "N", "", "1A", "ÉÉ"])
def test_anything_but_two_letters_is_refused_as_not_alpha_2(code: str) -> None:
    assert problems_of(code) == ["(c) issuer country or region: the country code must be ISO 3166-1 alpha-2, such as \"IE\""]


def test_a_region_alone_still_satisfies_element_c() -> None:
    vc = build(None, region="Utrecht")
    assert next(e for e in profile_report(vc).elements if e.element == "c").status == "present"


@pytest.mark.parametrize(
    "code, note",
    [
        ("XX", "addressCountryCode: 'XX' is not an ISO 3166-1 alpha-2 country code: no country has it"),
        ("nl", "addressCountryCode: the country code 'nl' must be written in capitals, as ISO 3166-1 writes it: 'NL'"),
        ("UK", "addressCountryCode: 'UK' is the EU's abbreviation; the ISO 3166-1 alpha-2 code is 'GB'"),
    ],
)
def test_the_report_calls_a_signed_code_of_no_country_malformed(code: str, note: str) -> None:
    vc = copy.deepcopy(build("NL"))
    vc["issuer"]["address"]["addressCountryCode"] = code
    report = profile_report(vc)
    c = next(e for e in report.elements if e.element == "c")
    assert (c.status, c.note) == ("malformed", note)
    assert report.malformed == ["(c) issuer country or region"] and not report.complete


# --- accreditation jurisdictions (the EU country authority's alpha-3 codes) -------------------


@pytest.mark.parametrize("given, code", [("NL", "NLD"), ("NLD", "NLD"), ("US", "USA"), ("UK", "GBR"), ("EL", "GRC"), ("GR", "GRC")])
def test_jurisdictions_take_alpha_2_alpha_3_and_the_eus_abbreviations(given: str, code: str) -> None:
    assert jurisdiction(given) == code
    assert scope_from_json({"jurisdictions": [given]}).jurisdictions == (code,)


@pytest.mark.parametrize("given", ["XX", "ZZ", "ZZZ", "nl", "nld", "Netherlands", 528])
def test_jurisdictions_of_no_country_are_refused_by_name(given: Any) -> None:
    assert jurisdiction(given) is None
    with pytest.raises(AccreditationError, match=r"scope\.jurisdictions: .* is not the code of a country \(ISO 3166-1 alpha-2 or alpha-3"):
        scope_from_json({"jurisdictions": ["NL", given]})


def test_an_issuer_country_anywhere_maps_to_its_jurisdiction() -> None:
    # The table is the ISO list, not the EU/EEA alone: a US issuer is outside an NLD-only scope
    # rather than of unknown country.
    assert credential_facts(build("US")).country == "USA"
    assert credential_facts(build("NL")).country == "NLD"
    assert credential_facts(build(None, country="Netherlands")).country is None

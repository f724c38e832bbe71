"""The micro-credential input (vc.edu): parse_achievement, parse_learner, parse_evidence, parse_datetime.

Council Recommendation 2022/C 243/02 Annex I, as docs/microcredential-profile.md maps it.
A definition generated from valid parts reads back from its JSON form unchanged, and
whatever parse_achievement accepts is awardable (no element problem) and reads back from its
own JSON form as itself. Any JSON (arbitrary, or a valid definition, learner or evidence list
with one member replaced, removed or added) is read or refused with ProfileError, which names
at least one problem.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from hypothesis import example, given
from hypothesis import strategies as st

from strategies import any_text, huge_digits, json_values, near_valid_object
from vc.edu import (
    AchievementDefinition,
    ProfileError,
    achievement_problems,
    learner_problems,
    parse_achievement,
    parse_datetime,
    parse_evidence,
    parse_learner,
)
from vc.edu.model import INTEGRATION_MODES, MAX_ECTS, RESULT_TYPES

T = TypeVar("T")

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=12)
uris = st.one_of(
    st.sampled_from(["https://uni.example/a/ds101", "urn:uuid:0f0e2b4e-8d56-4d0b-a7a1-0d4c8c7e2d11", "did:example:x"]),
    st.text(st.sampled_from("abcdefXYZ0189-._~/"), min_size=1, max_size=12).map(lambda p: "https://x.example/" + p),
)
# (g) is bounded (MAX_ECTS) and kept to hundredths, so every canonicaliser writes it alike.
ects = st.one_of(st.integers(1, MAX_ECTS), st.integers(1, MAX_ECTS * 100).map(lambda n: n / 100))
outcome = st.one_of(words, st.fixed_dictionaries({"statement": words}, optional={"url": uris, "framework": words, "code": words}))


@st.composite
def achievements(draw: st.DrawFn) -> dict[str, Any]:
    """The JSON form of a valid definition, optional elements sometimes present."""
    doc: dict[str, Any] = {
        "id": draw(uris),
        "title": draw(words),
        "description": draw(words),
        "learningOutcomes": draw(st.lists(outcome, min_size=1, max_size=3)),
        "ects": draw(ects),
        "eqfLevel": draw(st.integers(1, 8)),
        "assessment": draw(
            st.one_of(
                words,
                st.fixed_dictionaries(
                    {"type": words},
                    optional={
                        "resultType": st.sampled_from(sorted(RESULT_TYPES) + ["ext:Custom"]),
                        "allowedValues": st.lists(words, min_size=1, max_size=3),
                        "requiredValue": words,
                    },
                ),
            )
        ),
        "participation": draw(st.sampled_from(["online", "on-site", "blended", " Online ", "in person", "onsite"])),
        "qualityAssurance": draw(st.fixed_dictionaries({"description": words, "url": uris}, optional={"framework": words})),
    }
    optional = {
        "criteria": words,
        "language": st.sampled_from(["en", "de-AT", "ga", "nl-BE-x-custom"]),
        "humanCode": words,
        "fieldOfStudy": words,
        "tags": st.lists(words, min_size=1, max_size=3),
        "image": uris,
        "prerequisites": st.one_of(words, st.lists(words, min_size=1, max_size=2)),
        "supervision": words,
        "integration": st.one_of(
            st.just("stand-alone"),
            st.fixed_dictionaries({"mode": st.sampled_from(INTEGRATION_MODES), "towards": words}, optional={"url": uris}),
        ),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        doc[key] = draw(optional[key])
    return doc


@given(achievements())
def test_valid_definitions_read_back_from_their_json_form(doc: dict[str, Any]) -> None:
    definition = parse_achievement(doc)
    assert achievement_problems(definition) == []
    assert parse_achievement(definition.to_json()) == definition


BASE = {
    "id": "https://uni.example/a/ds101",
    "title": "Data Science Fundamentals",
    "description": "Statistics and Python.",
    "learningOutcomes": ["Explain linear regression"],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": {"type": "written examination", "resultType": "LetterGrade", "allowedValues": ["A", "F"]},
    "participation": "blended",
    "qualityAssurance": {"description": "Accredited by NVAO", "url": "https://www.nvao.net/d/1"},
    "integration": {"mode": "stackable", "towards": "MSc"},
}
hostile_values = st.one_of(
    json_values(max_leaves=8),
    any_text,
    huge_digits,
    st.sampled_from(["\u00b2", "\u0663", "\uff11", " 6 ", "1e400", "nan", "inf", "-1", "1_0", "0x10", 10**400, 1e308]),
)
# Numbers arrive as text from forms and CSV files: digits of other scripts, signs, separators.
numeric_texts = st.one_of(st.text(st.sampled_from("0123456789 .-+e_\u00b2\u0663\uff11"), min_size=1, max_size=5), huge_digits)
hostile_achievements = st.one_of(
    achievements().flatmap(lambda doc: near_valid_object(doc, hostile_values)),
    st.builds(lambda doc, key, text: {**doc, key: text}, achievements(), st.sampled_from(["ects", "eqfLevel"]), numeric_texts),
    near_valid_object(BASE, hostile_values),
    json_values(max_leaves=10),
)


def _read(parse: Callable[[Any], T], data: Any) -> T | None:
    """``parse(data)``, or None when it refuses with a ProfileError that names a problem."""
    try:
        return parse(data)
    except ProfileError as e:
        assert e.problems and e.code == "MALFORMED_VALUE_ERROR" and e.http_status == 422
        return None


@given(hostile_achievements)
@example({**BASE, "eqfLevel": "\u00b2"})  # found: '²'.isdigit() is true but int('²') raises ValueError
@example({**BASE, "eqfLevel": "1" + "0" * 4300})  # found: int() refuses past 4,300 digits
def test_any_definition_is_read_or_refused_with_profile_error(doc: Any) -> None:
    definition = _read(parse_achievement, doc)
    if definition is None:
        return
    assert isinstance(definition, AchievementDefinition)
    assert achievement_problems(definition) == []
    assert parse_achievement(definition.to_json()) == definition


learners = st.one_of(
    near_valid_object({"name": "Ana Andromeda", "email": "ana@example.org", "id": "did:example:ana"}, hostile_values),
    near_valid_object({"name": "Ana", "emailHash": "sha256$" + "ab" * 32, "salt": "s"}, hostile_values),
    json_values(max_leaves=6),
    any_text,
)


@given(learners)
def test_any_learner_is_read_or_refused_with_profile_error(data: Any) -> None:
    learner = _read(parse_learner, data)
    if learner is None:
        return
    assert learner_problems(learner) == []
    assert learner.name.strip()


evidence = st.one_of(
    near_valid_object({"id": "https://uni.example/e/1", "name": "Project", "narrative": "Built a model"}, hostile_values),
    st.lists(near_valid_object({"narrative": "x", "type": "Evidence"}, hostile_values), max_size=3),
    json_values(max_leaves=6),
)


@given(evidence)
def test_any_evidence_is_read_or_refused_with_profile_error(data: Any) -> None:
    items = _read(parse_evidence, data)
    if items is None:
        return
    assert isinstance(items, tuple)
    assert all(any(v is not None for v in vars(item).values()) for item in items)


dates = st.one_of(
    st.datetimes(timezones=st.just(None)).map(lambda d: d.isoformat(timespec="seconds") + "Z"),
    st.dates().map(str),
    any_text,
    st.sampled_from(["2025-06-01T12:00:00+99:99", "2025-02-30", "10000-01-01T00:00:00Z", "\uff12025-01-01"]),
    json_values(max_leaves=3),
)


@given(dates)
def test_any_issue_date_is_an_aware_datetime_or_a_profile_error(value: Any) -> None:
    parsed = _read(parse_datetime, value)
    if parsed is None:
        return
    assert parsed.tzinfo is not None

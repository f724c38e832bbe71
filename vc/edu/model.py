"""The Annex I model of the EU micro-credential profile, and reading it from JSON.

Council Recommendation of 16 June 2022 on a European approach to micro-credentials
(2022/C 243/02), Annex I: part I lists the mandatory elements (a)-(k), part II optional ones.
A micro-credential here is an ``OpenBadgeCredential`` (Open Badges 3.0 §8.1) whose achievement
has ``achievementType: "MicroCredential"`` and carries every part I element in the one place
``docs/microcredential-profile.md`` gives it, using only terms the pinned VC 2.0 and OB 3.0.3
contexts define, so any Open Badges 3.0 verifier still verifies it.

This module holds the vocabulary (element names, alignment target types, the EU concept URLs),
the typed definitions (achievement, issuer, learner, evidence) and their parsing from JSON with
*every* problem named by its element. ``vc.edu.build`` writes a credential from them and
``vc.edu.report`` reads one back at verification. Everything here is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

import pycountry

from vc.errors import MalformedValueError

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXT = [CREDENTIALS_V2, OB_V3P0]

ACHIEVEMENT_TYPE = "MicroCredential"
EQF_FRAMEWORK = "European Qualifications Framework"
EQF_BASE = "http://data.europa.eu/snb/eqf/"
# Europass "mode of learning and assessment" concepts, as the EC Annex I sample uses them.
# Only the two concepts that appear in the published samples are named; on-site points at
# the concept scheme (a URL is mandatory in an OB3 Alignment) rather than at a guessed code.
MODE_SCHEME = "http://data.europa.eu/snb/learning-assessment/25831c2"
PARTICIPATION_URLS = {
    "online": "http://data.europa.eu/snb/learning-assessment/920fbb3cbe",
    "blended": "http://data.europa.eu/snb/learning-assessment/e92d221e4d",
    "on-site": MODE_SCHEME,
}
PARTICIPATION_FRAMEWORK = "Europass mode of learning and assessment"
_PARTICIPATION_ALIASES = {"onsite": "on-site", "on site": "on-site", "in-person": "on-site", "in person": "on-site"}

# OB 3.0 AlignmentTargetType is an extensible enumeration: extensions start with "ext:".
T_OUTCOME = "ext:LearningOutcome"
T_EQF = "ext:EQFLevel"
T_PARTICIPATION = "ext:FormOfParticipation"
T_QA = "ext:QualityAssurance"
T_PREREQUISITE = "ext:Prerequisite"
T_SUPERVISION = "ext:SupervisionAndIdentityVerification"
T_INTEGRATION = "ext:Integration"

# OB 3.0 ResultType enumeration (§B.1.x ResultType), extensible with "ext:".
RESULT_TYPES = frozenset(
    {
        "GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore", "RawScore",
        "Result", "RubricCriterion", "RubricCriterionLevel", "RubricScore", "ScaledScore", "Status",
    }
)
INTEGRATION_MODES = ("stand-alone", "integrated", "stackable")
LEARNER_FIELDS = ("name", "email", "id", "emailHash", "salt")
# (g) The bound is a master's degree (120) and more: anything larger is a typing error, and a
# number past 2**53 cannot be signed with eddsa-jcs-2022 at all.
MAX_ECTS = 180
# (e) and other dates: credentials write them in UTC with four-digit years.
MIN_YEAR = 1000

# Annex I part I, in order: key -> short name used in every message and report.
ELEMENTS: dict[str, str] = {
    "a": "learner identification",
    "b": "title",
    "c": "issuer country or region",
    "d": "awarding body",
    "e": "date of issue",
    "f": "learning outcomes",
    "g": "workload",
    "h": "EQF level",
    "i": "type of assessment",
    "j": "form of participation",
    "k": "quality assurance",
}
# Annex I part II (optional), in order.
OPTIONAL_ELEMENTS = ("prerequisites", "grade", "supervision and identity verification", "integration/stackability")


def label(element: str) -> str:
    """``"g"`` -> ``"(g) workload"``; anything else is already a label."""
    return f"({element}) {ELEMENTS[element]}" if element in ELEMENTS else element


@dataclass(frozen=True)
class ElementProblem:
    element: str  # "a".."k", an optional element's name, or another field ("achievement id", "evidence")
    message: str

    def __str__(self) -> str:
        return f"{label(self.element)}: {self.message}"


class ProfileError(MalformedValueError):
    """The input cannot make a complete micro-credential. Carries *every* problem found, so
    one round-trip tells the caller all that is wrong; raised before anything is signed."""

    title = "The micro-credential is incomplete or malformed"
    http_status = 422

    def __init__(self, problems: Iterable[ElementProblem]) -> None:
        # Annex I order first, then the other fields, each group in the order found.
        order = list(ELEMENTS)
        self.problems = sorted(problems, key=lambda x: order.index(x.element) if x.element in order else len(order))
        super().__init__("; ".join(str(p) for p in self.problems), problems=[str(p) for p in self.problems])


class _Problems:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.items: list[ElementProblem] = []

    def add(self, element: str, message: str) -> None:
        self.items.append(ElementProblem(element, message))

    def extend(self, other: Iterable[ElementProblem]) -> None:
        self.items.extend(other)

    def raise_if_any(self) -> None:
        if self.items:
            raise ProfileError(self.items)


# ---------------------------------------------------------------- the typed model


@dataclass(frozen=True)
class LearningOutcome:
    """(f) One learning outcome; ``url`` names it in a framework (an ESCO skill, say)."""

    statement: str
    url: str | None = None
    framework: str | None = None  # e.g. "ESCO"
    code: str | None = None


@dataclass(frozen=True)
class Assessment:
    """(i) How the learning outcomes are assessed; becomes an OB3 ``ResultDescription``.
    ``type`` is the element's value ("written examination", "artefact assessment", ...)."""

    type: str
    result_type: str = "Status"
    allowed_values: tuple[str, ...] = ()
    required_value: str | None = None


@dataclass(frozen=True)
class QualityAssurance:
    """(k) The quality assurance the issuer operates under (accreditation, external QA)."""

    description: str
    url: str  # the accreditation decision, QA report or framework
    framework: str | None = None


@dataclass(frozen=True)
class Integration:
    """Part II: stand-alone, integrated into, or stackable towards another credential."""

    mode: str  # one of INTEGRATION_MODES
    towards: str | None = None  # the credential it integrates or stacks into
    url: str | None = None


@dataclass(frozen=True)
class AchievementDefinition:
    """The course or module, defined once per issuer and awarded many times."""

    id: str  # URL or URN; the node uses the URL it publishes the definition at
    title: str  # (b)
    description: str
    learning_outcomes: tuple[LearningOutcome, ...]  # (f)
    ects: float  # (g)
    eqf_level: int  # (h)
    assessment: Assessment  # (i)
    participation: str  # (j) "online" | "on-site" | "blended"
    quality_assurance: QualityAssurance  # (k)
    criteria: str | None = None  # how the achievement is earned (OB3 criteria.narrative)
    language: str | None = None
    human_code: str | None = None
    field_of_study: str | None = None
    tags: tuple[str, ...] = ()
    image: str | None = None
    prerequisites: tuple[str, ...] = ()  # part II
    supervision: str | None = None  # part II: supervision and identity verification
    integration: Integration | None = None  # part II

    def problems(self) -> list[ElementProblem]:
        return achievement_problems(self)

    def to_json(self) -> dict[str, Any]:
        """The input/storage form (what ``parse_achievement`` reads back)."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "learningOutcomes": [drop_none({"statement": o.statement, "url": o.url, "framework": o.framework, "code": o.code}) for o in self.learning_outcomes],
            "ects": json_number(self.ects),
            "eqfLevel": self.eqf_level,
            "assessment": drop_none(
                {
                    "type": self.assessment.type,
                    "resultType": self.assessment.result_type,
                    "allowedValues": list(self.assessment.allowed_values) or None,
                    "requiredValue": self.assessment.required_value,
                }
            ),
            "participation": self.participation,
            "qualityAssurance": drop_none(
                {"description": self.quality_assurance.description, "url": self.quality_assurance.url, "framework": self.quality_assurance.framework}
            ),
            "criteria": self.criteria,
            "language": self.language,
            "humanCode": self.human_code,
            "fieldOfStudy": self.field_of_study,
            "tags": list(self.tags) or None,
            "image": self.image,
            "prerequisites": list(self.prerequisites) or None,
            "supervision": self.supervision,
            "integration": drop_none({"mode": self.integration.mode, "towards": self.integration.towards, "url": self.integration.url})
            if self.integration
            else None,
        }
        return drop_none(out)


@dataclass(frozen=True)
class IssuerProfile:
    """The awarding body as it appears in ``issuer`` (an OB3 ``Profile``)."""

    id: str  # the issuer's DID
    name: str  # (d)
    country_code: str | None = None  # (c) ISO 3166-1 alpha-2
    country: str | None = None  # (c) the country's name
    region: str | None = None  # (c)
    url: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Learner:
    """(a) The learner: a name, optionally an e-mail (only its salted hash is written) and a
    DID. ``email_hash`` + ``salt`` let a caller that never holds the address supply the hash."""

    name: str
    email: str | None = None
    id: str | None = None
    email_hash: str | None = None
    salt: str | None = None


@dataclass(frozen=True)
class EvidenceItem:
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    id: str | None = None  # a URL of the evidence
    genre: str | None = None


# ---------------------------------------------------------------- validation


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_HTTP = re.compile(r"^https?://[^\s/]+\S*$")
# RFC 5646 §2.1 langtag / privateuse / grandfathered, case-insensitive (well-formed, §2.2.9;
# a repeated variant or singleton is checked apart).
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language (with extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_GRANDFATHERED = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao|i-tay|i-tsu|"
    "sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANG = re.compile(rf"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_GRANDFATHERED}", re.IGNORECASE | re.ASCII)
_HASH = re.compile(r"^(sha256|md5)\$[0-9a-f]+$")


def is_language_tag(v: Any) -> bool:
    """A well-formed BCP 47 (RFC 5646 §2.2.9) language tag: the grammar, and no variant or
    extension singleton twice."""
    if not isinstance(v, str) or not _LANG.fullmatch(v):
        return False
    subtags = v.lower().split("-")
    if "x" in subtags:
        subtags = subtags[: subtags.index("x")]
    variants = [t for t in subtags[1:] if len(t) >= 5 or (len(t) == 4 and t[0].isdigit())]
    singletons = [t for t in subtags[1:] if len(t) == 1]
    return len(set(variants)) == len(variants) and len(set(singletons)) == len(singletons)


def is_uri(v: Any) -> bool:
    return isinstance(v, str) and bool(_URI.fullmatch(v))


def is_blank(v: Any) -> bool:
    return not isinstance(v, str) or not v.strip()


def achievement_problems(a: AchievementDefinition) -> list[ElementProblem]:
    """Every problem of a definition, by element. An empty list means it can be awarded."""
    p = _Problems()
    if not is_uri(a.id):
        p.add("achievement id", "must be a URL or URN")
    if is_blank(a.title):
        p.add("b", "a title is required")
    if is_blank(a.description):
        p.add("description", "a description is required (Open Badges 3.0 requires Achievement.description)")
    if not a.learning_outcomes:
        p.add("f", "at least one learning outcome is required")
    for n, o in enumerate(a.learning_outcomes, 1):
        if is_blank(o.statement):
            p.add("f", f"learning outcome {n} needs a statement")
        if o.url is not None and not is_uri(o.url):
            p.add("f", f"learning outcome {n}: url must be a URL")
    if isinstance(a.ects, bool) or not isinstance(a.ects, (int, float)) or not a.ects > 0 or a.ects != a.ects or a.ects == float("inf"):
        p.add("g", "ECTS must be a positive number")
    elif a.ects > MAX_ECTS or Fraction(str(a.ects)) * 100 % 1:
        # Beyond these every stack writes them alike, but some canonicalisers do not (1e-300 is
        # "0" to jsonld.js), and a number past 2**53 is refused by eddsa-jcs-2022 at every award.
        p.add("g", f"ECTS must be at most {MAX_ECTS} with at most two decimals, such as 2.5 (got {a.ects!r})")
    if isinstance(a.eqf_level, bool) or not isinstance(a.eqf_level, int) or not 1 <= a.eqf_level <= 8:
        p.add("h", "the EQF level must be an integer from 1 to 8")
    if not isinstance(a.assessment, Assessment) or is_blank(a.assessment.type):
        p.add("i", "the type of assessment is required (for example \"written examination\")")
    else:
        rt = a.assessment.result_type
        if not isinstance(rt, str) or not (rt in RESULT_TYPES or (rt.startswith("ext:") and len(rt) > 4)):
            p.add("i", f"resultType must be one of {', '.join(sorted(RESULT_TYPES))} or start with \"ext:\"")
        if any(is_blank(v) for v in a.assessment.allowed_values):
            p.add("i", "allowed values must be non-empty strings")
    if normalise_participation(a.participation) is None:
        p.add("j", "the form of participation must be online, on-site or blended")
    qa = a.quality_assurance
    if not isinstance(qa, QualityAssurance) or is_blank(qa.description):
        p.add("k", "the type of quality assurance is required")
    if isinstance(qa, QualityAssurance) and not is_uri(qa.url):
        p.add("k", "a URL of the quality assurance (accreditation decision, QA report or framework) is required")
    if a.language is not None and not is_language_tag(a.language):
        p.add("language", "must be a BCP 47 language tag such as \"en\"")
    if a.image is not None and not is_uri(a.image):
        p.add("image", "must be a URL")
    if any(is_blank(x) for x in a.prerequisites):
        p.add("prerequisites", "each prerequisite must be a non-empty text")
    if a.supervision is not None and is_blank(a.supervision):
        p.add("supervision and identity verification", "must be a non-empty text when given")
    if a.integration is not None:
        if a.integration.mode not in INTEGRATION_MODES:
            p.add("integration/stackability", "mode must be stand-alone, integrated or stackable")
        elif a.integration.mode != "stand-alone" and is_blank(a.integration.towards) and a.integration.url is None:
            p.add("integration/stackability", f"{a.integration.mode} needs the credential it {'stacks' if a.integration.mode == 'stackable' else 'integrates'} into (towards or url)")
        if a.integration.url is not None and not is_uri(a.integration.url):
            p.add("integration/stackability", "url must be a URL")
    return p.items


def normalise_grade(grade: str, allowed_values: Sequence[str]) -> str:
    """``grade`` as the assessment's scale writes it (``b`` -> ``B``, ``" pass "`` -> ``Pass``)
    when neither case nor surrounding spaces tell any two of the scale's values apart: a grade
    typed by a person (a spreadsheet cell, a form) is not a program's exact value. Otherwise
    (``A`` and ``a`` both on the scale), for a grade not on the scale, and for an assessment
    without fixed values, ``grade`` as given, and the check names the allowed values. Every
    reader of a grade goes through this (``build_microcredential``, the node's HTTP API and
    ``vcnode issue-batch``), so all take the same spellings."""
    if grade in allowed_values:
        return grade
    by_fold = {value.strip().casefold(): value for value in allowed_values}
    if len(by_fold) != len(allowed_values):
        return grade
    return by_fold.get(grade.strip().casefold(), grade)


def normalise_participation(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    v = _PARTICIPATION_ALIASES.get(v, v)
    return v if v in PARTICIPATION_URLS else None


# ---------------------------------------------------------------- parsing JSON input


ACHIEVEMENT_FIELDS = (
    "id", "title", "description", "learningOutcomes", "ects", "eqfLevel", "assessment", "participation",
    "qualityAssurance", "criteria", "language", "humanCode", "fieldOfStudy", "tags", "image", "prerequisites",
    "supervision", "integration",
)


def parse_achievement(data: Any, *, id: str | None = None) -> AchievementDefinition:
    """Read the JSON form (HTTP body, CLI file, store) into a definition, naming every
    problem at once. ``id`` overrides the document's (the node assigns ids)."""
    p = _Problems()
    if not isinstance(data, Mapping):
        raise ProfileError([ElementProblem("achievement", "must be a JSON object")])
    absent: set[str] = set()
    unknown = sorted(k for k in data if k not in ACHIEVEMENT_FIELDS)
    if unknown:
        # A misspelt optional field would otherwise vanish without a word.
        p.add("achievement", f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(ACHIEVEMENT_FIELDS)}")

    def text(key: str, element: str, *, required: bool = False) -> str | None:
        v = data.get(key)
        if v is None:
            if required:
                p.add(element, f"{key} is required")
                absent.add(element)
            return None
        if not isinstance(v, str) or (required and not v.strip()):
            p.add(element, f"{key} must be a {'non-empty ' if required else ''}string")
            absent.add(element)
            return None
        return v

    outcomes: list[LearningOutcome] = []
    raw_outcomes = data.get("learningOutcomes")
    if raw_outcomes is None:
        p.add("f", "learningOutcomes is required (a list of statements)")
        absent.add("f")
    elif not isinstance(raw_outcomes, list):
        p.add("f", "learningOutcomes must be a list")
        absent.add("f")
    else:
        for n, o in enumerate(raw_outcomes, 1):
            if isinstance(o, str):
                outcomes.append(LearningOutcome(o))
            elif isinstance(o, Mapping) and isinstance(o.get("statement"), str):
                extra = {k: o.get(k) for k in ("url", "framework", "code")}
                bad = [k for k, v in extra.items() if v is not None and not isinstance(v, str)]
                if bad:
                    p.add("f", f"learning outcome {n}: {', '.join(bad)} must be strings")
                    continue
                outcomes.append(LearningOutcome(o["statement"], **extra))
            else:
                p.add("f", f"learning outcome {n} must be a statement or an object with a statement")

    ects = data.get("ects")
    if ects is None:
        p.add("g", "ects is required (ECTS credits, a positive number)")
        absent.add("g")
    elif isinstance(ects, str) and re.fullmatch(r"[0-9]{1,9}(?:\.[0-9]{1,9})?", ects):
        # A plain decimal only (a CSV cell, say): float() would also take "1_0" as 10, "٥" as
        # 5, "1e3", " 5 " and "nan"; anything else stays a string and is refused as (g).
        ects = float(ects)
    eqf = data.get("eqfLevel")
    if eqf is None:
        p.add("h", "eqfLevel is required (1 to 8)")
        absent.add("h")
    elif isinstance(eqf, str) and eqf.strip().isascii() and eqf.strip().isdigit() and len(eqf.strip()) < 10:
        eqf = int(eqf)  # ASCII only: "²".isdigit() is true, and int() refuses it and 4,301+ digits

    raw_assessment = data.get("assessment")
    assessment: Assessment | None = None
    if raw_assessment is None:
        p.add("i", "assessment is required (the type of assessment)")
        absent.add("i")
    elif isinstance(raw_assessment, str):
        assessment = Assessment(raw_assessment)
    elif isinstance(raw_assessment, Mapping):
        allowed = raw_assessment.get("allowedValues") or ()
        if not isinstance(allowed, (list, tuple)) or not all(isinstance(x, str) for x in allowed):
            p.add("i", "allowedValues must be a list of strings")
            allowed = ()
        required_value = raw_assessment.get("requiredValue")
        if required_value is not None and not isinstance(required_value, str):
            p.add("i", "requiredValue must be a string")
            required_value = None
        assessment = Assessment(
            raw_assessment.get("type") if isinstance(raw_assessment.get("type"), str) else "",
            raw_assessment.get("resultType", "Status"),
            tuple(allowed),
            required_value,
        )
    else:
        p.add("i", "assessment must be a text or an object with a type")
        absent.add("i")

    participation = data.get("participation")
    if participation is None:
        p.add("j", "participation is required (online, on-site or blended)")
        absent.add("j")

    raw_qa = data.get("qualityAssurance")
    qa: QualityAssurance | None = None
    if raw_qa is None:
        p.add("k", "qualityAssurance is required (a description and a URL)")
        absent.add("k")
    elif isinstance(raw_qa, Mapping):
        desc, url, fw = raw_qa.get("description"), raw_qa.get("url"), raw_qa.get("framework")
        if fw is not None and not isinstance(fw, str):
            p.add("k", "framework must be a string")
            fw = None
        qa = QualityAssurance(desc if isinstance(desc, str) else "", url if isinstance(url, str) else "", fw)
    else:
        p.add("k", "qualityAssurance must be an object with a description and a URL")
        absent.add("k")

    tags = data.get("tags") or ()
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        p.add("tags", "must be a list of strings")
        tags = ()
    prereq = data.get("prerequisites") or ()
    if isinstance(prereq, str):
        prereq = (prereq,)
    if not isinstance(prereq, (list, tuple)) or not all(isinstance(t, str) for t in prereq):
        p.add("prerequisites", "must be a text or a list of texts")
        prereq = ()
    raw_int = data.get("integration")
    integration: Integration | None = None
    if isinstance(raw_int, str):
        integration = Integration(raw_int)
    elif isinstance(raw_int, Mapping):
        vals = {k: raw_int.get(k) for k in ("mode", "towards", "url")}
        if any(v is not None and not isinstance(v, str) for v in vals.values()):
            p.add("integration/stackability", "mode, towards and url must be strings")
        else:
            integration = Integration(vals["mode"] or "", vals["towards"], vals["url"])
    elif raw_int is not None:
        p.add("integration/stackability", "must be a mode or an object with mode, towards, url")

    values = {k: text(k, k) for k in ("criteria", "language", "humanCode", "fieldOfStudy", "image", "supervision")}
    title = text("title", "b", required=True)
    description = text("description", "description", required=True)
    ach_id = id if id is not None else data.get("id")
    if ach_id is None:
        p.add("achievement id", "id is required (a URL or URN)")
        absent.add("achievement id")
    a = AchievementDefinition(
        id=ach_id if isinstance(ach_id, str) else "",
        title=title or "",
        description=description or "",
        learning_outcomes=tuple(outcomes),
        ects=ects,  # type: ignore[arg-type]  # checked below, with the others
        eqf_level=eqf,  # type: ignore[arg-type]
        assessment=assessment or Assessment("x"),
        participation=participation if isinstance(participation, str) else "",
        quality_assurance=qa or QualityAssurance("x", "urn:x"),
        criteria=values["criteria"],
        language=values["language"],
        human_code=values["humanCode"],
        field_of_study=values["fieldOfStudy"],
        tags=tuple(tags),
        image=values["image"],
        prerequisites=tuple(prereq),
        supervision=values["supervision"],
        integration=integration,
    )
    # Semantic checks on what could be read; elements already reported as absent or
    # unreadable carry placeholders, so their semantic complaints would only repeat.
    for problem in achievement_problems(a):
        if problem.element not in absent and problem not in p.items:
            p.add(problem.element, problem.message)
    p.raise_if_any()
    if isinstance(a.ects, float) and a.ects.is_integer():
        a = replace(a, ects=int(a.ects))
    return replace(a, participation=normalise_participation(a.participation) or a.participation)


def parse_learner(data: Any) -> Learner:
    p = _Problems()
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, Mapping):
        raise ProfileError([ElementProblem("a", "learner must be an object with a name")])
    vals = {k: data.get(k) for k in LEARNER_FIELDS}
    unknown = sorted(str(k) for k in data if k not in LEARNER_FIELDS)
    if unknown:
        # A misspelt "emial" would otherwise leave the credential without the e-mail, silently.
        p.add("a", f"learner has unknown fields {', '.join(unknown)} (allowed: {', '.join(LEARNER_FIELDS)})")
    for k, v in vals.items():
        if v is not None and not isinstance(v, str):
            p.add("a", f"learner {k} must be a string")
    p.raise_if_any()
    learner = Learner(vals["name"] or "", vals["email"], vals["id"], vals["emailHash"], vals["salt"])
    p.extend(learner_problems(learner))
    p.raise_if_any()
    return learner


def learner_problems(learner: Learner) -> list[ElementProblem]:
    p = _Problems()
    if is_blank(learner.name):
        p.add("a", "the learner's name is required")
    if learner.email is not None and ("@" not in learner.email or learner.email.strip() != learner.email):
        p.add("a", "the learner's e-mail address is malformed")
    if learner.email is not None and learner.email_hash is not None:
        p.add("a", "give the learner's e-mail or its hash, not both")
    if learner.email_hash is not None:
        if not _HASH.fullmatch(learner.email_hash):
            p.add("a", "emailHash must look like sha256$<hex>")
        if learner.salt is None:
            p.add("a", "emailHash needs the salt it was made with")
    elif learner.salt is not None and learner.email is None:
        p.add("a", "a salt is for the learner's e-mail or emailHash; give one of them with it")
    if learner.id is not None and not is_uri(learner.id):
        p.add("a", "the learner's id must be a DID or other URI")
    return p.items


def issuer_problems(issuer: IssuerProfile) -> list[ElementProblem]:
    p = _Problems()
    if not is_uri(issuer.id):
        p.add("issuer", "the issuer id must be a DID or URL")
    if is_blank(issuer.name):
        p.add("d", "the awarding body's name is required (the issuer profile's name)")
    if issuer.country_code is None and is_blank(issuer.country) and is_blank(issuer.region):
        p.add("c", "the issuer's country (ISO 3166-1 alpha-2 code) or region is required")
    if issuer.country_code is not None:
        problem = country_problem(issuer.country_code)
        if problem is not None:
            p.add("c", problem)
    if issuer.url is not None and not _HTTP.fullmatch(issuer.url):
        p.add("issuer", "the issuer url must be an http(s) URL")
    return p.items


def parse_evidence(data: Any) -> tuple[EvidenceItem, ...]:
    if data is None:
        return ()
    if isinstance(data, Mapping):
        data = [data]
    p = _Problems()
    out: list[EvidenceItem] = []
    if not isinstance(data, list):
        raise ProfileError([ElementProblem("evidence", "must be an object or a list of objects")])
    for n, e in enumerate(data, 1):
        if not isinstance(e, Mapping):
            p.add("evidence", f"item {n} must be an object")
            continue
        vals = {k: e.get(k) for k in ("name", "description", "narrative", "id", "genre")}
        unknown = sorted(set(e) - set(vals) - {"type"})
        if unknown:
            p.add("evidence", f"item {n} has unknown fields {', '.join(unknown)} (allowed: id, name, description, narrative, genre)")
        if any(v is not None and not isinstance(v, str) for v in vals.values()):
            p.add("evidence", f"item {n}: values must be strings")
            continue
        if vals["id"] is not None and not is_uri(vals["id"]):
            p.add("evidence", f"item {n}: id must be a URL")
        if all(v is None for v in vals.values()):
            p.add("evidence", f"item {n} is empty")
        out.append(EvidenceItem(vals["name"], vals["description"], vals["narrative"], vals["id"], vals["genre"]))
    p.raise_if_any()
    return tuple(out)


def _shown(v: Any) -> str:
    """A value quoted in a message, cut short: a cell may hold thousands of characters."""
    return repr(v[:40] + "…" if isinstance(v, str) and len(v) > 40 else v)


def parse_datetime(v: Any, element: str = "e") -> datetime:
    """An input date-time (or date, taken as midnight UTC) -> aware datetime, or ProfileError."""
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        v = v + "T00:00:00Z"
    try:
        d = xsd_datetime(v)
        in_utc = d.astimezone(timezone.utc)
    except ValueError:
        raise ProfileError(
            [ElementProblem(element, f"must be a date such as 2025-06-01 (taken as midnight UTC) or a date-time with a time zone such as 2025-06-01T12:00:00Z, got {_shown(v)}")]
        ) from None
    except OverflowError:  # 9999-12-31T23:00:00-14:00 is past year 9999 in UTC
        in_utc = None
    if in_utc is None or not MIN_YEAR <= in_utc.year:
        # Credentials write dates in UTC with four-digit years (XML Schema dateTimeStamp).
        raise ProfileError([ElementProblem(element, f"must be a date-time from the year {MIN_YEAR} to 9999 (in UTC), got {v!r}")])
    return d


# ---------------------------------------------------------------- countries


# The EU's own abbreviations (Interinstitutional Style Guide) for the two countries whose ISO
# 3166-1 codes differ; a code written the EU's way gets the ISO one named.
EU_ABBREVIATIONS = {"EL": "GR", "UK": "GB"}


def iso_country(code: Any) -> Any | None:
    """The ISO 3166-1 country whose alpha-2 or alpha-3 code is exactly ``code``, or None.

    Looked up in pycountry's copy of the ISO 3166 Maintenance Agency's list, so ``XX`` (the
    right shape, but no country) is not one. ISO 3166-1 writes codes in capitals and so must
    the caller: pycountry's own lookup ignores case, this does not."""
    if not isinstance(code, str) or len(code) not in (2, 3) or not code.isascii() or not code.isupper():
        return None
    return pycountry.countries.get(**{"alpha_2" if len(code) == 2 else "alpha_3": code})


def country_problem(code: Any) -> str | None:
    """What is wrong with ``code`` as an ISO 3166-1 alpha-2 country code, or None if it is one.

    OB 3.0 defines ``Address.addressCountryCode`` as ISO 3166-1 alpha-2. A lower-case code of a
    real country is refused with its capital form, not silently changed: the credential
    carries exactly what the issuer gave."""
    if not isinstance(code, str) or len(code) != 2 or not (code.isascii() and code.isalpha()):
        return "the country code must be ISO 3166-1 alpha-2, such as \"IE\""
    if iso_country(code) is not None:
        return None
    if iso_country(code.upper()) is not None:
        return f"the country code {code!r} must be written in capitals, as ISO 3166-1 writes it: {code.upper()!r}"
    if code.upper() in EU_ABBREVIATIONS:
        return f"{code!r} is the EU's abbreviation; the ISO 3166-1 alpha-2 code is {EU_ABBREVIATIONS[code.upper()]!r}"
    return f"{code!r} is not an ISO 3166-1 alpha-2 country code: no country has it"


# ---------------------------------------------------------------- JSON helpers (the profile's modules share them)


def as_list(v: Any) -> list[Any]:
    """A JSON value that may be one item or a list, as a list (None: empty)."""
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def json_number(x: float) -> int | float:
    """A whole float as an int. 5.0 and 5 canonicalize differently (RDFC: "5.0E0" vs "5"), and
    a JSON reader in another language turns 5.0 into 5: so every verifier agrees."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def xsd_datetime(v: Any) -> datetime:
    """An XML Schema dateTime *with* a time zone -> aware datetime; ``ValueError`` otherwise."""
    if not isinstance(v, str):
        raise ValueError("not a string")
    # ASCII digits only (\d would take any script's), and a zone of at most 14:00 either way
    # (XML Schema 1.1 Part 2, D.3.2 timezoneFrag; Python would take up to 23:59).
    m = re.fullmatch(r"(-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)(Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))", v)
    if m is None:
        raise ValueError("not an XML Schema dateTime with a time zone")
    return datetime.fromisoformat(v.replace("Z", "+00:00"))

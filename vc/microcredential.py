"""The EU micro-credential profile of Open Badges 3.0.

Council Recommendation of 16 June 2022 on a European approach to micro-credentials
(2022/C 243/02), Annex I: part I lists the mandatory elements (a)-(k), part II optional ones.
A micro-credential here is an ``OpenBadgeCredential`` (Open Badges 3.0 §8.1) whose achievement
has ``achievementType: "MicroCredential"`` and carries every part I element in the one place
``docs/microcredential-profile.md`` gives it, using only terms the pinned VC 2.0 and OB 3.0.3
contexts define, so any Open Badges 3.0 verifier still verifies it.

Three things live here, all pure: the achievement definition (a typed dataclass, parsed from
JSON with *every* problem named by its element), building the unsigned credential from an
achievement + learner + options, and the verify-time report (each element's value or its
absence), which reads exactly the places the builder writes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

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
            "learningOutcomes": [_drop_none({"statement": o.statement, "url": o.url, "framework": o.framework, "code": o.code}) for o in self.learning_outcomes],
            "ects": _number(self.ects),
            "eqfLevel": self.eqf_level,
            "assessment": _drop_none(
                {
                    "type": self.assessment.type,
                    "resultType": self.assessment.result_type,
                    "allowedValues": list(self.assessment.allowed_values) or None,
                    "requiredValue": self.assessment.required_value,
                }
            ),
            "participation": self.participation,
            "qualityAssurance": _drop_none(
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
            "integration": _drop_none({"mode": self.integration.mode, "towards": self.integration.towards, "url": self.integration.url})
            if self.integration
            else None,
        }
        return _drop_none(out)


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
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_HASH = re.compile(r"^(sha256|md5)\$[0-9a-f]+$")


def _is_uri(v: Any) -> bool:
    return isinstance(v, str) and bool(_URI.match(v))


def _blank(v: Any) -> bool:
    return not isinstance(v, str) or not v.strip()


def achievement_problems(a: AchievementDefinition) -> list[ElementProblem]:
    """Every problem of a definition, by element. An empty list means it can be awarded."""
    p = _Problems()
    if not _is_uri(a.id):
        p.add("achievement id", "must be a URL or URN")
    if _blank(a.title):
        p.add("b", "a title is required")
    if _blank(a.description):
        p.add("description", "a description is required (Open Badges 3.0 requires Achievement.description)")
    if not a.learning_outcomes:
        p.add("f", "at least one learning outcome is required")
    for n, o in enumerate(a.learning_outcomes, 1):
        if _blank(o.statement):
            p.add("f", f"learning outcome {n} needs a statement")
        if o.url is not None and not _is_uri(o.url):
            p.add("f", f"learning outcome {n}: url must be a URL")
    if isinstance(a.ects, bool) or not isinstance(a.ects, (int, float)) or not a.ects > 0 or a.ects != a.ects or a.ects == float("inf"):
        p.add("g", "ECTS must be a positive number")
    if isinstance(a.eqf_level, bool) or not isinstance(a.eqf_level, int) or not 1 <= a.eqf_level <= 8:
        p.add("h", "the EQF level must be an integer from 1 to 8")
    if not isinstance(a.assessment, Assessment) or _blank(a.assessment.type):
        p.add("i", "the type of assessment is required (for example \"written examination\")")
    else:
        rt = a.assessment.result_type
        if not isinstance(rt, str) or not (rt in RESULT_TYPES or (rt.startswith("ext:") and len(rt) > 4)):
            p.add("i", f"resultType must be one of {', '.join(sorted(RESULT_TYPES))} or start with \"ext:\"")
        if any(_blank(v) for v in a.assessment.allowed_values):
            p.add("i", "allowed values must be non-empty strings")
    if normalise_participation(a.participation) is None:
        p.add("j", "the form of participation must be online, on-site or blended")
    qa = a.quality_assurance
    if not isinstance(qa, QualityAssurance) or _blank(qa.description):
        p.add("k", "the type of quality assurance is required")
    if isinstance(qa, QualityAssurance) and not _is_uri(qa.url):
        p.add("k", "a URL of the quality assurance (accreditation decision, QA report or framework) is required")
    if a.language is not None and not (isinstance(a.language, str) and _LANG.match(a.language)):
        p.add("language", "must be a BCP 47 language tag such as \"en\"")
    if a.image is not None and not _is_uri(a.image):
        p.add("image", "must be a URL")
    if any(_blank(x) for x in a.prerequisites):
        p.add("prerequisites", "each prerequisite must be a non-empty text")
    if a.supervision is not None and _blank(a.supervision):
        p.add("supervision and identity verification", "must be a non-empty text when given")
    if a.integration is not None:
        if a.integration.mode not in INTEGRATION_MODES:
            p.add("integration/stackability", "mode must be stand-alone, integrated or stackable")
        elif a.integration.mode != "stand-alone" and _blank(a.integration.towards) and a.integration.url is None:
            p.add("integration/stackability", f"{a.integration.mode} needs the credential it {'stacks' if a.integration.mode == 'stackable' else 'integrates'} into (towards or url)")
        if a.integration.url is not None and not _is_uri(a.integration.url):
            p.add("integration/stackability", "url must be a URL")
    return p.items


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
    elif isinstance(ects, str):
        try:
            ects = float(ects)
        except ValueError:
            pass
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
        a = _replace(a, ects=int(a.ects))
    return _replace(a, participation=normalise_participation(a.participation) or a.participation)


def parse_learner(data: Any) -> Learner:
    p = _Problems()
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, Mapping):
        raise ProfileError([ElementProblem("a", "learner must be an object with a name")])
    vals = {k: data.get(k) for k in ("name", "email", "id", "emailHash", "salt")}
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
    if _blank(learner.name):
        p.add("a", "the learner's name is required")
    if learner.email is not None and ("@" not in learner.email or learner.email.strip() != learner.email):
        p.add("a", "the learner's e-mail address is malformed")
    if learner.email is not None and learner.email_hash is not None:
        p.add("a", "give the learner's e-mail or its hash, not both")
    if learner.email_hash is not None:
        if not _HASH.match(learner.email_hash):
            p.add("a", "emailHash must look like sha256$<hex>")
        if learner.salt is None:
            p.add("a", "emailHash needs the salt it was made with")
    if learner.id is not None and not _is_uri(learner.id):
        p.add("a", "the learner's id must be a DID or other URI")
    return p.items


def issuer_problems(issuer: IssuerProfile) -> list[ElementProblem]:
    p = _Problems()
    if not _is_uri(issuer.id):
        p.add("issuer", "the issuer id must be a DID or URL")
    if _blank(issuer.name):
        p.add("d", "the awarding body's name is required (the issuer profile's name)")
    if issuer.country_code is None and _blank(issuer.country) and _blank(issuer.region):
        p.add("c", "the issuer's country (ISO 3166-1 alpha-2 code) or region is required")
    if issuer.country_code is not None and not _COUNTRY.match(issuer.country_code):
        p.add("c", "the country code must be ISO 3166-1 alpha-2, such as \"IE\"")
    if issuer.url is not None and not _HTTP.match(issuer.url):
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
        if vals["id"] is not None and not _is_uri(vals["id"]):
            p.add("evidence", f"item {n}: id must be a URL")
        if all(v is None for v in vals.values()):
            p.add("evidence", f"item {n} is empty")
        out.append(EvidenceItem(vals["name"], vals["description"], vals["narrative"], vals["id"], vals["genre"]))
    p.raise_if_any()
    return tuple(out)


# ---------------------------------------------------------------- building


def hash_identity(value: str, salt: str) -> str:
    """OB 3.0 IdentityObject.identityHash: ``sha256$`` + hex SHA-256 of value + salt."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


def build_microcredential(
    achievement: AchievementDefinition,
    issuer: IssuerProfile,
    learner: Learner,
    *,
    valid_from: datetime,
    credential_id: str | None = None,
    valid_until: datetime | None = None,
    grade: str | None = None,
    evidence: Iterable[EvidenceItem] = (),
    salt: str | None = None,
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` (Annex I element -> place as documented in
    docs/microcredential-profile.md). Raises ``ProfileError`` naming every problem of the
    achievement, issuer, learner and options together; nothing partial is returned."""
    p = _Problems()
    p.extend(achievement_problems(achievement))
    p.extend(issuer_problems(issuer))
    p.extend(learner_problems(learner))
    if not isinstance(valid_from, datetime) or valid_from.tzinfo is None:
        p.add("e", "the date of issue must be a date-time with a time zone")
    if valid_until is not None and (not isinstance(valid_until, datetime) or valid_until.tzinfo is None):
        p.add("validUntil", "must be a date-time with a time zone")
    elif valid_until is not None and isinstance(valid_from, datetime) and valid_from.tzinfo and valid_until <= valid_from:
        p.add("validUntil", "must be after the date of issue")
    if credential_id is not None and not _is_uri(credential_id):
        p.add("credential id", "must be a URI (for example urn:uuid:...)")
    if grade is not None:
        if _blank(grade):
            p.add("grade", "must be a non-empty text when given")
        elif achievement.assessment.allowed_values and grade not in achievement.assessment.allowed_values:
            p.add("grade", f"{grade!r} is not one of the assessment's allowed values ({', '.join(achievement.assessment.allowed_values)})")
    evidence = tuple(evidence)
    p.raise_if_any()

    rd_id = _fragment(achievement.id, "assessment")
    ach: dict[str, Any] = {
        "id": achievement.id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": achievement.title,
        "description": achievement.description,
        "criteria": {"narrative": achievement.criteria or _default_criteria(achievement)},
        "creditsAvailable": _number(achievement.ects),
        "alignment": _alignments(achievement),
        "resultDescription": [_result_description(achievement.assessment, rd_id)],
    }
    if achievement.language:
        ach["inLanguage"] = achievement.language
    if achievement.human_code:
        ach["humanCode"] = achievement.human_code
    if achievement.field_of_study:
        ach["fieldOfStudy"] = achievement.field_of_study
    if achievement.tags:
        ach["tag"] = list(achievement.tags)
    if achievement.image:
        ach["image"] = {"id": achievement.image, "type": "Image"}

    identifiers: list[dict[str, Any]] = [
        {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": learner.name}
    ]
    if learner.email is not None:
        s = salt or learner.salt or secrets.token_hex(8)
        identifiers.append(
            {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True, "identityHash": hash_identity(learner.email, s), "salt": s}
        )
    elif learner.email_hash is not None:
        identifiers.append(
            {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True, "identityHash": learner.email_hash, "salt": learner.salt}
        )
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if learner.id:
        subject["id"] = learner.id
    subject["identifier"] = identifiers
    subject["achievement"] = ach
    if grade is not None:
        subject["result"] = [{"type": ["Result"], "resultDescription": rd_id, "value": grade}]

    address: dict[str, Any] = {"type": ["Address"]}
    if issuer.country:
        address["addressCountry"] = issuer.country
    if issuer.country_code:
        address["addressCountryCode"] = issuer.country_code
    if issuer.region:
        address["addressRegion"] = issuer.region
    issuer_json: dict[str, Any] = {"id": issuer.id, "type": ["Profile"], "name": issuer.name}
    if issuer.url:
        issuer_json["url"] = issuer.url
    if issuer.email:
        issuer_json["email"] = issuer.email
    issuer_json["address"] = address

    vc: dict[str, Any] = {"@context": list(CONTEXT)}
    if credential_id:
        vc["id"] = credential_id
    vc["type"] = ["VerifiableCredential", "OpenBadgeCredential"]
    vc["name"] = achievement.title
    vc["issuer"] = issuer_json
    vc["validFrom"] = _datetime(valid_from)
    if valid_until is not None:
        vc["validUntil"] = _datetime(valid_until)
    vc["credentialSubject"] = subject
    if evidence:
        vc["evidence"] = [_evidence(e) for e in evidence]
    return vc


def _alignments(a: AchievementDefinition) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, o in enumerate(a.learning_outcomes, 1):
        al = _alignment(T_OUTCOME, o.statement, o.url or _fragment(a.id, f"learning-outcome-{n}"), framework=o.framework, code=o.code)
        out.append(al)
    out.append(
        _alignment(T_EQF, f"EQF level {a.eqf_level}", f"{EQF_BASE}{a.eqf_level}", framework=EQF_FRAMEWORK, code=str(a.eqf_level))
    )
    mode = normalise_participation(a.participation) or a.participation
    out.append(_alignment(T_PARTICIPATION, mode, PARTICIPATION_URLS[mode], framework=PARTICIPATION_FRAMEWORK, code=mode))
    qa = a.quality_assurance
    out.append(_alignment(T_QA, qa.description, qa.url, framework=qa.framework))
    for n, text in enumerate(a.prerequisites, 1):
        out.append(_alignment(T_PREREQUISITE, text, _fragment(a.id, f"prerequisite-{n}")))
    if a.supervision:
        out.append(_alignment(T_SUPERVISION, a.supervision, _fragment(a.id, "supervision")))
    if a.integration:
        i = a.integration
        name = i.mode if not i.towards else f"{i.mode}: {i.towards}"
        out.append(_alignment(T_INTEGRATION, name, i.url or _fragment(a.id, "integration"), code=i.mode))
    return out


def _alignment(target_type: str, name: str, url: str, *, framework: str | None = None, code: str | None = None) -> dict[str, Any]:
    al: dict[str, Any] = {"type": ["Alignment"], "targetType": target_type, "targetName": name, "targetUrl": url}
    if framework:
        al["targetFramework"] = framework
    if code:
        al["targetCode"] = code
    return al


def _result_description(a: Assessment, rd_id: str) -> dict[str, Any]:
    rd: dict[str, Any] = {"id": rd_id, "type": ["ResultDescription"], "name": a.type, "resultType": a.result_type}
    if a.allowed_values:
        rd["allowedValue"] = list(a.allowed_values)
    if a.required_value is not None:
        rd["requiredValue"] = a.required_value
    return rd


def _evidence(e: EvidenceItem) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.id:
        out["id"] = e.id
    out["type"] = ["Evidence"]
    for k in ("name", "description", "narrative", "genre"):
        v = getattr(e, k)
        if v is not None:
            out[k] = v
    return out


def _default_criteria(a: AchievementDefinition) -> str:
    return f"Assessed by {a.assessment.type}; awarded on achieving the learning outcomes listed in the alignments."


def _fragment(base: str, name: str) -> str:
    # Derived targets live inside the achievement's own description (its id, which the node
    # publishes), because an OB3 Alignment must carry a targetUrl.
    return f"{base.split('#', 1)[0]}#{name}"


def _number(x: float) -> int | float:
    # 5.0 and 5 canonicalize differently (RDFC: "5.0E0" vs "5"), and a JSON reader in another
    # language turns 5.0 into 5: write whole numbers as integers so every verifier agrees.
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _datetime(d: datetime) -> str:
    return d.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _replace(a: AchievementDefinition, **changes: Any) -> AchievementDefinition:
    from dataclasses import replace

    return replace(a, **changes)


# ---------------------------------------------------------------- the verify-time report


@dataclass
class ElementReport:
    element: str  # "a".."k" or an optional element's name
    status: str  # "present" | "missing" | "malformed"
    value: Any = None
    note: str = ""

    @property
    def label(self) -> str:
        return label(self.element)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"element": self.element, "name": ELEMENTS.get(self.element, self.element), "status": self.status}
        if self.value is not None:
            out["value"] = self.value
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ProfileReport:
    """What an Annex I reader finds in a credential. ``complete`` only if every mandatory
    element is present and well formed; an incomplete report is not a verification failure."""

    is_microcredential: bool
    elements: list[ElementReport] = field(default_factory=list)
    optional: list[ElementReport] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.is_microcredential and all(e.status == "present" for e in self.elements)

    @property
    def missing(self) -> list[str]:
        return [e.label for e in self.elements if e.status == "missing"]

    @property
    def malformed(self) -> list[str]:
        return [e.label for e in self.elements if e.status == "malformed"]

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": "EU micro-credential (Council Recommendation 2022/C 243/02, Annex I)",
            "isMicroCredential": self.is_microcredential,
            "complete": self.complete,
            "missing": self.missing,
            "malformed": self.malformed,
            "elements": [e.to_json() for e in self.elements],
            "optional": [e.to_json() for e in self.optional if e.status != "missing"],
        }


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def _types(obj: Any) -> list[str]:
    return [t for t in _as_list(obj.get("type")) if isinstance(t, str)] if isinstance(obj, Mapping) else []


def _subject(vc: Mapping[str, Any]) -> Mapping[str, Any]:
    for s in _as_list(vc.get("credentialSubject")):
        if isinstance(s, Mapping) and isinstance(s.get("achievement"), Mapping):
            return s
    return {}


def is_microcredential(vc: Any) -> bool:
    """An Open Badge whose achievement says ``achievementType: "MicroCredential"``."""
    if not isinstance(vc, Mapping):
        return False
    if not {"OpenBadgeCredential", "AchievementCredential"} & set(_types(vc)):
        return False
    return _subject(vc).get("achievement", {}).get("achievementType") == ACHIEVEMENT_TYPE


def is_open_badge(vc: Any) -> bool:
    return isinstance(vc, Mapping) and bool({"OpenBadgeCredential", "AchievementCredential"} & set(_types(vc)))


def attach_report(vc: Any, result: Any) -> None:
    """Add the profile report to a ``VerificationResult`` (as ``reports["microcredential"]``)
    when ``vc`` is a micro-credential. Information only: it adds no check, so an Open Badge
    missing elements verifies exactly as before, with the report naming what is missing."""
    if is_microcredential(vc):
        result.reports["microcredential"] = profile_report(vc).to_json()


def _alignments_of(ach: Mapping[str, Any], target_type: str) -> list[Mapping[str, Any]]:
    return [a for a in _as_list(ach.get("alignment")) if isinstance(a, Mapping) and a.get("targetType") == target_type]


def _present(element: str, value: Any) -> ElementReport:
    return ElementReport(element, "present", value)


def _missing(element: str, note: str) -> ElementReport:
    return ElementReport(element, "missing", None, note)


def _malformed(element: str, value: Any, note: str) -> ElementReport:
    return ElementReport(element, "malformed", value, note)


def profile_report(vc: Any) -> ProfileReport:
    """Read each Annex I element from its documented place (never raises)."""
    if not isinstance(vc, Mapping):
        return ProfileReport(False, [_missing(k, "not a credential") for k in ELEMENTS])
    subject = _subject(vc)
    ach = subject.get("achievement") if isinstance(subject.get("achievement"), Mapping) else {}
    issuer = vc.get("issuer")
    issuer = issuer if isinstance(issuer, Mapping) else {}
    r = ProfileReport(is_microcredential(vc))
    r.elements = [
        _read_learner(subject),
        _read_title(ach),
        _read_country(issuer, vc.get("issuer")),
        _read_awarding_body(issuer, vc.get("issuer")),
        _read_date(vc),
        _read_outcomes(ach),
        _read_workload(ach),
        _read_eqf(ach),
        _read_assessment(ach),
        _read_participation(ach),
        _read_qa(ach),
    ]
    r.optional = _read_optional(ach, subject)
    return r


def _read_learner(subject: Mapping[str, Any]) -> ElementReport:
    names, others = [], []
    for i in _as_list(subject.get("identifier")):
        if not isinstance(i, Mapping):
            continue
        if i.get("identityType") == "name" and i.get("hashed") is False and isinstance(i.get("identityHash"), str):
            names.append(i["identityHash"])
        elif isinstance(i.get("identityType"), str):
            others.append({"identityType": i["identityType"], "hashed": i.get("hashed") is True})
    value: dict[str, Any] = {}
    if names:
        value["name"] = names[0]
    if others:
        value["identifiers"] = others
    if isinstance(subject.get("id"), str):
        value["id"] = subject["id"]
    if names:
        return _present("a", value)
    note = "no learner name (an IdentityObject with identityType \"name\")"
    if value:
        note += "; the learner is identified only by " + ", ".join(
            ([f"{o['identityType']}{' (hashed)' if o['hashed'] else ''}" for o in others]) + (["id"] if "id" in value else [])
        )
    return ElementReport("a", "missing", value or None, note)


def _read_title(ach: Mapping[str, Any]) -> ElementReport:
    name = ach.get("name")
    if isinstance(name, str) and name.strip():
        return _present("b", name)
    return _missing("b", "the achievement has no name")


def _read_country(issuer: Mapping[str, Any], raw: Any) -> ElementReport:
    address = issuer.get("address")
    if not isinstance(address, Mapping):
        return _missing("c", "the issuer profile has no address" if issuer else "the issuer is only an identifier, with no profile")
    value = {k: address[k] for k in ("addressCountry", "addressCountryCode", "addressRegion") if isinstance(address.get(k), str) and address[k].strip()}
    if not value:
        return _missing("c", "the issuer address has no addressCountry, addressCountryCode or addressRegion")
    code = value.get("addressCountryCode")
    if code is not None and not _COUNTRY.match(code):
        return _malformed("c", value, "addressCountryCode is not an ISO 3166-1 alpha-2 code")
    return _present("c", value)


def _read_awarding_body(issuer: Mapping[str, Any], raw: Any) -> ElementReport:
    name = issuer.get("name")
    if isinstance(name, str) and name.strip():
        value = {"name": name}
        if isinstance(issuer.get("id"), str):
            value["id"] = issuer["id"]
        return _present("d", value)
    return _missing("d", "the issuer profile has no name" if issuer else "the issuer is only an identifier, with no profile")


def _read_date(vc: Mapping[str, Any]) -> ElementReport:
    for key in ("validFrom", "issuanceDate"):  # issuanceDate: the VCDM 1.1 equivalent
        v = vc.get(key)
        if v is None:
            continue
        try:
            _parse_datetime(v)
        except ValueError:
            return _malformed("e", v, f"{key} is not an XML Schema date-time with a time zone")
        return _present("e", v) if key == "validFrom" else ElementReport("e", "present", v, "from issuanceDate (VC Data Model 1.1)")
    return _missing("e", "the credential has no validFrom")


def _read_outcomes(ach: Mapping[str, Any]) -> ElementReport:
    found = _alignments_of(ach, T_OUTCOME)
    outcomes = []
    for a in found:
        o = {"statement": a.get("targetName")}
        if isinstance(a.get("targetUrl"), str) and "#learning-outcome-" not in a["targetUrl"]:
            o["url"] = a["targetUrl"]
        if isinstance(a.get("targetFramework"), str):
            o["framework"] = a["targetFramework"]
        outcomes.append(o)
    if not outcomes:
        return _missing("f", f"no alignment with targetType \"{T_OUTCOME}\"")
    if any(not isinstance(o["statement"], str) or not o["statement"].strip() for o in outcomes):
        return _malformed("f", outcomes, "a learning outcome has no targetName")
    return _present("f", outcomes)


def _read_workload(ach: Mapping[str, Any]) -> ElementReport:
    if "creditsAvailable" not in ach:
        return _missing("g", "the achievement has no creditsAvailable")
    v = ach["creditsAvailable"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        return _malformed("g", v, "ECTS must be a positive number")
    return _present("g", {"ects": v})


def _read_eqf(ach: Mapping[str, Any]) -> ElementReport:
    candidates = [
        a
        for a in _as_list(ach.get("alignment"))
        if isinstance(a, Mapping)
        and (a.get("targetType") == T_EQF or (isinstance(a.get("targetUrl"), str) and a["targetUrl"].startswith(EQF_BASE)))
    ]
    if not candidates:
        return _missing("h", f"no alignment to the EQF ({EQF_BASE}1..8)")
    a = candidates[0]
    url, code = a.get("targetUrl"), a.get("targetCode")
    m = re.fullmatch(re.escape(EQF_BASE) + r"([1-8])", url) if isinstance(url, str) else None
    if m is None:
        return _malformed("h", {"url": url, "code": code}, f"targetUrl must be {EQF_BASE}<1..8>")
    if code is not None and str(code) != m.group(1):
        return _malformed("h", {"url": url, "code": code}, "targetCode disagrees with targetUrl")
    return _present("h", {"level": int(m.group(1)), "url": url})


def _read_assessment(ach: Mapping[str, Any]) -> ElementReport:
    names = [
        rd.get("name")
        for rd in _as_list(ach.get("resultDescription"))
        if isinstance(rd, Mapping) and isinstance(rd.get("name"), str) and rd["name"].strip()
    ]
    if not names:
        return _missing("i", "the achievement has no resultDescription with a name")
    return _present("i", names if len(names) > 1 else names[0])


def _read_participation(ach: Mapping[str, Any]) -> ElementReport:
    found = _alignments_of(ach, T_PARTICIPATION)
    if not found:
        return _missing("j", f"no alignment with targetType \"{T_PARTICIPATION}\"")
    raw = found[0].get("targetCode") or found[0].get("targetName")
    mode = normalise_participation(raw)
    if mode is None:
        return _malformed("j", raw, "must be online, on-site or blended")
    return _present("j", mode)


def _read_qa(ach: Mapping[str, Any]) -> ElementReport:
    found = _alignments_of(ach, T_QA)
    if not found:
        return _missing("k", f"no alignment with targetType \"{T_QA}\"")
    value = [_drop_none({"description": a.get("targetName"), "url": a.get("targetUrl"), "framework": a.get("targetFramework")}) for a in found]
    if any(not isinstance(v.get("description"), str) or not v["description"].strip() for v in value):
        return _malformed("k", value, "a quality assurance alignment has no targetName")
    return _present("k", value if len(value) > 1 else value[0])


def _read_optional(ach: Mapping[str, Any], subject: Mapping[str, Any]) -> list[ElementReport]:
    out: list[ElementReport] = []
    pre = [a.get("targetName") for a in _alignments_of(ach, T_PREREQUISITE)]
    out.append(_present("prerequisites", pre) if pre else _missing("prerequisites", ""))
    rds = {rd.get("id"): rd.get("name") for rd in _as_list(ach.get("resultDescription")) if isinstance(rd, Mapping)}
    grades = []
    for res in _as_list(subject.get("result")):
        if isinstance(res, Mapping) and ("value" in res or "status" in res):
            g = _drop_none({"value": res.get("value"), "status": res.get("status"), "assessment": rds.get(res.get("resultDescription"))})
            grades.append(g)
    out.append(_present("grade", grades if len(grades) > 1 else grades[0]) if grades else _missing("grade", ""))
    sup = _alignments_of(ach, T_SUPERVISION)
    out.append(_present("supervision and identity verification", sup[0].get("targetName")) if sup else _missing("supervision and identity verification", ""))
    integ = _alignments_of(ach, T_INTEGRATION)
    if integ:
        i = integ[0]
        value = _drop_none({"mode": i.get("targetCode"), "description": i.get("targetName"), "url": None if "#integration" in str(i.get("targetUrl")) else i.get("targetUrl")})
        out.append(_present("integration/stackability", value))
    else:
        out.append(_missing("integration/stackability", ""))
    return out


def _parse_datetime(v: Any) -> datetime:
    if not isinstance(v, str):
        raise ValueError("not a string")
    m = re.fullmatch(r"(-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})", v)
    if m is None:
        raise ValueError("not an XML Schema dateTime with a time zone")
    return datetime.fromisoformat(v.replace("Z", "+00:00"))


def parse_datetime(v: Any, element: str = "e") -> datetime:
    """An input date-time (or date, taken as midnight UTC) -> aware datetime, or ProfileError."""
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        v = v + "T00:00:00Z"
    try:
        return _parse_datetime(v)
    except ValueError:
        raise ProfileError([ElementProblem(element, "must be a date-time with a time zone, such as 2025-06-01T12:00:00Z")]) from None


# ---------------------------------------------------------------- text rendering


def render_report(report: Mapping[str, Any]) -> str:
    """A terminal rendering of ``ProfileReport.to_json()`` (for ``vcnode verify``)."""
    lines = []
    if not report.get("isMicroCredential"):
        lines.append("Not a micro-credential (no achievementType \"MicroCredential\"); Annex I elements found:")
    else:
        state = "all mandatory elements present" if report.get("complete") else "INCOMPLETE"
        lines.append(f"EU micro-credential (Annex I): {state}")
    width = max(len(label(e["element"])) for e in report.get("elements", [])) if report.get("elements") else 30
    for e in report.get("elements", []):
        lines.append(f"  {label(e['element']).ljust(width)}  {_render_value(e)}")
    optional = report.get("optional") or []
    if optional:
        lines.append("Optional elements (Annex I part II):")
        w2 = max(len(e["element"]) for e in optional)
        for e in optional:
            lines.append(f"  {e['element'].ljust(w2)}  {_render_value(e)}")
    return "\n".join(lines)


def _render_value(e: Mapping[str, Any]) -> str:
    status = e.get("status")
    v = e.get("value")
    if status == "missing":
        return "MISSING" + (f" ({e['note']})" if e.get("note") else "")
    text = _render_plain(v)
    if status == "malformed":
        return f"MALFORMED: {text} ({e.get('note', '')})"
    return text + (f" [{e['note']}]" if e.get("note") else "")


def _render_plain(v: Any) -> str:
    if isinstance(v, Mapping):
        if "statement" in v:
            return str(v["statement"]) + (f" <{v['url']}>" if v.get("url") else "")
        if "ects" in v:
            return f"{v['ects']} ECTS credits"
        if "level" in v:
            return f"EQF level {v['level']}"
        if "name" in v and "identifiers" in v:
            extra = ", ".join(f"{i['identityType']}{' (hashed)' if i['hashed'] else ''}" for i in v["identifiers"])
            return f"{v['name']} (+ {extra})"
        if "addressCountry" in v or "addressCountryCode" in v or "addressRegion" in v:
            country = v.get("addressCountry") or v.get("addressCountryCode") or ""
            if v.get("addressCountry") and v.get("addressCountryCode"):
                country += f" ({v['addressCountryCode']})"
            return ", ".join(x for x in (country, v.get("addressRegion")) if x)
        if set(v) <= {"name", "id"} and "name" in v:
            return v["name"] + (f" ({v['id']})" if v.get("id") else "")
        if "mode" in v and "description" in v:
            return v["description"] + (f" <{v['url']}>" if v.get("url") else "")
        if "value" in v or "status" in v:
            return str(v.get("value", v.get("status"))) + (f" in {v['assessment']}" if v.get("assessment") else "")
        if "description" in v and "url" in v:
            return f"{v['description']} <{v['url']}>"
        return ", ".join(f"{k}: {_render_plain(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "; ".join(_render_plain(x) for x in v)
    return str(v)

"""Building an EU micro-credential: the unsigned ``OpenBadgeCredential`` from an achievement
definition, its awarding body, a learner and the award's options.

Each Annex I element goes to the one place ``docs/microcredential-profile.md`` gives it, the
places ``vc.edu.report`` reads back. Everything is checked before anything is written, every
problem named by its element (``ProfileError``); nothing partial is returned. Pure, apart from
a fresh salt for a learner's e-mail hash when the caller gives none.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any, Iterable

from vc.edu.model import (
    ACHIEVEMENT_TYPE,
    CONTEXT,
    EQF_BASE,
    EQF_FRAMEWORK,
    PARTICIPATION_FRAMEWORK,
    PARTICIPATION_URLS,
    T_EQF,
    T_INTEGRATION,
    T_OUTCOME,
    T_PARTICIPATION,
    T_PREREQUISITE,
    T_QA,
    T_SUPERVISION,
    AchievementDefinition,
    Assessment,
    ElementProblem,
    EvidenceItem,
    IssuerProfile,
    Learner,
    ProfileError,
    achievement_problems,
    is_blank,
    is_uri,
    issuer_problems,
    json_number,
    learner_problems,
    normalise_grade,
    normalise_participation,
)


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
    problems = [*achievement_problems(achievement), *issuer_problems(issuer), *learner_problems(learner)]

    def add(element: str, message: str) -> None:
        problems.append(ElementProblem(element, message))

    if not isinstance(valid_from, datetime) or valid_from.tzinfo is None:
        add("e", "the date of issue must be a date-time with a time zone")
    if valid_until is not None and (not isinstance(valid_until, datetime) or valid_until.tzinfo is None):
        add("validUntil", "must be a date-time with a time zone")
    elif valid_until is not None and isinstance(valid_from, datetime) and valid_from.tzinfo and valid_until <= valid_from:
        add("validUntil", "must be after the date of issue")
    if credential_id is not None and not is_uri(credential_id):
        add("credential id", "must be a URI (for example urn:uuid:...)")
    if grade is not None:
        if is_blank(grade):
            add("grade", "must be a non-empty text when given")
        else:
            grade = normalise_grade(grade, achievement.assessment.allowed_values)  # b -> B, as the scale writes it
            if achievement.assessment.allowed_values and grade not in achievement.assessment.allowed_values:
                add("grade", f"{grade!r} is not one of the assessment's allowed values ({', '.join(achievement.assessment.allowed_values)})")
    evidence = tuple(evidence)
    if problems:
        raise ProfileError(problems)

    rd_id = _fragment(achievement.id, "assessment")
    ach = achievement_json(achievement)

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

    issuer_json = profile_json(issuer)

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


def achievement_json(achievement: AchievementDefinition) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` of a definition, as every credential awarding it carries it
    (``credentialSubject.achievement``): name, description, criteria, achievementType,
    creditsAvailable (g), the alignments (f, h, j, k and part II) and the resultDescription (i)."""
    ach: dict[str, Any] = {
        "id": achievement.id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": achievement.title,
        "description": achievement.description,
        "criteria": {"narrative": achievement.criteria or _default_criteria(achievement)},
        "creditsAvailable": json_number(achievement.ects),
        "alignment": _alignments(achievement),
        "resultDescription": [_result_description(achievement.assessment, _fragment(achievement.id, "assessment"))],
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
    return ach


def profile_json(issuer: IssuerProfile) -> dict[str, Any]:
    """The OB 3.0 ``Profile`` of an awarding body: its DID, name (d), url, email and address (c)."""
    address: dict[str, Any] = {"type": ["Address"]}
    if issuer.country:
        address["addressCountry"] = issuer.country
    if issuer.country_code:
        address["addressCountryCode"] = issuer.country_code
    if issuer.region:
        address["addressRegion"] = issuer.region
    out: dict[str, Any] = {"id": issuer.id, "type": ["Profile"], "name": issuer.name}
    if issuer.url:
        out["url"] = issuer.url
    if issuer.email:
        out["email"] = issuer.email
    out["address"] = address
    return out


def achievement_document(achievement: AchievementDefinition, creator: IssuerProfile | None = None) -> dict[str, Any]:
    """The achievement as a JSON-LD document of its own (what its URL serves to programs): the
    ``Achievement`` the credentials carry, with the OB 3.0 contexts and, as its ``creator``
    (OB 3.0 ``Achievement.creator``), the awarding body's ``Profile``. Safe-mode expansion keeps
    every member (tests/vc/edu)."""
    doc: dict[str, Any] = {"@context": list(CONTEXT), **achievement_json(achievement)}
    if creator is not None and creator.id:
        doc["creator"] = profile_json(creator)
    return doc


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


def _datetime(d: datetime) -> str:
    return d.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


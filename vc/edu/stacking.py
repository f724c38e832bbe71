"""Stackable micro-credentials: a larger credential made of micro-credentials it names by digest.

A *stacked credential* is an Open Badges 3.0 ``OpenBadgeCredential`` whose ``relatedResource``
(VC Data Model 2.0 §5.3, Integrity of Related Resources) lists each part by ``id`` and
``digestMultibase``, and whose achievement states the total workload in ``creditsAvailable``
(ECTS, as in the micro-credential profile). See docs/accreditation-and-stacking.md.

The part digest is defined exactly (``part_digest``): the multibase base58btc (``z``) encoding
of the sha2-256 multihash (``0x12 0x20`` + 32 bytes) of the RFC 8785 (JCS) canonical UTF-8
bytes of the part credential *as issued, including its proof*. Hashing the signed form pins
the very credential the holder presents; JCS rather than RDFC keeps the digest cheap, free
of JSON-LD processing, and computable by any JSON library.

Everything here is pure: the ECTS and EQF level of a part are read with the micro-credential
profile's own reader (``vc.edu.report.profile_report``), and whether a part's proof,
status and issuer hold is for the caller, who adds those failures with ``StackReport.add``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from rfc8785 import CanonicalizationError

from did.multikey import b58encode
from vc import jcs
from vc.edu.model import CONTEXT, EQF_BASE, EQF_FRAMEWORK, T_EQF, as_list
from vc.edu.report import is_microcredential, is_open_badge, profile_report
from vc.errors import ProblemError

JsonObject = dict[str, Any]

SHA2_256_MULTIHASH = b"\x12\x20"  # multicodec sha2-256, digest length 32
STACK_MEDIA_TYPE = "application/vc"  # VC DM 2.0 §C: a credential with an embedded proof
DEFAULT_ACHIEVEMENT_TYPE = "Certificate"  # OB 3.0 AchievementType for a larger award


class StackError(ProblemError):
    """A stacked credential (or the parts offered for one) does not hold together."""

    base = "urn:vcnode:problem:"
    code, title, http_status = "STACK_REFUSED", "The stacked credential does not hold together", 422


# Problem codes (one per way a stack can fail); the report names the part each concerns.
MISSING = "STACK_PART_MISSING"
TAMPERED = "STACK_PART_TAMPERED"
DUPLICATED = "STACK_PART_DUPLICATED"
PART_FAILED = "STACK_PART_FAILED"
PART_UNKNOWN = "STACK_PART_UNKNOWN"
NO_ECTS = "STACK_PART_WITHOUT_ECTS"
NOT_MICRO = "STACK_PART_NOT_MICROCREDENTIAL"
LEARNER = "STACK_LEARNER_MISMATCH"
ECTS_MISMATCH = "STACK_ECTS_MISMATCH"
MALFORMED = "STACK_MALFORMED"


def part_digest(credential: Mapping[str, Any]) -> str:
    """``z`` + base58btc(0x12 0x20 + sha256(JCS(credential))): the part's digestMultibase.

    Raises ``StackError`` for a credential JCS cannot represent (an integer past 2**53 that
    no double holds, a lone surrogate): it has no digest, so it cannot be a part."""
    try:
        canonical = jcs.canonicalize(credential)
    except CanonicalizationError as e:
        name = credential.get("id") if isinstance(credential.get("id"), str) else "a part"
        raise StackError(f"{name} has no digest: RFC 8785 (JCS) cannot represent it ({e})") from e
    return "z" + b58encode(SHA2_256_MULTIHASH + hashlib.sha256(canonical).digest())


def digest_or_none(credential: Mapping[str, Any]) -> str | None:
    """``part_digest``, or None for a credential that has none (what a presented part may be)."""
    try:
        return part_digest(credential)
    except StackError:
        return None


# --- reading credentials ---------------------------------------------------------------------


def _subject(vc: Mapping[str, Any]) -> Mapping[str, Any]:
    for s in as_list(vc.get("credentialSubject")):
        if isinstance(s, Mapping):
            return s
    return {}


def _achievement(vc: Mapping[str, Any]) -> Mapping[str, Any]:
    ach = _subject(vc).get("achievement")
    return ach if isinstance(ach, Mapping) else {}


def references(vc: Any) -> list[tuple[Any, Any]]:
    """The ``(id, digestMultibase)`` pairs of the credential's relatedResource entries."""
    if not isinstance(vc, Mapping):
        return []
    return [
        (e.get("id"), e.get("digestMultibase"))
        for e in as_list(vc.get("relatedResource"))
        if isinstance(e, Mapping)
    ]


def is_stacked(vc: Any) -> bool:
    """An Open Badge with at least one relatedResource carrying a digestMultibase."""
    return is_open_badge(vc) and any(d is not None for _, d in references(vc))


def _fraction(v: Any) -> Fraction | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    # str() of a float is its shortest round-trip form, so 2.5 + 2.5 is exactly 5 here.
    return Fraction(str(v)) if isinstance(v, float) else Fraction(v)


def _number(f: Fraction) -> int | float:
    return int(f) if f.denominator == 1 else float(f)


def stated_total(vc: Any) -> Fraction | None:
    """The stacked credential's total ECTS: its achievement's ``creditsAvailable``."""
    if not isinstance(vc, Mapping):
        return None
    total = _fraction(_achievement(vc).get("creditsAvailable"))
    return total if total is not None and total > 0 else None


@dataclass(frozen=True)
class PartFacts:
    """What a stack counts from one part, read through the micro-credential profile."""

    id: str | None
    ects: Fraction | None
    eqf_level: int | None
    achievement_id: str | None
    learner_id: str | None
    learner_name: str | None


def part_facts(vc: Mapping[str, Any]) -> PartFacts:
    report = {e.element: e for e in profile_report(vc).elements}
    g, h, a = report["g"], report["h"], report["a"]
    ects = _fraction(g.value.get("ects")) if g.status == "present" and isinstance(g.value, dict) else None
    level = h.value.get("level") if h.status == "present" and isinstance(h.value, dict) else None
    learner = a.value if isinstance(a.value, dict) else {}
    ach_id = _achievement(vc).get("id")
    vid = vc.get("id")
    return PartFacts(
        id=vid if isinstance(vid, str) else None,
        ects=ects,
        eqf_level=level if isinstance(level, int) else None,
        achievement_id=ach_id if isinstance(ach_id, str) else None,
        learner_id=learner.get("id") if isinstance(learner.get("id"), str) else None,
        learner_name=learner.get("name") if isinstance(learner.get("name"), str) else None,
    )


def _same_learner(a: PartFacts | Mapping[str, Any], b: PartFacts) -> bool:
    """Subject ids decide when both have one; otherwise the learner names must agree."""
    a_id = a.learner_id if isinstance(a, PartFacts) else a.get("id")
    a_name = a.learner_name if isinstance(a, PartFacts) else a.get("name")
    if a_id and b.learner_id:
        return a_id == b.learner_id
    return bool(a_name) and a_name == b.learner_name


def _learner_of(vc: Mapping[str, Any]) -> dict[str, Any]:
    """The stacked credential's learner, read the way the profile reads element (a)."""
    facts = part_facts(vc)
    return {k: v for k, v in (("id", facts.learner_id), ("name", facts.learner_name)) if v}


# --- the report ------------------------------------------------------------------------------


@dataclass
class StackProblem:
    code: str
    message: str
    part: str | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"code": self.code, "message": self.message}
        if self.part is not None:
            out["part"] = self.part
        return out


@dataclass
class PartEntry:
    id: str
    digest_multibase: Any
    present: bool = False
    digest_matches: bool = False
    ects: Fraction | None = None
    eqf_level: int | None = None
    achievement_id: str | None = None
    counted: bool = False  # present, intact, and not a second award of the same achievement

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "present": self.present, "digestMatches": self.digest_matches, "counted": self.counted}
        if self.ects is not None:
            out["ects"] = _number(self.ects)
        if self.eqf_level is not None:
            out["eqfLevel"] = self.eqf_level
        if self.achievement_id is not None:
            out["achievement"] = self.achievement_id
        return out


@dataclass
class StackReport:
    """The outcome of checking a stacked credential against the parts presented with it.
    ``ok`` only when there is no problem; ``unknown`` problems (a part whose status could not
    be established) make it undecided rather than refused."""

    stack_id: Any
    stated_total: Fraction | None
    parts: list[PartEntry] = field(default_factory=list)
    problems: list[StackProblem] = field(default_factory=list)

    def add(self, code: str, message: str, part: str | None = None) -> None:
        self.problems.append(StackProblem(code, message, part))

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def undecided(self) -> bool:
        """Every problem is of the could-not-be-established kind."""
        return bool(self.problems) and all(p.code == PART_UNKNOWN for p in self.problems)

    @property
    def counted(self) -> list[PartEntry]:
        """The parts whose ECTS count: present, matching their digest, not a repeated award."""
        return [p for p in self.parts if p.counted]

    @property
    def sum_ects(self) -> Fraction:
        return sum((p.ects for p in self.counted if p.ects is not None), Fraction(0))

    @property
    def by_eqf_level(self) -> dict[str, int | float]:
        sums: dict[str, Fraction] = {}
        for p in self.counted:
            if p.ects is None:
                continue
            key = str(p.eqf_level) if p.eqf_level is not None else "unspecified"
            sums[key] = sums.get(key, Fraction(0)) + p.ects
        return {k: _number(v) for k, v in sorted(sums.items())}

    def to_json(self) -> JsonObject:
        return {
            "stack": self.stack_id,
            "verified": self.ok,
            "statedTotalEcts": _number(self.stated_total) if self.stated_total is not None else None,
            "sumEcts": _number(self.sum_ects),
            "ectsByEqfLevel": self.by_eqf_level,
            "parts": [p.to_json() for p in self.parts],
            "problems": [p.to_json() for p in self.problems],
        }

    def summary(self) -> str:
        if self.ok:
            return f"all {len(self.parts)} parts present and intact; {_number(self.sum_ects)} ECTS as stated"
        return "; ".join(p.message for p in self.problems)


def check_stack(stacked: Any, presented: Iterable[Any]) -> StackReport:
    """Check a stacked credential against the credentials presented with it (VC DM 2.0 §5.3).

    Each referenced part must be presented and match its digest; no part, digest or
    achievement may be counted twice; every part must belong to the stack's learner and state
    its ECTS; the parts' ECTS must add up to the stated total. Never raises.
    """
    refs = references(stacked)
    report = StackReport(stacked.get("id") if isinstance(stacked, Mapping) else None, stated_total(stacked))
    if not refs:
        report.add(MALFORMED, "the stacked credential references no parts (relatedResource)")
        return report
    if report.stated_total is None:
        report.add(MALFORMED, "the stacked credential states no total ECTS (achievement.creditsAvailable, a positive number)")
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for c in presented:
        if isinstance(c, Mapping) and isinstance(c.get("id"), str) and c is not stacked:
            by_id.setdefault(c["id"], []).append(c)
    learner = _learner_of(stacked) if isinstance(stacked, Mapping) else {}
    if not learner:
        # Without one, parts of different learners (or of none named) would stack unnoticed.
        report.add(MALFORMED, "the stacked credential names no learner (a subject id, or the learner's name in identifier)")
    seen_ids: set[str] = set()
    seen_digests: dict[str, str] = {}
    seen_achievements: dict[str, str] = {}
    for i, (rid, digest) in enumerate(refs):
        if not isinstance(rid, str) or not isinstance(digest, str):
            report.add(MALFORMED, f"relatedResource[{i}] needs a string id and digestMultibase", rid if isinstance(rid, str) else None)
            continue
        if rid in seen_ids:
            report.add(DUPLICATED, f"part {rid} is referenced more than once", rid)
            continue
        seen_ids.add(rid)
        if digest in seen_digests:
            report.add(DUPLICATED, f"part {rid} has the same digest as part {seen_digests[digest]}: one credential counted twice", rid)
            continue
        seen_digests[digest] = rid
        entry = PartEntry(rid, digest)
        report.parts.append(entry)
        candidates = by_id.get(rid, [])
        if not candidates:
            report.add(MISSING, f"part {rid} is referenced but not presented", rid)
            continue
        entry.present = True
        digests = [digest_or_none(c) for c in candidates]
        part = next((c for c, d in zip(candidates, digests) if d == digest), None)
        if part is None:
            why = (
                "it has no digest (RFC 8785 cannot represent it: an integer past 2**53 that is no double, or a lone surrogate)"
                if all(d is None for d in digests)
                else "it was altered after the stack was issued"
            )
            report.add(TAMPERED, f"part {rid} does not match its digest: {why}", rid)
            continue
        entry.digest_matches = True
        if not is_microcredential(part):
            # Only the profile makes creditsAvailable ECTS; and a stacked part would count its own
            # parts a second time beside them.
            report.add(
                NOT_MICRO,
                f"part {rid} is not a micro-credential (achievementType MicroCredential): its credits are not "
                "ECTS a stack can count" + (", and it is itself a stack" if is_stacked(part) else ""),
                rid,
            )
            continue
        facts = part_facts(part)
        entry.ects, entry.eqf_level, entry.achievement_id = facts.ects, facts.eqf_level, facts.achievement_id
        if facts.achievement_id is not None:
            if facts.achievement_id in seen_achievements:
                report.add(
                    DUPLICATED,
                    f"part {rid} awards achievement {facts.achievement_id} again (also part {seen_achievements[facts.achievement_id]}); "
                    "it is counted once",
                    rid,
                )
                continue
            seen_achievements[facts.achievement_id] = rid
        entry.counted = True
        if facts.ects is None:
            report.add(NO_ECTS, f"part {rid} states no ECTS workload (achievement.creditsAvailable)", rid)
        if learner and not _same_learner(learner, facts):
            report.add(LEARNER, f"part {rid} was awarded to another learner than the stacked credential", rid)
    if report.stated_total is not None and all(p.ects is not None for p in report.counted):
        total = report.sum_ects
        if not any(p.code in (MISSING, TAMPERED, DUPLICATED, NOT_MICRO) for p in report.problems) and total != report.stated_total:
            report.add(
                ECTS_MISMATCH,
                f"the parts add up to {_number(total)} ECTS, the stacked credential states {_number(report.stated_total)}",
            )
    return report


# --- building --------------------------------------------------------------------------------


def build_stacked_credential(
    parts: Sequence[Mapping[str, Any]],
    *,
    issuer: str | Mapping[str, Any],
    achievement: Mapping[str, Any],
    valid_from: datetime,
    credential_id: str | None = None,
    total_ects: int | float | None = None,
    eqf_level: int | None = None,
) -> JsonObject:
    """The unsigned stacked ``OpenBadgeCredential`` over ``parts`` (signed credentials).

    ``achievement`` gives the larger award's ``id``, ``name``, ``description`` and optionally
    ``achievementType`` (default Certificate) and ``criteria``. The total is the parts' ECTS
    sum; a ``total_ects`` that disagrees is refused. Raises ``StackError`` listing every problem
    (the same checks a verifier runs), so nothing is built from parts that would not stack.
    """
    problems: list[str] = []
    if not parts:
        problems.append("a stack needs at least one part")
    for key in ("id", "name", "description"):
        if not isinstance(achievement.get(key), str) or not achievement[key].strip():
            problems.append(f"achievement.{key} must be a non-empty string")
    if eqf_level is not None and (isinstance(eqf_level, bool) or not isinstance(eqf_level, int) or not 1 <= eqf_level <= 8):
        problems.append("eqfLevel must be an integer 1..8")
    if not isinstance(valid_from, datetime) or valid_from.tzinfo is None:
        problems.append("validFrom must be a date-time with a time zone")
    if problems:
        raise StackError("; ".join(problems), problems=problems)
    facts = [part_facts(p) for p in parts]
    missing_id = [i for i, f in enumerate(facts) if f.id is None]
    if missing_id:
        raise StackError(f"part(s) {missing_id} have no id to be referenced by", problems=[f"part {i} has no id" for i in missing_id])
    first = facts[0]
    ach: JsonObject = {
        "id": achievement["id"],
        "type": ["Achievement"],
        "achievementType": achievement.get("achievementType", DEFAULT_ACHIEVEMENT_TYPE),
        "name": achievement["name"],
        "description": achievement["description"],
        "criteria": {"narrative": achievement.get("criteria") or "Awarded for completing every micro-credential listed in relatedResource."},
        "creditsAvailable": 0,
    }
    if eqf_level is not None:
        ach["alignment"] = [
            {
                "type": ["Alignment"],
                "targetType": T_EQF,
                "targetName": f"EQF level {eqf_level}",
                "targetUrl": f"{EQF_BASE}{eqf_level}",
                "targetFramework": EQF_FRAMEWORK,
                "targetCode": str(eqf_level),
            }
        ]
    subject: JsonObject = {"type": ["AchievementSubject"]}
    if first.learner_id:
        subject["id"] = first.learner_id
    if first.learner_name:
        subject["identifier"] = [{"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": first.learner_name}]
    subject["achievement"] = ach
    vc: JsonObject = {"@context": list(CONTEXT)}
    if credential_id is not None:
        vc["id"] = credential_id
    vc["type"] = ["VerifiableCredential", "OpenBadgeCredential"]
    vc["name"] = achievement["name"]
    vc["issuer"] = issuer if isinstance(issuer, str) else dict(issuer)
    vc["validFrom"] = valid_from.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    vc["credentialSubject"] = subject
    vc["relatedResource"] = [
        {"id": f.id, "digestMultibase": part_digest(p), "mediaType": STACK_MEDIA_TYPE} for f, p in zip(facts, parts)
    ]
    # Check what a verifier will check, against exactly these parts, with the sum as the total.
    total = sum((f.ects for f in facts if f.ects is not None), Fraction(0))
    ach["creditsAvailable"] = _number(total) if total > 0 else 0
    report = check_stack(vc, parts)
    if total_ects is not None:
        wanted = _fraction(total_ects)
        if wanted is None or wanted != total:
            report.add(ECTS_MISMATCH, f"the parts add up to {_number(total)} ECTS, not the {total_ects!r} requested")
    if not report.ok:
        raise StackError(report.summary(), problems=[p.to_json() for p in report.problems])
    return vc

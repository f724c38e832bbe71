"""The verify-time report of the EU micro-credential profile: each Annex I element's value,
or its absence, read from a credential.

It reads exactly the places ``vc.edu.build`` writes (``docs/microcredential-profile.md``), and
never raises: a credential that lacks or garbles an element gets that element reported as
missing or malformed. The report is information, not a check; ``attach_report`` is the
``vc.credentials.Reporter`` that adds it to a verification result. Everything here is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from vc.edu.model import (
    ACHIEVEMENT_TYPE,
    ELEMENTS,
    EQF_BASE,
    T_EQF,
    T_INTEGRATION,
    T_OUTCOME,
    T_PARTICIPATION,
    T_PREREQUISITE,
    T_QA,
    T_SUPERVISION,
    as_list,
    country_problem,
    drop_none,
    label,
    normalise_participation,
    xsd_datetime,
)
from vc.results import VerificationResult


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


def _types(obj: Any) -> list[str]:
    return [t for t in as_list(obj.get("type")) if isinstance(t, str)] if isinstance(obj, Mapping) else []


def _subject(vc: Mapping[str, Any]) -> Mapping[str, Any]:
    for s in as_list(vc.get("credentialSubject")):
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


def attach_report(vc: Any, result: VerificationResult) -> None:
    """Add the profile report to a ``VerificationResult`` (as ``reports["microcredential"]``)
    when ``vc`` is a micro-credential: a ``vc.credentials.Reporter``, which the node passes to
    ``verify_credential`` / ``verify_presentation``. Information only: it adds no check, so an
    Open Badge missing elements verifies exactly as before, with the report naming what is missing."""
    if is_microcredential(vc):
        result.reports["microcredential"] = profile_report(vc).to_json()


def _alignments_of(ach: Mapping[str, Any], target_type: str) -> list[Mapping[str, Any]]:
    return [a for a in as_list(ach.get("alignment")) if isinstance(a, Mapping) and a.get("targetType") == target_type]


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
    for i in as_list(subject.get("identifier")):
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
    problem = country_problem(code) if code is not None else None
    if problem is not None:
        return _malformed("c", value, f"addressCountryCode: {problem}")
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
            xsd_datetime(v)
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
        for a in as_list(ach.get("alignment"))
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
        for rd in as_list(ach.get("resultDescription"))
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
    value = [drop_none({"description": a.get("targetName"), "url": a.get("targetUrl"), "framework": a.get("targetFramework")}) for a in found]
    if any(not isinstance(v.get("description"), str) or not v["description"].strip() for v in value):
        return _malformed("k", value, "a quality assurance alignment has no targetName")
    return _present("k", value if len(value) > 1 else value[0])


def _read_optional(ach: Mapping[str, Any], subject: Mapping[str, Any]) -> list[ElementReport]:
    out: list[ElementReport] = []
    pre = [a.get("targetName") for a in _alignments_of(ach, T_PREREQUISITE)]
    out.append(_present("prerequisites", pre) if pre else _missing("prerequisites", ""))
    rds = {rd.get("id"): rd.get("name") for rd in as_list(ach.get("resultDescription")) if isinstance(rd, Mapping)}
    grades = []
    for res in as_list(subject.get("result")):
        if isinstance(res, Mapping) and ("value" in res or "status" in res):
            g = drop_none({"value": res.get("value"), "status": res.get("status"), "assessment": rds.get(res.get("resultDescription"))})
            grades.append(g)
    out.append(_present("grade", grades if len(grades) > 1 else grades[0]) if grades else _missing("grade", ""))
    sup = _alignments_of(ach, T_SUPERVISION)
    out.append(_present("supervision and identity verification", sup[0].get("targetName")) if sup else _missing("supervision and identity verification", ""))
    integ = _alignments_of(ach, T_INTEGRATION)
    if integ:
        i = integ[0]
        value = drop_none({"mode": i.get("targetCode"), "description": i.get("targetName"), "url": None if "#integration" in str(i.get("targetUrl")) else i.get("targetUrl")})
        out.append(_present("integration/stackability", value))
    else:
        out.append(_missing("integration/stackability", ""))
    return out



# --- text rendering --------------------------------------------------------------------------


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

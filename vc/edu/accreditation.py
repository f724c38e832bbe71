"""Accreditation credentials: an accreditation body's signed statement that an organisation
(an institution's DID) is accredited, by whom, for what scope and for which period.

The content is the European Learning Model's ``Accreditation`` class (ELM 3, namespace
``http://data.europa.eu/snb/model/elm/``): ``accreditingAgent``, ``organisation``,
``limitEQFLevel``, ``limitField``, ``limitJurisdiction``, ``limitQualification``, ``decision``,
``dateIssued`` (dc:issued), ``reviewDate``, ``expiryDate``. The credential types follow EBSI's
verifiable accreditations: ``VerifiableAccreditation`` plus ``VerifiableAccreditationToAttest``
(the organisation may issue credentials) or ``VerifiableAccreditationToAccredit`` (it may
accredit others: a link in the middle of a chain from a trusted root).

The ELM context (edc-ap) cannot follow the VC 2.0 context: it redefines ``description``
(dc:description, language container), which VC 2.0 protects, so JSON-LD 1.1 processing fails
with "protected term redefinition". The credential therefore carries an inline context with
exactly the ELM terms it uses, mapped to ELM's own IRIs, so its RDF is ELM's and no unpublished
context is ever fetched; human-readable text uses VC 2.0's own ``name``/``description``. See
docs/accreditation-and-stacking.md. Everything here is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from vc.edu.model import CREDENTIALS_V2, EQF_BASE, EU_ABBREVIATIONS, as_list, iso_country
from vc.edu.report import profile_report
from vc.errors import MalformedValueError

JsonObject = dict[str, Any]

ELM = "http://data.europa.eu/snb/model/elm/"
ISCED_F_BASE = "http://data.europa.eu/snb/isced-f/"
COUNTRY_BASE = "http://publications.europa.eu/resource/authority/country/"
# EBSI's accreditation type names have no published JSON-LD vocabulary (EBSI describes them
# with JSON Schema), so they are given VC 2.0's issuer-dependent namespace explicitly.
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"

VERIFIABLE_ACCREDITATION = "VerifiableAccreditation"
TO_ATTEST = "VerifiableAccreditationToAttest"
TO_ACCREDIT = "VerifiableAccreditationToAccredit"
KINDS = {"attest": TO_ATTEST, "accredit": TO_ACCREDIT}

# The inline context: ELM's term definitions, copied from edc-ap-context (EDC 3.2 LTS) with the
# same IRIs and coercions, minus every term that clashes with VC 2.0.
ACCREDITATION_CONTEXT: JsonObject = {
    "elm": ELM,
    "dc": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    VERIFIABLE_ACCREDITATION: ISSUER_DEPENDENT + VERIFIABLE_ACCREDITATION,
    TO_ATTEST: ISSUER_DEPENDENT + TO_ATTEST,
    TO_ACCREDIT: ISSUER_DEPENDENT + TO_ACCREDIT,
    "Accreditation": "elm:Accreditation",
    "Organisation": "elm:Organisation",
    "accreditation": {"@id": "elm:accreditation", "@type": "@id"},
    "accreditingAgent": {"@id": "elm:accreditingAgent", "@type": "@id"},
    "organisation": {"@id": "elm:organisation", "@type": "@id"},
    "limitEQFLevel": {"@id": "elm:limitEQFLevel", "@type": "@id"},
    "limitField": {"@id": "elm:limitField", "@type": "@id"},
    "limitJurisdiction": {"@id": "elm:limitJurisdiction", "@type": "@id"},
    "limitQualification": {"@id": "elm:limitQualification", "@type": "@id"},
    "decision": {"@id": "elm:decision", "@type": "@id"},
    "dateIssued": {"@id": "dc:issued", "@type": "xsd:dateTime"},
    "reviewDate": {"@id": "elm:reviewDate", "@type": "xsd:dateTime"},
    "expiryDate": {"@id": "elm:expiryDate", "@type": "xsd:dateTime"},
}
CONTEXT: list[Any] = [CREDENTIALS_V2, ACCREDITATION_CONTEXT]
_TERMS_READ = (
    "accreditation", "accreditingAgent", "organisation", "limitEQFLevel", "limitField", "limitJurisdiction",
    "limitQualification", "decision", "dateIssued", "reviewDate", "expiryDate", "Accreditation", "Organisation",
    VERIFIABLE_ACCREDITATION, TO_ATTEST, TO_ACCREDIT,
)


def jurisdiction(code: Any) -> str | None:
    """The EU country authority's code for a country (what ELM's ``limitJurisdiction`` points
    at: ISO 3166-1 alpha-3) from its ISO 3166-1 alpha-2 or alpha-3 code, or the EU's own
    abbreviations EL and UK; None when ``code`` is none of these (``XX``, lower case)."""
    country = iso_country(EU_ABBREVIATIONS.get(code, code) if isinstance(code, str) else code)
    return country.alpha_3 if country is not None else None


class AccreditationError(MalformedValueError):
    """Not a well-formed accreditation credential; the message names the field."""


@dataclass(frozen=True)
class Scope:
    """ELM's limits. An empty tuple means "not limited" in that dimension."""

    eqf_levels: tuple[int, ...] = ()
    fields: tuple[str, ...] = ()  # ISCED-F codes, e.g. "0613"
    jurisdictions: tuple[str, ...] = ()  # alpha-3 country codes, e.g. "NLD"
    qualifications: tuple[str, ...] = ()  # qualification / achievement IRIs

    def to_json(self) -> JsonObject:
        out: JsonObject = {}
        if self.eqf_levels:
            out["eqfLevels"] = list(self.eqf_levels)
        if self.fields:
            out["fields"] = list(self.fields)
        if self.jurisdictions:
            out["jurisdictions"] = list(self.jurisdictions)
        if self.qualifications:
            out["qualifications"] = list(self.qualifications)
        return out or {"unlimited": True}


@dataclass(frozen=True)
class Accreditation:
    credential_id: str | None
    accrediting_agent: str  # the issuer of the credential
    organisation: str  # the accredited organisation's DID
    kind: str  # "attest" | "accredit"
    scope: Scope
    decision: str | None = None
    date_issued: str | None = None
    review_date: str | None = None
    expiry_date: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "credentialId": self.credential_id,
            "accreditingAgent": self.accrediting_agent,
            "organisation": self.organisation,
            "kind": self.kind,
            "scope": self.scope.to_json(),
        }
        for key, value in (
            ("decision", self.decision),
            ("dateIssued", self.date_issued),
            ("reviewDate", self.review_date),
            ("expiryDate", self.expiry_date),
            ("validFrom", self.valid_from),
            ("validUntil", self.valid_until),
        ):
            if value is not None:
                out[key] = value
        return out


def _stamp(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- building --------------------------------------------------------------------------------


def scope_from_json(data: Any) -> Scope:
    """A scope from request JSON: ``{eqfLevels: [5, 6], fields: ["0613"], jurisdictions:
    ["NL" | "NLD"], qualifications: [IRI]}`` (each optional); names the first bad field."""
    if data is None:
        return Scope()
    if not isinstance(data, Mapping):
        raise AccreditationError("scope must be an object")
    unknown = sorted(set(data) - {"eqfLevels", "fields", "jurisdictions", "qualifications"})
    if unknown:
        raise AccreditationError(f"scope has unknown field(s) {', '.join(unknown)}; use eqfLevels, fields, jurisdictions, qualifications")
    levels = []
    for v in as_list(data.get("eqfLevels")):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 8:
            raise AccreditationError(f"scope.eqfLevels: {v!r} is not an EQF level 1..8")
        levels.append(v)
    fields_ = []
    for v in as_list(data.get("fields")):
        if not isinstance(v, str) or not re.fullmatch(r"\d{2,4}", v):
            raise AccreditationError(f"scope.fields: {v!r} is not an ISCED-F 2013 code (2 to 4 digits)")
        fields_.append(v)
    places = []
    for v in as_list(data.get("jurisdictions")):
        code = jurisdiction(v)
        if code is None:
            raise AccreditationError(
                f"scope.jurisdictions: {v!r} is not the code of a country (ISO 3166-1 alpha-2 or alpha-3, in capitals, such as \"NL\" or \"NLD\")"
            )
        places.append(code)
    quals = []
    for v in as_list(data.get("qualifications")):
        if not isinstance(v, str) or ":" not in v:
            raise AccreditationError(f"scope.qualifications: {v!r} is not an IRI")
        quals.append(v)
    return Scope(tuple(sorted(set(levels))), tuple(dict.fromkeys(fields_)), tuple(dict.fromkeys(places)), tuple(dict.fromkeys(quals)))


def build_accreditation_credential(
    *,
    accrediting_agent: str,
    organisation: str,
    date_issued: datetime,
    kind: str = "attest",
    scope: Scope = Scope(),
    expiry_date: datetime | None = None,
    review_date: datetime | None = None,
    decision: str | None = None,
    organisation_name: str | None = None,
    name: str | None = None,
    credential_id: str | None = None,
) -> JsonObject:
    """The unsigned accreditation credential (``validFrom`` = dateIssued, ``validUntil`` =
    expiryDate, so every VC verifier enforces the period). Issue it through the node's normal
    path so it gets its revocation status entry."""
    if kind not in KINDS:
        raise AccreditationError(f"kind must be one of {', '.join(KINDS)}")
    for label, value in (("accreditingAgent", accrediting_agent), ("organisation", organisation)):
        if not isinstance(value, str) or not value.startswith("did:"):
            raise AccreditationError(f"{label} must be a DID")
    if accrediting_agent == organisation:
        raise AccreditationError("an organisation cannot accredit itself")
    if not isinstance(date_issued, datetime) or date_issued.tzinfo is None:
        raise AccreditationError("dateIssued must be a date-time with a time zone")
    if expiry_date is not None and (expiry_date.tzinfo is None or expiry_date <= date_issued):
        raise AccreditationError("expiryDate must be a date-time with a time zone after dateIssued")
    if review_date is not None and (review_date.tzinfo is None or review_date <= date_issued):
        raise AccreditationError("reviewDate must be a date-time with a time zone after dateIssued")
    if decision is not None and (not isinstance(decision, str) or ":" not in decision):
        raise AccreditationError("decision must be an IRI (the decision document or concept)")
    acc: JsonObject = {
        "type": "Accreditation",
        "accreditingAgent": accrediting_agent,
        "organisation": organisation,
    }
    if decision:
        acc["decision"] = decision
    if scope.eqf_levels:
        acc["limitEQFLevel"] = [f"{EQF_BASE}{n}" for n in scope.eqf_levels]
    if scope.fields:
        acc["limitField"] = [f"{ISCED_F_BASE}{c}" for c in scope.fields]
    if scope.jurisdictions:
        acc["limitJurisdiction"] = [f"{COUNTRY_BASE}{c}" for c in scope.jurisdictions]
    if scope.qualifications:
        acc["limitQualification"] = list(scope.qualifications)
    acc["dateIssued"] = _stamp(date_issued)
    if review_date is not None:
        acc["reviewDate"] = _stamp(review_date)
    if expiry_date is not None:
        acc["expiryDate"] = _stamp(expiry_date)
    subject: JsonObject = {"id": organisation, "type": "Organisation"}
    if organisation_name:
        subject["name"] = organisation_name
    subject["accreditation"] = acc
    vc: JsonObject = {"@context": [CREDENTIALS_V2, dict(ACCREDITATION_CONTEXT)]}
    if credential_id is not None:
        vc["id"] = credential_id
    vc["type"] = ["VerifiableCredential", VERIFIABLE_ACCREDITATION, KINDS[kind]]
    vc["name"] = name or (f"Accreditation of {organisation_name}" if organisation_name else "Accreditation")
    vc["issuer"] = accrediting_agent
    vc["validFrom"] = _stamp(date_issued)
    if expiry_date is not None:
        vc["validUntil"] = _stamp(expiry_date)
    vc["credentialSubject"] = subject
    return vc


# --- parsing ---------------------------------------------------------------------------------


def is_accreditation(vc: Any) -> bool:
    return isinstance(vc, Mapping) and VERIFIABLE_ACCREDITATION in as_list(vc.get("type"))


def _check_context(vc: Mapping[str, Any]) -> None:
    """The terms read here mean ELM's IRIs only if the credential's own context says so."""
    contexts = as_list(vc.get("@context"))
    if not contexts or contexts[0] != CREDENTIALS_V2:
        raise AccreditationError(f"@context must start with {CREDENTIALS_V2}")
    defined: dict[str, Any] = {}
    for c in contexts[1:]:
        if isinstance(c, Mapping):
            defined.update(c)
    for term in _TERMS_READ:
        if term in defined and defined[term] != ACCREDITATION_CONTEXT[term]:
            raise AccreditationError(f"@context defines {term!r} differently from the European Learning Model")
    used = [t for t in ("accreditation", "accreditingAgent", "organisation", "Accreditation") if t not in defined]
    if used:
        raise AccreditationError(f"@context does not define {', '.join(used)} (the inline ELM context is missing)")
    for prefix in ("elm", "dc", "xsd"):
        if prefix in defined and defined[prefix] != ACCREDITATION_CONTEXT[prefix]:
            raise AccreditationError(f"@context maps prefix {prefix!r} to {defined[prefix]!r}, not ELM's")


def _iri_list(acc: Mapping[str, Any], key: str, base: str | None, pattern: str) -> tuple[str, ...]:
    out = []
    for v in as_list(acc.get(key)):
        if not isinstance(v, str):
            raise AccreditationError(f"accreditation.{key} must hold IRIs")
        if base is None:
            out.append(v)
            continue
        if not v.startswith(base) or not re.fullmatch(pattern, v[len(base):]):
            raise AccreditationError(f"accreditation.{key}: {v!r} is not in {base}")
        out.append(v[len(base):])
    return tuple(out)


def parse_accreditation(vc: Any) -> Accreditation:
    """Read an accreditation credential (content only; proof, period and status are the
    verifier's). Raises ``AccreditationError`` naming what is wrong."""
    if not is_accreditation(vc):
        raise AccreditationError(f"not an accreditation credential (type must include {VERIFIABLE_ACCREDITATION})")
    _check_context(vc)
    types = as_list(vc.get("type"))
    kinds = [k for k, t in KINDS.items() if t in types]
    if len(kinds) != 1:
        raise AccreditationError(f"type must include exactly one of {TO_ATTEST}, {TO_ACCREDIT}")
    issuer = vc.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not isinstance(issuer, str):
        raise AccreditationError("the credential has no issuer id")
    subjects = [s for s in as_list(vc.get("credentialSubject")) if isinstance(s, Mapping)]
    if len(subjects) != 1:
        raise AccreditationError("credentialSubject must be one organisation")
    subject = subjects[0]
    acc = subject.get("accreditation")
    if not isinstance(acc, Mapping) or "Accreditation" not in as_list(acc.get("type")):
        raise AccreditationError("credentialSubject.accreditation must be an object of type Accreditation")
    agent, org = acc.get("accreditingAgent"), acc.get("organisation")
    if agent != issuer:
        raise AccreditationError(f"accreditation.accreditingAgent {agent!r} is not the credential's issuer {issuer!r}")
    if not isinstance(org, str) or org != subject.get("id"):
        raise AccreditationError(f"accreditation.organisation {org!r} is not the credential subject's id {subject.get('id')!r}")
    levels = tuple(sorted({int(x) for x in _iri_list(acc, "limitEQFLevel", EQF_BASE, r"[1-8]")}))
    scope = Scope(
        levels,
        _iri_list(acc, "limitField", ISCED_F_BASE, r"\d{2,4}"),
        # Read by shape only: the EU country authority also names places without an ISO 3166-1
        # code, and a jurisdiction no credential can match only leaves credentials outside it.
        _iri_list(acc, "limitJurisdiction", COUNTRY_BASE, r"[A-Z]{3}"),
        _iri_list(acc, "limitQualification", None, ""),
    )

    def text(key: str) -> str | None:
        v = acc.get(key)
        return v if isinstance(v, str) else None

    def top(key: str) -> str | None:
        v = vc.get(key)
        return v if isinstance(v, str) else None

    return Accreditation(
        credential_id=top("id"),
        accrediting_agent=issuer,
        organisation=org,
        kind=kinds[0],
        scope=scope,
        decision=text("decision"),
        date_issued=text("dateIssued"),
        review_date=text("reviewDate"),
        expiry_date=text("expiryDate"),
        valid_from=top("validFrom"),
        valid_until=top("validUntil"),
    )


def _parse_time(v: str | None) -> datetime | None:
    if v is None:
        return None
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise AccreditationError(f"{v!r} is not a date-time") from None
    if d.tzinfo is None:
        raise AccreditationError(f"{v!r} has no time zone")
    return d


def period_problem(acc: Accreditation, now: datetime) -> str | None:
    """ELM's own dates (the VC validity period is checked by the VC verifier): expired, or not
    yet issued. A passed reviewDate is not a failure: the decision stands until withdrawn."""
    expiry = _parse_time(acc.expiry_date)
    if expiry is not None and now >= expiry:
        return f"the accreditation expired on {acc.expiry_date}"
    issued = _parse_time(acc.date_issued)
    if issued is not None and now < issued:
        return f"the accreditation is dated {acc.date_issued}, in the future"
    return None


# --- scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialFacts:
    """What an accreditation's limits are compared with, read from the credential."""

    eqf_level: int | None = None
    fields: tuple[str, ...] = ()
    country: str | None = None  # alpha-3
    qualification: str | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {}
        if self.eqf_level is not None:
            out["eqfLevel"] = self.eqf_level
        if self.fields:
            out["fields"] = list(self.fields)
        if self.country:
            out["country"] = self.country
        if self.qualification:
            out["qualification"] = self.qualification
        return out


def credential_facts(vc: Any) -> CredentialFacts:
    """EQF level and issuer country through the micro-credential profile's reader; ISCED-F
    fields from ``fieldOfStudy`` (a code) or an alignment into ISCED-F; the achievement id."""
    if not isinstance(vc, Mapping):
        return CredentialFacts()
    report = {e.element: e for e in profile_report(vc).elements}
    h, c = report["h"], report["c"]
    level = h.value.get("level") if h.status == "present" and isinstance(h.value, dict) else None
    country = None
    if c.status == "present" and isinstance(c.value, dict):
        # Only an existing ISO 3166-1 alpha-2 code reads as present, so this maps any country.
        country = jurisdiction(c.value.get("addressCountryCode"))
    ach: Mapping[str, Any] = {}
    for s in as_list(vc.get("credentialSubject")):
        if isinstance(s, Mapping) and isinstance(s.get("achievement"), Mapping):
            ach = s["achievement"]
            break
    fields_: list[str] = []
    fos = ach.get("fieldOfStudy")
    if isinstance(fos, str) and re.fullmatch(r"\d{2,4}", fos.strip()):
        fields_.append(fos.strip())
    for a in as_list(ach.get("alignment")):
        url = a.get("targetUrl") if isinstance(a, Mapping) else None
        if isinstance(url, str) and url.startswith(ISCED_F_BASE) and re.fullmatch(r"\d{2,4}", url[len(ISCED_F_BASE):]):
            fields_.append(url[len(ISCED_F_BASE):])
    qual = ach.get("id")
    return CredentialFacts(
        level if isinstance(level, int) else None,
        tuple(dict.fromkeys(fields_)),
        country,
        qual if isinstance(qual, str) else None,
    )


@dataclass(frozen=True)
class ScopeFinding:
    dimension: str  # "EQF level" | "field" | "jurisdiction" | "qualification"
    outcome: str  # "failed" (outside the scope) | "unknown" (the credential does not say)
    message: str


def scope_findings(scope: Scope, facts: CredentialFacts) -> list[ScopeFinding]:
    """Each limit of ``scope`` the credential is outside of (failed) or silent about (unknown)."""
    out: list[ScopeFinding] = []
    if scope.eqf_levels:
        allowed = ", ".join(map(str, scope.eqf_levels))
        if facts.eqf_level is None:
            out.append(ScopeFinding("EQF level", "unknown", f"the accreditation covers EQF levels {allowed}; the credential states no EQF level"))
        elif facts.eqf_level not in scope.eqf_levels:
            out.append(ScopeFinding("EQF level", "failed", f"EQF level {facts.eqf_level} is outside the accredited levels {allowed}"))
    if scope.fields:
        allowed = ", ".join(scope.fields)
        if not facts.fields:
            out.append(ScopeFinding("field", "unknown", f"the accreditation covers ISCED-F fields {allowed}; the credential states no ISCED-F field"))
        elif not any(f.startswith(limit) for f in facts.fields for limit in scope.fields):
            # A broad or narrow field covers the detailed fields under it (ISCED-F 2013 is a hierarchy of codes).
            out.append(ScopeFinding("field", "failed", f"field {', '.join(facts.fields)} is outside the accredited fields {allowed}"))
    if scope.jurisdictions:
        allowed = ", ".join(scope.jurisdictions)
        if facts.country is None:
            out.append(ScopeFinding("jurisdiction", "unknown", f"the accreditation covers {allowed}; the credential's issuer states no country this node can map"))
        elif facts.country not in scope.jurisdictions:
            out.append(ScopeFinding("jurisdiction", "failed", f"the issuer's country {facts.country} is outside the accredited jurisdictions {allowed}"))
    if scope.qualifications:
        if facts.qualification is None:
            out.append(ScopeFinding("qualification", "unknown", "the accreditation is limited to named qualifications; the credential names no achievement"))
        elif facts.qualification not in scope.qualifications:
            out.append(ScopeFinding("qualification", "failed", f"qualification {facts.qualification} is not among the accredited ones"))
    return out


def accreditations_in(document: Any) -> list[Any]:
    """The credentials of a published accreditations document (an unsigned
    VerifiablePresentation whose ``verifiableCredential`` holds them)."""
    if not isinstance(document, Mapping):
        return []
    return as_list(document.get("verifiableCredential"))


def accreditations_document(holder: str, credentials: Iterable[Mapping[str, Any]]) -> JsonObject:
    """What an institution publishes next to its DID document."""
    return {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": list(credentials),
    }


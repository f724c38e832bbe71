"""Data model checks of VC Data Model 2.0 (https://www.w3.org/TR/vc-data-model-2.0/), with
VC Data Model 1.1 (https://www.w3.org/TR/vc-data-model-1.1/) accepted for verification.

These are the JSON-level rules (contexts, types, identifiers, dates, the typed entries, related
resource digests). They run before any JSON-LD or proof work and raise ``vc.errors`` problems
naming the field at fault; ``vc.results`` turns them into result entries.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Literal

from did.multikey import decode_multibase
from did.timestamps import NoSuchDay, NotADateTime, parse_date_time
from vc.errors import CryptographicSecurityError, MalformedValueError, RangeError

JsonObject = dict[str, Any]
Version = Literal["2.0", "1.1"]

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
_VERSION_OF_CONTEXT: dict[str, Version] = {CREDENTIALS_V2: "2.0", CREDENTIALS_V1: "1.1"}

# Types the node recognises but does not process: VC DM 2.0 §4.13 enveloped forms.
ENVELOPED_CREDENTIAL = "EnvelopedVerifiableCredential"
ENVELOPED_PRESENTATION = "EnvelopedVerifiablePresentation"


# ``lookup(url, algorithm)``: the digests (raw bytes) accepted for the resource at ``url`` under
# a hashlib algorithm name: of the bytes the node ships, and of other serializations published
# for it (the W3C's, where the shipped npm copy differs byte-wise). Empty when not pinned.
# ``vc.loader.ContextLoader.digests`` is one.
ResourceDigests = Callable[[str, str], frozenset[bytes]]


@dataclass(frozen=True)
class DataModelReport:
    version: Version
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    # relatedResource ids whose digests were checked against shipped bytes, and those that
    # could not be (the node never fetches), so the result can say which is which.
    checked_resources: tuple[str, ...] = ()
    unchecked_resources: tuple[str, ...] = field(default=())


# How far apart an issuer's (or signer's) clock and ours may be: a proof "created" up to this far
# in the future, a validity period this far off at either end, still pass. Digital Bazaar's vc
# library allows the same 300 s (maxClockSkew). vc.proofs and status/ use it too.
MAX_CLOCK_SKEW = timedelta(seconds=300)


class ValidityPeriodError(RangeError):
    """``now`` lies outside validFrom..validUntil: established, so a failure, not an unknown.
    ``field`` names the bound broken (validFrom, validUntil, or 1.1's issuanceDate,
    expirationDate), which the validity check's entry carries."""

    outcome = "failed"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- identifiers --------------------------------------------------------------------------

# RFC 3986 §3.1 scheme, then at least one character, and nothing a URL cannot hold raw.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")


def is_url(value: Any) -> bool:
    """True for an absolute URL (VC DM 2.0 §4.4: identifiers MUST be URLs)."""
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def _require_url(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise MalformedValueError(f"{where} must be a URL string, got {type(value).__name__}")
    if not is_url(value):
        raise MalformedValueError(f"{where} must be an absolute URL, got {value!r}")
    return value


def _check_all_ids(doc: Any, path: str) -> None:
    """VC DM 2.0 §4.4: every ``id`` is a single URL. ``@context`` is skipped: there ``id``
    may be a term definition, not an identifier."""
    if _all_ids_are_urls(doc):
        return
    # Only containers go on the stack (a scalar holds no id), so no path is formatted for them.
    stack: list[tuple[Any, str]] = [(doc, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "@context":
                    continue
                if k == "id":
                    _require_url(v, f"{where}.id")
                elif isinstance(v, (dict, list)):
                    stack.append((v, f"{where}.{k}"))
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value) if isinstance(v, (dict, list)))


def _all_ids_are_urls(doc: Any) -> bool:
    """The walk of ``_check_all_ids`` without the paths, which only a failure needs: half the
    time on a credential, checked on every issue and every verification. A container of a
    type other than plain dict and list (a subclass) is left to the walk with paths."""
    stack = [doc]
    pop, push, url = stack.pop, stack.append, _URL.fullmatch
    while stack:
        value = pop()
        kind = type(value)
        if kind is dict:
            for k, v in value.items():
                if k == "id":
                    if type(v) is not str or url(v) is None:
                        return False
                elif k != "@context":
                    kind = type(v)
                    if kind is dict or kind is list:
                        push(v)
                    elif isinstance(v, (dict, list)):
                        return False
        elif kind is list:
            for v in value:
                kind = type(v)
                if kind is dict or kind is list:
                    push(v)
                elif isinstance(v, (dict, list)):
                    return False
        else:
            return False
    return True


# --- small shape helpers ------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _types(value: Any, where: str) -> list[str]:
    if value is None:
        raise MalformedValueError(f"{where}.type is missing")
    items = _as_list(value)
    if not items or not all(isinstance(t, str) and t for t in items):
        raise MalformedValueError(f"{where}.type must be a non-empty string or array of non-empty strings")
    return items


def _context_version(doc: JsonObject, what: str) -> Version:
    """VC DM 2.0 §4.3 (and 1.1 §4.1): ``@context`` is an ordered set whose first item is the base context."""
    ctx = doc.get("@context")
    if ctx is None:
        raise MalformedValueError(f"the {what} has no @context")
    if not isinstance(ctx, list) or not ctx:
        raise MalformedValueError(f"the {what}'s @context must be an array whose first item is {CREDENTIALS_V2!r}")
    first = ctx[0]
    version = _VERSION_OF_CONTEXT.get(first) if isinstance(first, str) else None
    if version is None:
        raise MalformedValueError(
            f"the first @context item of the {what} must be {CREDENTIALS_V2!r} (or {CREDENTIALS_V1!r} "
            f"for VC Data Model 1.1), got {first!r}"
        )
    for i, item in enumerate(ctx[1:], start=1):
        if isinstance(item, str):
            _require_url(item, f"@context[{i}]")
        elif not isinstance(item, dict):
            raise MalformedValueError(f"@context[{i}] must be a URL or a context object, got {type(item).__name__}")
    return version


# BCP 47 tag syntax, as loosely as JSON-LD 1.1 reads "well-formed" (the pattern vc.jsonld's
# safe mode refuses tags against when signing or verifying with an RDF suite).
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")


def _language_value(value: Any, where: str) -> None:
    """VC DM 2.0 §4.6: ``name``/``description`` are strings or language value objects; §11.1:
    such an object's ``@language`` is a string holding a well-formed language tag and its
    ``@direction`` a JSON-LD base direction, ``ltr`` or ``rtl``. JSON-LD expansion refuses
    anything else, and App. B.1 makes that a verification failure whatever the suite (JCS
    signs the JSON and would not notice)."""
    for i, item in enumerate(_as_list(value)):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        if isinstance(item, str):
            continue
        if not (isinstance(item, dict) and isinstance(item.get("@value"), str) and set(item) <= {
            "@value",
            "@language",
            "@direction",
        }):
            raise MalformedValueError(f"{at} must be a string or a language value object ({{'@value': ...}})")
        if "@language" in item and not (isinstance(item["@language"], str) and _LANGUAGE_TAG.fullmatch(item["@language"])):
            raise MalformedValueError(
                f"{at}.@language must be a string holding a well-formed language tag (BCP 47, such as 'en' or 'fr-CA'), "
                f"got {item['@language']!r}"
            )
        if "@direction" in item and item["@direction"] not in ("ltr", "rtl"):
            raise MalformedValueError(f"{at}.@direction must be 'ltr' or 'rtl', got {item['@direction']!r}")


# --- dates --------------------------------------------------------------------------------

# VC DM 2.0 §4.6 asks for dateTimeStamp (XML Schema 1.1 §3.4.28: dateTime with explicitTimezone
# required) and VC DM 1.1 §4.6 for an RFC 3339 date-time, which also carries an offset. The
# reading itself is did.timestamps' (a verification method's revoked/expires use it too).


def parse_datetime_stamp(value: Any, where: str, *, require_timezone: bool = True) -> datetime:
    """An XML Schema dateTimeStamp as an aware UTC datetime, raising MALFORMED_VALUE_ERROR.

    Years beyond Python's range (XML Schema allows them) become datetime.max/min, which
    compare correctly against any current time. With ``require_timezone=False`` (VC DM 1.1's
    plain xsd:dateTime) a value without a timezone is read as UTC.
    """
    if not isinstance(value, str):
        raise MalformedValueError(f"{where} must be an XML Schema dateTimeStamp string, got {type(value).__name__}")
    try:
        return parse_date_time(value, require_timezone=require_timezone)
    except NotADateTime:
        raise MalformedValueError(
            f"{where} must be an XML Schema dateTimeStamp with a timezone, such as 2024-01-01T00:00:00Z; got {value!r}"
        ) from None
    except NoSuchDay:
        raise MalformedValueError(f"{where} is not a real date and time: {value!r} (day is out of range for month)") from None


def _validity_fields(version: Version) -> tuple[str, str]:
    return ("validFrom", "validUntil") if version == "2.0" else ("issuanceDate", "expirationDate")


def _dates(vc: JsonObject, version: Version) -> tuple[datetime | None, datetime | None]:
    start_field, end_field = _validity_fields(version)
    # VC DM 1.1 §4.6/§4.7 ask for an xsd:dateTime, whose timezone is optional; real 1.1
    # credentials (the EU's EDC samples) omit it. VC DM 2.0 asks for dateTimeStamp.
    tz = version == "2.0"
    start = parse_datetime_stamp(vc[start_field], start_field, require_timezone=tz) if start_field in vc else None
    end = parse_datetime_stamp(vc[end_field], end_field, require_timezone=tz) if end_field in vc else None
    if version == "1.1" and start is None:
        raise MalformedValueError("a VC Data Model 1.1 credential must have an issuanceDate")
    if start is not None and end is not None and start > end:
        # VC DM 2.0 §4.9: validFrom MUST be the same as or earlier than validUntil.
        raise MalformedValueError(f"{start_field} ({vc[start_field]}) is later than {end_field} ({vc[end_field]})")
    return start, end


def check_validity(vc: JsonObject, *, now: datetime, max_clock_skew: timedelta = MAX_CLOCK_SKEW) -> str:
    """``validity_period``'s sentence (its raising is the check)."""
    return validity_period(vc, now=now, max_clock_skew=max_clock_skew)[0]


def validity_period(vc: JsonObject, *, now: datetime, max_clock_skew: timedelta = MAX_CLOCK_SKEW) -> tuple[str, int]:
    """VC DM 2.0 §4.9 validity period (1.1: issuanceDate, expirationDate): raise
    ``ValidityPeriodError`` unless ``now`` lies in it, give or take ``max_clock_skew``.

    The allowance is the one proofs get for ``created`` and status lists for their own period,
    applied at both ends as Digital Bazaar's vc library applies its ``maxClockSkew`` (300 s)
    to validFrom, validUntil, issuanceDate and expirationDate (``lib/index.js``
    ``_checkCredential``, ``compareTime``): an issuer stamps ``validFrom`` with its own clock,
    and a verifier (or a replica) a few seconds behind it must not refuse a fresh credential.
    Returns a sentence describing the period, for the result entry, and the seconds of the
    allowance the verdict needed (0 when ``now`` lies in the period itself).
    """
    if max_clock_skew < timedelta(0):
        raise ValueError("max_clock_skew must not be negative")
    version = _context_version(vc, "credential")
    start_field, end_field = _validity_fields(version)
    start, end = _dates(vc, version)
    if start is not None and now + max_clock_skew < start:
        raise ValidityPeriodError(f"the credential is not yet valid: {start_field} is {vc[start_field]}", field=start_field)
    if end is not None and now - max_clock_skew > end:
        raise ValidityPeriodError(f"the credential has expired: {end_field} was {vc[end_field]}", field=end_field)
    if start is None and end is None:
        return "the credential states no validity period", 0
    parts = [f"{start_field} {vc[start_field]}" if start else "", f"{end_field} {vc[end_field]}" if end else ""]
    within = "the current time lies within the validity period (" + ", ".join(p for p in parts if p) + ")"
    if (start is not None and now < start) or (end is not None and now > end):
        skew = int(max_clock_skew.total_seconds())
        return within.replace("lies within", f"lies within {skew} s (the clock skew allowed) of", 1), skew
    return within, 0


# --- typed entries and related resources --------------------------------------------------

# VC DM 2.0 §4.10-§4.14 and §5.5-§5.7: each entry of these properties MUST carry a type;
# for some, an id too. VC DM 1.1 §4.9, §5.4, §5.5 also require ids for status and refresh.
_TYPED_ENTRIES: dict[str, dict[Version, bool]] = {
    # property: {version: id required}
    "credentialStatus": {"2.0": False, "1.1": True},
    "credentialSchema": {"2.0": True, "1.1": True},
    "refreshService": {"2.0": False, "1.1": True},
    "termsOfUse": {"2.0": False, "1.1": False},
    "evidence": {"2.0": False, "1.1": False},
}
# What a presentation may carry of them: VC DM 2.0 §5.5, terms of use "under which the creator
# issued the credential or presentation" (1.1 §5.4 alike), held to the same rule.
_PRESENTATION_TYPED_ENTRIES = ("termsOfUse",)


def _check_typed_entries(vc: JsonObject, version: Version, properties: tuple[str, ...] | None = None) -> None:
    for prop, needs_id in _TYPED_ENTRIES.items():
        if prop not in vc or (properties is not None and prop not in properties):
            continue
        items = _as_list(vc[prop])
        if not items:
            raise MalformedValueError(f"{prop} must hold at least one entry")
        for i, entry in enumerate(items):
            where = f"{prop}[{i}]" if isinstance(vc[prop], list) else prop
            if not isinstance(entry, dict):
                raise MalformedValueError(f"{where} must be an object, got {type(entry).__name__}")
            _types(entry.get("type"), where)
            if needs_id[version] and "id" not in entry:
                raise MalformedValueError(f"{where} must have an id")


_SRI_ALGORITHMS = {"sha256": 32, "sha384": 48, "sha512": 64}
_SRI_STRENGTH = {"sha256": 1, "sha384": 2, "sha512": 3}
# Multihash codes (multiformats table) -> (hashlib name, digest length).
_MULTIHASH: dict[int, tuple[str, int]] = {
    0x12: ("sha256", 32),
    0x20: ("sha384", 48),
    0x13: ("sha512", 64),
    0x16: ("sha3_256", 32),
    0x15: ("sha3_384", 48),
    0x14: ("sha3_512", 64),
}


def _parse_sri(value: Any, where: str) -> list[tuple[str, bytes]]:
    """Subresource Integrity §3.5 metadata: space-separated ``alg-base64`` tokens, options ignored."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedValueError(f"{where}.digestSRI must be a Subresource Integrity string such as 'sha384-...'")
    out = []
    for token in value.split():
        alg, sep, rest = token.partition("-")
        digest_b64 = rest.split("?", 1)[0]
        if not sep or alg not in _SRI_ALGORITHMS:
            raise MalformedValueError(f"{where}.digestSRI has an unsupported or malformed token {token!r}")
        try:
            digest = base64.b64decode(digest_b64, validate=True)
        except ValueError as e:
            raise MalformedValueError(f"{where}.digestSRI token {token!r} is not base64") from e
        if len(digest) != _SRI_ALGORITHMS[alg]:
            raise MalformedValueError(f"{where}.digestSRI token {token!r} has the wrong length for {alg}")
        out.append((alg, digest))
    return out


def _parse_multibase_digests(value: Any, where: str) -> list[tuple[str, bytes]]:
    """VC Data Integrity 1.0 §2.6 resource integrity: "a single string value, or a list of
    string values, each of which is a Multibase-encoded Multihash value"."""
    if isinstance(value, list):
        if not value:
            raise MalformedValueError(f"{where}.digestMultibase is an empty list; give at least one digest")
        return [_parse_multibase_digest(v, f"{where}.digestMultibase[{i}]") for i, v in enumerate(value)]
    return [_parse_multibase_digest(value, f"{where}.digestMultibase")]


def _parse_multibase_digest(value: Any, where: str) -> tuple[str, bytes]:
    """One multibase-encoded multihash (``where`` names the value)."""
    if not isinstance(value, str):
        raise MalformedValueError(f"{where} must be a multibase string")
    try:
        raw = decode_multibase(value)
    except ValueError as e:
        raise MalformedValueError(f"{where} is not valid multibase: {e}") from e
    if len(raw) < 2 or raw[0] not in _MULTIHASH:
        raise MalformedValueError(f"{where} is not a multihash of a supported SHA-2/SHA-3 function")
    alg, length = _MULTIHASH[raw[0]]
    if raw[1] != length or len(raw) != 2 + length:
        raise MalformedValueError(f"{where} has the wrong digest length for {alg}")
    return alg, bytes(raw[2:])


def _is_pinned(lookup: ResourceDigests, url: str) -> bool:
    return bool(lookup(url, "sha256"))


def _check_related_resources(
    vc: JsonObject, lookup: ResourceDigests | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """VC DM 2.0 §5.3 Integrity of Related Resources."""
    if "relatedResource" not in vc:
        return (), ()
    items = _as_list(vc["relatedResource"])
    if not items:
        raise MalformedValueError("relatedResource must hold at least one entry")
    seen: set[str] = set()
    checked: list[str] = []
    unchecked: list[str] = []
    for i, entry in enumerate(items):
        where = f"relatedResource[{i}]"
        if not isinstance(entry, dict):
            raise MalformedValueError(f"{where} must be an object")
        rid = _require_url(entry.get("id"), f"{where}.id")
        if rid in seen:
            raise MalformedValueError(f"{where}.id {rid!r} appears more than once; ids must be unique")
        seen.add(rid)
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            raise MalformedValueError(f"{where} ({rid}) must carry digestSRI or digestMultibase")
        sri = _parse_sri(entry["digestSRI"], where) if "digestSRI" in entry else None
        mb = _parse_multibase_digests(entry["digestMultibase"], where) if "digestMultibase" in entry else []
        if lookup is None or not _is_pinned(lookup, rid):
            # SPEC-GAP(https://www.w3.org/TR/vc-data-model-2.0/#integrity-of-related-resources):
            # the node never fetches, so only resources it ships can be checked; the rest are
            # reported as unchecked rather than silently passed.
            unchecked.append(rid)
            continue
        if sri is not None:
            # SRI §3.3.4: only the strongest algorithm's tokens count; any of them may match.
            strongest = max(_SRI_STRENGTH[a] for a, _ in sri)
            candidates = [(a, d) for a, d in sri if _SRI_STRENGTH[a] == strongest]
            if not any(d in lookup(rid, a) for a, d in candidates):
                raise CryptographicSecurityError(
                    f"{where}.digestSRI does not match the pinned content of {rid}: the resource was altered "
                    "or the digest is wrong"
                )
        # Each digest listed is the issuer's claim about the resource: every one must hold.
        for alg, digest in mb:
            if digest not in lookup(rid, alg):
                raise CryptographicSecurityError(
                    f"{where}.digestMultibase does not match the pinned content of {rid}: the resource was altered "
                    "or the digest is wrong"
                )
        checked.append(rid)
    return tuple(checked), tuple(unchecked)


# --- credentials and presentations --------------------------------------------------------


def _check_issuer(vc: JsonObject) -> str:
    issuer = vc.get("issuer")
    if issuer is None:
        raise MalformedValueError("the credential has no issuer")
    if isinstance(issuer, dict):
        return _require_url(issuer.get("id"), "issuer.id")
    if isinstance(issuer, str):
        return _require_url(issuer, "issuer")
    raise MalformedValueError("issuer must be a URL or an object with a URL id")


def issuer_id(vc: Any) -> str | None:
    """The issuer's URL, or None when the credential does not name one properly."""
    if not isinstance(vc, dict):
        return None
    issuer = vc.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if is_url(value) else None


def holder_id(vp: Any) -> str | None:
    """The holder's URL, or None when the presentation does not name one properly."""
    if not isinstance(vp, dict):
        return None
    holder = vp.get("holder")
    value = holder.get("id") if isinstance(holder, dict) else holder
    return value if is_url(value) else None


def _check_subject(vc: JsonObject) -> None:
    if "credentialSubject" not in vc:
        raise MalformedValueError("the credential has no credentialSubject")
    subject = vc["credentialSubject"]
    items = _as_list(subject)
    if not items:
        raise MalformedValueError("credentialSubject must hold at least one subject")
    for i, s in enumerate(items):
        where = f"credentialSubject[{i}]" if isinstance(subject, list) else "credentialSubject"
        if not isinstance(s, dict):
            raise MalformedValueError(f"{where} must be an object, got {type(s).__name__}")
        if not s:
            raise MalformedValueError(f"{where} is empty; a subject must make at least one claim")


def _reject_enveloped(doc: JsonObject, what: str) -> None:
    types = doc.get("type")
    if ENVELOPED_CREDENTIAL in _as_list(types) or ENVELOPED_PRESENTATION in _as_list(types):
        raise MalformedValueError(
            f"the {what} is enveloped (VC-JOSE-COSE / SD-JWT); this node verifies only embedded JSON-LD "
            "documents secured with Data Integrity proofs"
        )


def check_credential(
    vc: Any, *, now: datetime | None = None, resources: ResourceDigests | None = None
) -> DataModelReport:
    """VC DM 2.0 §4 (and 1.1) conformance of a credential; with ``now``, also its validity period."""
    if not isinstance(vc, dict):
        raise MalformedValueError(f"a credential must be a JSON object, got {type(vc).__name__}")
    _reject_enveloped(vc, "credential")
    version = _context_version(vc, "credential")
    types = _types(vc.get("type"), "credential")
    if "VerifiableCredential" not in types:
        raise MalformedValueError(f"the credential's type must include 'VerifiableCredential', got {types!r}")
    _check_issuer(vc)
    _check_subject(vc)
    for prop in ("name", "description"):
        if prop in vc:
            _language_value(vc[prop], prop)
    start, end = _dates(vc, version)
    _check_typed_entries(vc, version)
    _check_all_ids(vc, "credential")
    checked, unchecked = _check_related_resources(vc, resources)
    if now is not None:
        check_validity(vc, now=now)
    return DataModelReport(version, start, end, checked, unchecked)


def embedded_credentials(vp: JsonObject) -> list[JsonObject]:
    """The credentials a presentation embeds, refusing the forms the node does not process."""
    if "verifiableCredential" not in vp:
        return []
    if vp["verifiableCredential"] == []:
        # §4.13: "If present, the value MUST be one or more verifiable credential and/or
        # enveloped verifiable credential objects" (1.1 §4.10 alike).
        raise MalformedValueError(
            "verifiableCredential is an empty array; when present it holds one or more credentials "
            "(leave it out of a presentation that carries none)"
        )
    out = []
    for i, c in enumerate(_as_list(vp["verifiableCredential"])):
        where = f"verifiableCredential[{i}]"
        if isinstance(c, str):
            raise MalformedValueError(
                f"{where} is a string (a JWT or a reference); this node verifies only embedded JSON-LD "
                "credentials secured with Data Integrity proofs"
            )
        if not isinstance(c, dict):
            raise MalformedValueError(f"{where} must be a credential object, got {type(c).__name__}")
        if ENVELOPED_CREDENTIAL in _as_list(c.get("type")):
            raise MalformedValueError(
                f"{where} is an EnvelopedVerifiableCredential; this node verifies only embedded JSON-LD "
                "credentials secured with Data Integrity proofs"
            )
        out.append(c)
    return out


def check_presentation(vp: Any) -> DataModelReport:
    """VC DM 2.0 §4.13 (and 1.1 §4.10) conformance of a presentation's own properties.

    The embedded credentials are checked one by one when they are verified.
    """
    if not isinstance(vp, dict):
        raise MalformedValueError(f"a presentation must be a JSON object, got {type(vp).__name__}")
    _reject_enveloped(vp, "presentation")
    version = _context_version(vp, "presentation")
    types = _types(vp.get("type"), "presentation")
    if "VerifiablePresentation" not in types:
        raise MalformedValueError(f"the presentation's type must include 'VerifiablePresentation', got {types!r}")
    if "id" in vp:
        _require_url(vp["id"], "presentation.id")
    if "holder" in vp:
        holder = vp["holder"]
        if isinstance(holder, dict):
            _require_url(holder.get("id"), "holder.id")
        else:
            _require_url(holder, "holder")
    embedded_credentials(vp)
    _check_typed_entries(vp, version, _PRESENTATION_TYPED_ENTRIES)
    # Ids inside the embedded credentials are checked with each credential.
    shallow = {k: v for k, v in vp.items() if k != "verifiableCredential"}
    _check_all_ids(shallow, "presentation")
    return DataModelReport(version)

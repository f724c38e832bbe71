"""What the verifier page shows, computed from the node's verification result (its JSON form).

Pure functions from the result JSON (``VerificationResult.to_json(include_document=True)`` plus
the trust reports) to small view dataclasses the templates render. Nothing here decides
validity: the verdict is read off the checks the node ran, and it is "Verified" only when the
node's result says verified *and* no check failed or could not run.

Every value taken from a credential stays a plain string: the templates escape it, and a link
is made only from an ``http(s)`` URL (``safe_href``), so a ``javascript:`` URL is shown as text.
Its direction-control characters are shown as ``[U+202E]`` and the like (``shorten``), and each
value is a ``Piece`` of its own that the templates isolate (``<bdi>``), so a right-to-left
override in an issuer's name cannot turn the page's own words around.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from node.pages.texts import Texts

JsonObject = dict[str, Any]

VERIFIED, NOT_VERIFIED, REVOKED, SUSPENDED, STATUS_UNKNOWN, NO_CREDENTIALS, UNRECOGNISED = (
    "verified",
    "not-verified",
    "revoked",
    "suspended",
    "status-unknown",
    "no-credentials",  # a sound presentation holding nothing to verify
    "unrecognised",  # every check passed, but nobody this node trusts vouches for the issuer
)
MAX_SHOWN = 400  # characters of one value shown; a credential may carry far longer strings
_KNOWN_CHECKS = ("bounds", "dataModel", "validity", "proof", "binding", "status", "challenge", "domain", "proofPurpose", "stack", "achievement")
_OPTIONAL_KEYS = {
    "prerequisites": "optional.prerequisites",
    "grade": "optional.grade",
    "supervision and identity verification": "optional.supervision",
    "integration/stackability": "optional.integration",
}


# --- pieces of text ----------------------------------------------------------------------------


def safe_href(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL a link may point at; None otherwise."""
    if not isinstance(value, str) or len(value) > 2048:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


# Embeddings, overrides, isolates and marks: obeyed, they reorder the text around them, the
# page's own words included, so a credential's are shown instead (ALM U+061C is one too).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_SHOWN = {ord(c): f"[U+{ord(c):04X}]" for c in BIDI_CONTROLS}


def visible(text: str) -> str:
    """``text`` with its direction-control characters written out: ``[U+202E]``."""
    return text.translate(_BIDI_SHOWN)


def has_bidi_controls(value: Any) -> bool:
    """Whether any string in ``value`` (keys too, at any depth) holds a direction-control character."""
    if isinstance(value, str):
        return not BIDI_CONTROLS.isdisjoint(value)
    if isinstance(value, Mapping):
        return any(has_bidi_controls(k) or has_bidi_controls(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_bidi_controls(v) for v in value)
    return False


def shorten(value: Any) -> str:
    text = value if isinstance(value, str) else _plain(value)
    # Cut before marking, so a marker is never cut in half.
    return visible(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…")


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True)
class Piece:
    """A run of text, a link when ``href`` is set, monospace when ``code``. ``own`` marks the
    page's own words; every other piece is isolated (``<bdi>``) from the text around it."""

    text: str
    href: str | None = None
    code: bool = False
    own: bool = False


def own(words: str) -> Piece:
    return Piece(words, own=True)


def text(value: Any) -> Piece:
    return Piece(shorten(value))


def code(value: Any) -> Piece:
    return Piece(shorten(value), code=True)


def link(label: Any, url: Any) -> Piece:
    """A link to ``url`` labelled ``label`` if the URL is http(s); otherwise the URL as text."""
    href = safe_href(url)
    if href is None:
        return Piece(shorten(url), code=True)
    return Piece(shorten(label), href)


Line = list[Piece]


def fill(t: Texts, key: str, /, **values: Any) -> Line:
    """The text ``key`` with each value a piece of its own (a ``Piece`` or a ``Line`` as given,
    anything else as ``text``), so the value is isolated and the pattern's words stay the page's."""
    line: Line = []
    for literal, name, _, _ in string.Formatter().parse(t(key)):
        if literal:
            line.append(own(literal))
        if name is not None:
            value = values[name]
            line += value if isinstance(value, list) else [value if isinstance(value, Piece) else text(value)]
    return line


def words(line: Line | str) -> str:
    """A line as plain text (what a reader sees, without the isolation)."""
    return line if isinstance(line, str) else "".join(p.text for p in line)


# --- checks and verdicts -------------------------------------------------------------------------


@dataclass
class CheckRow:
    name: str
    label: str
    outcome: str
    outcome_label: str
    message: str


@dataclass
class Verdict:
    kind: str  # VERIFIED | NOT_VERIFIED | REVOKED | SUSPENDED | STATUS_UNKNOWN | NO_CREDENTIALS
    title: str
    summary: str | Line = ""
    reasons: list[tuple[str | Line, str]] = field(default_factory=list)  # (in words, technical detail)

    @property
    def verified(self) -> bool:
        return self.kind == VERIFIED

    @property
    def sound(self) -> bool:
        """Every check passed: Verified, or so with an issuer nobody vouches for."""
        return self.kind in (VERIFIED, UNRECOGNISED)


def _checks(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    checks = result.get("checks")
    return [c for c in checks if isinstance(c, Mapping)] if isinstance(checks, list) else []


def check_label(t: Texts, name: str, purpose: Any = None) -> str:
    """A status check is labelled by its purpose: a revoked credential has one failed and one
    passed status row, which under one shared label read as a contradiction."""
    if name == "status" and purpose in ("revocation", "suspension"):
        return t(f"check.status.{purpose}")
    return t(f"check.{name}") if name in _KNOWN_CHECKS else t("check.other", check=name)


def check_rows(t: Texts, result: Mapping[str, Any]) -> list[CheckRow]:
    rows = []
    for c in _checks(result):
        name = str(c.get("check", "?"))
        outcome = c.get("outcome") if c.get("outcome") in ("passed", "failed", "unknown", "skipped") else "unknown"
        rows.append(CheckRow(name, check_label(t, name, c.get("statusPurpose")), outcome, t(f"outcome.{outcome}"), check_detail(t, c)))
    return rows


def _error(check: Mapping[str, Any]) -> Mapping[str, Any]:
    error = check.get("error")
    return error if isinstance(error, Mapping) else {}


def _key_withdrawn(check: Mapping[str, Any]) -> tuple[str, str] | None:
    """("revoked" | "expired", date) when the proof failed because the signing key was withdrawn
    in its DID document (Controlled Identifiers 1.0 §2.2): an issuer-side event, not tampering.
    The error carries the document's ``revoked`` or ``expires`` (did.errors.InvalidVerificationMethod)."""
    error = _error(check)
    if error.get("code") != "INVALID_VERIFICATION_METHOD":
        return None
    for member, kind in (("revoked", "revoked"), ("expires", "expired")):
        if isinstance(error.get(member), str):
            return kind, error[member]
    return None


def _unknown_context(check: Mapping[str, Any]) -> str | None:
    """The context URL when the proof could not be checked because the document names a JSON-LD
    context this node has not pinned (vc.loader.UnknownContextError carries it as ``url``)."""
    error = _error(check)
    if error.get("code") == "PROOF_TRANSFORMATION_ERROR" and isinstance(error.get("url"), str):
        return error["url"]
    return None


def _no_proof(check: Mapping[str, Any]) -> bool:
    """The proof check failed because the document carries no proof at all (vc.credentials,
    vc.proofs: "the presentation has no proof"), not because a signature did not verify."""
    return check.get("check") == "proof" and str(check.get("message") or "").endswith("has no proof")


def check_detail(t: Texts, check: Mapping[str, Any]) -> str:
    """The library's message as the technical detail, without what is addressed to the node's
    operator or to an API caller: the employer reading the page can do nothing with it."""
    url = _unknown_context(check)
    if url is not None:
        return t("detail.unknown_context", url=shorten(url))
    message = str(check.get("message") or "")
    if check.get("check") == "challenge":
        # node.verification speaks to VC-API callers; the page's own field is "Expected challenge".
        message = message.replace(" (for instance one from POST /challenges)", "").replace(" (POST /challenges)", "")
        message = message.replace("options.challenge", t("detail.challenge_field"))
    return shorten(message)


# node.verification and vc.presentations: which challenge failure, each told in the page's terms.
_CHALLENGE_CASES = (
    ("options.challenge is required", "reason.failed.challenge.none"),
    ("was handed out by this node and has expired or was already used", "reason.failed.challenge.used"),
    ("options.challenge was not issued by this node, has expired, or was already used", "reason.failed.challenge.typed_unusable"),
    ("was not issued by this node", "reason.failed.challenge.not_ours"),
    ("has no challenge; the verifier expects", "reason.failed.challenge.unsigned"),
    ("; the verifier expects", "reason.failed.challenge.other"),
)


def _proof_reason(t: Texts, check: Mapping[str, Any], presentation: bool) -> str | Line:
    """Why a failed proof failed, by its error code: only a signature that does not match is
    evidence of a change; a withdrawn key or an unreadable vocabulary is not."""
    withdrawn = _key_withdrawn(check)
    if withdrawn is not None:
        how, when = withdrawn
        return fill(t, f"reason.failed.proof.key_{how}", date=format_date(t, when))
    if _error(check).get("appendedAfterSigning") is True:  # vc.cryptosuites.eddsa_jcs_2022.check_contexts
        return t("reason.failed.proof.appended")
    if _unknown_context(check) is not None:
        return t("reason.unknown.proof.context")
    if _no_proof(check):
        return t("reason.failed.proof.none.presentation" if presentation else "reason.failed.proof.none")
    code = _error(check).get("code")
    if code == "INVALID_VERIFICATION_METHOD":
        return t("reason.failed.proof.key_unusable")
    if code == "PROOF_TRANSFORMATION_ERROR":
        return t("reason.failed.proof.transformation")
    return t("reason.failed.proof")


def _validity_reason(t: Texts, check: Mapping[str, Any], doc: Mapping[str, Any]) -> str | Line:
    """Which bound of the validity period failed (vc.credentials puts it in ``field``), and its date."""
    bound = check.get("field")
    if bound in ("validUntil", "expirationDate") and doc.get(bound) is not None:
        return fill(t, "reason.failed.validity.expired", date=format_date(t, doc[bound]))
    if bound in ("validFrom", "issuanceDate") and doc.get(bound) is not None:
        return fill(t, "reason.failed.validity.not_yet", date=format_date(t, doc[bound]))
    return t("reason.failed.validity")


def _reason(t: Texts, check: Mapping[str, Any], doc: Mapping[str, Any] | None = None, presentation: bool = False) -> tuple[str | Line, str]:
    name, outcome = str(check.get("check")), check.get("outcome")
    detail = check_detail(t, check)
    if outcome == "failed" and name == "achievement":
        # node.trust.check_achievement_issuers: an achievement this node defines, awarded by a stranger.
        body = check.get("awardingBody") or check.get("definedBy") or "?"
        return fill(t, "reason.borrowed", achievement=check.get("achievementName") or check.get("achievement") or "?", issuer=body), detail
    if outcome == "failed" and name == "proof":
        return _proof_reason(t, check, presentation), detail
    if outcome == "failed" and name == "validity":
        return _validity_reason(t, check, doc or {}), detail
    if outcome == "failed" and name == "challenge":
        message = str(check.get("message") or "")
        key = next((k for needle, k in _CHALLENGE_CASES if needle in message), "reason.failed.challenge")
        return t(key), detail
    if outcome == "failed" and name == "binding" and presentation:
        return t("reason.failed.binding.holder"), detail
    if outcome == "failed":
        key = f"reason.failed.{name}"
        return (t(key) if t.has(key) else t("reason.failed.other", check=check_label(t, name))), detail
    key = f"reason.unknown.{name}"
    return (t(key) if t.has(key) else t("reason.unknown.other", check=check_label(t, name))), detail


def _reasons(
    t: Texts, checks: list[Mapping[str, Any]], bad: list[Mapping[str, Any]], doc: Mapping[str, Any] | None = None, presentation: bool = False
) -> list[tuple[str | Line, str]]:
    """The reasons for ``bad`` in the order the checks ran, so the root cause comes first: the
    library runs them in dependency order (a proof whose key could not be fetched, then the
    binding that fails because of it). A binding that fails only because the proof could not be
    checked says so instead of blaming the key; a presentation with no proof at all cannot carry
    a challenge or domain, so that follows from the missing proof and is not a second reason."""
    proof = next((c for c in checks if c.get("check") == "proof"), None)
    proof_unknown = proof is not None and (proof.get("outcome") == "unknown" or (proof.get("outcome") == "failed" and _unknown_context(proof) is not None))
    proof_failed = proof is not None and proof.get("outcome") == "failed"
    unsigned = proof is not None and _no_proof(proof) and proof_failed
    out = []
    for c in checks:
        if not any(c is b for b in bad):
            continue
        name = c.get("check")
        if unsigned and name in ("challenge", "domain", "binding", "proofPurpose"):
            continue
        if proof_unknown and name == "binding" and c.get("outcome") == "failed":
            out.append((t("reason.failed.binding.unresolved"), check_detail(t, c)))
        elif proof_failed and name == "binding" and c.get("outcome") == "failed":
            # The binding looks for a proof by the issuer's (holder's) key among those that
            # verify: with the only proof failing, it fails too, and says nothing new.
            continue
        else:
            out.append(_reason(t, c, doc, presentation))
    return out


def _status_failure(checks: Iterable[Mapping[str, Any]]) -> str | None:
    """``revoked`` or ``suspended`` when a status check established it; None otherwise."""
    found = None
    for c in checks:
        if c.get("check") == "status" and c.get("outcome") == "failed":
            if c.get("statusPurpose") == "revocation":
                return REVOKED
            found = SUSPENDED if c.get("statusPurpose") == "suspension" else found or NOT_VERIFIED
    return found


def credential_verdict(t: Texts, result: Mapping[str, Any]) -> Verdict:
    """The verdict a person reads first, for one credential's result."""
    checks = _checks(result)
    doc = result.get("document") if isinstance(result.get("document"), Mapping) else {}
    failed = [c for c in checks if c.get("outcome") == "failed"]
    unknown = [c for c in checks if c.get("outcome") not in ("passed", "failed", "skipped")]
    status_failed = [c for c in failed if c.get("check") == "status"]
    other_failed = [c for c in failed if c.get("check") != "status"]
    if result.get("verified") is True and checks and not failed and not unknown:
        # Without a status entry nothing said whether the issuer withdrew it: not "not revoked".
        status_checked = any(c.get("check") == "status" and c.get("outcome") == "passed" for c in checks)
        key = "verdict.verified.credential" if status_checked else "verdict.verified.credential.no_status"
        # Within the clock-skew allowance only, the period itself does not hold: not "within its
        # validity period" (the passed validity check carries clockSkewAllowed then).
        skew = next((c.get("clockSkewAllowed") for c in checks if c.get("check") == "validity"), None)
        summary = t(key + ".skew", minutes=_minutes(skew)) if isinstance(skew, int) and skew > 0 else t(key)
        return Verdict(VERIFIED, t("verdict.verified"), summary)
    if other_failed or not checks:
        v = Verdict(NOT_VERIFIED, _not_verified_title(t, other_failed, unknown))
        v.reasons = _reasons(t, checks, other_failed + unknown, doc) or [(t("reason.no_checks"), "")]
        status = _status_failure(status_failed)
        if status in (REVOKED, SUSPENDED):  # said too, though a failed proof already decides
            v.reasons.append((t(f"reason.{status}"), ""))
        return v
    status = _status_failure(status_failed)
    if status in (REVOKED, SUSPENDED):
        v = Verdict(status, t(f"verdict.{status}"), reasons=[(t(f"reason.{status}"), shorten(status_failed[0].get("message") or ""))])
        v.reasons += [_reason(t, c, doc) for c in unknown]
        return v
    if status_failed:
        return Verdict(NOT_VERIFIED, t("verdict.not-verified"), reasons=[_reason(t, c, doc) for c in status_failed + unknown])
    if unknown and all(c.get("check") == "status" for c in unknown):
        return Verdict(STATUS_UNKNOWN, t("verdict.status-unknown"), reasons=[_reason(t, c, doc) for c in unknown])
    # Unknown non-status checks, or a result the node did not call verified for a reason no
    # check shows: never "Verified".
    return Verdict(NOT_VERIFIED, t("verdict.not-verified"), reasons=_reasons(t, checks, unknown, doc) or [(t("reason.no_checks"), "")])


def _minutes(seconds: int) -> str:
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:.1f}"


def _not_verified_title(t: Texts, failed: list[Mapping[str, Any]], unknown: list[Mapping[str, Any]]) -> str:
    """"Expired" or "Not valid yet" when the validity period is all that failed: the credential is
    genuine, and a reader must be able to tell that from one that is not."""
    if unknown or len(failed) != 1 or failed[0].get("check") != "validity":
        return t("verdict.not-verified")
    bound = failed[0].get("field")
    if bound in ("validUntil", "expirationDate"):
        return t("verdict.expired")
    if bound in ("validFrom", "issuanceDate"):
        return t("verdict.not-yet-valid")
    return t("verdict.not-verified")


def _each(t: Texts, count: int) -> Line:
    return [own(t("vp.each.one"))] if count == 1 else fill(t, "vp.each.many", count=own(str(count)))


def presentation_verdict(t: Texts, result: Mapping[str, Any], cards: list["CredentialCard"], untied: Line | None = None) -> Verdict:
    """``untied``: the sentence saying which credentials nothing ties to the key that signed."""
    checks = _checks(result)
    failed = [c for c in checks if c.get("outcome") not in ("passed", "skipped")]
    bad_cards = [c for c in cards if not c.verdict.sound]
    if result.get("verified") is True and checks and not failed and not bad_cards:
        signer = Piece(_signer(result)[0] or "?", code=True)
        if not cards:
            # Its proof shows only that the signer holds a key: there is nothing to vouch for.
            return Verdict(NO_CREDENTIALS, t("verdict.no-credentials"), fill(t, "verdict.no-credentials.summary", signer=signer))
        tail = [own(" ")] + untied if untied else []
        if any(c.get("check") == "binding" and c.get("outcome") == "passed" for c in checks) and not untied:
            summary = fill(t, "verdict.verified.presentation", each=_each(t, len(cards)))
        elif any(c.get("check") == "binding" and c.get("outcome") == "passed" for c in checks):
            # The holder's key signed, but the holder is a DID anyone can make: only a learner
            # identified by that DID in the credential ties the two.
            summary = fill(t, "verdict.verified.presentation.key", signer=signer, each=_each(t, len(cards))) + tail
        else:
            # Binding skipped: it names no holder, so the key signed for nobody in particular.
            summary = fill(t, "verdict.verified.presentation.unbound", signer=signer, each=_each(t, len(cards))) + tail
        unrecognised = [c for c in cards if c.verdict.kind == UNRECOGNISED]
        if unrecognised:
            numbers = ", ".join(str(c.number) for c in unrecognised)
            summary = summary + [own(" ")] + fill(t, "verdict.unrecognised.presentation", numbers=own(numbers))
            return Verdict(UNRECOGNISED, t("verdict.unrecognised"), summary)
        return Verdict(VERIFIED, t("verdict.verified"), summary)
    v = Verdict(NOT_VERIFIED, t("verdict.not-verified"))
    v.reasons = _reasons(t, checks, failed, presentation=True)
    for card in bad_cards:
        # Cards share titles (three copies of one course): the learner tells them apart, and the
        # card's first reason says why without scrolling to it.
        learner = fill(t, "reason.credential.learner", name=Piece(card.learner)) if card.learner else []
        if card.verdict.reasons:
            why, _ = card.verdict.reasons[0]
            line = fill(t, "reason.credential.why", number=own(str(card.number)), title=card.title, learner=learner,
                        verdict=own(card.verdict.title), why=[own(why)] if isinstance(why, str) else why)
        else:
            line = fill(t, "reason.credential", number=own(str(card.number)), title=card.title, verdict=own(card.verdict.title))
        v.reasons.append((line, ""))
    if not v.reasons:
        v.reasons = [(t("reason.no_checks"), "")]
    return v


# --- whom the page vouches for ----------------------------------------------------------------------


def _issuer_id(doc: Mapping[str, Any]) -> Any:
    issuer = doc.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


def recognised(result: Mapping[str, Any], own_dids: frozenset[str]) -> bool:
    """Whether anyone vouches for the credential's issuer: this node (one of its own issuers'
    DIDs) or an accreditation body it trusts (the accreditation report says accredited)."""
    doc = result.get("document") if isinstance(result.get("document"), Mapping) else {}
    if _issuer_id(doc) in own_dids:
        return True
    acc = result.get("accreditation")
    return isinstance(acc, Mapping) and acc.get("status") == "accredited"


def _key_tied(result: Mapping[str, Any]) -> bool:
    """Whether the proof and binding checks tied the signing key to the issuer's DID."""
    checks = _checks(result)
    return all(any(c.get("check") == name and c.get("outcome") == "passed" for c in checks) for name in ("proof", "binding"))


def _unrecognised(t: Texts, verdict: Verdict, doc: Mapping[str, Any], name: str) -> Verdict:
    """A verdict whose every check passed, for an issuer nobody vouches for: the signature is
    sound, what it is worth depends on who the issuer is, and the page cannot say."""
    domain = did_web_domain(_issuer_id(doc))
    if domain:
        summary = fill(t, "verdict.unrecognised.web", domain=Piece(domain, code=True))
    elif name:
        summary = fill(t, "verdict.unrecognised.named", name=Piece(name))
    else:
        summary = [own(t("verdict.unrecognised.key"))]
    # What it means first, then what was checked, as a Verified summary says it.
    checked = verdict.summary if isinstance(verdict.summary, list) else [own(verdict.summary)]
    return Verdict(UNRECOGNISED, t("verdict.unrecognised"), summary + [own(" ")] + checked, verdict.reasons)


# --- micro-credential elements -------------------------------------------------------------------


@dataclass
class ElementRow:
    key: str  # "a".."k" or an optional element's name
    label: str
    status: str  # present | missing | malformed
    status_label: str
    lines: list[Line]
    note: str = ""


def format_date(t: Texts, value: Any) -> str:
    """An XML Schema date-time as a person reads it; anything else as it is."""
    if not isinstance(value, str):
        return shorten(value)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:00:00-05:00 is past 9999 in UTC
        return shorten(value)
    return t("date", day=when.day, month=t(f"month.{when.month}"), year=when.year, time=when.strftime("%H:%M"))


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def _element_lines(t: Texts, key: str, value: Any) -> list[Line]:
    """One element's value (``vc.microcredential.profile_report`` shapes) as lines of pieces."""
    v = value
    if key == "a" and isinstance(v, Mapping):
        lines: list[Line] = []
        if v.get("name") is not None:
            lines.append([text(v["name"])])
        kinds = [
            t("value.identity.hashed", kind=_identity(t, i.get("identityType"))) if i.get("hashed") else _identity(t, i.get("identityType"))
            for i in _as_list(v.get("identifiers"))
            if isinstance(i, Mapping)
        ]
        if kinds:
            lines.append([text(t("value.also_identified", kinds=", ".join(kinds)))])
        if v.get("id") is not None:
            lines.append([text(t("value.did", did="")), code(v["id"])])
        return lines
    if key == "c" and isinstance(v, Mapping):
        country = v.get("addressCountry") or v.get("addressCountryCode")
        if v.get("addressCountry") and v.get("addressCountryCode"):
            country = f"{v['addressCountry']} ({v['addressCountryCode']})"
        return [[text(", ".join(str(x) for x in (country, v.get("addressRegion")) if x))]]
    if key == "d" and isinstance(v, Mapping):
        lines = [[text(v.get("name", ""))]]
        if v.get("id") is not None:
            lines.append([code(v["id"])])
        return lines
    if key == "e":
        return [[text(format_date(t, v))]]
    if key == "f":
        out = []
        for o in _as_list(v):
            if isinstance(o, Mapping):
                line: Line = [text(o.get("statement"))]
                if o.get("url") is not None:
                    line += _outcome_link(t, o)
                out.append(line)
            else:
                out.append([text(o)])
        return out
    if key == "g" and isinstance(v, Mapping):
        return [[text(t("value.ects", ects=_number(v.get("ects"))))]]
    if key == "h" and isinstance(v, Mapping) and "level" in v:
        return [[link(t("value.eqf", level=v["level"]), v.get("url"))]]
    if key == "j" and isinstance(v, str):
        k = f"participation.{v}"
        return [[text(t(k) if t.has(k) else v)]]
    if key == "k":
        out = []
        for q in _as_list(v):
            if isinstance(q, Mapping):
                line = [text(q.get("description"))]
                if q.get("framework"):
                    line += [own(" ")] + fill(t, "value.framework", framework=q["framework"])
                if q.get("url") is not None:
                    line += [own(" — "), link(q["url"], q["url"])]
                out.append(line)
            else:
                out.append([text(q)])
        return out
    if key == "grade":
        out = []
        for g in _as_list(v):
            if isinstance(g, Mapping):
                grade = g.get("value", g.get("status"))
                out.append(fill(t, "value.grade_in", grade=grade, assessment=g["assessment"]) if g.get("assessment") else [text(grade)])
            else:
                out.append([text(g)])
        return out
    if key == "integration/stackability" and isinstance(v, Mapping):
        line = [text(v.get("description") or v.get("mode") or "")]
        if v.get("url") is not None:
            line += [text(" — "), link(v["url"], v["url"])]
        return [line]
    if isinstance(v, list):
        return [[text(x)] for x in v]
    if v is None:
        return []
    return [[text(v)]]


def _outcome_link(t: Texts, outcome: Mapping[str, Any]) -> Line:
    """`` — ESCO: <url>`` after a learning outcome's statement (the URL itself is the link text,
    so a reader sees where it leads; a non-http(s) URL stays text)."""
    prefix = [own(" — "), text(outcome["framework"]), own(": ")] if outcome.get("framework") else [own(" — ")]
    return prefix + [link(outcome["url"], outcome["url"])]


def _identity(t: Texts, kind: Any) -> str:
    key = f"value.identity.{kind}"
    return t(key) if isinstance(kind, str) and t.has(key) else shorten(kind)


def _number(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return shorten(v)


def _element_row(t: Texts, e: Mapping[str, Any], label_key: str) -> ElementRow:
    status = e.get("status") if e.get("status") in ("present", "missing", "malformed") else "malformed"
    key = str(e.get("element"))
    lines = _element_lines(t, key, e.get("value")) if status == "present" else ([[text(e.get("value"))]] if e.get("value") is not None else [])
    return ElementRow(
        key=key,
        label=t(label_key) if t.has(label_key) else shorten(e.get("name") or key),
        status=status,
        status_label=t(f"element.status.{status}") if status != "present" else "",
        lines=lines,
        note=shorten(e.get("note") or ""),
    )


# --- accreditation -------------------------------------------------------------------------------


@dataclass
class ChainLink:
    number: int
    heading: Line
    outcome: str
    kind: str
    scope: list[Line]
    period: list[Line]
    decision: Piece | None
    reasons: list[str]
    credential_id: str | None


@dataclass
class AccreditationView:
    status: str
    title: str
    explanation: Line
    links: list[ChainLink]  # from the trusted body down to the issuer
    failed: list[ChainLink]


def _scope_lines(t: Texts, scope: Any) -> list[Line]:
    if not isinstance(scope, Mapping) or scope.get("unlimited"):
        return [[text(t("acc.scope.unlimited"))]]
    lines: list[Line] = []
    for key in ("eqfLevels", "fields", "jurisdictions"):
        if scope.get(key):
            lines.append([text(t(f"acc.scope.{key}", values=", ".join(shorten(x) for x in _as_list(scope[key]))))])
    if scope.get("qualifications"):
        line: Line = [text(t("acc.scope.qualifications") + ": ")]
        for i, q in enumerate(_as_list(scope["qualifications"])):
            line += ([text(", ")] if i else []) + [link(q, q)]
        lines.append(line)
    return lines


def _chain_link(t: Texts, link_json: Mapping[str, Any]) -> ChainLink:
    by = link_json.get("accreditedBy")
    organisation = link_json.get("organisation")
    period = []
    vp = link_json.get("validPeriod") if isinstance(link_json.get("validPeriod"), Mapping) else {}
    for key, label in (("validFrom", "acc.from"), ("validUntil", "acc.until"), ("expiryDate", "acc.expiry"), ("reviewDate", "acc.review")):
        if vp.get(key):
            period.append(fill(t, label, date=format_date(t, vp[key])))
    outcome = link_json.get("outcome") if link_json.get("outcome") in ("passed", "failed", "unknown") else "unknown"
    kind = link_json.get("kind")
    return ChainLink(
        number=link_json.get("link") if isinstance(link_json.get("link"), int) else 0,
        heading=fill(t, "acc.link", by=by or "?", organisation=organisation or "?"),
        outcome=outcome,
        kind=t(f"acc.kind.{kind}") if kind in ("attest", "accredit") else "",
        scope=_scope_lines(t, link_json.get("scope")) if "scope" in link_json else [],
        period=period,
        decision=link(link_json["decision"], link_json["decision"]) if link_json.get("decision") else None,
        reasons=[shorten(r) for r in _as_list(link_json.get("reasons"))],
        credential_id=shorten(link_json["credentialId"]) if link_json.get("credentialId") else None,
    )


def accreditation_view(t: Texts, report: Any) -> AccreditationView | None:
    if not isinstance(report, Mapping):
        return None
    status = report.get("status")
    if status not in ("accredited", "not-accredited", "unknown", "not-assessed"):
        status = "unknown"
    chain = [_chain_link(t, link_json) for link_json in _as_list(report.get("chain")) if isinstance(link_json, Mapping)]
    failed = [_chain_link(t, link_json) for link_json in _as_list(report.get("failedLinks")) if isinstance(link_json, Mapping)]
    if status == "accredited":
        explanation = fill(t, "acc.by", body=report.get("trustedBody")) if chain else [own(t("acc.self"))]
    elif status == "not-assessed":
        explanation = [own(t("acc.not-assessed.why"))]
    else:
        explanation = [text(report["reason"])] if report.get("reason") else []
    return AccreditationView(status, t(f"acc.{status}"), explanation, list(reversed(chain)), failed)


# --- stacks --------------------------------------------------------------------------------------


@dataclass
class StackPartRow:
    id: str
    ects: str
    eqf: str
    verdict_kind: str
    verdict: str
    problems: list[str]


@dataclass
class StackView:
    checked: bool
    holds: bool
    parts: list[StackPartRow]
    by_level: list[tuple[str, str]]
    total: str
    stated: Line
    problems: list[str]


def stack_view(t: Texts, report: Mapping[str, Any] | None, document: Mapping[str, Any], verdicts: Mapping[str, Verdict]) -> StackView:
    """The parts of a stacked credential: checked ones from the presentation's stack report,
    or, for a stacked credential on its own, the parts it names (not checked here)."""
    if report is None:
        parts = [
            StackPartRow(shorten(r.get("id")), "", "", "unknown", t("stack.part.not_checked"), [])
            for r in _as_list(document.get("relatedResource"))
            if isinstance(r, Mapping)
        ]
        return StackView(False, False, parts, [], "", [], [])
    problems = [p for p in _as_list(report.get("problems")) if isinstance(p, Mapping)]
    rows = []
    for p in _as_list(report.get("parts")):
        if not isinstance(p, Mapping):
            continue
        pid = p.get("id")
        own = [shorten(x.get("message")) for x in problems if x.get("part") == pid]
        if not p.get("present"):
            kind, label = NOT_VERIFIED, t("stack.part.missing")
        elif not p.get("digestMatches"):
            kind, label = NOT_VERIFIED, t("stack.part.tampered")
        elif not p.get("counted"):
            kind, label = NOT_VERIFIED, t("stack.part.not_counted")
        elif isinstance(pid, str) and pid in verdicts:
            kind, label = verdicts[pid].kind, verdicts[pid].title
        else:
            kind, label = NOT_VERIFIED, t("verdict.not-verified")
        if kind in (VERIFIED, UNRECOGNISED) and own:
            kind, label = NOT_VERIFIED, t("verdict.not-verified")
        rows.append(
            StackPartRow(
                shorten(pid),
                _number(p["ects"]) if p.get("ects") is not None else "",
                shorten(p["eqfLevel"]) if p.get("eqfLevel") is not None else "",
                kind,
                label,
                own,
            )
        )
    levels = report.get("ectsByEqfLevel") if isinstance(report.get("ectsByEqfLevel"), Mapping) else {}
    by_level = [
        (t("stack.level", level=shorten(k)) if k != "unspecified" else t("stack.level.unspecified"), _number(v)) for k, v in levels.items()
    ]
    stated = report.get("statedTotalEcts")
    return StackView(
        checked=True,
        holds=report.get("verified") is True,
        parts=rows,
        by_level=by_level,
        total=_number(report.get("sumEcts")),
        stated=fill(t, "stack.stated", ects=_number(stated)) if stated is not None else [],
        problems=[shorten(p.get("message")) for p in problems if p.get("part") is None],
    )


# --- credential cards and the whole outcome ------------------------------------------------------


@dataclass
class CredentialCard:
    number: int
    verdict: Verdict
    title: str
    kind: str
    credential_id: str
    awarded_by: Line
    direction_controls: bool  # its text holds direction-control characters (shown as [U+…])
    is_micro: bool
    complete: bool
    elements: list[ElementRow]
    missing: list[str]
    optional: list[ElementRow]
    facts: list[tuple[str, Line]]
    issuer_did: str
    signer: str
    suite: str
    accreditation: AccreditationView | None
    stack: StackView | None
    checks: list[CheckRow]
    period: list[tuple[str, Line]] = field(default_factory=list)  # Valid from / Valid until, on every card
    caution: str = ""  # said first when the verdict is not sound: the contents are only what it says
    count: int = 1  # cards in the presentation, for "Credential 2 of 3"
    learner: str = ""  # the learner's name as the credential states it

    @property
    def relied_on(self) -> bool:
        return self.verdict.sound


def _types(doc: Mapping[str, Any]) -> list[str]:
    return [x for x in _as_list(doc.get("type")) if isinstance(x, str)]


def _issuer(doc: Mapping[str, Any]) -> tuple[str, str]:
    issuer = doc.get("issuer")
    if isinstance(issuer, Mapping):
        return shorten(issuer.get("id") or ""), shorten(issuer.get("name") or "")
    return (shorten(issuer) if issuer is not None else ""), ""


def did_web_domain(did: Any) -> str | None:
    """The host (and port) a did:web names, e.g. ``credentials.example.edu``; None for any other DID."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        return None
    host = unquote(did.removeprefix("did:web:").split(":", 1)[0])
    return host or None


def _awarded_by(t: Texts, doc: Mapping[str, Any], name: str, country: Piece | None, key_tied: bool) -> Line:
    """"Awarded by …": a name is whatever the issuer wrote, so beside it stands what backs it,
    the domain of a did:web when the proof and binding checks tied the key to that domain
    (``key_tied``), or that nothing does."""
    if not name:
        return []
    domain = did_web_domain(_issuer_id(doc)) if key_tied else None
    line = fill(t, "card.awarded_by.web", name=Piece(name), domain=domain) if domain else fill(t, "card.awarded_by.stated", name=Piece(name))
    return line + ([own(", "), country] if country is not None else [])


def _subjects(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _as_list(doc.get("credentialSubject")) if isinstance(s, Mapping)]


def _title(t: Texts, doc: Mapping[str, Any]) -> str:
    for s in _subjects(doc):
        ach = s.get("achievement")
        if isinstance(ach, Mapping) and isinstance(ach.get("name"), str) and ach["name"].strip():
            return shorten(ach["name"])
    if isinstance(doc.get("name"), str) and doc["name"].strip():
        return shorten(doc["name"])
    kinds = [k for k in _types(doc) if k != "VerifiableCredential"]
    return shorten(kinds[0]) if kinds else t("card.untitled")


def _signer(result: Mapping[str, Any]) -> tuple[str, str]:
    for c in _checks(result):
        if c.get("check") == "proof" and c.get("verificationMethod"):
            return shorten(c["verificationMethod"]), shorten(c.get("cryptosuite") or "")
    return "", ""


def _facts(t: Texts, doc: Mapping[str, Any]) -> list[tuple[str, Line]]:
    """A plain credential's main statements, for cards that are not micro-credentials."""
    facts: list[tuple[str, Line]] = []
    kinds = [k for k in _types(doc) if k != "VerifiableCredential"]
    if kinds:
        facts.append((t("card.type"), [text(", ".join(kinds))]))
    if isinstance(doc.get("description"), str):
        facts.append((t("card.description"), [text(doc["description"])]))
    for s in _subjects(doc):
        line: Line = []
        if s.get("id") is not None:
            line.append(code(s["id"]))
        for k, v in s.items():
            if k in ("id", "type", "achievement", "identifier"):
                continue
            line += ([own(" · ")] if line else []) + [text(f"{k}: {_plain(v)}")]
        if line:
            facts.append((t("card.subject"), line))
    return facts


def _learner(doc: Mapping[str, Any]) -> str:
    """The learner's name as the credential states it: the subject's ``name``, or an Open Badges
    IdentityObject of type name that is not hashed (where micro-credentials carry it)."""
    for s in _subjects(doc):
        if isinstance(s.get("name"), str) and s["name"].strip():
            return shorten(s["name"])
        for i in _as_list(s.get("identifier")):
            if isinstance(i, Mapping) and i.get("identityType") == "name" and not i.get("hashed") and isinstance(i.get("identityHash"), str):
                return shorten(i["identityHash"])
    return ""


def _period(t: Texts, doc: Mapping[str, Any]) -> list[tuple[str, Line]]:
    """Valid from / Valid until in words, for every card: Annex I has no expiry element, so a
    micro-credential's card would otherwise show its expiry only in the checks table."""
    period = []
    for key, label in (("validFrom", "card.valid_from"), ("issuanceDate", "card.valid_from"), ("validUntil", "card.valid_until"), ("expirationDate", "card.valid_until")):
        if doc.get(key) is not None:
            period.append((t(label), [text(format_date(t, doc[key]))]))
    return period


def _caution(t: Texts, result: Mapping[str, Any], verdict: Verdict) -> str:
    """What the card's contents are worth when the verdict is not sound: nothing, if the signature
    did not verify; what the issuer said, but not to be relied on, otherwise."""
    if verdict.sound or verdict.kind == NO_CREDENTIALS:
        return ""
    proof_ok = any(c.get("check") == "proof" and c.get("outcome") == "passed" for c in _checks(result))
    return t("card.unreliable.signed") if proof_ok else t("card.unreliable")


def credential_card(
    t: Texts,
    number: int,
    result: Mapping[str, Any],
    *,
    stack_report: Mapping[str, Any] | None = None,
    part_verdicts: Mapping[str, Verdict] | None = None,
    own_dids: frozenset[str] = frozenset(),
) -> CredentialCard:
    doc = result.get("document") if isinstance(result.get("document"), Mapping) else {}
    verdict = card_verdict(t, result, own_dids)
    micro = result.get("microcredential") if isinstance(result.get("microcredential"), Mapping) else None
    types = _types(doc)
    is_stack = bool(stack_report) or (
        "OpenBadgeCredential" in types and any(isinstance(r, Mapping) and r.get("digestMultibase") for r in _as_list(doc.get("relatedResource")))
    )
    if micro is not None and micro.get("isMicroCredential"):
        kind = t("card.kind.micro")
    elif is_stack:
        kind = t("card.kind.stack")
    elif any("Accreditation" in k for k in types):
        kind = t("card.kind.accreditation")
    elif "OpenBadgeCredential" in types or "AchievementCredential" in types:
        kind = t("card.kind.badge")
    else:
        kind = t("card.kind.credential")
    issuer_did, issuer_name = _issuer(doc)
    elements = [_element_row(t, e, f"element.{e.get('element')}") for e in _as_list(micro.get("elements") if micro else None) if isinstance(e, Mapping)]
    optional = [
        _element_row(t, e, _OPTIONAL_KEYS.get(str(e.get("element")), ""))
        for e in _as_list(micro.get("optional") if micro else None)
        if isinstance(e, Mapping)
    ]
    missing = [r.label for r in elements if r.status != "present"]
    country = next((r for r in elements if r.key == "c" and r.status == "present"), None)
    signer, suite = _signer(result)
    return CredentialCard(
        number=number,
        verdict=verdict,
        title=_title(t, doc) if doc else t("card.unreadable"),
        kind=kind,
        credential_id=shorten(doc.get("id") or ""),
        awarded_by=_awarded_by(t, doc, issuer_name, country.lines[0][0] if country and country.lines else None, _key_tied(result)),
        direction_controls=has_bidi_controls(doc),
        is_micro=bool(micro and micro.get("isMicroCredential")),
        complete=bool(micro and micro.get("complete")),
        elements=elements,
        missing=missing,
        optional=optional,
        facts=[] if micro else _facts(t, doc),
        issuer_did=issuer_did,
        signer=signer,
        suite=suite,
        accreditation=accreditation_view(t, result.get("accreditation")),
        stack=stack_view(t, stack_report, doc, part_verdicts or {}) if is_stack else None,
        checks=check_rows(t, result),
        period=_period(t, doc),
        learner=_learner(doc),
        caution=_caution(t, result, verdict),
    )


@dataclass
class Outcome:
    kind: str  # "credential" | "presentation"
    verdict: Verdict
    cards: list[CredentialCard]
    checks: list[CheckRow]  # the presentation's own checks (empty for a credential)
    holder: str


def card_verdict(t: Texts, result: Mapping[str, Any], own_dids: frozenset[str]) -> Verdict:
    """``credential_verdict``, and, when every check passed but nobody vouches for the issuer
    (``recognised``), "Signature valid — issuer not recognised" instead of Verified."""
    verdict = credential_verdict(t, result)
    if verdict.kind != VERIFIED or recognised(result, own_dids):
        return verdict
    doc = result.get("document") if isinstance(result.get("document"), Mapping) else {}
    return _unrecognised(t, verdict, doc, _issuer(doc)[1])


def credential_outcome(t: Texts, result: Mapping[str, Any], own_dids: frozenset[str] = frozenset()) -> Outcome:
    """``own_dids``: every DID this node's issuers sign or signed under (they vouch for themselves)."""
    card = credential_card(t, 1, result, own_dids=own_dids)
    return Outcome("credential", card.verdict, [card], [], "")


def presentation_outcome(t: Texts, result: Mapping[str, Any], own_dids: frozenset[str] = frozenset()) -> Outcome:
    doc = result.get("document") if isinstance(result.get("document"), Mapping) else {}
    results = [r for r in _as_list(result.get("credentialResults")) if isinstance(r, Mapping)]
    stacks = {s.get("stack"): s for s in _as_list(result.get("stacks")) if isinstance(s, Mapping)}
    verdicts: dict[str, Verdict] = {}
    for r in results:
        d = r.get("document")
        if isinstance(d, Mapping) and isinstance(d.get("id"), str):
            verdicts[d["id"]] = card_verdict(t, r, own_dids)
    cards = []
    for n, r in enumerate(results, 1):
        d = r.get("document")
        own_stack = stacks.get(d["id"]) if isinstance(d, Mapping) and isinstance(d.get("id"), str) else None
        card = credential_card(t, n, r, stack_report=own_stack, part_verdicts=verdicts, own_dids=own_dids)
        if own_stack is not None and own_stack.get("verified") is not True and card.verdict.sound:
            # Authentic, but it stands for parts that do not hold together: the stacked
            # credential counts for nothing here, so its own card does not say Verified.
            card.verdict = _stack_verdict(t, own_stack)
            card.caution = _caution(t, r, card.verdict)
        card.count = len(results)
        cards.append(card)
    holder = doc.get("holder")
    holder = holder.get("id") if isinstance(holder, Mapping) else holder
    untied = _untied(t, result, results, holder)
    return Outcome("presentation", presentation_verdict(t, result, cards, untied), cards, check_rows(t, result), shorten(holder) if holder else "")


def _untied(t: Texts, result: Mapping[str, Any], results: list[Mapping[str, Any]], holder: Any) -> Line:
    """Which credentials nothing ties to whoever signed the presentation: the library checks
    that the key is the holder's, not that the holder is the learner. Only a credential whose
    subject ``id`` is the holder (or, naming no holder, the signing key's DID) is tied."""
    signer = _signer(result)[0]
    who = holder if isinstance(holder, str) else signer.split("#", 1)[0] if signer else None
    no_id, other = [], []
    for n, r in enumerate(results, 1):
        doc = r.get("document") if isinstance(r.get("document"), Mapping) else {}
        ids = [s.get("id") for s in _subjects(doc) if s.get("id") is not None]
        if not ids:
            no_id.append(str(n))
        elif who not in ids:
            other.append(str(n))
    line: Line = []
    if no_id:
        line += fill(t, "vp.untied.no_id.one" if len(no_id) == 1 else "vp.untied.no_id.many", numbers=own(", ".join(no_id)))
    if other:
        line += ([own(" ")] if line else []) + fill(t, "vp.untied.other.one" if len(other) == 1 else "vp.untied.other.many", numbers=own(", ".join(other)))
    return line


def _stack_verdict(t: Texts, report: Mapping[str, Any]) -> Verdict:
    problems = [p for p in _as_list(report.get("problems")) if isinstance(p, Mapping)]
    undecided = bool(problems) and all(p.get("code") == "STACK_PART_UNKNOWN" for p in problems)
    words = t("reason.unknown.stack") if undecided else t("reason.failed.stack")
    return Verdict(NOT_VERIFIED, t("verdict.not-verified"), reasons=[(words, "; ".join(shorten(p.get("message")) for p in problems))])


def is_presentation(document: Any) -> bool:
    return isinstance(document, Mapping) and "VerifiablePresentation" in _types(document)


# --- achievement pages ---------------------------------------------------------------------------


@dataclass
class AchievementView:
    title: str
    body: str
    url: str
    issuer: str
    issuer_did: str
    description: str
    criteria: str
    elements: list[tuple[str, list[Line]]]
    more: list[tuple[str, list[Line]]]


def achievement_view(t: Texts, a: Mapping[str, Any]) -> AchievementView:
    """An achievement definition (``StoredAchievement.to_json()``) for people."""
    body = a.get("awardingBody") if isinstance(a.get("awardingBody"), Mapping) else {}
    country = body.get("country") or body.get("countryCode")
    if body.get("country") and body.get("countryCode"):
        country = f"{body['country']} ({body['countryCode']})"
    outcomes = []
    for o in _as_list(a.get("learningOutcomes")):
        if isinstance(o, Mapping):
            line: Line = [text(o.get("statement"))]
            if o.get("url"):
                line += _outcome_link(t, o)
            outcomes.append(line)
        else:
            outcomes.append([text(o)])
    assessment = a.get("assessment") if isinstance(a.get("assessment"), Mapping) else {"type": a.get("assessment")}
    assess_lines: list[Line] = [[text(assessment.get("type"))]]
    if assessment.get("allowedValues"):
        assess_lines.append([text(t("ach.assessment.values", values=", ".join(shorten(x) for x in _as_list(assessment["allowedValues"]))))])
    if assessment.get("requiredValue"):
        assess_lines.append([text(t("ach.assessment.required", value=shorten(assessment["requiredValue"])))])
    qa = a.get("qualityAssurance") if isinstance(a.get("qualityAssurance"), Mapping) else {}
    qa_line: Line = [text(qa.get("description"))]
    if qa.get("framework"):
        qa_line.append(text(" " + t("value.framework", framework=qa["framework"])))
    if qa.get("url"):
        qa_line += [text(" — "), link(qa["url"], qa["url"])]
    level = a.get("eqfLevel")
    elements: list[tuple[str, list[Line]]] = [
        (t("element.b"), [[text(a.get("title"))]]),
        (t("element.c"), [[text(", ".join(str(x) for x in (country, body.get("region")) if x))]]),
        (t("element.d"), [[text(body.get("name"))], [code(a.get("issuerDid") or "")]]),
        (t("element.f"), outcomes),
        (t("element.g"), [[text(t("value.ects", ects=_number(a.get("ects"))))]]),
        (t("element.h"), [[link(t("value.eqf", level=level), f"http://data.europa.eu/snb/eqf/{level}")]]),
        (t("element.i"), assess_lines),
        (t("element.j"), _element_lines(t, "j", a.get("participation"))),
        (t("element.k"), [qa_line]),
    ]
    more: list[tuple[str, list[Line]]] = []
    if a.get("prerequisites"):
        more.append((t("optional.prerequisites"), [[text(p)] for p in _as_list(a["prerequisites"])]))
    if a.get("supervision"):
        more.append((t("optional.supervision"), [[text(a["supervision"])]]))
    integration = a.get("integration")
    if isinstance(integration, Mapping):
        line = [text(t("value.integration", mode=shorten(integration.get("mode")), description=shorten(integration.get("towards") or "")).rstrip(": "))]
        if integration.get("url"):
            line += [text(" — "), link(integration["url"], integration["url"])]
        more.append((t("optional.integration"), [line]))
    for key, label in (("language", "ach.language"), ("humanCode", "ach.code"), ("fieldOfStudy", "ach.field")):
        if a.get(key):
            more.append((t(label), [[text(a[key])]]))
    if a.get("tags"):
        more.append((t("ach.tags"), [[text(", ".join(shorten(x) for x in _as_list(a["tags"])))]]))
    return AchievementView(
        title=shorten(a.get("title") or ""),
        body=shorten(body.get("name") or ""),
        url=shorten(a.get("id") or ""),
        issuer=shorten(a.get("issuer") or ""),
        issuer_did=shorten(a.get("issuerDid") or ""),
        description=shorten(a.get("description") or ""),
        criteria=shorten(a.get("criteria") or ""),
        elements=elements,
        more=more,
    )


__all__ = [
    "AccreditationView",
    "AchievementView",
    "CheckRow",
    "CredentialCard",
    "ElementRow",
    "Outcome",
    "Piece",
    "StackView",
    "Verdict",
    "achievement_view",
    "card_verdict",
    "credential_outcome",
    "credential_verdict",
    "is_presentation",
    "presentation_outcome",
    "recognised",
    "safe_href",
]

"""Publishing side: the BitstringStatusListCredential and the BitstringStatusListEntry.

Bitstring Status List v1.0 §2.1 (BitstringStatusListEntry) and §2.2
(BitstringStatusListCredential). The list credential is a VC Data Model 2.0 credential whose
subject is a ``BitstringStatusList`` holding ``encodedList``; it is signed like any credential
the issuer signs (eddsa-rdfc-2022 by default) so a verifier can tell the issuer published it.

Where the properties sit follows the credentials/v2 context, which is what a signature covers:
``statusSize``, ``statusMessage`` and ``statusReference`` are terms of the *entry*
(``BitstringStatusListEntry``), ``ttl`` is a term of the *list* (``BitstringStatusList``).
Putting them elsewhere would make the JSON-LD safe-mode canonicalization refuse the document.

What an entry must be (§2.1) is defined once, in ``status.entry``; this module writes entries
that keep those rules, in lists of the widths it allocates.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from status.bitstring import DEFAULT_GZIP_LEVEL, MAX_STATUS_SIZE, MIN_STATUS_LIST_LENGTH, Bitstring
from status.entry import (
    ENTRY_TYPE,
    EntryFeatures,
    EntryProblems,
    StatusMessage,
    feature_problems,
    parse_entry_features,
    parse_status_hex,
)
from vc.credentials import issue_credential
from vc.cryptosuites import SUITES
from vc.datamodel import is_url
from vc.errors import MalformedValueError, StatusListLengthError

JsonObject = dict[str, Any]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"

# §2.1 statusPurpose: the values the Recommendation defines. Others are allowed by the spec
# ("other values MAY be used") but must still be plain strings.
REVOCATION, SUSPENSION, REFRESH, MESSAGE = "revocation", "suspension", "refresh", "message"
KNOWN_PURPOSES = frozenset({REVOCATION, SUSPENSION, REFRESH, MESSAGE})

DEFAULT_SUITE = "eddsa-rdfc-2022"


def status_value(raw: Any, *, status_size: int = 1) -> int:
    """The value to write into an entry of ``status_size`` bits, from what a caller sent: a
    boolean (1-bit entries: true sets it), an integer, or a ``0x``-prefixed hex string."""
    if isinstance(raw, bool):
        if status_size != 1:
            raise MalformedValueError(f"a {status_size}-bit status takes a number (0x0..{hex((1 << status_size) - 1)}), not a boolean")
        return int(raw)
    value = parse_status_hex(raw) if isinstance(raw, str) else raw
    if not isinstance(value, int) or not 0 <= value < (1 << status_size):
        raise MalformedValueError(f"a {status_size}-bit status is a value 0x0..{hex((1 << status_size) - 1)}, got {raw!r}")
    return value


def _status_size(value: Any) -> int:
    """A statusSize this node allocates: §2.1's "integer greater than zero", up to
    bitstring.MAX_STATUS_SIZE (wider entries would make statusMessage unbounded)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STATUS_SIZE:
        raise MalformedValueError(f"statusSize must be an integer from 1 to {MAX_STATUS_SIZE}, got {value!r}")
    return value


@dataclass(frozen=True)
class StatusEntryOptions(EntryFeatures):
    """The features of an entry in this node's own lists (§2.1 ``statusSize``, ``statusMessage``,
    ``statusReference``: ``status.entry.EntryFeatures``), checked once, so the node passes them
    through: §2.1's rules, and a ``statusSize`` the node allocates (1 to
    ``bitstring.MAX_STATUS_SIZE``).

    ``status_list_entry(..., **options.kwargs())`` writes them; ``from_json`` reads the same
    properties from a JSON object (an issue request's entry template, or an entry).
    """

    def __post_init__(self) -> None:
        _check_entry_format(self.status_size, self.status_messages, self.status_reference)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "StatusEntryOptions":
        _status_size(raw.get("statusSize", 1))
        features = parse_entry_features(raw)
        if isinstance(features, EntryProblems):
            raise MalformedValueError(str(features))
        return cls(features.status_size, features.status_messages, features.status_reference)

    def kwargs(self) -> dict[str, Any]:
        return {
            "status_size": self.status_size,
            "status_messages": self.status_messages,
            "status_reference": list(self.status_reference) if isinstance(self.status_reference, tuple) else self.status_reference,
        }


def _check_entry_format(status_size: Any, messages: Sequence[StatusMessage], reference: Any) -> None:
    """The features of an entry this node writes: a statusSize it allocates, then §2.1's rules
    (``status.entry.feature_problems``)."""
    _status_size(status_size)
    problems = feature_problems(status_size, messages, reference)
    if problems:
        raise MalformedValueError(str(EntryProblems(tuple(problems))))


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise MalformedValueError("timestamps must be timezone-aware (UTC)")
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_list_url(list_url: object) -> None:
    # An absolute URL, as verifiers require of statusListCredential (status.check refuses the
    # entry otherwise); no fragment, because the entry and list ids add their own.
    if not is_url(list_url) or "#" in list_url:  # type: ignore[operator]
        raise MalformedValueError(f"the status list URL must be an absolute URL without a fragment, got {list_url!r}")


def _purpose(purpose: object) -> str:
    if not isinstance(purpose, str) or not purpose:
        raise MalformedValueError(f"statusPurpose must be a non-empty string, got {purpose!r}")
    return purpose


def build_status_list_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: str,
    bitstring: Bitstring,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl: timedelta | None = None,
    min_length: int = MIN_STATUS_LIST_LENGTH,
    gzip_level: int = DEFAULT_GZIP_LEVEL,
    contexts: Iterable[str] = (),
) -> JsonObject:
    """The unsigned BitstringStatusListCredential (§2.2) for ``bitstring``.

    The subject id is ``list_url#list``. ``ttl`` becomes the list's ``ttl`` in milliseconds
    (§2.2: the "time to live" in milliseconds "before a refresh SHOULD be attempted"), the hint verifiers and
    the HTTP ``Cache-Control`` use for caching.
    """
    _check_list_url(list_url)
    if len(bitstring) < min_length:
        raise StatusListLengthError(
            f"a status list must hold at least {min_length} entries for herd privacy; this one holds {len(bitstring)}"
        )
    if valid_until is not None and valid_until < valid_from:
        raise MalformedValueError("validUntil must not be earlier than validFrom")
    subject: JsonObject = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": _purpose(purpose),
        "encodedList": bitstring.encode(level=gzip_level),
    }
    if ttl is not None:
        millis = int(ttl.total_seconds() * 1000)
        if millis <= 0:
            raise MalformedValueError("ttl must be a positive duration")
        subject["ttl"] = millis
    credential: JsonObject = {
        "@context": [VC_V2, *(c for c in contexts if c != VC_V2)],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": copy.deepcopy(issuer) if isinstance(issuer, Mapping) else issuer,
        "validFrom": _timestamp(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = _timestamp(valid_until)
    credential["credentialSubject"] = subject
    return credential


def sign_status_list_credential(
    unsigned: JsonObject,
    *,
    key: Any,
    verification_method: str,
    now: datetime,
    loader: Any,
    suite: Any = DEFAULT_SUITE,
) -> JsonObject:
    """Sign the list as the issuer signs credentials (a new dict; the input is untouched).

    Goes through ``vc.credentials.issue_credential``, so the list gets the same data-model
    checks and the same refusal of a verification method the issuer does not control.
    ``suite`` is a cryptosuite name (``eddsa-rdfc-2022``, ``eddsa-jcs-2022``) or object.
    """
    if isinstance(suite, str):
        if suite not in SUITES:
            raise MalformedValueError(f"unknown cryptosuite {suite!r}; use one of {', '.join(sorted(SUITES))}")
        suite = SUITES[suite]
    return issue_credential(unsigned, key=key, verification_method=verification_method, suite=suite, loader=loader, now=now)


def issue_status_list_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: str,
    bitstring: Bitstring,
    key: Any,
    verification_method: str,
    now: datetime,
    loader: Any,
    valid_until: datetime | None = None,
    ttl: timedelta | None = None,
    suite: Any = DEFAULT_SUITE,
    min_length: int = MIN_STATUS_LIST_LENGTH,
    gzip_level: int = DEFAULT_GZIP_LEVEL,
    contexts: Iterable[str] = (),
) -> JsonObject:
    """Build and sign the list credential as of ``now`` (``validFrom`` = ``now``).

    This is what the node calls after every status change: update the ``Bitstring``, then
    re-issue, so the next fetch returns the new bit.
    """
    unsigned = build_status_list_credential(
        list_url=list_url,
        issuer=issuer,
        purpose=purpose,
        bitstring=bitstring,
        valid_from=now,
        valid_until=valid_until,
        ttl=ttl,
        min_length=min_length,
        gzip_level=gzip_level,
        contexts=contexts,
    )
    return sign_status_list_credential(
        unsigned, key=key, verification_method=verification_method, now=now, loader=loader, suite=suite
    )


def status_list_entry(
    *,
    list_url: str,
    index: int,
    purpose: str,
    status_size: int = 1,
    status_messages: Iterable[StatusMessage] | None = None,
    status_reference: str | Sequence[str] | None = None,
) -> JsonObject:
    """A ``BitstringStatusListEntry`` (§2.1) for the credential's ``credentialStatus``.

    ``statusListIndex`` is a base-10 string, as the spec requires. With ``status_size`` > 1,
    ``statusMessage`` MUST be given and cover every value (§2.1: "the number of status
    messages MUST equal the number of possible values"). ``status_reference`` is a URL or a
    list of URLs. The entry's list is a ``Bitstring(..., status_size=status_size)``.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise MalformedValueError(f"a status list index is a non-negative integer, got {index!r}")
    _check_list_url(list_url)
    entry: JsonObject = {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": _purpose(purpose),
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
    messages = list(status_messages or ())
    _check_entry_format(status_size, messages, status_reference)
    if status_size != 1:
        entry["statusSize"] = status_size
    if messages:
        entry["statusMessage"] = [m.to_json() for m in sorted(messages, key=lambda m: m.status)]
    if status_reference is not None:
        is_list = isinstance(status_reference, (list, tuple))
        entry["statusReference"] = list(status_reference) if is_list else status_reference
    return entry

"""The BitstringStatusListEntry and its rules: Bitstring Status List v1.0 §2.1, written once.

The verifier (``status.check``) and the issuer (``node.issuance``, for entries a caller brings)
read an entry with ``parse_status_entry``, which returns the entry or every §2.1 rule it breaks;
each side says so in its own terms (§3's MALFORMED_VALUE_ERROR, the status unknown; a 400 that
refuses to sign). The features an issuer commits to (``statusSize``, ``statusMessage``,
``statusReference``) are held to the same rules wherever the node writes them
(``status.credential.StatusEntryOptions`` and ``status_list_entry``: ``feature_problems``).

A conforming entry can still be more than a reader reads: this node reads ``statusSize`` up to
``bitstring.MAX_STATUS_SIZE`` and allocates no wider entries, and an index of more than
``MAX_INDEX_DIGITS`` digits is past the end of any list. Those limits belong to whoever reads
or allocates, not to §2.1, and are applied there.

An entry's ``type`` is not among the rules checked here: it says which status method the entry
is (``is_bitstring_entry``), and a caller chooses this parser by it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Sequence, cast

from status.urls import same_url
from vc.datamodel import is_url
from vc.errors import MalformedValueError

JsonObject = dict[str, Any]

ENTRY_TYPE = "BitstringStatusListEntry"

# A list holds at most 8 entries per inflated byte, and no node inflates 10**18 bytes; a longer
# index is out of range before any list is read (and int() refuses past 4,300 digits anyway).
MAX_INDEX_DIGITS = 18

# A problem quotes at most this many of the statusMessage values an entry lists (a hostile one
# may list tens of thousands).
_QUOTED_VALUES = 16

# 2**statusSize is worked out only for sizes whose messages a JSON document could hold; a
# larger statusSize never has one message per value (and 1 << 10**18 would not fit in memory).
_COUNTABLE_SIZE = 64


@dataclass(frozen=True)
class StatusMessage:
    """One ``statusMessage`` entry: the value (as the spec's ``0x``-prefixed hex) and its meaning.

    §2.1: "Implementers MAY add additional values to objects in the statusMessage array";
    ``extra`` keeps them (``status`` and ``message`` cannot be among them).
    """

    status: int
    message: str
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> JsonObject:
        return {"status": hex(self.status), "message": self.message, **copy.deepcopy(dict(self.extra))}

    @classmethod
    def from_json(cls, raw: Any, where: str = "statusMessage") -> "StatusMessage":
        """Read ``{"status": "0x2", "message": "rejected", ...}``; MALFORMED_VALUE_ERROR otherwise."""
        if not isinstance(raw, Mapping):
            raise MalformedValueError(f"{where} must be an object with 'status' and 'message'")
        status, message = raw.get("status"), raw.get("message")
        if not isinstance(message, str):
            raise MalformedValueError(f"{where}.message must be a string")
        return cls(parse_status_hex(status, f"{where}.status"), message, {k: v for k, v in raw.items() if k not in ("status", "message")})


_HEX_STATUS = re.compile(r"0[xX][0-9a-fA-F]+")


def parse_status_hex(value: Any, where: str = "status") -> int:
    """§2.1 statusMessage ``status``: "a string representing the hexadecimal value of the status
    prefixed with 0x"."""
    # int(x, 16) alone would also take "0x1_0", "0x1 " and digits of other scripts
    if not isinstance(value, str) or not _HEX_STATUS.fullmatch(value):
        raise MalformedValueError(f"{where} must be a 0x-prefixed hexadecimal string such as '0x1', got {value!r}")
    return int(value[2:], 16)


@dataclass(frozen=True)
class EntryFeatures:
    """What an issuer commits to for an entry beyond its list and index (§2.1): ``statusSize``,
    ``statusMessage`` (in the order given) and ``statusReference`` (a URL, or a tuple of them)."""

    status_size: int = 1
    status_messages: tuple[StatusMessage, ...] = ()
    status_reference: str | tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class StatusEntry(EntryFeatures):
    """A ``BitstringStatusListEntry`` that keeps every MUST of §2.1 (``parse_status_entry``)."""

    purpose: str
    # statusListIndex as a number. §2.1 allows "an arbitrary size integer"; one of more than
    # MAX_INDEX_DIGITS significant digits is None, an index past the end of any list (a
    # verifier's RANGE_ERROR).
    index: int | None
    list_url: str

    def message(self, value: int) -> str | None:
        """The entry's statusMessage for ``value``; None when it lists none."""
        return next((m.message for m in self.status_messages if m.status == value), None)


@dataclass(frozen=True)
class EntryProblems:
    """Why a value is no ``BitstringStatusListEntry``: one sentence for each §2.1 rule broken."""

    problems: tuple[str, ...]

    def __str__(self) -> str:
        return "; ".join(self.problems)


def is_bitstring_entry(raw: Any) -> bool:
    """Whether ``raw`` is an object whose ``type`` names BitstringStatusListEntry (§2.1 ``type``)."""
    if not isinstance(raw, Mapping):
        return False
    kind = raw.get("type")
    return ENTRY_TYPE in (kind if isinstance(kind, list) else [kind])


def parse_status_entry(raw: Any) -> StatusEntry | EntryProblems:
    """Bitstring Status List 1.0 §2.1: ``statusPurpose`` a string, ``statusListIndex`` a base-10
    string, ``statusListCredential`` a URL, an ``id`` that is not that URL, and the features
    (``parse_entry_features``). The entry, or every rule it breaks."""
    if not isinstance(raw, Mapping):
        return EntryProblems((f"a {ENTRY_TYPE} must be a JSON object",))
    problems: list[str] = []
    purpose = raw.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        problems.append(f"statusPurpose must be a non-empty string, got {purpose!r}")
    index = raw.get("statusListIndex")
    # §2.1: "an arbitrary size integer greater than or equal to 0, expressed as a string in base 10"
    if not isinstance(index, str) or not index.isascii() or not index.isdigit():
        problems.append(f"statusListIndex must be a base-10 string of digits, got {index!r}")
    list_url = raw.get("statusListCredential")
    if not is_url(list_url):  # §2.1: "MUST be a URL"
        problems.append(f"statusListCredential must be a URL, got {list_url!r}")
    elif same_url(raw.get("id"), list_url):  # §2.1 id: "It MUST NOT be the URL for the status list"
        problems.append(f"id {raw.get('id')!r} is the URL of its status list (statusListCredential), which it MUST NOT be")
    features = parse_entry_features(raw)
    if isinstance(features, EntryProblems):
        problems.extend(features.problems)
    if problems or isinstance(features, EntryProblems):
        return EntryProblems(tuple(problems))
    # No problems: purpose, index and list_url are the strings checked above.
    digits = cast(str, index).lstrip("0") or "0"
    return StatusEntry(
        status_size=features.status_size,
        status_messages=features.status_messages,
        status_reference=features.status_reference,
        purpose=cast(str, purpose),
        index=int(digits) if len(digits) <= MAX_INDEX_DIGITS else None,
        list_url=cast(str, list_url),
    )


def parse_entry_features(raw: Mapping[str, Any]) -> EntryFeatures | EntryProblems:
    """``statusSize`` (1 when absent), ``statusMessage`` and ``statusReference`` of an entry, or
    of an entry template, held to §2.1 (``feature_problems``)."""
    problems: list[str] = []
    listed = raw.get("statusMessage")
    messages: list[StatusMessage] = []
    if listed is not None and not isinstance(listed, list):
        problems.append("statusMessage must be an array of {status, message} objects")
    for i, item in enumerate(listed if isinstance(listed, list) else ()):
        try:
            messages.append(StatusMessage.from_json(item, f"statusMessage[{i}]"))
        except MalformedValueError as e:
            problems.append(e.detail)
    size, reference = raw.get("statusSize", 1), raw.get("statusReference")
    # Messages that could not be read are not counted against statusSize: that problem is named.
    problems += feature_problems(size, None if problems else messages, reference)
    if problems:
        return EntryProblems(tuple(problems))
    return EntryFeatures(size, tuple(messages), tuple(reference) if isinstance(reference, list) else reference)


def feature_problems(status_size: Any, status_messages: Sequence[StatusMessage] | None, status_reference: Any) -> list[str]:
    """§2.1's rules on an entry's features, one sentence for each broken: ``statusSize`` "an
    integer greater than zero"; ``statusMessage`` "MUST be present if statusSize is greater than
    1" and then, as whenever present, one message for each of the 2**statusSize values (each
    once; ``None``: not counted); ``statusReference`` "a URL or an array of URLs"."""
    problems = []
    if isinstance(status_size, bool) or not isinstance(status_size, int) or status_size < 1:
        problems.append(f"statusSize must be an integer greater than zero, got {status_size!r}")
    elif status_messages is not None:
        problems += _message_problems(status_size, status_messages)
    if status_reference is not None:
        references = list(status_reference) if isinstance(status_reference, (list, tuple)) else [status_reference]
        if not references or not all(is_url(r) for r in references):
            problems.append(f"statusReference must be a URL or a non-empty list of URLs, got {status_reference!r}")
    return problems


def _message_problems(size: int, messages: Sequence[StatusMessage]) -> list[str]:
    values: set[int] = set()
    repeated: dict[int, None] = {}  # in the order first repeated; a dict, not a list: linear, not quadratic
    for m in messages:
        if m.status in values:
            repeated[m.status] = None
        values.add(m.status)
    problems = []
    if repeated:
        more = f" (and {len(repeated) - 1} other values more than once)" if len(repeated) > 1 else ""
        problems.append(f"statusMessage lists {hex(next(iter(repeated)))} twice{more}")
    # statusMessage "MAY be present if statusSize is 1": absent (or empty), nothing is counted.
    if (size > 1 or messages) and not _one_for_each_value(size, values):
        last = hex((1 << size) - 1) if size <= _COUNTABLE_SIZE else f"2**{size} - 1"
        problems.append(
            f"statusSize {size} needs exactly one statusMessage for each value 0x0..{last}, got {_quoted(values)}"
        )
    return problems


def _one_for_each_value(size: int, values: Collection[int]) -> bool:
    if size > _COUNTABLE_SIZE or len(values) != 1 << size:
        return False
    return min(values) >= 0 and max(values) < 1 << size


def _quoted(values: Collection[int]) -> str:
    if not values:
        return "none"
    shown = sorted(values)[:_QUOTED_VALUES]
    more = f", ... ({len(values)} values)" if len(values) > _QUOTED_VALUES else ""
    return ", ".join(hex(v) for v in shown) + more

"""The BitstringStatusListEntry both ways: status.credential writes it, status.check reads it.

Bitstring Status List v1.0 §2.1. Every entry the publisher writes is read back by the
verifier as the same list, index, purpose, size and messages (or the publisher refuses to
write it, with MalformedValueError). Any ``credentialStatus`` value, and any list credential
a server returns (a valid one with one member changed), gives status checks and never an
internal error: the checker's verdict is passed, failed or unknown with the specification's
codes.
"""

from __future__ import annotations

import asyncio
import copy
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from status.bitstring import Bitstring
from status.check import StatusChecker, _parse_entry
from status.credential import StatusMessage, build_status_list_credential, status_list_entry
from strategies import any_text, huge_digits, json_values, near_valid_object
from vc.errors import MalformedValueError, ProblemError, StatusVerificationError
from vc.results import Check, VerificationResult

LIST_URL = "https://issuer.example/status/1"
ISSUER = "did:example:issuer"
NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)

urls = st.one_of(
    st.just(LIST_URL),
    st.text(st.characters(codec="utf-8", exclude_characters="#"), max_size=15).map(lambda p: "https://x.example/" + p),
    st.text(st.characters(codec="utf-8"), max_size=12),  # anything, URL or not
)
purposes = st.one_of(st.sampled_from(["revocation", "suspension", "refresh", "message"]), st.text(max_size=10))


@st.composite
def publisher_arguments(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 4))
    messages = None
    if size > 1 or draw(st.booleans()):
        messages = [StatusMessage(v, draw(st.text(max_size=8))) for v in range(1 << size)]
        if draw(st.integers(0, 4)) == 0:  # one message missing or one too many
            messages = messages[1:] if draw(st.booleans()) else messages + [StatusMessage(1 << size, "x")]
    return {
        "list_url": draw(urls),
        "index": draw(st.integers(-2, 2**40)),
        "purpose": draw(purposes),
        "status_size": size,
        "status_messages": messages,
    }


@given(publisher_arguments())
# found: the publisher wrote an entry for the list URL "0", which every verifier refuses
@example({"list_url": "0", "index": 0, "purpose": "revocation", "status_size": 1, "status_messages": None})
def test_what_the_publisher_writes_the_verifier_reads_back(args: dict[str, Any]) -> None:
    try:
        entry = status_list_entry(**args)
    except MalformedValueError:
        return
    read, index = _parse_entry(copy.deepcopy(entry))
    assert (read.list_url, index, read.purpose, read.status_size) == (
        args["list_url"], args["index"], args["purpose"], args["status_size"],
    )
    assert read.status_messages == tuple(sorted(args["status_messages"] or (), key=lambda m: m.status))


VALID_ENTRY = status_list_entry(
    list_url=LIST_URL, index=7, purpose="message", status_size=2,
    status_messages=[StatusMessage(v, f"m{v}") for v in range(4)],
)
status_values = st.one_of(
    json_values(max_leaves=6),
    any_text,
    huge_digits,
    st.sampled_from(["0x1_0", "0x1 ", " 0x1", "0X1", "0x", "0x\u0663", "1", "00", "-1", "+1", "\u0663", "0x" + "f" * 5000]),
)
entries = st.one_of(
    near_valid_object(VALID_ENTRY, status_values),
    st.builds(
        lambda msg, entry: {**entry, "statusMessage": msg},
        st.lists(st.fixed_dictionaries({"status": status_values, "message": st.text(max_size=3)}), max_size=3),
        st.just(VALID_ENTRY),
    ),
    json_values(max_leaves=10),
)


@given(entries)
@example({**VALID_ENTRY, "statusListIndex": "1" + "0" * 4300})  # found: int() past 4,300 digits
# found: int(.., 16) read "0x_0" as 0 (and, after the entry checks were reworked, "0x3 " as 3)
@example({**VALID_ENTRY, "statusMessage": [{"status": "0x_0", "message": "x"}]})
@example({**VALID_ENTRY, "statusMessage": [{"status": s, "message": "x"} for s in ("0x0", "0x1", "0x2", "0x3 ")]})
def test_any_entry_is_read_or_refused_with_a_spec_error(entry: Any) -> None:
    try:
        read, index = _parse_entry(entry)
    except ProblemError as e:
        assert e.code in ("MALFORMED_VALUE_ERROR", "STATUS_VERIFICATION_ERROR", "RANGE_ERROR") and e.detail
        return
    assert index >= 0 and read.status_size >= 1
    for item in entry.get("statusMessage") or ():
        status = item["status"]
        assert status[:2].lower() == "0x" and status[2:] and all(c in "0123456789abcdefABCDEF" for c in status[2:])


# --- the whole checker against hostile entries and hostile lists ----------------------------


@dataclass
class _Response:
    status: int
    data: Any
    max_age: int | None = None


class _Server:
    """Serves one list document, as GuardedHTTP.get_json would return it."""

    def __init__(self, document: Any) -> None:
        self.document = document

    async def get_json(self, url: str, *, max_bytes: int | None = None) -> _Response:
        return _Response(200, copy.deepcopy(self.document))


async def _proof_passes(document: Any, **_: Any) -> VerificationResult:
    # The proof is not the subject here (test_status_check.py covers it): every list verifies.
    result = VerificationResult("credential", document)
    result.add(Check("proof", "passed"))
    return result


def _list_document() -> dict[str, Any]:
    bits = Bitstring(131_072, status_size=2)
    bits.set(7, 3)
    return build_status_list_credential(
        list_url=LIST_URL, issuer=ISSUER, purpose="message", bitstring=bits,
        valid_from=NOW - timedelta(days=1), ttl=timedelta(minutes=1),
    )


LIST = _list_document()
CREDENTIAL = {"issuer": ISSUER, "credentialStatus": VALID_ENTRY}


def _checks(document: Any, credential: Any) -> list[Check]:
    checker = StatusChecker(_Server(document), None, None, lambda: NOW, verify_credential=_proof_passes)
    return asyncio.run(checker(credential))


def test_the_valid_entry_reads_its_message_from_the_valid_list() -> None:
    (check,) = _checks(LIST, CREDENTIAL)
    assert check.outcome == "passed" and check.data["statusMessage"] == "m3"


def _no_internal_error(checks: list[Check]) -> None:
    for check in checks:
        assert check.outcome in ("passed", "failed", "unknown")
        assert check.problem is None or check.problem.code != "INTERNAL_ERROR", check.problem.detail


list_values = st.one_of(
    json_values(max_leaves=6),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, 10**30, -1, 0, 2**63]),
    st.sampled_from(["1" + "0" * 4300 + "-01-01T00:00:00Z", "10000-02-30T00:00:00Z", "u", "uH4sIAAAAAAAA"]),
)
subjects = st.builds(lambda s: {**LIST, "credentialSubject": s}, near_valid_object(LIST["credentialSubject"], list_values))
lists = st.one_of(near_valid_object(LIST, list_values), subjects, json_values(max_leaves=6))


@given(lists)
# found: timedelta() raised ValueError / OverflowError out of the checker (an internal error)
@example({**LIST, "credentialSubject": {**LIST["credentialSubject"], "ttl": math.nan}})
@example({**LIST, "credentialSubject": {**LIST["credentialSubject"], "ttl": 10**30}})
def test_any_list_document_gives_a_verdict_never_an_internal_error(document: Any) -> None:
    _no_internal_error(_checks(document, CREDENTIAL))


@given(entries)
def test_any_credential_status_gives_a_verdict_never_an_internal_error(entry: Any) -> None:
    _no_internal_error(_checks(LIST, {"issuer": ISSUER, "credentialStatus": entry}))

"""status.entry: the one definition of a BitstringStatusListEntry (Bitstring Status List 1.0 §2.1)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from status.credential import StatusEntryOptions, status_list_entry
from status.entry import (
    EntryFeatures,
    EntryProblems,
    StatusEntry,
    StatusMessage,
    feature_problems,
    is_bitstring_entry,
    parse_entry_features,
    parse_status_entry,
)
from status_fakes import REC_MESSAGE_ENTRY
from vc.errors import MalformedValueError

LIST_URL = "https://uni.eu/status/3"
PLAIN: dict[str, Any] = {
    "id": f"{LIST_URL}#7",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "7",
    "statusListCredential": LIST_URL,
}


def _problems(raw: Any) -> str:
    parsed = parse_status_entry(raw)
    assert isinstance(parsed, EntryProblems), parsed
    return str(parsed)


def test_a_whole_entry_is_read_as_section_2_1_asks():
    entry = status_list_entry(list_url=LIST_URL, index=7, purpose="message", **StatusEntryOptions.from_json(REC_MESSAGE_ENTRY).kwargs())
    parsed = parse_status_entry(entry)
    assert isinstance(parsed, StatusEntry)
    assert (parsed.purpose, parsed.index, parsed.list_url, parsed.status_size) == ("message", 7, LIST_URL, 2)
    assert [m.to_json() for m in parsed.status_messages] == REC_MESSAGE_ENTRY["statusMessage"]
    assert parsed.status_reference == REC_MESSAGE_ENTRY["statusReference"]
    assert parsed.message(2) == "rejected" and parsed.message(4) is None
    for fields, words in [
        ({"statusPurpose": ""}, "statusPurpose must be a non-empty string"),
        ({"statusListIndex": 7}, "statusListIndex must be a base-10 string"),
        ({"statusListIndex": "٧"}, "statusListIndex must be a base-10 string"),
        ({"statusListIndex": "-1"}, "statusListIndex must be a base-10 string"),
        ({"statusListCredential": "status 3"}, "statusListCredential must be a URL"),
        ({"id": "https://UNI.eu/status/3"}, "is the URL of its status list (statusListCredential), which it MUST NOT be"),
        ({"statusMessage": REC_MESSAGE_ENTRY["statusMessage"][:3]}, "statusSize 2 needs exactly one statusMessage for each value 0x0..0x3, got 0x0, 0x1, 0x2"),
        ({"statusMessage": None}, "statusSize 2 needs exactly one statusMessage for each value 0x0..0x3, got none"),
        ({"statusMessage": REC_MESSAGE_ENTRY["statusMessage"] + [{"status": "0x1", "message": "again"}]}, "statusMessage lists 0x1 twice"),
        ({"statusMessage": {"status": "0x0"}}, "statusMessage must be an array"),
        ({"statusSize": 0}, "statusSize must be an integer greater than zero, got 0"),
        ({"statusSize": True}, "statusSize must be an integer greater than zero, got True"),
        ({"statusReference": []}, "statusReference must be a URL or a non-empty list of URLs"),
    ]:
        bad = {k: v for k, v in {**entry, **fields}.items() if v is not None}
        assert words in _problems(bad), fields


def test_every_rule_an_entry_breaks_is_named_not_only_the_first():
    bad = {**PLAIN, "statusPurpose": 5, "statusListIndex": "seven", "statusSize": 2, "statusReference": "see the handbook"}
    parsed = parse_status_entry(bad)
    assert isinstance(parsed, EntryProblems)
    assert [p.split(" ")[0] for p in parsed.problems] == ["statusPurpose", "statusListIndex", "statusSize", "statusReference"]
    assert str(parsed) == "; ".join(parsed.problems)


def test_an_unreadable_message_is_named_and_not_counted_against_the_size():
    bad = {**PLAIN, "statusMessage": [{"status": "1", "message": "a"}, {"status": "0x1", "message": "b"}]}
    assert _problems(bad) == "statusMessage[0].status must be a 0x-prefixed hexadecimal string such as '0x1', got '1'"


def test_a_value_that_is_not_an_object_is_no_entry():
    assert _problems(5) == "a BitstringStatusListEntry must be a JSON object"
    assert not is_bitstring_entry(5) and not is_bitstring_entry({"type": "StatusList2021Entry"})
    assert is_bitstring_entry(PLAIN) and is_bitstring_entry({**PLAIN, "type": ["Other", "BitstringStatusListEntry"]})


def test_a_statusSize_wider_than_this_node_allocates_is_still_a_conforming_entry():
    """§2.1 statusSize: "an integer greater than zero", no more. Before status.entry the issuer
    refused a caller's 17-bit entry as malformed ("from 1 to 16") while the verifier read it as
    conforming and beyond what it reads; the Recommendation sides with the verifier. The node's
    own lists stay within what it allocates."""
    wide = {**PLAIN, "statusPurpose": "message", "statusSize": 17,
            "statusMessage": [{"status": hex(v), "message": "m"} for v in range(1 << 17)]}
    parsed = parse_status_entry(wide)
    assert isinstance(parsed, StatusEntry) and parsed.status_size == 17 and len(parsed.status_messages) == 1 << 17
    with pytest.raises(MalformedValueError, match="statusSize must be an integer from 1 to 16, got 17"):
        StatusEntryOptions.from_json(wide)


def test_an_index_of_any_size_is_conforming_and_past_18_digits_has_no_number():
    """§2.1 statusListIndex: "an arbitrary size integer"; int() stops at 4,300 digits."""
    assert parse_status_entry({**PLAIN, "statusListIndex": "0" * 40 + "123"}).index == 123
    huge = parse_status_entry({**PLAIN, "statusListIndex": "1" + "0" * 5000})
    assert isinstance(huge, StatusEntry) and huge.index is None
    assert parse_status_entry({**PLAIN, "statusListIndex": "9" * 18}).index == 10**18 - 1


def test_a_huge_statusSize_is_refused_without_counting_its_values():
    started = time.monotonic()
    problem = _problems({**PLAIN, "statusSize": 10**18})
    assert time.monotonic() - started < 1
    assert f"for each value 0x0..2**{10**18} - 1, got none" in problem


def test_a_problem_quotes_a_few_of_the_values_listed():
    listed = [{"status": hex(v), "message": "m"} for v in range(1000)]
    problem = _problems({**PLAIN, "statusSize": 10, "statusMessage": listed})
    assert problem.endswith("got 0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, ... (1000 values)")


def test_features_alone_are_read_by_the_same_rules():
    """An entry template (node.issuance) has no list or index: its features are read alone."""
    assert parse_entry_features({}) == EntryFeatures()
    features = parse_entry_features({**REC_MESSAGE_ENTRY, "statusReference": ["https://e.example/a", "https://e.example/b"]})
    assert isinstance(features, EntryFeatures) and features.status_reference == ("https://e.example/a", "https://e.example/b")
    assert str(parse_entry_features({"statusSize": 2})) == _problems({**PLAIN, "statusSize": 2})
    assert feature_problems(1, [StatusMessage(0, "a"), StatusMessage(1, "b")], None) == []
    assert feature_problems(1, [StatusMessage(0, "a"), StatusMessage(2, "b")], None) == [
        "statusSize 1 needs exactly one statusMessage for each value 0x0..0x1, got 0x0, 0x2"
    ]

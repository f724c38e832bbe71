"""status.credential: the list credential and entry shapes of Bitstring Status List v1.0 §2."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from status.bitstring import Bitstring
from status.credential import (
    StatusEntryOptions,
    StatusMessage,
    build_status_list_credential,
    status_list_entry,
    status_value,
)
from status_fakes import REC_MESSAGE_ENTRY
from tests.conftest import load_json
from vc.errors import MalformedValueError, StatusListLengthError

NOW = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def test_list_credential_matches_the_recommendation_example(vectors):
    example = load_json(
        vectors / "bitstring-status-list" / "spec-rec-examples" / "example-bitstring-status-list-credential.unsigned.json"
    )
    built = build_status_list_credential(
        list_url="https://example.com/credentials/status/3",
        issuer="did:example:12345",
        purpose="revocation",
        bitstring=Bitstring(131_072),
        valid_from=datetime(2021, 4, 5, 14, 27, 40, tzinfo=timezone.utc),
    )
    # The example's subject id lives under another path (status/3#list); everything else,
    # including what the encodedList decodes to, is the same.
    expected = copy.deepcopy(example)
    expected["credentialSubject"]["id"] = "https://example.com/credentials/status/3#list"
    expected["credentialSubject"]["encodedList"] = built["credentialSubject"]["encodedList"]
    assert built == expected
    assert Bitstring.decode(built["credentialSubject"]["encodedList"]) == Bitstring.decode(
        example["credentialSubject"]["encodedList"]
    )


def test_list_credential_carries_valid_until_and_ttl_in_milliseconds():
    bits = Bitstring(131_072)
    bits.set(42, 1)
    built = build_status_list_credential(
        list_url="https://uni.example/status/rev/1",
        issuer={"id": "did:web:uni.example", "name": "Uni"},
        purpose="suspension",
        bitstring=bits,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=30),
        ttl=timedelta(minutes=5),
        contexts=["https://www.w3.org/ns/credentials/examples/v2"],
    )
    assert built["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
    assert built["validFrom"] == "2025-06-01T12:00:00Z"
    assert built["validUntil"] == "2025-07-01T12:00:00Z"
    assert built["issuer"] == {"id": "did:web:uni.example", "name": "Uni"}
    subject = built["credentialSubject"]
    assert subject["ttl"] == 300_000
    assert subject["statusPurpose"] == "suspension"
    assert subject["id"] == "https://uni.example/status/rev/1#list"
    assert Bitstring.decode(subject["encodedList"]).set_indexes() == [42]


def test_list_shorter_than_the_minimum_is_refused():
    with pytest.raises(StatusListLengthError, match="at least 131072"):
        build_status_list_credential(
            list_url="https://uni.example/s/1", issuer="did:example:1", purpose="revocation",
            bitstring=Bitstring(131_064), valid_from=NOW,
        )
    larger = build_status_list_credential(
        list_url="https://uni.example/s/1", issuer="did:example:1", purpose="revocation",
        bitstring=Bitstring(1_048_576), valid_from=NOW,
    )
    assert Bitstring.decode(larger["credentialSubject"]["encodedList"]).length == 1_048_576


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"list_url": "https://uni.example/s/1#x"}, "without a fragment"),
        ({"purpose": ""}, "statusPurpose"),
        ({"valid_until": NOW - timedelta(days=1)}, "validUntil"),
        ({"ttl": timedelta(0)}, "ttl"),
        ({"valid_from": datetime(2025, 1, 1)}, "timezone-aware"),
    ],
)
def test_list_credential_bad_parameters(kw, message):
    args = dict(list_url="https://uni.example/s/1", issuer="did:example:1", purpose="revocation",
                bitstring=Bitstring(131_072), valid_from=NOW)
    args.update(kw)
    with pytest.raises(MalformedValueError, match=message):
        build_status_list_credential(**args)


def test_entry_matches_the_recommendation_example(vectors):
    example = load_json(
        vectors / "bitstring-status-list" / "spec-rec-examples" / "example-credential-with-revocation-and-suspension-entries.json"
    )
    built = [
        status_list_entry(list_url="https://example.com/credentials/status/3", index=94567, purpose="revocation"),
        status_list_entry(list_url="https://example.com/credentials/status/4", index=23452, purpose="suspension"),
    ]
    assert built == example["credentialStatus"]


def test_message_entry_with_status_size_two():
    messages = [StatusMessage(2, "rejected"), StatusMessage(0, "pending_review"),
                StatusMessage(1, "accepted"), StatusMessage(3, "undefined")]
    built = status_list_entry(
        list_url="https://example.com/credentials/status/8", index=492847, purpose="message",
        status_size=2, status_messages=messages, status_reference="https://example.org/status-dictionary/",
    )
    assert built == {
        "id": "https://example.com/credentials/status/8#492847",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": "492847",
        "statusListCredential": "https://example.com/credentials/status/8",
        **REC_MESSAGE_ENTRY,
    }


def test_multi_bit_entry_needs_a_message_for_every_value():
    with pytest.raises(MalformedValueError, match="one statusMessage for each value 0x0..0x3"):
        status_list_entry(list_url="https://e.example/s", index=1, purpose="message", status_size=2,
                          status_messages=[StatusMessage(0, "a"), StatusMessage(1, "b")])
    with pytest.raises(MalformedValueError, match="statusSize"):
        status_list_entry(list_url="https://e.example/s", index=1, purpose="message", status_size=0)


@pytest.mark.parametrize("index", [-1, True, "5", 1.0])
def test_entry_index_must_be_a_non_negative_integer(index):
    with pytest.raises(MalformedValueError):
        status_list_entry(list_url="https://e.example/s", index=index, purpose="revocation")


# --- optional entry features (§2.1 statusSize, statusMessage, statusReference; issue 11, cause 8) --

def test_entry_options_read_from_json_write_the_same_entry():
    options = StatusEntryOptions.from_json(REC_MESSAGE_ENTRY)
    assert options.status_size == 2 and [m.message for m in options.status_messages][2] == "rejected"
    entry = status_list_entry(list_url="https://example.com/credentials/status/8", index=492847, purpose="message", **options.kwargs())
    assert {k: entry[k] for k in REC_MESSAGE_ENTRY} == REC_MESSAGE_ENTRY
    # No options is the plain one-bit entry.
    assert StatusEntryOptions.from_json({}).kwargs() == {"status_size": 1, "status_messages": (), "status_reference": None}


def test_status_reference_may_be_a_list_of_urls():
    refs = ["https://example.org/status-dictionary/", "https://example.org/appeals"]
    entry = status_list_entry(list_url="https://e.example/s", index=1, purpose="message", status_reference=refs)
    assert entry["statusReference"] == refs
    assert StatusEntryOptions.from_json({"statusReference": refs}).kwargs()["status_reference"] == refs


def test_one_bit_messages_must_name_both_values():
    two = [StatusMessage(0, "valid"), StatusMessage(1, "under review")]
    entry = status_list_entry(list_url="https://e.example/s", index=1, purpose="message", status_messages=two)
    assert "statusSize" not in entry and [m["status"] for m in entry["statusMessage"]] == ["0x0", "0x1"]
    with pytest.raises(MalformedValueError, match="0x0..0x1"):
        status_list_entry(list_url="https://e.example/s", index=1, purpose="message", status_messages=two[:1])


def test_extra_message_properties_are_kept():
    """§2.1: "Implementers MAY add additional values to objects in the statusMessage array"."""
    raw = {**REC_MESSAGE_ENTRY, "statusMessage": [{**m, "lang": "en"} for m in REC_MESSAGE_ENTRY["statusMessage"]]}
    entry = status_list_entry(list_url="https://e.example/s", index=1, purpose="message", **StatusEntryOptions.from_json(raw).kwargs())
    assert entry["statusMessage"] == raw["statusMessage"]


BAD_OPTIONS = [
    ({"statusSize": 0}, "statusSize must be an integer from 1 to 16"),
    ({"statusSize": "2"}, "statusSize must be an integer"),
    ({"statusSize": True}, "statusSize must be an integer"),
    ({"statusSize": 17}, "from 1 to 16"),
    ({"statusSize": 2}, "one statusMessage for each value 0x0..0x3"),
    ({**REC_MESSAGE_ENTRY, "statusMessage": REC_MESSAGE_ENTRY["statusMessage"][:3]}, "0x0..0x3"),
    ({**REC_MESSAGE_ENTRY, "statusMessage": REC_MESSAGE_ENTRY["statusMessage"][:3] + [{"status": "0x2", "message": "again"}]}, "0x0..0x3"),
    ({**REC_MESSAGE_ENTRY, "statusMessage": {"status": "0x0"}}, "statusMessage must be an array"),
    ({"statusMessage": [{"status": "1", "message": "a"}, {"status": "0x0", "message": "b"}]}, r"statusMessage\[0\].status must be a 0x-prefixed"),
    ({"statusMessage": [{"status": "0x0", "message": 5}, {"status": "0x1", "message": "b"}]}, r"statusMessage\[0\].message must be a string"),
    ({"statusReference": "not a url"}, "statusReference must be a URL"),
    ({"statusReference": []}, "statusReference must be a URL"),
    ({"statusReference": ["https://e.example/a", 5]}, "statusReference must be a URL"),
]


@pytest.mark.parametrize("raw, message", BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_bad_entry_options_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(MalformedValueError, match=message):
        StatusEntryOptions.from_json(raw)


@pytest.mark.parametrize(
    "raw, size, value",
    [(True, 1, 1), (False, 1, 0), (1, 1, 1), (3, 2, 3), ("0x2", 2, 2), ("0XF", 4, 15), (0, 4, 0)],
)
def test_status_values_a_caller_may_send(raw, size, value):
    assert status_value(raw, status_size=size) == value


@pytest.mark.parametrize("raw, size", [(True, 2), (2, 1), (4, 2), (-1, 2), ("2", 2), ("0x", 2), ("0xg", 2), (1.0, 2), (None, 1)])
def test_status_values_out_of_range_or_malformed_are_refused(raw, size):
    with pytest.raises(MalformedValueError):
        status_value(raw, status_size=size)


def test_multi_bit_list_credential_names_itself_by_the_entries_list_url():
    """The list's id is the entry's statusListCredential (§2.2 "MAY express an id property that
    matches"; the status list suite's test of it is skipped in the suite itself)."""
    url = "https://e.example/status/message/1"
    bits = Bitstring(131_072, status_size=2)
    bits.set(5, 2)
    listed = build_status_list_credential(list_url=url, issuer="did:example:i", purpose="message", bitstring=bits, valid_from=NOW)
    entry = status_list_entry(list_url=url, index=5, purpose="message", **StatusEntryOptions.from_json(REC_MESSAGE_ENTRY).kwargs())
    assert listed["id"] == entry["statusListCredential"] == url
    assert Bitstring.decode(listed["credentialSubject"]["encodedList"], status_size=2).get(5) == 2

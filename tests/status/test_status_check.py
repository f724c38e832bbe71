"""status.check.StatusChecker: three outcomes, spec error codes, caching rules."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import timedelta

import pytest

from did.errors import FetchError
from status.credential import StatusMessage
from status.entry import parse_status_entry
from status_fakes import world  # noqa: F401  (the `world` fixture)

LIST_URL = "https://issuer.example/status/1"


def _one(checks):
    assert len(checks) == 1
    (check,) = checks
    assert check.name == "status"
    return check


def _code(check):
    return check.problem.code if check.problem else None


async def test_valid_entry_passes(world):
    world.publish(set_bits={7: 1})
    check = _one(await world.checker()(world.credential(world.entry(8))))
    assert check.outcome == "passed", check
    assert check.data["status"] == "0x0"
    assert "not revoked" in check.message


async def test_revoked_entry_fails_with_a_clear_message(world):
    world.publish(set_bits={94_567: 1})
    check = _one(await world.checker()(world.credential(world.entry(94_567))))
    assert check.outcome == "failed"
    assert "revoked by its issuer" in check.message
    assert check.data["statusPurpose"] == "revocation" and check.data["status"] == "0x1"


async def test_suspended_entry_fails(world):
    world.publish(purpose="suspension", set_bits={3: 1})
    checker = world.checker()
    check = _one(await checker(world.credential(world.entry(3, "suspension"))))
    assert check.outcome == "failed" and "suspended by its issuer" in check.message
    # A different index on the same list is not suspended.
    assert _one(await checker(world.credential(world.entry(4, "suspension")))).outcome == "passed"


async def test_unreachable_list_is_unknown_with_retrieval_error(world):
    world.http.errors[LIST_URL] = FetchError("connection refused", reason="network")
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert check.outcome == "unknown"
    assert _code(check) == "STATUS_RETRIEVAL_ERROR"
    assert "could not be retrieved" in check.message and "connection refused" in check.message


async def test_missing_list_is_unknown(world):
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_RETRIEVAL_ERROR")


async def test_a_list_published_by_another_issuer_is_refused_unless_any_publisher_is_accepted(world):
    """Bitstring Status List 1.0 §2.2: the credential's issuer "MAY be different from the issuer
    value of a BitstringStatusListCredential". Whoever can serve bytes at the list's URL could
    then sign an all-clear list of their own, so by default only the issuer's list is read;
    a verifier that trusts delegated publishers opts in, and the result names the publisher."""
    world.publish(issuer="did:example:registry", set_bits={2: 1})
    refused = _one(await world.checker()(world.credential(world.entry(2))))
    assert (refused.outcome, _code(refused)) == ("unknown", "STATUS_VERIFICATION_ERROR"), refused
    assert "was issued by did:example:registry, not by the credential's issuer" in refused.message
    checker = world.checker(any_publisher=True)
    check = _one(await checker(world.credential(world.entry(1))))
    assert check.outcome == "passed", check
    assert check.data["statusListIssuer"] == "did:example:registry"
    assert "published by did:example:registry" in check.message and "did:example:university" in check.message
    revoked = _one(await checker(world.credential(world.entry(2))))
    assert revoked.outcome == "failed"
    assert revoked.message.startswith("the credential has been revoked by did:example:registry, which publishes its status list")
    assert revoked.data["statusListIssuer"] == "did:example:registry"


async def test_a_list_of_the_credentials_own_issuer_names_no_other_publisher(world):
    world.publish()
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert check.outcome == "passed" and "statusListIssuer" not in check.data
    assert "published by" not in check.message


async def test_a_list_with_no_issuer_is_unknown(world):
    # The real proof check refuses it first (the data model requires an issuer); a stand-in
    # verifier that lets it through still gets no status from it.
    world.publish(edit=lambda d: d.pop("issuer"))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert "names no issuer" in check.message


async def test_issuer_object_form_matches(world):
    world.publish()
    cred = world.credential(world.entry(1))
    cred["issuer"] = {"id": "did:example:university", "name": "Uni"}
    assert _one(await world.checker()(cred)).outcome == "passed"


async def test_expired_list_is_unknown(world):
    world.publish(valid_until=world.clock() + timedelta(hours=1))
    checker = world.checker()
    assert _one(await checker(world.credential(world.entry(1)))).outcome == "passed"
    world.clock.advance(hours=2)
    check = _one(await checker(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert "expired" in check.message
    # An expired cached list is fetched again (a newer one may be published).
    assert len(world.http.calls) == 2


async def test_list_not_yet_valid_is_unknown(world):
    world.publish(valid_from=world.clock() + timedelta(days=1))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert "not valid yet" in check.message


async def test_a_list_just_re_signed_by_a_publisher_whose_clock_is_ahead_is_read(world):
    # The publisher stamps validFrom with its clock at every re-signing (every status change);
    # a verifier a few seconds behind must not find every credential on the list "unknown".
    # The allowance is the one proofs get (vc.proofs.MAX_CLOCK_SKEW, 300 s).
    world.publish(valid_from=world.clock() + timedelta(seconds=2))
    assert _one(await world.checker()(world.credential(world.entry(1)))).outcome == "passed"
    world.publish(valid_from=world.clock() + timedelta(seconds=299))
    assert _one(await world.checker()(world.credential(world.entry(1)))).outcome == "passed"
    world.publish(valid_from=world.clock() + timedelta(seconds=301))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR") and "not valid yet" in check.message


async def test_a_list_whose_validity_ended_seconds_ago_by_the_publishers_clock_is_read(world):
    world.publish(valid_from=world.clock() - timedelta(hours=1), valid_until=world.clock() - timedelta(seconds=2))
    assert _one(await world.checker()(world.credential(world.entry(1)))).outcome == "passed"
    world.publish(valid_from=world.clock() - timedelta(hours=1), valid_until=world.clock() - timedelta(seconds=301))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR") and "expired" in check.message


async def test_a_list_within_the_allowance_past_its_validity_is_kept_not_fetched_on_every_check(world):
    # A review: the check allowed the skew, the cache did not, so every verification within
    # those 300 s fetched the list again from its publisher.
    world.publish(valid_from=world.clock() - timedelta(hours=1), valid_until=world.clock() + timedelta(seconds=10), max_age=60)
    checker = world.checker()
    assert _one(await checker(world.credential(world.entry(1)))).outcome == "passed"
    world.clock.advance(seconds=20)
    for _ in range(3):
        assert _one(await checker(world.credential(world.entry(1)))).outcome == "passed"
    assert len(world.http.calls) == 1


async def test_a_list_naming_its_own_url_spelt_otherwise_is_no_copy(world):
    world.publish(edit=lambda d: d.update(id=d["id"].replace("https://", "HTTPS://", 1)))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert check.outcome == "passed" and "statusListId" not in check.data, check


async def test_the_clock_skew_allowance_is_the_callers_to_choose(world):
    world.publish(valid_from=world.clock() + timedelta(seconds=2), valid_until=world.clock() + timedelta(minutes=10))
    strict = world.checker(max_clock_skew=timedelta(0))
    assert "not valid yet" in _one(await strict(world.credential(world.entry(1)))).message
    world.clock.advance(minutes=10, seconds=1)
    world.publish(valid_from=world.clock() - timedelta(minutes=10), valid_until=world.clock() - timedelta(seconds=1))
    assert "expired" in _one(await world.checker(max_clock_skew=timedelta(0))(world.credential(world.entry(1)))).message
    assert _one(await world.checker(max_clock_skew=timedelta(seconds=5))(world.credential(world.entry(1)))).outcome == "passed"
    with pytest.raises(ValueError, match="max_clock_skew"):
        world.checker(max_clock_skew=timedelta(seconds=-1))


async def test_too_short_list_is_unknown_with_length_error(world):
    world.publish(length=100_000, min_length=1)
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_LIST_LENGTH_ERROR")
    assert "100000 entries" in check.message


async def test_index_out_of_range_is_unknown_with_range_error(world):
    world.publish()
    check = _one(await world.checker()(world.credential(world.entry(131_072))))
    assert (check.outcome, _code(check)) == ("unknown", "RANGE_ERROR")
    assert "outside the status list" in check.message


async def test_purpose_mismatch_is_unknown(world):
    world.publish(purpose="suspension")
    check = _one(await world.checker()(world.credential(world.entry(1, "revocation"))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert "'revocation'" in check.message and "'suspension'" in check.message


async def test_list_with_several_purposes_serves_each(world):
    world.publish(purpose="revocation", edit=lambda d: d["credentialSubject"].update(statusPurpose=["revocation", "suspension"]))
    check = _one(await world.checker()(world.credential(world.entry(1, "suspension"))))
    assert check.outcome == "passed"


async def test_unsigned_list_is_unknown(world):
    world.publish(sign=False)
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert "does not verify" in check.message


async def test_tampered_list_is_unknown(world):
    doc = world.publish(set_bits={5: 1})
    # Someone clears the revocation bit after signing.
    doc["credentialSubject"]["encodedList"] = world.publish(sign=False)["credentialSubject"]["encodedList"]
    world.http.serve(LIST_URL, doc)
    check = _one(await world.checker()(world.credential(world.entry(5))))
    assert (check.outcome, _code(check)) == ("unknown", "STATUS_VERIFICATION_ERROR")


async def test_malformed_encoded_list_is_unknown(world):
    """§3: a §2 value that breaks its MUSTs raises MALFORMED_VALUE_ERROR (the status unknown)."""
    world.publish(edit=lambda d: d["credentialSubject"].update(encodedList="zNotMultibaseBase64url"))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "MALFORMED_VALUE_ERROR")
    assert check.problem.type == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
    assert "starting with 'u'" in check.message


MALFORMED_LISTS = [
    ("padded base64url", lambda d: d["credentialSubject"].update(encodedList=d["credentialSubject"]["encodedList"] + "=="), "encodedList"),
    ("not GZIP", lambda d: d["credentialSubject"].update(encodedList="uAAAAAAAAAAAAAAAA"), "encodedList"),
    ("a purpose that is not a string", lambda d: d["credentialSubject"].update(statusPurpose=["revocation", 5]), "one or more strings"),
    ("an empty list of purposes", lambda d: d["credentialSubject"].update(statusPurpose=[]), "one or more strings"),
    ("a negative ttl", lambda d: d["credentialSubject"].update(ttl=-5), "ttl"),
    ("a subject of another type", lambda d: d["credentialSubject"].update(type="StatusList2021"), "BitstringStatusList subject"),
    ("a validUntil that is not a date", lambda d: d.update(validUntil="next year"), "validity period"),
]


@pytest.mark.parametrize("edit, words", [m[1:] for m in MALFORMED_LISTS], ids=[m[0] for m in MALFORMED_LISTS])
async def test_a_list_breaking_the_data_model_is_a_malformed_value(world, edit, words):
    """Bitstring Status List 1.0 §3: a list credential property of §2.2 whose value breaks its
    MUSTs raises MALFORMED_VALUE_ERROR; the credential's status is then unknown."""
    world.publish(edit=edit)
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "MALFORMED_VALUE_ERROR"), check
    assert words in check.message


async def test_a_list_naming_another_url_is_refused_or_with_any_publisher_read_as_a_copy(world):
    """§2.2: a list "MAY express an id property that matches" the entry's URL; §3.2 does not
    compare them. By default the list must be the one the entry names (whoever serves the URL
    could hand out another current list of the issuer); with any_publisher a copy published
    elsewhere (the Digital Credentials Consortium's test lists name their origin) is read, and
    the result names what the list calls itself."""
    world.publish(edit=lambda d: d.update(id="https://origin.example/status/7"))
    refused = _one(await world.checker()(world.credential(world.entry(1))))
    assert (refused.outcome, _code(refused)) == ("unknown", "STATUS_VERIFICATION_ERROR")
    assert "names itself" in refused.message
    check = _one(await world.checker(any_publisher=True)(world.credential(world.entry(1))))
    assert check.outcome == "passed", check
    assert check.data["statusListId"] == "https://origin.example/status/7"
    assert "a copy of the list https://origin.example/status/7" in check.message
    world.publish(edit=lambda d: d.pop("id"))
    plain = _one(await world.checker()(world.credential(world.entry(1))))
    assert plain.outcome == "passed" and "statusListId" not in plain.data


async def test_document_that_is_not_a_list_credential_is_refused(world):
    # §2.2: its type MUST include BitstringStatusListCredential; §3: MALFORMED_VALUE_ERROR.
    world.publish(edit=lambda d: d.update(type=["VerifiableCredential"]))
    check = _one(await world.checker()(world.credential(world.entry(1))))
    assert (check.outcome, _code(check)) == ("unknown", "MALFORMED_VALUE_ERROR")


async def test_unknown_entry_type_is_unknown(world):
    old = {"id": LIST_URL + "#1", "type": "StatusList2021Entry", "statusPurpose": "revocation",
           "statusListIndex": "1", "statusListCredential": LIST_URL}
    check = _one(await world.checker()(world.credential(old)))
    assert check.outcome == "unknown"
    assert "does not know the status method 'StatusList2021Entry'" in check.message
    assert world.http.calls == []


MALFORMED_ENTRIES = [("statusListIndex", v, "statusListIndex must be a base-10 string") for v in ["-1", "1.5", "0x10", " 7", 7, None]] + [
    ("statusListCredential", v, "statusListCredential must be a URL") for v in ["see list:1", "/status/1", "", 5, None]]


@pytest.mark.parametrize("field, value, words", MALFORMED_ENTRIES)
async def test_a_malformed_index_or_list_url_is_a_malformed_value_and_nothing_is_fetched(world, field, value, words):
    """§2.1: statusListIndex MUST be a base-10 string, statusListCredential a URL; anything
    else is a malformed value (§3), the status unknown, and nothing is fetched for it."""
    world.publish()
    bad = world.entry(1)
    bad[field] = value
    check = _one(await world.checker()(world.credential(bad)))
    assert (check.outcome, _code(check)) == ("unknown", "MALFORMED_VALUE_ERROR")
    assert words in check.message
    assert world.http.calls == []


@pytest.mark.parametrize("entry_id", [LIST_URL, "HTTPS://Issuer.Example:443/status/1"])
async def test_an_entry_whose_id_is_its_list_url_is_a_malformed_value(world, entry_id):
    """§2.1 id: "It MUST NOT be the URL for the status list" (also spelt with another case or
    the default port); §1.3/§3: a malformed value, the status unknown, nothing fetched."""
    world.publish()
    bad = world.entry(1)
    bad["id"] = entry_id
    check = _one(await world.checker()(world.credential(bad)))
    assert (check.outcome, _code(check)) == ("unknown", "MALFORMED_VALUE_ERROR"), check
    assert "is the URL of its status list" in check.message and "MUST NOT" in check.message
    assert world.http.calls == []
    # The usual id, the list's URL with the index as fragment, is the entry's own.
    assert _one(await world.checker()(world.credential(world.entry(1)))).outcome == "passed"


async def test_no_credential_status_gives_no_checks(world):
    cred = world.credential(world.entry(1))
    del cred["credentialStatus"]
    assert await world.checker()(cred) == []


async def test_garbage_status_never_raises(world):
    cred = world.credential(world.entry(1))
    cred["credentialStatus"] = 5
    check = _one(await world.checker()(cred))
    assert (check.outcome, _code(check)) == ("unknown", "MALFORMED_VALUE_ERROR")


async def test_two_entries_two_lists(world):
    world.publish(url=LIST_URL, purpose="revocation")
    world.publish(url="https://issuer.example/status/2", purpose="suspension", set_bits={9: 1})
    checks = await world.checker()(world.credential(
        world.entry(9), world.entry(9, "suspension", url="https://issuer.example/status/2")))
    assert [c.outcome for c in checks] == ["passed", "failed"]


async def test_the_contract_name_check_is_the_same_callable(world):
    world.publish(set_bits={2: 1})
    checker = world.checker()
    assert _one(await checker.check(world.credential(world.entry(2)))).outcome == "failed"


# --- statusSize > 1 ----------------------------------------------------------------------

MESSAGES = [StatusMessage(0, "pending_review"), StatusMessage(1, "accepted"),
            StatusMessage(2, "rejected"), StatusMessage(3, "undefined")]


async def test_two_bit_message_entries_report_the_message(world):
    world.publish(purpose="message", status_size=2, length=131_072, set_bits={10: 2, 11: 1, 131_071: 3})
    checker = world.checker()
    seen = {}
    for index in (10, 11, 12, 131_071):
        e = world.entry(index, "message", status_size=2, status_messages=MESSAGES,
                        status_reference="https://example.org/status-dictionary/")
        check = _one(await checker(world.credential(e)))
        assert check.outcome == "passed", check
        seen[index] = (check.data["status"], check.data["statusMessage"])
    assert seen == {10: ("0x2", "rejected"), 11: ("0x1", "accepted"),
                    12: ("0x0", "pending_review"), 131_071: ("0x3", "undefined")}
    assert len(world.http.calls) == 1


async def test_four_bit_entries_read_each_nibble(world):
    messages = [StatusMessage(v, f"m{v}") for v in range(16)]
    world.publish(purpose="message", status_size=4, set_bits={0: 0xF, 1: 0x5, 77_777: 0xA})
    checker = world.checker()
    for index, value in ((0, 15), (1, 5), (2, 0), (77_777, 10)):
        e = world.entry(index, "message", status_size=4, status_messages=messages)
        check = _one(await checker(world.credential(e)))
        assert check.data["status"] == hex(value) and check.data["statusMessage"] == f"m{value}"


async def test_multi_bit_list_length_counts_entries_not_bits(world):
    # 131,072 bits of 2-bit entries is only 65,536 entries: too short.
    world.publish(purpose="message", length=65_536, status_size=2, min_length=1)
    e = world.entry(1, "message", status_size=2, status_messages=MESSAGES)
    check = _one(await world.checker()(world.credential(e)))
    assert _code(check) == "STATUS_LIST_LENGTH_ERROR"


def _raw_entry(index, **fields):
    base = {
        "type": "BitstringStatusListEntry", "statusPurpose": "message", "statusListIndex": str(index),
        "statusListCredential": LIST_URL,
    }
    return {**base, **fields}


# §3: each breaks a MUST of §2.1, so MALFORMED_VALUE_ERROR; but the last is this node's own
# limit on what it reads (a conforming entry it cannot check), so STATUS_VERIFICATION_ERROR.
BAD_ENTRIES = [
    ("two bits without messages", {"statusSize": 2}, "needs exactly one statusMessage for each value 0x0..0x3, got none",
     "MALFORMED_VALUE_ERROR"),
    ("two bits, three messages", {"statusSize": 2, "statusMessage": [m.to_json() for m in MESSAGES[:3]]}, "got 0x0, 0x1, 0x2",
     "MALFORMED_VALUE_ERROR"),
    ("one bit, one message", {"statusMessage": [MESSAGES[0].to_json()]}, "0x0..0x1", "MALFORMED_VALUE_ERROR"),
    ("message listed twice", {"statusSize": 2, "statusMessage": [m.to_json() for m in MESSAGES] + [MESSAGES[0].to_json()]},
     "lists 0x0 twice", "MALFORMED_VALUE_ERROR"),
    ("status not hex", {"statusMessage": [{"status": "0", "message": "a"}, {"status": "0x1", "message": "b"}]}, "0x-prefixed",
     "MALFORMED_VALUE_ERROR"),
    ("messages not a list", {"statusMessage": {"status": "0x0", "message": "a"}}, "statusMessage must be an array", "MALFORMED_VALUE_ERROR"),
    ("reference not a URL", {"statusReference": "see the handbook"}, "statusReference must be a URL", "MALFORMED_VALUE_ERROR"),
    ("size zero", {"statusSize": 0}, "statusSize must be an integer greater than zero", "MALFORMED_VALUE_ERROR"),
    ("no purpose", {"statusPurpose": None}, "statusPurpose must be a non-empty string", "MALFORMED_VALUE_ERROR"),
    ("size too large", {"statusSize": 17, "statusMessage": [{"status": hex(v), "message": "m"} for v in range(1 << 17)]},
     "larger than this node reads", "STATUS_VERIFICATION_ERROR"),
]


@pytest.mark.parametrize("name, fields, words, code", BAD_ENTRIES, ids=[e[0] for e in BAD_ENTRIES])
async def test_an_entry_breaking_the_message_rules_is_unknown(world, name, fields, words, code):
    """§2.1: statusMessage MUST be present when statusSize > 1, one per value whenever present."""
    world.publish(purpose="message", status_size=2)
    raw = _raw_entry(3, **fields)
    check = _one(await world.checker()(world.credential(raw)))
    assert (check.outcome, _code(check)) == ("unknown", code), check
    assert words in check.message
    if code == "MALFORMED_VALUE_ERROR":  # the rules the issuer holds a caller's entry to (status.entry)
        assert check.message.endswith(f"breaks Bitstring Status List 1.0 §2.1: {parse_status_entry(raw)}")


async def test_the_verdict_carries_the_validate_algorithms_result(world):
    """§3.2 Validate Algorithm's result: status, purpose, valid (status is 0), the message, and the entry's references."""
    refs = ["https://example.org/status-dictionary/", "https://example.org/appeals"]
    world.publish(purpose="message", status_size=2, set_bits={7: 2})
    checker = world.checker()
    set_ = _one(await checker(world.credential(world.entry(7, "message", status_size=2, status_messages=MESSAGES, status_reference=refs))))
    unset = _one(await checker(world.credential(world.entry(8, "message", status_size=2, status_messages=MESSAGES, status_reference=refs))))
    assert set_.outcome == unset.outcome == "passed"  # a message is information, not a verdict
    assert {k: set_.data[k] for k in ("status", "valid", "statusMessage", "statusReference")} == {
        "status": "0x2", "valid": False, "statusMessage": "rejected", "statusReference": refs,
    }
    assert (unset.data["valid"], unset.data["statusMessage"]) == (True, "pending_review")


async def test_one_bit_message_entries_default_to_set_and_unset(world):
    """§2.1: without statusMessage the values 1 and 0 mean "set" and "unset"."""
    world.publish(purpose="message", set_bits={4: 1})
    checker = world.checker()
    assert _one(await checker(world.credential(world.entry(4, "message")))).data["statusMessage"] == "set"
    assert _one(await checker(world.credential(world.entry(5, "message")))).data["statusMessage"] == "unset"


async def test_a_revocation_entry_of_two_bits_is_revoked_by_any_value_but_zero(world):
    messages = [StatusMessage(0, "valid"), StatusMessage(1, "revoked: fraud"), StatusMessage(2, "revoked: error"), StatusMessage(3, "undefined")]
    world.publish(purpose="revocation", status_size=2, set_bits={1: 2})
    checker = world.checker()
    revoked = _one(await checker(world.credential(world.entry(1, "revocation", status_size=2, status_messages=messages))))
    assert revoked.outcome == "failed" and revoked.data["statusMessage"] == "revoked: error"
    assert _one(await checker(world.credential(world.entry(2, "revocation", status_size=2, status_messages=messages)))).outcome == "passed"


# --- caching -----------------------------------------------------------------------------

async def test_lists_are_cached_but_verdicts_are_not(world):
    world.publish(set_bits={1: 1})
    checker = world.checker()
    results = [_one(await checker(world.credential(world.entry(i)))).outcome for i in (1, 2, 1, 2)]
    assert results == ["failed", "passed", "failed", "passed"]
    assert len(world.http.calls) == 1
    assert world.verifier.calls == 1  # the list's proof result is cached with the list


async def test_cache_honours_http_max_age(world):
    world.publish(max_age=60)
    checker = world.checker()
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "passed"
    world.publish(set_bits={5: 1}, max_age=60)  # the issuer revokes
    world.clock.advance(seconds=59)
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "passed"
    world.clock.advance(seconds=2)
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "failed"
    assert len(world.http.calls) == 2


async def test_cache_honours_list_ttl(world):
    world.publish(ttl=timedelta(seconds=30))
    checker = world.checker(max_staleness=timedelta(hours=1))
    await checker(world.credential(world.entry(5)))
    world.publish(set_bits={5: 1}, ttl=timedelta(seconds=30))
    world.clock.advance(seconds=29)
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "passed"
    world.clock.advance(seconds=2)
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "failed"


async def test_max_staleness_caps_a_long_max_age(world):
    world.publish(max_age=86_400)
    checker = world.checker(max_staleness=timedelta(seconds=10))
    await checker(world.credential(world.entry(5)))
    world.publish(set_bits={5: 1}, max_age=86_400)
    world.clock.advance(seconds=11)
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "failed"
    assert len(world.http.calls) == 2


async def test_max_age_zero_means_fetch_every_time(world):
    world.publish(max_age=0)
    checker = world.checker()
    for _ in range(3):
        await checker(world.credential(world.entry(5)))
    assert len(world.http.calls) == 3


async def test_failed_fetches_are_not_cached(world):
    world.http.errors[LIST_URL] = FetchError("timed out", reason="timeout")
    checker = world.checker()
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "unknown"
    del world.http.errors[LIST_URL]
    world.publish()
    assert _one(await checker(world.credential(world.entry(5)))).outcome == "passed"


async def test_cache_is_bounded_least_recently_used_first(world):
    urls = [f"https://issuer.example/status/{i}" for i in range(4)]
    for url in urls:
        world.publish(url=url)
    checker = world.checker(cache_max_entries=2)
    for url in urls:
        await checker(world.credential(world.entry(1, url=url)))
    assert len(checker._cache) == 2
    await checker(world.credential(world.entry(1, url=urls[3])))  # still cached
    await checker(world.credential(world.entry(1, url=urls[0])))  # evicted: fetched again
    assert world.http.calls.count(urls[3]) == 1
    assert world.http.calls.count(urls[0]) == 2


async def test_concurrent_checks_share_one_fetch(world):
    world.publish(set_bits={3: 1})
    world.http.delay = 0.01
    checker = world.checker()
    results = await asyncio.gather(*(checker(world.credential(world.entry(i))) for i in range(20)))
    assert [r[0].outcome for r in results] == ["passed"] * 3 + ["failed"] + ["passed"] * 16
    assert len(world.http.calls) == 1


async def test_concurrent_checks_share_a_failure_too(world):
    world.http.errors[LIST_URL] = FetchError("refused", reason="network")
    world.http.delay = 0.01
    checker = world.checker()
    results = await asyncio.gather(*(checker(world.credential(world.entry(i))) for i in range(5)))
    assert {r[0].problem.code for r in results} == {"STATUS_RETRIEVAL_ERROR"}
    assert len(world.http.calls) == 1


async def test_a_cancelled_fetch_does_not_fail_the_checks_waiting_on_it(world):
    world.publish(set_bits={3: 1})
    world.http.delay = 0.05
    checker = world.checker()
    first = asyncio.create_task(checker(world.credential(world.entry(3))))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(checker(world.credential(world.entry(3))))
    await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    (check,) = await second
    assert check.outcome == "failed"
    assert len(world.http.calls) == 2


async def test_recommendation_message_example_is_read(world, vectors):
    # The REC prints this example with "..." elisions; drop those lines to get its JSON.
    text = (vectors / "bitstring-status-list" / "spec-rec-examples" / "example-credential-with-message-entry.verbatim.txt").read_text()
    lines = [line for line in text.splitlines() if line.strip() != "..."]
    credential = json.loads(re.sub(r",(\s*[\]}])", r"\1", "\n".join(lines)))
    status = credential["credentialStatus"]
    assert (status["statusSize"], status["statusListIndex"]) == (2, "492847")
    # The elided line is the fourth message: §2.1 requires one per value, and so does the checker.
    assert [m["status"] for m in status["statusMessage"]] == ["0x0", "0x1", "0x2"]
    status["statusMessage"].append({"status": "0x3", "message": "undefined"})
    world.publish(url=status["statusListCredential"], purpose="message", status_size=2,
                  length=524_288, set_bits={492_847: 2}, issuer=credential["issuer"])
    (check,) = await world.checker()(credential)
    assert check.outcome == "passed"
    assert (check.data["status"], check.data["statusMessage"]) == ("0x2", "rejected")
    assert "'rejected'" in check.message


async def test_the_log_names_a_list_without_its_query_or_user(world, caplog):
    """Whatever a list's URL carries beyond scheme, host, port and path (a learner's name, a token) is
    an issuer's choice the verifier's log must not keep."""
    url = "https://reader:pa55word@issuer.example:8443/status/1?learner=Zoe%20Secretname&token=abc"
    world.publish(url=url)
    caplog.set_level(logging.DEBUG, logger="status.check")
    check = _one(await world.checker()(world.credential(world.entry(3, url=url))))
    assert check.outcome == "passed", check
    said = [r.getMessage() for r in caplog.records if r.name == "status.check"]
    assert said and said[0].startswith("status list https://issuer.example:8443/status/1 fetched: usable;")
    for secret in ("Secretname", "token=abc", "pa55word", "reader", "?"):
        assert not any(secret in line for line in said), secret

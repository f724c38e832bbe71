"""DID Core §3.1/§3.2 syntax: what parses, what does not, and that errors say where."""

import pytest

from did.errors import InvalidDID, InvalidDIDURL
from did.syntax import DID, MAX_DID_LENGTH, MAX_DID_URL_LENGTH, absolute_did_url, parse_did, parse_did_url


@pytest.mark.parametrize(
    "text, method, msid",
    [
        ("did:example:123456789abcdefghi", "example", "123456789abcdefghi"),
        ("did:web:example.com%3A3000:user:alice", "web", "example.com%3A3000:user:alice"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "key", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
        ("did:ex::a", "ex", ":a"),  # empty segments are allowed before the last one
        ("did:m1:a.b-c_d", "m1", "a.b-c_d"),
    ],
)
def test_valid_dids(text, method, msid):
    did = parse_did(text)
    assert isinstance(did, DID)
    assert (did.method, did.msid, did.did, str(did)) == (method, msid, text, text)
    assert did.is_bare_did


@pytest.mark.parametrize(
    "text, fragment_of_message",
    [
        ("did:key:@", "'@'"),
        ("DID:ex:a", "does not start with 'did:'"),
        ("did:Ex:a", "lowercase"),
        ("did:ex", "no method-specific identifier"),
        ("did::a", "empty method name"),
        ("did:ex:", "empty method-specific identifier"),
        ("did:ex:a:", "must not end with ':'"),
        ("did:ex:a%2", "percent-encoding"),
        ("did:ex:a%zz", "percent-encoding"),
        ("did:ex:a b", "' '"),
        ("did:ex:a#frag", "DID URL"),
        ("did:ex:a/path", "DID URL"),
    ],
)
def test_invalid_dids(text, fragment_of_message):
    with pytest.raises(InvalidDID) as info:
        parse_did(text)
    assert info.value.code == "invalidDid"
    assert fragment_of_message in info.value.detail


def test_non_string_is_invalid():
    with pytest.raises(InvalidDID):
        parse_did(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, path, query, fragment",
    [
        ("did:ex:a", "", None, None),
        ("did:ex:a#key-1", "", None, "key-1"),
        ("did:ex:a/p/q?versionId=1#k", "/p/q", "versionId=1", "k"),
        ("did:ex:a?service=files&relativeRef=%2Fx", "", "service=files&relativeRef=%2Fx", None),
        ("did:ex:a#", "", None, ""),
        ("did:ex:a/:@!$&'()*+,;=~", "/:@!$&'()*+,;=~", None, None),
        ("did:ex:a#frag/with?chars", "", None, "frag/with?chars"),
    ],
)
def test_valid_did_urls(text, path, query, fragment):
    url = parse_did_url(text)
    assert (url.did, url.path, url.query, url.fragment) == ("did:ex:a", path, query, fragment)
    assert str(url) == text


@pytest.mark.parametrize(
    "text, where",
    [
        ("did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b/^bar^/?query=`#z6Mk", "path"),
        ("did:ex:a?q=`", "query"),
        ("did:ex:a#a#b", "fragment"),
        ("did:ex:a#%G0", "percent-encoding"),
        ("did:ex:@#k", "method-specific identifier"),
    ],
)
def test_invalid_did_urls(text, where):
    with pytest.raises(InvalidDIDURL) as info:
        parse_did_url(text)
    assert info.value.code == "invalidDidUrl"
    assert where in info.value.detail


def test_relative_references_resolve_against_the_did():
    assert absolute_did_url("#key-1", "did:ex:a") == "did:ex:a#key-1"
    assert absolute_did_url("did:ex:b#k", "did:ex:a") == "did:ex:b#k"
    assert absolute_did_url("?x=1", "did:ex:a") == "did:ex:a?x=1"


def test_a_did_at_the_length_bound_parses_and_one_past_it_is_refused():
    at_bound = "did:ex:" + "a" * (MAX_DID_LENGTH - len("did:ex:"))
    assert parse_did(at_bound).msid == at_bound[len("did:ex:"):]
    with pytest.raises(InvalidDID) as info:
        parse_did(at_bound + "a")
    assert info.value.code == "invalidDid"
    assert f"at most {MAX_DID_LENGTH} characters" in info.value.detail
    assert len(info.value.detail) < 200  # the refused value is not echoed back whole


def test_a_did_url_over_its_bound_is_refused_even_when_its_did_part_is_short():
    fragment = "#" + "k" * (MAX_DID_URL_LENGTH - len("did:ex:a#"))
    assert parse_did_url("did:ex:a" + fragment).fragment == fragment[1:]
    with pytest.raises(InvalidDIDURL) as info:
        parse_did_url("did:ex:a" + fragment + "k")
    assert info.value.code == "invalidDidUrl"
    # the 400,000-character did:key the QA sweep posted: refused on its length, before anything else
    with pytest.raises(InvalidDIDURL, match="at most"):
        parse_did_url("did:key:z6Mk" + "2" * 400_000 + "#x")

"""did.syntax against the DID Core 1.0 §3.1/§3.2 ABNF (with RFC 3986 path, query, fragment).

DIDs and DID URLs are generated from the grammar and must parse back to their parts and
print as they were read. Any text (arbitrary, or a valid DID URL with one edit) must either
parse or raise InvalidDID / InvalidDIDURL, and must parse exactly when the ABNF, transcribed
below as a regular expression independent of the module's own, says it is valid.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from did.errors import InvalidDID, InvalidDIDURL
from did.syntax import DID, DIDURL, parse_did, parse_did_url
from strategies import any_text, mutated

# The ABNF, rule by rule.
_HEXDIG = "[0-9A-Fa-f]"
_PCT = f"%{_HEXDIG}{_HEXDIG}"
_IDCHAR = f"(?:[A-Za-z0-9._-]|{_PCT})"
_ABNF_DID = f"did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+"
_PCHAR = f"(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|{_PCT})"
_QUERY = f"(?:{_PCHAR}|[/?])*"
ABNF_DID = re.compile(_ABNF_DID)
ABNF_DID_URL = re.compile(f"{_ABNF_DID}(?:/{_PCHAR}*)*(?:\\?{_QUERY})?(?:#{_QUERY})?")

ALPHA_DIGIT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
pct_encoded = st.tuples(st.sampled_from("0123456789abcdefABCDEF"), st.sampled_from("0123456789abcdefABCDEF")).map(
    lambda hh: "%" + "".join(hh)
)
method_names = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1, max_size=10)
idchar = st.one_of(st.sampled_from(ALPHA_DIGIT + "._-"), pct_encoded)
id_segment = st.lists(idchar, max_size=12).map("".join)
# method-specific-id = *( *idchar ":" ) 1*idchar
msids = st.tuples(st.lists(id_segment, max_size=3), st.lists(idchar, min_size=1, max_size=20).map("".join)).map(
    lambda parts: "".join(s + ":" for s in parts[0]) + parts[1]
)
pchar = st.one_of(st.sampled_from(ALPHA_DIGIT + "-._~!$&'()*+,;=:@"), pct_encoded)
paths = st.lists(st.lists(pchar, max_size=6).map("".join), max_size=3).map(lambda segs: "".join("/" + s for s in segs))
queries = st.lists(st.one_of(pchar, st.sampled_from("/?")), max_size=10).map("".join)


@st.composite
def did_urls(draw: st.DrawFn) -> tuple[str, DIDURL]:
    method, msid = draw(method_names), draw(msids)
    path, query, fragment = draw(paths), draw(st.none() | queries), draw(st.none() | queries)
    text = f"did:{method}:{msid}{path}" + ("" if query is None else "?" + query) + ("" if fragment is None else "#" + fragment)
    return text, DIDURL(method=method, msid=msid, path=path, query=query, fragment=fragment)


@given(method_names, msids)
def test_dids_from_the_grammar_parse_to_their_parts_and_print_back(method: str, msid: str) -> None:
    text = f"did:{method}:{msid}"
    did = parse_did(text)
    assert did == DID(method=method, msid=msid)
    assert str(did) == text and did.is_bare_did
    assert parse_did(str(did)) == did


@given(did_urls())
def test_did_urls_from_the_grammar_parse_to_their_parts_and_print_back(case: tuple[str, DIDURL]) -> None:
    text, expected = case
    parsed = parse_did_url(text)
    assert parsed == expected
    assert str(parsed) == text
    assert parse_did_url(str(parsed)) == parsed


def _outcome(parse, text: object, error: type) -> bool:
    try:
        parse(text)
    except error as e:
        assert e.detail and isinstance(e.detail, str)
        return False
    return True


near_valid_did_urls = did_urls().flatmap(lambda case: mutated(case[0]))
texts = st.one_of(any_text, near_valid_did_urls, st.text(st.sampled_from("did:key%/?#aZ09._-"), max_size=30))


@given(texts)
def test_any_text_is_a_did_exactly_when_the_abnf_says_so(text: str) -> None:
    assert _outcome(parse_did, text, InvalidDID) == bool(ABNF_DID.fullmatch(text))


@given(texts)
def test_any_text_is_a_did_url_exactly_when_the_abnf_says_so(text: str) -> None:
    assert _outcome(parse_did_url, text, InvalidDIDURL) == bool(ABNF_DID_URL.fullmatch(text))


@given(st.one_of(st.none(), st.integers(), st.binary(max_size=20), st.lists(st.text(max_size=5), max_size=3)))
def test_values_that_are_not_strings_are_refused_with_the_modules_error(value: object) -> None:
    assert not _outcome(parse_did, value, InvalidDID)
    assert not _outcome(parse_did_url, value, InvalidDIDURL)

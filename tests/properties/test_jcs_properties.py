"""vc.jcs against the ``rfc8785`` library (RFC 8785, the JSON Canonicalization Scheme).

vc.jcs writes most values with the standard library's encoder and hands the rest to
rfc8785; on any JSON value (floats, integers past 2**53, any Unicode including characters
outside the BMP in keys, lone surrogates, deep nesting) it must give the reference's bytes, or
raise the reference's error where JCS cannot represent the value. The output is JSON that
reads back as the value, and canonicalizing it again changes nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal

import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import json_values, nested
from vc.jcs import canonicalize

values = st.one_of(
    json_values(),
    json_values(surrogates=True),
    st.floats(),  # NaN and the infinities too: JCS refuses them
    st.dictionaries(st.text(st.characters(min_codepoint=0xE000), max_size=3), st.integers(), max_size=6),
    st.integers(0, 80).map(nested),
    st.tuples(st.integers(), st.text(max_size=3)),  # not JSON types: the reference decides
)


def _reference(value: object) -> bytes | type[BaseException]:
    try:
        return rfc8785.dumps(_as_read_by_javascript(value))  # type: ignore[arg-type]
    except Exception as e:
        return type(e)


def _as_read_by_javascript(value: object) -> object:
    """JSON numbers are doubles (RFC 8785 §3.2.2.3). An integer past 2**53 - 1 is the double
    JavaScript reads for it when that double's value, or its ECMAScript spelling, is the
    integer (2**53; 2**60, written 1152921504606847000); any other integer is left for the
    reference to refuse, being more precise than a double (I-JSON)."""
    if type(value) is int and abs(value) > 2**53 - 1:
        try:
            double = float(value)
        except OverflowError:
            return value
        return double if double == value or Decimal(rfc8785.dumps(double).decode()) == value else value
    if type(value) is dict:
        return {k: _as_read_by_javascript(v) for k, v in value.items()}
    if type(value) is list:
        return [_as_read_by_javascript(v) for v in value]
    return value


@given(values)
@example({"\U0001f600": 1, "\ufb33": 2})  # UTF-16 order differs from code point order here
@example([1e21, 1e-7, -0.0, 5e-324, 2**53, -(2**53) + 1])
@example([2**53 + 1, 1152921504606847000, 2**60, 10**21, 10**400])  # issue 11: big whole numbers
@example(nested(200))
@example({"\ud800": None})  # found: a lone surrogate in a key escaped as UnicodeEncodeError
def test_canonical_bytes_are_the_references(value: object) -> None:
    expected = _reference(value)
    if isinstance(expected, bytes):
        assert canonicalize(value) == expected
        return
    try:
        canonicalize(value)
    except rfc8785.CanonicalizationError:
        # whatever the reference refuses (its own error, or a UnicodeEncodeError from a key
        # it cannot sort), ours refuses with the reference's error type
        assert issubclass(expected, ValueError)
    else:
        raise AssertionError(f"canonicalized a value rfc8785 refuses with {expected.__name__}")


@given(json_values())
def test_canonical_json_reads_back_as_the_value_and_is_a_fixed_point(value: object) -> None:
    try:
        text = canonicalize(value)
    except rfc8785.CanonicalizationError:
        return  # an integer past 2**53: covered by the test above
    back = json.loads(text, parse_int=_as_double)
    assert _same(back, value)
    assert canonicalize(back) == text


def _as_double(digits: str) -> int | float:
    """JSON numbers are doubles (RFC 8785 §3.2.2.3): ECMAScript writes the double 2**53 as
    "9007199254740992", which Python's reader would make an int that JCS (and rfc8785, our
    reference) refuses; read such integers back as the doubles they were written from."""
    n = int(digits)
    return n if abs(n) <= 2**53 - 1 else float(n)


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b) and (type(a) is type(b) or float(a).is_integer())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)

"""RFC 8785 JSON Canonicalization Scheme (JCS), with a fast exact path.

``rfc8785.dumps`` is the reference (pure Python, about 100 µs for an Open Badges credential, half
of an eddsa-jcs-2022 verify). For the JSON that credentials are made of, the standard library's
C encoder already writes exactly the JCS bytes:

* strings: both escape ``"``, ``\\``, ``\\b \\f \\n \\r \\t`` and the other C0 controls as
  ``\\u00xx`` (lower-case hex) and nothing else (RFC 8785 §3.2.2.2); output is UTF-8;
* integers within ±(2^53 − 1), ``true``, ``false``, ``null``: the same digits and words;
* object keys: JCS sorts by UTF-16 code units (§3.2.3); Python sorts by code point. The two
  orders agree unless a key holds a character outside the Basic Multilingual Plane.

So ``canonicalize`` checks the value once and uses ``json.dumps`` when every float, big integer,
non-BMP or surrogate key character and non-JSON type is absent; otherwise it hands the value
to ``rfc8785.dumps`` (which also raises its errors for what JCS cannot represent).
tests/vc/test_fast_canon.py holds the two to the same bytes on a randomized corpus.

Integers beyond ±(2^53 − 1). JCS canonicalizes a JSON number as the IEEE 754 double it denotes
(RFC 8785 §3.2.2.3, I-JSON: numbers no more precise than a double). JavaScript writes whole
doubles below 1e21 as plain digits (2^60 as ``1152921504606847000``), which Python's json reads
as ``int`` and ``rfc8785`` refuses past 2^53 − 1. Such an integer is canonicalized as its
double when the digits are that double's (its exact value, or how ECMAScript writes it), so
credentials JavaScript signs with eddsa-jcs-2022 verify here and ours there. Digits no double
has (9007199254740993: JavaScript reads 9007199254740992 and would verify the document with
that number changed) are refused: a signature must not cover a number other than the one shown.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

# ECMAScript's Number.MAX_SAFE_INTEGER: up to it every whole number is a double; past it only some.
MAX_SAFE_INTEGER = 2**53 - 1
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                           allow_nan=False, check_circular=False).encode


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    if _plain(value):
        try:
            return _ENCODE(value).encode("utf-8")
        except (UnicodeEncodeError, ValueError, TypeError):
            pass  # a lone surrogate in a string, or the like: the reference decides
    try:
        try:
            return rfc8785.dumps(value)
        except rfc8785.IntegerDomainError:
            # Rare: a whole number past 2^53 (see the module docstring). Walking every value
            # for them up front would cost the common slow path (floats) a fifth more.
            return rfc8785.dumps(_with_doubles(value))
    except UnicodeEncodeError as e:
        # rfc8785 refuses a lone surrogate in a string with its own error, but lets the one in
        # an object key escape from its UTF-16 sort as UnicodeEncodeError: same fault, same error
        raise rfc8785.CanonicalizationError("input contains non-UTF-8 codepoints") from e


def double_of(n: int) -> float | None:
    """The double a whole number's digits stand for: its exact value, or the double ECMAScript
    writes with these digits (see the module docstring); None when no double has them."""
    try:
        double = float(n)
    except OverflowError:
        return None
    if double == n or rfc8785.dumps(double) == str(n).encode("ascii"):
        return double
    return None


def _as_double(n: int) -> float:
    """A big integer as the double it denotes (``double_of``); ``rfc8785.IntegerDomainError``
    when no double has its digits."""
    double = double_of(n)
    if double is None:
        raise rfc8785.IntegerDomainError(n)
    return double


def _with_doubles(value: Any) -> Any:
    """``value`` with every integer past ±(2^53 − 1) read as a double (a copy only where one is)."""
    kind = type(value)
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _as_double(value)
    if kind is dict:
        items = {k: _with_doubles(v) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if kind is list:
        converted = [_with_doubles(v) for v in value]
        return value if all(a is b for a, b in zip(converted, value)) else converted
    return value


def _bmp_key(key: str) -> bool:
    if key.isascii():
        return True
    return all(ord(c) <= 0xFFFF and not 0xD800 <= ord(c) <= 0xDFFF for c in key)


def _plain(value: Any) -> bool:
    """True when json.dumps writes ``value`` byte for byte as JCS (see the module docstring)."""
    stack = [value]
    budget = 1_000_000  # a cyclic structure must not loop here; the reference will refuse it
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            return False
        if kind is dict:
            for key, v in item.items():
                if type(key) is not str or not _bmp_key(key):
                    return False
                stack.append(v)
            continue
        if kind is list:
            stack.extend(item)
            continue
        return False  # floats, tuples, subclasses, anything else
    return True

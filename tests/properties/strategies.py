"""Strategies the property modules share: JSON values, near-valid mutations, huge inputs.

Random noise alone rarely gets past a parser's first check, so besides arbitrary values these
build *near-valid* inputs: a valid string with one character inserted, deleted or replaced, a
valid JSON object with one member replaced, removed or added, and sizes far beyond what real
input has (long digit runs, deep nesting).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

# Characters parsers treat specially somewhere: separators, escapes, whitespace of every
# kind, non-ASCII digits and letters, a lone surrogate, NUL, BOM.
SPECIAL_CHARS = list(":/?#%@.-_~!$&'()*+,;=[] \t\r\n\x00\x7f\ufeff\u00a0\u2028\u00e9\u0130\u00b2\u0663\uff11\ud800Zz0x")
special_chars = st.sampled_from(SPECIAL_CHARS)
any_char = st.one_of(special_chars, st.characters(exclude_categories=()))
any_text = st.text(any_char, max_size=40)

# Beyond Python's 4,300-digit int() limit, and beyond any real value.
huge_digits = st.integers(min_value=4_000, max_value=6_000).map(lambda n: "1" + "0" * n)


@st.composite
def mutated(draw: st.DrawFn, valid: str, alphabet: st.SearchStrategy[str] = any_char) -> str:
    """``valid`` with one edit: a character inserted, deleted or replaced, or a cut."""
    if not valid:
        return draw(st.text(alphabet, max_size=3))
    edit = draw(st.sampled_from(("insert", "delete", "replace", "truncate", "duplicate")))
    i = draw(st.integers(0, len(valid) - 1))
    if edit == "insert":
        return valid[:i] + draw(alphabet) + valid[i:]
    if edit == "delete":
        return valid[:i] + valid[i + 1 :]
    if edit == "replace":
        return valid[:i] + draw(alphabet) + valid[i + 1 :]
    if edit == "truncate":
        return valid[:i]
    j = draw(st.integers(i, len(valid)))
    return valid[:j] + valid[i:j] + valid[j:]


def json_scalars(*, surrogates: bool = False) -> st.SearchStrategy[Any]:
    text = st.text(st.characters(exclude_categories=()) if surrogates else st.characters(codec="utf-8"), max_size=20)
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),  # unbounded: beyond 2**53 too
        st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
        special_chars,
    )


def json_values(*, surrogates: bool = False, max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """Any JSON value Python's json module produces (no NaN or infinity)."""
    keys = st.text(st.characters(exclude_categories=()) if surrogates else st.characters(codec="utf-8"), max_size=8)
    return st.recursive(
        json_scalars(surrogates=surrogates),
        lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=5)),
        max_leaves=max_leaves,
    )


def nested(depth: int, leaf: Any = 0) -> Any:
    """``depth`` levels of alternating lists and objects around ``leaf``."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


@st.composite
def near_valid_object(draw: st.DrawFn, valid: dict[str, Any], values: st.SearchStrategy[Any] | None = None) -> dict[str, Any]:
    """``valid`` with one member replaced by another JSON value, removed, or one member added."""
    doc = copy.deepcopy(valid)
    values = values if values is not None else json_values(max_leaves=8)
    edit = draw(st.sampled_from(("replace", "remove", "add")))
    if edit == "add" or not doc:
        doc[draw(st.text(max_size=12))] = draw(values)
        return doc
    key = draw(st.sampled_from(sorted(doc)))
    if edit == "remove":
        del doc[key]
    else:
        doc[key] = draw(values)
    return doc

"""Bounds on hostile input, checked before any JSON-LD work.

JSON-LD expansion and RDFC-1.0 canonicalization cost grows with the size and shape of the
document, so a document is measured first (bytes, nesting depth, number of JSON values,
number of proofs and embedded credentials) with an iterative walk that stops at the first
bound exceeded: refusing a hostile document costs time proportional to the bound, not to
the document. VC Data Model 2.0 §7.2 names the types: an unparseable or oversized document
is a PARSING_ERROR, a document whose values exceed a bound is a MALFORMED_VALUE_ERROR.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from did.ijson import DuplicateMemberError, loads_strict, unique_members  # noqa: F401  (re-exported)
from vc.errors import MalformedValueError, ParsingError

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """Upper bounds a document must stay within to be processed at all."""

    # An Open Badges 3.0 credential with an embedded PNG image is typically 50-300 KiB;
    # 2 MiB leaves room for large data: URL images while bounding parse and walk time.
    max_bytes: int = 2 * 1024 * 1024
    # Real credentials nest 6-10 levels (VP > VC > subject > achievement > criteria ...).
    max_depth: int = 48
    # JSON values (objects, arrays, scalars). A rich OB3 credential has a few hundred.
    max_nodes: int = 50_000
    # Proof sets and chains in practice carry one to a handful of proofs.
    max_proofs: int = 16
    # Credentials embedded in one presentation.
    max_credentials: int = 64


DEFAULT_LIMITS = Limits()

# A code point of the surrogate range left in a string after parsing: JSON's \uD800-style
# escapes give one when it has no partner (a pair is joined into one character).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(text: str, what: str) -> None:
    """Refuse a string that is not Unicode text: I-JSON (RFC 7493 §2.1) forbids surrogate code
    points in names and strings, and no UTF-8 (RFC 8259 §8.1) can carry them, so nothing
    signed over them can be checked by anyone else. Called for non-ASCII strings only
    (``isascii`` reads a flag CPython keeps: the common string costs one method call)."""
    if (found := _SURROGATE.search(text)) is not None:
        raise MalformedValueError(
            f"the document has {what} holding U+{ord(found.group()):04X}, half of a surrogate pair with no partner "
            "(an escape like \\ud800 in the JSON): that is not Unicode text (I-JSON, RFC 7493 §2.1)"
        )


def loads(text: bytes | str, **kw: Any) -> Any:
    """``json.loads`` refusing duplicate member names (``DuplicateMemberError``, a ValueError)."""
    return json.loads(text, object_pairs_hook=unique_members, **kw)


def parse_json(data: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse JSON text after checking its size, then check the parsed value's shape.

    PARSING_ERROR for text that is too large, not JSON, nested too deep, or not I-JSON in
    a way only the text shows: a member name twice in one object (``DuplicateMemberError``)."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > limits.max_bytes:
        raise ParsingError(f"the document is {size} bytes, more than the limit of {limits.max_bytes} bytes")
    try:
        value = loads(data)
    except DuplicateMemberError as e:
        raise ParsingError(f"the document is not I-JSON: {e}", member=e.name) from e
    except RecursionError as e:
        # CPython's decoder guards its recursion; deep nesting surfaces here, not as a crash.
        raise ParsingError(f"the document nests deeper than the limit of {limits.max_depth} levels") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise ParsingError(f"the document is not valid JSON: {e}") from e
    check_shape(value, limits=limits)
    return value


def check_shape(doc: Any, *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a parsed document deeper, larger or with more values than ``limits`` allow.

    Iterative, so nesting cannot exhaust the interpreter's stack, and it stops at the first
    bound exceeded. String lengths count towards ``max_bytes`` so a dict handed in directly
    (not parsed by ``parse_json``) is bounded as well.
    """
    nodes = 0
    size = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise MalformedValueError(f"the document has more than {limits.max_nodes} JSON values, the limit")
        if depth > limits.max_depth:
            raise MalformedValueError(f"the document nests deeper than the limit of {limits.max_depth} levels")
        if isinstance(value, (dict, list)) and nodes + len(stack) + len(value) > limits.max_nodes:
            # Checked before queueing the children, so a huge array costs nothing to refuse.
            raise MalformedValueError(f"the document has more than {limits.max_nodes} JSON values, the limit")
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise MalformedValueError(f"the document has a non-string key {k!r}")
                if not k.isascii():
                    _unicode(k, "a property name")
                size += len(k) + 4
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            size += 2
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            if not value.isascii():
                _unicode(value, "a string")
            size += len(value) + 2
        elif value is None or isinstance(value, (bool, int)):
            size += 8
        elif isinstance(value, float):
            if not math.isfinite(value):
                # 1e400 parses to infinity: a number no double holds (I-JSON, RFC 7493 §2.2),
                # which JSON cannot write back (it would come out as null, unsigned).
                raise MalformedValueError(
                    f"the document has a number that is no finite double ({value}): "
                    "I-JSON (RFC 7493 §2.2) numbers are IEEE 754 doubles"
                )
            size += 8
        else:
            raise MalformedValueError(f"the document holds a {type(value).__name__}, which is not a JSON value")
        if size > limits.max_bytes:
            raise ParsingError(f"the document is larger than the limit of {limits.max_bytes} bytes")


def _count(value: Any) -> int:
    if value is None:
        return 0
    return len(value) if isinstance(value, list) else 1


def check_credential_bounds(vc: Any, *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Shape bounds plus the number of proofs of a credential."""
    check_shape(vc, limits=limits)
    if isinstance(vc, dict) and _count(vc.get("proof")) > limits.max_proofs:
        raise MalformedValueError(
            f"the document carries {_count(vc.get('proof'))} proofs, more than the limit of {limits.max_proofs}"
        )


def check_presentation_bounds(vp: Any, *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Shape bounds plus the number of proofs and of embedded credentials (and their proofs)."""
    check_credential_bounds(vp, limits=limits)
    if not isinstance(vp, dict):
        return
    creds = vp.get("verifiableCredential")
    n = _count(creds)
    if n > limits.max_credentials:
        raise MalformedValueError(
            f"the presentation holds {n} credentials, more than the limit of {limits.max_credentials}"
        )
    for i, c in enumerate(creds if isinstance(creds, list) else [creds] if creds is not None else []):
        if isinstance(c, dict) and _count(c.get("proof")) > limits.max_proofs:
            raise MalformedValueError(
                f"credential {i} carries {_count(c.get('proof'))} proofs, more than the limit of {limits.max_proofs}"
            )

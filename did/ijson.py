"""I-JSON's rule on member names (RFC 7493 §2.3), in the lowest layer so that every JSON the
node reads, whether a request, a file or a fetched DID document or status list, is held to it."""

from __future__ import annotations

import json
from typing import Any


class DuplicateMemberError(ValueError):
    """A JSON object names the same member twice. I-JSON (RFC 7493 §2.3): "Objects in I-JSON
    messages MUST NOT have members with duplicate names", and JCS (RFC 8785), eddsa-jcs-2022's
    transformation, is defined on I-JSON. Parsers disagree on which value wins (Python and
    JavaScript keep the last, many others the first), so a signature over one value could be
    shown with the other."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the member {name!r} appears twice in one object; I-JSON (RFC 7493 §2.3) forbids duplicate "
            "member names, which parsers read differently (first or last value)"
        )


def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads``: the object, or ``DuplicateMemberError`` naming
    the first member seen twice. Every JSON entry point for documents parses with it
    (``loads``, ``parse_json``, the node's request bodies and files)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise DuplicateMemberError(name)
            seen.add(name)
    return obj


def refuse_constant(name: str) -> Any:
    """``parse_constant`` for ``json.loads``: Python reads NaN, Infinity and -Infinity, which RFC
    8259 §6 does not have and no JSON peer can read back."""
    raise ValueError(f"{name} is not a JSON value (RFC 8259 §6)")


def loads_strict(text: bytes | str, **kw: Any) -> Any:
    """``json.loads`` as every JSON the node reads is read: a member named twice is
    ``DuplicateMemberError``, NaN and Infinity a ``ValueError`` (``kw`` as json.loads's)."""
    return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=unique_members, **kw)

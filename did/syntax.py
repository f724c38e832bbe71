"""DID and DID URL syntax (DID Core 1.0 §3.1 and §3.2, ABNF with RFC 3986 path/query/fragment).

    did                = "did:" method-name ":" method-specific-id
    method-name        = 1*method-char            ; method-char = %x61-7A / DIGIT
    method-specific-id = *( *idchar ":" ) 1*idchar ; idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
    did-url            = did path-abempty [ "?" query ] [ "#" fragment ]

Errors name the offending part and position, because a person reading "invalidDid" alone
cannot tell a typo in the method from a stray character in the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from did.errors import InvalidDID, InvalidDIDURL

_METHOD_CHAR = re.compile(r"[a-z0-9]")
_IDCHAR = re.compile(r"[A-Za-z0-9._-]")
_HEX = "0123456789abcdefABCDEF"
# Fast path: the whole ABNF as one expression; the character walk below only runs to explain a failure.
_DID_RE = re.compile(r"did:[a-z0-9]+:(?:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
# RFC 3986 pchar minus pct-encoded (checked separately): unreserved / sub-delims / ":" / "@"
_PCHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@")
_QUERY_OR_FRAGMENT = _PCHAR | frozenset("/?")

# DID Core sets no maximum length, but every DID reaches us from untrusted input (a proof's
# verificationMethod, an issuer) and some later steps grow faster than linearly with it
# (base58 decoding of a did:key is quadratic: 400,000 characters held a worker for ~7 s).
# The bounds are far above any real identifier: a did:key is at most 730 characters (an
# RSA-4096 key), a did:web's host at most 253, and URLs past ~2,000 characters are already
# refused by much of the web's infrastructure. A DID URL may add a path, query and fragment.
MAX_DID_LENGTH = 2048
MAX_DID_URL_LENGTH = 4096


@dataclass(frozen=True)
class DIDURL:
    """A parsed DID URL. ``path`` is "" when absent; ``query``/``fragment`` are None when absent
    (and "" when present but empty, e.g. ``did:ex:a#``)."""

    method: str
    msid: str
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    @property
    def did(self) -> str:
        return f"did:{self.method}:{self.msid}"

    @property
    def is_bare_did(self) -> bool:
        return not self.path and self.query is None and self.fragment is None

    def __str__(self) -> str:
        out = self.did + self.path
        if self.query is not None:
            out += "?" + self.query
        if self.fragment is not None:
            out += "#" + self.fragment
        return out


@dataclass(frozen=True)
class DID(DIDURL):
    """A DID: a DID URL with no path, query or fragment."""


def _check_pct(s: str, i: int, error: type, what: str, whole: str) -> None:
    triple = s[i : i + 3]
    if len(triple) < 3 or triple[1] not in _HEX or triple[2] not in _HEX:
        raise error(f"{what} of {whole!r} has an invalid percent-encoding {triple!r} (at its position {i})")


def _parse_did_part(s: str, error: type) -> tuple[str, str]:
    """Split and check ``did:method:msid``; ``s`` holds the DID only (no path/query/fragment)."""
    if _DID_RE.fullmatch(s):
        method, _, msid = s[4:].partition(":")
        return method, msid
    if not s.startswith("did:"):
        raise error(f"{s!r} does not start with 'did:'")
    rest = s[4:]
    method, sep, msid = rest.partition(":")
    if not sep:
        raise error(f"{s!r} has no method-specific identifier (expected did:<method>:<id>)")
    if not method:
        raise error(f"{s!r} has an empty method name")
    for ch in method:
        if not _METHOD_CHAR.fullmatch(ch):
            raise error(f"method name {method!r} may hold only lowercase letters and digits, found {ch!r}")
    if not msid:
        raise error(f"{s!r} has an empty method-specific identifier")
    if msid.endswith(":"):
        raise error(f"method-specific identifier {msid!r} must not end with ':'")
    i = 0
    while i < len(msid):
        ch = msid[i]
        if ch == "%":
            _check_pct(msid, i, error, "method-specific identifier", s)
            i += 3
            continue
        if ch != ":" and not _IDCHAR.fullmatch(ch):
            raise error(
                f"method-specific identifier of {s!r} has the character {ch!r} at position {i},"
                " not allowed in a DID (only letters, digits, '.', '-', '_', ':' and %XX)"
            )
        i += 1
    return method, msid


def _check_component(value: str, allowed: frozenset[str], what: str, whole: str) -> None:
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "%":
            _check_pct(value, i, InvalidDIDURL, what, whole)
            i += 3
            continue
        if ch not in allowed:
            raise InvalidDIDURL(f"{what} of DID URL {whole!r} has the character {ch!r}, not allowed by RFC 3986")
        i += 1


def parse_did(s: str) -> DID:
    """Parse a DID (DID Core §3.1); raise ``InvalidDID`` with the reason."""
    if not isinstance(s, str):
        raise InvalidDID(f"a DID is a string, got {type(s).__name__}")
    if len(s) > MAX_DID_LENGTH:
        # s[:40], not s: the error text must not carry the over-long value it refuses
        raise InvalidDID(f"a DID is at most {MAX_DID_LENGTH} characters; {s[:40]!r}... has {len(s)}")
    for ch in "/?#":
        if ch in s:
            raise InvalidDID(f"{s!r} is a DID URL (it contains {ch!r}), not a DID")
    method, msid = _parse_did_part(s, InvalidDID)
    return DID(method=method, msid=msid)


def parse_did_url(s: str) -> DIDURL:
    """Parse a DID URL (DID Core §3.2); raise ``InvalidDIDURL`` with the reason.

    A plain DID is a valid DID URL; the result is then a ``DIDURL`` with ``is_bare_did`` true.
    """
    if not isinstance(s, str):
        raise InvalidDIDURL(f"a DID URL is a string, got {type(s).__name__}")
    if len(s) > MAX_DID_URL_LENGTH:
        raise InvalidDIDURL(f"a DID URL is at most {MAX_DID_URL_LENGTH} characters; {s[:40]!r}... has {len(s)}")
    rest, hash_sep, fragment = s.partition("#")
    rest, q_sep, query = rest.partition("?")
    did_part, slash, path_tail = rest.partition("/")
    path = slash + path_tail
    method, msid = _parse_did_part(did_part, InvalidDIDURL)
    _check_component(path, _PCHAR | {"/"}, "path", s)
    if q_sep:
        _check_component(query, _QUERY_OR_FRAGMENT, "query", s)
    if hash_sep:
        _check_component(fragment, _QUERY_OR_FRAGMENT, "fragment", s)
    return DIDURL(
        method=method,
        msid=msid,
        path=path,
        query=query if q_sep else None,
        fragment=fragment if hash_sep else None,
    )


def absolute_did_url(ref: str, base_did: str) -> str:
    """Resolve a reference found in a DID document against the document's DID.

    DID Core §3.2.2 relative DID URLs: ``#key-1``, ``?q``, ``/path`` are relative to the DID;
    anything with a scheme is already absolute.
    """
    if ref.startswith(("#", "?", "/")):
        return base_did + ref
    return ref

"""Comparing URLs as one resource: RFC 3986 §6.2.2 (syntax-based) and §6.2.3 (scheme-based)
normalization.

Status entries and lists name each other by URL (Bitstring Status List 1.0 §2.1 ``id`` "MUST NOT
be the URL for the status list"; §2.2 the list's ``id`` "matches" the entry's
``statusListCredential``), and the node recognises its own lists by theirs: each comparison is
of the normalized spelling, so ``HTTPS://Issuer.Example:443/status/1`` is
``https://issuer.example/status/1``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


_UNRESERVED_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _decode_unreserved(match: "re.Match[str]") -> str:
    char = chr(int(match.group(1), 16))
    return char if char.isascii() and (char.isalnum() or char in "-._~") else match.group(0).upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, for an absolute path."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if segment == ".":
            if i == len(segments) - 1:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out)


def normalize_origin(url: str) -> tuple[str, str]:
    """``url``'s scheme and authority as comparisons spell them (RFC 3986 §6.2.2.1, §6.2.3):
    lower case, an IPv6 host in brackets, the scheme's default port left out, no user or
    password. ValueError when the URL does not parse (a port out of range, say)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return scheme, host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


def normalize_url(url: str) -> str:
    """The spelling of ``url`` that comparisons use: scheme and host in lower case, the scheme's
    default port left out (RFC 3986 §6.2.2.1, §6.2.3), percent-encoded unreserved characters
    decoded and dot segments removed from the path (§6.2.2.2, §6.2.2.3: ``/%73tatus/./x`` is
    ``/status/x``), the rest as given. A user and password are left out too: they are no part
    of which resource the URL names. ValueError when the URL does not parse (a port out of
    range, say)."""
    parts = urlsplit(url)
    scheme, authority = normalize_origin(url)
    path = _remove_dot_segments(_UNRESERVED_ESCAPE.sub(_decode_unreserved, parts.path))
    out = f"{scheme}://{authority}{path}" if parts.netloc or authority else f"{scheme}:{path}"
    if parts.query:
        out += f"?{parts.query}"
    if parts.fragment:
        out += f"#{parts.fragment}"
    return out


def same_url(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are one URL once normalized (``normalize_url``); False for
    anything that is not a URL string."""
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    if a == b:
        return True
    try:
        return normalize_url(a) == normalize_url(b)
    except ValueError:
        return False

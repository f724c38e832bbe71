"""Entity tags for what the node serves (RFC 9110 §8.8.3): made here once, for the routes that
compare them (node.routes.preconditions) and the capability that stores a status list's."""

from __future__ import annotations

import hashlib


def strong_etag(body: bytes) -> str:
    """A strong validator of exactly these bytes: a quoted prefix of their SHA-256."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

"""The OAuth-style refusals of the OpenID4VCI endpoints.

OpenID4VCI 1.0 answers its token, credential and notification endpoints' errors as OAuth does
(RFC 6749 §5.2, RFC 6750 §3): a JSON body ``{error, error_description}`` with one of the
specifications' codes, not problem+json. ``OAuthError`` carries that code, the description, the
HTTP status and, for the resource endpoints, the ``WWW-Authenticate`` challenge; the routes
turn it into the response (``node.routes.oid4vci``).
"""

from __future__ import annotations

import re
from typing import Any

# error_description: "%x20-21 / %x23-5B / %x5D-7E" (RFC 6749 §5.2, OpenID4VCI §8.3.1.2): no
# quote, no backslash, ASCII only.
_NOT_ALLOWED = re.compile(r'[^\x20-\x21\x23-\x5b\x5d-\x7e]')
# The messages cite the specification by section ("§8.2"); the sign has no ASCII form, so it is
# spelt out rather than replaced by a quote ("('8.2)").
_SPELT = {"§": "section ", "—": "-", "–": "-", "…": "...", "→": "->", "≤": "<=", "≥": ">="}


def _ascii(description: str) -> str:
    for sign, text in _SPELT.items():
        description = description.replace(sign, text)
    return _NOT_ALLOWED.sub("'", description.replace('"', "'"))


class OAuthError(Exception):
    """One refusal: ``error`` is the specification's code (``invalid_grant``, ``invalid_proof`` ...)."""

    def __init__(self, error: str, description: str, *, status: int = 400, bearer: bool = False, bare: bool = False) -> None:
        self.error = error
        self.description = _ascii(description)[:500]
        super().__init__(f"{error}: {self.description}")
        self.status = status
        self.bearer = bearer  # a resource endpoint's token refusal: says so in WWW-Authenticate
        # RFC 6750 §3.1: a request with no authentication (or with a scheme this issuer does
        # not use) gets the bare challenge, no error code in it.
        self.bare = bare

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        out = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if self.bearer:
            out["WWW-Authenticate"] = "Bearer" if self.bare else f'Bearer error="{self.error}", error_description="{self.description}"'
        return out


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_token(description: str, *, bare: bool = False) -> OAuthError:
    return OAuthError("invalid_token", description, status=401, bearer=True, bare=bare)


def invalid_proof(description: str) -> OAuthError:
    return OAuthError("invalid_proof", description)


def invalid_nonce(description: str) -> OAuthError:
    return OAuthError("invalid_nonce", description)


def invalid_credential_request(description: str) -> OAuthError:
    return OAuthError("invalid_credential_request", description)

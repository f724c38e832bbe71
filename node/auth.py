"""Bearer-token authorization for the endpoints that change things (issue, status).

RFC 6750 shapes the refusals: no usable token is a 401 with a ``WWW-Authenticate: Bearer``
challenge (``error="invalid_token"`` when a token was sent but is not one the node knows), a
known token that may not do this is a 403 with ``error="insufficient_scope"``. Either way the
problem body says exactly why and what to do.

Rules: ``admin`` grants every scope for every issuer. Any other token grants its scopes; a token
bound to an issuer acts for that issuer only, an unbound one for every issuer on the node.
The node stores only token hashes; looking a presented token up is ``node.tokens``' job
(``TokenVerifier``), this module only decides.

Nothing of the ``Authorization`` header is ever echoed: not in a problem body, not in
``WWW-Authenticate``, not in a log line. A token sent without ``Bearer `` would otherwise come
back as the "scheme" the header named, to anyone who can read the response or the logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from node.problems import HTTPProblem

SCOPES = ("issue", "status", "admin")
ADMIN = "admin"
REALM = "vcnode"


@dataclass(frozen=True)
class Grant:
    """What a presented token may do."""

    token_id: str
    scopes: frozenset[str]
    issuer: str | None  # None: not bound to one issuer

    def allows(self, scope: str, issuer: str) -> bool:
        if ADMIN in self.scopes:
            return True
        return scope in self.scopes and (self.issuer is None or self.issuer == issuer)


@dataclass(frozen=True)
class Rejection:
    """A token the node knows but will not honour (expired), and why: the 401's detail."""

    reason: str


class TokenVerifier(Protocol):
    async def __call__(self, token: str) -> Grant | Rejection | None:
        """The grant of a live token, a ``Rejection`` for an expired one, ``None`` for an unknown
        or revoked one."""
        ...


VERIFIER_KEY = web.AppKey("vcnode.token_verifier", TokenVerifier)


def _challenge(error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        # RFC 6750 §3: error_description is restricted to printable ASCII without quotes or backslash.
        safe = "".join(c for c in description if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
        parts.append(f'error_description="{safe}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


def unauthorized(detail: str, *, error: str | None = None) -> HTTPProblem:
    return HTTPProblem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": _challenge(error, detail if error else None)},
    )


def forbidden(detail: str, *, scope: str) -> HTTPProblem:
    return HTTPProblem(
        403,
        "forbidden",
        "Not allowed",
        detail,
        headers={"WWW-Authenticate": _challenge("insufficient_scope", detail, scope)},
        requiredScope=scope,
    )


def bearer_token(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or a 401 saying what is wrong with it."""
    header = request.headers.get("Authorization")
    if header is None:
        raise unauthorized("this endpoint needs an API token: send Authorization: Bearer TOKEN (vcnode token create)")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        # Never name what was sent: a bare token in this header would be its "scheme".
        raise unauthorized(
            "the Authorization header does not use the Bearer scheme; send Authorization: Bearer TOKEN",
            error="invalid_request",
        )
    token = token.strip()
    if not token or " " in token:
        raise unauthorized("the Authorization header carries no single token after 'Bearer'", error="invalid_request")
    return token


async def authenticate(request: web.Request) -> Grant:
    """The grant of the request's bearer token; a 401 when there is none or the node does not know it."""
    token = bearer_token(request)
    grant = await request.app[VERIFIER_KEY](token)
    if grant is None:
        raise unauthorized("the API token is not valid: it is unknown to this node or was revoked", error="invalid_token")
    if isinstance(grant, Rejection):
        raise unauthorized(grant.reason, error="invalid_token")
    return grant


def require_scope(grant: Grant, scope: str) -> None:
    """A 403 naming the scope when the token may not use it for any issuer."""
    if ADMIN in grant.scopes or scope in grant.scopes:
        return
    have = ", ".join(sorted(grant.scopes)) or "none"
    raise forbidden(f"the API token lacks the {scope!r} scope (it has: {have}); use a token with {scope!r} or admin", scope=scope)


def require(grant: Grant, *, scope: str, issuer: str) -> None:
    """A 403 unless ``grant`` may use ``scope`` for ``issuer``, saying which of the two is missing."""
    require_scope(grant, scope)
    if not grant.allows(scope, issuer):
        raise forbidden(
            f"the API token is bound to issuer {grant.issuer!r} and cannot act for issuer {issuer!r}",
            scope=scope,
        )


async def authorize(request: web.Request, *, scope: str, issuer: str) -> Grant:
    """The grant of the request's token if it may use ``scope`` for ``issuer``; 401/403 otherwise."""
    grant = await authenticate(request)
    require(grant, scope=scope, issuer=issuer)
    return grant


def setup(app: web.Application, verifier: TokenVerifier) -> None:
    app[VERIFIER_KEY] = verifier

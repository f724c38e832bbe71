"""The documents a wallet reads before it asks for anything: the Credential Issuer Metadata
(OpenID4VCI 1.0 §12.2) with one credential configuration per achievement (format ``ldp_vc``,
Appendix A.1.2), and the OAuth Authorization Server Metadata (RFC 8414; OpenID4VCI §12.3)
naming the token endpoint. Pure functions of the issuer's URLs and achievements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from did.http import host_port_allowed
from node.achievements import StoredAchievement
from node.oid4vci.proofs import ALGORITHMS, BINDING_METHODS
from vc.edu.model import CONTEXT

JsonObject = dict[str, Any]

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP_VC = "ldp_vc"
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
# ldp_vc: "signature suite identifiers" (Appendix A.1.2.2); the node signs micro-credentials
# with eddsa-rdfc-2022 (node.issuance).
SIGNING_SUITES = ("eddsa-rdfc-2022",)
WELL_KNOWN_ISSUER = "/.well-known/openid-credential-issuer"
WELL_KNOWN_AS = "/.well-known/oauth-authorization-server"


@dataclass(frozen=True)
class IssuerURLs:
    """Where one issuer's OpenID4VCI endpoints are. ``identifier`` is the Credential Issuer
    Identifier: the node's base URL for the default issuer, ``BASE/issuers/NAME`` for the others,
    as the issuer's did:web is ``did:web:HOST`` or ``did:web:HOST:issuers:NAME``."""

    identifier: str
    token: str
    nonce: str
    credential: str
    notification: str

    @classmethod
    def of(cls, base_url: str, name: str, *, default: bool) -> "IssuerURLs":
        endpoints = f"{base_url}/issuers/{name}/oid4vci"
        return cls(
            identifier=base_url if default else f"{base_url}/issuers/{name}",
            token=f"{endpoints}/token",
            nonce=f"{endpoints}/nonce",
            credential=f"{endpoints}/credential",
            notification=f"{endpoints}/notification",
        )


# Plain HTTP is for development on one machine: the hosts a fresh node is named after
# (http://localhost:PORT) or reached at, as the did:web resolver's tests do; any other host
# must be named in allow_insecure_hosts, as for every plain-HTTP fetch of the node.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def identifier_problem(identifier: str, allow_insecure_hosts: Iterable[str] = ()) -> str | None:
    """Why wallets cannot take offers from this Credential Issuer Identifier, or None: §12.2.1,
    "A Credential Issuer is identified by a case sensitive URL using the https scheme"."""
    parts = urlsplit(identifier)
    if parts.scheme == "https":
        return None
    host = (parts.hostname or "").lower()
    authority = f"[{host}]:{parts.port or 80}" if ":" in host else f"{host}:{parts.port or 80}"
    if parts.scheme == "http" and (host in LOCAL_HOSTS or host_port_allowed(host, parts.port or 80, allow_insecure_hosts)):
        return None
    return (
        f"the Credential Issuer Identifier {identifier} is not an https URL, and OpenID4VCI 1.0 §12.2.1 says a Credential "
        'Issuer is "identified by a case sensitive URL using the https scheme": wallets refuse such an offer. Set the '
        "node's base URL to the https URL wallets reach it by (behind your TLS proxy, or with tls_cert/tls_key); plain "
        f"http is for development only, on localhost or a host:port named in allow_insecure_hosts ({authority})"
    )


def credential_configuration(achievement: StoredAchievement) -> JsonObject:
    """One ``credential_configurations_supported`` entry: a micro-credential of this achievement."""
    definition = achievement.definition
    display: JsonObject = {"name": definition.title, "description": definition.description}
    if definition.language:
        display["locale"] = definition.language
    return {
        "format": LDP_VC,
        "cryptographic_binding_methods_supported": list(BINDING_METHODS),
        "credential_signing_alg_values_supported": list(SIGNING_SUITES),
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(ALGORITHMS)}},
        "credential_definition": {"@context": list(CONTEXT), "type": list(CREDENTIAL_TYPES)},
        "credential_metadata": {
            "display": [display],
            "claims": [
                {"path": ["credentialSubject", "achievement", "name"], "display": [{"name": "Achievement"}]},
                {"path": ["credentialSubject", "identifier"], "display": [{"name": "Learner"}]},
                {"path": ["issuer", "name"], "display": [{"name": "Awarding body"}]},
                {"path": ["validFrom"], "display": [{"name": "Awarded on"}]},
            ],
        },
    }


def issuer_metadata(urls: IssuerURLs, issuer_name: str, achievements: Sequence[StoredAchievement]) -> JsonObject:
    """The Credential Issuer Metadata (§12.2.4). The issuer is its own authorization server, so
    ``authorization_servers`` is left out (the wallet then reads the issuer's RFC 8414 document)."""
    bodies = {a.awarding_body.name for a in achievements if a.awarding_body.name}
    return {
        "credential_issuer": urls.identifier,
        "credential_endpoint": urls.credential,
        "nonce_endpoint": urls.nonce,
        "notification_endpoint": urls.notification,
        "display": [{"name": bodies.pop() if len(bodies) == 1 else issuer_name}],
        "credential_configurations_supported": {a.slug: credential_configuration(a) for a in achievements},
    }


def authorization_server_metadata(urls: IssuerURLs) -> JsonObject:
    """RFC 8414 metadata of the issuer as its own authorization server: the pre-authorized code
    grant only, anonymous (no client authentication), no authorization endpoint (OpenID4VCI
    §12.3 lets a pre-authorized-only server leave out ``response_types_supported``)."""
    return {
        "issuer": urls.identifier,
        "token_endpoint": urls.token,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }

"""The wallet's key proof: OpenID4VCI 1.0 §8.2.1.1 (``jwt`` proof type) and Appendix F.4
(verifying a key proof), checked with joserfc.

A proof names its key by ``kid`` (a did:key or did:jwk DID URL) or carries it as ``jwk``; the
credential is bound to that key's DID (``credentialSubject.id``): the ``kid``'s DID, or for a
``jwk`` header the did:jwk of that key, which is the same key under the DID method made for
exactly this. did:key Ed25519 keys are resolved by the node's own resolver (``did.key``);
did:key P-256 keys (multicodec ``p256-pub``, a compressed point) and did:jwk keys are read
here. Nothing here touches the store: the nonce the proof carries is returned for the caller
to consume.
"""

from __future__ import annotations

import base64
import json
import math
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey
from joserfc.util import urlsafe_b64decode

from did.errors import DIDError
from did.multikey import b58decode
from did.resolver import Resolver
from did.syntax import parse_did_url
from node.oid4vci.errors import invalid_proof
from vc.errors import ProblemError
from vc.limits import Limits, parse_json

# The algorithms the node offers (proof_signing_alg_values_supported): Ed25519 keys sign EdDSA
# or, by RFC 9864's fully-specified name, Ed25519; P-256 keys ES256. The key type each needs, so a
# key of one type cannot sign as the other.
ALGORITHMS: Mapping[str, tuple[str, str]] = {"EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}
PROOF_TYPE = "openid4vci-proof+jwt"
BINDING_METHODS = ("did:key", "did:jwk")
MAX_PROOF_BYTES = 16 * 1024
# A key proof's header and payload are a handful of flat members (a jwk header nests two deep).
_PROOF_LIMITS = Limits(max_bytes=MAX_PROOF_BYTES, max_depth=16, max_nodes=1000)
# Multicodec codes of did:key's public keys (varint-encoded before the key bytes).
_ED25519_PUB, _P256_PUB = 0xED, 0x1200

# RFC 9864 names fully-specified successors of "EdDSA"; joserfc warns on every use of it. The
# node still offers "EdDSA" on purpose: the wallets in use sign with it.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


@dataclass(frozen=True)
class KeyProof:
    """A verified key proof: the DID the credential is bound to, the nonce it carries, its algorithm."""

    holder: str
    nonce: str | None
    algorithm: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def did_jwk(jwk: Mapping[str, Any]) -> str:
    """The did:jwk of a public JWK: its required members only, in the RFC 7638 order."""
    members = ("crv", "kty", "x") if jwk.get("kty") == "OKP" else ("crv", "kty", "x", "y")
    public = {k: jwk[k] for k in members}
    return "did:jwk:" + _b64url(json.dumps(public, separators=(",", ":")).encode())


def _public_jwk(jwk: Any, alg: str, where: str) -> dict[str, Any]:
    """A public JWK for ``alg``'s key type, or ``invalid_proof`` saying what is wrong."""
    if not isinstance(jwk, dict):
        raise invalid_proof(f"{where} must be a JWK object")
    if "d" in jwk or any(k in jwk for k in ("p", "q", "k")):
        raise invalid_proof(f"{where} contains a private key")
    kty, crv = ALGORITHMS[alg]
    if jwk.get("kty") != kty or jwk.get("crv") != crv:
        raise invalid_proof(f"a proof signed with {alg} needs a {crv} key, but {where} is {jwk.get('kty')}/{jwk.get('crv')}")
    members = ("x",) if kty == "OKP" else ("x", "y")
    if not all(isinstance(jwk.get(m), str) for m in members):
        raise invalid_proof(f"{where} lacks its public key ({', '.join(members)})")
    return {"kty": kty, "crv": crv, **{m: jwk[m] for m in members}}


def _read_varint(data: bytes) -> tuple[int, int]:
    value = shift = 0
    for i, byte in enumerate(data[:3]):
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i + 1
        shift += 7
    raise ValueError("bad multicodec prefix")


async def _did_key_jwk(kid: str, did: str, msid: str, fragment: str | None, resolver: Resolver) -> dict[str, Any]:
    if fragment is not None and fragment != msid:
        raise invalid_proof(f"kid {kid!r} names no key of {did}: its key is #{msid}")
    try:
        if not msid.startswith("z"):
            raise ValueError("not base58btc")
        raw = b58decode(msid[1:])
        codec, size = _read_varint(raw)
    except ValueError:
        raise invalid_proof(f"{did} is not a valid did:key") from None
    if codec == _ED25519_PUB:
        try:
            method = await resolver.resolve_verification_method(kid)
        except DIDError as e:
            raise invalid_proof(f"kid {kid!r} does not resolve: {e}") from None
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(method.public_key)}
    if codec == _P256_PUB:
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            numbers = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[size:]).public_numbers()
        except ValueError:
            raise invalid_proof(f"{did} does not encode a P-256 public key") from None
        return {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")), "y": _b64url(numbers.y.to_bytes(32, "big"))}
    raise invalid_proof(f"{did} is a key of a type this issuer does not accept (Ed25519 or P-256)")


async def _key_for(header: Mapping[str, Any], alg: str, resolver: Resolver) -> tuple[dict[str, Any], str]:
    """The public JWK the header names and the DID to bind the credential to."""
    if "x5c" in header or ("trust_chain" in header and "kid" not in header):
        raise invalid_proof("name the key by kid (a did:key or did:jwk DID URL) or jwk; x5c is not accepted here")
    if ("kid" in header) == ("jwk" in header):
        raise invalid_proof("the proof's header must name its key by exactly one of kid or jwk")
    if "jwk" in header:
        jwk = _public_jwk(header["jwk"], alg, "the jwk header")
        return jwk, did_jwk(jwk)
    kid = header["kid"]
    try:
        parsed = parse_did_url(kid) if isinstance(kid, str) else None
    except DIDError:
        parsed = None
    if parsed is None or parsed.path or parsed.query is not None:
        raise invalid_proof(f"kid must be a did:key or did:jwk DID URL naming the wallet's key, not {kid!r}")
    did = parsed.did
    if parsed.method == "key":
        jwk = await _did_key_jwk(kid, did, parsed.msid, parsed.fragment, resolver)
    elif parsed.method == "jwk":
        # did:jwk §2.3: the document's one verification method is #0.
        if parsed.fragment not in (None, "0"):
            raise invalid_proof(f"kid {kid!r} names no key of its did:jwk (the key is #0)")
        try:
            decoded = parse_json(_b64url_decode(parsed.msid), limits=_PROOF_LIMITS)
        except (ValueError, ProblemError):
            raise invalid_proof(f"{did} does not hold a JWK") from None
        jwk = _public_jwk(decoded, alg, "the did:jwk key")
    else:
        raise invalid_proof(f"the credential can be bound to {' or '.join(BINDING_METHODS)}, not did:{parsed.method}")
    if jwk["kty"] != ALGORITHMS[alg][0] or jwk["crv"] != ALGORITHMS[alg][1]:
        raise invalid_proof(f"a proof signed with {alg} needs a {ALGORITHMS[alg][1]} key, but {did} holds a {jwk['crv']} key")
    return jwk, did


def _json_object(segment: str | bytes, part: str) -> dict[str, Any]:
    """The proof's header (a base64url segment) or payload (the verified bytes) as a JSON object,
    parsed with the bounds every request body has (``vc.limits``): a payload nested thousands
    deep was a RecursionError, a 500, and Python's parser takes ``NaN`` and ``Infinity``, which
    are not JSON (RFC 8259 §6) and compare false with every time, so ``"iat": NaN`` passed the
    freshness check. Either is ``invalid_proof``."""
    try:
        raw = urlsafe_b64decode(segment.encode("ascii")) if isinstance(segment, str) else segment
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        raise invalid_proof(f"the proof's {part} is not base64url") from None
    try:
        value = parse_json(raw, limits=_PROOF_LIMITS)
    except ProblemError as e:
        raise invalid_proof(f"the proof's {part} is not acceptable JSON: {e.detail}") from None
    if not isinstance(value, dict):
        raise invalid_proof(f"the proof's {part} must be a JSON object")
    return value


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519 §2: a JSON number of seconds), or None when absent;
    ``invalid_proof`` for anything else (a string, a boolean, a number no clock reaches)."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid_proof(f"the proof's {name} must be a number of seconds since the epoch (RFC 7519 NumericDate), not {value!r}")
    return float(value)


def _is_proof_type(typ: Any) -> bool:
    """RFC 7515 §4.1.9: a ``typ`` is a media type, compared without regard to case, and one
    without a '/' stands for ``application/`` + it; so ``application/openid4vci-proof+jwt`` is
    the same type."""
    if not isinstance(typ, str):
        return False
    typ = typ.lower()
    return typ.removeprefix("application/") == PROOF_TYPE if "/" in typ else typ == PROOF_TYPE


async def verify_key_proof(
    token: Any,
    *,
    audience: str,
    now: datetime,
    resolver: Resolver,
    max_age_seconds: int,
    leeway_seconds: int = 60,
) -> KeyProof:
    """Check a ``jwt`` key proof (Appendix F.4): typed ``openid4vci-proof+jwt``, an offered
    algorithm, signed by the key its header names, ``aud`` the issuer, ``iat`` fresh (no older
    than ``max_age_seconds``, no later than ``leeway_seconds`` ahead), ``exp`` and ``nbf``, when
    present, NumericDates that hold now (Appendix F.1, RFC 7519), a nonce present.
    Raises ``OAuthError`` ``invalid_proof`` naming the fault; checking the nonce is the caller's."""
    if not isinstance(token, str) or not token or len(token) > MAX_PROOF_BYTES:
        raise invalid_proof("each jwt proof must be a compact JWS string")
    segments = token.split(".")
    if len(segments) != 3:
        raise invalid_proof("the proof is not a compact JWS")
    header = _json_object(segments[0], "header")
    if not _is_proof_type(header.get("typ")):
        raise invalid_proof(f"the proof's typ must be {PROOF_TYPE!r}, not {header.get('typ')!r}")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise invalid_proof(f"the proof is signed with {alg!r}; this issuer accepts {' or '.join(ALGORITHMS)}")
    if "crit" in header:
        raise invalid_proof("the proof has critical header parameters this issuer does not understand")
    jwk, holder = await _key_for(header, alg, resolver)
    try:
        key = OKPKey.import_key(jwk) if jwk["kty"] == "OKP" else ECKey.import_key(jwk)
        verified = jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError):
        raise invalid_proof("the proof's signature does not verify with the key its header names") from None
    claims = _json_object(verified.payload, "payload")
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise invalid_proof(f"the proof is for audience {aud!r}, not this credential issuer ({audience})")
    iat = _numeric_date(claims, "iat")
    if iat is None:
        raise invalid_proof("the proof needs iat, the time it was made (seconds since the epoch)")
    moment = now.timestamp()
    if iat > moment + leeway_seconds:
        raise invalid_proof("the proof's iat is in the future")
    if iat < moment - max_age_seconds - leeway_seconds:
        raise invalid_proof(f"the proof is older than {max_age_seconds} seconds (iat); make a fresh one")
    exp = _numeric_date(claims, "exp")
    if exp is not None and exp < moment - leeway_seconds:
        raise invalid_proof("the proof has expired (exp)")
    nbf = _numeric_date(claims, "nbf")
    if nbf is not None and nbf > moment + leeway_seconds:
        raise invalid_proof("the proof is not valid yet (nbf)")
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise invalid_proof("the proof's nonce must be a string (the c_nonce from the nonce endpoint)")
    return KeyProof(holder=holder, nonce=nonce, algorithm=alg)

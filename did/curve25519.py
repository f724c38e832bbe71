"""Edwards25519 point checks and the Ed25519 -> X25519 public key map, in plain integers.

RFC 8032 §5.1.3 (decoding a point) and RFC 7748 §4.1 (the birational map u = (1 + y) / (1 - y)).
Kept here, a few lines of field arithmetic, so that did/ needs no crypto library: nacl stays
behind vc.crypto, and nothing here signs or verifies.
"""

from __future__ import annotations

from did.cache import LRU
from did.errors import InvalidPublicKey, InvalidPublicKeyLength

_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


# The check costs two modular exponentiations (~0.1 ms); a verifier sees the same few issuer
# keys again and again, so results (valid ones; errors are not cached) are remembered.
_POINTS: LRU[bytes, int] = LRU(4096)


def ed25519_point_y(public_key: bytes) -> int:
    """Decode an Ed25519 public key (RFC 8032 §5.1.3) and return y; raise unless it is a curve point."""
    key = bytes(public_key)
    y = _POINTS.get(key)
    if y is None:
        y = _point_y(key)
        _POINTS[key] = y
    return y


def _point_y(public_key: bytes) -> int:
    if len(public_key) != 32:
        raise InvalidPublicKeyLength(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    sign = public_key[31] >> 7
    if y >= _P:
        raise InvalidPublicKey("the Ed25519 public key's y coordinate is not reduced modulo p")
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    vxx = (v * x * x) % _P
    if vxx == (-u) % _P:
        x = (x * _SQRT_M1) % _P
    elif vxx != u:
        raise InvalidPublicKey("the Ed25519 public key is not a point on the curve")
    if x == 0 and sign:
        raise InvalidPublicKey("the Ed25519 public key encodes x = 0 with the sign bit set")
    return y


def check_ed25519_public_key(public_key: bytes) -> bytes:
    """Return ``public_key`` if it is a valid Ed25519 point encoding, else raise."""
    ed25519_point_y(public_key)
    return bytes(public_key)


def x25519_from_ed25519(public_key: bytes) -> bytes:
    """The X25519 public key that corresponds to an Ed25519 one (RFC 7748 §4.1)."""
    y = ed25519_point_y(public_key)
    if y == 1:
        raise InvalidPublicKey("the Ed25519 public key is the identity point")
    u = ((1 + y) * pow((1 - y) % _P, _P - 2, _P)) % _P
    return u.to_bytes(32, "little")

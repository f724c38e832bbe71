"""Multikey encodings of Ed25519 keys (Controlled Identifiers 1.0 §2.2.2, multicodec table),
and the project's one base58btc / multibase codec.

A public key is multibase base58btc (``z``) of varint(0xed) ``0xed01`` + 32 bytes; a secret
key is ``z`` of varint(0x1300) ``0x8026`` + the 32-byte seed. Some tools write the 64-byte
seed+public form after ``0x8026``: decoding accepts both and returns the seed.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Callable

from did.errors import InvalidPublicKey, InvalidPublicKeyLength, UnsupportedPublicKeyType

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"

# --- base58btc (the Bitcoin alphabet) ------------------------------------------------------------
# The same bytes and errors as the ``base58`` package (tests/did/test_base58.py holds them
# together), about three times faster: a verify decodes a proofValue and a key, and the package's
# per-character loop over an ever-growing integer cost ~20 us a call. Here the characters become
# digit values in C (bytes.translate) and are folded eight at a time, so the big integer is
# multiplied 11 times for a signature instead of 88.

BASE58_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_TO_DIGITS = bytes.maketrans(BASE58_ALPHABET, bytes(range(58)))
_PAIRS = [chr(a) + chr(b) for a in BASE58_ALPHABET for b in BASE58_ALPHABET]
_58_POW_8 = 58**8


def b58decode(value: str | bytes) -> bytes:
    """base58btc text to bytes (each leading '1' is a zero byte). As with the ``base58`` package,
    trailing whitespace is ignored, and a character outside the alphabet raises ``ValueError``
    ("Invalid character 'x'"), non-ASCII text a ``UnicodeEncodeError`` (a ValueError)."""
    value = value.rstrip()
    data = value.encode("ascii") if isinstance(value, str) else bytes(value)
    body = data.lstrip(b"1")
    bad = body.translate(None, BASE58_ALPHABET)
    if bad:
        raise ValueError(f"Invalid character {chr(bad[0])!r}")
    digits = body.translate(_TO_DIGITS)
    head = len(digits) % 8
    n = 0
    for d in digits[:head]:
        n = n * 58 + d
    for a, b, c, d, e, f, g, h in zip(*[iter(digits[head:])] * 8):
        n = n * _58_POW_8 + ((((((a * 58 + b) * 58 + c) * 58 + d) * 58 + e) * 58 + f) * 58 + g) * 58 + h
    return b"\0" * (len(data) - len(body)) + n.to_bytes((n.bit_length() + 7) // 8, "big")


def b58encode(data: bytes) -> str:
    """Bytes to base58btc text (each leading zero byte is a '1'), as the ``base58`` package writes it."""
    body = bytes(data).lstrip(b"\0")
    n = int.from_bytes(body, "big")
    out = []
    while n:
        n, r = divmod(n, 3364)  # 58 ** 2: two characters a step
        out.append(_PAIRS[r])
    return "1" * (len(data) - len(body)) + "".join(reversed(out)).lstrip("1")


# --- multibase (Controlled Identifiers 1.0 §2.4) ---------------------------------------------------
# ``u`` (base64url, no padding) and ``z`` (base58btc) are the two headers the specification
# defines; "other Multibase encoding values MAY be used". Also read: the other RFC 4648 encodings
# of the multibase table (base16, base32, base64, padded or not), each held to its own alphabet.
# Nothing else (base36, base58flickr, proquint, ...): refused by name.


def _pad(text: str, block: int) -> str:
    return text + "=" * (-len(text) % block)


_MULTIBASE: dict[str, tuple[str, re.Pattern[str], Callable[[str], bytes]]] = {
    "z": ("base58btc", re.compile(r"[1-9A-HJ-NP-Za-km-z]*"), b58decode),
    "u": ("base64url", re.compile(r"[A-Za-z0-9_-]*"), lambda t: base64.urlsafe_b64decode(_pad(t, 4))),
    "U": ("base64urlpad", re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?"),
          base64.urlsafe_b64decode),
    "m": ("base64", re.compile(r"[A-Za-z0-9+/]*"), lambda t: base64.b64decode(_pad(t, 4), validate=True)),
    "M": ("base64pad", re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"),
          lambda t: base64.b64decode(t, validate=True)),
    "f": ("base16", re.compile(r"(?:[0-9a-f]{2})*"), bytes.fromhex),
    "F": ("base16upper", re.compile(r"(?:[0-9A-F]{2})*"), bytes.fromhex),
    "b": ("base32", re.compile(r"[a-z2-7]*"), lambda t: base64.b32decode(_pad(t.upper(), 8))),
    "B": ("base32upper", re.compile(r"[A-Z2-7]*"), lambda t: base64.b32decode(_pad(t, 8))),
    "c": ("base32pad", re.compile(r"[a-z2-7]*=*"), lambda t: base64.b32decode(t.upper())),
    "C": ("base32padupper", re.compile(r"[A-Z2-7]*=*"), base64.b32decode),
}


def decode_multibase(value: str) -> bytes:
    """The bytes of a multibase string (Controlled Identifiers 1.0 §2.4: header ``u`` or ``z``,
    or another RFC 4648 base of the multibase table). Raises ``ValueError`` naming what is wrong."""
    if not isinstance(value, str) or not value:
        raise ValueError("a multibase value is a non-empty string")
    entry = _MULTIBASE.get(value[0])
    if entry is None:
        raise ValueError(
            f"unsupported multibase header {value[0]!r} (Controlled Identifiers 1.0 §2.4 defines 'u' "
            "base64url and 'z' base58btc)"
        )
    name, alphabet, decode = entry
    body = value[1:]
    if not alphabet.fullmatch(body):
        raise ValueError(f"{value!r} is not {name}: a character is outside its alphabet, or the padding is wrong")
    try:
        return decode(body)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"{value!r} is not valid {name}: {e}") from e


# Base58 decoding is quadratic in the length, and key values come from untrusted documents, so
# nothing longer than a real key reaches b58decode. An Ed25519 public key is 'z' + 48 characters;
# the bound is the longest key the did:key specification lists (RSA-4096, 'z' + 721), rounded
# up, so a key of another type still decodes far enough to be named (unsupportedPublicKeyType).
MAX_KEY_MULTIBASE_LENGTH = 1024


def check_key_multibase_length(value: str, what: str) -> None:
    """Refuse a multibase key value too long to be any key (did:key §3.1.4 invalidPublicKeyLength)."""
    if len(value) > MAX_KEY_MULTIBASE_LENGTH:
        raise InvalidPublicKeyLength(
            f"{what} has {len(value)} characters; no public key is longer than {MAX_KEY_MULTIBASE_LENGTH}"
            " (an Ed25519 key is 'z' and 48)"
        )


def _decode_base58btc(value: str, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise InvalidPublicKey(f"{what} must be a multibase base58btc string starting with 'z'")
    check_key_multibase_length(value, what)
    try:
        return b58decode(value[1:])
    except ValueError as e:
        raise InvalidPublicKey(f"{what} is not valid base58btc: {e}") from e


def encode_ed25519_public(public_key: bytes) -> str:
    if len(public_key) != 32:
        raise InvalidPublicKeyLength(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    return "z" + b58encode(ED25519_PUB_PREFIX + public_key)


def decode_ed25519_public(value: str) -> bytes:
    # b58decode ignores trailing whitespace, as the base58 package does (proof values keep that);
    # a key is refused with it: whitespace is outside the base58btc alphabet a Multikey's value
    # is written in (Controlled Identifiers 1.0 §2.2.2), and one key would have many spellings.
    if isinstance(value, str) and value != value.rstrip():
        raise InvalidPublicKey(f"publicKeyMultibase {value[:60]!r} ends in whitespace, which base58btc has no place for")
    raw = _decode_base58btc(value, "publicKeyMultibase")
    if raw[:2] != ED25519_PUB_PREFIX:
        raise UnsupportedPublicKeyType(
            f"publicKeyMultibase has multicodec prefix 0x{raw[:2].hex()}, not Ed25519 (0xed01)"
        )
    key = raw[2:]
    if len(key) != 32:
        raise InvalidPublicKeyLength(f"an Ed25519 public key is 32 bytes, got {len(key)}")
    return key


def encode_ed25519_secret(seed: bytes) -> str:
    if len(seed) != 32:
        raise ValueError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
    return "z" + b58encode(ED25519_PRIV_PREFIX + seed)


def decode_ed25519_secret(value: str) -> bytes:
    raw = _decode_base58btc(value, "secretKeyMultibase")
    if raw[:2] != ED25519_PRIV_PREFIX:
        raise UnsupportedPublicKeyType(
            f"secretKeyMultibase has multicodec prefix 0x{raw[:2].hex()}, not Ed25519 private key (0x8026)"
        )
    body = raw[2:]
    if len(body) not in (32, 64):
        raise InvalidPublicKeyLength(f"an Ed25519 secret key is a 32-byte seed or 64 bytes seed+public, got {len(body)}")
    return body[:32]

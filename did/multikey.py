"""Multikey encodings of Ed25519 keys (Controlled Identifiers 1.0 §2.2.2, multicodec table).

A public key is multibase base58btc (``z``) of varint(0xed) ``0xed01`` + 32 bytes; a secret
key is ``z`` of varint(0x1300) ``0x8026`` + the 32-byte seed. Some tools write the 64-byte
seed+public form after ``0x8026``: decoding accepts both and returns the seed.
"""

from __future__ import annotations

import base58

from did.errors import InvalidPublicKey, InvalidPublicKeyLength, UnsupportedPublicKeyType

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


def _decode_base58btc(value: str, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise InvalidPublicKey(f"{what} must be a multibase base58btc string starting with 'z'")
    try:
        return base58.b58decode(value[1:])
    except ValueError as e:
        raise InvalidPublicKey(f"{what} is not valid base58btc: {e}") from e


def encode_ed25519_public(public_key: bytes) -> str:
    if len(public_key) != 32:
        raise InvalidPublicKeyLength(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    return "z" + base58.b58encode(ED25519_PUB_PREFIX + public_key).decode("ascii")


def decode_ed25519_public(value: str) -> bytes:
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
    return "z" + base58.b58encode(ED25519_PRIV_PREFIX + seed).decode("ascii")


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

"""Ed25519 keys and signatures, and sealing secrets at rest: the only importer of ``nacl``.

Keys are RFC 8032 Ed25519; Multikey encodings (Controlled Identifiers 1.0 §2.2.2) come from
``did.multikey``. ``verify_ed25519`` raises ``InvalidSignature`` rather than returning a bool,
so a forgotten check cannot pass silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import nacl.bindings
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from did import multikey


class InvalidSignature(Exception):
    """The signature does not verify under the public key."""


class SealError(Exception):
    """A sealed secret could not be opened (wrong passphrase or key, or tampered data)."""


@dataclass(frozen=True)
class Ed25519KeyPair:
    seed: bytes  # the 32-byte RFC 8032 private key (seed)
    public_key: bytes  # 32 bytes
    _secret: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # libsodium's 64-byte secret key (seed, then public key), derived once: signing with
        # it skips re-deriving the key pair from the seed on every signature (~15 µs of ~30).
        # Derived here, not taken on trust: an Ed25519 signature made with a public key that is
        # not the seed's can leak the seed.
        public, secret = nacl.bindings.crypto_sign_seed_keypair(bytes(self.seed))
        if public != self.public_key:
            raise ValueError("the public key is not the seed's")
        object.__setattr__(self, "_secret", secret)

    def __repr__(self) -> str:  # never print the secret
        return f"Ed25519KeyPair(public={self.public_multibase})"

    @classmethod
    def generate(cls) -> "Ed25519KeyPair":
        return cls.from_seed(nacl.utils.random(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> "Ed25519KeyPair":
        if len(seed) != 32:
            raise ValueError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
        public, _ = nacl.bindings.crypto_sign_seed_keypair(bytes(seed))
        return cls(seed=bytes(seed), public_key=public)

    @classmethod
    def from_multikey(cls, key: Mapping[str, Any]) -> "Ed25519KeyPair":
        """From a Multikey JSON object with ``secretKeyMultibase`` (seed, or seed+public).

        The vc-di-eddsa test vectors name the same value ``privateKeyMultibase``; both are read.
        """
        secret = key.get("secretKeyMultibase", key.get("privateKeyMultibase"))
        if not isinstance(secret, str):
            raise ValueError("the key has no secretKeyMultibase")
        pair = cls.from_seed(multikey.decode_ed25519_secret(secret))
        public = key.get("publicKeyMultibase")
        if public is not None and multikey.decode_ed25519_public(public) != pair.public_key:
            raise ValueError("publicKeyMultibase does not match secretKeyMultibase")
        return pair

    @property
    def public_multibase(self) -> str:
        return multikey.encode_ed25519_public(self.public_key)

    @property
    def secret_multibase(self) -> str:
        return multikey.encode_ed25519_secret(self.seed)

    def sign(self, data: bytes) -> bytes:
        return nacl.bindings.crypto_sign(data, self._secret)[: nacl.bindings.crypto_sign_BYTES]


def verify_ed25519(public_key: bytes, data: bytes, signature: bytes) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` is a valid Ed25519 signature of ``data``."""
    if len(public_key) != 32 or len(signature) != 64:
        raise InvalidSignature("an Ed25519 public key is 32 bytes and a signature 64 bytes")
    try:
        nacl.signing.VerifyKey(public_key).verify(data, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError) as e:
        raise InvalidSignature("the Ed25519 signature does not verify") from e


# --- secrets at rest -------------------------------------------------------------------------

SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES  # 16


def derive_key(passphrase: str, salt: bytes, *, opslimit: int | None = None, memlimit: int | None = None) -> bytes:
    """Argon2id (RFC 9106) key derivation of a 32-byte key from a passphrase."""
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=opslimit if opslimit is not None else nacl.pwhash.argon2id.OPSLIMIT_MODERATE,
        memlimit=memlimit if memlimit is not None else nacl.pwhash.argon2id.MEMLIMIT_MODERATE,
    )


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def seal(key: bytes, plaintext: bytes) -> bytes:
    """XSalsa20-Poly1305 authenticated encryption (nonce prepended)."""
    return bytes(nacl.secret.SecretBox(key).encrypt(plaintext))


def unseal(key: bytes, sealed: bytes) -> bytes:
    try:
        return bytes(nacl.secret.SecretBox(key).decrypt(sealed))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, nacl.exceptions.TypeError) as e:
        raise SealError("the sealed secret could not be opened: wrong key or passphrase, or altered data") from e

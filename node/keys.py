"""Issuer private keys at rest: sealed with a node master key, never returned by any endpoint.

The master key comes from one of two places, chosen when the data folder is first used and
recorded in the store so a later start cannot silently switch:

* ``passphrase``: Argon2id (RFC 9106) over ``VCNODE_PASSPHRASE`` with a stored random salt and
  stored cost parameters (``vc.crypto.derive_key``);
* ``keyfile``: 32 random bytes in ``<data>/master.key``, created with mode 0600. This protects
  a copied database, not a copied data folder, and the node says so at start-up.

Secrets are sealed with XSalsa20-Poly1305 (``vc.crypto.seal``). A check value sealed under the
master key lets a wrong passphrase be reported as such instead of as corrupt keys.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vc.crypto import SALT_BYTES, Ed25519KeyPair, SealError, derive_key, random_bytes, seal, unseal

log = logging.getLogger(__name__)

KEYFILE_NAME = "master.key"
_CHECK_PLAINTEXT = b"vcnode master key check v1"
SETTING = "keys.master"

# Argon2id cost presets (libsodium's names). "moderate" is the default for a server that
# derives once at start-up; "interactive" exists for tests and small machines.
KDF_PRESETS: dict[str, tuple[int, int]] = {
    "interactive": (2, 64 * 1024 * 1024),
    "moderate": (3, 256 * 1024 * 1024),
}


class KeyProtectionError(Exception):
    """The master key cannot be obtained (wrong passphrase, missing key file, mode mismatch)."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes
    mode: str  # "passphrase" | "keyfile" | "locked" (read only: no key)

    def __repr__(self) -> str:
        return f"MasterKey(mode={self.mode!r})"

    @classmethod
    def locked(cls) -> "MasterKey":
        """A stand-in for a node opened to read only (``open_node(signing=False)``): public keys,
        records and lists need no master key, and nothing may be signed or sealed."""
        return cls(b"", "locked")

    def _unlocked(self) -> None:
        if self.mode == "locked":
            raise KeyProtectionError("this command opened the node to read only; its issuer keys are not available")

    def seal_keypair(self, pair: Ed25519KeyPair) -> bytes:
        self._unlocked()
        return seal(self.key, pair.seed)

    def open_keypair(self, sealed: bytes) -> Ed25519KeyPair:
        self._unlocked()
        try:
            return Ed25519KeyPair.from_seed(unseal(self.key, sealed))
        except SealError as e:
            raise KeyProtectionError("an issuer key could not be decrypted: the master key does not match") from e


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def new_master_record(data_dir: Path, passphrase: str | None, *, kdf: str = "moderate") -> tuple[MasterKey, dict[str, Any]]:
    """Create the master key for a fresh data folder; return it and the record to store."""
    if passphrase:
        ops, mem = KDF_PRESETS[kdf]
        salt = random_bytes(SALT_BYTES)
        key = derive_key(passphrase, salt, opslimit=ops, memlimit=mem)
        record: dict[str, Any] = {"mode": "passphrase", "salt": _b64(salt), "opslimit": ops, "memlimit": mem}
        mode = "passphrase"
    else:
        key = random_bytes(32)
        path = data_dir / KEYFILE_NAME
        if path.exists():
            raise KeyProtectionError(f"{path} already exists but the store has no record of it; refusing to overwrite")
        data_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL + mode 0600 at creation: the file is never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        record = {"mode": "keyfile", "file": KEYFILE_NAME}
        mode = "keyfile"
    record["check"] = _b64(seal(key, _CHECK_PLAINTEXT))
    return MasterKey(key, mode), record


def open_master(data_dir: Path, passphrase: str | None, record: dict[str, Any], *, key_file: Path | None = None) -> MasterKey:
    """Recover the master key described by a stored record (``key_file``: read the key file
    there rather than in ``data_dir``, as a restore does before it writes anything)."""
    mode = record.get("mode")
    if mode == "passphrase":
        if not passphrase:
            raise KeyProtectionError(
                "the keys in this data folder are protected by a passphrase; set VCNODE_PASSPHRASE"
            )
        key = derive_key(passphrase, _unb64(record["salt"]), opslimit=int(record["opslimit"]), memlimit=int(record["memlimit"]))
    elif mode == "keyfile":
        path = key_file if key_file is not None else data_dir / str(record.get("file", KEYFILE_NAME))
        if passphrase:
            raise KeyProtectionError(
                f"the keys in this data folder are protected by the key file {path}, not a passphrase; unset VCNODE_PASSPHRASE"
            )
        try:
            key = path.read_bytes()
        except FileNotFoundError as e:
            raise KeyProtectionError(f"the master key file {path} is missing; the issuer keys cannot be opened") from e
        if len(key) != 32:
            raise KeyProtectionError(f"the master key file {path} is damaged (expected 32 bytes, found {len(key)})")
    else:
        raise KeyProtectionError(f"unknown key protection mode {mode!r} in the store")
    try:
        unseal(key, _unb64(record["check"]))
    except SealError as e:
        what = "the passphrase is wrong" if mode == "passphrase" else "the key file does not belong to this store"
        raise KeyProtectionError(f"cannot open the issuer keys: {what}") from e
    return MasterKey(key, mode)

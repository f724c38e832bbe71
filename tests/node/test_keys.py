"""node.keys: issuer keys sealed at rest under a passphrase-derived or key-file master key."""

from __future__ import annotations

import stat

import pytest

from node.keys import KEYFILE_NAME, KeyProtectionError, new_master_record, open_master
from vc.crypto import Ed25519KeyPair


def test_passphrase_master_round_trips_an_issuer_key(tmp_path):
    master, record = new_master_record(tmp_path, "correct horse battery staple", kdf="interactive")
    assert record["mode"] == "passphrase" and "salt" in record
    pair = Ed25519KeyPair.generate()
    sealed = master.seal_keypair(pair)
    assert pair.seed not in sealed  # encrypted, not merely encoded
    again = open_master(tmp_path, "correct horse battery staple", record)
    assert again.open_keypair(sealed).public_key == pair.public_key
    assert not (tmp_path / KEYFILE_NAME).exists()


def test_wrong_passphrase_is_reported_as_such(tmp_path):
    _, record = new_master_record(tmp_path, "right", kdf="interactive")
    with pytest.raises(KeyProtectionError, match="passphrase is wrong"):
        open_master(tmp_path, "wrong", record)


def test_missing_passphrase_is_reported(tmp_path):
    _, record = new_master_record(tmp_path, "right", kdf="interactive")
    with pytest.raises(KeyProtectionError, match="VCNODE_PASSPHRASE"):
        open_master(tmp_path, None, record)


def test_without_passphrase_a_private_key_file_is_created(tmp_path):
    master, record = new_master_record(tmp_path, None)
    path = tmp_path / KEYFILE_NAME
    assert record["mode"] == "keyfile"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 32
    pair = Ed25519KeyPair.generate()
    sealed = master.seal_keypair(pair)
    assert open_master(tmp_path, None, record).open_keypair(sealed).seed == pair.seed


def test_key_file_is_never_overwritten(tmp_path):
    new_master_record(tmp_path, None)
    with pytest.raises(KeyProtectionError, match="refusing to overwrite"):
        new_master_record(tmp_path, None)


def test_foreign_key_file_cannot_open_the_keys(tmp_path):
    _, record = new_master_record(tmp_path, None)
    (tmp_path / KEYFILE_NAME).write_bytes(b"\x01" * 32)
    with pytest.raises(KeyProtectionError, match="does not belong"):
        open_master(tmp_path, None, record)


def test_keyfile_store_refuses_a_passphrase_rather_than_ignoring_it(tmp_path):
    _, record = new_master_record(tmp_path, None)
    with pytest.raises(KeyProtectionError, match="unset VCNODE_PASSPHRASE"):
        open_master(tmp_path, "something", record)


def test_sealed_key_from_another_master_is_refused(tmp_path):
    a, _ = new_master_record(tmp_path / "a", None)
    b, _ = new_master_record(tmp_path / "b", None)
    sealed = a.seal_keypair(Ed25519KeyPair.generate())
    with pytest.raises(KeyProtectionError):
        b.open_keypair(sealed)

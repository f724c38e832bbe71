"""vcnode backup / restore through the real CLI beside a served node: a consistent copy made while
the node issues, restored into a fresh folder that keeps the node's identity, whose old
credentials verify and can be revoked; the passphrase and the key file never in a backup; a
backup killed with SIGKILL leaves no file that looks like a backup, and the live store sound."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import aiohttp
import pytest

from crashkit import kill_now
from node.store import inspect_backup
from running import bearer, clean_env, cli, serve
from support import run_js

BASE = "https://registry.example.edu"
V2 = "https://www.w3.org/ns/credentials/v2"


def credential(i: int) -> dict:
    return {
        "@context": [V2], "type": ["VerifiableCredential"], "issuer": "did:web:registry.example.edu",
        "credentialSubject": {"id": f"did:example:learner{i}"},
    }


async def ok(*args: str, env: dict[str, str] | None = None) -> str:
    code, out, err = await cli(*args, env=env)
    assert code == 0, err
    return out


async def issue(http: aiohttp.ClientSession, url: str, token: str, i: int) -> dict:
    async with http.post(f"{url}/credentials/issue", json={"credential": credential(i)}, headers=bearer(token)) as resp:
        assert resp.status == 201, await resp.text()
        return (await resp.json())["verifiableCredential"]


async def verify(http: aiohttp.ClientSession, url: str, vc: dict) -> dict:
    async with http.post(f"{url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
        return await resp.json(content_type=None)


@pytest.mark.interop
async def test_a_backup_made_while_the_node_issues_restores_into_a_node_that_keeps_its_identity(
    tmp_path: Path, unused_tcp_port_factory
) -> None:
    data, restored = tmp_path / "node", tmp_path / "restored"
    await ok("init", "--data", str(data), "--base-url", BASE)
    token = json.loads(await ok("token", "create", "--scopes", "issue,status", "--data", str(data), "--json"))["token"]
    node = await serve(data, unused_tcp_port_factory())
    try:
        async with aiohttp.ClientSession() as http:
            before = [await issue(http, node.url, token, i) for i in range(5)]
            # Issuing goes on while the backup is made (another process).
            during = asyncio.gather(*(issue(http, node.url, token, 100 + i) for i in range(10)))
            out = json.loads(await ok("backup", str(tmp_path / "b.sqlite3"), "--data", str(data), "--json"))
            during_vcs = await during
            after = await issue(http, node.url, token, 999)
    finally:
        await node.stop()
    assert out["baseUrl"] == BASE and out["keyProtection"] == "keyfile" and out["keyFile"].endswith("master.key")
    assert os.stat(tmp_path / "b.sqlite3").st_mode & 0o077 == 0  # it holds sealed keys: owner only
    assert (data / "master.key").read_bytes() not in (tmp_path / "b.sqlite3").read_bytes()

    # Without the key file it cannot be restored, and nothing is written.
    code, _, err = await cli("restore", str(tmp_path / "b.sqlite3"), "--data", str(restored))
    assert code == 2 and "--key-file" in err and not restored.exists()
    # Nor under another identity.
    code, _, err = await cli(
        "restore", str(tmp_path / "b.sqlite3"), "--data", str(restored), "--key-file", str(data / "master.key"),
        "--base-url", "https://other.example.edu",
    )
    assert code == 2 and BASE in err and not restored.exists()
    shown = json.loads(await ok(
        "restore", str(tmp_path / "b.sqlite3"), "--data", str(restored), "--key-file", str(data / "master.key"), "--json"
    ))
    assert shown == {"data": str(restored), "baseUrl": BASE, "issuers": ["default"]}
    # A restore never overwrites.
    code, _, err = await cli("restore", str(tmp_path / "b.sqlite3"), "--data", str(restored), "--key-file", str(data / "master.key"))
    assert code == 2 and "not empty" in err

    records = {c["id"]: c for c in json.loads(await ok("credentials", "--data", str(restored)))["credentials"]}
    issued = {vc["id"] for vc in [*before, *during_vcs]}
    assert {vc["id"] for vc in before} <= set(records) <= issued  # a snapshot: all of before, some of during
    assert after["id"] not in records
    assert all(len(c["statusEntries"]) == 1 for c in records.values())  # records and their entries together

    node = await serve(restored, unused_tcp_port_factory())
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{node.url}/.well-known/did.json") as resp:
                assert (await resp.json(content_type=None))["id"] == "did:web:registry.example.edu"
            for vc in before:
                assert (await verify(http, node.url, vc))["verified"] is True
            path = tmp_path / "old.json"
            path.write_text(json.dumps(before[0]))
            code, result = await run_js("verify.mjs", str(path), "--did-web-base", node.url, "--status")
            assert code == 0 and result["verified"] is True, result
            # The restored node revokes an old credential, and verifiers see it.
            await ok("revoke", before[0]["id"], "--data", str(restored))
            result = await verify(http, node.url, before[0])
            assert result["verified"] is False
            assert [c["outcome"] for c in result["checks"] if c["check"] == "status"] == ["failed"]
            code, result = await run_js("verify.mjs", str(path), "--did-web-base", node.url, "--status")
            assert code == 1 and result["verified"] is False, result
            # It still issues, under the same DID and key.
            token = json.loads(await ok("token", "create", "--scopes", "issue", "--data", str(restored), "--json"))["token"]
            vc = await issue(http, node.url, token, 7)
            assert vc["proof"]["verificationMethod"] == before[0]["proof"]["verificationMethod"]
    finally:
        await node.stop()
    code, out, err = await cli("verify", str(path), "--data", str(restored))
    assert code == 1 and "revoked" in err


async def test_a_passphrase_is_never_in_a_backup_and_restores_it(tmp_path: Path) -> None:
    secret = "correct horse battery staple 17"
    env = clean_env(VCNODE_PASSPHRASE=secret)
    data, restored = tmp_path / "node", tmp_path / "restored"
    await ok("init", "--data", str(data), "--base-url", BASE, env=env)
    out = await ok("backup", str(tmp_path / "b.sqlite3"), "--data", str(data), env=env)
    assert "backup of https://registry.example.edu" in out
    blob = (tmp_path / "b.sqlite3").read_bytes()
    assert secret.encode() not in blob and secret.encode("utf-16-le") not in blob
    code, _, err = await cli("restore", str(tmp_path / "b.sqlite3"), "--data", str(restored))
    assert code == 2 and "VCNODE_PASSPHRASE" in err and not restored.exists()
    code, _, err = await cli("restore", str(tmp_path / "b.sqlite3"), "--data", str(restored), env=clean_env(VCNODE_PASSPHRASE="wrong"))
    assert code == 2 and "passphrase is wrong" in err and not restored.exists()
    await ok("restore", str(tmp_path / "b.sqlite3"), "--data", str(restored), env=env)
    listed = json.loads(await ok("issuer", "list", "--data", str(restored), "--json"))
    original = json.loads(await ok("issuer", "list", "--data", str(data), "--json"))
    assert listed == original
    assert not (restored / "master.key").exists()


async def test_what_is_not_a_backup_is_refused_saying_why(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"not a database at all" * 100)
    code, _, err = await cli("restore", str(tmp_path / "junk"), "--data", str(tmp_path / "r"))
    assert code == 2 and "not a vcnode backup" in err and not (tmp_path / "r").exists()
    sqlite3.connect(tmp_path / "other.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    code, _, err = await cli("restore", str(tmp_path / "other.sqlite3"), "--data", str(tmp_path / "r"))
    assert code == 2 and "not a vcnode backup" in err and not (tmp_path / "r").exists()
    await ok("init", "--data", str(tmp_path / "node"))
    code, _, err = await cli("backup", str(tmp_path / "missing" / "b.sqlite3"), "--data", str(tmp_path / "node"))
    assert code == 2 and "does not exist" in err
    # The node's own files are never a backup's target: over the live store the serving node
    # would write on into an unlinked file; over the key file every sealed key would be lost.
    key = (tmp_path / "node" / "master.key").read_bytes()
    for own in ("vcnode.sqlite3", "vcnode.sqlite3-wal", "master.key"):
        code, _, err = await cli("backup", str(tmp_path / "node" / ".." / "node" / own), "--data", str(tmp_path / "node"))
        assert code == 2 and "one of the node's own files" in err, err
    assert (tmp_path / "node" / "master.key").read_bytes() == key
    # A backup cut short (a copy that stopped half-way, a full disk) is refused, not restored.
    await ok("backup", str(tmp_path / "whole.sqlite3"), "--data", str(tmp_path / "node"))
    whole = (tmp_path / "whole.sqlite3").read_bytes()
    (tmp_path / "cut.sqlite3").write_bytes(whole[: len(whole) // 2])
    code, _, err = await cli("restore", str(tmp_path / "cut.sqlite3"), "--data", str(tmp_path / "r"),
                             "--key-file", str(tmp_path / "node" / "master.key"))
    assert code == 2 and "is damaged" in err, err
    assert not (tmp_path / "r").exists()


async def test_a_backup_killed_midway_leaves_no_backup_and_the_live_store_sound(tmp_path: Path, unused_tcp_port: int) -> None:
    data = tmp_path / "node"
    await ok("init", "--data", str(data), "--base-url", BASE)
    # Bulk, so that a copy takes long enough to be killed in the middle of it (test scaffolding,
    # in a table of its own: the node never reads it).
    with sqlite3.connect(data / "vcnode.sqlite3") as db:
        db.execute("CREATE TABLE test_ballast (b BLOB)")
        db.executemany("INSERT INTO test_ballast VALUES (?)", ((os.urandom(64 * 1024),) for _ in range(600)))
    token = json.loads(await ok("token", "create", "--scopes", "issue", "--data", str(data), "--json"))["token"]
    node = await serve(data, unused_tcp_port)
    target = tmp_path / "b.sqlite3"

    def partials() -> list[Path]:
        return [p for p in tmp_path.iterdir() if p.name.startswith(".b.sqlite3.partial-")]

    midway = 0
    try:
        async with aiohttp.ClientSession() as http:
            # Killed before it starts copying, then at moments after its partial file appeared
            # (the copy under way), then left to finish.
            for when in ("early", 0.0, 0.02, 0.08, 0.2, "finish"):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "node", "backup", str(target), "--data", str(data), env=clean_env(),
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
                issuing = asyncio.gather(*(issue(http, node.url, token, i) for i in range(3)))
                if when == "early":
                    await asyncio.sleep(0.05)
                elif when != "finish":
                    while proc.returncode is None and not partials():
                        await asyncio.sleep(0.002)
                    await asyncio.sleep(when)
                if when != "finish" and proc.returncode is None:
                    copying = bool(partials())
                    await kill_now(proc)  # unless it ends on its own this very moment
                    midway += copying
                await proc.wait()
                await issuing
                if proc.returncode == -signal.SIGKILL:
                    # Under that name: nothing, or (killed after the rename) a whole, sound backup.
                    # What else is left says it is partial.
                    if target.exists():
                        assert inspect_backup(target).settings["node.identity"]["base_url"] == BASE
                        target.unlink()
                    for p in partials():
                        p.unlink()
                else:
                    assert proc.returncode == 0 and not partials()
                    contents = inspect_backup(target)  # a whole, sound backup
                    assert contents.settings["node.identity"]["base_url"] == BASE
                    if when != "finish":  # it finished before it could be killed: start again afresh
                        target.unlink()
            assert target.exists()
            # The live store is untouched: sound, and the node goes on serving and issuing.
            with sqlite3.connect(data / "vcnode.sqlite3") as db:
                assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            vc = await issue(http, node.url, token, 1000)
            async with http.post(f"{node.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                assert (await resp.json(content_type=None))["verified"] is True
    finally:
        await node.stop()
    assert midway >= 1  # at least one kill landed while the copy was being written


@contextmanager
def mounted(where: Path, *options: str, bind: Path | None = None) -> Iterator[None]:
    """A tmpfs (or ``bind`` bound) at ``where`` with ``options``; the test is skipped where this
    machine allows no mount (as root nothing else makes a folder full or read-only)."""
    where.mkdir(parents=True, exist_ok=True)
    command = ["mount", "--bind", str(bind), str(where)] if bind else ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)]
    if subprocess.run(command, capture_output=True).returncode != 0:
        pytest.skip("this machine allows no mount (a full or read-only disk needs one)")
    try:
        if bind and options:
            subprocess.run(["mount", "-o", ",".join(("remount", "bind", *options)), str(where)], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


async def test_a_full_or_read_only_destination_is_a_one_line_refusal_and_leaves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "node"
    await ok("init", "--data", str(data), "--base-url", BASE)
    with mounted(tmp_path / "full", "size=100k"):  # smaller than the store
        code, out, err = await cli("backup", str(tmp_path / "full" / "b.sqlite3"), "--data", str(data))
        assert code == 2, err
        assert err == f"vcnode: cannot write the backup {tmp_path / 'full' / 'b.sqlite3'}: the disk holding {tmp_path / 'full'} is full; free space there, or write the backup to another disk (nothing was written)\n"
        assert list((tmp_path / "full").iterdir()) == []  # no partial file either
    with mounted(tmp_path / "ro", "size=1m", "ro"):
        code, out, err = await cli("backup", str(tmp_path / "ro" / "b.sqlite3"), "--data", str(data))
        assert code == 2 and err.count("\n") == 1 and f"{tmp_path / 'ro'} is on a read-only file system" in err, err


async def test_a_data_folder_on_a_read_only_disk_is_backed_up(tmp_path: Path, unused_tcp_port: int) -> None:
    """What an operator wants first when the data disk remounted itself read-only after errors."""
    data = tmp_path / "node"
    await ok("init", "--data", str(data), "--base-url", BASE)
    node = await serve(data, unused_tcp_port)  # a served node leaves its store as a clean stop does
    await node.stop()
    with mounted(tmp_path / "ro", "ro", bind=data):
        code, out, err = await cli("backup", str(tmp_path / "b.sqlite3"), "--data", str(tmp_path / "ro"))
        assert code == 0, err
        assert out.startswith(f"backup of {BASE} written to")
        assert "Traceback" not in err
    assert inspect_backup(tmp_path / "b.sqlite3").settings["node.identity"]["base_url"] == BASE

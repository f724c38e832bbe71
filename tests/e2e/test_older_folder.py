"""A data folder an older vcnode made (issuers, credentials, status lists, but no recorded base
URL) through the real CLI: never given the default name by serve, init or any command that
signs; the refusal names what to run and the URL its status lists show; the documented
``vcnode init --base-url`` records it, after which it serves under that name.

An older folder is made here by the current version, then its recorded name is taken out of
the store: what a folder of a version before the name was recorded looks like to this one.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path

from served_node import clean_env, cli, served

NAME = "https://credentials.uni.example"
V2 = "https://www.w3.org/ns/credentials/v2"


async def older_folder(tmp_path: Path) -> Path:
    data = tmp_path / "old"
    await cli("init", "--data", str(data), "--base-url", NAME)
    await cli("issuer", "create", "physics", "--status-purposes", "revocation,suspension", "--data", str(data))
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps({"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:ada"}}))
    await cli("issue", str(credential), "--issuer", "physics", "--data", str(data))
    forget_name(data)
    return data


async def serve_refused(data: Path, port: int) -> tuple[int, str]:
    """``vcnode serve --data DATA`` expected to refuse: (exit code, stderr). One that serves
    instead is stopped after a while and reported, rather than left to hang the test."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port),
        env=clean_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        _, err = await proc.communicate()
        raise AssertionError(f"vcnode serve served the folder instead of refusing it:\n{err.decode()[-3000:]}") from None
    return proc.returncode or 0, err.decode()


def forget_name(data: Path) -> None:
    with sqlite3.connect(data / "vcnode.sqlite3") as db:
        db.execute("DELETE FROM settings WHERE key = 'node.identity'")


def recorded(data: Path) -> object:
    with sqlite3.connect(data / "vcnode.sqlite3") as db:
        row = db.execute("SELECT value FROM settings WHERE key = 'node.identity'").fetchone()
    return json.loads(row[0])["base_url"] if row else None


async def test_serve_and_init_refuse_to_name_an_older_folder_with_the_default(tmp_path: Path, unused_tcp_port: int) -> None:
    data = await older_folder(tmp_path)
    where = ("--data", str(data))
    advice = f"vcnode init --data {data} --base-url URL"

    # The systemd unit's command: no base URL anywhere. Refused, and nothing recorded.
    code, err = await serve_refused(data, unused_tcp_port)
    assert code == 2, err
    assert "made by an older vcnode" in err and "no recorded name" in err and advice in err
    assert f"its status lists name {NAME}: most likely that one" in err
    assert "Traceback" not in err
    assert recorded(data) is None
    # Nor does init without --base-url, nor a command that signs, record or use the default.
    code, _, err = await cli("init", *where, check=False)
    assert code == 2 and advice in err and NAME in err and recorded(data) is None
    code, _, err = await cli("issuer", "create", "chemistry", *where, check=False)
    assert code == 2 and advice in err and recorded(data) is None
    # A command that only reads runs under the name its lists show, says so, and records nothing.
    code, out, err = await cli("issuer", "list", *where, "--json", check=False)
    assert code == 0 and advice in err
    assert [i["dids"][0] for i in json.loads(out)["issuers"]] == ["did:web:credentials.uni.example", "did:web:credentials.uni.example:issuers:physics"]
    assert recorded(data) is None
    _, out, _ = await cli("config", "show", *where)
    assert json.loads(out)["recorded_base_url"] is None

    # The documented step records the right name; the folder then serves under it.
    _, out, _ = await cli("init", *where, "--base-url", NAME, "--json")
    assert json.loads(out)["baseUrl"] == NAME and recorded(data) == NAME
    async with served(data, unused_tcp_port) as node:
        assert "http://localhost" not in node.log()
    assert recorded(data) == NAME


async def test_an_explicit_base_url_names_an_older_folder_when_it_is_served(tmp_path: Path, unused_tcp_port: int) -> None:
    data = await older_folder(tmp_path)
    async with served(data, unused_tcp_port, env={"VCNODE_BASE_URL": NAME}):
        pass
    assert recorded(data) == NAME


async def test_a_fresh_folder_is_still_served_under_the_default_without_any_configuration(tmp_path: Path, unused_tcp_port: int) -> None:
    data = tmp_path / "new"
    async with served(data, unused_tcp_port):
        pass
    assert recorded(data) == f"http://localhost:{unused_tcp_port}"


async def test_a_backup_of_an_older_folder_says_it_has_no_name_and_restore_records_only_the_one_given(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    data = await older_folder(tmp_path)
    backup = tmp_path / "b.sqlite3"
    _, out, _ = await cli("backup", str(backup), "--data", str(data))
    assert out.startswith("backup of a node with no base URL recorded (made by an older vcnode) written to") and "None" not in out
    key_file = ("--key-file", str(data / "master.key"))

    # Without --base-url: restored, nothing claimed or recorded, and the step before serving said.
    restored = tmp_path / "restored"
    _, out, err = await cli("restore", str(backup), "--data", str(restored), *key_file)
    assert out == f"restored into {restored}: issuers default, physics\n"
    assert "no recorded base URL" in err and f"vcnode init --data {restored} --base-url URL" in err and NAME in err
    assert "localhost" not in out + err and recorded(restored) is None
    code, err = await serve_refused(restored, unused_tcp_port)
    assert code == 2 and "made by an older vcnode" in err

    # With --base-url: that one is recorded, and said.
    named = tmp_path / "named"
    _, out, _ = await cli("restore", str(backup), "--data", str(named), *key_file, "--base-url", NAME)
    assert out.startswith(f"restored {NAME} into {named}: issuers default, physics\n") and recorded(named) == NAME
    # One that could not be served is refused before anything is written.
    code, _, err = await cli("restore", str(backup), "--data", str(tmp_path / "ip"), *key_file, "--base-url", "http://192.0.2.1:8443", check=False)
    assert code == 2 and "names an IP address" in err and not (tmp_path / "ip").exists()

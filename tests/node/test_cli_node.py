"""The node's operator commands: init, config show, issuer, token (in-process, on a temp data folder)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3

import pytest

from node.cli import main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("VCNODE_"):
            monkeypatch.delenv(name)


def run_json(capsys, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def init(capsys, data, *flags: str) -> None:
    assert main(["init", "--data", str(data), *flags]) == 0
    capsys.readouterr()


def test_init_is_idempotent_and_prints_the_issuers(tmp_path, capsys):
    data = str(tmp_path / "data")
    code, first = run_json(capsys, "init", "--data", data, "--base-url", "https://registry.example.edu", "--json")
    assert code == 0
    assert list(first) == ["baseUrl", "issuers", "keyProtection", "keyFile"] and len(first["issuers"]) == 1
    assert first["keyProtection"] == "keyfile" and first["keyFile"] == str(tmp_path / "data" / "master.key")
    assert first["baseUrl"] == "https://registry.example.edu"
    issuer = first["issuers"][0]
    assert set(issuer) == {"name", "dids", "verificationMethods"}
    assert issuer["name"] == "default"
    did_web, did_key = issuer["dids"]
    assert did_web == "did:web:registry.example.edu"
    assert did_key.startswith("did:key:z6Mk")
    key = did_key.removeprefix("did:key:")
    assert issuer["verificationMethods"] == [f"{did_web}#{key}", f"{did_key}#{key}"]
    code, second = run_json(capsys, "init", "--data", data, "--base-url", "https://registry.example.edu", "--json")
    assert code == 0 and second == first  # same issuer, same key: nothing re-created
    # Without the flag the folder's own base URL is used, by init and every other command.
    code, third = run_json(capsys, "init", "--data", data, "--json")
    assert code == 0 and third == first
    code, listed = run_json(capsys, "issuer", "list", "--data", data, "--json")
    assert listed["issuers"][0]["dids"] == issuer["dids"]


def test_the_default_base_url_is_localhost_not_an_ip_address(tmp_path, capsys):
    code, out = run_json(capsys, "init", "--data", str(tmp_path / "data"), "--json")
    assert code == 0 and out["baseUrl"] == "http://localhost:8443"
    assert out["issuers"][0]["dids"][0] == "did:web:localhost%3A8443"


def test_init_with_another_base_url_is_refused_saying_what_the_folder_is(tmp_path, capsys):
    data = str(tmp_path / "data")
    _, first = run_json(capsys, "init", "--data", data, "--base-url", "https://registry.example.edu", "--json")
    # Spelled differently, the same URL is the same node.
    code, again = run_json(capsys, "init", "--data", data, "--base-url", "HTTPS://Registry.Example.EDU:443/", "--json")
    assert code == 0 and again == first
    for argv in (
        ["init", "--data", data, "--base-url", "https://new.example.edu"],
        ["issuer", "list", "--data", data, "--base-url", "https://new.example.edu"],
        ["serve", "--data", data, "--base-url", "https://new.example.edu", "--port", "1"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "initialised as https://registry.example.edu" in err and "https://new.example.edu" in err
        assert "new DIDs" in err and "old DID documents" in err
    _, listed = run_json(capsys, "issuer", "list", "--data", data, "--json")
    assert listed["issuers"][0]["dids"] == first["issuers"][0]["dids"]  # nothing changed
    # config show names the folder's base URL, whatever is configured.
    _, shown = run_json(capsys, "config", "show", "--data", data)
    assert shown["recorded_base_url"] == shown["effective_base_url"] == "https://registry.example.edu"
    # "base_url" itself is the one the node uses, not the unset setting (null read as "none").
    assert shown["base_url"] == "https://registry.example.edu" and shown["configured_base_url"] is None
    assert shown["base_url_source"].startswith("recorded in the data folder")
    _, fresh = run_json(capsys, "config", "show", "--data", str(tmp_path / "elsewhere"))
    assert fresh["base_url"] == "http://localhost:8443" and fresh["base_url_source"].startswith("default")


def test_read_only_commands_on_a_folder_that_is_not_a_node_create_nothing(tmp_path, capsys):
    typo = tmp_path / "typo"
    for argv in (
        ["issuer", "list"], ["issuer", "show", "default"], ["token", "list"], ["credentials"], ["achievement", "list"],
        ["issuer", "create", "physics"], ["token", "create", "--scopes", "issue"], ["issuer", "rotate-key", "default"],
        ["backup", str(tmp_path / "b.sqlite3")],
    ):
        assert main([*argv, "--data", str(typo)]) == 2, argv
        err = capsys.readouterr().err
        assert "is not a vcnode data folder" in err and "vcnode init" in err, argv
        assert not typo.exists(), argv
    assert not (tmp_path / "b.sqlite3").exists()


@pytest.mark.parametrize(
    "flags,says",
    [
        (["--host", "0.0.0.0"], "listens on all interfaces"),  # a container without VCNODE_BASE_URL
        (["--base-url", "http://0.0.0.0:8460"], "0.0.0.0 is the address a server listens on"),
        (["--base-url", "https://192.0.2.10"], "names an IP address"),
        (["--base-url", "http://[::1]:8443"], "names an IP address"),
    ],
)
def test_serve_refuses_a_base_url_on_an_ip_address_and_creates_nothing(tmp_path, capsys, flags, says):
    data = tmp_path / "fresh"
    assert main(["serve", "--data", str(data), "--port", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert says in err and "did:web" in err
    assert not data.exists()


def test_an_ip_base_url_is_accepted_when_that_host_port_is_explicitly_allowed(tmp_path, capsys, monkeypatch):
    data = tmp_path / "kit"
    assert main(["init", "--data", str(data), "--base-url", "https://127.0.0.1:40643"]) == 2
    assert 'allow_insecure_hosts = ["127.0.0.1:40643"]' in capsys.readouterr().err
    monkeypatch.setenv("VCNODE_ALLOW_INSECURE_HOSTS", "127.0.0.1:40643")
    code, out = run_json(capsys, "init", "--data", str(data), "--base-url", "https://127.0.0.1:40643", "--json")
    assert code == 0 and out["issuers"][0]["dids"][0] == "did:web:127.0.0.1%3A40643"


def test_issuer_create_and_list(tmp_path, capsys):
    data = str(tmp_path / "data")
    init(capsys, data)
    code, created = run_json(capsys, "issuer", "create", "physics", "--data", data, "--status-purposes", "revocation,suspension", "--json")
    assert code == 0
    assert created["dids"][0] == "did:web:localhost%3A8443:issuers:physics"
    assert created["statusPurposes"] == ["revocation", "suspension"]
    code, listed = run_json(capsys, "issuer", "list", "--data", data, "--json")
    assert [i["name"] for i in listed["issuers"]] == ["default", "physics"]
    # Each issuer has its own key.
    assert listed["issuers"][0]["dids"][1] != listed["issuers"][1]["dids"][1]
    assert main(["issuer", "create", "physics", "--data", data]) == 1  # exists
    assert "already exists" in capsys.readouterr().err
    assert main(["issuer", "create", "Bad Name", "--data", data]) == 2
    assert "not allowed" in capsys.readouterr().err
    # Matched whole: "physics\n" passed the rule's "$" and became a second issuer answering to
    # physics's did:web, whose status list URL could never be signed.
    assert main(["issuer", "create", "physics\n", "--data", data]) == 2
    assert "not allowed" in capsys.readouterr().err


def test_a_node_under_an_internationalised_domain_names_it_in_ascii(tmp_path, capsys):
    # did:web §3.1 and DID Core §3.1 (idchar): the DID holds the domain's IDNA form; yarl's
    # host decodes punycode, and init died with a traceback on either spelling.
    for spelling in ("https://bücher.example", "https://xn--bcher-kva.example"):
        data = str(tmp_path / spelling.rsplit("/", 1)[-1])
        code, out = run_json(capsys, "init", "--data", data, "--base-url", spelling, "--json")
        assert code == 0, out
        code, listed = run_json(capsys, "issuer", "list", "--data", data, "--json")
        assert listed["issuers"][0]["dids"][0] == "did:web:xn--bcher-kva.example"


def test_token_is_printed_once_and_only_its_hash_is_stored(tmp_path, capsys):
    data = tmp_path / "data"
    init(capsys, data)
    main(["issuer", "create", "physics", "--data", str(data)])
    capsys.readouterr()
    code, new = run_json(capsys, "token", "create", "--scopes", "issue,status", "--issuer", "physics", "--data", str(data), "--json")
    assert code == 0
    assert new["scopes"] == ["issue", "status"] and new["issuer"] == "physics"
    token = new["token"]
    assert len(token) > 40
    with sqlite3.connect(data / "vcnode.sqlite3") as db:
        rows = db.execute("SELECT token_hash FROM tokens").fetchall()
        dump = "\n".join(db.iterdump())
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(),)]
    assert token not in dump
    code, listed = run_json(capsys, "token", "list", "--data", str(data))
    assert token not in json.dumps(listed) and listed["tokens"][0]["id"] == new["id"]
    # Revoked tokens no longer grant anything.
    assert main(["token", "revoke", new["id"], "--data", str(data)]) == 0
    assert "revoked" in capsys.readouterr().out
    _, listed = run_json(capsys, "token", "list", "--data", str(data))
    assert listed["tokens"][0]["revoked"] is not None
    assert main(["token", "revoke", "no-such-id", "--data", str(data)]) == 1


def test_token_create_refuses_unknown_scope_or_issuer(tmp_path, capsys):
    data = str(tmp_path / "data")
    init(capsys, data)
    assert main(["token", "create", "--scopes", "issue,root", "--data", data]) == 2
    assert "root" in capsys.readouterr().err
    assert main(["token", "create", "--scopes", "issue", "--issuer", "nobody", "--data", data]) == 1
    assert "nobody" in capsys.readouterr().err


def test_config_show_masks_the_passphrase_and_applies_precedence(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "vcnode.toml").write_text('port = 9001\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("VCNODE_PASSPHRASE", "very secret words")
    monkeypatch.setenv("VCNODE_PORT", "9002")
    code, shown = run_json(capsys, "config", "show", "--data", str(data), "--host", "127.0.0.2")
    assert code == 0
    assert shown["port"] == 9002 and shown["host"] == "127.0.0.2"
    assert shown["passphrase"] == "(set)"
    assert "very secret words" not in json.dumps(shown)


def test_config_show_without_its_store_prints_the_configuration_and_names_what_it_could_not_read(tmp_path, capsys, monkeypatch):
    """An operator runs config show when something is wrong: a store that cannot be read hides
    nothing of the configuration; what only the store holds is left out (not null, which
    would read as "none recorded") and named, with one line saying why, and exit 1 (partial)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "vcnode.toml").write_text('port = 9001\nbase_url = "https://registry.example.edu"\n')
    (data / "vcnode.sqlite3").write_bytes(b"not an SQLite database " * 20)
    monkeypatch.setenv("VCNODE_PASSPHRASE", "very secret words")
    code = main(["config", "show", "--data", str(data)])
    captured = capsys.readouterr()
    assert code == 1
    shown = json.loads(captured.out)
    assert shown["port"] == 9001 and shown["passphrase"] == "(set)" and shown["data_dir"] == str(data)
    assert shown["configured_base_url"] == "https://registry.example.edu"
    assert shown["unread"] == ["recorded_base_url", "base_url", "effective_base_url"]
    assert not {"recorded_base_url", "base_url", "effective_base_url"} & set(shown)
    assert shown["base_url_source"].startswith("unknown")
    assert captured.err.count("\n") == 1 and captured.err.startswith("vcnode: the store could not be read (")
    assert "file is not a database" in captured.err
    assert "recorded_base_url, base_url and effective_base_url are left out" in captured.err
    assert "very secret words" not in captured.out + captured.err
    # The same folder once the store reads again: the values are back, exit 0, nothing unread.
    (data / "vcnode.sqlite3").unlink()
    init(capsys, data)
    code, shown = run_json(capsys, "config", "show", "--data", str(data))
    assert code == 0 and "unread" not in shown
    assert shown["recorded_base_url"] == shown["base_url"] == "https://registry.example.edu"


def test_wrong_passphrase_is_a_clear_error(tmp_path, capsys, monkeypatch):
    data = str(tmp_path / "data")
    monkeypatch.setenv("VCNODE_KDF", "interactive")
    monkeypatch.setenv("VCNODE_PASSPHRASE", "right")
    assert main(["init", "--data", data]) == 0
    monkeypatch.setenv("VCNODE_PASSPHRASE", "wrong")
    capsys.readouterr()
    assert main(["issuer", "create", "physics", "--data", data]) == 2
    assert "passphrase is wrong" in capsys.readouterr().err
    # Commands that only read need no keys, so no passphrase (docs/operations.md).
    for command in (["issuer", "list"], ["achievement", "list"], ["trust", "list"], ["credentials"], ["token", "list"]):
        assert main([*command, "--data", data]) == 0, command
    assert "passphrase" not in capsys.readouterr().err


def test_bad_config_is_usage_error(tmp_path, capsys):
    assert main(["init", "--data", str(tmp_path), "--base-url", "ftp://nowhere"]) == 2
    assert "base_url" in capsys.readouterr().err


async def test_serve_initialises_an_empty_folder_and_answers(tmp_path, unused_tcp_port):
    """The README's run command: ``vcnode serve`` on an empty folder, no configuration."""
    import aiohttp
    import signal
    import sys

    data = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(unused_tcp_port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("vcnode serve did not come up")
            async with session.get(f"{base}/.well-known/did.json") as response:
                document = await response.json(content_type=None)
        assert document["id"] == f"did:web:localhost%3A{unused_tcp_port}"
        assert (data / "vcnode.sqlite3").exists() and (data / "master.key").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        except TimeoutError:  # seen once in a full run: say what the node was doing
            proc.kill()
            _, err = await proc.communicate()
            pytest.fail(f"vcnode serve did not stop within 20 s of SIGINT; its log:\n{err.decode()[-6000:]}")
    # The start-up log says how the keys are protected.
    assert "master.key" in err.decode()


def test_serve_with_workers_says_how_the_keys_are_protected_once(tmp_path, capsys, monkeypatch):
    """The arbiter's preflight says it; each worker's app said it again (3 lines with 2 workers)."""
    import socket

    from aiohttp import web

    import node.workers

    specs = []
    monkeypatch.setattr(node.workers, "run_workers", lambda spec, n: specs.append((spec, n)))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "data"
    assert main(["serve", "--data", str(data), "--port", str(port), "--workers", "2"]) == 0
    (spec, n), = specs

    async def boot_a_worker() -> None:
        runner = web.AppRunner(spec.make_app(spec.config))
        await runner.setup()  # opens the node as a worker does
        await runner.cleanup()

    asyncio.run(boot_a_worker())
    asyncio.run(boot_a_worker())
    err = capsys.readouterr().err
    assert n == 2 and err.count("issuer keys are encrypted with the key file") == 1, err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_is_the_same_clear_error_with_one_process_or_many(tmp_path, workers):
    """With several workers gunicorn's arbiter retried for five seconds and exited 1; one
    process exited 2 at once. Both now exit 2, say why, and leave the folder uncreated."""
    import socket
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "node", "serve", "--data", str(tmp_path / "fresh"), "--host", "127.0.0.1",
             "--port", str(port), "--workers", workers],
            env=env, capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "in use" in done.stderr
    assert not (tmp_path / "fresh").exists()


def test_suspending_a_credential_without_suspension_says_how_to_get_it(tmp_path, capsys):
    # The default issuer has revocation only: the refusal says that issued credentials cannot
    # gain suspension and names the command that gives the next ones a suspension entry.
    data = str(tmp_path / "data")
    init(capsys, data)
    file = tmp_path / "credential.json"
    file.write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:dora"},
    }))
    code, vc = run_json(capsys, "issue", str(file), "--data", data)
    assert code == 0 and vc["credentialStatus"]["statusPurpose"] == "revocation"
    assert main(["suspend", vc["id"], "--data", data]) == 1
    err = capsys.readouterr().err
    assert "cannot be suspended" in err and "cannot gain one after it is issued" in err
    assert "vcnode issuer enable-suspension default" in err
    assert "--status-purposes" in err

    # Doing what it says: the next credential can be suspended; the earlier one still cannot.
    assert main(["issuer", "enable-suspension", "default", "--data", data]) == 0
    out = capsys.readouterr().out
    assert out.startswith("issuer default: suspension enabled (status purposes revocation,suspension)\n")
    assert "cannot gain one" in out
    code, after = run_json(capsys, "issue", str(file), "--data", data)
    assert code == 0 and [e["statusPurpose"] for e in after["credentialStatus"]] == ["revocation", "suspension"]
    assert after["credentialStatus"][1]["statusListCredential"].endswith("/status/default/suspension/1")
    code, record = run_json(capsys, "suspend", after["id"], "--data", data, "--json")
    assert code == 0 and record["status"] == "suspended"
    assert main(["suspend", vc["id"], "--data", data]) == 1
    capsys.readouterr()


def test_enable_suspension_is_idempotent_and_says_so(tmp_path, capsys):
    data = str(tmp_path / "data")
    init(capsys, data)
    assert main(["issuer", "create", "physics", "--data", data]) == 0
    capsys.readouterr()
    code, first = run_json(capsys, "issuer", "enable-suspension", "physics", "--data", data, "--json")
    assert code == 0 and first == {"issuer": "physics", "statusPurposes": ["revocation", "suspension"], "enabledNow": True}
    code, again = run_json(capsys, "issuer", "enable-suspension", "physics", "--data", data, "--json")
    assert code == 0 and again == {**first, "enabledNow": False}
    assert main(["issuer", "enable-suspension", "physics", "--data", data]) == 0
    assert capsys.readouterr().out == (
        "issuer physics: suspension was enabled already (status purposes revocation,suspension); nothing changed\n"
    )
    _, listed = run_json(capsys, "issuer", "list", "--data", data, "--json")
    assert {i["name"]: i["statusPurposes"] for i in listed["issuers"]} == {
        "default": ["revocation"], "physics": ["revocation", "suspension"]
    }
    # An issuer the node does not have: the operation says no (1), naming it; nothing is created.
    assert main(["issuer", "enable-suspension", "chemistry", "--data", data]) == 1
    assert "no issuer named 'chemistry'" in capsys.readouterr().err


def test_issue_revoke_suspend_unsuspend_on_the_local_store(tmp_path, capsys):
    data = str(tmp_path / "data")
    init(capsys, data)
    file = tmp_path / "credential.json"
    file.write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:carol", "name": "Carol"},
    }))
    code, vc = run_json(capsys, "issue", str(file), "--data", data, "--status-purposes", "revocation,suspension")
    assert code == 0
    assert vc["issuer"] == "did:web:localhost%3A8443" and vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert {e["statusPurpose"] for e in vc["credentialStatus"]} == {"revocation", "suspension"}
    code, record = run_json(capsys, "suspend", vc["id"], "--data", data)
    assert code == 0 and record["status"] == "suspended" and record["subjectId"] == "did:example:carol"
    code, record = run_json(capsys, "unsuspend", vc["id"], "--data", data)
    assert code == 0 and record["status"] == "active"
    code, record = run_json(capsys, "revoke", vc["id"], "--data", data)
    assert code == 0 and record["status"] == "revoked"
    assert main(["unsuspend", vc["id"], "--data", data]) == 1
    assert "revocation is final" in capsys.readouterr().err
    assert main(["revoke", "urn:uuid:unknown", "--data", data]) == 1
    assert "urn:uuid:unknown" in capsys.readouterr().err
    # An operator finds it again by subject.
    code, found = run_json(capsys, "credentials", "--subject", "did:example:carol", "--data", data)
    assert code == 0 and [c["id"] for c in found["credentials"]] == [vc["id"]]
    assert found["credentials"][0]["status"] == "revoked" and len(found["credentials"][0]["statusEntries"]) == 2
    _, none = run_json(capsys, "credentials", "--subject", "did:example:nobody", "--data", data)
    assert none == {"credentials": []}
    # The signed list in the store has the bit set.
    with sqlite3.connect(tmp_path / "data" / "vcnode.sqlite3") as db:
        (body,) = db.execute("SELECT credential FROM status_lists WHERE purpose = 'revocation'").fetchone()
    from status.bitstring import Bitstring

    entry = next(e for e in vc["credentialStatus"] if e["statusPurpose"] == "revocation")
    bits = Bitstring.decode(json.loads(body)["credentialSubject"]["encodedList"])
    assert bits.get(int(entry["statusListIndex"])) == 1


def test_issue_refuses_unreadable_or_foreign_input(tmp_path, capsys):
    data = str(tmp_path / "data")
    init(capsys, data)
    assert main(["issue", str(tmp_path / "missing.json"), "--data", data]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["issue", str(bad), "--data", data]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    twice = tmp_path / "twice.json"
    twice.write_text('{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], '
                     '"credentialSubject": {"id": "did:example:x", "name": "Ada", "name": "Eve"}}')
    assert main(["issue", str(twice), "--data", data]) == 2
    assert "the member 'name' appears twice" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": "did:web:someone-else.example", "credentialSubject": {"id": "did:example:x"},
    }))
    assert main(["issue", str(other), "--data", data]) == 2
    assert "someone-else" in capsys.readouterr().err


async def test_serve_with_tls_uses_an_https_base_url(tmp_path, unused_tcp_port):
    import shutil
    import signal
    import ssl
    import subprocess
    import sys

    import aiohttp

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(tmp_path / "d"), "--port", str(unused_tcp_port),
        "--tls-cert", str(cert), "--tls-key", str(key),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"https://127.0.0.1:{unused_tcp_port}/.well-known/did.json", ssl=context) as response:
                        document = await response.json(content_type=None)
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("vcnode serve --tls-cert did not come up")
        # The default base URL follows the scheme: https://localhost:PORT.
        assert document["id"] == f"did:web:localhost%3A{unused_tcp_port}"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert f"base URL https://localhost:{unused_tcp_port}" in err.decode()


@pytest.mark.parametrize("passphrase", [None, "correct horse battery staple"])
async def test_processes_initialising_one_empty_folder_at_once_agree_on_one_master_key(tmp_path, passphrase):
    """``vcnode`` commands (and, later, server workers) may start together on a fresh folder:
    they end up with one master key and one default issuer, whose key every one can open."""
    import sys

    data = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_")}
    env["VCNODE_KDF"] = "interactive"
    if passphrase:
        env["VCNODE_PASSPHRASE"] = passphrase

    async def vcnode(*argv: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "node", *argv, "--data", str(data), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode, out.decode(), err.decode()

    runs = await asyncio.gather(*(vcnode("init", "--json") for _ in range(3)))
    assert [code for code, _, _ in runs] == [0, 0, 0], [err[-1500:] for _, _, err in runs]
    assert len({out for _, out, _ in runs}) == 1  # the same default issuer, the same key
    credential = tmp_path / "vc.json"
    credential.write_text(json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:alice"},
    }))
    code, out, err = await vcnode("issue", str(credential))
    assert code == 0, err
    assert json.loads(out)["proof"]["verificationMethod"].startswith("did:web:localhost%3A8443#z6Mk")

"""The command line as operators expect it and the achievement URL's JSON-LD (issue 12, points 7
and 8), on the real CLI in subprocesses beside a running ``vcnode serve``.

``--json`` output is held to the HTTP API's answer for the same thing; the achievement URL's
Open Badges 3.0 Achievement to the one inside a credential ``vcnode issue-batch`` signed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import signal
import struct
import sys
import termios
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from postgres_server import fresh_schema
from served_node import bearer, cli, clean_env, served
from support import OFFERED_ACHIEVEMENT
from vc.jsonld import expand
from vc.loader import default_loader

# The shared complete achievement (slug ds-101), its ECTS as a CSV or form would carry them: a
# plain decimal string is read as a number.
ACHIEVEMENT: dict[str, Any] = {**OFFERED_ACHIEVEMENT, "ects": "2.5"}
OB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"


def define(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "course.json"
    path.write_text(json.dumps({**ACHIEVEMENT, **changes}), encoding="utf-8")
    return path


async def test_json_output_is_what_the_http_api_answers(tmp_path: Path, unused_tcp_port: int) -> None:
    async with served(tmp_path / "data", unused_tcp_port) as node, aiohttp.ClientSession() as http:
        where = node.where()
        _, out, _ = await cli("achievement", "create", str(define(tmp_path)), *where, "--json")
        created = json.loads(out)
        assert created["ects"] == 2.5
        here = created["id"].replace(node.base_url, node.url)  # its URL, at the address the node listens on
        _, out, _ = await cli("achievement", "list", *where, "--json")
        listed = json.loads(out)
        async with http.get(f"{node.url}/issuers/default/achievements") as resp:
            assert await resp.json() == listed == {"achievements": [created]}
        async with http.get(here + "?format=definition") as resp:
            assert await resp.json() == created

        # Issue two with the CLI, then change the status of one with the CLI and of the other over HTTP.
        learners = tmp_path / "learners.csv"
        learners.write_text("Learner Name,E-mail\nZoë Ñúñez,zoe@example.edu\nAmir Haddad,\n", encoding="utf-8")
        _, out, _ = await cli("issue-batch", "ds-101", str(learners), *where, "--no-progress")
        first, second = (json.loads(line) for line in out.splitlines())
        assert first["credentialSubject"]["identifier"][0]["identityHash"] == "Zoë Ñúñez"
        _, out, _ = await cli("token", "create", "--scopes", "status", *where, "--json")
        token = json.loads(out)["token"]
        _, out, _ = await cli("revoke", first["id"], *where, "--json")
        by_cli = json.loads(out)
        async with http.post(f"{node.url}/credentials/status", json={"credentialId": second["id"], "status": "revoked"},
                             headers=bearer(token)) as resp:
            by_http = await resp.json()
        assert set(by_cli) == set(by_http) and by_cli["status"] == by_http["status"] == "revoked"
        assert by_cli["credentialId"] == first["id"]

        # vcnode verify and POST /credentials/verify give the same verdict on the same checks.
        vc_file = tmp_path / "vc.json"
        vc_file.write_text(json.dumps(first), encoding="utf-8")
        code, out, _ = await cli("verify", str(vc_file), "--json", "--allow-insecure", f"localhost:{unused_tcp_port}", check=False)
        assert code == 1
        local = json.loads(out)
        async with http.post(f"{node.url}/credentials/verify", json={"verifiableCredential": first}) as resp:
            remote = await resp.json()
        assert local["verified"] is remote["verified"] is False
        assert [(c["check"], c["outcome"]) for c in local["checks"]] == [(c["check"], c["outcome"]) for c in remote["checks"]]
        assert [e["code"] for e in local["errors"]] == [e["code"] for e in remote["errors"]] == ["STATUS_CHECK_FAILED"]
        assert local["microcredential"] == remote["microcredential"]

        # vcnode resolve gives the document the node serves.
        did = f"did:web:localhost%3A{unused_tcp_port}"
        _, out, _ = await cli("resolve", did, "--json", "--allow-insecure", f"localhost:{unused_tcp_port}")
        async with http.get(f"{node.url}/.well-known/did.json") as resp:
            assert json.loads(out)["didDocument"] == await resp.json(content_type=None)

        # --- point 8: the achievement URL answers the OB 3.0 Achievement the credentials carry ---
        for accept, media in (("application/ld+json", "application/ld+json"), ("application/json", "application/json"), ("*/*", "application/json")):
            async with http.get(here, headers={"Accept": accept}) as resp:
                assert resp.status == 200 and resp.content_type == media, accept
                assert resp.headers["Vary"] == "Accept"
                document = await resp.json(content_type=None)
        carried = first["credentialSubject"]["achievement"]
        assert document["@context"] == first["@context"]
        assert {k: v for k, v in document.items() if k not in ("@context", "creator")} == carried
        assert document["id"] == created["id"] and document["type"] == ["Achievement"]
        assert document["achievementType"] == "MicroCredential" and document["creditsAvailable"] == 2.5
        assert document["creator"] == first["issuer"] and document["creator"]["id"] == did
        (node_object,) = expand(document, loader=default_loader())  # safe mode: nothing undefined
        assert node_object["@type"] == [OB + "Achievement"] and OB + "creator" in node_object
        async with http.get(here, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}) as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            assert "Data Science Fundamentals" in await resp.text()
        async with http.get(here + "?format=ob2") as resp:
            assert resp.status == 400 and resp.content_type == "application/problem+json"


async def test_csv_headers_match_whatever_their_case_and_punctuation(tmp_path: Path) -> None:
    data = ("--data", str(tmp_path / "data"))
    await cli("init", *data)
    await cli("achievement", "create", str(define(tmp_path)), *data)
    learners = tmp_path / "learners.csv"
    learners.write_bytes(
        "\ufeffLEARNER-NAME; ,E-Mail, Valid From ,Idempotency Key\n"
        "Zoë Ñúñez,zoe@example.edu,2025-06-01,k1\n".encode("utf-8")
    )
    # The header "LEARNER-NAME; " is learner_name without its punctuation.
    code, out, err = await cli("issue-batch", "ds-101", str(learners), *data, "--no-progress", "--json")
    assert code == 0, err
    (vc,) = (json.loads(line) for line in out.splitlines())
    assert vc["validFrom"] == "2025-06-01T00:00:00Z"
    assert vc["credentialSubject"]["identifier"][1]["identityType"] == "emailAddress"
    assert json.loads(err.splitlines()[-1]) == {"rows": 1, "issued": 1, "replayed": [], "refused": [], "out": None, "written": 1, "notKept": []}

    twice = tmp_path / "twice.csv"
    twice.write_text("Name,Learner Name,e_mail\nA,B,a@example.edu\n", encoding="utf-8")
    code, _, err = await cli("issue-batch", "ds-101", str(twice), *data, check=False)
    assert code == 2
    assert "the headers 'Name' and 'Learner Name' are both the name column; keep one" in err
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("name,mail address\nA,a@example.edu\n", encoding="utf-8")
    code, _, err = await cli("issue-batch", "ds-101", str(unknown), *data, check=False)
    assert code == 2 and "unknown column(s) 'mail address'" in err and "case, spaces and punctuation do not matter" in err


async def test_standard_input_is_utf8_whatever_the_locale_and_cells_are_bounded(tmp_path: Path) -> None:
    data = ("--data", str(tmp_path / "data"))
    await cli("init", *data)
    await cli("achievement", "create", str(define(tmp_path)), *data)
    rows = "name,evidence\nZoë Ñúñez,\nLong Evidence," + "x" * 10_001 + "\n"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "issue-batch", "ds-101", "-", *data, "--no-progress", "--json", "--out", str(tmp_path / "o.jsonl"),
        env=clean_env({"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"}),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(("\ufeff" + rows).encode("utf-8"))
    assert proc.returncode == 1, err  # one row refused
    (vc,) = (json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines())
    assert vc["credentialSubject"]["identifier"][0]["identityHash"] == "Zoë Ñúñez"
    summary = json.loads(err.decode("ascii").splitlines()[-1])
    assert summary["issued"] == 1
    assert summary["refused"] == [{"line": 3, "problems": ["the 'evidence' cell holds more than 10000 characters"]}]


def _issue_batch_on_a_terminal(csv_path: Path, data: Path) -> tuple[int, str]:
    """issue-batch with its standard error on a pseudo-terminal (where the bar is drawn)."""
    import subprocess

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal's size: tqdm sizes the bar by it
    proc = subprocess.Popen(
        [sys.executable, "-m", "node", "issue-batch", "ds-101", str(csv_path), "--data", str(data), "--out", str(data.parent / "out.jsonl")],
        env=clean_env({"COLUMNS": "120"}), stdout=subprocess.DEVNULL, stderr=slave,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(60), seen.decode("utf-8", "replace")


async def test_the_progress_bar_counts_only_new_work(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await cli("init", "--data", str(data))
    await cli("achievement", "create", str(define(tmp_path)), "--data", str(data))
    learners = tmp_path / "learners.csv"
    learners.write_text("name\n" + "".join(f"Learner {i}\n" for i in range(3)), encoding="utf-8")
    code, screen = await asyncio.to_thread(_issue_batch_on_a_terminal, learners, data)
    assert code == 0 and "issuing" in screen and "3/3" in screen and "already issued 0" in screen
    # Two rows more and one refused: the bar is of the two new ones; the three done are beside it.
    learners.write_text("name,valid_from\n" + "".join(f"Learner {i},\n" for i in range(5)) + "Late,not a date\n", encoding="utf-8")
    code, screen = await asyncio.to_thread(_issue_batch_on_a_terminal, learners, data)
    assert code == 1
    assert "2/2" in screen and "3 already issued, 1 refused" in screen and "/6" not in screen and "/5" not in screen
    assert "issued 2, already issued 3, refused 1 of 6 rows" in screen
    # Nothing new: no bar at all.
    learners.write_text("name\n" + "".join(f"Learner {i}\n" for i in range(5)), encoding="utf-8")
    code, screen = await asyncio.to_thread(_issue_batch_on_a_terminal, learners, data)
    assert code == 0 and "issuing" not in screen and "issued 0, already issued 5, refused 0 of 5 rows" in screen
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 5


async def test_a_database_password_given_as_a_query_parameter_is_never_shown(tmp_path: Path, unused_tcp_port_factory) -> None:
    """libpq's ?password= (and ?sslpassword=) is as secret as the userinfo's: masked by config
    show, and in the error every command and serve print when the database does not answer
    (serve's is the journal's line)."""
    secret = "TopSecretPW"
    data = ("--data", str(tmp_path / "data"))
    async with fresh_schema() as url:  # the test server trusts its clients: the password is not checked
        out = (await cli("config", "show", *data, env={"VCNODE_DATABASE_URL": f"{url}&password={secret}"}))[1]
        assert json.loads(out)["database_url"] == f"{url}&password=***"
    closed = unused_tcp_port_factory()  # nothing listens there
    env = {"VCNODE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed}/x?password={secret}&sslpassword={secret}2"}
    code, out, err = await cli("config", "show", *data, env=env, check=False)
    assert code == 1 and "password=***&sslpassword=***" in err and secret not in out + err
    assert json.loads(out)["database_url"].endswith("?password=***&sslpassword=***")
    code, out, err = await cli("issuer", "list", *data, env=env, check=False)
    assert code == 2 and "cannot connect to" in err and "password=***" in err, err
    assert secret not in out + err
    code, out, err = await cli(
        "serve", *data, "--port", str(unused_tcp_port_factory()), env={**env, "VCNODE_BASE_URL": "http://localhost:1"}, check=False
    )
    assert code == 2 and "password=***" in err, err
    assert secret not in out + err


async def test_config_show_prints_what_it_can_when_the_database_does_not_answer(tmp_path: Path, unused_tcp_port_factory) -> None:
    """The operator's first question when a node will not start: the configuration, printed
    whole although the PostgreSQL it names does not answer (down, or a wrong port), with one
    line saying so and naming the values only the database holds; exit 1, a partial answer."""
    data = ("--data", str(tmp_path / "data"))
    async with fresh_schema() as url:
        env = {"VCNODE_DATABASE_URL": url, "VCNODE_PASSPHRASE": "pass phrase 12"}
        await cli("init", *data, "--base-url", "https://registry.example.edu", env=env)
        _, out, _ = await cli("config", "show", *data, env=env)
        assert json.loads(out)["recorded_base_url"] == "https://registry.example.edu"
        closed = unused_tcp_port_factory()  # the same database at a port nothing listens on
        parts = urlsplit(url)
        user, at, _ = parts.netloc.rpartition("@")
        wrong = urlunsplit(parts._replace(netloc=f"{user}{at}127.0.0.1:{closed}"))
        code, out, err = await cli(
            "config", "show", *data, "--port", "9443", env={**env, "VCNODE_DATABASE_URL": wrong, "VCNODE_LOG_LEVEL": "WARNING"},
            check=False,
        )
    assert code == 1, err
    shown = json.loads(out)
    assert shown["port"] == 9443 and shown["log_level"] == "WARNING" and shown["passphrase"] == "(set)"
    assert shown["database_url"] == wrong  # no password in it to mask
    assert shown["unread"] == ["recorded_base_url", "base_url", "effective_base_url"]
    assert "recorded_base_url" not in shown and "base_url" not in shown
    assert err.count("\n") == 1 and err.startswith(f"vcnode: the store did not answer (cannot connect to {wrong}: ")
    assert err.rstrip().endswith("recorded_base_url, base_url and effective_base_url are left out"), err
    assert "Traceback" not in err


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_enable_suspension_beside_a_serving_node(tmp_path: Path, unused_tcp_port: int, backend: str) -> None:
    """An issuer made without suspension gets it from the operator's command while the node
    serves the same store (SQLite, or PostgreSQL as replicas share it): the refusal to suspend
    names the command, the node issues with a suspension entry within its refresh bound, that
    credential is suspended and reinstated over HTTP, and running the command again changes
    nothing."""
    refresh_ms = 300
    async with contextlib.AsyncExitStack() as stack:
        env = {"VCNODE_ISSUER_REFRESH_MS": str(refresh_ms), "VCNODE_PASSPHRASE": "pass phrase 12"}
        if backend == "postgresql":
            env["VCNODE_DATABASE_URL"] = await stack.enter_async_context(fresh_schema())
        node = await stack.enter_async_context(served(tmp_path / "data", unused_tcp_port, env=env))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        where = node.where()
        _, out, _ = await cli("token", "create", "--scopes", "issue,status", *where, "--json", env=env)
        auth = bearer(json.loads(out)["token"])
        did = f"did:web:localhost%3A{unused_tcp_port}"

        async def issue(subject: str) -> dict[str, Any]:
            vc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "issuer": did, "credentialSubject": {"id": subject}}
            async with http.post(f"{node.url}/credentials/issue", json={"credential": vc}, headers=auth) as resp:
                body = await resp.json()
                assert resp.status == 201, body
                return body["verifiableCredential"]

        async def set_status(vc: dict[str, Any], status: str) -> tuple[int, Any]:
            async with http.post(f"{node.url}/credentials/status", json={"credentialId": vc["id"], "status": status},
                                 headers=auth) as resp:
                return resp.status, await resp.json(content_type=None)

        before = await issue("did:example:before")
        assert before["credentialStatus"]["statusPurpose"] == "revocation"
        code, problem = await set_status(before, "suspended")
        assert code == 409 and "vcnode issuer enable-suspension default" in problem["detail"], problem

        code, out, err = await cli("issuer", "enable-suspension", "default", *where, env=env)
        assert code == 0, err
        assert out.startswith("issuer default: suspension enabled (status purposes revocation,suspension)\n")
        assert f"a running node issues them within {refresh_ms} ms" in out
        # The serving node follows within its bound (it asks the store at most every refresh_ms).
        start = time.monotonic()
        after = await issue("did:example:after")
        while not isinstance(after["credentialStatus"], list):
            assert time.monotonic() - start < refresh_ms / 1000 + 5, "the served node still issues without suspension"
            await asyncio.sleep(refresh_ms / 4000)
            after = await issue("did:example:after")
        assert [e["statusPurpose"] for e in after["credentialStatus"]] == ["revocation", "suspension"]
        suspension = after["credentialStatus"][1]["statusListCredential"]
        assert suspension == f"{node.base_url}/status/default/suspension/1"
        assert (await set_status(after, "suspended"))[1]["status"] == "suspended"
        async with http.get(f"{node.url}/status/default/suspension/1") as resp:
            assert resp.status == 200 and (await resp.json(content_type=None))["id"] == suspension
        assert (await set_status(after, "active"))[1]["status"] == "active"
        assert (await set_status(before, "suspended"))[0] == 409  # issued before: still cannot

        code, out, _ = await cli("issuer", "enable-suspension", "default", *where, "--json", env=env)
        assert code == 0 and json.loads(out) == {
            "issuer": "default", "statusPurposes": ["revocation", "suspension"], "enabledNow": False
        }
        _, out, _ = await cli("issuer", "show", "default", *where, "--json", env=env)
        assert json.loads(out)["statusPurposes"] == ["revocation", "suspension"]


async def test_init_on_postgresql_says_the_base_url_is_recorded_in_the_database(tmp_path: Path) -> None:
    async with fresh_schema() as url:
        _, out, _ = await cli("init", "--data", str(tmp_path / "data"), "--base-url", "https://registry.example.edu",
                              env={"VCNODE_DATABASE_URL": url, "VCNODE_PASSPHRASE": "pass phrase 12"})
    assert "base URL: https://registry.example.edu (recorded in the database;" in out
    _, out, _ = await cli("init", "--data", str(tmp_path / "sqlite"))
    assert "(recorded in the folder;" in out


async def test_restore_without_the_passphrase_speaks_of_the_backup(tmp_path: Path) -> None:
    env = {"VCNODE_PASSPHRASE": "pass phrase 12"}
    await cli("init", "--data", str(tmp_path / "node"), env=env)
    await cli("backup", str(tmp_path / "b.sqlite3"), "--data", str(tmp_path / "node"), env=env)
    code, _, err = await cli("restore", str(tmp_path / "b.sqlite3"), "--data", str(tmp_path / "new"), check=False)
    assert code == 2 and not (tmp_path / "new").exists()
    assert err == "vcnode: this backup's issuer keys are sealed with the node's passphrase, which no backup holds; set VCNODE_PASSPHRASE to it\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_single_process_says_when_it_stops(tmp_path: Path, unused_tcp_port: int, sig: signal.Signals) -> None:
    """systemd stops with SIGTERM, a terminal with SIGINT; the journal says the node stopped
    and how many requests it still finished (the arbiter of several workers logs gunicorn's)."""
    async with served(tmp_path / "data", unused_tcp_port) as node:
        node.proc.send_signal(sig)
        assert await asyncio.wait_for(node.proc.wait(), 20) == 0
    lines = node.log().splitlines()
    stopping = [i for i, line in enumerate(lines) if "stopping: no longer accepting connections; draining 0 requests in progress" in line]
    assert stopping and lines[-1].endswith("node.serve: stopped") and stopping[0] < len(lines) - 1, lines[-5:]


@pytest.mark.parametrize(
    "command",
    [("credentials",), ("issuer", "list", "--json"), ("issuer", "list"), ("config", "show"), ("token", "list", "--json")],
)
async def test_output_into_a_reader_that_stopped_ends_quietly(tmp_path: Path, command: tuple[str, ...]) -> None:
    """`vcnode credentials | head`: the reader gone, the command ends without a traceback, exit
    141 as a program ended by SIGPIPE (the output was not all delivered)."""
    data = tmp_path / "data"
    await cli("init", "--data", str(data))
    read, write = os.pipe()
    os.close(read)  # the reader has gone before a byte is written: the first write fails
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "node", *command, "--data", str(data), env=clean_env(), stdout=write, stderr=asyncio.subprocess.PIPE
        )
    finally:
        os.close(write)
    _, err = await proc.communicate()
    assert (proc.returncode, err.decode()) == (141, "")


async def test_a_mistyped_variable_is_named_and_init_says_how_the_keys_are_protected(tmp_path: Path) -> None:
    """A mistyped VCNODE_PASSPHRASE at the first init gives the folder key-file protection for
    good: the variable is named as unknown, with the setting meant, and init says which
    protection the folder got."""
    data = tmp_path / "data"
    _, out, err = await cli("init", "--data", str(data), env={"VCNODE_PASSPHARSE": "secret"})
    assert "VCNODE_PASSPHARSE is not a vcnode setting and is ignored; did you mean VCNODE_PASSPHRASE?" in err
    assert f"issuer keys: sealed with the key file {data / 'master.key'}" in out
    _, out, _ = await cli("init", "--data", str(tmp_path / "pp"), env={"VCNODE_PASSPHRASE": "pass phrase 12"})
    assert "issuer keys: sealed with a key derived from VCNODE_PASSPHRASE" in out
    _, out, err = await cli("config", "show", "--data", str(data), env={"VCNODE_PROT": "8000"})
    assert "VCNODE_PROT is not a vcnode setting and is ignored; did you mean VCNODE_PORT?" in err
    assert json.loads(out)["port"] == 8443
    # The project's own other names are not warned about (tests/node/test_config.py holds them all).
    _, _, err = await cli("issuer", "list", "--data", str(data), env={"VCNODE_TEST_DATABASE_URL": "postgresql://x@y/z"})
    assert "not a vcnode setting" not in err
    code, _, err = await cli("config", "show", "--data", str(data), env={"VCNODE_ALLOW_INSECURE_HOSTS": "notahostport"}, check=False)
    assert code == 2 and err.startswith("vcnode: allow_insecure_hosts: 'notahostport' is not host:port") and "Traceback" not in err

"""The disk fills up, the data folder turns read-only, a stuck process holds the store's lock
(issue 14.2): a served node answers writes with a 503 problem (Retry-After) and keeps serving
reads, the CLI says what is wrong in one line (no traceback, no hang), nothing confirmed is
lost, and once the cause is gone the same node takes writes again without a restart.

A full disk is a small tmpfs mounted for the test (ENOSPC, as a real full disk). Where the
test may not mount (no CAP_SYS_ADMIN), it is a file-size limit set on the node's process
(RLIMIT_FSIZE with prlimit: a write past it fails with EFBIG, which SQLite reports as an I/O
error, as it would a failing disk); the node must answer the same way. A read-only folder is
the same tmpfs remounted read-only (what ext4's errors=remount-ro does to a data disk); as
root nothing else makes a folder read-only, so without mounting that part is skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import aiohttp
import pytest

from crashkit import check_lists, check_store, env, make_node, token
from running import bearer, cli
from running import serve as serve_workers

# Two worker processes under gunicorn's arbiter, as `serve` runs on this machine by default: a
# worker booting while the fault holds (the disk full, the lock held) takes no write (the
# store's migrations are checked with a read first), so it boots and answers the fault as the
# others do, rather than failing to boot and making the arbiter halt the node.
def serve(data: Path, port: int):  # noqa: ANN201
    return serve_workers(data, port, "--workers", "2")


@contextmanager
def small_disk(where: Path, size: str = "3m") -> Iterator[str]:
    """A tmpfs of ``size`` at ``where`` ("tmpfs"), or the plain folder ("rlimit") where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    # VCNODE_CRASH_NO_MOUNT=1 takes the fallback on a machine that could mount (to test it).
    mounted = not os.environ.get("VCNODE_CRASH_NO_MOUNT") and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)], capture_output=True
    ).returncode == 0
    try:
        yield "tmpfs" if mounted else "rlimit"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


async def issue(http: aiohttp.ClientSession, url: str, tok: str, key: str) -> tuple[int, dict, aiohttp.typedefs.LooseHeaders]:
    award = {"achievementId": "ds-101", "learner": {"name": f"Learner {key}"}, "idempotencyKey": key}
    async with http.post(f"{url}/issuers/default/microcredentials", json=award, headers=bearer(tok)) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


def no_tracebacks(text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text.lower(), text[-3000:]


async def test_a_full_disk_answers_503_and_loses_nothing(tmp_path: Path, unused_tcp_port_factory) -> None:
    with small_disk(tmp_path / "disk") as kind:
        data = await make_node(tmp_path / "disk")
        tok = await token(data)
        node = await serve(data, unused_tcp_port_factory())
        if kind == "rlimit":  # the store's files may grow by 1 MiB from here
            biggest = max(p.stat().st_size for p in data.iterdir() if p.is_file())
            resource.prlimit(node.proc.pid, resource.RLIMIT_FSIZE, (biggest + 1024 * 1024, resource.RLIM_INFINITY))
        confirmed: dict[str, dict] = {}
        refused = []
        try:
            async with aiohttp.ClientSession() as http:
                for i in range(3000):
                    status, body, headers = await issue(http, node.url, tok, f"k{i}")
                    if status == 201:
                        confirmed[f"k{i}"] = body["verifiableCredential"]
                        continue
                    assert status == 503, body
                    assert body["type"].endswith("store-unavailable") and headers["Retry-After"]
                    refused.append((f"k{i}", body["detail"]))
                    if len(refused) == 3:
                        break
                assert refused, "the disk never filled up"
                detail = refused[0][1]
                assert ("disk holding the store is full" in detail) if kind == "tmpfs" else ("I/O error" in detail or "full" in detail)
                # Reads go on meanwhile.
                async with http.get(f"{node.url}/healthz") as resp:
                    assert resp.status == 200
                some = next(iter(confirmed.values()))
                async with http.get(f"{node.url}/credentials/{quote(some['id'], safe='')}", headers=bearer(tok)) as resp:
                    assert resp.status == 200
                if kind == "tmpfs":  # the CLI says so too, in one line
                    f = tmp_path / "c.json"
                    f.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}))
                    code, _, err = await cli("issue", str(f), "--data", str(data))
                    assert code == 2 and "full" in err, err
                    no_tracebacks(err)
                # Space comes back: the same node takes writes again, and the refused keys issue once.
                if kind == "tmpfs":
                    remount(tmp_path / "disk", "size=64m")
                else:
                    resource.prlimit(node.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                for key, _ in refused:
                    status, body, _ = await issue(http, node.url, tok, key)
                    assert status in (200, 201), body
                for key, vc in confirmed.items():
                    status, body, _ = await issue(http, node.url, tok, key)
                    assert status == 200 and body["verifiableCredential"] == vc
        finally:
            log = await node.stop()
        no_tracebacks(log)
        summary = check_store(data)
        assert len(summary["credentials"]) == len(confirmed) + len(refused)
        await check_lists(data, tmp_path)
        print(f"\n{kind}: {len(confirmed)} issued before the disk was full; first refusal: {refused[0][1]}")


async def test_a_read_only_data_folder_answers_503_and_loses_nothing(tmp_path: Path, unused_tcp_port_factory) -> None:
    """A data disk that turned read-only (remounted so after errors; a live mount with files
    open for writing cannot be switched, so the node meets it at its next start): the node
    starts, serves what it holds (kept credentials, verification, status lists), answers every
    write with a 503 problem, and loses nothing; writable again, it takes writes."""
    with small_disk(tmp_path / "disk", "64m") as kind:
        if kind != "tmpfs":
            pytest.skip("making a folder read-only for root needs a read-only mount, and this machine allows no mount")
        data = await make_node(tmp_path / "disk")
        tok = await token(data)
        confirmed = {}
        node = await serve(data, unused_tcp_port_factory())
        try:
            async with aiohttp.ClientSession() as http:
                for i in range(5):
                    status, body, _ = await issue(http, node.url, tok, f"k{i}")
                    assert status == 201
                    confirmed[f"k{i}"] = body["verifiableCredential"]
        finally:
            await node.stop()
        remount(tmp_path / "disk", "ro")
        try:
            node = await serve(data, unused_tcp_port_factory())
            try:
                async with aiohttp.ClientSession() as http:
                    status, body, headers = await issue(http, node.url, tok, "k-ro")
                    assert status == 503 and body["type"].endswith("store-unavailable") and headers["Retry-After"], body
                    assert "read-only" in body["detail"], body
                    vc = confirmed["k0"]
                    async with http.get(f"{node.url}/credentials/{quote(vc['id'], safe='')}", headers=bearer(tok)) as resp:
                        assert resp.status == 200 and (await resp.json())["verifiableCredential"] == vc
                    async with http.post(f"{node.url}/credentials/status", json={"credentialId": vc["id"], "status": "revoked"}, headers=bearer(tok)) as resp:
                        assert resp.status == 503
                    entry = vc["credentialStatus"][0] if isinstance(vc["credentialStatus"], list) else vc["credentialStatus"]
                    list_url = entry["statusListCredential"].replace("https://registry.example.edu", node.url)
                    async with http.get(list_url) as resp:
                        assert resp.status == 200
            finally:
                log = await node.stop()
            no_tracebacks(log)
            assert "read-only" in log
            code, _, err = await cli("revoke", vc["id"], "--data", str(data))
            assert code == 2 and "read-only" in err, err
            no_tracebacks(err)
        finally:
            remount(tmp_path / "disk", "rw")
        node = await serve(data, unused_tcp_port_factory())
        try:
            async with aiohttp.ClientSession() as http:
                status, body, _ = await issue(http, node.url, tok, "k-ro")
                assert status == 201, body
        finally:
            log = await node.stop()
        no_tracebacks(log)
        summary = check_store(data)
        assert set(summary["credentials"]) == {vc["id"] for vc in confirmed.values()} | {body["verifiableCredential"]["id"]}
        await check_lists(data, tmp_path)


async def test_a_store_locked_by_a_stuck_process_is_reported_not_waited_on_forever(tmp_path: Path, unused_tcp_port_factory) -> None:
    data = await make_node(tmp_path)
    tok = await token(data)
    node = await serve(data, unused_tcp_port_factory())
    stuck = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(data / 'vcnode.sqlite3')!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(120)",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert (await stuck.stdout.readline()).strip() == b"locked"
        f = tmp_path / "c.json"
        f.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}))
        async with aiohttp.ClientSession() as http:
            started = time.monotonic()
            (status, body, headers), (code, _, err) = await asyncio.gather(
                issue(http, node.url, tok, "k1"), cli("issue", str(f), "--data", str(data))
            )
            waited = time.monotonic() - started
            assert status == 503 and "locked by another process" in body["detail"] and headers["Retry-After"], body
            assert code == 2 and "locked by another process" in err, err
            no_tracebacks(err)
            assert waited < 30
            async with http.get(f"{node.url}/healthz") as resp:  # reads never wait for a writer
                assert resp.status == 200
            stuck.send_signal(signal.SIGKILL)
            await stuck.wait()
            status, body, _ = await issue(http, node.url, tok, "k1")
            assert status == 201, body
    finally:
        if stuck.returncode is None:
            stuck.kill()
            await stuck.wait()
        log = await node.stop()
    no_tracebacks(log)
    check_store(data)
    print(f"\nlocked store: the request and the command each answered after {waited:.1f}s")

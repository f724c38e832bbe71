"""Real nodes for end-to-end tests: in-process aiohttp servers on 127.0.0.1, and the real CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from node.app import create_app
from node.config import Config


@dataclass
class RunningNode:
    url: str
    data: Path
    runner: web.AppRunner
    token: str = ""

    @property
    def did(self) -> str:
        return "did:web:127.0.0.1%3A" + self.url.rsplit(":", 1)[1]

    def where(self) -> tuple[str, ...]:
        """The CLI arguments naming this node's data folder and base URL."""
        return ("--data", str(self.data), "--base-url", self.url, "--json")


async def start(data: Path, port: int, **config: Any) -> RunningNode:
    """A node served on 127.0.0.1:PORT under the base URL http://127.0.0.1:PORT. did:web names
    hosts, not IP addresses, so a node refuses such a base URL unless that host:port is allowed
    explicitly, as here (and in the conformance kit); tests/e2e/test_domain.py runs one under a
    domain name instead."""
    allowed = (*config.pop("allow_insecure_hosts", ()), f"127.0.0.1:{port}")
    cfg = Config().replace(
        data_dir=data, host="127.0.0.1", port=port, base_url=f"http://127.0.0.1:{port}", allow_insecure_hosts=allowed, **config
    )
    runner = web.AppRunner(create_app(cfg))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return RunningNode(f"http://127.0.0.1:{port}", data, runner)


async def vcnode(*args: str) -> Any:
    """Run the real CLI in a subprocess (the running node keeps serving meanwhile)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ServedNode:
    """``vcnode serve`` in a process of its own (what an operator runs)."""

    url: str  # where it listens (http://127.0.0.1:PORT), whatever its base URL
    data: Path
    proc: asyncio.subprocess.Process

    async def stop(self) -> str:
        """Stop it (SIGINT, as Ctrl-C) and return what it logged."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(self.proc.communicate(), 30)
        return err.decode()


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the caller's VCNODE_* settings (plus ``extra``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_")}
    env.setdefault("VCNODE_KDF", "interactive")
    env.update(extra)
    return env


async def serve(data: Path, port: int, *flags: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> ServedNode:
    """Start ``vcnode serve --data DATA --port PORT FLAGS`` and wait until /healthz answers."""
    import aiohttp

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(data), "--host", "127.0.0.1", "--port", str(port), *flags,
        env=env or clean_env(), cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    node = ServedNode(f"http://127.0.0.1:{port}", data, proc)
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if proc.returncode is not None:
                break
            try:
                async with session.get(f"{node.url}/healthz") as response:
                    if response.status == 200:
                        return node
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    log = await node.stop() if proc.returncode is None else (await proc.communicate())[1].decode()
    raise AssertionError(f"vcnode serve did not come up: {log[-3000:]}")


async def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    """The real CLI in a subprocess: (exit code, stdout, stderr), whatever the outcome."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", *args, env=env or clean_env(), cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()

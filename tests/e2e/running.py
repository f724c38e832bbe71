"""Real nodes for end-to-end tests: in-process aiohttp servers on 127.0.0.1, and the real CLI."""

from __future__ import annotations

import asyncio
import json
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

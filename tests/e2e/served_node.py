"""``vcnode serve`` as an operator runs it: a subprocess on 127.0.0.1 whose log is kept in a file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Mapping

import aiohttp


@dataclass
class ServedNode:
    url: str
    data: Path
    log_path: Path
    proc: asyncio.subprocess.Process

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    @property
    def base_url(self) -> str:
        """Its base URL: serve's default for a fresh folder, http://localhost:PORT."""
        return "http://localhost:" + self.url.rsplit(":", 1)[1]

    def where(self) -> tuple[str, ...]:
        """The CLI arguments naming this node's data folder (its base URL is the one recorded)."""
        return ("--data", str(self.data))


def clean_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment without the caller's VCNODE_* and metrics settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env["VCNODE_KDF"] = "interactive"
    env["VCNODE_WORKERS"] = "1"  # one process unless a test asks for more (tests/e2e/test_workers.py)
    env.update(extra)
    return env


@asynccontextmanager
async def served(
    data: Path, port: int, *, env: Mapping[str, str] = {}, args: tuple[str, ...] = (), log_name: str = "serve.log"
) -> AsyncIterator[ServedNode]:
    """Run ``vcnode serve --data DATA --port PORT ARGS`` until the block ends (SIGINT, as Ctrl-C)."""
    log_path = data.parent / log_name
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port), *args,
            env=clean_env(env), stdout=log, stderr=log,
        )
    node = ServedNode(f"http://127.0.0.1:{port}", data, log_path, proc)
    try:
        await _wait_until_ready(node)
        yield node
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _wait_until_ready(node: ServedNode) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if node.proc.returncode is not None:
                raise AssertionError(f"vcnode serve exited with {node.proc.returncode}:\n{node.log()}")
            try:
                async with session.get(f"{node.url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"vcnode serve did not come up:\n{node.log()}")


async def cli(*args: str, env: Mapping[str, str] = {}, check: bool = True) -> tuple[int, str, str]:
    """The real CLI in a subprocess: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", *args, env=clean_env(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if check:
        assert proc.returncode == 0, f"vcnode {' '.join(args)}: exit {proc.returncode}\n{err.decode()}"
    return proc.returncode or 0, out.decode(), err.decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

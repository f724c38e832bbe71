"""A real ``vcnode serve`` process on 127.0.0.1 for tests and benchmarks that need the node as
operators run it: its own process (its memory, its file descriptors), real sockets, the
``ConnectionGuard`` in front, tokens made with ``vcnode token create``.

    with serve_node(tmp_path / "node", rate_limit_per_second=0) as node:
        token = node.token("admin")
        urllib.request.urlopen(node.url + "/healthz")

Settings are passed as ``VCNODE_*`` environment variables (tuples joined by commas). The node
log goes to ``<folder>/node.log``; ``ServedNode.internal_errors()`` lists the requests the node
answered with a 500, which no test may leave behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env_value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class ServedNode:
    folder: Path
    port: int
    env: dict[str, str] = field(repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    tokens: dict[tuple[str, str | None], str] = field(default_factory=dict, repr=False)
    # The soft limit on open files the node process starts with (as a service manager sets it;
    # the node raises it as far as it needs, up to the hard limit); None: this process's own.
    files_limit: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def did(self) -> str:
        """The default issuer's did:web (the base URL is http://127.0.0.1:PORT)."""
        return f"did:web:127.0.0.1%3A{self.port}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "node.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``vcnode ARGS --data DIR --base-url URL`` (the operator's side)."""
        proc = subprocess.run(
            [sys.executable, "-m", "node", *args, "--data", str(self.data), "--base-url", self.url],
            env=self.env, capture_output=True, text=True, timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"vcnode {' '.join(args)} failed: {proc.stderr[-2000:]}")
        return proc

    def token(self, scopes: str, issuer: str | None = None) -> str:
        """A token made with ``vcnode token create`` (one per scopes and issuer)."""
        key = (scopes, issuer)
        if key not in self.tokens:
            args = ["token", "create", "--scopes", scopes, "--json"] + (["--issuer", issuer] if issuer else [])
            self.tokens[key] = json.loads(self.cli(*args).stdout)["token"]
        return self.tokens[key]

    def start(self, timeout: float = 60.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        command = [sys.executable, "-m", "node", "serve", "--data", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)]
        if self.files_limit:
            # Through the shell's ulimit, which then execs the node (the same process): a
            # preexec_fn is not safe in a process with threads, as this one may have.
            command = ["/bin/sh", "-c", f'ulimit -S -n {int(self.files_limit)} && exec "$@"', "sh", *command]
        self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"vcnode serve exited with {self.process.returncode}: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"vcnode serve did not answer /healthz within {timeout} s: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then wait; the exit code (None if it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def rss_bytes(self) -> int:
        """The node process's resident set size, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def internal_errors(self) -> list[str]:
        """Lines of the node's log that record a 500 (a bug, whatever the request was)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "internal error handling" in line or "Error handling request" in line]


def node_env(port: int, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_")}
    env["VCNODE_KDF"] = "interactive"  # the passphrase-free key file; a fast start
    # One process (not one per core): these tests measure the node process's memory, files and
    # limits; tests/e2e/test_workers.py runs several.
    env["VCNODE_WORKERS"] = "1"
    env["VCNODE_LOG_LEVEL"] = env.get("VCNODE_TEST_LOG_LEVEL", "INFO")
    # did:web names hosts, not IP addresses: a node refuses the base URL http://127.0.0.1:PORT
    # unless that host:port is allowed explicitly, as here (tests/e2e/running.py does the same).
    own = f"127.0.0.1:{port}"
    allowed = settings.pop("allow_insecure_hosts", ())
    allowed = [*(allowed.split(",") if isinstance(allowed, str) else allowed), own]
    settings = {"base_url": f"http://{own}", "allow_insecure_hosts": [a for a in allowed if a], **settings}
    for name, value in settings.items():
        env["VCNODE_" + name.upper()] = _env_value(value)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@contextlib.contextmanager
def serve_node(folder: Path, *, port: int | None = None, tokens: tuple[tuple[str, str | None], ...] = (),
               files_limit: int | None = None, **settings: Any) -> Iterator[ServedNode]:
    """Start ``vcnode serve`` with ``settings`` (after making ``tokens``, as (scopes, issuer)), stop it after."""
    port = port or free_port()
    node = ServedNode(folder, port, node_env(port, **settings), files_limit=files_limit)
    folder.mkdir(parents=True, exist_ok=True)
    node.cli("init")  # only init and serve make a node of a folder; the tokens need one first
    for scopes, issuer in tokens:
        node.token(scopes, issuer)
    node.start()
    try:
        yield node
    finally:
        node.stop()

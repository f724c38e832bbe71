"""``vcnode serve --workers N``: N processes serving one port over one store (issue 13).

gunicorn's arbiter is the supervisor: it binds the port once, forks the workers (each inherits
the listening socket, the kernel hands each new connection to one of them), replaces a worker
that dies, and on SIGTERM closes the port and lets every worker finish what it is serving
(``graceful_timeout``) before it exits. The workers are aiohttp's ``GunicornWebWorker`` (its
event loop, signals and heartbeat to the arbiter), serving the node's app as ``vcnode serve``
does in one process: through ``node.traffic``'s ``GuardedSite`` (the connection limits and
``ProblemRequestHandler``), which aiohttp's own worker would bypass. Each worker opens the node
itself after the fork (``create_app``): its own event loop, store connection, offload pool and
caches. What must hold across them does so through the store: issuers' key changes and
trusted bodies are re-read within ``issuer_refresh_ms``, status-list indices are allocated in
write transactions that take the store's lock first (SQLite in WAL mode), challenges are
spent atomically.

Limits that the node keeps in memory (``max_connections``, ``max_connections_per_client``, the
rate limit) are each worker's: with N workers a client may get up to N times as much.
Metrics add up across workers (prometheus_client's multiprocess mode, its directory set by
``serve`` before the workers start).
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web
from aiohttp.worker import GunicornWebWorker
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger as GunicornLogger

from node.config import Config
from node.cores import cpus_to_pin, pin_process, usable_cpus
from node.heap import settle_heap
from node.tls import ServerTLS
from node.traffic import NO_UPGRADE_IN_PLACE

log = logging.getLogger("node.serve")

# How long the arbiter lets a worker finish its requests after SIGTERM before killing it: a
# little more than aiohttp's own wait for in-flight handlers (the runner's shutdown_timeout,
# 60 s), so a worker always gets to close its store.
GRACEFUL_SECONDS = 65
# A worker that has not told the arbiter it is alive for this long is killed and replaced (a
# worker tells it every second from its event loop, so only a loop blocked this long misses).
HEARTBEAT_SECONDS = 60


def default_workers() -> int:
    return usable_cpus()


@dataclass(frozen=True)
class WorkerSpec:
    """What each worker needs to make its app after the fork (the arbiter's ``wsgi``)."""

    config: Config
    # Loaded by the arbiter before it forks, and again on its SIGHUP before the new workers
    # fork (``on_reload``): a pair that fails to load then leaves the old one, where a worker
    # loading the files itself would fail to boot and the arbiter would stop the node.
    tls: ServerTLS | None
    make_app: Callable[[Config], web.Application]


class NodeWorker(GunicornWebWorker):  # type: ignore[misc]
    """aiohttp's gunicorn worker, serving the node's app behind its ``GuardedSite``."""

    # The arbiter's signal queue as this worker inherited it (``NodeServer._after_fork``).
    vcnode_arbiter_signals: "queue.SimpleQueue[Any] | list[Any] | None" = None

    def init_signals(self) -> None:
        """aiohttp's handlers, then the stop signals that reached this process before them.

        From the fork until here a worker still has the arbiter's handlers, which put a signal
        in the arbiter's queue: this process's copy of it, read by nobody. A SIGINT to the node
        in that moment (the arbiter sends its workers one SIGQUIT) would be lost, and this
        worker would serve on until the arbiter killed it, ``graceful_timeout`` (65 s) later.
        A stop signal found there was sent to this worker, or to the arbiter before the fork
        (which is stopping every worker): either way this one stops."""
        super().init_signals()
        for sig in inherited_signals(self.vcnode_arbiter_signals):
            if sig == signal.SIGTERM:
                self.handle_exit(sig, None)
            elif sig in (signal.SIGINT, signal.SIGQUIT):
                self.handle_quit(sig, None)

    async def _run(self) -> None:
        from node import traffic

        if not self.alive:  # stopped before it started (``init_signals``)
            return
        spec: WorkerSpec = self.wsgi
        # Before the node opens (its store threads inherit it): this worker's CPU (``NodeServer._choose_cpu``).
        cpu = getattr(self, "vcnode_cpu", None)
        pinned = cpu is not None and pin_process(cpu)
        app = spec.make_app(spec.config)
        # One address, bound by the arbiter: the node's runner and GuardedSite on its socket.
        runner, _ = await traffic.start(app, spec.config, ssl_context=spec.tls.context if spec.tls is not None else None, sock=self.sockets[0])
        settle_heap()
        # Listening and the node opened: the arbiter may count this worker as booted (a worker
        # that fails before this point halts the arbiter instead of being respawned forever).
        self.booted = True
        log.info("worker %d serving%s", os.getpid(), f" on CPU {cpu}" if pinned else "")
        pid = os.getpid()
        try:
            while self.alive:
                self.notify()
                if pid == os.getpid() and self.ppid != os.getppid():
                    self.alive = False
                    log.info("the supervisor is gone; worker %d stops", pid)
                else:
                    await self._wait_next_notify()
        finally:
            # Stops listening, then waits for the requests in flight (aiohttp's graceful
            # shutdown), then closes the node (its store) through the app's cleanup.
            await runner.cleanup()

    def handle_exit(self, sig: int, frame: Any) -> None:
        # SIGTERM: stop now rather than at the next heartbeat tick.
        super().handle_exit(sig, frame)
        self._notify_waiter_done()


def inherited_signals(inherited: "queue.SimpleQueue[Any] | list[Any] | None") -> list[Any]:
    """What the arbiter's signal queue holds, taken out: a ``queue.SimpleQueue`` (gunicorn's
    recent arbiters) or a plain list (older ones, which the range this package admits still
    holds); nothing for None."""
    if isinstance(inherited, list):
        taken, inherited[:] = list(inherited), []
        return taken
    taken = []
    while inherited is not None:
        try:
            taken.append(inherited.get_nowait())
        except queue.Empty:
            break
    return taken


class NodeLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own messages (worker booted, exited, replaced) through the node's logging
    (``node.logs``: text or JSON lines, as configured), not in a format of gunicorn's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True


class NodeServer(BaseApplication):  # type: ignore[misc]
    """The gunicorn application: its settings from the node's ``Config``, nothing from the
    command line or a gunicorn configuration file."""

    def __init__(self, spec: WorkerSpec, workers: int) -> None:
        self.spec = spec
        self.workers = workers
        super().__init__()

    def load_config(self) -> None:
        config = self.spec.config
        host = f"[{config.host}]" if ":" in config.host else config.host
        settings = {
            "bind": [f"{host}:{config.port}"],
            "workers": self.workers,
            "worker_class": f"{NodeWorker.__module__}.{NodeWorker.__qualname__}",
            "graceful_timeout": GRACEFUL_SECONDS,
            "timeout": HEARTBEAT_SECONDS,
            "keepalive": config.idle_timeout_seconds,
            "backlog": 2048,
            "proc_name": "vcnode",
            "accesslog": None,  # the node writes its own (node.accesslog)
            "errorlog": "-",
            "logger_class": f"{NodeLogger.__module__}.{NodeLogger.__qualname__}",
            "loglevel": config.log_level.lower(),
            "preload_app": False,  # each worker opens the node after the fork
            # gunicorn's control socket (~/.gunicorn/gunicorn.ctl) would be one path shared by
            # every node on the machine; the node is managed by signals alone.
            "control_socket_disable": True,
            # SIGHUP, in the arbiter, before the new workers fork: the TLS certificate loaded again.
            "on_reload": self._reload_tls,
            "pre_fork": self._choose_cpu,
            "post_fork": self._after_fork,
        }
        for key, value in settings.items():
            if key in self.cfg.settings:  # control_socket_disable is gunicorn 25.1's
                self.cfg.set(key, value)

    def load(self) -> WorkerSpec:
        return self.spec

    def run(self) -> None:
        try:
            NodeArbiter(self).run()
        except RuntimeError as e:  # as BaseApplication.run: the arbiter could not start
            print(f"\nError: {e}\n", file=sys.stderr)
            sys.exit(1)

    def _choose_cpu(self, arbiter: Any, worker: Any) -> None:
        """In the arbiter, before each fork: the CPU the new worker keeps to, the one fewest live
        workers keep to (a replacement takes the CPU its predecessor left; after a SIGHUP the new
        workers spread beside the old ones finishing). None: not pinned (``pin_cpu`` off, or
        ``cpus_to_pin`` says no)."""
        cpus = cpus_to_pin(arbiter.num_workers) if self.spec.config.pin_cpu else []
        worker.vcnode_cpu = None
        if cpus:
            taken = Counter(getattr(w, "vcnode_cpu", None) for w in arbiter.WORKERS.values())
            worker.vcnode_cpu = min(cpus, key=lambda c: (taken[c], c))

    @staticmethod
    def _after_fork(arbiter: Any, worker: Any) -> None:
        """In the new worker, before its own signal handlers: where the arbiter's handlers,
        still its, put what arrives until then (``NodeWorker.init_signals``)."""
        worker.vcnode_arbiter_signals = getattr(arbiter, "SIG_QUEUE", None)

    def _reload_tls(self, arbiter: Any) -> None:
        if self.spec.tls is not None:
            self.spec.tls.reload()


class NodeArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter, without its re-execution on SIGUSR2 (an upgrade in place). The new
    arbiter would run beside this one over the same data folder and metrics folder, which this
    one removes when it is stopped, under the new one's workers; and ``python -m node`` cannot be
    re-executed from its argv at all. An upgrade is a restart, or replicas behind the proxy
    replaced one at a time (docs/scaling.md)."""

    def handle_usr2(self) -> None:
        self.log.warning(NO_UPGRADE_IN_PLACE)


def check_can_listen(host: str, port: int) -> None:
    """Bind the address the server will bind, and let it go: ``OSError`` if it is taken or not
    this machine's, before anything is created. gunicorn's arbiter would retry for five seconds
    and then exit 1, where one process failed at once with the usage exit (2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        probe.bind((host, port))


def run_workers(spec: WorkerSpec, workers: int) -> None:
    """Serve with ``workers`` processes until SIGTERM or SIGINT (returns when all have stopped).
    ``SystemExit`` with the arbiter's status when it halts on an error (a worker that could
    not boot: 3)."""
    NodeServer(spec, workers).run()

"""``vcnode serve``: run the node. An empty data folder is initialised on first start.

``--workers N`` (``workers`` setting; default one per CPU core) serves the port with N
processes under gunicorn's arbiter (node/workers.py); ``--workers 1`` is one process, no
supervisor. Metrics are kept in ``prometheus_client``'s multiprocess mode (node.metrics), so
that the processes serving one node add up: the directory is settled here, before the library
is first imported and before any worker starts.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import ssl
from typing import Any

from node.app import create_app
from node.cli.config import add_common_flags, config_from_args, fail, warn_about_environment
from node.config import Config, ConfigError
from node.heap import settle_heap
from node.keys import KeyProtectionError
from node.logs import configure_logging
from node.metrics import prepare_multiprocess_dir, remove_multiprocess_dir
from node.node import open_node
from node.store import StoreError
from node.tls import ServerTLS
from node.traffic import TRAFFIC_KEY, serve

log = logging.getLogger("node.serve")


def _tls(config: Config) -> ServerTLS | None:
    return ServerTLS(config.tls_cert, config.tls_key) if config.tls_cert else None


async def _preflight(config: Config) -> None:
    """Open the node once before forking: a bad folder, base URL or passphrase is reported as
    for one process (not as N workers failing to boot), and an empty folder is made a node once."""
    async with open_node(config, announce=True, create=True, serving=True):
        pass


def _serve(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as e:
        return fail(str(e))
    configure_logging(config.log_level, config.log_format, buffered=True)
    warn_about_environment()
    try:
        tls = _tls(config)
    except (OSError, ssl.SSLError) as e:
        return fail(f"cannot load the TLS certificate/key: {e}")
    from node.workers import WorkerSpec, check_can_listen, default_workers, run_workers

    workers = config.workers or default_workers()
    if not config.workers:
        log.info("%d worker process%s: the CPUs this process may use (its CPU set and cgroup quota; --workers sets it)",
                 workers, "" if workers == 1 else "es")
    metrics_dir, made = prepare_multiprocess_dir() if config.metrics else (None, False)
    if metrics_dir is not None:
        log.info("metrics of this node's processes are kept in %s%s", metrics_dir, " (removed on exit)" if made else "")
    try:
        check_can_listen(config.host, config.port)  # before the folder is made a node
        if workers > 1:
            asyncio.run(_preflight(config))
            log.info("starting vcnode on %s:%s with %d worker processes, data in %s", config.host, config.port, workers, config.data_dir)
            # The preflight said how the keys are protected: once, not again in every worker.
            run_workers(WorkerSpec(config, tls, functools.partial(create_app, announce_keys=False)), workers)
            return 0
        app = create_app(config)
        log.info("starting vcnode on %s:%s, data in %s", config.host, config.port, config.data_dir)
        serving = False

        def ready(site: Any) -> None:
            nonlocal serving
            serving = True
            settle_heap()
            log.info("vcnode ready on %s", site.name)

        async def stopping(app: Any) -> None:
            # aiohttp calls this once the listening socket is closed and before it waits for the
            # requests in progress: the one moment a single process can say it stops, and what
            # it still owes (the arbiter of --workers N logs gunicorn's own lines).
            if serving:
                busy = sum(1 for conn in app[TRAFFIC_KEY].guard.handlers.values() if conn.busy)
                log.info("stopping: no longer accepting connections; draining %d request%s in progress", busy, "" if busy == 1 else "s")

        app.on_shutdown.append(stopping)

        # Not web.run_app: the connections go through the node's ConnectionGuard (node/traffic.py).
        asyncio.run(
            serve(
                app,
                config,
                ssl_context=tls.context if tls is not None else None,
                on_hangup=tls.reload if tls is not None else None,
                ready=ready,
            )
        )
        if serving:
            log.info("stopped")
    except (KeyProtectionError, StoreError, ConfigError) as e:
        # ConfigError: node.identity refused the base URL (another than the folder's, or an IP address).
        return fail(str(e))
    except OSError as e:  # the address is taken or not ours
        return fail(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}")
    except KeyboardInterrupt:
        pass
    except SystemExit as e:  # gunicorn's arbiter halted (a worker could not boot: 3)
        return e.code if isinstance(e.code, int) else 1
    finally:
        if made and metrics_dir is not None:
            remove_multiprocess_dir(metrics_dir)
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the node (HTTP API, DID documents, status lists, metrics)")
    add_common_flags(parser, server=True)
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes serving the port, each with its own event loop and caches, over one store "
        "(default: one per CPU core; 1: a single process, no supervisor; also VCNODE_WORKERS)",
    )
    parser.set_defaults(func=_serve)

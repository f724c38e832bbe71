"""``vcnode serve``: run the node. An empty data folder is initialised on first start.

Metrics are kept in ``prometheus_client``'s multiprocess mode (node.metrics), so that several
processes serving one node add up: the directory is settled here, before the library is
first imported.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
from typing import Any

from node.app import create_app
from node.cli.config import add_common_flags, config_from_args, fail
from node.config import ConfigError
from node.keys import KeyProtectionError
from node.logs import configure_logging
from node.metrics import prepare_multiprocess_dir, remove_multiprocess_dir
from node.store import StoreError
from node.traffic import serve

log = logging.getLogger("node.serve")


def _serve(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as e:
        return fail(str(e))
    configure_logging(config.log_level, config.log_format)
    ssl_context = None
    if config.tls_cert:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_context.load_cert_chain(str(config.tls_cert), str(config.tls_key))
        except (OSError, ssl.SSLError) as e:
            return fail(f"cannot load the TLS certificate/key: {e}")
    metrics_dir, made = prepare_multiprocess_dir() if config.metrics else (None, False)
    if metrics_dir is not None:
        log.info("metrics of this node's processes are kept in %s%s", metrics_dir, " (removed on exit)" if made else "")
    try:
        app = create_app(config)
        log.info("starting vcnode on %s:%s, data in %s", config.host, config.port, config.data_dir)
        # Not web.run_app: the connections go through the node's ConnectionGuard (node/traffic.py).
        asyncio.run(
            serve(
                app,
                config,
                ssl_context=ssl_context,
                ready=lambda site: log.info("vcnode ready on %s", site.name),
            )
        )
    except (KeyProtectionError, StoreError, ConfigError) as e:
        # ConfigError: node.identity refused the base URL (another than the folder's, or an IP address).
        return fail(str(e))
    except OSError as e:  # the address is taken or not ours
        return fail(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}")
    except KeyboardInterrupt:
        pass
    finally:
        if made and metrics_dir is not None:
            remove_multiprocess_dir(metrics_dir)
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the node (HTTP API, DID documents, status lists, metrics)")
    add_common_flags(parser, server=True)
    parser.set_defaults(func=_serve)

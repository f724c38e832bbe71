"""``vcnode serve``: run the node. An empty data folder is initialised on first start.

Metrics are kept in ``prometheus_client``'s multiprocess mode (node.metrics), so that several
processes serving one node add up: the directory is settled here, before the library is
first imported.
"""

from __future__ import annotations

import argparse
import logging
import ssl
from typing import Any

from aiohttp import web

from node.app import create_app
from node.cli.config import add_common_flags, config_from_args, fail
from node.config import ConfigError
from node.keys import KeyProtectionError
from node.logs import configure_logging
from node.metrics import prepare_multiprocess_dir, remove_multiprocess_dir
from node.store import StoreError

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
        web.run_app(
            app,
            host=config.host,
            port=config.port,
            ssl_context=ssl_context,
            # run_app calls this once the socket is listening, after start-up succeeded.
            print=lambda _: log.info("vcnode ready on %s://%s:%s", config.scheme, config.host, config.port),
            # node.accesslog writes the access log (route templates, never paths or queries).
            access_log=None,
        )
    except (KeyProtectionError, StoreError, ConfigError) as e:
        # ConfigError: node.identity refused the base URL (another than the folder's, or an IP address).
        return fail(str(e))
    except OSError as e:  # the address is taken or not ours
        return fail(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}")
    finally:
        if made and metrics_dir is not None:
            remove_multiprocess_dir(metrics_dir)
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the node (HTTP API, DID documents, status lists, metrics)")
    add_common_flags(parser, server=True)
    parser.set_defaults(func=_serve)

"""``vcnode serve``: run the node. An empty data folder is initialised on first start."""

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
from node.store import StoreError
from node.traffic import serve

log = logging.getLogger("node.serve")


def _serve(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as e:
        return fail(str(e))
    logging.basicConfig(level=getattr(logging, config.log_level.upper(), logging.INFO), format="%(levelname)s %(name)s: %(message)s")
    ssl_context = None
    if config.tls_cert:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_context.load_cert_chain(str(config.tls_cert), str(config.tls_key))
        except (OSError, ssl.SSLError) as e:
            return fail(f"cannot load the TLS certificate/key: {e}")
    app = create_app(config)
    log.info("starting vcnode on %s:%s, data in %s", config.host, config.port, config.data_dir)
    try:
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
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the node (HTTP API, DID documents, status lists)")
    add_common_flags(parser, server=True)
    parser.set_defaults(func=_serve)

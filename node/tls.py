"""The node's own TLS (``--tls-cert`` / ``--tls-key``), whose certificate can be renewed without
a restart.

A certificate from an ACME CA lives 90 days or less; its renewal hook reloads the server
(``systemctl reload``: SIGHUP). ``ServerTLS.reload`` loads the files into a new context, checked
whole (a certificate without its key, or a file half written, is refused and the old pair kept),
and only then hands it to new connections, through the SNI callback that every TLS handshake
passes (with or without a server name). A single process reloads in place; with ``--workers N``
the supervisor reloads before it forks the new workers, which inherit the pair
(node.workers). Connections already open keep the certificate they were made with.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

__all__ = ["ServerTLS"]

log = logging.getLogger(__name__)


class ServerTLS:
    """``context`` is what the server listens with; each handshake is switched to the pair
    loaded last."""

    def __init__(self, cert: Path | str, key: Path | str) -> None:
        self.cert, self.key = Path(cert), Path(key)
        self.context = self._current = self._load()
        self.context.sni_callback = self._choose

    def _load(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))  # raises unless the pair matches
        return context

    def _choose(self, connection: Any, server_name: str | None, context: ssl.SSLContext) -> None:
        connection.context = self._current

    def reload(self) -> bool:
        """Load the certificate and key again; True when new connections now get them. On an
        error the pair loaded before stays, and the error is logged."""
        try:
            self._current = self._load()
        except (OSError, ssl.SSLError) as e:
            log.error("could not load the TLS certificate %s and key %s again (%s); still serving the pair loaded before",
                      self.cert, self.key, e)
            return False
        log.info("TLS certificate %s and key %s loaded again; new connections get them", self.cert, self.key)
        return True

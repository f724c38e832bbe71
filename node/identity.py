"""Who a data folder is: the base URL it was initialised with, kept in its own store.

The base URL names the node's issuers (``did:web:HOST`` and ``did:web:HOST:issuers:NAME``)
and its status lists (``BASE/status/...``), so it is part of every credential the node has
issued. It is recorded in the store (setting ``node.identity``) the first time a folder is
opened, by ``vcnode init`` or the first ``vcnode serve``, and from then on every command and
every server process uses the recorded one. A configuration naming another base URL (flag,
``VCNODE_BASE_URL``, TOML) is refused with ``IdentityError``: serving the same keys and lists
under a second name would give the issuers new DIDs while the lists stayed signed under the
old ones. A folder an older vcnode filled (issuers, and perhaps credentials and status lists,
but no recorded name) is never given the default name: it was served under a name of the
operator's all along, which only the operator can give (``vcnode init --base-url``); the
store's status lists usually show which it was.

``serving_problem`` is the rule ``vcnode serve`` applies: did:web names hosts, not IP
addresses (did:web §3.1), so a base URL on an IP address is refused unless the operator
allowed exactly that ``host:port`` (``allow_insecure_hosts``, as tests and the conformance kit
do for ``127.0.0.1``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from did.http import host_port_allowed, ip_literal
from did.web import url_to_did_web
from node.config import Config, ConfigError, redact_url
from node.store import Database, utcnow_iso
from node.store import issuers as issuer_rows
from node.store import settings as setting_rows
from node.store import status_lists as list_rows
from status.urls import normalize_origin

log = logging.getLogger(__name__)

SETTING = "node.identity"
DEFAULT_HOST = "localhost"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class IdentityError(ConfigError):
    """The configuration names another node than the data folder holds, or one that cannot be served."""


class NotANodeError(ConfigError):
    """The data folder does not exist or holds no node (a mistyped ``--data``)."""


@dataclass(frozen=True)
class Identity:
    base_url: str  # normalised: lower-case scheme and host, no default port, no trailing slash
    initialised: str  # when it was recorded (RFC 3339, UTC)

    def to_json(self) -> dict[str, Any]:
        return {"baseUrl": self.base_url, "initialised": self.initialised}


def normalize_base_url(url: str) -> str:
    """The one spelling of a base URL that is compared and stored (``HTTPS://Uni.EU:443/`` →
    ``https://uni.eu``). The port stays when it is not the scheme's default: it is part of the
    did:web (``did:web:uni.eu%3A8443``)."""
    scheme, authority = normalize_origin(url.strip())
    return f"{scheme}://{authority}"


def default_base_url(config: Config) -> str:
    """What a folder initialised without a base URL is called: ``http://localhost:8443`` by default
    (``localhost``, not ``127.0.0.1``: did:web names hosts, never IP addresses)."""
    return f"{config.scheme}://{DEFAULT_HOST}:{config.port}"


def configured_base_url(config: Config) -> str:
    return normalize_base_url(config.base_url or default_base_url(config))


def _refusal(recorded: Identity, asked: str, data_dir: Any) -> str:
    return (
        f"the data folder {data_dir} was initialised as {recorded.base_url} (on {recorded.initialised}); "
        f"it cannot be served or used as {asked}. A node's base URL is part of its issuers' DIDs "
        f"(did:web) and of every status list URL in the credentials it has issued. Moving to another "
        f"domain means new DIDs: initialise a new data folder for {asked}, and keep serving this one "
        f"at {recorded.base_url} for as long as its credentials must verify (they stay verifiable only "
        f"while the old DID documents and status lists are served). Leave out --base-url / VCNODE_BASE_URL / "
        f"base_url to use the recorded one."
    )


def _unnamed(config: Config, names: list[str], doing: str) -> str:
    """Why a folder an older vcnode made cannot be ``doing`` without a base URL, and what to run."""
    where = f"the database {redact_url(config.database_url)}" if config.database_url else f"the data folder {config.data_dir}"
    return (
        f"{where} was made by an older vcnode and has no recorded name (base URL), and none was given, so "
        f"it cannot be {doing}: under the default {default_base_url(config)} its issuers would get new DIDs and "
        f"the credentials it has issued would no longer verify. Record the URL it has always been served at, once: "
        f"vcnode init --data {config.data_dir} --base-url URL{likely_names(names)}"
    )


def likely_names(names: list[str]) -> str:
    """The URLs a store's status lists name, as advice beside ``vcnode init --base-url URL``."""
    if len(names) == 1:
        return f" (its status lists name {names[0]}: most likely that one)"
    if names:
        return f" (its status lists name {' and '.join(names)}: most likely one of these)"
    return ""


async def names_in_store(db: Database) -> list[str] | None:
    """The base URLs the store's own data shows it was served at: the origins of its published
    status lists' ids (a list is signed under ``BASE/status/...``). None when the store holds no
    node yet (no issuer): a store made by this version records its name before its first issuer,
    so issuers without a recorded name mean a folder an older vcnode made."""
    async with db.read() as tx:
        issuers = await issuer_rows.list_all(tx)
        if not issuers:
            return None
        names: list[str] = []
        for issuer in issuers:
            for list_id in await list_rows.of_issuer(tx, issuer["name"]):
                head = await list_rows.head(tx, list_id)
                row = await list_rows.published(tx, head["issuer"], head["purpose"], head["seq"]) if head is not None else None
                name = _origin_of_list(row["credential"]) if row is not None else None
                if name is not None and name not in names:
                    names.append(name)
    return names


def _origin_of_list(credential: str) -> str | None:
    try:
        list_id = json.loads(credential).get("id")
    except (ValueError, AttributeError):
        return None
    parts = urlsplit(list_id) if isinstance(list_id, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return normalize_base_url(list_id)


async def recorded(db: Database) -> Identity | None:
    async with db.read() as tx:
        value = await setting_rows.get(tx, SETTING)
    return _identity(value)


def _identity(value: Any) -> Identity | None:
    if not isinstance(value, dict) or not isinstance(value.get("base_url"), str):
        return None
    return Identity(value["base_url"], str(value.get("initialised", "")))


async def settle(
    db: Database, config: Config, *, clock: Callable[[], datetime], record: bool = True, signing: bool = True
) -> Identity:
    """The folder's identity: the recorded one (refusing a configuration that names another),
    or, for a folder that has none yet, the configured one, recorded now.

    A fresh folder is given the configured base URL, or the default, when it is initialised or
    served (``record``: ``init`` and ``serve``). A folder an older vcnode filled is given only a
    base URL named explicitly (flag, ``VCNODE_BASE_URL``, TOML), by any command: without one,
    ``init``, ``serve`` and every command that signs (``signing``) are refused with
    ``IdentityError`` naming what to run (and the name its status lists show), since a default
    recorded, or signed under, would be a new identity that its credentials do not name. A
    command that only reads runs under the name its lists show (else the default) and records
    nothing."""
    asked = configured_base_url(config)
    found = await recorded(db)
    if found is None and config.base_url is None:
        names = await names_in_store(db)
        # Recorded meanwhile by another process making a fresh folder a node (it records the
        # name before it creates the first issuer).
        found = await recorded(db) if names is not None else None
        if names is not None and found is None:
            if record or signing:
                raise IdentityError(_unnamed(config, names, "served or initialised" if record else "changed or signed with"))
            guess = names[0] if len(names) == 1 else asked
            log.warning(
                "the data folder %s has no recorded base URL (it was made by an older vcnode); this command uses %s and "
                "records nothing. Before serving it, record the URL it has always been served at: "
                "vcnode init --data %s --base-url URL%s",
                config.data_dir, guess, config.data_dir, likely_names(names),
            )
            return Identity(guess, "")
    if found is None and not (record or config.base_url is not None):
        # A store without issuers (a process stopped while creating it): nothing names it yet.
        log.warning(
            "the data folder %s has no recorded base URL yet; using %s for this command only. "
            "Record one with: vcnode init --data %s --base-url URL",
            config.data_dir, asked, config.data_dir,
        )
        return Identity(asked, "")
    if found is None:
        async with db.transaction() as tx:
            # Checked again under the write lock: two processes opening a fresh folder agree.
            found = _identity(await setting_rows.get(tx, SETTING))
            if found is None:
                found = Identity(asked, utcnow_iso(clock()))
                await setting_rows.put(tx, SETTING, {"base_url": found.base_url, "initialised": found.initialised})
                return found
    if config.base_url is not None and asked != found.base_url:
        raise IdentityError(_refusal(found, asked, config.data_dir))
    return found


def serving_problem(base_url: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why a node cannot be served under ``base_url``, or None.

    did:web identifies an issuer by a host name: a DID on an IP address is invalid, and
    verifiers (this node's too) refuse it. The exception is a host:port the operator allowed
    explicitly (``allow_insecure_hosts``), which every did:web resolver of this project then
    accepts as well: that is how tests and the conformance kit run on 127.0.0.1."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ip_literal(host) is None:
        return None
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)
    if host_port_allowed(host, port, allowed_hosts):
        return None
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    unspecified = " (0.0.0.0 is the address a server listens on, not one anybody can reach it by)" if host in ("0.0.0.0", "::") else ""
    return (
        f"the base URL {base_url} names an IP address{unspecified}. did:web identifies an issuer by "
        f"its host name, so a DID on an IP address is invalid and verifiers refuse it. Use the name "
        f"people reach this node by (--base-url https://registry.example.edu, or http://localhost:PORT "
        f"on one machine); for a test on this address only, allow it explicitly with "
        f"allow_insecure_hosts = [\"{authority}\"] (VCNODE_ALLOW_INSECURE_HOSTS={authority})."
    )


def listening_problem(config: Config) -> str | None:
    """A fresh folder served on every interface (0.0.0.0, as in a container) without a base URL
    would be named after ``localhost``, which nobody else can reach."""
    if config.base_url is None and config.host in ("0.0.0.0", "::", ""):
        return (
            f"this node listens on all interfaces ({config.host or '*'}), so others are meant to reach it, "
            f"but it has no base URL: its issuers would be {url_to_did_web(default_base_url(config))} (did:web of "
            f"{default_base_url(config)}), which only this machine reaches. Set the URL people reach it by: "
            f"--base-url https://registry.example.edu (or VCNODE_BASE_URL)."
        )
    return None

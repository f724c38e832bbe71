"""The node's configuration: a TOML file, ``VCNODE_*`` environment variables, command-line flags.

Precedence: flags > environment > file > defaults. The file is ``--config FILE``, else
``VCNODE_CONFIG``, else ``<data dir>/vcnode.toml`` when it exists. Secrets (the key
passphrase) come only from the environment and are never printed (``Config.public()``).

File keys are the field names below (``port = 8443``, ``status_purposes = ["revocation"]``);
environment variables are ``VCNODE_`` + the upper-cased name (``VCNODE_PORT=9000``,
``VCNODE_STATUS_PURPOSES=revocation,suspension``, ``VCNODE_ALLOW_INSECURE_HOSTS=issuer:8443``).
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote_plus, urlsplit

from status.bitstring import MIN_STATUS_LIST_LENGTH

ENV_PREFIX = "VCNODE_"
CONFIG_FILENAME = "vcnode.toml"
SECRET_FIELDS = frozenset({"passphrase"})
PURPOSES = ("revocation", "suspension")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """The configuration is unusable; the message says which setting and why."""


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("./vcnode-data")
    # Where the store lives: None, SQLite in the data folder (vcnode.sqlite3); a PostgreSQL URL
    # (postgresql://user@host:5432/db, optionally ?options=-csearch_path%3Dschema), a database
    # any number of replicas share (docs/scaling.md). The data folder then holds what stays per
    # machine: vcnode.toml, and master.key unless VCNODE_PASSPHRASE protects the keys.
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8443
    # The public URL of this node (an origin, no path). Its issuers' did:web DIDs and the status
    # list URLs derive from it, so a data folder records the one it was initialised with
    # (node.identity) and refuses another. None: http(s)://localhost:PORT (did:web names a
    # host, never an IP address), i.e. http://localhost:8443 by default.
    base_url: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # host:port values that may be fetched over plain HTTP (did:web, status lists), exactly
    # those ports. The node's own base URL host is added automatically when the base URL is http://.
    allow_insecure_hosts: tuple[str, ...] = ()
    status_purposes: tuple[str, ...] = ("revocation",)
    status_list_length: int = MIN_STATUS_LIST_LENGTH
    status_list_ttl_ms: int = 0  # 0: no ttl; lists are then served with Cache-Control: no-cache
    status_list_valid_seconds: int = 0  # 0: no validUntil on list credentials
    status_max_staleness_seconds: int = 300  # verifier side: upper bound on a cached list's age
    # Verifier side: the fewest entries a status list may hold (Bitstring Status List 1.0 §3.2:
    # 131,072 "unless a different lower bound is established by a specific ecosystem
    # specification"). The Digital Credentials Consortium's status service publishes lists of
    # 100,000 entries; an ecosystem that accepts them sets this lower. Only lower.
    status_min_list_entries: int = MIN_STATUS_LIST_LENGTH
    # Verifier side: whose status lists are read. "issuer": a list signed by the credential's
    # issuer and naming no other URL than its own. "any": any list whose proof verifies
    # (Bitstring Status List 1.0 §2.2 lets the issuers differ), its publisher and id named in
    # the result; whoever can serve bytes at a list's URL could then clear a revoked bit with a
    # list of their own: for ecosystems that delegate publishing or mirror lists.
    status_list_publishers: str = "issuer"
    # A JSON file: an array of status entry templates ({statusPurpose, statusSize, statusMessage,
    # statusReference}, as options.statusEntries takes them) added to every VC 2.0 credential
    # issued without options.statusEntries, e.g. a message entry. None: no such entries.
    status_entries_file: Path | None = None
    trust_max_depth: int = 3  # verifier side: accreditation links followed towards a trusted body
    # A server keeps issuers and their keys in memory; it asks the store whether another process
    # (vcnode issuer rotate-key, another worker) changed any key at most this often, so it serves
    # a rotation or retirement within this many milliseconds. Signing never waits on it. The
    # trusted accreditation bodies (vcnode trust add) are re-read at most this often too.
    issuer_refresh_ms: int = 1000
    # vcnode serve: processes serving the port, each with its own event loop and caches, over
    # the one store (node/workers.py). 0: one per CPU core. 1: a single process, no supervisor.
    workers: int = 0
    # vcnode serve: each worker kept on one CPU, one per CPU, when the workers cover every CPU
    # the node may use (node/cores.py: a process's threads share one interpreter lock, handed
    # between CPUs at a high price). Off: the scheduler places them freely.
    pin_cpu: bool = True
    challenge_ttl_seconds: int = 300
    require_challenge: bool = True
    # VC-API: a challenge in options.challenge that this node did not hand out is the caller's
    # expected value (the caller vouches for it). Off: only the node's own challenges count.
    accept_caller_challenges: bool = True
    # Issuing a credential that names another issuer: refused (False), or the issuer id is
    # replaced by the signing issuer's DID (True; what conformance suites expect).
    replace_foreign_issuer: bool = False
    max_body_bytes: int = 1024 * 1024
    # What one client can take (docs/reliability.md, "Limits"). Connections: open at once in
    # all and per client address; a connection waiting for a request (idle keep-alive, or a
    # request head still arriving: slowloris) is closed after idle_timeout_seconds, and an idle
    # one is closed early to admit a new connection when a limit is reached. A request body
    # must arrive within body_timeout_seconds (408).
    max_connections: int = 1000
    max_connections_per_client: int = 100
    idle_timeout_seconds: int = 15
    body_timeout_seconds: int = 30
    # Requests per second per client address on the public endpoints (those without a token
    # scope; /healthz is exempt), as a token bucket of rate_limit_burst requests; over it, 429
    # with Retry-After. A request with a valid token of any scope is not limited. 0: no limit.
    rate_limit_per_second: int = 20
    rate_limit_burst: int = 100
    # Requests one client may have in progress at once on those endpoints, per process: a few
    # costly verifications a second stay under any rate, yet each holds the CPU for a while.
    # Over it, 429 with Retry-After; the same exemptions. 0: no limit.
    max_requests_per_client: int = 8
    # Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For names the client;
    # nobody else's is believed. Behind a proxy, set it: each client is then limited by its
    # own address, not the proxy's.
    trusted_proxies: tuple[str, ...] = ()
    # Client addresses (or networks) the per-client limits (rate, connections per client) do
    # not apply to: by default this machine (operators' tools, health checks).
    exempt_clients: tuple[str, ...] = ("127.0.0.1", "::1")
    # Outbound fetches (did:web, status lists, accreditations, the verifier page's URL): the
    # time limit of one fetch (waiting for a free slot included) and how many run at once, per
    # host and in all. fetch_allow_hosts, when set, is the only hosts fetched from ("host" or
    # "host:port"); empty: any public host.
    fetch_timeout_seconds: int = 5
    fetch_max_concurrent: int = 32
    fetch_max_per_host: int = 4
    fetch_allow_hosts: tuple[str, ...] = ()
    # OpenID4VCI (docs/wallets.md): how long a credential offer's pre-authorized code can be
    # used, the access token it is exchanged for, and a c_nonce (which also bounds a key proof's age).
    oid4vci_offer_ttl_seconds: int = 86400
    oid4vci_token_ttl_seconds: int = 300
    oid4vci_nonce_ttl_seconds: int = 300
    # Issued credentials kept in the store (README, "Personal data in the store"), so GET
    # /credentials/{id}, `vcnode credentials show` and a replayed idempotency key return the
    # credential itself, and an interrupted `vcnode issue-batch` can still write it. Bodies older
    # than retention_days are erased (the status record stays) at start-up and daily by a
    # serving node; 0 keeps them until `vcnode credentials purge`. Off: nothing is kept beyond a
    # batch's journal (removed once its output file holds the credentials).
    keep_credentials: bool = True
    retention_days: int = 365
    kdf: str = "moderate"  # Argon2id cost preset for the passphrase ("moderate" | "interactive")
    log_level: str = "INFO"
    # How log lines are written: "text" (level, logger, message) or "json" (one object per line:
    # time, level, logger, message and, for the access log, method, route, status, durationMs,
    # issuer). docs/operations.md, "What to monitor".
    log_format: str = "text"
    # One line per request on the "vcnode.access" logger: method, route template, status,
    # duration, issuer; never tokens, bodies, query strings or learner data.
    access_log: bool = True
    # Prometheus metrics at GET /metrics (off: nothing is collected and the route is absent).
    metrics: bool = True
    # GET /metrics without a token; otherwise it needs an admin token.
    metrics_public: bool = False
    passphrase: str | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def effective_base_url(self) -> str:
        """The base URL as configured (``open_node`` replaces it by the one the data folder recorded)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        return f"{self.scheme}://localhost:{self.port}"

    @property
    def insecure_hosts(self) -> frozenset[str]:
        """Hosts the guarded HTTP client may reach over plain HTTP (host:port, as GuardedHTTP keys them)."""
        hosts = set(self.allow_insecure_hosts)
        parts = urlsplit(self.effective_base_url)
        if parts.scheme == "http" and parts.hostname:
            hosts.add(f"{parts.hostname}:{parts.port or 80}")
        return frozenset(hosts)

    def public(self) -> dict[str, Any]:
        """The effective configuration as JSON-able data, secrets masked."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                out[f.name] = "(set)" if value else None
            elif f.name == "database_url" and value:
                out[f.name] = redact_url(value)  # its password never shows
            elif isinstance(value, Path):
                out[f.name] = str(value)
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        out["effective_base_url"] = self.effective_base_url
        return out

    def replace(self, **changes: Any) -> "Config":
        """A copy with ``changes`` (coerced like file values: ``str`` paths, lists), validated."""
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        coerced = {name: _convert(name, value, "the caller") for name, value in changes.items()}
        return validate(dataclasses.replace(self, **coerced))


_FIELDS = {f.name: f for f in fields(Config)}


def _convert(name: str, value: Any, source: str) -> Any:
    """Coerce a file/env/flag value to the field's type, or explain what is wrong."""
    default = _FIELDS[name].default
    kind = type(default) if default is not None and default is not dataclasses.MISSING else None
    if name in ("data_dir", "tls_cert", "tls_key", "status_entries_file"):
        return None if value in (None, "") else Path(str(value))
    if name in ("base_url", "passphrase", "database_url"):
        return None if value in (None, "") else str(value)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if kind is int:
            if isinstance(value, bool):
                raise ValueError("a boolean is not a number")
            # int() would truncate a TOML float (1.5 -> 1) without a word.
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"must be a whole number, got {value!r}")
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"must be a whole number, got {value!r}") from None
        if kind is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(i).strip() for i in items if str(i).strip())
        return str(value)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{name} from {source}: {e}") from e


MIN_BODY_BYTES = 4096
# OpenID4VCI 1.0 §13.10: "Access Tokens with lifetimes longer than 5 minutes are, in general,
# considered long lived", and long-lived ones "MUST not be issued unless sender-constrained".
MAX_BEARER_TOKEN_SECONDS = 300


def validate(config: Config) -> Config:
    if not 0 < config.port < 65536:
        raise ConfigError(f"port must be 1..65535, got {config.port}")
    if config.base_url is not None:
        parts = urlsplit(config.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"base_url must be an http(s) URL with a host, got {config.base_url!r}")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ConfigError(
                f"base_url must be the node's origin without a path (did:web documents are served at its root), got {config.base_url!r}"
            )
    if config.database_url is not None and urlsplit(config.database_url).scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            f"database_url must be a PostgreSQL URL (postgresql://user@host:5432/database), got {redact_url(config.database_url)!r}; "
            "leave it unset for SQLite in the data folder"
        )
    if config.allow_insecure_hosts:
        config = dataclasses.replace(config, allow_insecure_hosts=tuple(_insecure_host(v) for v in config.allow_insecure_hosts))
    if bool(config.tls_cert) != bool(config.tls_key):
        raise ConfigError("TLS needs both tls_cert and tls_key")
    if config.status_list_length < MIN_STATUS_LIST_LENGTH or config.status_list_length % 8:
        raise ConfigError(
            f"status_list_length must be a multiple of 8 and at least {MIN_STATUS_LIST_LENGTH} "
            f"(Bitstring Status List herd-privacy minimum), got {config.status_list_length}"
        )
    if not 1 <= config.status_min_list_entries <= MIN_STATUS_LIST_LENGTH:
        raise ConfigError(
            f"status_min_list_entries must be 1 to {MIN_STATUS_LIST_LENGTH} (an ecosystem may set a lower bound than "
            f"Bitstring Status List 1.0's {MIN_STATUS_LIST_LENGTH}, not a higher one), got {config.status_min_list_entries}"
        )
    if config.status_list_publishers not in ("issuer", "any"):
        raise ConfigError(f"status_list_publishers must be 'issuer' or 'any', got {config.status_list_publishers!r}")
    bad = [p for p in config.status_purposes if p not in PURPOSES]
    if bad:
        raise ConfigError(f"status_purposes may contain {' and '.join(PURPOSES)}, not {', '.join(bad)}")
    if config.log_format not in LOG_FORMATS:
        raise ConfigError(f"log_format must be 'text' or 'json', got {config.log_format!r}")
    if config.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {config.log_level!r}")
    if config.kdf not in ("moderate", "interactive"):
        raise ConfigError(f"kdf must be 'moderate' or 'interactive', got {config.kdf!r}")
    for name in (
        "status_list_ttl_ms", "status_list_valid_seconds", "status_max_staleness_seconds", "challenge_ttl_seconds", "issuer_refresh_ms"
    ):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must not be negative")
    check_status_list_ttl(config)
    for name in (
        "max_connections", "max_connections_per_client", "idle_timeout_seconds", "body_timeout_seconds",
        "fetch_timeout_seconds", "fetch_max_concurrent", "fetch_max_per_host",
    ):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(config, name)}")
    if config.max_body_bytes < MIN_BODY_BYTES:
        # Below this no credential of a few KB could be sent: every POST would be a 413.
        raise ConfigError(f"max_body_bytes must be at least {MIN_BODY_BYTES}, got {config.max_body_bytes}")
    for name in ("rate_limit_per_second", "rate_limit_burst", "max_requests_per_client"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must not be negative (0 turns the limit off)")
    if config.rate_limit_per_second and config.rate_limit_burst < 1:
        raise ConfigError("rate_limit_burst must be at least 1 when rate_limit_per_second is set")
    for name in ("trusted_proxies", "exempt_clients"):
        for value in getattr(config, name):
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ConfigError(f"{name}: {value!r} is not an IP address or network") from None
    for name in ("oid4vci_offer_ttl_seconds", "oid4vci_token_ttl_seconds", "oid4vci_nonce_ttl_seconds"):
        if not 60 <= getattr(config, name) <= 30 * 86400:
            raise ConfigError(f"{name} must be between 60 seconds and 30 days, got {getattr(config, name)}")
    if config.oid4vci_token_ttl_seconds > MAX_BEARER_TOKEN_SECONDS:
        raise ConfigError(
            f"oid4vci_token_ttl_seconds must be at most {MAX_BEARER_TOKEN_SECONDS} seconds, got "
            f"{config.oid4vci_token_ttl_seconds}: the node's OpenID4VCI access tokens are bearer tokens (no DPoP, no mTLS), "
            "and OpenID4VCI 1.0 §13.10 says access tokens living longer than 5 minutes are long-lived and MUST NOT be "
            "issued unless sender-constrained. To give learners longer, raise oid4vci_offer_ttl_seconds (the offer's code)"
        )
    if not 0 <= config.retention_days <= 36500:
        raise ConfigError(f"retention_days must be 0 (keep until purged) to 36500 days, got {config.retention_days}")
    if not 0 <= config.workers <= 256:
        raise ConfigError(f"workers must be 0 (one per CPU core) to 256, got {config.workers}")
    if not 1 <= config.trust_max_depth <= 10:
        raise ConfigError(f"trust_max_depth must be 1..10 accreditation links, got {config.trust_max_depth}")
    return config


# Query parameters of a database URL that carry a secret. libpq and asyncpg take the password
# as ?password= as well as in the userinfo, and a client key's passphrase as ?sslpassword=; any
# other parameter whose name says it is a password, secret or token is masked too. Paths
# (sslkey, passfile, sslrootcert) stay: they tell an operator where to look, not what is there.
_SECRET_QUERY = ("password", "secret", "token")


def redact_url(url: str) -> str:
    """``url`` as it may be shown (``vcnode config show``, error messages, logs): the password
    of its userinfo and every secret-bearing query parameter replaced by ``***``, the rest of
    it exactly as written. The node's one URL redactor (node.store.postgres uses it too)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    # A password left unencoded may hold "/", "?" or "#", which would end the authority before
    # its "@": the userinfo runs to the last "@" when what precedes its ":" is a plain user name.
    # (An "@" in the query then masks the host too: more hidden, never less.)
    last_at = rest.rfind("@")
    if last_at >= 0:
        user, colon, _ = rest[:last_at].partition(":")
        if colon and not any(mark in user for mark in "/?#@"):
            rest = f"{user}:***@{rest[last_at + 1:]}"
    authority_end = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if found >= 0:
            authority_end = min(authority_end, found)
    authority, tail = rest[:authority_end], rest[authority_end:]
    # The last "@" ends the userinfo: a password may itself hold an "@" (libpq URLs may not,
    # but a mistyped one shows no less of the secret for it).
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = userinfo.split(":", 1)[0] + ":***@" + hosts
    path, qmark, query = tail.partition("?")
    fragment = ""
    if qmark:
        query, hash_, fragment = query.partition("#")
        fragment = hash_ + fragment
        params = []
        for param in query.split("&"):
            name, eq, _ = param.partition("=")
            if eq and any(word in unquote_plus(name).lower() for word in _SECRET_QUERY):
                param = f"{name}=***"
            params.append(param)
        tail = f"{path}?{'&'.join(params)}{fragment}"
    return f"{scheme}{sep}{authority}{tail}"


_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*")


def _insecure_host(value: str) -> str:
    """An ``allow_insecure_hosts`` entry in the form the guarded HTTP client matches, ``host:port``
    (lower case, IPv6 in brackets). Plain HTTP is allowed for exactly that host and port, so the
    port is required, as ``--allow-insecure`` requires it; anything else (a host alone, a URL, a
    path, a port out of range) is a ``ConfigError`` now, not a traceback when ``serve`` or the
    first fetch meets it."""
    text = value.strip().lower()
    host, sep, port = text.rpartition(":")
    if host.startswith("["):
        valid_host = host.endswith("]") and _is_ipv6(host[1:-1])
    else:
        valid_host = bool(_HOST_NAME.fullmatch(host))
    if not sep or not valid_host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"allow_insecure_hosts: {value!r} is not host:port; plain HTTP is allowed for exactly one host and port "
            f"each, e.g. issuer.test:8443, 127.0.0.1:8443 or [::1]:8443 (port 80 for http:// URLs without one)"
        )
    return f"{host}:{int(port)}"


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def read_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"the configuration file {path} does not exist") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"the configuration file {path} is not valid TOML: {e}") from e
    unknown = sorted(set(data) - set(_FIELDS) - SECRET_FIELDS)
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(unknown)}")
    if "passphrase" in data:
        raise ConfigError(f"{path} must not hold the passphrase; set VCNODE_PASSPHRASE in the environment")
    return data


# VCNODE_ names that are not settings and are still this project's: the configuration file's
# name, and those read by the test suite, the benchmarks and docker/compose.yaml (which hands
# VCNODE_ISSUER_PASSPHRASE and VCNODE_VERIFIER_PASSPHRASE to its containers as
# VCNODE_PASSPHRASE), so that an environment carrying them is not warned about.
OTHER_ENV_NAMES = frozenset({
    "VCNODE_CONFIG",
    "VCNODE_ISSUER_PASSPHRASE", "VCNODE_VERIFIER_PASSPHRASE",
    "VCNODE_TEST_DATABASE_URL", "VCNODE_TEST_LOG_LEVEL",
    "VCNODE_CHROMIUM", "VCNODE_SCREENSHOTS",
    "VCNODE_FUZZ_SEED", "VCNODE_FUZZ_EXAMPLES", "VCNODE_FUZZ_MIN_REQUESTS",
    "VCNODE_CRASH_SEEDS", "VCNODE_CRASH_SEED_LIST", "VCNODE_CRASH_ROWS", "VCNODE_CRASH_NO_MOUNT",
    "VCNODE_HOSTILE_SCALE",
})


def known_env_names() -> frozenset[str]:
    return frozenset(ENV_PREFIX + name.upper() for name in _FIELDS) | OTHER_ENV_NAMES


def unknown_env_names(env: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each ``VCNODE_*`` variable that names nothing vcnode reads, with the known
    name it is closest to. A warning, where ``vcnode.toml`` refuses an unknown key: a service's
    environment carries variables of other programs and versions (one left in a unit file by a
    newer vcnode after a rollback must not stop the node from starting), but ``VCNODE_`` is
    ours, and a mistyped ``VCNODE_PASSPHRASE`` would otherwise give a folder key-file
    protection for good without a word."""
    env = os.environ if env is None else env
    known = known_env_names()
    out = []
    for name in sorted(n for n in env if n.startswith(ENV_PREFIX) and n not in known):
        # Compared without the prefix every name shares, which would make any two look alike.
        close = difflib.get_close_matches(name[len(ENV_PREFIX):].upper(), [k[len(ENV_PREFIX):] for k in known], n=1, cutoff=0.75)
        hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""
        out.append(f"{name} is not a vcnode setting and is ignored{hint}")
    return out


def load_config(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Config:
    """Merge defaults, the file, the environment and flags (``None`` flag values are unset)."""
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None and k in _FIELDS}
    env_values = {
        name: env[ENV_PREFIX + name.upper()] for name in _FIELDS if env.get(ENV_PREFIX + name.upper()) not in (None, "")
    }
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = env[ENV_PREFIX + "CONFIG"]
    file_values: dict[str, Any] = {}
    if config_file is not None:
        file_values = read_file(Path(config_file))
    else:
        # The data folder may be named by any layer; its vcnode.toml is read if present.
        data_dir = flags.get("data_dir") or env_values.get("data_dir") or Config.data_dir
        candidate = Path(str(data_dir)) / CONFIG_FILENAME
        if candidate.is_file():
            file_values = read_file(candidate)
    merged: dict[str, Any] = {}
    for source, values in (("the configuration file", file_values), ("the environment", env_values), ("the command line", flags)):
        for name, value in values.items():
            merged[name] = _convert(name, value, source)
    return validate(Config(**merged))


def status_list_refresh_seconds(valid_seconds: int) -> float:
    """How often a server looks for status lists past half their validity, to re-sign them (node.app)."""
    return max(1.0, min(60.0, valid_seconds / 4))


def check_status_list_ttl(config: Config) -> None:
    """A list's ``ttl`` must not let a verifier keep it past its ``validUntil``.

    A list is re-signed once half of ``status_list_valid_seconds`` has passed, found by a check
    every ``status_list_refresh_seconds``: a copy fetched just before that has
    half the validity less one check period left, and a verifier caching it for the ttl
    (Bitstring Status List §2.2) must be done with it by then.
    """
    ttl_ms, valid = config.status_list_ttl_ms, config.status_list_valid_seconds
    if not ttl_ms or not valid:
        return
    period = status_list_refresh_seconds(valid)
    longest = int((valid / 2 - period) * 1000)
    if ttl_ms > longest:
        allowed = f"at most {longest} ms" if longest > 0 else "0 (no ttl)"
        raise ConfigError(
            f"status_list_ttl_ms ({ttl_ms} ms) must be {allowed} with status_list_valid_seconds={valid}: a list is re-signed "
            f"when half its validity has passed (checked every {period:g} s), so a copy fetched just before has only "
            f"{valid / 2 - period:g} s left before its validUntil; lower status_list_ttl_ms or raise status_list_valid_seconds"
        )

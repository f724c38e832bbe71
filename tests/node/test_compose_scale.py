"""docker/compose.scale.yml (docs/scaling.md): PostgreSQL, two replicas, a TLS proxy. Read as
YAML (no Docker daemon is needed): the replicas share what a replica must share, and the proxy
spreads requests over exactly them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_replicas_share_one_database_base_url_and_passphrase_behind_a_tls_proxy() -> None:
    compose = yaml.safe_load((DOCKER / "compose.scale.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "node-a", "node-b", "proxy"}
    a, b = services["node-a"]["environment"], services["node-b"]["environment"]
    assert a == b
    # Required, never defaulted: the identity, the database, the key every replica derives.
    for name in ("VCNODE_BASE_URL", "VCNODE_DATABASE_URL", "VCNODE_PASSPHRASE"):
        assert re.search(r"\$\{\w+:\?[^}]+\}", a[name]), name
    assert a["VCNODE_DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in a["VCNODE_DATABASE_URL"]
    assert services["node-a"]["volumes"] != services["node-b"]["volumes"]  # a data folder each
    for replica in ("node-a", "node-b"):
        assert services[replica]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "ports" not in services[replica]  # reached through the proxy only
    assert "ports" not in services["postgres"]
    assert "synchronous_commit=on" in services["postgres"]["command"]
    # The replicas believe X-Forwarded-For from the proxy's fixed address alone.
    assert a["VCNODE_TRUSTED_PROXIES"] == services["proxy"]["networks"]["vcnode"]["ipv4_address"]
    assert sorted(services["proxy"]["ports"]) == ["443:443", "80:80"]


def test_the_proxy_balances_over_both_replicas_and_drops_one_that_is_not_ready() -> None:
    caddyfile = (DOCKER / "Caddyfile.scale").read_text()
    assert re.search(r"reverse_proxy node-a:8443 node-b:8443 \{", caddyfile)
    assert "health_uri /readyz" in caddyfile
    assert "{$SITE_ADDRESS}" in caddyfile  # TLS for that name (Caddy's automatic HTTPS)

"""node.config: defaults, TOML file, VCNODE_* environment, flags; flags > env > file."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import Config, ConfigError, load_config


def test_defaults():
    config = load_config({}, env={})
    assert config.data_dir == Path("./vcnode-data")
    assert (config.host, config.port) == ("127.0.0.1", 8443)
    assert config.effective_base_url == "http://localhost:8443"  # did:web names a host, never an IP address
    assert config.status_purposes == ("revocation",)
    assert config.status_list_length == 131_072
    # The node's own plain-HTTP origin is the only host allowed without TLS.
    assert config.insecure_hosts == frozenset({"localhost:8443"})


def test_flags_override_env_which_overrides_file(tmp_path):
    file = tmp_path / "node.toml"
    file.write_text('port = 9001\nhost = "0.0.0.0"\nbase_url = "https://file.example"\nstatus_purposes = ["revocation", "suspension"]\n')
    env = {"VCNODE_PORT": "9002", "VCNODE_BASE_URL": "https://env.example"}
    config = load_config({"port": 9003}, env=env, config_file=file)
    assert config.port == 9003  # flag
    assert config.base_url == "https://env.example"  # env over file
    assert config.host == "0.0.0.0"  # file over default
    assert config.status_purposes == ("revocation", "suspension")
    assert config.insecure_hosts == frozenset()  # an https base URL allows no plain HTTP


def test_unset_flags_do_not_override(tmp_path):
    config = load_config({"port": None, "host": None}, env={"VCNODE_PORT": "9100"})
    assert config.port == 9100 and config.host == "127.0.0.1"


def test_file_in_data_dir_is_read_and_env_can_name_another(tmp_path):
    (tmp_path / "vcnode.toml").write_text("port = 9200\n")
    assert load_config({"data_dir": str(tmp_path)}, env={}).port == 9200
    other = tmp_path / "other.toml"
    other.write_text("port = 9300\n")
    assert load_config({"data_dir": str(tmp_path)}, env={"VCNODE_CONFIG": str(other)}).port == 9300


def test_env_lists_and_booleans():
    config = load_config(
        {}, env={"VCNODE_ALLOW_INSECURE_HOSTS": "issuer:8443, other:80", "VCNODE_REQUIRE_CHALLENGE": "false"}
    )
    assert config.allow_insecure_hosts == ("issuer:8443", "other:80")
    assert config.require_challenge is False
    assert {"issuer:8443", "other:80", "localhost:8443"} == set(config.insecure_hosts)


def test_http_base_url_allows_that_host_alone():
    config = load_config({"base_url": "http://issuer:8443"}, env={})
    assert config.insecure_hosts == frozenset({"issuer:8443"})


@pytest.mark.parametrize(
    "flags, message",
    [
        ({"port": 0}, "port"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": "https://x.example/node"}, "without a path"),
        ({"status_list_length": 1000}, "131072"),
        ({"status_purposes": "revocation,refresh"}, "status_purposes"),
        ({"tls_cert": "cert.pem"}, "tls_key"),
        ({"max_connections": 0}, "max_connections must be at least 1"),
        ({"fetch_max_per_host": 0}, "fetch_max_per_host"),
        ({"rate_limit_per_second": -1}, "0 turns the limit off"),
        ({"rate_limit_burst": 0}, "rate_limit_burst must be at least 1"),
        ({"max_body_bytes": 0}, "max_body_bytes must be at least 4096"),  # every POST was a 413
        ({"max_body_bytes": -1}, "max_body_bytes must be at least 4096"),
        ({"trusted_proxies": "10.0.0.0/8,proxy.example"}, "trusted_proxies: 'proxy.example'"),
        ({"exempt_clients": "localhost"}, "exempt_clients"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(flags, message):
    with pytest.raises(ConfigError, match=message):
        load_config(flags, env={})


def test_a_fraction_where_a_whole_number_is_due_is_refused_not_truncated(tmp_path):
    toml = tmp_path / "vcnode.toml"
    toml.write_text("rate_limit_per_second = 1.5\n")
    with pytest.raises(ConfigError, match=r"rate_limit_per_second from .*whole number, got 1\.5"):
        load_config({}, env={}, config_file=toml)
    with pytest.raises(ConfigError, match="whole number, got '2.5'"):
        load_config({}, env={"VCNODE_RATE_LIMIT_BURST": "2.5"})
    toml.write_text("rate_limit_per_second = 3.0\n")  # a whole number written as a float means it
    assert load_config({}, env={}, config_file=toml).rate_limit_per_second == 3


def test_bad_env_value_names_its_source():
    with pytest.raises(ConfigError, match="port from the environment"):
        load_config({}, env={"VCNODE_PORT": "eighty"})


def test_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config({}, env={}, config_file=bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="colour"):
        load_config({}, env={}, config_file=unknown)
    secret = tmp_path / "secret.toml"
    secret.write_text("passphrase = 'x'\n")
    with pytest.raises(ConfigError, match="VCNODE_PASSPHRASE"):
        load_config({}, env={}, config_file=secret)


def test_public_view_never_shows_the_passphrase():
    config = load_config({}, env={"VCNODE_PASSPHRASE": "hunter2"})
    assert config.passphrase == "hunter2"
    shown = config.public()
    assert shown["passphrase"] == "(set)"
    assert "hunter2" not in repr(shown) and "hunter2" not in repr(config)
    assert shown["effective_base_url"] == "http://localhost:8443"


def test_replace_validates():
    with pytest.raises(ConfigError):
        Config().replace(port=70000)


def test_replace_coerces_like_the_file_does():
    config = Config().replace(data_dir="somewhere", allow_insecure_hosts=["issuer:8443"], port="9000")
    assert config.data_dir == Path("somewhere") and config.allow_insecure_hosts == ("issuer:8443",) and config.port == 9000
    with pytest.raises(ConfigError, match="colour"):
        Config().replace(colour="blue")


def test_traffic_limits_from_the_environment():
    env = {
        "VCNODE_RATE_LIMIT_PER_SECOND": "0",
        "VCNODE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7",
        "VCNODE_EXEMPT_CLIENTS": "",
        "VCNODE_FETCH_ALLOW_HOSTS": "issuer.example,partner.example:8443",
    }
    config = load_config({}, env=env)
    assert config.rate_limit_per_second == 0  # off; the burst is then not checked
    assert config.trusted_proxies == ("10.0.0.0/8", "192.0.2.7")
    assert config.exempt_clients == ("127.0.0.1", "::1")  # an empty variable is unset
    assert config.fetch_allow_hosts == ("issuer.example", "partner.example:8443")
    assert load_config({}, env={}).max_connections == 1000


def test_database_url_chooses_postgresql_and_its_password_never_shows():
    assert Config().database_url is None  # SQLite in the data folder
    config = load_config(env={"VCNODE_DATABASE_URL": "postgresql://vcnode:s3cret@db.internal:5432/vcnode"})
    assert config.database_url == "postgresql://vcnode:s3cret@db.internal:5432/vcnode"
    assert config.public()["database_url"] == "postgresql://vcnode:***@db.internal:5432/vcnode"
    assert load_config(env={"VCNODE_DATABASE_URL": ""}).database_url is None
    with pytest.raises(ConfigError, match="database_url must be a PostgreSQL URL") as refused:
        load_config(env={"VCNODE_DATABASE_URL": "mysql://root:hunter2@db/vcnode"})
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    "url, shown",
    [
        # libpq and asyncpg take the password as a query parameter as well as in the userinfo.
        ("postgresql://postgres@127.0.0.1:5432/test?password=TopSecretPW", "postgresql://postgres@127.0.0.1:5432/test?password=***"),
        ("postgresql://u@db/x?sslmode=require&sslpassword=KeyPass&sslkey=/etc/k.pem",
         "postgresql://u@db/x?sslmode=require&sslpassword=***&sslkey=/etc/k.pem"),
        ("postgresql://u:pw@db/x?PASSWORD=Two&options=-csearch_path%3Dvcnode", "postgresql://u:***@db/x?PASSWORD=***&options=-csearch_path%3Dvcnode"),
        ("postgresql:///x?host=/run/postgresql&pass%77ord=Enc", "postgresql:///x?host=/run/postgresql&pass%77ord=***"),
        ("postgresql://u:pw@[::1]:5432/x", "postgresql://u:***@[::1]:5432/x"),  # the host as written, brackets kept
        ("postgresql://u@db/x?passfile=/home/u/.pgpass", "postgresql://u@db/x?passfile=/home/u/.pgpass"),  # a path, not a secret
        # A password left unencoded with "/", "?", "#" or "@" in it (a review): all of it masked.
        ("postgresql://u:se/cr?et#x@db:5432/x", "postgresql://u:***@db:5432/x"),
        ("postgresql://u:p@w@db/x", "postgresql://u:***@db/x"),
    ],
)
def test_every_secret_of_a_database_url_is_masked_and_the_rest_shown_as_written(url, shown):
    from node.config import redact_url
    from node.store.postgres import redact

    assert redact is redact_url  # one redactor for config show, errors and logs
    assert redact_url(url) == shown
    assert load_config(env={"VCNODE_DATABASE_URL": url}).public()["database_url"] == shown


@pytest.mark.parametrize("value", ["notahostport", "issuer", "http://issuer:8443", "issuer:0", "issuer:70000", "issuer:port", "[::1]", "::1", "a b:80", "issuer/x:80"])
def test_an_allowed_insecure_host_is_host_and_port_or_a_clear_error(value):
    with pytest.raises(ConfigError, match=r"allow_insecure_hosts: .* is not host:port; plain HTTP is allowed for exactly one host and port"):
        load_config(env={"VCNODE_ALLOW_INSECURE_HOSTS": value})


def test_allowed_insecure_hosts_are_kept_as_the_http_client_matches_them():
    config = load_config(env={"VCNODE_ALLOW_INSECURE_HOSTS": "Issuer.Test:8443, [::1]:9000,127.0.0.1:08443,my_service:80"})
    assert config.allow_insecure_hosts == ("issuer.test:8443", "[::1]:9000", "127.0.0.1:8443", "my_service:80")


def test_an_unknown_vcnode_variable_is_named_with_the_setting_it_is_closest_to():
    from node.config import unknown_env_names

    env = {"VCNODE_PROT": "8000", "VCNODE_PASSPHARSE": "s", "VCNODE_FROBNICATE": "1", "VCNODE_PORT": "1", "HOME": "/root", "VCNODE_CONFIG": "x"}
    assert unknown_env_names(env) == [
        "VCNODE_FROBNICATE is not a vcnode setting and is ignored",
        "VCNODE_PASSPHARSE is not a vcnode setting and is ignored; did you mean VCNODE_PASSPHRASE?",
        "VCNODE_PROT is not a vcnode setting and is ignored; did you mean VCNODE_PORT?",
    ]


# Names this repository uses on purpose as mistakes, to test the warning above.
MISTAKES = {"VCNODE_PROT", "VCNODE_PASSPHARSE", "VCNODE_FROBNICATE"}


def test_no_vcnode_variable_the_project_uses_is_warned_about():
    """Every VCNODE_ name in the code, tests, docs, benchmarks and docker files is a setting or
    one of the project's other names: an operator or a test run setting it is never told it is
    unknown. A new one is added to node.config.OTHER_ENV_NAMES (or is a setting)."""
    import re

    from node.config import unknown_env_names

    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    for folder in ("node", "did", "vc", "status", "tests", "docs", "docker", "bench"):
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".md", ".yaml", ".yml", ".toml", ".sh", ".txt", "") and "__pycache__" not in path.parts:
                used |= set(re.findall(r"\bVCNODE_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8", errors="replace")))
    used |= set(re.findall(r"\bVCNODE_[A-Z][A-Z0-9_]*[A-Z0-9]\b", (root / "README.md").read_text(encoding="utf-8")))
    assert {"VCNODE_TEST_DATABASE_URL", "VCNODE_STATUS_ENTRIES_FILE", "VCNODE_ISSUER_PASSPHRASE"} <= used  # the scan finds them
    assert unknown_env_names({name: "x" for name in used - MISTAKES}) == []

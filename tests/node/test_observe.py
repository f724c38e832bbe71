"""node.observe, node.metrics, node.accesslog, node.logs and /readyz, in one process.

The end-to-end tests (tests/e2e/test_served_observe.py) hold the counters to real requests on
``vcnode serve`` processes; these pin the parts: the hooks' reports, label bounds, the log
formats, what never reaches a log, and the module boundaries that keep the multiprocess mode
choosable.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import ResponseLog

from did.cache import ExpiringCache, TTLCache
from did.errors import FetchError
from node.app import create_app
from node.config import Config
from node.logs import JsonFormatter, configure_logging
from node.metrics import Metrics
from node.observe import NO_OBSERVER, ObservedFetches, Observer, timed_offload
from node.problems import PROBLEM_JSON
from node.routes import NODE_KEY
from node.routes.openapi import document
from vc.errors import Problem
from vc.results import Check, VerificationResult

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


@pytest.fixture
async def served(tmp_path: Path, aiohttp_client: Any, unused_tcp_port: int) -> Any:
    config = Config().replace(data_dir=tmp_path / "data", host="127.0.0.1", port=unused_tcp_port, kdf="interactive")
    app = create_app(config)
    responses = ResponseLog(app)
    client = await aiohttp_client(app, server_kwargs={"host": "127.0.0.1", "port": unused_tcp_port})
    admin = (await app[NODE_KEY].tokens.create(["admin"])).token
    yield client, {"Authorization": f"Bearer {admin}"}
    responses.check()


# --- the module boundaries ----------------------------------------------------------------------


def test_importing_the_cli_and_the_app_does_not_import_prometheus_client() -> None:
    """prometheus_client picks its (multi)process mode on import: ``vcnode serve`` must be able to
    set the directory first, so nothing imports it until a ``Metrics`` is made."""
    code = (
        "import sys, node.cli, node.app, node.metrics, node.accesslog, node.routes.metrics\n"
        "node.cli.build_parser()\n"
        "assert 'prometheus_client' not in sys.modules, 'imported too early'\n"
        "node.metrics.Metrics()\n"
        "assert 'prometheus_client' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_nothing_below_node_imports_prometheus_client() -> None:
    for package in ("did", "vc", "status"):
        for path in (ROOT / package).rglob("*.py"):
            assert "prometheus" not in path.read_text(encoding="utf-8"), path


# --- the hooks -------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


class StandIn:
    """A guarded client's stand-in: answers, or refuses with a FetchError, or breaks."""

    allowed = "yes"

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        if self.fail is not None:
            raise self.fail
        return {"url": url, **kwargs}


async def test_observed_fetches_report_kind_outcome_and_time() -> None:
    report = Recorder()
    ok = ObservedFetches(StandIn(), "did-document", report)
    assert await ok.get_json("https://a.example/did.json", max_bytes=5) == {"url": "https://a.example/did.json", "max_bytes": 5}
    assert ok.allowed == "yes"  # everything else is the client's own
    with pytest.raises(FetchError):
        await ObservedFetches(StandIn(FetchError("slow", reason="timeout")), "status-list", report).get_json("https://b")
    with pytest.raises(RuntimeError):
        await ObservedFetches(StandIn(RuntimeError("bug")), "accreditations", report).get_json("https://c")
    assert [(kind, outcome) for kind, outcome, _ in report.calls] == [
        ("did-document", "ok"), ("status-list", "timeout"), ("accreditations", "error")
    ]
    assert all(seconds >= 0 for *_, seconds in report.calls)


async def test_timed_offload_reports_the_wait_and_the_step() -> None:
    report = Recorder()

    async def inline(step: Any) -> Any:
        await asyncio.sleep(0.02)  # queued
        return step()

    run = timed_offload(inline, "verify", report)
    assert await run(lambda: sum(range(1000))) == 499500
    ((work, waited, seconds),) = report.calls
    assert work == "verify" and waited >= 0.015 and 0 <= seconds < waited


async def test_the_node_pool_reports_each_steps_wait_and_cpu_time_without_a_wrapper() -> None:
    from node.offload import ThreadOffload

    report = Recorder()
    offload = ThreadOffload(1, inline_below=0)  # 0: every step on the pool
    try:
        timed = timed_offload(offload, "verify", report)

        def step() -> str:
            return threading.current_thread().name

        assert (await timed(step)).startswith("vcnode-cpu")
        ((work, waited, seconds),) = report.calls
        assert work == "verify" and waited >= 0 and 0 <= seconds < 1
        assert set(offload._estimates) == {step.__code__}  # the step's own kind: the inline choice sees it
    finally:
        offload.close()


def test_offload_steps_reported_from_many_threads_are_all_tallied() -> None:
    metrics = Metrics()
    hook = metrics.observer().offload_step

    def many() -> None:
        for _ in range(2000):
            hook("verify", 0.001, 0.0005)

    threads = [threading.Thread(target=many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = samples(metrics.exposition()[0].decode())
    assert got[("vcnode_canonicalization_seconds_count", frozenset({("work", "verify")}))] == 8000
    assert got[("vcnode_offload_wait_seconds_total", frozenset({("work", "verify")}))] == pytest.approx(8.0)


def test_caches_report_each_lookup() -> None:
    hits: list[bool] = []
    cache: TTLCache[Any] = TTLCache(lambda: 100.0, observe=hits.append)
    assert cache.get("a") is None
    cache.put("a", {"x": 1})
    assert cache.get("a") == {"x": 1}
    plain: ExpiringCache[str] = ExpiringCache(lambda: 5.0, observe=hits.append)
    plain.put_until("k", "v", 4.0)  # already expired: not kept
    assert plain.get("k") is None
    assert hits == [False, True, False]


def test_metrics_label_values_stay_bounded() -> None:
    metrics = Metrics()
    observer = metrics.observer()
    observer.request("BREW", "unmatched", 405, 0.001)
    result = VerificationResult("presentation")
    result.add(Check("proof", "failed", "bad", Problem("PROOF_VERIFICATION_ERROR", "t", "T", "d", 400)))
    result.add(Check("status", "failed", "revoked"))  # no problem of its own: STATUS_CHECK_FAILED
    result.add(Check("odd", "failed", "x", Problem("not a code{}", "t", "T", "d", 400)))
    # DID Resolution's internalError (an issuer's server unreachable) is not the node's own.
    result.add(Check("binding", "unknown", "x", Problem("INTERNAL_ERROR", "https://www.w3.org/ns/did#INTERNAL_ERROR", "T", "d", 400)))
    result.add(Check("other", "unknown", "x", Problem("INTERNAL_ERROR", "https://www.w3.org/TR/vc-data-model#INTERNAL_ERROR", "T", "d", 500)))
    inner = VerificationResult("credential")
    inner.add(Check("validity", "failed", "expired", Problem("RANGE_ERROR", "t", "T", "d", 400)))
    result.credentials.append(inner)
    observer.verified(result)
    got = samples(metrics.exposition()[0].decode())
    assert got[("vcnode_http_requests_total", frozenset({("method", "OTHER"), ("route", "unmatched"), ("status", "405")}))] == 1
    assert got[("vcnode_verifications_total", frozenset({("kind", "presentation"), ("verified", "false")}))] == 1
    codes = {dict(labels)["code"]: v for (name, labels), v in got.items() if name == "vcnode_verification_errors_total"}
    assert codes == {"PROOF_VERIFICATION_ERROR": 1, "STATUS_CHECK_FAILED": 1, "OTHER": 1, "RANGE_ERROR": 1,
                     "DID_INTERNAL_ERROR": 1, "INTERNAL_ERROR": 1}
    # errors also carries VC DM 2.0 §7.1's CRYPTOGRAPHIC_SECURITY_ERROR for the failed proof; the
    # tally counts failed checks, so that one failure is counted once.
    assert "CRYPTOGRAPHIC_SECURITY_ERROR" in [p.code for p in result.errors]


def test_tallied_observations_expose_exactly_what_observing_them_one_by_one_does() -> None:
    """The hooks tally and flush() writes n observations at once through the library's
    histogram internals, fenced by a probe; the public path (each value observed) must give the
    same exposition, and is what runs if the probe fails."""
    from prometheus_client import CollectorRegistry, Histogram
    from prometheus_client.exposition import generate_latest

    from node.metrics import REQUEST_BUCKETS, _bulk_histograms_work

    assert _bulk_histograms_work() is True  # the installed prometheus_client
    values = [0.0001, 0.001, 0.001, 0.0049, 0.3, 2.0, 11.0, 0.0]
    reference = CollectorRegistry()
    hist = Histogram("vcnode_http_request_duration_seconds", "Time to answer an HTTP request (handler and middlewares), by route template",
                     ["method", "route"], buckets=REQUEST_BUCKETS, registry=reference)
    for v in values:
        hist.labels("GET", "/x").observe(v)
    expected = [line for line in generate_latest(reference).decode().splitlines() if line.startswith("vcnode_http_request_duration_seconds_") and "_created" not in line]
    for bulk in (True, False):
        metrics = Metrics()
        metrics.bulk_histograms = bulk
        for v in values:
            metrics.request("GET", "/x", 200, v)
        got = [line for line in metrics.exposition()[0].decode().splitlines() if line.startswith("vcnode_http_request_duration_seconds_") and "_created" not in line]
        assert got == expected, bulk


async def test_tallies_are_written_each_second_and_before_each_scrape() -> None:
    metrics = Metrics()
    metrics.observer().issued("physics", 2)
    assert metrics.issued.labels("physics")._value.get() == 0  # tallied, not yet written
    task = asyncio.get_running_loop().create_task(metrics.flushing(period=0.05))
    await asyncio.sleep(0.2)
    assert metrics.issued.labels("physics")._value.get() == 2
    metrics.observer().issued("physics", 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert metrics.issued.labels("physics")._value.get() == 3  # flushed once more on the way out
    metrics.observer().issued("physics", 4)
    assert 'vcnode_credentials_issued_total{issuer="physics"} 7.0' in metrics.exposition()[0].decode()


def test_two_metrics_in_one_process_count_apart() -> None:
    a, b = Metrics(), Metrics()
    a.observer().issued("physics", 3)
    text_a, text_b = a.exposition()[0].decode(), b.exposition()[0].decode()
    assert 'vcnode_credentials_issued_total{issuer="physics"} 3.0' in text_a
    assert "physics" not in text_b


def test_the_default_observer_does_nothing() -> None:
    assert isinstance(NO_OBSERVER, Observer)
    NO_OBSERVER.request("GET", "/", 200, 0.1)
    NO_OBSERVER.cache_observer("did-document")(True)


# --- the access log and the log formats --------------------------------------------------------


def test_json_lines_carry_the_record_fields_and_the_exception() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("vcnode.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.fields = {"route": "/x", "status": 200}
    line = json.loads(formatter.format(record))
    assert line["message"] == "GET /x" and line["route"] == "/x" and line["status"] == 200
    assert line["level"] == "INFO" and line["logger"] == "vcnode.access" and line["time"].endswith("Z")
    try:
        raise ValueError("boom")
    except ValueError:
        failing = logging.LogRecord("node", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(formatter.format(failing))["exception"]


async def test_route_and_issuer_come_from_the_route_template(served: Any, caplog: Any) -> None:
    client, _ = served
    caplog.set_level(logging.INFO, logger="vcnode.access")
    for path in ("/issuers/default/did.json", "/issuers/Not..Valid!/did.json", "/status/default/revocation/1", "/no/such/learner/Alice"):
        await client.get(path)
    seen = [(r.fields["route"], r.fields["issuer"]) for r in caplog.records if r.name == "vcnode.access"]
    assert seen == [
        ("/issuers/{name}/did.json", "default"),
        ("/issuers/{name}/did.json", None),  # not an issuer name's form: not logged
        ("/status/{issuer}/{purpose}/{seq}", "default"),
        ("unmatched", None),
    ]
    assert caplog.records[-4].getMessage().endswith(" issuer=default")


async def test_nothing_secret_reaches_the_log(served: Any, caplog: Any) -> None:
    """A token, a learner's name in a body and a path, a query string: none is logged, by the
    access log or anything else the node logs for these requests."""
    client, admin = served
    caplog.set_level(logging.INFO)
    secret_name, secret_query = "Oluwaseun Secretsurname", "s3cr3t-query-value"
    bogus = {"Authorization": "Bearer not-a-token-but-secret-looking-0123456789"}
    issuer = (await client.server.app[NODE_KEY].issuers.get("default")).did
    body = {"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                           "issuer": issuer, "credentialSubject": {"name": secret_name}}}
    assert (await client.post("/credentials/issue", json=body, headers=bogus)).status == 401
    assert (await client.post("/credentials/issue", json=body, headers=admin)).status == 201
    assert (await client.post("/credentials/verify", json={"verifiableCredential": body["credential"]})).status == 400
    assert (await client.get(f"/verify?url=https%3A%2F%2Fexample.invalid%2F{secret_query}")).status in (400, 502, 503)
    assert (await client.get(f"/issuers/default/achievements/{secret_name}?q={secret_query}")).status == 404
    # (aiohttp.access is the test server's own access log, which vcnode serve turns off.)
    records = [r for r in caplog.records if r.name != "aiohttp.access"]
    text = "\n".join(r.getMessage() + json.dumps(getattr(r, "fields", {})) for r in records)
    access = [r for r in caplog.records if r.name == "vcnode.access"]
    assert len(access) == 5
    for secret in (admin["Authorization"][7:], "not-a-token-but-secret-looking", secret_name, "Secretsurname", secret_query):
        assert secret not in text
    assert [r.fields["status"] for r in access] == [401, 201, 400, access[3].fields["status"], 404]
    assert access[3].fields["route"] == "/verify"


async def test_malformed_requests_are_logged_without_their_bytes(served: Any) -> None:
    """aiohttp's parser errors quote the request's bytes (a header's value: a token); the node's
    logging keeps the event and drops the quote."""
    client, _ = served
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", "json", stream=out)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok3n-in-a-bad-header\x01\r\n\r\n")
        await writer.drain()
        answer = await reader.read(200)
        writer.close()
        assert answer.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")
        await asyncio.sleep(0.1)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    refused = [line for line in lines if line["logger"] == "aiohttp.server"]
    assert refused and "malformed request refused (BadHttpMessage, 400)" in refused[0]["message"]
    assert refused[0]["level"] == "WARNING" and "exception" not in refused[0]
    assert "tok3n" not in out.getvalue()


# --- /metrics and /readyz --------------------------------------------------------------------


async def test_metrics_need_an_admin_token_and_are_declared(served: Any) -> None:
    client, admin = served
    resp = await client.get("/metrics")
    assert resp.status == 401 and resp.content_type == PROBLEM_JSON
    resp = await client.get("/metrics", headers=admin)
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    got = samples(await resp.text())
    assert got[("vcnode_http_requests_total", frozenset({("method", "GET"), ("route", "/metrics"), ("status", "401")}))] == 1
    operation = document(client.server.app)["paths"]["/metrics"]["get"]
    # Beside these, what node/traffic.py answers for any request the HTTP parser refuses.
    assert set(operation["responses"]) == {"200", "401", "403"} | {"400", "414", "431"}
    assert "admin" in operation["description"]


async def test_readyz_is_503_when_the_store_does_not_answer(served: Any) -> None:
    client, _ = served
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["status"] == "ready"
    assert resp.headers["Cache-Control"] == "no-store"
    await client.server.app[NODE_KEY].db.close()
    resp = await client.get("/readyz")
    assert resp.status == 503 and resp.content_type == PROBLEM_JSON
    assert "store does not answer" in (await resp.json())["detail"]


def test_metrics_whose_directory_is_gone_are_logged_and_the_flushing_goes_on() -> None:
    """A worker stopping after its supervisor removed the multiprocess directory (or anyone
    removing it) must still shut down cleanly: the tallies it cannot write are logged."""
    script = (
        "import asyncio, logging, os, shutil, sys, tempfile\n"
        "d = tempfile.mkdtemp(); os.environ['PROMETHEUS_MULTIPROC_DIR'] = d\n"
        "from node.metrics import Metrics\n"
        "m = Metrics(); o = m.observer()\n"
        "async def main():\n"
        "    t = asyncio.create_task(m.flushing(0.05)); await asyncio.sleep(0.2)\n"
        "    shutil.rmtree(d); o.issued('default', 1)  # this process's first value: its file cannot be made\n"
        "    await asyncio.sleep(0.2)\n"
        "    assert not t.done(), t\n"
        "    t.cancel()\n"
        "    try:\n"
        "        await t\n"
        "    except asyncio.CancelledError:\n"
        "        pass\n"
        "asyncio.run(main()); print('stopped')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "stopped", done.stderr
    assert "metrics could not be written" in done.stderr and "Traceback" not in done.stderr


def _documented_families() -> set[str]:
    """The metric names docs/operations.md's table lists (counters without their _total)."""
    import re

    table = (ROOT / "docs" / "operations.md").read_text()
    names = set(re.findall(r"^\| `(vcnode_[a-z_]+)`", table, re.M))
    assert len(names) >= 10, names
    return {n.removesuffix("_total") for n in names}


def test_a_scrape_in_multiprocess_mode_shows_only_the_documented_families(tmp_path: Path) -> None:
    """Every process's values go to the shared files, whatever registry a metric is in: nothing
    the node makes for itself (the histogram probe of node.metrics) may be among them."""
    worker = (
        "from node.metrics import Metrics\n"
        "m = Metrics(); m.request('GET', '/healthz', 200, 0.001); m.observer().list_published(0.2); m.flush()\n"
        "assert m.bulk_histograms  # the probe still passes, on in-memory values\n"
    )
    scrape = "from node.metrics import Metrics\nimport sys; sys.stdout.write(Metrics().exposition()[0].decode())\n"
    env = {**__import__("os").environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for script in (worker, worker, scrape):  # two workers that have come and gone, then a scrape
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
    families = {f.name for f in text_string_to_metric_families(done.stdout)}
    assert "vcnode_http_requests" in families and "vcnode_status_list_publish_seconds" in families
    assert families <= _documented_families(), families - _documented_families()


def test_hook_calls_are_tallied_without_a_flusher_before_they_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import node.metrics as metrics_module

    monkeypatch.setattr(metrics_module, "PENDING_MAX", 50)
    metrics = Metrics()
    for _ in range(120):
        metrics.request("GET", "/x", 200, 0.001)
    assert len(metrics._pending) <= 50  # tallied as they came, no flusher needed
    got = samples(metrics.exposition()[0].decode())
    assert got[("vcnode_http_requests_total", frozenset({("method", "GET"), ("route", "/x"), ("status", "200")}))] == 120

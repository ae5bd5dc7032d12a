"""The operational side of `belfry serve`: throttling, fault injection and the admin API,
structured logs, Prometheus metrics, the config file, and graceful shutdown.

Every test starts its own servers (`serve`, over this test's `fresh_store`) with the options it
is about, and drives them with boto3 and plain `requests` as a user would.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import BotoCoreError, ClientError

from support import (
    Key, chime_client, email, expect_error, expect_raw_error, random_key,
    server_env, signed_request, start_server, unique,
)

#: The admin token of the servers that have the admin API on.
ADMIN_TOKEN = "admin-" + secrets.token_hex(12)
#: An account id of the right shape that no server has.
UNKNOWN_ACCOUNT_ID = "00000000-0000-0000-0000-000000000000"

#: Each error a fault rule can raise: the modeled exception and its HTTP status.
FAULT_ERRORS = {
    "Throttled": ("ThrottledClientException", 429),
    "ServiceUnavailable": ("ServiceUnavailableException", 503),
    "ServiceFailure": ("ServiceFailureException", 500),
    "Unauthorized": ("UnauthorizedClientException", 401),
    "Forbidden": ("ForbiddenException", 403),
    "NotFound": ("NotFoundException", 404),
    "BadRequest": ("BadRequestException", 400),
}


#: botocore's `max_attempts` counts retries (1 means up to 2 attempts, and its legacy mode
#: retries 429, 500 and 503): these tests want exactly one attempt per call.
NO_RETRIES = {"total_max_attempts": 1}


# -- helpers -----------------------------------------------------------------------------------

def client_of(server, key: Key, **config):
    """A boto3 Chime client of `server` that makes one attempt per call unless told otherwise."""
    return chime_client(server.endpoint, key, **{"retries": NO_RETRIES, **config})


@pytest.fixture
def serve(bin_path, tmp_path, fresh_store):
    """Starts servers over this test's store; each still running at the end must exit 0."""
    started = []

    def start(*args: str, env: dict | None = None, demo: bool = False):
        server = start_server(bin_path, tmp_path, fresh_store, demo=demo,
                              extra_args=list(args), extra_env=env)
        started.append(server)
        return server

    yield start
    failures = []
    for server in started:
        code = server.stop()
        if code != 0:
            failures.append(f"belfry exited with {code} after SIGTERM, expected 0\n"
                            f"{server.logs(80)}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def admin(server, method: str, path: str, body=None, *, token: str | None = ADMIN_TOKEN,
          raw: bytes | None = None) -> requests.Response:
    """An admin API call (`/_belfry/...`) with `Authorization: Bearer <token>` unless None."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return requests.request(method, server.endpoint + path, data=raw, headers=headers,
                                timeout=30)
    return requests.request(method, server.endpoint + path, json=body, headers=headers,
                            timeout=30)


def add_fault(server, **rule) -> int:
    """Adds a fault rule through the admin API; its id."""
    resp = admin(server, "POST", "/_belfry/faults", rule)
    assert resp.status_code == 201, (resp.status_code, resp.text)
    doc = resp.json()
    assert isinstance(doc["id"], int), doc
    return doc["id"]


def list_faults(server) -> list[dict]:
    resp = admin(server, "GET", "/_belfry/faults")
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return resp.json()["rules"]


def new_account_with_users(client, users: int = 3) -> str:
    """A new account with `users` users; its id."""
    account_id = client.create_account(Name=unique("ops"))["Account"]["AccountId"]
    for _ in range(users):
        client.create_user(AccountId=account_id, Email=email())
    return account_id


def throttle_outcomes(client, account_id: str, n: int = 60) -> list[bool]:
    """`n` ListUsers calls: True for each answered ThrottledClientException, False for a 200."""
    outcomes = []
    for _ in range(n):
        try:
            client.list_users(AccountId=account_id)
            outcomes.append(False)
        except client.exceptions.ThrottledClientException as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            outcomes.append(True)
    return outcomes


def retry_after(err: dict) -> int:
    """The Retry-After header of a boto3 error response: an integer number of seconds."""
    value = err["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
    assert value is not None, err["ResponseMetadata"]["HTTPHeaders"]
    assert re.fullmatch(r"\d+", value), value
    return int(value)


_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$")
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_metrics(text: str) -> tuple[dict, dict]:
    """Prometheus text exposition: ({(name, frozenset(labels)): value}, {family: type})."""
    samples: dict = {}
    types: dict = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        m = _SAMPLE_RE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, label_text, value = m.groups()
        labels = {}
        if label_text:
            consumed = 0
            for lm in _LABEL_RE.finditer(label_text):
                assert lm.start() == consumed, f"bad labels in {line!r}"
                labels[lm.group(1)] = lm.group(2)
                consumed = lm.end()
            assert consumed == len(label_text), f"bad labels in {line!r}"
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"sample {line!r} appears twice"
        samples[key] = float(value)
    return samples, types


def metrics(server) -> tuple[dict, dict]:
    resp = requests.get(server.endpoint + "/metrics", timeout=30)  # no credentials
    assert resp.status_code == 200, (resp.status_code, resp.text)
    assert resp.headers.get("content-type", "").startswith("text/plain"), dict(resp.headers)
    return parse_metrics(resp.text)


def sample(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def series(samples: dict, name: str) -> dict:
    """Every sample of `name`: {frozenset(labels): value}."""
    return {labels: v for (n, labels), v in samples.items() if n == name}


def json_log_lines(server) -> list[dict]:
    """The server's stderr, every line a JSON object."""
    lines = []
    for line in server.log_path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"a stderr line is not JSON: {line!r}", pytrace=False)
        assert isinstance(doc, dict), line
        lines.append(doc)
    return lines


def write_config(path, text: str):
    path.write_text(text)
    return path


# -- 1. throttling -----------------------------------------------------------------------------

def test_throttling_refuses_over_the_burst_per_key_after_authentication(serve):
    server = serve("--rate-limit", "1/h", "--burst", "2", "--throttle-max-wait-ms", "0")
    key = server.create_key()
    client = client_of(server, key)
    client.list_accounts()
    client.list_accounts()
    with pytest.raises(client.exceptions.ThrottledClientException) as e:
        client.list_accounts()
    err = expect_error(e, "ThrottledClientException", 429)
    assert err["Error"]["Code"] == "ThrottledClientException"
    assert retry_after(err) >= 1

    # The raw reply: the modeled error body and an integer Retry-After.
    raw = signed_request(server.endpoint, key, "GET", "/accounts")
    body = expect_raw_error(raw, "ThrottledClientException", 429)
    assert body["Code"] == "Throttled", body
    assert re.fullmatch(r"\d+", raw.headers.get("Retry-After", "")), dict(raw.headers)
    assert int(raw.headers["Retry-After"]) >= 1

    # Another key has its own bucket.
    other = client_of(server, server.create_key())
    other.list_accounts()
    other.list_accounts()

    # Requests that fail authentication take no token: neither an unknown key id's nor one
    # with a real key id and a wrong secret.
    fresh = server.create_key()
    forged = client_of(server, Key(*random_key(), fresh.aws_account_id))
    wrong_secret = client_of(server, Key(fresh.access_key_id, random_key()[1],
                                         fresh.aws_account_id))
    for bad in (forged, wrong_secret):
        for _ in range(3):
            with pytest.raises(bad.exceptions.UnauthorizedClientException) as e:
                bad.list_accounts()
            expect_error(e, "UnauthorizedClientException", 401)
    fresh_client = client_of(server, fresh)
    fresh_client.list_accounts()
    fresh_client.list_accounts()
    with pytest.raises(fresh_client.exceptions.ThrottledClientException) as e:
        fresh_client.list_accounts()
    expect_error(e, "ThrottledClientException", 429)


def test_standard_retry_mode_rides_through_a_burst_held_to_the_rate(serve):
    # 2,000 ListUsers from 4 threads through 250/s with a burst of 50: over the rate a request
    # waits for its token (default max wait 1000 ms) instead of failing. The rate is well
    # below what the clients can send: boto3 on a 2-core machine sends ~900 requests/s when
    # idle and under 500/s when busy, so at 1000/s (even 500/s) the bucket may never run dry.
    rate, burst, total, threads = 250, 50, 2000, 4
    server = serve("--rate-limit", f"{rate}/s", "--burst", str(burst))
    key = server.create_key()
    account_id = new_account_with_users(client_of(server, key), users=3)
    time.sleep(burst / rate + 0.05)  # the setup's tokens are back
    clients = [client_of(server, key, retries={"mode": "standard", "max_attempts": 3})
               for _ in range(threads)]

    def run(client) -> int:
        n = 0
        for _ in range(total // threads):
            assert len(client.list_users(AccountId=account_id)["Users"]) == 3
            n += 1
        return n

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(run, clients))  # any exception surfaces here
    elapsed = time.monotonic() - started
    assert done == total

    samples, _ = metrics(server)
    delayed = sample(samples, "belfry_throttle_delayed_total")
    assert delayed is not None and delayed > 0, "the rate limit was never reached"
    assert (sample(samples, "belfry_throttled_total") or 0) == 0
    assert sample(samples, "belfry_requests_total", operation="ListUsers", status="200") == total
    assert elapsed >= 0.95 * (total - burst) / rate, f"{total} requests took only {elapsed:.2f}s"


# -- 2. fault injection and the admin API -------------------------------------------------------

@pytest.mark.parametrize("error", list(FAULT_ERRORS))
def test_fault_rule_raises_the_modeled_error_on_its_operation_only(serve, error):
    shape, status = FAULT_ERRORS[error]
    server = serve("--admin-token", ADMIN_TOKEN)
    key = server.create_key()
    client = client_of(server, key)
    account_id = new_account_with_users(client, users=1)
    add_fault(server, operation="ListUsers", error=error)

    with pytest.raises(getattr(client.exceptions, shape)) as e:
        client.list_users(AccountId=account_id)
    expect_error(e, shape, status)
    raw = signed_request(server.endpoint, key, "GET", f"/accounts/{account_id}/users")
    expect_raw_error(raw, shape, status)
    # The rule names ListUsers: GetAccount is served.
    assert client.get_account(AccountId=account_id)["Account"]["AccountId"] == account_id


def test_fault_rules_are_listed_validated_and_deleted(serve):
    server = serve("--admin-token", ADMIN_TOKEN)
    client = client_of(server, server.create_key())
    a = add_fault(server, operation="ListUsers", probability=0.3, error="Throttled", seed=42)
    b = add_fault(server, operation="GetAccount", probability=0.0, latency_ms=5)
    c = add_fault(server, error="NotFound")  # operation "*" and probability 1.0 by default
    assert a < b < c
    assert list_faults(server) == [
        {"id": a, "operation": "ListUsers", "probability": 0.3, "error": "Throttled",
         "seed": 42},
        {"id": b, "operation": "GetAccount", "probability": 0.0, "latency_ms": 5},
        {"id": c, "operation": "*", "probability": 1.0, "error": "NotFound"},
    ]
    # "*" matches every operation.
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.list_accounts()
    expect_error(e, "NotFoundException", 404)

    assert admin(server, "DELETE", f"/_belfry/faults/{c}").status_code == 204
    expect_raw_error(admin(server, "DELETE", f"/_belfry/faults/{c}"), "NotFoundException", 404)
    assert [r["id"] for r in list_faults(server)] == [a, b]
    client.list_accounts()

    invalid = [
        {"operation": "ListUserz", "error": "Throttled"},
        {"operation": "ListUsers", "probability": 1.5, "error": "Throttled"},
        {"operation": "ListUsers", "probability": -0.1, "error": "Throttled"},
        {"operation": "ListUsers", "probability": 0.5},  # neither error nor latency
        {"operation": "ListUsers", "error": "Throttled", "colour": "red"},  # unknown field
        {"operation": "ListUsers", "error": "Teapot"},
    ]
    for rule in invalid:
        resp = admin(server, "POST", "/_belfry/faults", rule)
        expect_raw_error(resp, "BadRequestException", 400)
    expect_raw_error(admin(server, "POST", "/_belfry/faults", raw=b"{not json"),
                     "BadRequestException", 400)
    assert [r["id"] for r in list_faults(server)] == [a, b]


def test_a_seeded_fault_rule_repeats_its_sequence(serve, tmp_path):
    rule = {"operation": "ListUsers", "probability": 0.3, "error": "Throttled", "seed": 42}
    first = serve("--admin-token", ADMIN_TOKEN, "--fault-seed", "42")
    client = client_of(first, first.create_key())
    account_id = new_account_with_users(client, users=2)

    rule_id = add_fault(first, **rule)
    recorded = throttle_outcomes(client, account_id)
    hits = sum(recorded)
    assert 5 <= hits <= 35, f"{hits} of 60 at p=0.3: {recorded}"
    assert admin(first, "DELETE", f"/_belfry/faults/{rule_id}").status_code == 204
    add_fault(first, **rule)  # a fresh generator
    assert throttle_outcomes(client, account_id) == recorded

    # A rule without a seed draws from the server's --fault-seed.
    assert admin(first, "DELETE", "/_belfry/faults").status_code == 204
    unseeded = {k: v for k, v in rule.items() if k != "seed"}
    add_fault(first, **unseeded)
    assert [{k: v for k, v in r.items() if k != "id"} for r in list_faults(first)] == [unseeded]
    assert throttle_outcomes(client, account_id) == recorded
    assert first.stop() == 0, first.logs()

    # The same rule given at start in a config file, on another server.
    config = write_config(tmp_path / "faults.toml", f"""
admin_token = "{ADMIN_TOKEN}"

[[faults]]
operation = "ListUsers"
probability = 0.3
error = "Throttled"
seed = 42
""")
    second = serve("--config", str(config))
    assert list_faults(second) == [{"id": 1, **rule}]
    client2 = client_of(second, second.create_key())
    account2 = new_account_with_users(client2, users=2)
    assert throttle_outcomes(client2, account2) == recorded


def test_clearing_fault_rules_restores_service(serve):
    server = serve("--admin-token", ADMIN_TOKEN)
    client = client_of(server, server.create_key())
    account_id = new_account_with_users(client, users=2)
    add_fault(server, operation="ListUsers", error="ServiceFailure")
    add_fault(server, operation="*", error="ServiceUnavailable")
    with pytest.raises(client.exceptions.ServiceFailureException):
        client.list_users(AccountId=account_id)
    with pytest.raises(client.exceptions.ServiceUnavailableException):
        client.get_account(AccountId=account_id)

    resp = admin(server, "DELETE", "/_belfry/faults")
    assert resp.status_code == 204, (resp.status_code, resp.text)
    assert list_faults(server) == []
    assert len(client.list_users(AccountId=account_id)["Users"]) == 2
    assert client.get_account(AccountId=account_id)["Account"]["AccountId"] == account_id


def test_latency_rule_delays_its_operation(serve):
    server = serve("--admin-token", ADMIN_TOKEN)
    client = client_of(server, server.create_key())
    account_id = new_account_with_users(client, users=0)
    add_fault(server, operation="GetAccount", latency_ms=300)
    started = time.monotonic()
    resp = client.get_account(AccountId=account_id)  # latency only: still answered
    took = time.monotonic() - started
    assert resp["Account"]["AccountId"] == account_id
    assert took >= 0.3, f"GetAccount took {took:.3f}s with a 300 ms latency rule"
    samples, _ = metrics(server)
    assert sample(samples, "belfry_faults_injected_total",
                  operation="GetAccount", effect="latency") == 1


def test_admin_api_needs_the_bearer_token(serve):
    server = serve("--admin-token", ADMIN_TOKEN)
    health = requests.get(server.endpoint + "/_belfry/health", timeout=30)
    assert health.status_code == 200 and health.json() == {"status": "ok"}, health.text
    calls = [("GET", "/_belfry/faults", None),
             ("POST", "/_belfry/faults", {"error": "Throttled"}),
             ("DELETE", "/_belfry/faults", None),
             ("DELETE", "/_belfry/faults/1", None),
             ("POST", "/_belfry/reset", None)]
    for method, path, body in calls:
        expect_raw_error(admin(server, method, path, body, token=None),
                         "UnauthorizedClientException", 401)
        expect_raw_error(admin(server, method, path, body, token="not-" + ADMIN_TOKEN),
                         "UnauthorizedClientException", 401)
    basic = requests.get(server.endpoint + "/_belfry/faults", timeout=30,
                         headers={"Authorization": f"Basic {ADMIN_TOKEN}"})
    expect_raw_error(basic, "UnauthorizedClientException", 401)
    assert list_faults(server) == []  # nothing was added by the refused calls

    off = serve()  # no --admin-token: the admin API is not there, health still is
    health = requests.get(off.endpoint + "/_belfry/health", timeout=30)
    assert health.status_code == 200 and health.json() == {"status": "ok"}, health.text
    for method, path, body in calls:
        for token in (None, ADMIN_TOKEN):
            expect_raw_error(admin(off, method, path, body, token=token),
                             "NotFoundException", 404)


def test_reset_deletes_accounts_and_users_but_keeps_keys(serve):
    server = serve("--admin-token", ADMIN_TOKEN)
    key = server.create_key()
    client = client_of(server, key)
    account_id = new_account_with_users(client, users=3)
    other = client_of(server, server.create_key())
    other_account = other.create_account(Name=unique("other"))["Account"]["AccountId"]

    resp = admin(server, "POST", "/_belfry/reset")
    assert resp.status_code == 204, (resp.status_code, resp.text)

    assert client.list_accounts()["Accounts"] == []
    assert other.list_accounts()["Accounts"] == []
    for c, acct in ((client, account_id), (other, other_account)):
        with pytest.raises(c.exceptions.NotFoundException) as e:
            c.get_account(AccountId=acct)
        expect_error(e, "NotFoundException", 404)
    # The key still works.
    fresh = client.create_account(Name=unique("after-reset"))["Account"]
    assert fresh["AwsAccountId"] == key.aws_account_id
    assert [a["AccountId"] for a in client.list_accounts()["Accounts"]] == [fresh["AccountId"]]
    assert client.list_users(AccountId=fresh["AccountId"])["Users"] == []


# -- 3. structured logs ------------------------------------------------------------------------

def test_json_logs_carry_request_id_key_and_operation(serve):
    server = serve("--log-format", "json", env={"BELFRY_LOG": "info"})
    key = server.create_key()
    client = client_of(server, key)
    account_id = new_account_with_users(client, users=2)
    ok = client.list_users(AccountId=account_id)
    ok_id = ok["ResponseMetadata"]["RequestId"]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_account(AccountId=UNKNOWN_ACCOUNT_ID)
    missing_id = expect_error(e, "NotFoundException", 404)["ResponseMetadata"]["RequestId"]
    assert server.stop() == 0, server.logs()

    lines = json_log_lines(server)
    by_id = {}
    for doc in lines:
        rid = (doc.get("fields") or {}).get("request_id")
        if rid is not None:
            assert rid not in by_id, f"two log lines for request {rid}"
            by_id[rid] = doc
    for rid, operation, status in ((ok_id, "ListUsers", 200),
                                   (missing_id, "GetAccount", 404)):
        assert rid in by_id, f"no log line with request_id {rid}: {lines[-10:]}"
        doc = by_id[rid]
        fields = doc["fields"]
        assert doc["target"] == "belfry::request", doc
        assert fields["access_key_id"] == key.access_key_id, doc
        assert fields["operation"] == operation, doc
        assert fields["status"] == status, doc
        assert isinstance(fields["latency_us"], int) and fields["latency_us"] >= 0, doc
    text = server.log_path.read_text()
    assert key.secret_access_key not in text
    assert server.root.secret_access_key not in text


# -- 4. metrics --------------------------------------------------------------------------------

def test_metrics_count_requests_latencies_faults_and_the_pool(serve):
    server = serve("--admin-token", ADMIN_TOKEN, "--db-max-connections", "5",
                   "--rate-limit", "1/h", "--burst", "7", "--throttle-max-wait-ms", "0")
    client = client_of(server, server.create_key())
    account_id = client.create_account(Name=unique("metrics"))["Account"]["AccountId"]  # 1
    for _ in range(3):                                                                   # 2-4
        client.list_users(AccountId=account_id)
    for _ in range(2):                                                                   # 5-6
        with pytest.raises(client.exceptions.NotFoundException):
            client.get_account(AccountId=UNKNOWN_ACCOUNT_ID)
    add_fault(server, operation="ListUsers", error="Throttled")
    with pytest.raises(client.exceptions.ThrottledClientException) as e:                 # 7
        client.list_users(AccountId=account_id)
    assert "retry-after" not in e.value.response["ResponseMetadata"]["HTTPHeaders"]
    with pytest.raises(client.exceptions.ThrottledClientException) as e:                 # 8
        client.list_accounts()
    assert retry_after(e.value.response) >= 1  # refused by the rate limiter

    samples, types = metrics(server)
    assert types.get("belfry_requests_total") == "counter", types
    assert types.get("belfry_request_duration_seconds") == "histogram", types
    assert types.get("belfry_faults_injected_total") == "counter", types
    assert types.get("belfry_store_connections") == "gauge", types

    requests_total = series(samples, "belfry_requests_total")
    assert sample(samples, "belfry_requests_total", operation="CreateAccount", status="201") == 1
    assert sample(samples, "belfry_requests_total", operation="ListUsers", status="200") == 3
    assert sample(samples, "belfry_requests_total", operation="ListUsers", status="429") == 1
    assert sample(samples, "belfry_requests_total", operation="GetAccount", status="404") == 2
    assert sum(requests_total.values()) == 8, requests_total
    assert sample(samples, "belfry_throttled_total") == 1
    assert (sample(samples, "belfry_throttle_delayed_total") or 0) == 0
    assert series(samples, "belfry_faults_injected_total") == {
        frozenset({"operation": "ListUsers", "effect": "Throttled"}.items()): 1}

    for operation, count in (("CreateAccount", 1), ("ListUsers", 4), ("GetAccount", 2)):
        assert sample(samples, "belfry_request_duration_seconds_count",
                      operation=operation) == count, operation
        total = sample(samples, "belfry_request_duration_seconds_sum", operation=operation)
        assert total is not None and 0 < total < 60, (operation, total)
        buckets = sorted(
            ((float(dict(labels)["le"]), v) for labels, v in
             series(samples, "belfry_request_duration_seconds_bucket").items()
             if dict(labels).get("operation") == operation),
            key=lambda b: b[0])
        assert len(buckets) >= 2, (operation, buckets)
        values = [v for _, v in buckets]
        assert values == sorted(values), f"buckets of {operation} are not cumulative: {buckets}"
        assert buckets[-1] == (math.inf, count), (operation, buckets)

    assert sample(samples, "belfry_store_max_connections") == 5
    idle = sample(samples, "belfry_store_connections", state="idle")
    in_use = sample(samples, "belfry_store_connections", state="in_use")
    assert idle is not None and in_use is not None, series(samples, "belfry_store_connections")
    assert idle >= 0 and in_use >= 0 and idle + in_use <= 5, (idle, in_use)


# -- 5. the config file and --help -------------------------------------------------------------

def test_config_file_sets_options_and_flags_override_it(serve, tmp_path):
    elsewhere = tmp_path / "data-from-config"
    config = write_config(tmp_path / "belfry.toml", f"""
listen = "127.0.0.1:1"
data = "{elsewhere}"
db_max_connections = 3
rate_limit = "1/h"
burst = 1
throttle_max_wait_ms = 0
admin_token = "{ADMIN_TOKEN}"
log_format = "json"

[[faults]]
operation = "ListAccounts"
error = "ServiceUnavailable"
""")
    # start_server passes --listen and the store options; --rate-limit off overrides the file.
    server = serve("--config", str(config), "--rate-limit", "off", env={"BELFRY_LOG": "info"})
    assert not server.endpoint.endswith(":1"), server.endpoint
    client = client_of(server, server.create_key())
    account_id = new_account_with_users(client, users=1)
    for _ in range(5):
        assert len(client.list_users(AccountId=account_id)["Users"]) == 1
    # From the file: the fault rule, the admin token, the pool size, the log format.
    with pytest.raises(client.exceptions.ServiceUnavailableException) as e:
        client.list_accounts()
    expect_error(e, "ServiceUnavailableException", 503)
    assert list_faults(server) == [{"id": 1, "operation": "ListAccounts", "probability": 1.0,
                                    "error": "ServiceUnavailable"}]
    samples, _ = metrics(server)
    assert sample(samples, "belfry_store_max_connections") == 3
    assert server.stop() == 0, server.logs()
    assert any(d.get("target") == "belfry::request" for d in json_log_lines(server))
    assert not elsewhere.exists(), "the data directory of the file was used despite --data"


def test_environment_overrides_the_config_file(serve, tmp_path):
    config = write_config(tmp_path / "belfry.toml", """
rate_limit = "1/h"
burst = 1
throttle_max_wait_ms = 0
admin_token = "token-from-file"
""")
    server = serve("--config", str(config),
                   env={"BELFRY_BURST": "3", "BELFRY_ADMIN_TOKEN": ADMIN_TOKEN})
    client = client_of(server, server.create_key())
    for _ in range(3):
        client.list_accounts()
    with pytest.raises(client.exceptions.ThrottledClientException) as e:
        client.list_accounts()
    expect_error(e, "ThrottledClientException", 429)
    assert admin(server, "GET", "/_belfry/faults").status_code == 200
    expect_raw_error(admin(server, "GET", "/_belfry/faults", token="token-from-file"),
                     "UnauthorizedClientException", 401)


@pytest.mark.parametrize("text,bad_key", [
    ('listne = "127.0.0.1:0"\n', "listne"),
    ('burst = 5\nrate_limt = "5/s"\n', "rate_limt"),
    ('[[faults]]\noperation = "ListUsers"\nerror = "Throttled"\nprobabilty = 0.5\n',
     "probabilty"),
])
def test_config_file_with_an_unknown_key_stops_the_server(bin_path, tmp_path, fresh_store,
                                                         text, bad_key):
    config = write_config(tmp_path / "bad.toml", text)
    try:
        out = subprocess.run(
            [str(bin_path), "serve", "--config", str(config), "--listen", "127.0.0.1:0",
             *fresh_store.args()],
            env=server_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"belfry kept running with the unknown key {bad_key!r} in its config file",
                    pytrace=False)
    assert out.returncode != 0, (out.stdout, out.stderr)
    assert bad_key in out.stderr, out.stderr
    assert "listening" not in out.stdout, out.stdout


def test_serve_help_lists_every_option_with_its_default(bin_path):
    out = subprocess.run([str(bin_path), "serve", "--help"], env=server_env(),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    # Split the help into one block per option.
    blocks: dict[str, str] = {}
    current = None
    for line in out.stdout.splitlines():
        m = re.match(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", line)
        if m:
            current = m.group(1)
            blocks[current] = line
        elif current is not None:
            blocks[current] += "\n" + line
    defaults = {
        "listen": "127.0.0.1:8575",
        "data": "./belfry-data",
        "db-max-connections": "8",
        "root-aws-account-id": "111111111111",
        "rate-limit": "off",
        "burst": "100",
        "throttle-max-wait-ms": "1000",
        "fault-seed": "0",
        "log-format": "text",
        "shutdown-timeout-secs": "30",
    }
    without_default = ["config", "database-url", "demo", "root-access-key-id",
                       "root-secret-access-key", "admin-token"]
    for option in [*defaults, *without_default]:
        assert option in blocks, f"--{option} is not in `belfry serve --help`:\n{out.stdout}"
    for option, default in defaults.items():
        assert f"[default: {default}]" in blocks[option], blocks[option]
    for option in without_default:
        assert "[default:" not in blocks[option], blocks[option]
    assert "[possible values: text, json]" in blocks["log-format"], blocks["log-format"]


# -- 6. shutdown -------------------------------------------------------------------------------

def call_in_thread(fn):
    """Runs `fn` in a thread; returns (thread, outcome) where outcome gets 'value' or 'error'."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def wait_until_delayed(server, operation: str, timeout: float = 15) -> None:
    """Waits until a latency fault rule holds a request of `operation` on the server (the
    fault counter counts it before the delay), so that a signal sent next finds it in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples, _ = metrics(server)
        if sample(samples, "belfry_faults_injected_total",
                  operation=operation, effect="latency"):
            return
        time.sleep(0.02)
    pytest.fail(f"no {operation} request reached its latency rule within {timeout}s",
                pytrace=False)


def test_sigterm_finishes_a_request_in_flight(serve):
    server = serve("--admin-token", ADMIN_TOKEN)
    client = client_of(server, server.create_key())
    account_id = new_account_with_users(client, users=3)
    add_fault(server, operation="ListUsers", latency_ms=1500)
    thread, outcome = call_in_thread(lambda: client.list_users(AccountId=account_id))
    wait_until_delayed(server, "ListUsers")
    time.sleep(0.2)
    assert thread.is_alive(), outcome
    server.proc.send_signal(signal.SIGTERM)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert "error" not in outcome, f"the request in flight failed: {outcome['error']!r}"
    assert len(outcome["value"]["Users"]) == 3
    assert server.stop() == 0, server.logs()


def test_shutdown_timeout_drops_a_request_that_is_too_slow(serve):
    server = serve("--admin-token", ADMIN_TOKEN, "--shutdown-timeout-secs", "1")
    client = client_of(server, server.create_key())
    account_id = new_account_with_users(client, users=1)
    add_fault(server, operation="ListUsers", latency_ms=5000)
    thread, outcome = call_in_thread(lambda: client.list_users(AccountId=account_id))
    wait_until_delayed(server, "ListUsers")
    time.sleep(0.2)
    assert thread.is_alive(), outcome
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    try:
        code = server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("belfry still runs 10 s after SIGTERM with --shutdown-timeout-secs 1",
                    pytrace=False)
    exited_after = time.monotonic() - signalled
    assert code == 0, server.logs()
    assert exited_after <= 3.0, f"exited {exited_after:.2f}s after SIGTERM"
    thread.join(timeout=30)
    assert not thread.is_alive()
    error = outcome.get("error")
    assert error is not None, f"the dropped request was answered: {outcome.get('value')}"
    assert isinstance(error, BotoCoreError) and not isinstance(error, ClientError), repr(error)

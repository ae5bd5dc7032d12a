"""What the end-to-end tests share: starting `belfry`, making keys, clients and signed requests.

The binary is `$BELFRY_BIN`, or `<repo>/target/debug/belfry`; nothing here builds it.

The store behind every server is chosen by `BELFRY_TEST_BACKEND`: `sqlite` (the default, a
fresh `--data` directory) or `postgres` (a fresh, uniquely named database on
`BELFRY_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432`, created and dropped with
`psql`).
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
SERVICE = "chime"
ROOT_AWS_ACCOUNT_ID = "111111111111"
DEMO_USERS = 250

#: How long the server may take to print its banner (it may be slow on a busy 2-core machine).
START_TIMEOUT = 60.0
#: How long it may take to exit after SIGTERM.
STOP_TIMEOUT = 15.0

#: A wire timestamp of the Chime API: `2019-01-04T17:11:22.003Z`.
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

#: Settings of the caller's environment that could redirect or reconfigure an AWS client.
_AWS_ENV_PREFIXES = ("AWS_",)

#: Every server started and not yet stopped (their logs go with each failure report).
SERVERS: list = []


def belfry_bin() -> Path:
    """`$BELFRY_BIN`, or `<repo>/target/debug/belfry`; fails the tests clearly when missing."""
    path = Path(os.environ.get("BELFRY_BIN") or REPO / "target" / "debug" / "belfry")
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"Belfry binary not found or not executable at {path}: build it with `cargo build` "
            f"at {REPO}, or set BELFRY_BIN to its path",
            pytrace=False,
        )
    return path


def random_key() -> tuple[str, str]:
    """A random key in AWS's shapes: `AKIA` + 16 of [A-Z2-7], and a 40-character secret."""
    alphabet = string.ascii_uppercase + "234567"
    key_id = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
    return key_id, secret


def random_aws_account_id() -> str:
    """A fresh 12-digit AWS account id, never the root's."""
    while True:
        n = "".join(random.choice(string.digits) for _ in range(12))
        if n != ROOT_AWS_ACCOUNT_ID:
            return n


def server_env(extra: Optional[dict] = None) -> dict:
    """The caller's environment without any BELFRY_* setting (BELFRY_LOG is kept)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BELFRY_") or k == "BELFRY_LOG"}
    env.update(extra or {})
    return env


def clean_aws_env(tmp: Path) -> dict:
    """The environment without any AWS_* setting, and with no config or credentials file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_AWS_ENV_PREFIXES)}
    env["AWS_CONFIG_FILE"] = str(tmp / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp / "no-aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


# -- backends ----------------------------------------------------------------------------------

#: `sqlite` or `postgres`: the store every server of this run is started over.
BACKEND = os.environ.get("BELFRY_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
BACKENDS = ("sqlite", "postgres")
#: The PostgreSQL server (no database part) the postgres backend makes its databases on.
PG_URL = (os.environ.get("BELFRY_TEST_PG_URL") or "postgres://postgres@127.0.0.1:5432").rstrip("/")
#: How long one psql command may take.
PSQL_TIMEOUT = 60.0

#: Databases made by this run and not yet dropped (dropped at the latest when the run ends).
DATABASES: set = set()


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def on_postgres() -> bool:
    return BACKEND == "postgres"


def pg_url(database: str) -> str:
    """`PG_URL` with its path set to `/database` (any query string is kept)."""
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path="/" + database))


def psql(sql: str, *, database: str = "postgres") -> subprocess.CompletedProcess:
    """Runs one SQL command with the `psql` client on `PG_URL`; raises with psql's output."""
    psql_bin = shutil.which("psql")
    if psql_bin is None:
        raise RuntimeError("the psql client is not installed (apt-get install postgresql-client)")
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    out = subprocess.run(
        [psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg_url(database), "-tA", "-c", sql],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PSQL_TIMEOUT,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql {sql!r} on {pg_url(database)} failed ({out.returncode}): "
                           f"{out.stderr.strip() or out.stdout.strip()}")
    return out


def require_backend() -> None:
    """Checks the chosen backend can be used.

    An unknown backend fails. A PostgreSQL that cannot be reached fails under `CI=true` (a CI
    run must never pass by skipping the postgres backend), and skips every test elsewhere.
    """
    if BACKEND not in BACKENDS:
        pytest.fail(f"BELFRY_TEST_BACKEND={BACKEND!r}: expected one of {', '.join(BACKENDS)}",
                    pytrace=False)
    if not on_postgres():
        return
    try:
        psql("SELECT 1")
        return
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        why = f"BELFRY_TEST_BACKEND=postgres but PostgreSQL at {PG_URL} is not usable: {e}"
    if on_ci():
        pytest.fail(f"{why} (CI=true: a missing PostgreSQL is a failure, never a skip)",
                    pytrace=False)
    pytest.skip(why)


def create_database() -> str:
    """A new, empty, uniquely named PostgreSQL database; its name."""
    name = f"belfry_py_{uuid.uuid4().hex[:16]}"
    psql(f'CREATE DATABASE "{name}"')
    DATABASES.add(name)
    return name


def drop_database(name: str) -> None:
    """Drops a database made by `create_database`, closing any connection still open to it."""
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    DATABASES.discard(name)


@dataclass(frozen=True)
class Store:
    """Where a server keeps its data: an SQLite directory, or a PostgreSQL database URL."""

    data_dir: Optional[Path] = None
    database_url: Optional[str] = None

    def args(self) -> list[str]:
        """The `belfry serve` / `belfry keys create` options that select this store."""
        if self.database_url is not None:
            return ["--database-url", self.database_url]
        assert self.data_dir is not None
        return ["--data", str(self.data_dir)]

    def __str__(self) -> str:
        return self.database_url or str(self.data_dir)


def new_store(base: Path) -> Store:
    """A fresh store of the run's backend: `base/data`, or a new database (see `drop_store`)."""
    if on_postgres():
        return Store(database_url=pg_url(create_database()))
    return Store(data_dir=base / "data")


def drop_store(store: Store) -> None:
    """Drops a store's database; an SQLite directory goes with its temporary directory."""
    if store.database_url is not None:
        drop_database(urlsplit(store.database_url).path.lstrip("/"))


@dataclass
class Key:
    access_key_id: str
    secret_access_key: str
    aws_account_id: str
    read_only: bool = False

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key)


@dataclass
class Banner:
    """What `belfry serve` printed on stdout."""

    endpoint: str
    lines: list[str]
    demo_verb: Optional[str] = None
    demo_account_id: Optional[str] = None
    demo_user_count: Optional[int] = None
    demo_key: Optional[Key] = None
    try_command: Optional[str] = None


class BelfryServer:
    """One `belfry serve` process over one store (a data directory or a database)."""

    def __init__(self, bin_path: Path, store: Store, log_path: Path, *, demo: bool,
                 root_key: tuple[str, str], root_aws_account_id: Optional[str] = None,
                 extra_args: Optional[list[str]] = None, extra_env: Optional[dict] = None):
        self.bin = bin_path
        self.store = store
        self.log_path = log_path
        self.demo = demo
        self.root_aws_account_id = root_aws_account_id
        self.root = Key(root_key[0], root_key[1], root_aws_account_id or ROOT_AWS_ACCOUNT_ID)
        #: Appended to the `belfry serve` command line, and set in its environment (last).
        self.extra_args: list[str] = list(extra_args or [])
        self.extra_env: dict = dict(extra_env or {})
        self.proc: Optional[subprocess.Popen] = None
        self.banner: Optional[Banner] = None
        self.stdout_lines: list[str] = []
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._log_file = None
        self._pump_thread: Optional[threading.Thread] = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Banner:
        args = [str(self.bin), "serve", "--listen", "127.0.0.1:0", *self.store.args()]
        if self.demo:
            args.append("--demo")
        args += self.extra_args
        env = server_env({
            "BELFRY_ROOT_ACCESS_KEY_ID": self.root.access_key_id,
            "BELFRY_ROOT_SECRET_ACCESS_KEY": self.root.secret_access_key,
        })
        if self.root_aws_account_id:
            env["BELFRY_ROOT_AWS_ACCOUNT_ID"] = self.root_aws_account_id
        env.update(self.extra_env)
        self._log_file = open(self.log_path, "ab")
        SERVERS.append(self)
        self.proc = subprocess.Popen(
            args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log_file, text=True, bufsize=1,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        try:
            self.banner = self._read_banner()
        except Exception:
            self.kill()
            raise
        return self.banner

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _next_line(self, deadline: float) -> str:
        remaining = deadline - time.monotonic()
        try:
            line = self._lines.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            raise RuntimeError(
                f"belfry did not print its banner within {START_TIMEOUT:.0f}s\n{self.logs()}"
            ) from None
        if line is None:
            code = self.proc.wait(timeout=5) if self.proc else None
            raise RuntimeError(f"belfry exited (code {code}) before its banner\n{self.logs()}")
        return line

    def _read_banner(self) -> Banner:
        deadline = time.monotonic() + START_TIMEOUT
        first = self._next_line(deadline)
        m = re.fullmatch(r"Belfry listening on (http://127\.0\.0\.1:(\d+))", first)
        if not m:
            raise RuntimeError(f"unexpected first line {first!r}\n{self.logs()}")
        banner = Banner(endpoint=m.group(1), lines=[first])
        if not self.demo:
            return banner
        env_values: dict[str, str] = {}
        while banner.try_command is None:
            line = self._next_line(deadline)
            banner.lines.append(line)
            text = line.strip()
            if dm := re.fullmatch(r"Demo account (seeded|found): (\S+) \((\d+) users\)", text):
                banner.demo_verb, banner.demo_account_id = dm.group(1), dm.group(2)
                banner.demo_user_count = int(dm.group(3))
            elif em := re.fullmatch(r"export (AWS_[A-Z_]+)=(\S+)", text):
                env_values[em.group(1)] = em.group(2)
            elif text.startswith("aws chime list-users"):
                banner.try_command = text
        if banner.demo_account_id is None:
            raise RuntimeError(f"no demo account line in {banner.lines!r}")
        banner.demo_key = Key(
            env_values["AWS_ACCESS_KEY_ID"], env_values["AWS_SECRET_ACCESS_KEY"],
            ROOT_AWS_ACCOUNT_ID,
        )
        return banner

    def stop(self) -> Optional[int]:
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        code = self.proc.returncode
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)  # every line printed is in stdout_lines
        if self in SERVERS:
            SERVERS.remove(self)
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        return code

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
        if self in SERVERS:
            SERVERS.remove(self)
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def logs(self, tail: int = 0) -> str:
        try:
            err = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            err = []
        if tail:
            err = err[-tail:]
        return ("--- belfry stdout ---\n" + "\n".join(self.stdout_lines)
                + f"\n--- belfry stderr ({self.log_path}) ---\n" + "\n".join(err))

    # -- helpers ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        assert self.banner is not None
        return self.banner.endpoint

    def create_key(self, aws_account_id: Optional[str] = None, *, read_only: bool = False) -> Key:
        """`belfry keys create` on the same store (the server keeps running)."""
        aws_account_id = aws_account_id or random_aws_account_id()
        args = [str(self.bin), "keys", "create", "--aws-account-id", aws_account_id,
                *self.store.args()]
        if read_only:
            args.append("--read-only")
        out = subprocess.run(args, env=server_env(), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"belfry keys create failed: {out.stderr}"
        doc = json.loads(out.stdout)
        assert doc["AwsAccountId"] == aws_account_id
        assert doc["ReadOnly"] is read_only
        assert re.fullmatch(r"AKIA[A-Z2-7]{16}", doc["AccessKeyId"]), doc
        return Key(doc["AccessKeyId"], doc["SecretAccessKey"], doc["AwsAccountId"], read_only)


def start_server(bin_path: Path, base: Path, store: Store, *, demo: bool, root_key=None,
                 root_aws_account_id: Optional[str] = None,
                 extra_args: Optional[list[str]] = None,
                 extra_env: Optional[dict] = None) -> BelfryServer:
    """Starts `belfry serve` over `store` (a random root key by default); stderr to `base`.

    `extra_args` are appended to the command line (after `--listen`, the store options and
    `--demo`); `extra_env` is set in the server's environment over everything else.
    """
    server = BelfryServer(bin_path, store, base / "belfry.stderr.log", demo=demo,
                          root_key=root_key or random_key(),
                          root_aws_account_id=root_aws_account_id,
                          extra_args=extra_args, extra_env=extra_env)
    server.start()
    return server


_SESSION: Optional[boto3.session.Session] = None


def chime_client(endpoint: str, key: Key, **config):
    """A boto3 Chime client exactly as a user would make one, with no retries.

    `config` goes to botocore's `Config`; a caller's `retries` replaces the default
    `{"total_max_attempts": 1}` (one attempt: botocore's `max_attempts` counts retries in its
    legacy mode, which would retry 429, 500 and 503 once). One boto3 session serves every
    client, so the service model is loaded once.
    """
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION.client(
        "chime",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        config=Config(**{"retries": {"total_max_attempts": 1}, **config}),
    )


def signed_request(endpoint: str, key: Key, method: str, path: str, *, body: bytes = b"",
                   headers: Optional[dict] = None, service: str = SERVICE,
                   timeout: float = 30) -> requests.Response:
    """Sends a raw request signed with SigV4 (header form) by botocore's signer."""
    req = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    SigV4Auth(key.credentials, service, REGION).add_auth(req)
    return requests.request(method, req.url, data=body, headers=dict(req.headers.items()),
                            timeout=timeout)


def unique(prefix: str = "acct") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def email(tag: str = "user") -> str:
    """A fresh email address at example.com."""
    return f"{unique(tag)}@example.com"


def list_all(client, **kwargs) -> list[dict]:
    """Every user ListUsers returns for `kwargs`, through boto3's paginator."""
    users = []
    for page in client.get_paginator("list_users").paginate(**kwargs):
        users += page["Users"]
    return users


def aws_command() -> list[str]:
    """The AWS CLI: `aws` on PATH, else `python -m awscli`."""
    found = shutil.which("aws")
    return [found] if found else [sys.executable, "-m", "awscli"]


#: The model's `ErrorCode` value each error shape carries in its `Code` member.
ERROR_CODES = {
    "BadRequestException": "BadRequest",
    "UnauthorizedClientException": "Unauthorized",
    "ForbiddenException": "Forbidden",
    "NotFoundException": "NotFound",
    "ConflictException": "Conflict",
    "UnprocessableEntityException": "Unprocessable",
    "ThrottledClientException": "Throttled",
    "ServiceUnavailableException": "ServiceUnavailable",
    "ServiceFailureException": "ServiceFailure",
}


def provision(client, *numbers: str, product: str = "BusinessCalling") -> None:
    """Brings `numbers` into the caller's phone-number inventory: an order, then a read of it
    (by which Belfry's carrier has processed it). A number held already fails alone in the
    order; a refused order (a read-only key, a malformed number) leaves the inventory as it is,
    for the test to see what the association then answers."""
    from botocore.exceptions import ClientError
    try:
        order = client.create_phone_number_order(ProductType=product,
                                                 E164PhoneNumbers=list(numbers))
        client.get_phone_number_order(
            PhoneNumberOrderId=order["PhoneNumberOrder"]["PhoneNumberOrderId"])
    except ClientError:
        pass


def expect_error(exc_info, shape: str, status: int) -> dict:
    """Checks a botocore ClientError: typed by `x-amzn-ErrorType`, with status and request id."""
    err = exc_info.value.response
    assert err["Error"]["Code"] == shape, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    request_id = err["ResponseMetadata"].get("RequestId")
    assert request_id, f"no RequestId in {err['ResponseMetadata']}"
    headers = err["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("x-amzn-errortype") == shape, headers
    assert headers.get("x-amzn-requestid") == request_id, headers
    assert err["Error"]["Message"], err
    return err


def expect_raw_error(resp: requests.Response, shape: str, status: int) -> dict:
    """Checks a raw error reply: status, `x-amzn-ErrorType`, request id, JSON Code/Message."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers.get("x-amzn-ErrorType") == shape, dict(resp.headers)
    assert resp.headers.get("x-amzn-RequestId"), dict(resp.headers)
    assert resp.headers.get("content-type", "").startswith("application/json"), dict(resp.headers)
    body = resp.json()
    assert body["Code"] == ERROR_CODES[shape], body
    assert isinstance(body["Message"], str) and body["Message"], body
    return body


#: The service errors a fault rule raises (`POST /_belfry/faults`) that the model declares for
#: most operations, with the exception shape and status each answers with.
SERVICE_FAULTS = {
    "Throttled": ("ThrottledClientException", 429),
    "ServiceUnavailable": ("ServiceUnavailableException", 503),
    "ServiceFailure": ("ServiceFailureException", 500),
    "Unauthorized": ("UnauthorizedClientException", 401),
    "Forbidden": ("ForbiddenException", 403),
}


def check_faults_arrive_typed(client, admin, calls: dict) -> int:
    """For each operation of `calls` (its model name: its boto3 arguments) and each fault of
    SERVICE_FAULTS that its model declares, adds a fault rule through `admin(method, path,
    body)` (an admin API call), checks that the call raises boto3's typed exception with its
    wire shape, and removes the rule. Returns how many were checked."""
    import botocore.session
    from botocore import xform_name
    from botocore.exceptions import ClientError

    model = botocore.session.get_session().get_service_model("chime")
    checked = 0
    for op, kwargs in calls.items():
        modeled = {e.name for e in model.operation_model(op).error_shapes}
        for fault, (shape, status) in SERVICE_FAULTS.items():
            if shape not in modeled:
                continue
            resp = admin("POST", "/_belfry/faults", {"operation": op, "error": fault})
            assert resp.status_code == 201, resp.text
            rule = resp.json()["id"]
            with pytest.raises(ClientError) as e:
                getattr(client, xform_name(op))(**kwargs)
            assert isinstance(e.value, getattr(client.exceptions, shape)), (op, fault, e.value)
            expect_error(e, shape, status)
            assert admin("DELETE", f"/_belfry/faults/{rule}", None).status_code == 204
            checked += 1
    return checked


#: The admin token of the servers the `admin_server` fixture starts.
ADMIN_TOKEN = "admin-" + secrets.token_hex(12)


def admin(server, method: str, path: str, body=None) -> requests.Response:
    """An admin API call to `server` with `Authorization: Bearer ADMIN_TOKEN`."""
    return requests.request(method, server.endpoint + path, json=body,
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)

"""Fixtures that run the built `belfry` binary as a user would, and AWS clients pointed at it.

One server (`belfry serve --demo`) runs for the whole session over a fresh store, with a random
root key; its stderr goes to a file in the temporary directory and is shown with every failure.
The store is a temporary SQLite data directory, or with `BELFRY_TEST_BACKEND=postgres` a
uniquely named PostgreSQL database made for the run and dropped after it (see `support`).
Tests make their own access keys with `belfry keys create` (usually for a fresh AWS account id,
so that ListAccounts sees only what the test made) and their own Chime accounts, so that they
are independent of each other and of their order.
"""

from __future__ import annotations

import os
import json
import subprocess
from pathlib import Path

import pytest

from support import (
    _AWS_ENV_PREFIXES, ADMIN_TOKEN, BACKEND, DATABASES, SERVERS, Banner, BelfryServer, Key, Store,
    aws_command, belfry_bin, chime_client, clean_aws_env, drop_database, drop_store, new_store,
    require_backend, start_server, unique,
)


def pytest_report_header(config):
    return f"belfry backend: {BACKEND} (BELFRY_TEST_BACKEND)"


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def _isolated_aws_environment(tmp_path_factory):
    """No AWS_* setting or config file of the caller may redirect the clients under test."""
    tmp = tmp_path_factory.mktemp("aws-home")
    saved = dict(os.environ)
    for k in list(os.environ):
        if k.startswith(_AWS_ENV_PREFIXES):
            del os.environ[k]
    os.environ["AWS_CONFIG_FILE"] = str(tmp / "no-aws-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp / "no-aws-credentials")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def bin_path() -> Path:
    return belfry_bin()


@pytest.fixture(scope="session")
def backend() -> str:
    """The run's backend, checked usable (a missing PostgreSQL fails under CI=true)."""
    require_backend()
    return BACKEND


@pytest.fixture
def fresh_store(backend, tmp_path) -> Store:
    """A store of the run's backend for this test's own servers, dropped after the test."""
    store = new_store(tmp_path)
    yield store
    drop_store(store)


@pytest.fixture(scope="session")
def belfry(bin_path, backend, tmp_path_factory) -> BelfryServer:
    """The session's server: `belfry serve --demo` over a fresh store."""
    base = tmp_path_factory.mktemp("belfry-session")
    store = new_store(base)
    try:
        server = start_server(bin_path, base, store, demo=True)
        yield server
        code = server.stop()
        if code != 0:
            pytest.fail(f"belfry exited with {code} after SIGTERM, expected 0\n"
                        f"{server.logs(200)}", pytrace=False)
    finally:
        drop_store(store)


@pytest.fixture(scope="session")
def endpoint(belfry) -> str:
    return belfry.endpoint


@pytest.fixture(scope="session")
def root_key(belfry) -> Key:
    return belfry.root


@pytest.fixture(scope="session")
def demo(belfry) -> Banner:
    return belfry.banner


@pytest.fixture(scope="session")
def demo_client(belfry):
    """A client with the demo key printed by `--demo` (AWS account 111111111111)."""
    return chime_client(belfry.endpoint, belfry.banner.demo_key)


@pytest.fixture
def tenant(belfry) -> Key:
    """A fresh writable key of a fresh AWS account id: this test's own tenant."""
    return belfry.create_key()


@pytest.fixture
def client(belfry, tenant):
    """A boto3 Chime client of this test's own tenant."""
    return chime_client(belfry.endpoint, tenant)


@pytest.fixture
def make_client(belfry):
    def make(key: Key, **config):
        return chime_client(belfry.endpoint, key, **config)
    return make


@pytest.fixture
def account(client):
    """A new Chime account of this test's tenant."""
    return client.create_account(Name=unique("team"))["Account"]


@pytest.fixture
def read_only(belfry, tenant, make_client):
    """A client with a read-only key of the same AWS account as `tenant`."""
    return make_client(belfry.create_key(tenant.aws_account_id, read_only=True))


@pytest.fixture
def foreign(belfry, make_client):
    """A client of another tenant: a writable key of another fresh AWS account id."""
    return make_client(belfry.create_key())


@pytest.fixture
def admin_server(bin_path, tmp_path, fresh_store):
    """A server with `--admin-token ADMIN_TOKEN` over this test's store (`support.admin`
    calls its admin API); it must exit 0."""
    server = start_server(bin_path, tmp_path, fresh_store, demo=False,
                          extra_args=["--admin-token", ADMIN_TOKEN])
    yield server
    code = server.stop()
    if code != 0:
        pytest.fail(f"belfry exited with {code} after SIGTERM, expected 0\n{server.logs(80)}",
                    pytrace=False)


@pytest.fixture(scope="session")
def aws_cli_env(tmp_path_factory) -> dict:
    """An environment for `aws` without the caller's AWS settings or config files."""
    return clean_aws_env(tmp_path_factory.mktemp("aws-cli-home"))


@pytest.fixture(scope="session")
def aws(aws_cli_env):
    """Runs `aws` with a key in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and region us-east-1."""

    def run(key: Key, *args: str, env: dict | None = None, check: bool = True):
        full_env = dict(aws_cli_env)
        full_env.update({
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
        })
        full_env.update(env or {})
        proc = subprocess.run(aws_command() + list(args), env=full_env, capture_output=True,
                              text=True, timeout=120)
        if check:
            assert proc.returncode == 0, (
                f"aws {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    return run


class ChimeCli:
    """`aws chime ...` as one key against one endpoint, with JSON output: call it for a
    command's parsed output ({} when it prints nothing), `fails` for one that must fail (exit
    255, nothing on stdout; its stderr), `quiet` for one that must succeed printing nothing."""

    def __init__(self, aws, key: Key, endpoint: str):
        self._run = lambda *args, check=True: aws(
            key, "chime", *args, "--endpoint-url", endpoint, "--output", "json", check=check)

    def __call__(self, *args: str) -> dict:
        out = self._run(*args).stdout
        return json.loads(out) if out.strip() else {}

    def fails(self, *args: str) -> str:
        proc = self._run(*args, check=False)
        assert proc.returncode == 255, (args, proc.returncode, proc.stdout, proc.stderr)
        assert proc.stdout == "", proc.stdout
        return proc.stderr

    def quiet(self, *args: str) -> None:
        proc = self._run(*args)
        assert proc.stdout.strip() == "", (args, proc.stdout, proc.stderr)


@pytest.fixture
def chime_cli(aws, belfry, tenant) -> ChimeCli:
    """The AWS CLI as this test's tenant key, against the session's server."""
    return ChimeCli(aws, tenant, belfry.endpoint)


# -- failure reports -----------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the tail of every running server's stdout and stderr."""
    report = yield
    if report.failed:
        for server in SERVERS:
            report.sections.append((f"belfry logs ({server.store})", server.logs(tail=80)))
    return report


def pytest_sessionfinish(session, exitstatus):
    for server in list(SERVERS):
        server.kill()
    # A database left by an interrupted test is dropped all the same.
    for name in sorted(DATABASES):
        try:
            drop_database(name)
        except Exception as e:  # noqa: BLE001 - report and go on with the others
            print(f"\ncould not drop test database {name}: {e}")

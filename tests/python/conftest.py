"""Fixtures that run the built `belfry` binary as a user would, and AWS clients pointed at it.

One server (`belfry serve --demo`) runs for the whole session over a fresh temporary data
directory, with a random root key; its stderr goes to a file in the temporary directory and is
shown with every failure. Tests make their own access keys with `belfry keys create` (usually
for a fresh AWS account id, so that ListAccounts sees only what the test made) and their own
Chime accounts, so that they are independent of each other and of their order.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import (
    _AWS_ENV_PREFIXES, SERVERS, Banner, BelfryServer, Key, belfry_bin, chime_client,
    clean_aws_env, start_server, unique,
)


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
def belfry(bin_path, tmp_path_factory) -> BelfryServer:
    """The session's server: `belfry serve --demo` over a fresh data directory."""
    base = tmp_path_factory.mktemp("belfry-session")
    server = start_server(bin_path, base, demo=True)
    yield server
    code = server.stop()
    if code != 0:
        pytest.fail(f"belfry exited with {code} after SIGTERM, expected 0\n{server.logs(200)}",
                    pytrace=False)


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


@pytest.fixture(scope="session")
def aws_cli_env(tmp_path_factory) -> dict:
    """An environment for `aws` without the caller's AWS settings or config files."""
    return clean_aws_env(tmp_path_factory.mktemp("aws-cli-home"))


# -- failure reports -----------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the tail of every running server's stdout and stderr."""
    report = yield
    if report.failed:
        for server in SERVERS:
            report.sections.append((f"belfry logs ({server.data_dir})", server.logs(tail=80)))
    return report


def pytest_sessionfinish(session, exitstatus):
    for server in list(SERVERS):
        server.kill()

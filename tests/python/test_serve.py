"""`belfry serve` itself: the demo seeded once and found again, file modes, restarts, SIGTERM.

These tests start their own servers over their own stores (`fresh_store`: a data directory, or
a database of its own on the postgres backend), apart from the session's.
"""

import stat

import pytest

from support import (
    DEMO_USERS, belfry_bin, chime_client, on_postgres, random_key, start_server, unique,
)

sqlite_only = pytest.mark.skipif(
    on_postgres(), reason="about the SQLite data directory (--data), which the postgres "
                          "backend does not use; test_demo_restart_* covers the restart there")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def count_users(client, account_id) -> int:
    pages = client.get_paginator("list_users").paginate(
        AccountId=account_id, PaginationConfig={"PageSize": 200})
    return sum(len(p["Users"]) for p in pages)


def test_demo_restart_finds_the_same_account_and_key(bin_path, tmp_path, fresh_store):
    # On SQLite the store is `tmp_path/data`; on PostgreSQL the same database both times.
    first = start_server(bin_path, tmp_path, fresh_store, demo=True)
    try:
        b1 = first.banner
        assert b1.demo_verb == "seeded", b1.lines
        assert b1.demo_user_count == DEMO_USERS
        c1 = chime_client(b1.endpoint, b1.demo_key)
        assert count_users(c1, b1.demo_account_id) == DEMO_USERS
        # Something written before the restart, and a page token issued before it.
        made = c1.create_account(Name=unique("Persisted"))["Account"]
        token = c1.list_users(AccountId=b1.demo_account_id, MaxResults=10)["NextToken"]
        tenth = c1.list_users(AccountId=b1.demo_account_id, MaxResults=20)["Users"][10]
    finally:
        assert first.stop() == 0, first.logs()

    second = start_server(bin_path, tmp_path, fresh_store, demo=True)
    try:
        b2 = second.banner
        assert b2.demo_verb == "found", b2.lines
        assert b2.demo_user_count == DEMO_USERS
        assert b2.demo_account_id == b1.demo_account_id
        assert b2.demo_key.access_key_id == b1.demo_key.access_key_id
        assert b2.demo_key.secret_access_key == b1.demo_key.secret_access_key
        assert b2.try_command == (f"aws chime list-users --account-id {b1.demo_account_id} "
                                  f"--endpoint-url {b2.endpoint}")
        c2 = chime_client(b2.endpoint, b2.demo_key)
        # Not seeded twice.
        assert count_users(c2, b2.demo_account_id) == DEMO_USERS
        assert c2.get_account(AccountId=made["AccountId"])["Account"] == made
        demo_accounts = c2.list_accounts(Name="Belfry Demo")["Accounts"]
        assert [a["AccountId"] for a in demo_accounts] == [b1.demo_account_id]
        # A page token outlives the restart.
        resumed = c2.list_users(AccountId=b2.demo_account_id, MaxResults=10, NextToken=token)
        assert resumed["Users"][0] == tenth
    finally:
        assert second.stop() == 0, second.logs()


@sqlite_only
def test_data_directory_and_database_file_are_owner_only(bin_path, tmp_path, fresh_store):
    data = fresh_store.data_dir
    assert data == tmp_path / "data" and not data.exists()
    for demo in (True, False):  # made so on first start, and still so after a restart
        server = start_server(bin_path, tmp_path, fresh_store, demo=demo)
        chime_client(server.endpoint, server.root).list_accounts()
        assert server.stop() == 0, server.logs()
        assert data.is_dir()
        assert mode(data) == 0o700, oct(mode(data))
        assert (data / "belfry.db").is_file()
        assert mode(data / "belfry.db") == 0o600, oct(mode(data / "belfry.db"))


def test_sigterm_right_after_the_address_line_exits_0(bin_path, tmp_path, fresh_store):
    # The address line tells a supervisor the server is up; a SIGTERM from then on must be a
    # graceful shutdown (exit 0), not death by the signal. Several tries, as it is a race.
    codes = []
    for _ in range(15):
        server = start_server(bin_path, tmp_path, fresh_store, demo=False)
        codes.append(server.stop())
    assert codes == [0] * 15, f"exit codes {codes} (-15: killed by SIGTERM)"


def test_keys_made_before_a_restart_still_work(bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False)
    try:
        key = server.create_key("123456789012")
        acct = chime_client(server.endpoint, key).create_account(Name=unique())["Account"]
        assert acct["AwsAccountId"] == "123456789012"
    finally:
        assert server.stop() == 0, server.logs()
    # Without --demo, stdout holds only the address line.
    assert server.stdout_lines == [f"Belfry listening on {server.endpoint}"]
    again = start_server(bin_path, tmp_path, fresh_store, demo=False)
    try:
        c = chime_client(again.endpoint, key)
        assert c.get_account(AccountId=acct["AccountId"])["Account"] == acct
    finally:
        assert again.stop() == 0, again.logs()


def test_root_aws_account_id_from_environment(bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False, root_key=random_key(),
                          root_aws_account_id="222233334444")
    try:
        c = chime_client(server.endpoint, server.root)
        acct = c.create_account(Name=unique("Root"))["Account"]
        assert acct["AwsAccountId"] == "222233334444"
        assert [a["AccountId"] for a in c.list_accounts()["Accounts"]] == [acct["AccountId"]]
    finally:
        assert server.stop() == 0, server.logs()


def test_missing_binary_fails_with_a_clear_message(monkeypatch, tmp_path):
    missing = tmp_path / "no-such-belfry"
    monkeypatch.setenv("BELFRY_BIN", str(missing))
    with pytest.raises(pytest.fail.Exception) as e:
        belfry_bin()
    assert str(missing) in str(e.value)
    assert "cargo build" in str(e.value)

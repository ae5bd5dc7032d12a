"""`belfry import`, `belfry export` and `belfry serve --data :memory:` as a user runs them.

Each test runs its own server over its own store (`fresh_store`: SQLite or PostgreSQL) and drives
the commands as subprocesses next to it, then looks at the result through boto3.
"""

import csv
import io
import json
import subprocess

import time

from support import (
    Key, chime_client, email, list_all, random_key, server_env, start_server, unique,
)


def wait_for_line(proc, prefix: str, timeout: float = 30) -> str:
    """The first stdout line of `proc` that starts with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line.strip()
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no line starting {prefix!r}")


def belfry(bin_path, store, *args, stdin: str = None):
    """Runs `belfry <args> <store options>` and returns the completed process."""
    return subprocess.run(
        [str(bin_path), *args, *store.args()], input=stdin, env=server_env(),
        capture_output=True, text=True, timeout=120,
    )


def jsonl(*records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def new_account(server) -> tuple:
    client = chime_client(server.endpoint, server.root)
    account_id = client.create_account(Name=unique("Import"))["Account"]["AccountId"]
    return client, account_id


def test_import_from_stdin_reports_bad_lines_and_exits_1(bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False)
    try:
        client, account_id = new_account(server)
        good = email("good")
        text = jsonl(
            {"PrimaryEmail": good, "UserType": "SharedDevice", "LicenseType": "Basic"},
            {"PrimaryEmail": "nope"},
            {"PrimaryEmail": email("late"), "PersonalPIN": "12"},
        )
        done = belfry(bin_path, fresh_store, "import", "--account-id", account_id, "-", stdin=text)
        assert done.returncode == 1, done.stderr
        assert "line 2: PrimaryEmail is not an email address" in done.stderr
        assert "line 3: PersonalPIN must be 10 digits" in done.stderr
        # Not a terminal: one summary line with counts and a rate.
        assert "imported 1 users (1 created, 0 updated), 2 bad lines" in done.stderr
        assert "users/s" in done.stderr
        users = list_all(client, AccountId=account_id)
        assert [(u["PrimaryEmail"], u["UserType"], u["LicenseType"]) for u in users] == [
            (good, "SharedDevice", "Basic")]
    finally:
        assert server.stop() == 0, server.logs()


def test_strict_import_writes_nothing(bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False)
    try:
        client, account_id = new_account(server)
        path = tmp_path / "users.jsonl"
        path.write_text(jsonl(*[{"PrimaryEmail": email(f"s{i}")} for i in range(20)],
                              {"PrimaryEmail": email("bad"), "UserType": "Robot"}))
        done = belfry(bin_path, fresh_store, "import", "--account-id", account_id, "--strict",
                      str(path))
        assert done.returncode == 1
        assert "line 21: UserType must be one of [PrivateUser, SharedDevice]" in done.stderr
        assert "nothing was imported" in done.stderr
        assert list_all(client, AccountId=account_id) == []
    finally:
        assert server.stop() == 0, server.logs()


def test_batch_size_is_checked_and_later_batches_update_earlier_ones(
        bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False)
    try:
        client, account_id = new_account(server)
        first, second, third = email("b1"), email("b2"), email("b3")
        text = jsonl(
            {"PrimaryEmail": first, "DisplayName": "First"},
            {"PrimaryEmail": second},
            # The next batch: the same user as line 1, by email in other case.
            {"PrimaryEmail": first.upper(), "DisplayName": "Updated"},
            {"PrimaryEmail": "nope"},
            {"PrimaryEmail": third, "UserType": "SharedDevice"},
        )
        done = belfry(bin_path, fresh_store, "import", "--account-id", account_id,
                      "--batch-size", "2", "-", stdin=text)
        assert done.returncode == 1, done.stderr
        assert "line 4: PrimaryEmail is not an email address" in done.stderr
        assert "imported 4 users (3 created, 1 updated), 1 bad lines" in done.stderr
        users = {u["PrimaryEmail"].lower(): u for u in list_all(client, AccountId=account_id)}
        assert sorted(users) == sorted([first, second, third])
        assert users[first]["DisplayName"] == "Updated"
        assert users[first]["PrimaryEmail"] == first.upper()
        assert users[third]["UserType"] == "SharedDevice"

        for bad in ("0", "200001", "many"):
            refused = belfry(bin_path, fresh_store, "import", "--account-id", account_id,
                             "--batch-size", bad, "-", stdin=text)
            assert refused.returncode == 2
            assert "must be a whole number from 1 to 200000" in refused.stderr
    finally:
        assert server.stop() == 0, server.logs()


def test_export_is_list_users_and_round_trips_through_csv(bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=True)
    try:
        client = chime_client(server.endpoint, server.banner.demo_key)
        demo_account = server.banner.demo_account_id
        listed = list_all(client, AccountId=demo_account)
        as_jsonl = belfry(bin_path, fresh_store, "export", "--account-id", demo_account)
        assert as_jsonl.returncode == 0, as_jsonl.stderr
        exported = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
        # boto3 parses timestamps; compare the wire form of both.
        for user in listed:
            for field in ("RegisteredOn", "InvitedOn"):
                if field in user:
                    user[field] = user[field].strftime("%Y-%m-%dT%H:%M:%S.") + \
                        f"{user[field].microsecond // 1000:03d}Z"
        assert exported == listed
        assert f"exported {len(listed)} users" in as_jsonl.stderr

        as_csv = belfry(bin_path, fresh_store, "export", "--account-id", demo_account,
                        "--format", "csv")
        assert as_csv.returncode == 0, as_csv.stderr
        rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
        assert [r["PrimaryEmail"] for r in rows] == [u["PrimaryEmail"] for u in listed]

        # Into another account of the same store, from a file: the same users but the account.
        _, copy_account = new_account(server)
        # Numbers are held once per AWS account: leave them out of the copy.
        for r in rows:
            r["PrimaryProvisionedNumber"] = ""
            r["UserId"] = ""
        path = tmp_path / "copy.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            writer.writerows(rows)
        done = belfry(bin_path, fresh_store, "import", "--account-id", copy_account, str(path))
        assert done.returncode == 0, done.stderr
        copied = list_all(chime_client(server.endpoint, server.root), AccountId=copy_account)
        keep = ("PrimaryEmail", "DisplayName", "LicenseType", "UserType",
                "UserRegistrationStatus", "UserInvitationStatus", "PersonalPIN")
        assert [{k: u.get(k) for k in keep} for u in copied] == \
            [{k: u.get(k) for k in keep} for u in listed]
        # A second run changes nothing.
        again = belfry(bin_path, fresh_store, "import", "--account-id", copy_account, str(path))
        assert f"0 created, {len(listed)} updated" in again.stderr
        assert list_all(chime_client(server.endpoint, server.root),
                        AccountId=copy_account) == copied
    finally:
        assert server.stop() == 0, server.logs()


def test_export_of_an_unknown_account_fails(bin_path, tmp_path, fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False)
    server.stop()
    done = belfry(bin_path, fresh_store, "export", "--account-id",
                  "00000000-0000-4000-8000-000000000000")
    assert done.returncode == 1
    assert "no such account" in done.stderr


def test_memory_store_writes_nothing_and_forgets(bin_path, tmp_path):
    key_id, secret = random_key()
    env = server_env({"BELFRY_ROOT_ACCESS_KEY_ID": key_id,
                      "BELFRY_ROOT_SECRET_ACCESS_KEY": secret})
    for _ in range(2):
        proc = subprocess.Popen(
            [str(bin_path), "serve", "--data", ":memory:", "--listen", "127.0.0.1:0"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = wait_for_line(proc, "Belfry listening on ")
            endpoint = line.split()[-1]
            client = chime_client(endpoint, Key(key_id, secret, "111111111111"))
            # Each start begins empty: the account made by the previous one is gone.
            assert client.list_accounts()["Accounts"] == []
            client.create_account(Name="Ephemeral")
        finally:
            proc.terminate()
            assert proc.wait(timeout=15) == 0
    assert list(tmp_path.iterdir()) == [], "nothing written to the working directory"

#!/usr/bin/env python3
"""What SQLite alone can do with Belfry's users table: the ceiling for `belfry import`.

    bench/sqlite_floor.py                  # 200,000 users
    bench/sqlite_floor.py --users 1000000

The import target (200,000 users/s) is a question about the storage layout as much as about
the importer. This script answers the layout half. It creates an embedded store with the
release binary (`belfry serve --demo`, stopped at once), so the schema, pragmas and indexes
are Belfry's own, read back from the file. It loads a `bench/gen_users.py` directory into a
staging database (not timed) and then times SQLite moving those users into `users` by pure SQL
(`INSERT INTO users SELECT ... ORDER BY email_key`, plus their phone numbers): no per-row API
call, no JSON parsing, no Rust, so nothing an importer could do would be faster. It does this
three ways:

* `one transaction`: WAL and `synchronous = FULL` as Belfry runs, one commit (`--strict`);
* `20,000-user transactions`: the same, committing every 20,000 users in a savepoint with
  the import's `ON CONFLICT` clause, as `belfry import` does by default;
* `no journal, no fsync`: one transaction with `journal_mode = OFF` and `synchronous = OFF`,
  the B-tree work alone.

To see whether another layout could do much better, it then times the same move (users only,
no phone numbers) into the smallest layout that still answers ListUsers, GetUser and the
user-type filter: each user's JSON keyed by (account, email) in a `WITHOUT ROWID` table, plus a
UserId index and a user-type index, under Belfry's WAL and `synchronous = FULL`; the same with
the two indexes built after the rows, in the same transaction; and that table alone, with no
index, no journal and no fsync. The SQL runs use Python's SQLite, whose version is printed;
Belfry bundles its own.

Then it times `belfry import` itself on the same file into the same kind of store, with and
without `--strict`. Every figure is users per second; the machine should be quiet.
Uses only the standard library and the release binary (built first, as bench/run does).
"""

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
BELFRY = REPO / "target" / "release" / "belfry"
BATCH = 20_000  # the import's default batch (ImportOptions)

COLUMNS = ["user_id", "account_id", "email_key", "primary_email", "primary_provisioned_number",
           "display_name", "license_type", "user_type", "registration_status",
           "invitation_status", "registered_on_ms", "invited_on_ms", "alexa_enabled",
           "alexa_room_arn", "personal_pin", "pre_suspend_status", "doc"]
UPSERT = (" ON CONFLICT (account_id, email_key) DO UPDATE SET "
          + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS
                      if c not in ("user_id", "account_id", "email_key")))


def millis(text):
    if text is None:
        return None
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def demo_store(directory):
    """An embedded store made by Belfry itself; returns its demo account's id and owner."""
    log = directory.parent / "serve.out"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BELFRY), "serve", "--data", str(directory), "--demo",
                                 "--listen", "127.0.0.1:0"],
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "Demo credentials" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit(f"sqlite_floor: belfry serve --demo did not start:\n{log.read_text()}")
        time.sleep(0.05)
    proc.terminate()
    proc.wait(30)
    db = sqlite3.connect(directory / "belfry.db")
    (account_id,) = db.execute(
        "SELECT value FROM belfry_meta WHERE name = 'demo_account_id'").fetchone()
    (owner,) = db.execute("SELECT aws_account_id FROM accounts WHERE account_id = ?",
                          (account_id,)).fetchone()
    db.close()
    return account_id, owner


def stage(path, users_file, account_id):
    """The users of `users_file` as rows of `users`, in a table `st` of a database of its own."""
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE st ({', '.join(COLUMNS)})")
    rows = []
    with open(users_file, encoding="utf-8") as f:
        for line in f:
            u = json.loads(line)
            u["AccountId"] = account_id
            rows.append((
                u["UserId"], account_id, u["PrimaryEmail"].lower(), u["PrimaryEmail"],
                u.get("PrimaryProvisionedNumber"), u.get("DisplayName"), u["LicenseType"],
                u["UserType"], u["UserRegistrationStatus"], u.get("UserInvitationStatus"),
                millis(u.get("RegisteredOn")), millis(u.get("InvitedOn")), None, None,
                u["PersonalPIN"], None, json.dumps(u, separators=(",", ":")),
            ))
    db.executemany(f"INSERT INTO st VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    db.commit()
    db.close()
    return len(rows)


def connect(path, fast):
    """A connection as Belfry's import has one, or with `fast` no journal and no fsync."""
    db = sqlite3.connect(path, isolation_level=None)
    journal = "off" if fast else "wal"
    (mode,) = db.execute(f"PRAGMA journal_mode = {journal}").fetchone()
    if mode.lower() != journal:
        sys.exit(f"sqlite_floor: journal_mode stayed {mode}, wanted {journal}")
    db.execute(f"PRAGMA synchronous = {'OFF' if fast else 'FULL'}")
    db.execute("PRAGMA temp_store = MEMORY")
    db.execute("PRAGMA cache_size = -262144")  # as `belfry import` sets it
    return db


def sql_load(store, staged, owner, total, batch, upsert, fast):
    """Times moving the staged users into `users` by SQL alone; returns users/s."""
    db = connect(store / "belfry.db", fast)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("ATTACH DATABASE ? AS s", (str(staged),))
    columns = ", ".join(COLUMNS)
    started = time.monotonic()
    for first in range(0, total, batch):
        where = f"rowid > {first} AND rowid <= {first + batch}"
        db.execute("BEGIN IMMEDIATE")
        db.execute("SAVEPOINT batch")
        db.execute(f"INSERT INTO users ({columns}) SELECT {columns} FROM s.st WHERE {where} "
                   f"ORDER BY email_key{UPSERT if upsert else ''}")
        db.execute("INSERT INTO phone_numbers (aws_account_id, e164, user_id) "
                   f"SELECT ?, primary_provisioned_number, user_id FROM s.st WHERE {where} "
                   "AND primary_provisioned_number IS NOT NULL", (owner,))
        db.execute("RELEASE batch")
        db.execute("COMMIT")
    db.close()  # the last connection checkpoints the WAL into the database, as Belfry's does
    return total / (time.monotonic() - started)


MINIMAL = [
    "CREATE TABLE users (account_id TEXT NOT NULL, email_key TEXT NOT NULL, "
    "user_id TEXT NOT NULL, user_type TEXT NOT NULL, doc TEXT NOT NULL, "
    "PRIMARY KEY (account_id, email_key)) WITHOUT ROWID",
    "CREATE UNIQUE INDEX users_by_id ON users (user_id)",
    "CREATE INDEX users_by_type ON users (account_id, user_type, email_key)",
]


def minimal_load(directory, staged, total, indexes, fast):
    """Times the staged users into the smallest layout (see the module doc), its indexes made
    before the rows (`indexes="before"`), after them in the same transaction (`"after"`), or
    not at all (`None`); returns users/s."""
    db = connect(directory / "minimal.db", fast)
    db.execute(MINIMAL[0])
    if indexes == "before":
        for statement in MINIMAL[1:]:
            db.execute(statement)
    db.execute("ATTACH DATABASE ? AS s", (str(staged),))
    columns = "account_id, email_key, user_id, user_type, doc"
    started = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    db.execute(f"INSERT INTO users ({columns}) SELECT {columns} FROM s.st ORDER BY email_key")
    if indexes == "after":
        for statement in MINIMAL[1:]:
            db.execute(statement)
    db.execute("COMMIT")
    db.close()
    return total / (time.monotonic() - started)


def belfry_import(store, account_id, users_file, total, strict):
    """Times `belfry import` as a user runs it (process start to exit); returns users/s."""
    args = [str(BELFRY), "import", "--data", str(store), "--account-id", account_id]
    if strict:
        args.append("--strict")
    started = time.monotonic()
    subprocess.run([*args, str(users_file)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return total / (time.monotonic() - started)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=200_000, help="users in the file (default 200000)")
    args = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "--bin", "belfry"], cwd=REPO, check=True)
    WORK.mkdir(exist_ok=True)
    users_file = WORK / f"floor-{args.users}.jsonl"
    if not users_file.exists():
        subprocess.run([sys.executable, str(BENCH / "gen_users.py"), "--users", str(args.users),
                        "--seed", "1", "-o", str(users_file)], check=True)

    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        tmp = Path(tmp)
        template = tmp / "template"
        account_id, owner = demo_store(template)
        staged = tmp / "staged.db"
        total = stage(staged, users_file, account_id)
        print(f"{total:,} users of {users_file.name} into a fresh demo store "
              f"(SQLite {sqlite3.sqlite_version} for the SQL runs)")
        print(f"{'':<44} {'users/s':>10}")

        def fresh():
            store = tmp / "store"
            shutil.rmtree(store, ignore_errors=True)
            shutil.copytree(template, store)
            return store

        runs = [
            ("SQL, one transaction", dict(batch=total, upsert=False, fast=False)),
            ("SQL, 20,000-user transactions with upsert", dict(batch=BATCH, upsert=True,
                                                               fast=False)),
            ("SQL, no journal, no fsync", dict(batch=total, upsert=False, fast=True)),
        ]
        for name, kw in runs:
            rate = sql_load(fresh(), staged, owner, total, **kw)
            print(f"{name:<44} {rate:>10,.0f}", flush=True)
        for name, kw in [
            ("SQL, smallest layout, one transaction", dict(indexes="before", fast=False)),
            ("SQL, smallest layout, indexes after the rows", dict(indexes="after", fast=False)),
            ("SQL, its table alone, no journal, no fsync", dict(indexes=None, fast=True)),
        ]:
            store = fresh()
            rate = minimal_load(store, staged, total, **kw)
            print(f"{name:<44} {rate:>10,.0f}", flush=True)
        for name, strict in [("belfry import --strict", True), ("belfry import", False)]:
            rate = belfry_import(fresh(), account_id, users_file, total, strict)
            print(f"{name:<44} {rate:>10,.0f}", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times the web console's users page on a 1,000,000-user account, as a browser fetches it.

    bench/console_users.py                      # embedded SQLite, 1,000,000 users (~3 minutes)
    bench/console_users.py --backend postgres   # the same on PostgreSQL (BENCH_PG_URL)
    bench/console_users.py --users 100000       # smaller, for development

Builds nothing: runs target/release/belfry (`cargo build --release` first, or --bin). Generates
the directory with bench/gen_users.py (cached in bench/.work/), imports it into a fresh store with
`belfry import`, signs in to the console with an access key, and fetches each page --repeat times
over one kept-alive connection, printing the median and the 95th percentile of the whole
request (routing, session, SQL, HTML). The counts by registration status, which a page shows
only when asked (`&counts=1`), are timed alone through a page whose table is empty.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
AWS_ACCOUNT = "123456789012"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def directory(users: int) -> Path:
    WORK.mkdir(exist_ok=True)
    path = WORK / f"console-{users}.jsonl"
    if not path.exists():
        log(f"generating {users:,} users into {path}")
        with open(path, "w") as out:
            subprocess.run([sys.executable, str(BENCH / "gen_users.py"), "--users", str(users),
                            "--seed", "1"], stdout=out, check=True)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "belfry"))
    args = parser.parse_args()
    belfry = args.bin
    users_file = directory(args.users)
    emails = sorted(json.loads(line)["PrimaryEmail"].lower() for line in open(users_file))

    tmp = Path(tempfile.mkdtemp(prefix="belfry-console-bench-"))
    database = None
    if args.backend == "postgres":
        database = f"belfry_bench_{uuid.uuid4().hex[:8]}"
        subprocess.run(["psql", PG_SERVER + "/postgres", "-qc", f"CREATE DATABASE {database}"],
                       check=True)
        store = ["--database-url", f"{PG_SERVER}/{database}"]
    else:
        store = ["--data", str(tmp / "data")]
    key = json.loads(subprocess.run([belfry, "keys", "create", "--aws-account-id", AWS_ACCOUNT,
                                     *store], capture_output=True, text=True, check=True).stdout)
    server = subprocess.Popen([belfry, "serve", "--listen", "127.0.0.1:0", *store],
                              stdout=subprocess.PIPE, stderr=open(tmp / "serve.log", "w"),
                              text=True)
    try:
        endpoint = re.fullmatch(r"Belfry listening on (\S+)\n", server.stdout.readline()).group(1)
        http = requests.Session()
        form = http.get(f"{endpoint}/console/signin").text
        token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
        signed_in = http.post(f"{endpoint}/console/signin", allow_redirects=False, data={
            "form_token": token, "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"]})
        assert signed_in.status_code == 303, signed_in.text
        page = http.get(f"{endpoint}/console/accounts").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        created = http.post(f"{endpoint}/console/accounts", allow_redirects=False,
                            data={"csrf": csrf, "name": "Bench"})
        account_id = re.search(r"/console/accounts/([^/?]+)", created.headers["Location"]).group(1)

        log(f"importing {args.users:,} users ({args.backend})")
        started = time.monotonic()
        subprocess.run([belfry, "import", "--account-id", account_id, str(users_file), *store],
                       check=True, capture_output=True)
        log(f"imported in {time.monotonic() - started:.1f} s")

        base = f"{endpoint}/console/accounts/{account_id}/users"
        deep = emails[len(emails) * 9 // 10]
        pages = [
            ("first page", ""),
            ("deep page (after the 900,000th email)", f"?after={requests.utils.quote(deep)}"),
            ("back from there (before it)", f"?before={requests.utils.quote(deep)}"),
            ("status=Suspended, first page", "?status=Suspended"),
            ("license=Basic, deep page", f"?license=Basic&after={requests.utils.quote(deep)}"),
            ("type=SharedDevice + status=Registered", "?type=SharedDevice&status=Registered"),
            ("email prefix (3 letters)", f"?email={requests.utils.quote(deep[:3])}"),
            ("counts by status (&counts=1, empty table)", "?email=%7E%7E%7E&counts=1"),
        ]
        print(f"\nconsole users page, {args.users:,} users, {args.backend}, "
              f"{args.repeat} requests each (ms)")
        print(f"{'page':<42} {'median':>8} {'p95':>8} {'rows':>5}")
        for name, query in pages:
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                got = http.get(base + query)
                times.append((time.perf_counter() - t) * 1000)
                assert got.status_code == 200, got.text[:500]
            rows = got.text.count('name="user"')
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{name:<42} {statistics.median(times):8.1f} {p95:8.1f} {rows:5}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database:
            subprocess.run(["psql", PG_SERVER + "/postgres", "-qc", f"DROP DATABASE {database}"])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What a SCIM page costs as an identity provider walks a large account, and its lookups.

    bench/scim_paging.py                  # 100,000 users, embedded SQLite
    bench/scim_paging.py --users 20000 --database-url postgres://postgres@127.0.0.1:5432/db
                                          # (an existing, empty database: createdb it first)

Generates an account with `bench/gen_users.py`, imports it with `belfry import`, makes a SCIM
token with `belfry scim-token create`, then over HTTP (one keep-alive connection):

1. walks every user as Okta does, `startIndex=1, 101, 201, ...` with `count=100`, and prints
   the median time of the first ten pages and of the last ten: on the keyset path (see
   src/scim/paging.rs) the last pages cost what the first do;
2. times a jump: one page at a `startIndex` no page ended at (the OFFSET of a miss), near the
   end of the account;
3. times `userName eq` and `externalId eq` lookups (what Okta and Entra ID send before
   creating), by the median of 200.

The binary is `$BELFRY_BIN` or target/release/belfry (build it with `cargo build --release`).
Figures, not asserts: it prints them.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    binary = os.environ.get("BELFRY_BIN", str(REPO / "target/release/belfry"))
    work = Path(tempfile.mkdtemp(prefix="belfry-scim-bench-"))
    store = (["--database-url", args.database_url] if args.database_url
             else ["--data", str(work / "data")])
    root = ("AKIASCIMBENCH0000000", "scim-bench-secret-scim-bench-secret-0000")
    env = {**os.environ, "BELFRY_ROOT_ACCESS_KEY_ID": root[0],
           "BELFRY_ROOT_SECRET_ACCESS_KEY": root[1]}
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--demo", *store],
                              env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        endpoint, account = None, None
        for line in server.stdout:
            if "Demo account seeded:" in line:
                account = line.split("seeded:")[1].split()[0]
            if "listening" in line and "http://" in line:
                endpoint = "http://" + line.split("http://")[1].split()[0].rstrip('",')
            if endpoint and account:
                break
        users = work / "users.jsonl"
        with open(users, "w") as out:
            subprocess.run([sys.executable, str(REPO / "bench/gen_users.py"), "--users",
                            str(args.users), "--seed", "7"], stdout=out, check=True)
        subprocess.run([binary, "import", "--account-id", account, str(users), *store],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        token = json.loads(subprocess.run(
            [binary, "scim-token", "create", "--account-id", account, *store],
            check=True, capture_output=True, text=True).stdout)["Token"]
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        base = f"{endpoint}/scim/v2/accounts/{account}"

        def get(**params) -> tuple[float, dict]:
            started = time.perf_counter()
            resp = http.get(f"{base}/Users", params=params, timeout=60)
            elapsed = time.perf_counter() - started
            resp.raise_for_status()
            return elapsed, resp.json()

        times, start, total, names, external = [], 1, None, [], []
        while True:
            elapsed, page = get(startIndex=start, count=100)
            times.append(elapsed)
            total = page["totalResults"]
            names += [u["userName"] for u in page["Resources"][:1]]
            if page["itemsPerPage"] < 100:
                break
            start += page["itemsPerPage"]
        ms = lambda xs: f"{statistics.median(xs) * 1000:.2f} ms"
        print(f"account: {total} users ({'PostgreSQL' if args.database_url else 'SQLite'})")
        print(f"walk by startIndex, count=100: {len(times)} pages, "
              f"first ten {ms(times[:10])}, last ten {ms(times[-10:])} (median)")
        jump = [get(startIndex=total - 150 + i, count=100)[0] for i in range(5)]
        print(f"jump to startIndex ~{total - 150} (a miss: OFFSET): {ms(jump)}")
        lookups = [get(filter=f'userName eq "{names[i % len(names)]}"')[0] for i in range(200)]
        print(f"userName eq lookup: {ms(lookups)}")
        missing = [get(filter=f'externalId eq "none-{i}"')[0] for i in range(200)]
        print(f"externalId eq lookup (no match): {ms(missing)}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

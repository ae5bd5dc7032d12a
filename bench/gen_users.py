#!/usr/bin/env python3
"""Writes a realistic Chime user directory as JSON Lines, one `User` object per line.

    gen_users.py --users 1000000 --seed 1 > big.jsonl            # one account (import --account-id)
    gen_users.py --per-account 10 --account-ids ids.txt > many.jsonl   # 10 users in each account

Each line holds the User fields `belfry import` reads: UserId (random UUIDv4), PrimaryEmail
(firstname.lastname.N@domain, occasionally non-ASCII or mixed case), DisplayName, LicenseType,
UserType (~70% PrivateUser, ~30% SharedDevice), UserRegistrationStatus, UserInvitationStatus,
RegisteredOn, InvitedOn, PersonalPIN (10 digits) and, for ~20%, a PrimaryProvisionedNumber
unique within the file (numbers are +1 <area> <7 digits>; give files meant for the same AWS
account different --area codes). With --account-ids every line also names its AccountId.
The output depends only on the options: the same seed gives the same bytes.
"""

import argparse
import json
import random
import sys
import uuid
from datetime import datetime, timezone

FIRST = ["james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david",
         "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas",
         "sarah", "charles", "karen", "wei", "li", "hiroshi", "yuki", "priya", "arjun", "fatima",
         "omar", "olga", "ivan", "lucas", "sofia", "noah", "emma", "liam", "mia", "ahmed",
         "anna", "pieter", "ingrid", "mateo", "valentina", "kwame", "amara", "sean", "niamh"]
FIRST_ACCENTED = ["élodie", "zoë", "josé", "jürgen", "søren", "łukasz", "françois", "björn",
                  "chloé", "renée", "iñaki", "małgorzata", "ömer", "andré", "agnès"]
LAST = ["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
        "rodriguez", "martinez", "hernandez", "lopez", "wilson", "anderson", "taylor", "thomas",
        "moore", "jackson", "martin", "lee", "wang", "zhang", "tanaka", "suzuki", "sharma",
        "patel", "khan", "ivanov", "petrov", "silva", "santos", "rossi", "bianchi", "dubois",
        "schmidt", "schneider", "nguyen", "kim", "park", "okafor", "mensah", "murphy", "kelly"]
LAST_ACCENTED = ["müller", "núñez", "garcía", "øster", "lefèvre", "wójcik", "gómez", "söderberg",
                 "çelik", "dvořák"]
DOMAINS = ["example.com", "corp.example.com", "example.org", "mail.example.net", "example.co.uk"]
LICENSES = ["Pro"] * 60 + ["Basic"] * 25 + ["Plus"] * 10 + ["ProTrial"] * 5

# 2019-01-01 .. 2025-12-31, in milliseconds since the epoch.
START_MS = 1546300800000
SPAN_MS = 7 * 365 * 86400 * 1000


# "YYYY-MM-DD" of each day from START_MS on (strftime per timestamp is the slow part).
DAYS = [datetime.fromtimestamp(START_MS / 1000 + d * 86400, tz=timezone.utc).strftime("%Y-%m-%d")
        for d in range(SPAN_MS // 86400000 + 30)]


def wire_time(ms):
    """A Chime wire timestamp: 2019-01-04T17:11:22.003Z."""
    day, rest = divmod(ms - START_MS, 86400000)
    secs, milli = divmod(rest, 1000)
    return f"{DAYS[day]}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.{milli:03d}Z"


def user(rng, n, area, numbers):
    """The n-th user; `numbers` counts the phone numbers handed out so far (a one-item list)."""
    r = rng.random()
    first = rng.choice(FIRST_ACCENTED) if r < 0.03 else rng.choice(FIRST)
    last = rng.choice(LAST_ACCENTED) if rng.random() < 0.03 else rng.choice(LAST)
    local = f"{first}.{last}.{n}"
    domain = rng.choice(DOMAINS)
    if rng.random() < 0.10:  # mixed case: First.Last.N@Example.com
        local = f"{first.capitalize()}.{last.capitalize()}.{n}"
        domain = domain.capitalize()
    u = {
        "UserId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "PrimaryEmail": f"{local}@{domain}",
    }
    if rng.random() < 0.9:
        u["DisplayName"] = f"{first.capitalize()} {last.capitalize()}"
    u["LicenseType"] = rng.choice(LICENSES)
    u["UserType"] = "SharedDevice" if rng.random() < 0.30 else "PrivateUser"

    invited_ms = START_MS + rng.randrange(SPAN_MS)
    r = rng.random()
    if r < 0.80:
        u["UserRegistrationStatus"] = "Registered"
        u["UserInvitationStatus"] = "Accepted"
        u["InvitedOn"] = wire_time(invited_ms)
        u["RegisteredOn"] = wire_time(invited_ms + rng.randrange(14 * 86400 * 1000))
    elif r < 0.95:
        u["UserRegistrationStatus"] = "Unregistered"
        s = rng.random()
        if s < 0.70:
            u["UserInvitationStatus"] = "Pending"
            u["InvitedOn"] = wire_time(invited_ms)
        elif s < 0.80:
            u["UserInvitationStatus"] = "Failed"
            u["InvitedOn"] = wire_time(invited_ms)
        # else: created directly, never invited
    else:
        u["UserRegistrationStatus"] = "Suspended"
        u["UserInvitationStatus"] = "Accepted"
        u["InvitedOn"] = wire_time(invited_ms)
        u["RegisteredOn"] = wire_time(invited_ms + rng.randrange(14 * 86400 * 1000))

    u["PersonalPIN"] = f"{rng.randrange(10**10):010d}"
    if rng.random() < 0.20:
        u["PrimaryProvisionedNumber"] = f"+1{area}{2000000 + numbers[0]:07d}"
        numbers[0] += 1
    return u


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=1000, help="users in total (without --account-ids)")
    p.add_argument("--account-ids", help="file of account ids, one a line: --per-account users each")
    p.add_argument("--per-account", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--area", default="206", help="3-digit area code of the phone numbers")
    p.add_argument("--start", type=int, default=0, help="first N of the emails (keeps files apart)")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = p.parse_args()

    rng = random.Random(args.seed)
    numbers = [0]
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    buf = []
    n = args.start
    if args.account_ids:
        with open(args.account_ids) as f:
            accounts = [line.strip() for line in f if line.strip()]
        for account_id in accounts:
            for _ in range(args.per_account):
                u = user(rng, n, args.area, numbers)
                u["AccountId"] = account_id
                buf.append(dumps(u))
                n += 1
            if len(buf) >= 10000:
                out.write("\n".join(buf) + "\n")
                buf.clear()
    else:
        for _ in range(args.users):
            buf.append(dumps(user(rng, n, args.area, numbers)))
            n += 1
            if len(buf) >= 10000:
                out.write("\n".join(buf) + "\n")
                buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    out.flush()


if __name__ == "__main__":
    main()

"""An administrator's session with the AWS CLI (v1): `aws chime ... --output json`, each step a
subprocess, from a new account through inviting, suspending and relicensing its users to
deleting it."""

from support import unique


def test_account_lifecycle_with_the_aws_cli(aws, belfry, tenant, chime_cli):
    ep = ["--endpoint-url", belfry.endpoint, "--output", "json"]
    chime = chime_cli

    def users_by_email(acct: str, *args: str) -> dict:
        users = chime("list-users", "--account-id", acct, *args)["Users"]
        return {u["PrimaryEmail"]: u for u in users}

    # 1. A new account.
    name = unique("CLI Walk")
    account = chime("create-account", "--name", name)["Account"]
    assert account["Name"] == name
    assert account["AwsAccountId"] == tenant.aws_account_id
    assert account["AccountStatus"] == "Active"
    acct = account["AccountId"]

    # 2. Invite three people and one shared device.
    stem = unique("walk")
    alice, bob, carol = (f"{stem}-{who}@example.com" for who in ("alice", "bob", "carol"))
    device = f"{stem}-room@example.com"
    invites = chime("invite-users", "--account-id", acct,
                    "--user-email-list", alice, bob, carol)["Invites"]
    assert [i["EmailAddress"] for i in invites] == [alice, bob, carol]
    assert all(i["Status"] == "Pending" for i in invites), invites
    invites = chime("invite-users", "--account-id", acct, "--user-email-list", device,
                    "--user-type", "SharedDevice")["Invites"]
    assert [(i["EmailAddress"], i["Status"]) for i in invites] == [(device, "Pending")]

    users = users_by_email(acct)
    assert list(users) == [alice, bob, carol, device]  # ordered by email
    ids = {e: u["UserId"] for e, u in users.items()}
    assert all(u["UserRegistrationStatus"] == "Unregistered" for u in users.values())
    assert all(u["LicenseType"] == "Pro" for u in users.values())

    # 3. Filters: by user type, and by email (case-insensitively).
    assert list(users_by_email(acct, "--user-type", "SharedDevice")) == [device]
    assert list(users_by_email(acct, "--user-email", bob.upper())) == [bob]

    # 4. Suspend Alice and Bob; the listing shows it.
    resp = chime("batch-suspend-user", "--account-id", acct,
                 "--user-id-list", ids[alice], ids[bob])
    assert resp == {"UserErrors": []}
    statuses = {e: u["UserRegistrationStatus"] for e, u in users_by_email(acct).items()}
    assert statuses == {alice: "Suspended", bob: "Suspended", carol: "Unregistered",
                        device: "Unregistered"}

    # 5. Change licenses: one user, then a batch in shorthand syntax.
    user = chime("update-user", "--account-id", acct, "--user-id", ids[carol],
                 "--license-type", "Basic")["User"]
    assert user["LicenseType"] == "Basic"
    assert user["PrimaryEmail"] == carol
    resp = chime("batch-update-user", "--account-id", acct, "--update-user-request-items",
                 f"UserId={ids[alice]},LicenseType=Basic",
                 f"UserId={ids[device]},LicenseType=Plus")
    assert resp == {"UserErrors": []}
    now = users_by_email(acct)
    assert {e: u["LicenseType"] for e, u in now.items()} == {
        alice: "Basic", bob: "Pro", carol: "Basic", device: "Plus"}
    assert now[device]["UserType"] == "SharedDevice"
    assert now[alice]["UserRegistrationStatus"] == "Suspended"

    # 6. The account cannot be deleted while Carol and the device are not suspended.
    stderr = chime.fails("delete-account", "--account-id", acct)
    assert "An error occurred (UnprocessableEntityException) when calling the DeleteAccount " \
           "operation" in stderr, stderr
    assert "2" in stderr.split("operation", 1)[1], stderr

    # 7. Suspend the rest, then delete.
    resp = chime("batch-suspend-user", "--account-id", acct,
                 "--user-id-list", ids[carol], ids[device])
    assert resp == {"UserErrors": []}
    proc = aws(tenant, "chime", "delete-account", "--account-id", acct, *ep)
    assert proc.returncode == 0 and proc.stdout.strip() == "", (proc.stdout, proc.stderr)

    # 8. It is gone.
    stderr = chime.fails("get-account", "--account-id", acct)
    assert "An error occurred (NotFoundException) when calling the GetAccount operation" \
        in stderr, stderr
    assert acct in stderr

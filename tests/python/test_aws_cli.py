"""The AWS CLI (v1) against Belfry, as a user would run it: `aws chime ...` in a subprocess."""

import json
import shlex
import subprocess

from support import DEMO_USERS, Key, aws_command, unique


def test_aws_version_is_v1(aws_cli_env):
    proc = subprocess.run(aws_command() + ["--version"], env=aws_cli_env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = (proc.stdout + proc.stderr).strip()
    assert out.startswith("aws-cli/1."), out
    assert "botocore/" in out


def test_banner_command_lists_all_demo_users(aws, demo):
    # The very command `belfry serve --demo` prints, with the credentials it prints.
    args = shlex.split(demo.try_command)
    assert args[:3] == ["aws", "chime", "list-users"]
    doc = json.loads(aws(demo.demo_key, *args[1:]).stdout)
    users = doc["Users"]
    assert len(users) == DEMO_USERS
    assert len({u["UserId"] for u in users}) == DEMO_USERS
    emails = [u["PrimaryEmail"].lower() for u in users]
    assert emails == sorted(emails)
    assert "NextToken" not in doc


def test_endpoint_from_aws_endpoint_url_chime(aws, demo, belfry):
    env = {"AWS_ENDPOINT_URL_CHIME": belfry.endpoint}
    first = json.loads(aws(demo.demo_key, "chime", "list-users",
                           "--account-id", demo.demo_account_id,
                           "--max-items", "10", "--page-size", "3", env=env).stdout)
    assert len(first["Users"]) == 10
    assert first["NextToken"]
    second = json.loads(aws(demo.demo_key, "chime", "list-users",
                            "--account-id", demo.demo_account_id, "--max-items", "10",
                            "--page-size", "3", "--starting-token", first["NextToken"],
                            env=env).stdout)
    assert len(second["Users"]) == 10
    ids = [u["UserId"] for u in first["Users"] + second["Users"]]
    assert len(set(ids)) == 20
    emails = [u["PrimaryEmail"].lower() for u in first["Users"] + second["Users"]]
    assert emails == sorted(emails)


def test_endpoint_url_flag_with_max_items_and_page_size(aws, demo, belfry):
    doc = json.loads(aws(demo.demo_key, "chime", "list-users", "--account-id",
                         demo.demo_account_id, "--max-items", "10", "--page-size", "3",
                         "--endpoint-url", belfry.endpoint).stdout)
    assert len(doc["Users"]) == 10
    assert doc["NextToken"]


def test_create_account_invite_get_user(aws, belfry, tenant):
    ep = ["--endpoint-url", belfry.endpoint]
    name = unique("CLI Team")
    account = json.loads(aws(tenant, "chime", "create-account", "--name", name, *ep).stdout)
    account = account["Account"]
    assert account["Name"] == name
    assert account["AwsAccountId"] == tenant.aws_account_id
    assert account["AccountType"] == "Team"
    assert account["DefaultLicense"] == "Pro"
    assert account["SupportedLicenses"] == ["Basic", "Pro"]
    acct = account["AccountId"]

    emails = [f"{unique('cli')}@example.com", f"{unique('cli')}@example.com"]
    invites = json.loads(aws(tenant, "chime", "invite-users", "--account-id", acct,
                             "--user-email-list", *emails, *ep).stdout)["Invites"]
    assert sorted(i["EmailAddress"] for i in invites) == sorted(emails)
    assert all(i["Status"] == "Pending" for i in invites)

    listed = json.loads(aws(tenant, "chime", "list-users", "--account-id", acct,
                            "--user-email", emails[0].upper(), *ep).stdout)["Users"]
    assert [u["PrimaryEmail"] for u in listed] == [emails[0]]
    user = json.loads(aws(tenant, "chime", "get-user", "--account-id", acct,
                          "--user-id", listed[0]["UserId"], *ep).stdout)["User"]
    assert user == listed[0]
    assert user["UserInvitationStatus"] == "Pending"
    assert user["LicenseType"] == "Pro"


def test_not_found_exits_255_with_message(aws, belfry, tenant):
    missing = "deadbeef-0000-0000-0000-000000000000"
    proc = aws(tenant, "chime", "get-account", "--account-id", missing,
               "--endpoint-url", belfry.endpoint, check=False)
    assert proc.returncode == 255, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert "An error occurred (NotFoundException) when calling the GetAccount operation" \
        in proc.stderr, proc.stderr
    assert missing in proc.stderr


def test_wrong_secret_exits_255_unauthorized(aws, belfry, tenant):
    bad = Key(tenant.access_key_id, "x" * 40, tenant.aws_account_id)
    proc = aws(bad, "chime", "list-accounts", "--endpoint-url", belfry.endpoint, check=False)
    assert proc.returncode == 255, (proc.returncode, proc.stderr)
    assert "(UnauthorizedClientException)" in proc.stderr, proc.stderr
    assert "x" * 40 not in proc.stderr

"""The phone-number inventory through boto3 and the AWS CLI: a walk-through each (search numbers
in area code 206, order two, wait for the order, assign one to a user, see it in ListUsers,
unassign, delete, restore, delete again), and every modeled error of the twelve phone-number
operations as boto3's typed exception (fault rules for the ones no request provokes)."""

from __future__ import annotations

import time

import pytest

from support import (
    TIMESTAMP_RE, admin, chime_client, check_faults_arrive_typed, email, expect_error,
    start_server, unique,
)


def wait_for_order(client, order_id: str) -> dict:
    """GetPhoneNumberOrder until the order is no longer Processing (the default carrier is done
    by the next read)."""
    for _ in range(50):
        order = client.get_phone_number_order(PhoneNumberOrderId=order_id)["PhoneNumberOrder"]
        if order["Status"] != "Processing":
            return order
        time.sleep(0.1)
    raise AssertionError(f"order {order_id} still Processing")


def all_numbers(client, **filters) -> list[dict]:
    """Every number ListPhoneNumbers lists, walking NextToken by hand in pages of 2."""
    numbers, token = [], None
    while True:
        page = client.list_phone_numbers(MaxResults=2, **filters,
                                         **({"NextToken": token} if token else {}))
        assert len(page["PhoneNumbers"]) <= 2
        numbers += page["PhoneNumbers"]
        token = page.get("NextToken")
        if not token:
            return numbers


def test_boto3_walkthrough(client, account):
    acct = account["AccountId"]
    # Search area code 206: the fictional 555-01XX lines, the same on every search.
    found = client.search_available_phone_numbers(AreaCode="206", MaxResults=10)
    assert found["E164PhoneNumbers"] == [f"+12065550{n}" for n in range(100, 110)]
    again = client.search_available_phone_numbers(AreaCode="206", MaxResults=10)
    assert again["E164PhoneNumbers"] == found["E164PhoneNumbers"]
    rest = client.search_available_phone_numbers(AreaCode="206", MaxResults=10,
                                                 NextToken=found["NextToken"])
    assert rest["E164PhoneNumbers"][0] == "+12065550110"

    # Order two.
    two = found["E164PhoneNumbers"][:2]
    created = client.create_phone_number_order(ProductType="BusinessCalling",
                                               E164PhoneNumbers=two)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    order = created["PhoneNumberOrder"]
    assert order["Status"] == "Processing"
    assert [n["Status"] for n in order["OrderedPhoneNumbers"]] == ["Processing"] * 2
    done = wait_for_order(client, order["PhoneNumberOrderId"])
    assert done["Status"] == "Successful"
    assert [(n["E164PhoneNumber"], n["Status"]) for n in done["OrderedPhoneNumbers"]] == \
        [(two[0], "Acquired"), (two[1], "Acquired")]
    listed_orders = client.list_phone_number_orders()["PhoneNumberOrders"]
    assert [o["PhoneNumberOrderId"] for o in listed_orders] == [order["PhoneNumberOrderId"]]
    assert two[0] not in client.search_available_phone_numbers(
        AreaCode="206", MaxResults=10)["E164PhoneNumbers"]

    # Assign one to a user; ListUsers and ListPhoneNumbers agree.
    user = client.create_user(AccountId=acct, Email=email("caller"))["User"]
    client.associate_phone_number_with_user(AccountId=acct, UserId=user["UserId"],
                                            E164PhoneNumber=two[0])
    [listed] = [u for u in client.list_users(AccountId=acct)["Users"]
                if u["UserId"] == user["UserId"]]
    assert listed["PrimaryProvisionedNumber"] == two[0]
    [held] = all_numbers(client, FilterName="UserId", FilterValue=user["UserId"])
    assert held["E164PhoneNumber"] == two[0]
    assert held["Status"] == "Assigned"
    assert {(a["Name"], a["Value"]) for a in held["Associations"]} == \
        {("AccountId", acct), ("UserId", user["UserId"])}
    assert [n["E164PhoneNumber"] for n in all_numbers(client)] == two

    # Unassign, delete, restore, delete again.
    client.disassociate_phone_number_from_user(AccountId=acct, UserId=user["UserId"])
    assert "PrimaryProvisionedNumber" not in client.get_user(
        AccountId=acct, UserId=user["UserId"])["User"]
    assert client.get_phone_number(PhoneNumberId=two[0])["PhoneNumber"]["Status"] == "Unassigned"
    resp = client.delete_phone_number(PhoneNumberId=two[0])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    queued = client.get_phone_number(PhoneNumberId=two[0])["PhoneNumber"]
    assert queued["Status"] == "DeleteInProgress"
    assert "DeletionTimestamp" in queued
    restored = client.restore_phone_number(PhoneNumberId=two[0])["PhoneNumber"]
    assert restored["Status"] == "Unassigned"
    assert "DeletionTimestamp" not in restored
    client.delete_phone_number(PhoneNumberId=two[0])
    assert [n["E164PhoneNumber"] for n in all_numbers(client, Status="DeleteInProgress")] == \
        [two[0]]

    # Calling names and product types, one detail at a time; batches answer per number.
    named = client.update_phone_number(PhoneNumberId=two[1], CallingName="Front Desk")
    assert named["PhoneNumber"]["CallingName"] == "Front Desk"
    out = client.batch_update_phone_number(UpdatePhoneNumberRequestItems=[
        {"PhoneNumberId": two[1], "ProductType": "VoiceConnector"},
        {"PhoneNumberId": "+12065550199", "CallingName": "Nobody"}])
    assert [(e["PhoneNumberId"], e["ErrorCode"]) for e in out["PhoneNumberErrors"]] == \
        [("+12065550199", "NotFound")]
    out = client.batch_delete_phone_number(PhoneNumberIds=[two[1], "+12065550199"])
    assert [(e["PhoneNumberId"], e["ErrorCode"]) for e in out["PhoneNumberErrors"]] == \
        [("+12065550199", "NotFound")]
    countries = client.list_supported_phone_number_countries(ProductType="BusinessCalling")
    assert countries["PhoneNumberCountries"] == [
        {"CountryCode": "US", "SupportedPhoneNumberTypes": ["Local"]}]


def test_cli_walkthrough(chime_cli):
    chime = chime_cli
    acct = chime("create-account", "--name", unique("CLI Numbers"))["Account"]["AccountId"]
    found = chime("search-available-phone-numbers", "--area-code", "206",
                  "--max-results", "5")["E164PhoneNumbers"]
    assert found == [f"+12065550{n}" for n in range(100, 105)]
    two = found[:2]
    order = chime("create-phone-number-order", "--product-type", "BusinessCalling",
                  "--e164-phone-numbers", *two)["PhoneNumberOrder"]
    assert order["Status"] == "Processing"
    assert TIMESTAMP_RE.match(order["CreatedTimestamp"]), order
    done = chime("get-phone-number-order", "--phone-number-order-id",
                 order["PhoneNumberOrderId"])["PhoneNumberOrder"]
    assert done["Status"] == "Successful"
    # Two pages of one, by NextToken.
    first = chime("list-phone-numbers", "--max-results", "1")
    second = chime("list-phone-numbers", "--max-results", "1", "--next-token", first["NextToken"])
    assert "NextToken" not in second
    listed = first["PhoneNumbers"] + second["PhoneNumbers"]
    assert [n["E164PhoneNumber"] for n in listed] == two
    assert all(n["Status"] == "Unassigned" for n in listed)

    user = chime("create-user", "--account-id", acct, "--email", email("cli"))["User"]
    chime.quiet("associate-phone-number-with-user", "--account-id", acct, "--user-id",
                user["UserId"], "--e164-phone-number", two[0])
    users = chime("list-users", "--account-id", acct)["Users"]
    assert [u.get("PrimaryProvisionedNumber") for u in users] == [two[0]]
    got = chime("get-phone-number", "--phone-number-id", two[0])["PhoneNumber"]
    assert got["Status"] == "Assigned"
    assert TIMESTAMP_RE.match(got["Associations"][0]["AssociatedTimestamp"]), got

    chime.quiet("disassociate-phone-number-from-user", "--account-id", acct, "--user-id",
                user["UserId"])
    chime.quiet("delete-phone-number", "--phone-number-id", two[0])
    queued = chime("get-phone-number", "--phone-number-id", two[0])["PhoneNumber"]
    assert queued["Status"] == "DeleteInProgress"
    assert TIMESTAMP_RE.match(queued["DeletionTimestamp"]), queued
    restored = chime("restore-phone-number", "--phone-number-id", two[0])["PhoneNumber"]
    assert restored["Status"] == "Unassigned"
    chime.quiet("delete-phone-number", "--phone-number-id", two[0])
    err = chime.fails("restore-phone-number", "--phone-number-id", "+12065550199")
    assert "NotFoundException" in err, err
    err = chime.fails("search-available-phone-numbers", "--city", "Seattle")
    assert "BadRequestException" in err, err


def test_modeled_errors_a_request_provokes_arrive_typed(client, read_only, account):
    acct = account["AccountId"]
    cases = [
        ("BadRequestException", 400,
         lambda: client.search_available_phone_numbers(City="Seattle")),
        ("BadRequestException", 400,
         lambda: client.create_phone_number_order(ProductType="BusinessCalling",
                                                  E164PhoneNumbers=["+18885550100"])),
        ("ResourceLimitExceededException", 400,
         lambda: client.create_phone_number_order(
             ProductType="VoiceConnector",
             E164PhoneNumbers=[f"+1206555{n:04}" for n in range(501)])),
        ("NotFoundException", 404,
         lambda: client.get_phone_number_order(
             PhoneNumberOrderId="00000000-0000-0000-0000-000000000000")),
        ("NotFoundException", 404, lambda: client.get_phone_number(PhoneNumberId="+12065550100")),
        ("NotFoundException", 404,
         lambda: client.list_phone_numbers(FilterName="AccountId",
                                           FilterValue="00000000-0000-0000-0000-000000000000")),
        ("NotFoundException", 404,
         lambda: client.update_phone_number(PhoneNumberId="+12065550100", CallingName="Desk")),
        ("NotFoundException", 404,
         lambda: client.delete_phone_number(PhoneNumberId="+12065550100")),
        ("NotFoundException", 404,
         lambda: client.restore_phone_number(PhoneNumberId="+12065550100")),
        ("BadRequestException", 400,
         lambda: client.batch_update_phone_number(UpdatePhoneNumberRequestItems=[
             {"PhoneNumberId": "+12065550100"}])),
        ("BadRequestException", 400,
         lambda: client.list_phone_numbers(FilterName="UserId")),
        ("ForbiddenException", 403,
         lambda: read_only.create_phone_number_order(ProductType="BusinessCalling",
                                                     E164PhoneNumbers=["+12065550100"])),
        ("ForbiddenException", 403,
         lambda: read_only.batch_delete_phone_number(PhoneNumberIds=["+12065550100"])),
    ]
    for shape, status, call in cases:
        with pytest.raises(getattr(client.exceptions, shape)) as e:
            call()
        expect_error(e, shape, status)

    # A number assigned to a user keeps its product type: ConflictException.
    order = client.create_phone_number_order(ProductType="BusinessCalling",
                                             E164PhoneNumbers=["+12065550100"])
    wait_for_order(client, order["PhoneNumberOrder"]["PhoneNumberOrderId"])
    user = client.create_user(AccountId=acct, Email=email("held"))["User"]
    client.associate_phone_number_with_user(AccountId=acct, UserId=user["UserId"],
                                            E164PhoneNumber="+12065550100")
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.update_phone_number(PhoneNumberId="+12065550100", ProductType="VoiceConnector")
    expect_error(e, "ConflictException", 409)
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.delete_phone_number(PhoneNumberId="+12065550100")
    expect_error(e, "BadRequestException", 400)


#: A valid request of each phone-number operation (faults answer after routing).
CALLS = {
    "SearchAvailablePhoneNumbers": {"AreaCode": "206"},
    "ListSupportedPhoneNumberCountries": {"ProductType": "BusinessCalling"},
    "CreatePhoneNumberOrder": {"ProductType": "BusinessCalling",
                               "E164PhoneNumbers": ["+12065550100"]},
    "GetPhoneNumberOrder": {"PhoneNumberOrderId": "00000000-0000-0000-0000-000000000000"},
    "ListPhoneNumberOrders": {},
    "ListPhoneNumbers": {},
    "GetPhoneNumber": {"PhoneNumberId": "+12065550100"},
    "UpdatePhoneNumber": {"PhoneNumberId": "+12065550100", "CallingName": "Desk"},
    "BatchUpdatePhoneNumber": {"UpdatePhoneNumberRequestItems": [
        {"PhoneNumberId": "+12065550100", "CallingName": "Desk"}]},
    "DeletePhoneNumber": {"PhoneNumberId": "+12065550100"},
    "BatchDeletePhoneNumber": {"PhoneNumberIds": ["+12065550100"]},
    "RestorePhoneNumber": {"PhoneNumberId": "+12065550100"},
}


def test_every_modeled_service_error_arrives_typed(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    checked = check_faults_arrive_typed(client, lambda *call: admin(admin_server, *call), CALLS)
    # Every phone-number operation models all five.
    assert checked == 12 * 5


def test_the_demos_numbers_are_in_its_inventory_and_agree_with_its_users(demo, demo_client):
    """Each demo user's PrimaryProvisionedNumber is an Assigned number of the demo's AWS
    account, associated with that user: ListUsers and ListPhoneNumbers agree."""
    account_id = demo.demo_account_id
    users = [u for page in demo_client.get_paginator("list_users").paginate(AccountId=account_id)
             for u in page["Users"]]
    held = {u["PrimaryProvisionedNumber"]: u["UserId"] for u in users
            if "PrimaryProvisionedNumber" in u}
    assert len(held) == 50
    numbers = all_numbers(demo_client, FilterName="AccountId", FilterValue=account_id)
    assert {n["E164PhoneNumber"]: n["Associations"][1]["Value"] for n in numbers} == held
    assert all(n["Status"] == "Assigned" for n in numbers)
    # Every one in NANPA's fictional 555-0100..0199 lines.
    assert all(n.startswith("+120655501") for n in held), sorted(held)


def test_a_slow_carrier_keeps_orders_processing(bin_path, tmp_path, fresh_store):
    """`--phone-order-processing-ms` makes the carrier take its time: the order stays
    Processing and its numbers are not in the inventory yet."""
    server = start_server(bin_path, tmp_path, fresh_store, demo=False,
                          extra_args=["--phone-order-processing-ms", "600000"])
    try:
        client = chime_client(server.endpoint, server.create_key())
        order = client.create_phone_number_order(
            ProductType="BusinessCalling", E164PhoneNumbers=["+12065550100"])["PhoneNumberOrder"]
        got = client.get_phone_number_order(PhoneNumberOrderId=order["PhoneNumberOrderId"])
        assert got["PhoneNumberOrder"]["Status"] == "Processing"
        assert client.list_phone_numbers()["PhoneNumbers"] == []
        # Not offered to the same AWS account while on order.
        assert "+12065550100" not in client.search_available_phone_numbers(
            AreaCode="206")["E164PhoneNumbers"]
    finally:
        assert server.stop() == 0


def test_an_order_that_comes_due_shows_in_lists_read_before(bin_path, tmp_path, fresh_store):
    """The lists of numbers and orders, read (and on SQLite cached) while an order is
    Processing, show it processed once its time has come, with no other write in between."""
    server = start_server(bin_path, tmp_path, fresh_store, demo=False,
                          extra_args=["--phone-order-processing-ms", "1500"])
    try:
        client = chime_client(server.endpoint, server.create_key())
        order_id = client.create_phone_number_order(
            ProductType="BusinessCalling",
            E164PhoneNumbers=["+12065550101"])["PhoneNumberOrder"]["PhoneNumberOrderId"]
        for _ in range(2):
            orders = client.list_phone_number_orders()["PhoneNumberOrders"]
            assert [(o["PhoneNumberOrderId"], o["Status"]) for o in orders] == \
                [(order_id, "Processing")]
            assert client.list_phone_numbers()["PhoneNumbers"] == []
        time.sleep(1.6)
        orders = client.list_phone_number_orders()["PhoneNumberOrders"]
        assert [(o["PhoneNumberOrderId"], o["Status"]) for o in orders] == \
            [(order_id, "Successful")]
        numbers = client.list_phone_numbers()["PhoneNumbers"]
        assert [(n["E164PhoneNumber"], n["Status"]) for n in numbers] == \
            [("+12065550101", "Unassigned")]
    finally:
        assert server.stop() == 0


def test_reset_forgets_numbers_and_orders(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    order = client.create_phone_number_order(ProductType="BusinessCalling",
                                             E164PhoneNumbers=["+12065550100"])
    wait_for_order(client, order["PhoneNumberOrder"]["PhoneNumberOrderId"])
    assert len(client.list_phone_numbers()["PhoneNumbers"]) == 1
    resp = admin(admin_server, "POST", "/_belfry/reset")
    assert resp.status_code == 204, resp.text
    assert client.list_phone_numbers()["PhoneNumbers"] == []
    assert client.list_phone_number_orders()["PhoneNumberOrders"] == []

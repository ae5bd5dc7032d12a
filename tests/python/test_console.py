"""The web console under /console/, driven in a real headless browser.

Debian's `chromium` and `chromium-driver` (installed by `scripts/test`) are driven by Selenium
with both paths given explicitly, so Selenium Manager never downloads anything. Without them
the tests are skipped, except under CI=true, where that is a failure.

Each walk-through checks what the browser shows against what the API says (boto3), on the
session's server (`belfry serve --demo` on the run's backend). Screenshots of the main pages are
written to $BELFRY_SCREENSHOTS, or tests/python/screenshots/ (git-ignored), for a reviewer.
"""

from __future__ import annotations

import os
import re
import shutil
import random
import subprocess
import time
from pathlib import Path

import pytest
import requests

from support import chime_client, list_all, on_ci, server_env, unique

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("BELFRY_SCREENSHOTS")
                   or Path(__file__).resolve().parent / "screenshots")
#: The 10,000-user account: emails u-00000@big.example ... u-09999@big.example; every tenth
#: user is a SharedDevice.
BIG_USERS = 10_000
PAGE_SIZE = 50


def big_email(i: int) -> str:
    return f"u-{i:05d}@big.example"


def big_type(i: int) -> str:
    return "SharedDevice" if i % 10 == 3 else "PrivateUser"


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """A headless Chromium with a fresh profile, through Debian's chromedriver."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)"
        if on_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager must never fetch a browser or a driver: both paths are given, and it
    # is told to stay offline should anything still call it.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                               options=options)
    browser.implicitly_wait(0)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def big(belfry, tmp_path_factory):
    """A tenant key and its account of 10,000 users, seeded with `belfry import`."""
    key = belfry.create_key()
    client = chime_client(belfry.endpoint, key)
    account_id = client.create_account(Name=unique("Big"))["Account"]["AccountId"]
    path = tmp_path_factory.mktemp("big") / "users.csv"
    lines = ["PrimaryEmail,UserType"] + [f"{big_email(i)},{big_type(i)}"
                                          for i in range(BIG_USERS)]
    path.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [str(belfry.bin), "import", "--account-id", account_id, str(path), *belfry.store.args()],
        env=server_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return key, client, account_id


# -- helpers -------------------------------------------------------------------------------

def by_css(driver, selector: str):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, selector)


def one(driver, selector: str):
    found = by_css(driver, selector)
    assert len(found) == 1, (selector, len(found), driver.current_url)
    return found[0]


def go(driver, target, keys=None) -> None:
    """Clicks a link or a submit button (or sends it `keys`, as a keyboard user would) and waits
    until the next page has replaced this one (a click returns before the browser navigates).

    `target` is a CSS selector, a function finding the element, or the element. A page that
    was still settling when the element was found makes the click fail before anything was
    sent (the element went stale, or something still lay over it); then the element is found
    again and clicked once more. Any other error fails at once."""
    from selenium.common.exceptions import (ElementClickInterceptedException,
                                            StaleElementReferenceException, WebDriverException)
    from selenium.webdriver.support.ui import WebDriverWait
    can_find_again = isinstance(target, str) or callable(target)
    find = ((lambda: one(driver, target)) if isinstance(target, str)
            else target if callable(target) else (lambda: target))
    for attempt in range(3):
        page = one(driver, "html")
        element = find()
        try:
            if keys is None:
                element.click()
            else:
                element.send_keys(keys)
            break
        except (StaleElementReferenceException, ElementClickInterceptedException):
            if attempt == 2 or not can_find_again:
                raise
    def replaced(_):
        # Chromium reports a node of a replaced document as stale, or at times as an unknown
        # error, "Node with given id does not belong to the document": both mean it is gone.
        try:
            page.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 30).until(replaced)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver, endpoint: str, key) -> None:
    driver.delete_all_cookies()
    driver.get(f"{endpoint}/console/signin")
    from selenium.webdriver.common.keys import Keys
    # By keyboard: the id, Tab to the secret, Enter.
    one(driver, "#access_key_id").send_keys(key.access_key_id, Keys.TAB)
    secret = driver.switch_to.active_element
    assert secret.get_attribute("id") == "secret_access_key"
    secret.send_keys(key.secret_access_key)
    go(driver, secret, Keys.RETURN)
    assert driver.current_url == f"{endpoint}/console/accounts", driver.page_source
    assert key.access_key_id in one(driver, "header .who").text


def table_emails(driver) -> list[str]:
    return [a.text for a in by_css(driver, "#users tbody td a")]


def post_with_session(driver, endpoint: str, path: str, fields: dict) -> int:
    """POSTs a form with the browser's session cookie but not from its pages (a forged form,
    or a script's request) and returns the status."""
    cookie = driver.get_cookie("belfry_console")["value"]
    return requests.post(f"{endpoint}{path}", data=fields, allow_redirects=False,
                         cookies={"belfry_console": cookie}).status_code


def page_csrf(driver) -> str:
    return one(driver, "header form input[name=csrf]").get_attribute("value")


def unlabelled_controls(driver) -> list[str]:
    """The form controls of the page that a screen reader could not name: no <label> around
    or for them, no aria-label (hidden inputs and buttons with text excepted)."""
    return driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea, button')]
            .filter(e => e.type !== 'hidden')
            .filter(e => !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .filter(e => !e.closest('label') && !e.getAttribute('aria-label')
                         && !(e.id && document.querySelector(`label[for="${e.id}"]`)))
            .map(e => e.outerHTML);
    """)


def shoot(driver, screenshots: Path, name: str) -> None:
    """Saves a screenshot, and checks on the way that every control of the page has a name."""
    assert unlabelled_controls(driver) == [], name
    driver.save_screenshot(str(screenshots / f"{name}.png"))


# -- walk-throughs -------------------------------------------------------------------------

def test_sign_in_filter_a_10000_user_account_and_page_back_and_forth(
        driver, belfry, big, screenshots):
    key, client, account_id = big
    endpoint = belfry.endpoint
    sign_in(driver, endpoint, key)
    shoot(driver, screenshots, "accounts")
    go(driver, lambda: driver.find_element("link text", one(driver, "tbody td a").text))
    shoot(driver, screenshots, "account")
    go(driver, lambda: driver.find_element("link text", "Users of this account"))
    assert table_emails(driver) == [big_email(i) for i in range(PAGE_SIZE)]
    go(driver, lambda: driver.find_element("link text", "Count the users by status"))
    counts = one(driver, "p.counts").text
    assert counts.startswith(f"{BIG_USERS} users"), counts
    assert table_emails(driver) == [big_email(i) for i in range(PAGE_SIZE)]
    shoot(driver, screenshots, "users")

    # Email prefix and type, as a person would: type, choose, press Filter.
    from selenium.webdriver.support.ui import Select
    field = one(driver, "input[name=email]")
    field.clear()
    field.send_keys("U-01")  # case does not matter
    Select(one(driver, "select#type")).select_by_visible_text("SharedDevice")
    go(driver, "form[role=search] button[type=submit]")
    expected = [big_email(i) for i in range(1000, 2000) if big_type(i) == "SharedDevice"]
    assert len(expected) == 100
    assert table_emails(driver) == expected[:PAGE_SIZE]
    assert by_css(driver, "a[rel=prev]") == []
    shoot(driver, screenshots, "users-filtered")

    go(driver, "a[rel=next]")
    assert table_emails(driver) == expected[PAGE_SIZE:]
    assert by_css(driver, "a[rel=next]") == []  # the last page
    go(driver, "a[rel=prev]")
    assert table_emails(driver) == expected[:PAGE_SIZE]
    assert by_css(driver, "a[rel=prev]") == []

    # The whole filtered result, both pages, is what ListUsers filtered by type lists (less
    # the emails that do not contain "u-01", a filter ListUsers does not have).
    shown = table_emails(driver)
    go(driver, "a[rel=next]")
    shown += table_emails(driver)
    listed = [u["PrimaryEmail"] for u in list_all(client, AccountId=account_id,
                                                  UserType="SharedDevice")
              if "u-01" in u["PrimaryEmail"]]
    assert shown == listed

    # A narrow screen keeps the table readable.
    driver.set_window_size(390, 844)
    shoot(driver, screenshots, "users-narrow")
    driver.set_window_size(1280, 900)


def test_suspend_two_users_and_list_users_agrees(driver, belfry, tenant, client, chime_cli,
                                                 screenshots):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Desk"))["Account"]["AccountId"]
    emails = sorted(f"{unique('desk')}@example.com" for _ in range(4))
    client.invite_users(AccountId=account_id, UserEmailList=emails)
    sign_in(driver, endpoint, tenant)
    driver.get(f"{endpoint}/console/accounts/{account_id}/users")
    assert table_emails(driver) == emails
    chosen = emails[1:3]
    for address in chosen:
        one(driver, f"input[type=checkbox][aria-label='Select {address}']").click()
    # A third id that is no user of the account: BatchSuspendUser reports it in UserErrors,
    # and the page shows that report.
    driver.execute_script(
        """const box = document.createElement('input');
           box.type = 'checkbox'; box.name = 'user'; box.value = 'no-such-user'; box.checked = true;
           document.querySelector('#users tbody td').appendChild(box);""")
    go(driver, "button[value=suspend]")
    assert "Suspended 2 of 3 selected users." in one(driver, "p.notice").text
    errors = [[td.text for td in row.find_elements("css selector", "td")]
              for row in by_css(driver, "#user-errors tbody tr")]
    assert [e[:2] for e in errors] == [["no-such-user", "NotFound"]]
    shoot(driver, screenshots, "bulk-result")

    by_status = {u["PrimaryEmail"]: u["UserRegistrationStatus"]
                 for u in list_all(client, AccountId=account_id)}
    assert {e for e, s in by_status.items() if s == "Suspended"} == set(chosen)
    # What the reader checks: `aws chime list-users` sees the suspension too.
    listed = chime_cli("list-users", "--account-id", account_id)["Users"]
    assert sorted(u["PrimaryEmail"] for u in listed
                  if u["UserRegistrationStatus"] == "Suspended") == chosen

    # A license change of the two others goes through BatchUpdateUser.
    driver.get(f"{endpoint}/console/accounts/{account_id}/users")
    others = [emails[0], emails[3]]
    for address in others:
        one(driver, f"input[type=checkbox][aria-label='Select {address}']").click()
    from selenium.webdriver.support.ui import Select
    Select(one(driver, "select#new_license")).select_by_visible_text("Plus")
    go(driver, "button[value=license]")
    assert "Changed the license of 2 of 2 selected users." in one(driver, "p.notice").text
    licenses = {u["PrimaryEmail"]: u["LicenseType"] for u in list_all(client, AccountId=account_id)}
    assert sorted(e for e, lic in licenses.items() if lic == "Plus") == sorted(others)

    # And the other way round: a change through the API shows in the console at once.
    ids = {u["PrimaryEmail"]: u["UserId"] for u in list_all(client, AccountId=account_id)}
    client.batch_unsuspend_user(AccountId=account_id, UserIdList=[ids[chosen[0]]])
    driver.get(f"{endpoint}/console/accounts/{account_id}/users?status=Suspended")
    assert table_emails(driver) == [chosen[1]]


def test_invite_three_emails(driver, belfry, tenant, client, screenshots):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Invite"))["Account"]["AccountId"]
    emails = [f"{unique('new')}@example.com" for _ in range(3)]
    sign_in(driver, endpoint, tenant)
    driver.get(f"{endpoint}/console/accounts/{account_id}/users")
    one(driver, "textarea#emails").send_keys(f"{emails[0]}\n{emails[1]}, {emails[2]}")
    go(driver, "form[action$='/users/invite'] button")
    rows = [[td.text for td in row.find_elements("css selector", "td")]
            for row in by_css(driver, "#invites tbody tr")]
    assert rows == [[e, "Pending", "Sent"] for e in emails]
    shoot(driver, screenshots, "invite-result")
    users = {u["PrimaryEmail"]: u for u in list_all(client, AccountId=account_id)}
    assert set(users) == set(emails)
    assert {u["UserInvitationStatus"] for u in users.values()} == {"Pending"}


def test_user_page_changes_go_through_the_api(driver, belfry, tenant, client, screenshots):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("One"))["Account"]["AccountId"]
    address = f"{unique('one')}@example.com"
    client.invite_users(AccountId=account_id, UserEmailList=[address])
    user = list_all(client, AccountId=account_id)[0]
    sign_in(driver, endpoint, tenant)
    driver.get(f"{endpoint}/console/accounts/{account_id}/users")
    go(driver, lambda: driver.find_element("link text", address))
    assert one(driver, "h1").text == address
    shoot(driver, screenshots, "user")

    from selenium.webdriver.support.ui import Select
    Select(one(driver, "select#license")).select_by_visible_text("Basic")
    go(driver, "input[value=update] ~ button")
    assert one(driver, "p.notice").text == "User updated."
    assert client.get_user(AccountId=account_id, UserId=user["UserId"])["User"]["LicenseType"] \
        == "Basic"

    go(driver, "input[name=action][value=reset-pin] ~ button")
    assert one(driver, "p.notice").text == "Personal PIN reset."
    pin = client.get_user(AccountId=account_id, UserId=user["UserId"])["User"]["PersonalPIN"]
    assert pin != user["PersonalPIN"]
    # The PIN is not in plain view: a closed "Show PIN" disclosure reveals it.
    shown = one(driver, "details code")
    assert not shown.is_displayed()
    one(driver, "details summary").click()
    assert one(driver, "details summary").text == "Show PIN" and shown.text == pin

    # A number of the AWS account's inventory, associated and disassociated on the page.
    from support import provision
    # Unique to this run (from the suite's unique()), so no other test holds it.
    number = f"+1{random.choice([212, 312, 415, 617])}555{int(unique('n')[2:], 16) % 10000:04}"
    provision(client, number)
    one(driver, "input[name=e164]").send_keys(number)
    go(driver, "input[value=associate] ~ label ~ button")
    assert one(driver, "p.notice").text == "Phone number associated."
    got = client.get_user(AccountId=account_id, UserId=user["UserId"])["User"]
    assert got["PrimaryProvisionedNumber"] == number
    go(driver, "input[value=disassociate] ~ button")
    assert one(driver, "p.notice").text == "Phone number disassociated."
    assert "PrimaryProvisionedNumber" not in \
        client.get_user(AccountId=account_id, UserId=user["UserId"])["User"]

    # Rename the account in the console; GetAccount sees the new name.
    new_name = unique("Renamed")
    driver.get(f"{endpoint}/console/accounts/{account_id}")
    field = one(driver, "input[name=name]")
    field.clear()
    field.send_keys(new_name)
    go(driver, "input[value=rename] ~ button")
    assert one(driver, "p.notice").text == "Account renamed."
    assert client.get_account(AccountId=account_id)["Account"]["Name"] == new_name

    # Settings: turn dial-out off; GetAccountSettings agrees, and the page shows it.
    assert client.get_account_settings(AccountId=account_id)["AccountSettings"]["EnableDialOut"]
    one(driver, "input[name=enable_dial_out]").click()
    go(driver, "input[value=settings] ~ button")
    assert one(driver, "p.notice").text == "Settings saved."
    settings = client.get_account_settings(AccountId=account_id)["AccountSettings"]
    assert settings["EnableDialOut"] is False
    assert one(driver, "input[name=enable_dial_out]").is_selected() is False


def test_a_read_only_key_finds_no_write_control_and_a_forged_post_gets_403(
        driver, belfry, tenant, client, screenshots):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Ro"))["Account"]["AccountId"]
    address = f"{unique('ro')}@example.com"
    client.invite_users(AccountId=account_id, UserEmailList=[address])
    user_id = list_all(client, AccountId=account_id)[0]["UserId"]
    read_only = belfry.create_key(tenant.aws_account_id, read_only=True)
    sign_in(driver, endpoint, read_only)
    assert one(driver, ".badge").text == "read-only"
    for path in ("/console/accounts", f"/console/accounts/{account_id}",
                 f"/console/accounts/{account_id}/users",
                 f"/console/accounts/{account_id}/users/{user_id}"):
        driver.get(endpoint + path)
        # The one POST form is sign-out; no checkbox, text area or action button.
        forms = [f.get_attribute("action") for f in by_css(driver, "form[method=post]")]
        assert forms == [f"{endpoint}/console/signout"], (path, forms)
        assert by_css(driver, "input[type=checkbox], textarea, button[name=action]") == []
    shoot(driver, screenshots, "users-read-only")

    # A forged POST with this session's valid CSRF token is still refused.
    status = post_with_session(driver, endpoint, f"/console/accounts/{account_id}/users/bulk",
                            {"csrf": page_csrf(driver), "action": "suspend", "user": user_id})
    assert status == 403
    got = client.get_user(AccountId=account_id, UserId=user_id)["User"]
    assert got["UserRegistrationStatus"] != "Suspended"


def relative_luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def css_rgb(text: str):
    return tuple(int(v) for v in re.findall(r"\d+", text)[:3])


def test_the_focus_ring_contrasts_and_checkboxes_are_24px_on_a_narrow_screen(
        driver, belfry, tenant, client):
    from selenium.webdriver.common.keys import Keys
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Ally"))["Account"]["AccountId"]
    client.invite_users(AccountId=account_id, UserEmailList=[f"{unique('a11y')}@example.com"])
    sign_in(driver, endpoint, tenant)
    driver.get(f"{endpoint}/console/accounts/{account_id}/users")
    # Tab to the first link of the header band, then to one on the page: the ring as drawn.
    one(driver, "body").send_keys(Keys.TAB)
    for _ in range(40):
        focused = driver.switch_to.active_element
        inside = driver.execute_script(
            "return arguments[0].closest('header') ? 'header' : arguments[0].closest('main') ? 'main' : ''",
            focused)
        if inside:
            ring = css_rgb(driver.execute_script(
                "return getComputedStyle(arguments[0]).outlineColor", focused))
            behind = css_rgb(driver.execute_script(
                "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor",
                "header" if inside == "header" else "body"))
            if behind == (0, 0, 0) and inside == "main":
                behind = (255, 255, 255)  # a transparent body: the white canvas
            assert contrast(ring, behind) >= 3, (inside, ring, behind)
        focused.send_keys(Keys.TAB)
    driver.set_window_size(360, 800)
    try:
        driver.get(f"{endpoint}/console/accounts/{account_id}/users")
        boxes = by_css(driver, "#users input[type=checkbox]")
        assert boxes
        for box in boxes:
            size = box.size
            assert size["width"] >= 24 and size["height"] >= 24, size
    finally:
        driver.set_window_size(1280, 900)


def test_responses_are_nosniff_and_an_empty_page_after_a_key_shows_the_first(
        belfry, tenant, client):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Empty"))["Account"]["AccountId"]
    emails = sorted(f"{unique('e')}@example.com" for _ in range(3))
    client.invite_users(AccountId=account_id, UserEmailList=emails)
    http = http_sign_in(endpoint, tenant)
    users = f"{endpoint}/console/accounts/{account_id}/users"
    first = http.get(users)
    for response in (first, http.get(f"{endpoint}/console/console.css"),
                     http.get(f"{endpoint}/console/signin"),
                     http.get(f"{endpoint}/console/accounts/{account_id}/export")):
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
    # Past the last user (they went meanwhile, or a made-up link): the first page, as the
    # page before the first one does.
    for position in ("after", "before"):
        empty = http.get(users, params={position: "~" if position == "after" else "!"})
        assert re.findall(r'<td><a href="[^"]+">([^<]+)</a>', empty.text) == emails, position


def test_a_post_without_the_csrf_token_is_refused(driver, belfry, tenant, client):
    endpoint = belfry.endpoint
    sign_in(driver, endpoint, tenant)
    name = unique("Forged")
    for fields in ({"name": name}, {"name": name, "csrf": "not-the-token"}):
        assert post_with_session(driver, endpoint, "/console/accounts", fields) == 403
    assert name not in [a["Name"] for a in client.list_accounts()["Accounts"]]
    # The same form with the token goes through.
    assert post_with_session(driver, endpoint, "/console/accounts",
                             {"name": name, "csrf": page_csrf(driver)}) == 303
    assert name in [a["Name"] for a in client.list_accounts()["Accounts"]]


def test_sign_out_ends_the_session(driver, belfry, tenant, screenshots):
    endpoint = belfry.endpoint
    sign_in(driver, endpoint, tenant)
    cookie = driver.get_cookie("belfry_console")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    go(driver, "header form button")
    assert driver.current_url == f"{endpoint}/console/signin"
    shoot(driver, screenshots, "signin")
    # The old cookie, put back, signs nobody in: the session is gone from the store.
    driver.add_cookie({"name": "belfry_console", "value": cookie["value"], "path": "/console"})
    driver.get(f"{endpoint}/console/accounts")
    assert driver.current_url == f"{endpoint}/console/signin"


def test_sign_in_refuses_a_wrong_secret_and_throttles_guesses(belfry, tenant):
    """Without a browser: the form's token cookie, a wrong secret (401), then 429."""
    endpoint = belfry.endpoint
    http = requests.Session()

    def attempt(key, secret: str) -> requests.Response:
        form = http.get(f"{endpoint}/console/signin")
        token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
        return http.post(f"{endpoint}/console/signin", allow_redirects=False, data={
            "form_token": token, "access_key_id": key.access_key_id,
            "secret_access_key": secret})

    wrong = attempt(tenant, "x" * 40)
    assert wrong.status_code == 401
    assert "x" * 40 not in wrong.text
    statuses = [attempt(tenant, "y" * 40).status_code for _ in range(12)]
    assert 429 in statuses, statuses
    statuses_real = [wrong.status_code] + statuses
    # Once throttled, even the right secret waits: guessing is as slow as the rate.
    assert attempt(tenant, tenant.secret_access_key).status_code == 429
    # Another key is not held up by this one's attempts, and signs in.
    other = belfry.create_key()
    signed_in = attempt(other, other.secret_access_key)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/console/accounts"
    assert "belfry_console" in http.cookies
    # Signing in again from the same browser ends its previous session.
    previous = http.cookies["belfry_console"]
    assert attempt(other, other.secret_access_key).status_code == 303
    assert http.cookies["belfry_console"] != previous
    stale = requests.get(f"{endpoint}/console/accounts", allow_redirects=False,
                         cookies={"belfry_console": previous})
    assert stale.status_code == 303 and stale.headers["Location"] == "/console/signin"
    assert http.get(f"{endpoint}/console/accounts").status_code == 200
    # A made-up key id is refused as a wrong secret is, and throttled as a real one is: the
    # replies do not tell which ids exist.
    from support import Key
    made_up = Key("AKIA" + unique("z").upper().replace("-", "")[:16].ljust(16, "Z"),
                  "z" * 40, "000000000000")
    made_up_statuses = [attempt(made_up, made_up.secret_access_key).status_code
                        for _ in range(13)]
    assert made_up_statuses == statuses_real, (made_up_statuses, statuses_real)
    # The typed id is never logged raw.
    assert made_up.access_key_id not in belfry.log_path.read_text()
    # A sign-in form posted without its token cookie is refused.
    assert requests.post(f"{endpoint}/console/signin", allow_redirects=False, data={
        "form_token": "forged", "access_key_id": other.access_key_id,
        "secret_access_key": other.secret_access_key}).status_code == 403


def test_the_console_is_off_with_console_off(bin_path, tmp_path, fresh_store):
    from support import start_server
    server = start_server(bin_path, tmp_path, fresh_store, demo=False,
                          extra_args=["--console", "off"])
    try:
        response = requests.get(f"{server.endpoint}/console/signin", allow_redirects=False)
        # Off, /console/ is just another path the Chime API has no operation for.
        assert response.status_code != 200 and "Sign in" not in response.text
    finally:
        assert server.stop() == 0


def http_sign_in(endpoint: str, key) -> requests.Session:
    """Signs `key` in without a browser: a requests session holding the session cookie."""
    http = requests.Session()
    form = http.get(f"{endpoint}/console/signin")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    signed_in = http.post(f"{endpoint}/console/signin", allow_redirects=False, data={
        "form_token": token, "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key})
    assert signed_in.status_code == 303, signed_in.text
    return http


def test_the_console_calls_are_throttled_like_the_api_and_logged_with_the_key(
        bin_path, tmp_path, fresh_store):
    """A key over its rate gets a "slow down" page (429) from the console as from the API, and
    the console's request lines name the key."""
    from support import start_server
    server = start_server(bin_path, tmp_path, fresh_store, demo=False, extra_args=[
        "--rate-limit", "1/h", "--burst", "1", "--throttle-max-wait-ms", "0"])
    try:
        http = http_sign_in(server.endpoint, server.root)
        statuses = [http.get(f"{server.endpoint}/console/accounts") for _ in range(3)]
        assert statuses[0].status_code == 200
        throttled = statuses[-1]
        assert throttled.status_code == 429, [r.status_code for r in statuses]
        assert "Slow down" in throttled.text
        assert int(throttled.headers["Retry-After"]) >= 1
        # The API refuses the same key: one bucket for both.
        api = chime_client(server.endpoint, server.root)
        with pytest.raises(Exception) as refused:
            api.list_accounts()
        assert "Throttl" in str(refused.value) or "429" in str(refused.value), refused.value
    finally:
        assert server.stop() == 0
    log = server.log_path.read_text()
    console_lines = [line for line in log.splitlines() if "console" in line
                     and "/console/accounts" in line]
    assert console_lines and all(server.root.access_key_id in line for line in console_lines), \
        console_lines


def test_a_failed_batch_of_a_bulk_action_is_reported_per_user_and_the_others_go_on(
        admin_server):
    """120 users suspended in batches of 50: a fault fails some BatchSuspendUser calls; the
    page names every user of a failed batch with its error and the other batches apply."""
    from support import admin
    server = admin_server
    key = server.create_key()
    client = chime_client(server.endpoint, key)
    account_id = client.create_account(Name=unique("Chunks"))["Account"]["AccountId"]
    emails = [f"{unique('chunk')}@example.com" for _ in range(120)]
    for at in range(0, len(emails), 50):
        client.invite_users(AccountId=account_id, UserEmailList=emails[at:at + 50])
    ids = [u["UserId"] for u in list_all(client, AccountId=account_id)]
    http = http_sign_in(server.endpoint, key)
    page = http.get(f"{server.endpoint}/console/accounts/{account_id}/users")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    # Half of the calls fail, by a seeded draw (seed 1: some of the three batches fail, some not).
    rule = admin(server, "POST", "/_belfry/faults", {
        "operation": "BatchSuspendUser", "error": "ServiceFailure", "probability": 0.5,
        "seed": 1})
    assert rule.status_code in (200, 201), rule.text
    done = http.post(f"{server.endpoint}/console/accounts/{account_id}/users/bulk",
                     data={"csrf": csrf, "action": "suspend", "user": ids})
    assert done.status_code == 200, done.text
    reported = re.findall(r"<tr><td><code>([^<]+)</code></td><td>ServiceFailure</td>", done.text)
    suspended = [u["UserId"] for u in list_all(client, AccountId=account_id)
                 if u["UserRegistrationStatus"] == "Suspended"]
    # Every user is either suspended or reported, never both, and some of each.
    assert sorted(reported + suspended) == sorted(ids)
    assert reported and suspended, (len(reported), len(suspended))
    assert f"Suspended {len(suspended)} of {len(ids)} selected users." in done.text


def page_csrf_of(http: requests.Session, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', http.get(url).text).group(1)


def test_an_upload_carries_its_csrf_token_in_the_form_one_import_runs_per_key_and_read_only_keys_get_403(
        belfry, tenant, client):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Uploads"))["Account"]["AccountId"]
    account_page = f"{endpoint}/console/accounts/{account_id}"
    upload_url = f"{account_page}/import"
    http = http_sign_in(endpoint, tenant)
    csrf = page_csrf_of(http, account_page)
    prefix = unique("many")
    big_file = "".join(f'{{"PrimaryEmail":"{prefix}-{i}@example.com"}}\n' for i in range(60_000))
    small_file = f'{{"PrimaryEmail":"{unique("one")}@example.com"}}\n'

    def upload(session, token, text, **extra):
        fields = {"file": ("users.jsonl", text, "application/x-ndjson")}
        if token is not None:
            fields["csrf"] = (None, token)
        return session.post(upload_url, files=fields, allow_redirects=False, **extra)

    # The token travels as a field of the form, not in its URL; without it: 403.
    assert f'action="/console/accounts/{account_id}/import"' in http.get(account_page).text
    assert upload(http, None, small_file, params={"csrf": csrf}).status_code == 403
    # One import at a time per key: a second upload while the first runs is refused (409).
    first = upload(http, csrf, big_file)
    assert first.status_code == 303, first.text
    second = upload(http, csrf, small_file)
    assert second.status_code == 409, second.status_code
    assert "still running" in second.text
    job_page = endpoint + first.headers["Location"]
    for _ in range(600):
        progress = http.get(job_page)
        if "Created " in progress.text:
            break
        # While it runs, the page reloads itself no more often than every 5 s, and has a link.
        assert int(progress.headers["Refresh"]) >= 5
        assert ">Check progress now</a>" in progress.text
        time.sleep(0.2)
    assert upload(http, csrf, small_file).status_code == 303
    # A read-only key of the same AWS account: its forged upload, with its own valid token,
    # gets 403 and imports nothing.
    read_only = belfry.create_key(tenant.aws_account_id, read_only=True)
    ro = http_sign_in(endpoint, read_only)
    ro_csrf = page_csrf_of(ro, f"{endpoint}/console/accounts")
    before = len(list_all(client, AccountId=account_id))
    forged_file = f'{{"PrimaryEmail":"{unique("forged")}@example.com"}}\n'
    assert upload(ro, ro_csrf, forged_file).status_code == 403
    assert len(list_all(client, AccountId=account_id)) == before


def test_import_an_uploaded_file_shows_progress_then_the_per_line_report(
        driver, belfry, tenant, client, tmp_path, screenshots):
    from selenium.webdriver.support.ui import WebDriverWait
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Upload"))["Account"]["AccountId"]
    good = [f"{unique('imp')}@example.com" for _ in range(4)]
    path = tmp_path / "users.csv"
    # Line 6 sets what no API call lets a caller set (a PIN, a status, a number): the console
    # imports as the signed-in key, so it refuses that line.
    path.write_text("PrimaryEmail,UserType,LicenseType,PersonalPIN,UserRegistrationStatus,"
                    "PrimaryProvisionedNumber\n"
                    f"{good[0]},PrivateUser,Basic,,,\n"
                    "not-an-email,PrivateUser,Pro,,,\n"
                    f"{good[1]},SharedDevice,Pro,,,\n"
                    f"{good[2]},PrivateUser,NoSuchLicense,,,\n"
                    f"{good[3]},PrivateUser,Pro,0123456789,Registered,+12065550199\n")
    sign_in(driver, endpoint, tenant)
    driver.get(f"{endpoint}/console/accounts/{account_id}")
    one(driver, "input[type=file]").send_keys(str(path))
    go(driver, "form[enctype='multipart/form-data'] button")
    assert re.search(r"/console/accounts/[^/]+/imports/[^/]+$", driver.current_url), \
        driver.find_element("css selector", "main").text
    # The page reloads itself until the report is there.
    WebDriverWait(driver, 60).until(lambda d: d.find_elements("css selector", "p.notice"))
    assert one(driver, "p.notice").text == "Created 2, updated 0, not imported 3."
    report = [[td.text for td in row.find_elements("css selector", "td")]
              for row in by_css(driver, "#import-report tbody tr")]
    assert [line for line, _ in report] == ["3", "5", "6"]
    assert report[2][1].startswith(
        "PrimaryProvisionedNumber, UserRegistrationStatus, PersonalPIN cannot be set here"), report
    shoot(driver, screenshots, "import-report")
    users = {u["PrimaryEmail"]: u for u in list_all(client, AccountId=account_id)}
    assert set(users) == {good[0], good[1]}
    assert users[good[0]]["LicenseType"] == "Basic"
    assert users[good[1]]["UserType"] == "SharedDevice"


def test_export_downloads_what_list_users_lists(driver, belfry, tenant, client):
    endpoint = belfry.endpoint
    account_id = client.create_account(Name=unique("Export"))["Account"]["AccountId"]
    emails = sorted(f"{unique('exp')}@example.com" for _ in range(3))
    client.invite_users(AccountId=account_id, UserEmailList=emails)
    sign_in(driver, endpoint, tenant)
    cookie = driver.get_cookie("belfry_console")["value"]
    got = requests.get(f"{endpoint}/console/accounts/{account_id}/export?format=jsonl",
                       cookies={"belfry_console": cookie})
    assert got.status_code == 200
    assert got.headers["Content-Disposition"].startswith("attachment;")
    import json
    exported = [json.loads(line) for line in got.text.splitlines()]
    listed = list_all(client, AccountId=account_id)
    assert [(u["UserId"], u["PrimaryEmail"], u["PersonalPIN"]) for u in exported] == \
        [(u["UserId"], u["PrimaryEmail"], u["PersonalPIN"]) for u in listed]
    assert [u["PrimaryEmail"] for u in exported] == emails


def test_rooms_bots_and_phone_numbers_read_pages(driver, belfry, demo, demo_client, screenshots):
    """The demo account's rooms, members, bot and numbers, as the API lists them."""
    endpoint = belfry.endpoint
    account_id = demo.demo_account_id
    sign_in(driver, endpoint, demo.demo_key)
    driver.get(f"{endpoint}/console/accounts/{account_id}")
    go(driver, lambda: driver.find_element("link text", "Rooms"))
    rooms = demo_client.list_rooms(AccountId=account_id)["Rooms"]
    assert [a.text for a in by_css(driver, "#rooms tbody a")] == [r["Name"] for r in rooms]
    shoot(driver, screenshots, "rooms")
    go(driver, lambda: driver.find_element("link text", rooms[0]["Name"]))
    members = demo_client.list_room_memberships(AccountId=account_id,
                                                RoomId=rooms[0]["RoomId"])["RoomMemberships"]
    shown = [row.find_elements("css selector", "td")[0].text
             for row in by_css(driver, "#memberships tbody tr")]
    assert shown == [m["Member"].get("Email", "") for m in members]

    driver.get(f"{endpoint}/console/accounts/{account_id}/bots")
    bots = demo_client.list_bots(AccountId=account_id)["Bots"]
    assert [a.text for a in by_css(driver, "#bots tbody a")] == [b["DisplayName"] for b in bots]
    go(driver, lambda: driver.find_element("link text", bots[0]["DisplayName"]))
    assert bots[0]["BotEmail"] in driver.page_source
    assert bots[0]["SecurityToken"] not in driver.page_source  # a secret: never rendered

    driver.get(f"{endpoint}/console/phone-numbers?account={account_id}")
    numbers = demo_client.list_phone_numbers(FilterName="AccountId",
                                             FilterValue=account_id)["PhoneNumbers"]
    assert [a.text for a in by_css(driver, "#phone-numbers tbody a")] == \
        [n["E164PhoneNumber"] for n in numbers]
    shoot(driver, screenshots, "phone-numbers")


def test_a_key_of_another_aws_account_gets_none_of_an_accounts_pages(belfry, demo, demo_client):
    """Every console URL naming an account, user, room, bot, number or import job of the demo
    AWS account, asked by a key of another AWS account: 403 or 404, and none of the data."""
    endpoint = belfry.endpoint
    account_id = demo.demo_account_id
    account = demo_client.get_account(AccountId=account_id)["Account"]
    user = list_all(demo_client, AccountId=account_id)[0]
    room = demo_client.list_rooms(AccountId=account_id)["Rooms"][0]
    bot = demo_client.list_bots(AccountId=account_id)["Bots"][0]
    number = demo_client.list_phone_numbers()["PhoneNumbers"][0]["E164PhoneNumber"]
    # An import job of the demo key's (an empty file: it changes nothing).
    owner = http_sign_in(endpoint, demo.demo_key)
    owner_csrf = page_csrf_of(owner, f"{endpoint}/console/accounts/{account_id}")
    started = owner.post(f"{endpoint}/console/accounts/{account_id}/import", files={
        "csrf": (None, owner_csrf), "file": ("empty.jsonl", "", "application/x-ndjson")},
        allow_redirects=False)
    assert started.status_code == 303, started.text
    job_path = started.headers["Location"]
    assert owner.get(endpoint + job_path).status_code == 200

    stranger = http_sign_in(endpoint, belfry.create_key())
    csrf = page_csrf_of(stranger, f"{endpoint}/console/accounts")
    base = f"/console/accounts/{account_id}"
    gets = [base, f"{base}/users", f"{base}/users/{user['UserId']}", f"{base}/rooms",
            f"{base}/rooms/{room['RoomId']}", f"{base}/bots", f"{base}/bots/{bot['BotId']}",
            f"{base}/export", f"{base}/export?format=csv", job_path,
            f"/console/phone-numbers/{number}", f"/console/phone-numbers?account={account_id}"]
    posts = [(base, {"action": "rename", "name": "Taken"}),
             (f"{base}/users/bulk", {"action": "suspend", "user": user["UserId"]}),
             (f"{base}/users/invite", {"emails": "new@example.com"}),
             (f"{base}/users/{user['UserId']}", {"action": "reset-pin"})]
    secrets_of_the_account = [account["Name"], user["PrimaryEmail"], user["PersonalPIN"],
                              room["Name"], bot["DisplayName"], bot["BotEmail"]]
    answers = [(path, stranger.get(endpoint + path, allow_redirects=False)) for path in gets]
    answers += [(path, stranger.post(endpoint + path, data={"csrf": csrf, **fields},
                                     allow_redirects=False)) for path, fields in posts]
    answers.append((f"{base}/import", stranger.post(
        f"{endpoint}{base}/import", allow_redirects=False,
        files={"csrf": (None, csrf), "file": ("u.jsonl", '{"PrimaryEmail":"x@example.com"}\n')})))
    for path, answer in answers:
        assert answer.status_code in (403, 404), (path, answer.status_code)
        leaked = [s for s in secrets_of_the_account if s and s in answer.text]
        assert leaked == [], (path, leaked)
    # The phone-number list filtered by the account shows none of its numbers.
    listed = stranger.get(f"{endpoint}/console/phone-numbers?account={account_id}").text
    assert number not in listed
    # Nothing changed.
    assert demo_client.get_account(AccountId=account_id)["Account"]["Name"] == account["Name"]
    assert demo_client.get_user(AccountId=account_id, UserId=user["UserId"])["User"] == user


def test_x_forwarded_proto_https_makes_the_cookies_secure(belfry, tenant):
    endpoint = belfry.endpoint
    https = {"X-Forwarded-Proto": "https"}
    plain = http_sign_in(endpoint, tenant)
    form = requests.get(f"{endpoint}/console/signin", headers=https)
    assert "Secure" in form.headers["Set-Cookie"]
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    signed_in = requests.post(f"{endpoint}/console/signin", headers=https, allow_redirects=False,
                              cookies={c.name: c.value for c in form.cookies}, data={
                                  "form_token": token, "access_key_id": tenant.access_key_id,
                                  "secret_access_key": tenant.secret_access_key})
    assert signed_in.status_code == 303
    session_cookie = [c for c in signed_in.raw.headers.getlist("Set-Cookie")
                      if c.startswith("belfry_console=")]
    assert session_cookie and "; Secure" in session_cookie[0], session_cookie
    # Over plain HTTP, no Secure flag (the browser would not send it back).
    assert all(not c.secure for c in plain.cookies)

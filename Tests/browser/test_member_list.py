"""Issue 16 in the web client: the member list in pages, in a real Chromium session on a real server.

Alice (the owner, in the browser) and 104 members registered by protocol clients: 105 members, more than the
panel's page of 100. The panel shows the counts and a pager; the second page hears its members' presence, and a
member coming online on the page not shown only moves the online count.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from browserkit import PyClient, new_identity, running_server
from webkit import COMMUNE_BIN, join, people  # noqa: F401 - fixtures: this module's own

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

MEMBERS = 104


@pytest.fixture(scope="module")
def server():
    # 104 registrations from one address at once: the test's, not a person's.
    with running_server(COMMUNE_BIN, ("--no-rate-limits",)) as srv:
        yield srv


def register_members(server, count: int) -> dict:
    """m000 … m{count - 1}, registered by protocol clients and gone offline again: name → identity."""
    made = {}
    invite = server.invite(uses=count)
    for index in range(count):
        name = f"m{index:03d}"
        client = PyClient(server.url.replace("http", "ws"), new_identity())
        client.register(invite, name)
        client.close()
        made[name] = client.identity
    return made


@pytest.fixture(scope="module")
def identities(server):
    """m000 … m103: name → identity."""
    return register_members(server, MEMBERS)


@pytest.fixture(scope="module")
def alice(server, people, identities):
    browser = people("alice")
    join(browser, server.owner_invite, "Alice")
    return browser


# Each read is one script, so that the panel drawn anew between two WebDriver calls cannot leave a stale element.
def texts(browser, selector: str) -> list[str]:
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), el => el.textContent.trim());", selector
    )


def click(browser, selector: str) -> None:
    """Clicks the element selector finds, finding it again if the panel was drawn anew in between (at most 5 times)."""
    for attempt in range(5):
        try:
            browser.one(selector).click()
            return
        except StaleElementReferenceException:
            if attempt == 4:
                raise


def disabled(browser, selector: str) -> bool:
    return browser.driver.execute_script("const b = document.querySelector(arguments[0]); return !!b && b.disabled;", selector)


def panel_names(browser) -> list[str]:
    return texts(browser, "#member-list .member .member-name")


def online_names(browser) -> list[str]:
    return texts(browser, "#member-list .members-online .member-name")


def counts(browser) -> str:
    return "".join(texts(browser, "#member-list .member-counts"))


def log_in(server, identity) -> PyClient:
    client = PyClient(server.url.replace("http", "ws"), identity)
    client.login()
    return client


def test_the_panel_shows_a_page_with_the_counts_and_pages_on(alice, server, identities):
    alice.wait(lambda _: counts(alice) == "105 members, 1 online", message=f"counts: {counts(alice)!r}")
    alice.wait(lambda _: len(panel_names(alice)) == 100, message=f"page 1 shows {len(panel_names(alice))} members")
    assert texts(alice, "#member-list .member-page-range") == ["1–100 of 105"]
    names = panel_names(alice)
    assert names[0] == "Alice" and names[-1] == "m098", names
    assert disabled(alice, "#member-list .member-page-prev")

    click(alice, "#member-list .member-page-next")
    alice.wait(lambda _: panel_names(alice) == ["m099", "m100", "m101", "m102", "m103"], message=f"page 2: {panel_names(alice)}")
    assert texts(alice, "#member-list .member-page-range") == ["101–105 of 105"]
    assert disabled(alice, "#member-list .member-page-next")
    alice.screenshot("member-list-page-2.png")


def test_the_page_shown_hears_its_members_and_the_rest_only_moves_the_count(alice, server, identities):
    # On page 2 (the test before): m101 comes online there; m005, on page 1, only changes the count.
    if panel_names(alice)[:1] != ["m099"]:
        click(alice, "#member-list .member-page-next")
        alice.wait(lambda _: panel_names(alice)[:1] == ["m099"])
    on_page = log_in(server, identities["m101"])
    alice.wait(lambda _: online_names(alice) == ["m101"], message=f"online on page 2: {online_names(alice)}")
    elsewhere = log_in(server, identities["m005"])
    alice.wait(lambda _: counts(alice) == "105 members, 3 online", message=f"counts: {counts(alice)!r}")
    assert online_names(alice) == ["m101"]

    # Back on page 1, m005 shows online (read afresh), and m101 is on the other page.
    click(alice, "#member-list .member-page-prev")
    alice.wait(lambda _: "m005" in online_names(alice), message=f"online on page 1: {online_names(alice)}")
    assert "m101" not in panel_names(alice)
    # m005 leaving now reaches page 1 as presence.
    elsewhere.close()
    alice.wait(lambda _: "m005" not in online_names(alice), message="m005 still shown online")
    on_page.close()
    alice.wait(lambda _: counts(alice) == "105 members, 1 online", message=f"counts: {counts(alice)!r}")
    alice.screenshot("member-list-page-1.png")
    assert not alice.severe_console_errors()

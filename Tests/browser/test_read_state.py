"""Read state in the web client, kept by the server: one member on two browsers (the second imported the first's
identity) and a sender on the CLI. Unread counts in the sidebar, the tab's title and its icon come from the server, reading a
channel on one browser clears it on the other within seconds, a reload keeps what was read and what was not, and
`commune channels` shows the same counts.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from browserkit import Browser
from webkit import COMMUNE_BIN, GENERAL, open_channel, server  # noqa: F401 - server: this module's own community

pytestmark = pytest.mark.skipif(
    not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"
)


@pytest.fixture(scope="module")
def browsers():
    made: list[Browser] = []

    def make(name: str) -> Browser:
        browser = Browser(name)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.quit()


def cli(*args: str) -> str:
    done = subprocess.run([COMMUNE_BIN, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def import_identity(browser: Browser, url: str, identity: Path) -> None:
    """Opens the web client at url on the welcome screen and signs in with an identity file (the CLI's format)."""
    browser.driver.get(url)
    browser.wait_screen("welcome")
    browser.one("#welcome-import").send_keys(str(identity))
    browser.wait_screen("main")
    browser.wait(lambda _: browser.connection() == "online")


def badge(browser: Browser, channel: str) -> int:
    """The unread count the sidebar shows on a channel (0 without a badge)."""
    text = browser.driver.execute_script(
        "const li = Array.from(document.querySelectorAll('#channel-tree li.channel'))"
        ".find(li => li.querySelector('.channel-name').textContent === arguments[0]);"
        "const b = li && li.querySelector('.badge'); return b ? b.textContent : '';",
        channel,
    )
    return int(text.rstrip("+")) if text else 0


def favicon(browser: Browser) -> str:
    return browser.driver.execute_script("return document.querySelector(\"link[rel='icon']\").getAttribute('href')")


def test_read_on_one_browser_clears_the_other(server, browsers):
    laptop = browsers("alice-laptop")
    laptop.join(server.owner_invite, "Alice")
    laptop.one("#banner-export").click()
    laptop.wait(lambda _: any(p.suffix == ".json" for p in laptop.downloads.iterdir()), message="no identity file")
    exported = next(p for p in laptop.downloads.iterdir() if p.suffix == ".json")

    phone = browsers("alice-phone")
    import_identity(phone, server.url, exported)
    # Both read the rules; General is elsewhere.
    for browser in (laptop, phone):
        open_channel(browser, "Rules")

    bob = Path(tempfile.mkdtemp(prefix="commune-read-state-")) / "bob.json"
    cli("join", server.invite(), "--name", "Bob", "--identity", str(bob))
    for text in ("one", "two", "three"):
        cli("send", GENERAL, text, "--identity", str(bob))
    for browser in (laptop, phone):
        browser.wait(lambda _, b=browser: badge(b, "General") == 3, message=f"{browser.name}: General does not show 3 unread")
        browser.wait(lambda _, b=browser: b.driver.title.startswith("(3) "), message=f"{browser.name}: title {browser.driver.title!r}")
        assert "%3E3%3C%2Ftext%3E" in favicon(browser), favicon(browser)  # the badge says 3

    # Read on the phone: the laptop's count clears by itself (the phone marks read within ~2 s, the server tells the
    # laptop at once).
    open_channel(phone, "General")
    phone.wait_message("three")
    assert badge(phone, "General") == 0
    laptop.wait(lambda _: badge(laptop, "General") == 0, timeout=8, message="the laptop still shows General unread")
    laptop.wait(lambda _: not laptop.driver.title.startswith("("), message=f"title {laptop.driver.title!r}")
    assert favicon(laptop) == "/favicon.svg"

    # Two more while the phone reads Rules again; the laptop reloads: the server's counts, not the page's, show.
    open_channel(phone, "Rules")
    for text in ("four", "five"):
        cli("send", GENERAL, text, "--identity", str(bob))
    laptop.wait(lambda _: badge(laptop, "General") == 2, message="the laptop does not count the new messages")
    laptop.driver.refresh()
    laptop.wait_screen("main")
    laptop.wait(lambda _: laptop.connection() == "online")
    laptop.wait(lambda _: badge(laptop, "General") == 2, message="after a reload the laptop lost the unread count")
    assert badge(laptop, "Rules") == 0
    laptop.screenshot("read-state-unread.png")
    # The CLI, as Alice, counts the same.
    listed = cli("channels", "--identity", str(exported))
    assert any(line.strip().startswith("General  [text]") and line.endswith("(2 unread)") for line in listed.splitlines()), listed
    assert not any("Rules" in line and "unread" in line for line in listed.splitlines()), listed

    # Alice answers from the CLI: having written, she has read up to her message, so neither browser counts it nor
    # the two before it (PROTOCOL, mark_read: sending marks read), and a reload asks the server, which agrees.
    cli("send", GENERAL, "mine", "--identity", str(exported))
    for browser in (laptop, phone):
        browser.wait(lambda _, b=browser: badge(b, "General") == 0, message=f"{browser.name}: Alice's own message counts as unread")
    listed = cli("channels", "--identity", str(exported))
    assert not any("unread" in line for line in listed.splitlines()), listed
    laptop.driver.refresh()
    laptop.wait_screen("main")
    laptop.wait(lambda _: laptop.connection() == "online")
    cli("send", GENERAL, "six", "--identity", str(bob))
    laptop.wait(lambda _: badge(laptop, "General") == 1, message="after a reload, General does not show just Bob's newest")

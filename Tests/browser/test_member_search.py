"""Issue 16 in the web client: finding members the page never loaded, and a page that stays right after a join.

Alice (the owner, in the browser) and 150 members registered by protocol clients, m000 … m149: the panel's first
page holds Alice and m000 … m098, so m099 … m149 are never loaded unless asked for. The composer's "@" autocomplete
and the search's author filter ask the server (get_members {query}); a member joining ahead of the page shown moves
it, and the panel reads it again after member_counts' changed_from.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from browserkit import PyClient, new_identity
# Fixtures too: the server, and Alice (the owner) in the browser, with this module's identities.
from test_member_list import alice, counts, panel_names, register_members, server, texts  # noqa: F401
from webkit import COMMUNE_BIN, open_channel, people  # noqa: F401 - fixtures: this module's own

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

MEMBERS = 150


@pytest.fixture(scope="module")
def identities(server):
    """m000 … m149: name → identity."""
    return register_members(server, MEMBERS)


def first_page_only(browser) -> None:
    """The panel still shows page 1 (Alice … m098), and nothing on page 2 was drawn in it."""
    browser.wait(lambda _: len(panel_names(browser)) == 100, message="the panel's first page is not shown")
    names = panel_names(browser)
    assert names[0] == "Alice" and names[-1] == "m098" and len(names) == 100, names
    assert texts(browser, "#member-list .member-page-range") == ["1–100 of 151"]


def test_the_mention_autocomplete_finds_members_the_page_never_loaded(alice, identities):
    first_page_only(alice)
    open_channel(alice, "General")
    box = alice.one("#composer-input")
    box.click()
    box.send_keys("hi @m12")
    wanted = [f"m{index}" for index in range(120, 130)]
    alice.wait(lambda _: texts(alice, "#mention-menu li.mention-option") == wanted,
               message=f"the menu: {texts(alice, '#mention-menu li.mention-option')}")
    alice.screenshot("member-search-mention.png")
    box.send_keys(Keys.ENTER)
    assert box.get_attribute("value") == f"hi <@{identities['m120']['user_id']}> "
    alice.driver.execute_script("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'))", box)
    # The search did not change the page the panel shows (nor its counts).
    first_page_only(alice)
    assert counts(alice) == "151 members, 1 online"


def test_the_author_filter_finds_a_member_on_page_two(alice, server, identities):
    writer = PyClient(server.url.replace("http", "ws"), identities["m140"])
    writer.login()
    writer.send_message("General", "General", "wombat burrow")
    writer.close()
    alice.one("#open-search").click()

    def found(author_prefix: str, first: str) -> int:
        """Types author_prefix in the author finder, checks that `first` is chosen, searches "wombat"."""
        finder = alice.wait_visible("#search-author-find")
        finder.clear()
        finder.send_keys(author_prefix)
        wanted = identities[first]["user_id"]
        alice.wait(lambda _: alice.driver.execute_script("return document.getElementById('search-author').value") == wanted,
                   message=f"{first} not chosen as the author for {author_prefix!r}")
        box = alice.wait_visible("#search-input")
        box.clear()
        box.send_keys("wombat", Keys.ENTER)
        alice.wait(lambda _: "Searching" not in alice.one("#search-status").text and (
            alice.css("#search-results .search-result") or alice.one("#search-status").text), message="the search did not finish")
        return len(alice.css("#search-results .search-result"))

    assert found("m14", "m140") == 1
    options = alice.driver.execute_script("return Array.from(document.querySelectorAll('#search-author option'), o => o.textContent)")
    assert options == ["Anyone"] + [f"By m{index}" for index in range(140, 150)], options
    alice.screenshot("member-search-author.png")
    assert found("m141", "m141") == 0
    alice.one("#search-author-find").clear()
    alice.one("#search-input").send_keys(Keys.ESCAPE)
    first_page_only(alice)


def test_a_join_ahead_of_the_page_shown_moves_it_within_a_second(alice, server):
    alice.one("#member-list .member-page-next").click()
    alice.wait(lambda _: panel_names(alice)[:1] == ["m099"], message=f"page 2: {panel_names(alice)[:3]}")
    assert len(panel_names(alice)) == 51
    # "a-newbie" sorts second (after "Alice"): every place after it moves by one, page 2 now starts with m098.
    newcomer = PyClient(server.url.replace("http", "ws"), new_identity())
    newcomer.register(server.invite(), "a-newbie")
    newcomer.close()
    alice.wait(lambda _: panel_names(alice)[:1] == ["m098"] and len(panel_names(alice)) == 52,
               message=f"page 2 after the join: {panel_names(alice)[:3]} … ({len(panel_names(alice))})")
    assert texts(alice, "#member-list .member-page-range") == ["101–152 of 152"]
    assert not alice.severe_console_errors()


def test_the_cli_searches_members_by_the_start_of_their_name(server, identities):
    """`commune members --search PREFIX`: every member whose name starts with it; a refused prefix exits with the error."""
    identity = Path(tempfile.mkdtemp(prefix="commune-member-search-")) / "identity.json"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([COMMUNE_BIN, *args], capture_output=True, text=True, timeout=60)

    assert cli("join", server.invite(), "--name", "Zed", "--identity", str(identity)).returncode == 0
    found = cli("members", "--search", "M12", "--identity", str(identity))
    assert found.returncode == 0, found.stderr
    assert [line.split()[1] for line in found.stdout.splitlines()] == [f"m{index}" for index in range(120, 130)]
    assert [line.split()[1] for line in cli("members", "--search", "m1", "--limit", "3", "--identity", str(identity)).stdout.splitlines()] == [
        "m100", "m101", "m102"]
    none = cli("members", "--search", "nobody", "--identity", str(identity))
    assert none.returncode == 0 and none.stdout == "" and "no member's name starts with nobody" in none.stderr
    refused = cli("members", "--search", "m\u202e1", "--identity", str(identity))
    assert refused.returncode == 1 and refused.stdout == ""
    assert "data.payload.query must not contain invisible or direction-changing characters (U+202E)." in refused.stderr, refused.stderr

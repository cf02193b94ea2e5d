"""Issue 13 in the web client: search, in a real Chromium session on a real server.

A community of its own (rate limits off, to seed a long history quickly): Bob, a protocol client, writes a message
with a rare word far back in General (more than a thousand messages before the newest page) and another in Rules;
Alice, the owner, searches in the browser, clicks a result and lands on the message, highlighted.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browserkit import CommuneServer, PyClient
from test_conversation import bob  # noqa: F401 - fixture: Bob, a protocol client, on this module's server
from webkit import COMMUNE_BIN, join, open_channel, people  # noqa: F401 - fixture

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

FILLERS = 1200
NEEDLE = "Look: the QUOKKA smiles <img src=x onerror=alert(1)> \u202eevil\u202c again"


@pytest.fixture(scope="module")
def server():
    srv = CommuneServer(COMMUNE_BIN, args=("--no-rate-limits",))
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


def call(client: PyClient, function: str, payload: dict, path: str = "General", name: str = "General") -> dict:
    return client.request("function", {"codec": "text", "path": path, "name": name, "function": function, "payload": payload})["data"]


def send_many(client: PyClient, texts: list[str], batch: int = 50) -> None:
    """Sends messages to General in pipelined batches, then reads each batch's replies."""
    for start in range(0, len(texts), batch):
        ids = []
        for text in texts[start:start + batch]:
            rid = str(uuid.uuid4())
            ids.append(rid)
            client.ws.send(json.dumps({"type": "function", "id": rid, "log": {"log_level": 0, "message": "send"}, "data": {
                "codec": "text", "path": "General", "name": "General", "function": "send_message", "payload": {"message": text}}}))
        waiting = set(ids)
        for _ in range(len(ids) * 4):
            if not waiting:
                break
            reply = json.loads(client.ws.recv(timeout=20))
            assert reply.get("type") != "error", reply
            waiting.discard(reply.get("id"))
        assert not waiting, "some sends were not answered"


@pytest.fixture(scope="module")
def alice(server, people, bob):
    assert call(bob, "send_message", {"message": NEEDLE})["payload"]["message_id"] == 1
    send_many(bob, [f"filler {index}" for index in range(2, FILLERS + 2)])
    call(bob, "send_message", {"message": "a quokka in the rules"}, path="", name="Rules")
    browser = people("alice")
    join(browser, server.owner_invite, "Alice")
    browser.wait_message(f"filler {FILLERS + 1}")
    return browser


def results(browser):
    return browser.css("#search-results .search-result button")


def search(browser, query: str) -> None:
    box = browser.wait_visible("#search-input")
    box.clear()
    box.send_keys(query)
    box.send_keys(Keys.ENTER)


def test_search_finds_far_back_and_a_click_shows_the_message_highlighted(alice, bob):
    assert 1 not in alice.message_ids(), "message 1 should not be loaded yet (it is 1,200 messages back)"
    alice.one("#chat").click()
    alice.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "k")
    alice.wait_visible("#search-panel")
    search(alice, "quokka")
    alice.wait(lambda _: len(results(alice)) == 2, message="two results expected")
    first, second = results(alice)
    assert first.get_attribute("data-key") == "Rules" and second.get_attribute("data-key") == "General/General"
    assert [m.text for m in second.find_elements(By.CSS_SELECTOR, "mark")] == ["QUOKKA"]
    snippet = second.find_element(By.CSS_SELECTOR, ".search-snippet")
    # The message's markup is text: no element made from it, the tag shown as written.
    assert "<img src=x onerror=alert(1)>" in snippet.text
    assert not alice.css("#search-results img")
    assert snippet.tag_name == "bdi", "the snippet must sit in its own isolate (it may hold a direction override)"
    assert "Bob" in second.find_element(By.CSS_SELECTOR, ".search-author").text
    assert alice.one("#search-status").text == "2 messages found"
    alice.screenshot("s01-search-results.png")
    second.click()
    alice.wait(lambda _: not alice.one("#search-panel").is_displayed(), message="the panel stayed over the chat")
    original = alice.wait_visible('#message-list li.message[data-id="1"].highlighted')
    in_view = alice.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(), b = document.getElementById('messages').getBoundingClientRect();"
        "return r.top >= b.top && r.bottom <= b.bottom;", original)
    assert in_view, "the message was not scrolled into view"
    assert max(alice.message_ids()) < 200, "only the stretch around the message should be loaded"
    alice.screenshot("s02-search-jumped.png")
    # Scrolling down from there loads newer pages until the newest message is back.
    for _ in range(60):
        alice.driver.execute_script("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;")
        if f"filler {FILLERS + 1}" in alice.message_texts():
            break
        time.sleep(0.2)
    assert f"filler {FILLERS + 1}" in alice.message_texts(), "scrolling down never reached the newest message"
    ids = sorted(alice.message_ids())
    assert ids == list(range(ids[0], ids[-1] + 1)), "the loaded history has a gap"


def test_jump_to_present_from_a_far_back_result(alice, bob):
    """After a far-back result the channel shows an older stretch: the bar says so, and its click loads the newest."""
    alice.driver.refresh()  # only the newest page loaded again
    alice.wait_screen("main")
    alice.wait(lambda _: alice.connection() == "online" and alice.message_ids(), message="General not shown after a reload")
    assert 1 not in alice.message_ids()
    alice.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "k")
    alice.wait_visible("#search-panel")
    search(alice, "quokka")
    alice.wait(lambda _: len(results(alice)) == 2, message="two results expected")
    results(alice)[1].click()
    alice.wait_visible('#message-list li.message[data-id="1"]')
    alice.wait(lambda _: alice.one(".jump-bar").is_displayed(), message="no Jump to present bar over the older stretch")
    assert alice.one(".jump-bar .jump-text").text == "You are viewing older messages"
    assert max(alice.message_ids()) < 200
    alice.screenshot("s03-search-jump-bar.png")
    alice.one(".jump-bar .jump-button").click()
    newest = f"filler {FILLERS + 1}"
    alice.wait(lambda _: newest in alice.message_texts(), message="the jump did not load the newest page")
    shown = alice.driver.execute_script(
        "const b = document.getElementById('messages'); return b.scrollHeight - b.scrollTop - b.clientHeight;"
    )
    assert shown < 80, f"the newest message is not in view ({shown}px below)"
    ids = sorted(alice.message_ids())
    assert ids == list(range(ids[0], ids[-1] + 1)) and 1 not in ids, "the newest page should replace the older stretch"
    alice.wait(lambda _: not alice.one(".jump-bar").is_displayed(), message="the bar stayed after the jump")


def test_search_scope_removal_and_refusals(alice, bob):
    open_channel(alice, "General")
    alice.one("#open-search").click()
    # Reopened, the panel still shows the last search's results.
    alice.wait(lambda _: len(results(alice)) == 2, message="the last results were not kept")
    alice.driver.execute_script(
        "const s = document.getElementById('search-scope'); s.value = 'General/General'; s.dispatchEvent(new Event('change'))")
    search(alice, "Quokka")
    alice.wait(lambda _: [b.get_attribute("data-key") for b in results(alice)] == ["General/General"], message="scope ignored")
    alice.driver.execute_script("document.getElementById('search-scope').value = ''")
    call(bob, "remove_message", {"message_id": 1}, path="", name="Rules")
    search(alice, "quokka")
    alice.wait(lambda _: [b.get_attribute("data-key") for b in results(alice)] == ["General/General"],
               message="a removed message was still found")
    search(alice, '"*" :() ^')
    alice.wait(lambda _: "word" in alice.one("#search-status").text, message="no error for a query without words")
    assert not results(alice)
    search(alice, "filler")
    alice.wait(lambda _: len(results(alice)) == 25, message="a first page of 25")
    alice.one("#search-more").click()
    alice.wait(lambda _: len(results(alice)) == 50, message="More results did not add a page")
    keys = [int(b.get_attribute("data-id")) for b in results(alice)]
    assert keys == list(range(FILLERS + 1, FILLERS + 1 - 50, -1))
    alice.screenshot("s03-search-paged.png")
    alice.one("#search-input").send_keys(Keys.ESCAPE)
    alice.wait(lambda _: not alice.one("#search-panel").is_displayed(), message="Esc did not close search")
    assert not alice.severe_console_errors()


def test_search_filters_by_author_and_day(alice, bob):
    """The panel's author and day filters narrow a search as the protocol's author, after and before do."""
    alice.one("#open-search").click()
    set_value = "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('change'))"
    day = "const d = new Date(); d.setDate(d.getDate() + arguments[0]); return d.toLocaleDateString('en-CA')"
    today, tomorrow = alice.driver.execute_script(day, 0), alice.driver.execute_script(day, 1)

    def found(**filters) -> int:
        for element, value in (("search-author", filters.get("author", "")), ("search-after", filters.get("after", "")),
                               ("search-before", filters.get("before", ""))):
            alice.driver.execute_script(set_value, element, value)
        search(alice, "quokka")
        alice.wait(lambda _: "Searching" not in alice.one("#search-status").text and (
            results(alice) or alice.one("#search-status").text), message="the search did not finish")
        return len(results(alice))

    assert found() == 1
    authors = alice.driver.execute_script("return Array.from(document.querySelectorAll('#search-author option')).map(o => [o.value, o.textContent])")
    bob_id = next(value for value, label in authors if label == "By Bob")
    alice_id = next(value for value, label in authors if label == "By Alice")
    assert found(author=bob_id) == 1
    assert found(author=alice_id) == 0
    assert found(after=tomorrow) == 0
    assert found(after=today, before=today) == 1
    assert found(author=bob_id, before=today) == 1
    alice.screenshot("s05-search-filters.png")
    found()  # filters cleared for the tests after this one
    alice.one("#search-input").send_keys(Keys.ESCAPE)


def test_search_fits_at_phone_width(alice):
    alice.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        time.sleep(0.4)
        alice.wait_visible("#open-search").click()
        alice.wait_visible("#search-panel")
        search(alice, "quokka")
        alice.wait(lambda _: len(results(alice)) == 1, message="no result at phone width")
        width = alice.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at phone width with search open ({width}px)"
        inside = alice.driver.execute_script(
            "const r = document.getElementById('search-panel').getBoundingClientRect(); return r.left >= 0 && r.right <= 390")
        assert inside, "the search panel does not fit the screen"
        assert alice.one("#open-members").is_displayed() and alice.one("#open-sidebar").is_displayed()
        alice.screenshot("s04-search-phone.png")
        results(alice)[0].click()
        alice.wait(lambda _: not alice.one("#search-panel").is_displayed(), message="the panel stayed open")
    finally:
        alice.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_spoilers_stay_hidden_in_snippets(alice, bob):
    """A spoiler in a found message shows as ▒▒▒ in its snippet (the desktop notification's placeholder too), also
    when the word searched for is inside it."""
    call(bob, "send_message", {"message": "||the wombat ate it|| and the wombat left"})
    alice.wait_message("the wombat ate it and the wombat left")
    alice.wait_visible("#open-search").click()
    alice.wait_visible("#search-panel")
    search(alice, "ate wombat")
    alice.wait(lambda _: len(results(alice)) == 1, message="the wombat message was not found")
    snippet = results(alice)[0].find_element(By.CSS_SELECTOR, ".search-snippet")
    assert snippet.text == "▒▒▒ and the wombat left", snippet.text
    assert [m.text for m in snippet.find_elements(By.CSS_SELECTOR, "mark")] == ["wombat"]
    alice.screenshot("search-spoiler-hidden.png")
    alice.one("#search-input").send_keys(Keys.ESCAPE)

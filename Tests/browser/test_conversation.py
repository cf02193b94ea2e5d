"""Issue 13 in the web client: replies, reactions and pins, in real Chromium sessions on a real server.

A community of its own: Alice the owner in a browser, and Bob, a protocol client (a bot) whose messages, replies,
reactions and pins reach Alice live.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browserkit import PyClient, new_identity
from test_web_client import COMMUNE_BIN, join, message_item, people, server  # noqa: F401 - fixtures: this module's own

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

GENERAL = {"codec": "text", "path": "General", "name": "General"}


def call(client: PyClient, function: str, payload: dict, address: dict = GENERAL) -> dict:
    return client.request("function", {**address, "function": function, "payload": payload})["data"]


@pytest.fixture(scope="module")
def bob(server):
    client = PyClient(server.url.replace("http", "ws"), new_identity())
    client.register(server.invite(), "Bob")
    client.login()
    yield client
    client.close()


@pytest.fixture(scope="module")
def alice(server, people, bob):
    # Bob writes a long history first: the original of a later reply is far above the newest page.
    first = call(bob, "send_message", {"message": "The original question\nwith a second line"})["payload"]["message_id"]
    for index in range(2, 131):
        call(bob, "send_message", {"message": f"filler {index}"})
    assert first == 1
    browser = people("alice")
    join(browser, server.owner_invite, "Alice")
    browser.wait_message("filler 130")
    return browser


def test_a_reply_shows_its_original_and_a_click_fetches_and_highlights_it(alice, bob):
    reply = call(bob, "send_message", {"message": "an answer", "reply_to": 1})["payload"]["message_id"]
    item = message_item(alice, "an answer")
    preview = item.find_element(By.CSS_SELECTOR, ".reply-preview")
    assert preview.find_element(By.CSS_SELECTOR, ".reply-author").text == "Bob"
    assert preview.find_element(By.CSS_SELECTOR, ".reply-text").text == "The original question"
    assert 1 not in alice.message_ids(), "message 1 should not be loaded yet (it is 130 messages back)"
    alice.screenshot("c01-reply-preview.png")
    preview.click()
    original = alice.wait_visible('#message-list li.message[data-id="1"].highlighted')
    in_view = alice.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(), b = document.getElementById('messages').getBoundingClientRect();"
        "return r.top >= b.top && r.bottom <= b.bottom;", original)
    assert in_view, "the original was not scrolled into view"
    ids = sorted(alice.message_ids())
    assert ids == list(range(1, reply + 1)), "the history loaded up to the original has a gap"
    alice.screenshot("c02-reply-original-highlighted.png")


def test_reply_from_the_composer_and_esc_cancels(alice, bob):
    item = message_item(alice, "an answer")
    alice.driver.execute_script("arguments[0].classList.add('tools-open')", item)
    item.find_element(By.CSS_SELECTOR, ".msg-reply").click()
    bar = alice.wait_visible("#composer-replying")
    assert "Replying to" in bar.text and "Bob" in bar.text and "an answer" in bar.text
    alice.screenshot("c03-reply-bar.png")
    alice.one("#composer-input").send_keys(Keys.ESCAPE)
    alice.wait(lambda _: not alice.one("#composer-replying").is_displayed(), message="Esc did not cancel the reply")
    alice.send("not a reply")
    alice.wait_message("not a reply")
    item = message_item(alice, "an answer")
    alice.driver.execute_script("arguments[0].classList.add('tools-open')", item)
    item.find_element(By.CSS_SELECTOR, ".msg-reply").click()
    alice.wait_visible("#composer-replying")
    alice.send("a reply to the answer")
    alice.wait_message("a reply to the answer")
    mine = message_item(alice, "a reply to the answer")
    assert mine.find_element(By.CSS_SELECTOR, ".reply-text").text == "an answer"
    assert not alice.one("#composer-replying").is_displayed()
    history = call(bob, "get_messages", {"amount": 3})["payload"]["messages"]
    stored = {m["message"]: m for m in history}
    assert stored["a reply to the answer"]["reply_to"]["text"] == "an answer"
    assert stored["a reply to the answer"]["reply_to"]["sender_name"] == "Bob"
    assert "reply_to" not in stored["not a reply"]


def test_a_removed_original_shows_as_removed(alice, bob):
    call(bob, "remove_message", {"message_id": 1})
    alice.driver.refresh()
    alice.wait_screen("main")
    alice.wait_message("an answer")
    preview = message_item(alice, "an answer").find_element(By.CSS_SELECTOR, ".reply-preview")
    assert preview.text.endswith("Original message removed"), preview.text

"""Issue 13 in the web client: typing indicators, in a real Chromium session on a real server.

Alice in the browser; Bob, Carol (a name with markup) and Dave are protocol clients that say they are typing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from browserkit import PyClient, new_identity
from webkit import COMMUNE_BIN, join, people, server  # noqa: F401 - fixtures: this module's own

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

GENERAL = {"codec": "text", "path": "General", "name": "General"}
CAROL = "<i>Carol</i>"


def typing(client: PyClient) -> None:
    reply = client.request("function", {**GENERAL, "function": "typing", "payload": {}})
    assert reply["data"]["result"] == "member_typing"


@pytest.fixture(scope="module")
def typists(server):
    made = []
    for name in ("Bob", CAROL, "Dave"):
        client = PyClient(server.url.replace("http", "ws"), new_identity())
        client.register(server.invite(), name)
        client.login()
        made.append(client)
    yield made
    for client in made:
        client.close()


@pytest.fixture(scope="module")
def alice(server, people, typists):
    browser = people("alice")
    join(browser, server.owner_invite, "Alice")
    return browser


def indicator(browser) -> str:
    element = browser.one("#typing-indicator")
    return element.text if element.is_displayed() else ""


def test_one_typist_shows_then_goes_by_itself(alice, typists):
    bob = typists[0]
    # The page itself notes when the indicator shows and hides (the test's polling may lag on a busy machine).
    alice.driver.execute_script("""
        const el = document.getElementById('typing-indicator');
        window.typingSeen = [];
        new MutationObserver(() => window.typingSeen.push([performance.now(), el.hidden ? '' : el.textContent]))
            .observe(el, {attributes: true, childList: true, subtree: true, characterData: true});""")
    typing(bob)
    alice.wait(lambda _: indicator(alice) == "Bob is typing…", message="Bob's typing was not shown")
    alice.screenshot("t01-typing-one.png")
    alice.wait(lambda _: indicator(alice) == "", timeout=15, message="the indicator did not go by itself")
    seen = alice.driver.execute_script("return window.typingSeen")
    shown = next(t for t, text in seen if text == "Bob is typing…")
    hidden = next(t for t, text in seen if text == "" and t > shown)
    assert 5500 <= hidden - shown <= 12000, f"the indicator lasted {hidden - shown:.0f} ms, not about 6 s"


def test_two_then_several_and_a_message_clears_its_sender(alice, typists):
    bob, carol, dave = typists
    typing(bob)
    typing(carol)
    alice.wait(lambda _: indicator(alice) == f"Bob and {CAROL} are typing…", message="two typists")
    # Carol's name is text: her markup makes no element.
    assert not alice.one("#typing-indicator").find_elements(By.CSS_SELECTOR, "i")
    alice.screenshot("t02-typing-two.png")
    typing(dave)
    alice.wait(lambda _: indicator(alice) == "Several people are typing…", message="three typists")
    bob.send_message("General", "General", "done typing")
    alice.wait(lambda _: indicator(alice) == f"{CAROL} and Dave are typing…", message="Bob's message did not clear him")
    alice.wait(lambda _: indicator(alice) == "", timeout=10, message="the indicators did not go by themselves")


def test_typing_in_the_composer_reaches_others_throttled(alice, typists):
    bob = typists[0]
    box = alice.wait_visible("#composer-input")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        box.send_keys("x")
        time.sleep(0.1)
    updates = []
    end = time.monotonic() + 2
    while time.monotonic() < end:
        try:
            frame = json.loads(bob.ws.recv(timeout=max(0.05, end - time.monotonic())))
        except TimeoutError:
            break
        data = frame.get("data") or {}
        if frame.get("type") == "update" and data.get("result") == "member_typing":
            updates.append(data)
    assert len(updates) == 1, f"typing for 2 s should reach Bob once (the 3 s window), got {len(updates)}"
    assert updates[0]["path"] == "General" and updates[0]["name"] == "General"
    assert not alice.severe_console_errors()

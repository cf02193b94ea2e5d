"""Issue 13 in the web client: replies, reactions and pins, in real Chromium sessions on a real server.

A community of its own: Alice the owner in a browser, and Bob, a protocol client (a bot) whose messages, replies,
reactions and pins reach Alice live.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browserkit import PyClient, new_identity
from webkit import COMMUNE_BIN, dismiss_toasts, join, message_item, people, server  # noqa: F401 - fixtures: this module's own

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
    call(bob, "edit_message", {"message_id": 1, "message": "The edited question"})
    alice.wait(lambda _: message_item(alice, "an answer").find_element(By.CSS_SELECTOR, ".reply-text").text == "The edited question",
               message="the reply's preview did not follow the edit live")
    call(bob, "remove_message", {"message_id": 1})
    alice.wait(lambda _: message_item(alice, "an answer").find_element(By.CSS_SELECTOR, ".reply-preview").text.endswith("Original message removed"),
               message="the reply's preview did not follow the removal live")
    alice.driver.refresh()
    alice.wait_screen("main")
    alice.wait_message("an answer")
    preview = message_item(alice, "an answer").find_element(By.CSS_SELECTOR, ".reply-preview")
    assert preview.text.endswith("Original message removed"), preview.text


def chip_counts(browser, text: str) -> dict[str, str]:
    item = message_item(browser, text)
    return {c.get_attribute("data-emoji"): c.find_element(By.CSS_SELECTOR, ".reaction-count").text
            for c in item.find_elements(By.CSS_SELECTOR, ".reactions .reaction")}


def test_reactions_live_both_ways_with_who_reacted(alice, bob):
    message = call(bob, "send_message", {"message": "react to this"})["payload"]["message_id"]
    alice.wait_message("react to this")
    # Bob reacts: Alice sees the chip live.
    call(bob, "add_reaction", {"message_id": message, "emoji": "🎉"})
    alice.wait(lambda _: chip_counts(alice, "react to this") == {"🎉": "1"}, message="Bob's reaction never showed")
    # Alice reacts from the picker: her chip is marked hers, and the server counts it.
    item = message_item(alice, "react to this")
    alice.driver.execute_script("arguments[0].classList.add('tools-open')", item)
    item.find_element(By.CSS_SELECTOR, ".msg-react").click()
    alice.wait_visible("#reaction-picker")
    alice.screenshot("c04-reaction-picker.png")
    next(b for b in alice.css("#reaction-picker .reaction-choice") if b.text == "👍").click()
    alice.wait(lambda _: chip_counts(alice, "react to this") == {"🎉": "1", "👍": "1"})
    mine = message_item(alice, "react to this").find_element(By.CSS_SELECTOR, '.reaction[data-emoji="👍"]')
    assert "mine" in mine.get_attribute("class")
    # Clicking Bob's 🎉 adds mine to it.
    message_item(alice, "react to this").find_element(By.CSS_SELECTOR, '.reaction[data-emoji="🎉"]').click()
    alice.wait(lambda _: chip_counts(alice, "react to this") == {"🎉": "2", "👍": "1"})
    history = {m["message_id"]: m for m in call(bob, "get_messages", {"amount": 5})["payload"]["messages"]}
    assert {(r["emoji"], r["count"], r["me"]) for r in history[message]["reactions"]} == {("🎉", 2, True), ("👍", 1, False)}
    # Hover: who reacted.
    chip = message_item(alice, "react to this").find_element(By.CSS_SELECTOR, '.reaction[data-emoji="🎉"]')
    alice.driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('mouseenter'))", chip)
    alice.wait(lambda _: "Bob" in (chip.get_attribute("title") or "") and "Alice" in chip.get_attribute("title"),
               message="the chip never said who reacted")
    alice.screenshot("c05-reactions.png")
    # A long-press with a finger (touch events, as a phone sends them; iOS Safari sends no contextmenu): who
    # reacted, as a toast, and lifting the finger does not also take Alice's reaction back.
    dismiss_toasts(alice)
    box = alice.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]", chip)
    point = [{"x": box[0], "y": box[1]}]
    alice.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    time.sleep(0.8)
    alice.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    toast_text = alice.wait_visible(".toast").text
    assert "Bob" in toast_text and "Alice" in toast_text, toast_text
    time.sleep(0.5)
    assert chip_counts(alice, "react to this") == {"🎉": "2", "👍": "1"}, "the long-press toggled the reaction"
    alice.screenshot("c05b-reactions-long-press.png")
    dismiss_toasts(alice)
    # Bob takes his back: live.
    call(bob, "remove_reaction", {"message_id": message, "emoji": "🎉"})
    alice.wait(lambda _: chip_counts(alice, "react to this") == {"🎉": "1", "👍": "1"})
    # A reaction the server refuses (typed text, not an emoji) is a toast, and nothing changes.
    item = message_item(alice, "react to this")
    alice.driver.execute_script("arguments[0].classList.add('tools-open')", item)
    item.find_element(By.CSS_SELECTOR, ".msg-react").click()
    field = alice.wait_visible("#reaction-picker .reaction-input")
    field.send_keys("lol" + Keys.ENTER)
    alice.wait_visible('.toast[data-code="invalid_argument"]')
    assert chip_counts(alice, "react to this") == {"🎉": "1", "👍": "1"}


def test_pins_list_in_the_header_live_and_pin_action_only_with_the_permission(server, alice, bob):
    message = call(bob, "send_message", {"message": "pin-worthy announcement"})["payload"]["message_id"]
    alice.wait_message("pin-worthy announcement")
    dismiss_toasts(alice)
    # Alice (owner) pins from the message's tools.
    item = message_item(alice, "pin-worthy announcement")
    alice.driver.execute_script("arguments[0].classList.add('tools-open')", item)
    item.find_element(By.CSS_SELECTOR, ".msg-pin").click()
    alice.wait(lambda _: "pinned" in message_item(alice, "pin-worthy announcement").get_attribute("class"))
    pins = call(bob, "get_pins", {})["payload"]["pins"]
    assert [p["message_id"] for p in pins] == [message]
    # Bob, a plain member, may not pin: forbidden, nothing changes.
    other = call(bob, "send_message", {"message": "not for pinning"})["payload"]["message_id"]
    with pytest.raises(RuntimeError, match="forbidden"):
        call(bob, "pin_message", {"message_id": other})
    assert [p["message_id"] for p in call(bob, "get_pins", {})["payload"]["pins"]] == [message]
    # The header's list shows it; a pin made elsewhere (a moderator's) arrives live in the open list.
    alice.one("#channel-pins").click()
    alice.wait(lambda _: [li.get_attribute("data-id") for li in alice.css("#app-dialog .pin")] == [str(message)])
    moderator = PyClient(server.url.replace("http", "ws"), new_identity())
    moderator.register(server.invite(), "Mona")
    moderator.login()
    bob_id = call(bob, "get_members", {}, {"codec": "community", "path": "", "name": ""})["payload"]["members"]
    mona = next(m["user_id"] for m in bob_id if m["username"] == "Mona")
    alice.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.commune.run({codec: 'community', path: '', name: ''}, 'set_user_group', {user_id: arguments[0], group: 'moderator'})"
        ".then(() => done(true), e => done(String(e)));", mona)
    call(moderator, "pin_message", {"message_id": other})
    alice.wait(lambda _: [li.get_attribute("data-id") for li in alice.css("#app-dialog .pin")] == [str(other), str(message)],
               message="the moderator's pin never reached the open list")
    alice.screenshot("c06-pins-list.png")
    # Jump closes the list and shows the message.
    alice.css("#app-dialog .pin")[1].find_element(By.CSS_SELECTOR, ".pin-jump").click()
    alice.wait_visible(f'#message-list li.message[data-id="{message}"].highlighted')
    moderator.close()


def test_a_member_without_pin_messages_sees_no_pin_action(server, people):
    carol = people("carol")
    join(carol, server.invite(), "Carol")
    carol.wait_message("pin-worthy announcement")
    item = message_item(carol, "pin-worthy announcement")
    assert item.find_elements(By.CSS_SELECTOR, ".msg-reply") and item.find_elements(By.CSS_SELECTOR, ".msg-react")
    assert not item.find_elements(By.CSS_SELECTOR, ".msg-pin"), "a plain member was offered Pin"
    assert carol.one("#channel-pins").is_displayed(), "the pins list should be open to everyone"


def test_the_cli_replies_reacts_pins_and_prints_them(server, bob):
    """commune send --reply-to, commune react, commune pins, and commune history printing all three."""
    import subprocess
    import tempfile

    identity = str(Path(tempfile.mkdtemp(prefix="commune-cli-conversation-")) / "identity.json")

    def cli(*args: str) -> str:
        done = subprocess.run([COMMUNE_BIN, *args, "--identity", identity], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    cli("join", server.invite(), "--name", "Dora")
    original = call(bob, "send_message", {"message": "CLI original"})["payload"]["message_id"]
    sent = cli("send", "General/General", "CLI reply", "--reply-to", str(original))
    reply = int(sent.split("#")[1].split()[0])
    assert cli("react", "General/General", str(original), "👍").strip() == f"👍 1 on message #{original}."
    call(bob, "add_reaction", {"message_id": original, "emoji": "👍"})
    history = cli("history", "General/General", "--amount", "5")
    lines = {int(line.split()[0][1:]): line for line in history.splitlines() if line.startswith("#")}
    assert f"↪ #{original} Bob: CLI original | Dora: CLI reply" in lines[reply], lines[reply]
    assert lines[original].endswith("[👍 2*]"), lines[original]
    # Dora is a plain member: pinning is refused with the server's code, and the list is unchanged.
    refused = subprocess.run([COMMUNE_BIN, "pins", "General/General", "--pin", str(original), "--identity", identity],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "forbidden" in (refused.stdout + refused.stderr).lower(), refused.stdout + refused.stderr
    pinned = cli("pins", "General/General")
    assert "CLI original" not in pinned


def test_a_preview_of_hostile_text_is_isolated_text(alice, bob):
    """An original with a right-to-left override and markup: its preview is plain text in a <bdi> of its own."""
    original = call(bob, "send_message", {"message": "\u202eevil override <b>bold</b>"})["payload"]["message_id"]
    call(bob, "send_message", {"message": "plain reply after it", "reply_to": original})
    preview = message_item(alice, "plain reply after it").find_element(By.CSS_SELECTOR, ".reply-text")
    assert preview.tag_name == "bdi" and preview.find_elements(By.CSS_SELECTOR, "b") == []
    assert alice.driver.execute_script("return arguments[0].textContent", preview) == "\u202eevil override <b>bold</b>"


def test_a_banned_members_reactions_no_longer_count(server, alice, bob):
    """Carol (registered as Dana: this module's community has a Carol already) reacts beside Bob, Alice (the owner)
    bans Carol: Alice's page shows the counts without Carol's at once, with no reload (member_removed makes it read
    the shown messages again)."""
    from test_hostile_members import run

    carol = PyClient(server.url.replace("http", "ws"), new_identity())
    carol.register(server.invite(), "Dana")
    carol.login()
    message = call(bob, "send_message", {"message": "react before the ban"})["payload"]["message_id"]
    alice.wait_message("react before the ban")
    call(bob, "add_reaction", {"message_id": message, "emoji": "👍"})
    call(carol, "add_reaction", {"message_id": message, "emoji": "👍"})
    call(carol, "add_reaction", {"message_id": message, "emoji": "🎉"})
    alice.wait(lambda _: chip_counts(alice, "react before the ban") == {"👍": "2", "🎉": "1"}, message="the reactions never showed")
    banned = run(alice, "ban", {"user_id": carol.identity["user_id"], "reason": "spam"})
    assert not str(banned).startswith("error"), banned
    alice.wait(lambda _: chip_counts(alice, "react before the ban") == {"👍": "1"},
               message=f"Carol's reactions still count: {chip_counts(alice, 'react before the ban')}")
    alice.screenshot("c10-reactions-after-ban.png")
    carol.close()


def test_a_pin_made_while_away_shows_after_reconnecting(server, alice, bob):
    """pin_changed updates missed while the connection was down: the pins are read again on reconnecting. The pin is
    written into the database while the server is stopped, so it cannot arrive as a live update. (Last: it stops the
    server, which closes Bob's connection.)"""
    import sqlite3
    import time

    message = call(bob, "send_message", {"message": "pinned while Alice was away"})["payload"]["message_id"]
    alice.wait_message("pinned while Alice was away")
    user_id = alice.driver.execute_script("return JSON.parse(localStorage.getItem('commune.identity.v1')).user_id")
    server.stop()
    alice.wait(lambda _: alice.connection() in ("reconnecting", "connecting"), message="no reconnect state")
    with sqlite3.connect(Path(server.data) / "commune.sqlite") as db:
        channel = db.execute("SELECT id FROM interactables WHERE name = 'General' AND codec = 'text'").fetchone()[0]
        db.execute("INSERT INTO pins (channel_id, message_id, pinned_by, time) VALUES (?, ?, ?, ?)",
                   (channel, message, user_id, int(time.time() * 1000)))
    server.start()
    alice.driver.execute_script("document.getElementById('conn-retry').click()")
    alice.wait(lambda _: alice.connection() == "online", message="Alice never reconnected")
    alice.wait(lambda _: "pinned" in message_item(alice, "pinned while Alice was away").get_attribute("class"),
               message="the pin made while away never showed")

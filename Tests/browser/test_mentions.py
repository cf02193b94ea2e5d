"""Mentions in the web client (PROTOCOL.md "Mentions"): `@` in the composer lists members and inserts the chosen
member's token, the right one of two look-alike names (told apart by a piece of the user id); the mentioned member
sees the "@1" badge in the sidebar and, in the channel, the message highlighted with the token shown as "@Bob";
the CLI's history prints the token as @name.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from test_hostile_members import Bots, run
from webkit import (  # noqa: F401 - server and people: the module's own community and browsers
    COMMUNE_BIN,
    join,
    message_item,
    my_user_id,
    open_channel,
    people,
    server,
)

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

MENTION_BADGE = """
const li = Array.from(document.querySelectorAll('#channel-tree li.channel'))
  .find(li => li.querySelector('.channel-name').textContent === arguments[0]);
const b = li && li.querySelector('.mention-badge'); return b ? b.textContent : '';
"""


def test_autocomplete_picks_the_right_lookalike_and_the_mentioned_member_sees_it(server, people):
    alice = people("alice")
    join(alice, server.owner_invite, "Alice")
    bob = people("bob")
    join(bob, server.invite(), "Bob")
    bob_id = my_user_id(bob)
    # A look-alike of "Bob" stored as an older version would have kept it (Cyrillic В and о).
    bots = Bots(server)
    fake = bots.register("fake", "\u0412\u043eb")
    bots.store_and_reconnect(alice, bob)
    open_channel(bob, "Rules")
    open_channel(alice, "General")

    box = alice.one("#composer-input")
    box.click()
    box.send_keys("hi @bo")
    alice.wait(lambda _: len(alice.css("#mention-menu li.mention-option")) == 2, message="the menu does not list both look-alikes")
    options = alice.driver.execute_script(
        "return Array.from(document.querySelectorAll('#mention-menu li.mention-option'))"
        ".map(li => ({id: li.dataset.userId, tag: (li.querySelector('.name-tag') || {}).textContent || '', bdi: Boolean(li.querySelector('bdi'))}))"
    )
    assert {o["id"] for o in options} == {bob_id, fake["user_id"]}
    # Each look-alike carries a piece of its own user id, and its name sits in a <bdi>.
    for o in options:
        assert o["bdi"] and o["tag"].startswith("#") and o["id"].startswith(o["tag"][1:]), options
    # Keyboard: down to the real Bob if he is not first, Enter inserts his token (and does not send).
    if options[0]["id"] != bob_id:
        box.send_keys(Keys.ARROW_DOWN)
    box.send_keys(Keys.ENTER)
    assert box.get_attribute("value") == f"hi <@{bob_id}> "
    assert alice.one("#mention-menu").get_attribute("hidden") is not None
    box.send_keys("look", Keys.ENTER)
    # The mouse: a click on the look-alike inserts the look-alike's token.
    box.send_keys("@bo")
    alice.wait(lambda _: len(alice.css("#mention-menu li.mention-option")) == 2, message="the menu did not open again")
    alice.one(f"#mention-menu li[data-user-id='{fake['user_id']}']").click()
    assert box.get_attribute("value") == f"<@{fake['user_id']}> "
    alice.driver.execute_script("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'))", box)

    # Bob, reading Rules: the mention badge on General, apart from the unread count.
    bob.wait(lambda _: bob.driver.execute_script(MENTION_BADGE, "General") == "@1", message="Bob sees no @1 on General")
    # After a reload the count comes from the server (get_read_state's mentions).
    bob.driver.refresh()
    bob.wait_screen("main")
    bob.wait(lambda _: bob.connection() == "online")
    bob.wait(lambda _: bob.driver.execute_script(MENTION_BADGE, "General") == "@1", message="after a reload Bob sees no @1")
    open_channel(bob, "General")
    li = message_item(bob, "hi @Bob#" + next(o["tag"][1:] for o in options if o["id"] == bob_id) + " look")
    assert "mentions-me" in li.get_attribute("class")
    assert bob.driver.execute_script(MENTION_BADGE, "General") == ""
    # Alice's own message mentions Bob, not her: no highlight for her.
    assert "mentions-me" not in message_item(alice, li.find_element("css selector", ".message-content").text).get_attribute("class")
    bob.screenshot("mentions-highlight.png")

    # The CLI prints the token as @name.
    carol = Path(tempfile.mkdtemp(prefix="commune-mentions-")) / "carol.json"
    subprocess.run([COMMUNE_BIN, "join", server.invite(), "--name", "Carol", "--identity", str(carol)], check=True, capture_output=True, timeout=60)
    history = subprocess.run(
        [COMMUNE_BIN, "history", "General/General", "--identity", str(carol)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert "Alice: hi @Bob look" in history, history

    # A token of someone no longer a member shows as @unknown-member (the text keeps the id).
    alice.send(f"bye <@{fake['user_id']}>")
    fake_tag = next(o["tag"] for o in options if o["id"] == fake["user_id"])
    message_item(bob, f"bye @\u0412\u043eb{fake_tag}")
    assert "error" not in str(run(alice, "remove_member", {"user_id": fake["user_id"]}))
    message_item(bob, "bye @unknown-member")
    # Bob's name has no look-alike any more: his pill loses the id tag.
    message_item(bob, "hi @Bob look")


def test_desktop_notifications_are_opt_in_and_follow_the_channel_setting(server, people):
    alice, bob = people("alice"), people("bob")
    bob_id = my_user_id(bob)
    open_channel(bob, "General")
    # Nothing asked at load: the permission is still the browser's default until Bob turns notifications on.
    assert bob.driver.execute_script("return Notification.permission") == "default"
    assert bob.driver.execute_script("return document.getElementById('notify-level').disabled")
    bob.driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["notifications"], "origin": server.url.rstrip("/")})
    # Notifications shown are recorded (the real ones are still made); the page is made to look hidden.
    bob.driver.execute_script(
        "window.__shown = []; const Real = window.Notification;"
        "window.Notification = class extends Real { constructor(t, o) { super(t, o); window.__shown.push([t, o.body]); } };"
        "Object.defineProperty(document, 'hidden', {get: () => true, configurable: true});"
    )
    bob.one("#notify-enabled").click()
    bob.wait(lambda _: bob.one("#notify-enabled").is_selected(), message="notifications did not turn on")
    assert bob.one("#notify-level").get_attribute("value") == "mentions"
    shown = lambda: bob.driver.execute_script("return window.__shown")  # noqa: E731

    alice.send("plain words")
    alice.send(f"ping <@{bob_id}>")
    bob.wait(lambda _: len(shown()) == 1, message=f"no notification for the mention: {shown()}")
    assert shown()[0] == ["Alice in #General", "ping @Bob"], shown()
    # All messages, then nothing, for this channel.
    bob.driver.execute_script("const s = document.getElementById('notify-level'); s.value = 'all'; s.dispatchEvent(new Event('change'))")
    alice.send("every word now")
    bob.wait(lambda _: len(shown()) == 2, message=f"no notification at 'all': {shown()}")
    # A spoiler stays hidden in the notification, as the placeholder search snippets show.
    alice.send("||the butler|| did it")
    bob.wait(lambda _: len(shown()) == 3, message=f"no notification for the spoiler: {shown()}")
    assert shown()[2] == ["Alice in #General", "▒▒▒ did it"], shown()
    bob.driver.execute_script("const s = document.getElementById('notify-level'); s.value = 'none'; s.dispatchEvent(new Event('change'))")
    alice.send(f"quiet <@{bob_id}>")
    # Bob's page has the message (its badge counts it) and still shows no notification.
    bob.wait(lambda _: bob.driver.execute_script(MENTION_BADGE, "General") == "@2", message="the quiet mention did not arrive")
    assert len(shown()) == 3, shown()
    bob.driver.execute_script("delete document.hidden")


def test_the_mention_badge_follows_edits(server, people):
    """Alice edits an unread message of hers to mention Bob and back: Bob's @N badge on General follows at once,
    for a message his page received live and for one sent before his page was loaded."""
    alice, bob = people("alice"), people("bob")
    bob_id = my_user_id(bob)
    general = {"codec": "text", "path": "General", "name": "General"}
    badge = lambda: bob.driver.execute_script(MENTION_BADGE, "General")  # noqa: E731

    def edit(message_id: int, text: str) -> None:
        reply = run(alice, "edit_message", {"message_id": message_id, "message": text}, general)
        assert not str(reply).startswith("error"), reply

    def server_mentions() -> int:
        state = run(bob, "get_read_state", {})
        return next(c["mentions"] for c in state["payload"]["channels"] if c["name"] == "General")

    # Bob reads General to the end (the server's mark too), then reads Rules.
    open_channel(bob, "General")
    bob.wait(lambda _: badge() == "" and server_mentions() == 0, message="General's mentions were not read")
    open_channel(bob, "Rules")
    note = run(alice, "send_message", {"message": "the agenda"}, general)["payload"]["message_id"]
    # Live in Bob's page: the edit adds the mention, the next one takes it away.
    edit(note, f"the agenda, <@{bob_id}>")
    bob.wait(lambda _: badge() == "@1", message="the edit's mention did not show as @1")
    edit(note, "the agenda, nobody")
    bob.wait(lambda _: badge() == "", message="the badge stayed after the mention was edited away")
    # Sent before Bob's page was loaded (a reload): the counts come from the server again.
    bob.driver.refresh()
    bob.wait_screen("main")
    bob.wait(lambda _: bob.connection() == "online")
    bob.wait(lambda _: bob.one("#channel-title").text == "# Rules")
    assert badge() == ""
    edit(note, f"the agenda again, <@{bob_id}>")
    bob.wait(lambda _: badge() == "@1", message="after a reload the edit's mention did not show as @1")
    edit(note, "the agenda")
    bob.wait(lambda _: badge() == "", message="after a reload the badge stayed after the mention was edited away")

"""Issue 11, client side: a hostile member against the web client, in real Chromium sessions on a real server.

One community for the module, its own (the story in test_web_client.py stays as it is): Alice is the owner, Bob a
plain member, and protocol clients (bots) play the hostile members whose names and messages are the attack:
look-alike names and direction overrides (7), sends that never end (8), controls a member cannot use (9), and the
tree and image layout (10). Drafts, removals, bad invite links and markup are in test_hostile_more.py.

When the server refuses a hostile name (as it should once it validates names), the name is written into its
database while it is stopped: old data, or another server, must still be shown safely.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from browserkit import Browser, CommuneServer, PyClient, new_identity
from webkit import (  # noqa: F401 - server and people: the module's own community and browsers
    COMMUNE_BIN,
    people,
    server,
    close_dialog,
    dismiss_toasts,
    join,
    member_row,
    message_item,
    my_user_id,
    set_field,
    submit_dialog,
    tiny_png,
    toast_with_code,
    tree_labels,
    wait_dialog_closed,
)

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

COMMUNITY = {"codec": "community", "path": "", "name": ""}
GENERAL = {"codec": "text", "path": "General", "name": "General"}
RLO = "\u202e"

# Where a word inside an element is drawn: {ltr: its first letter left of its last, left, right}; null when absent.
WORD_GEOMETRY = """
const [root, word] = arguments;
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const i = n.data.indexOf(word);
  if (i < 0) continue;
  const box = (from, to) => { const r = document.createRange(); r.setStart(n, from); r.setEnd(n, to); return r.getBoundingClientRect(); };
  const all = box(i, i + word.length);
  return {ltr: box(i, i + 1).left < box(i + word.length - 1, i + word.length).left, left: all.left, right: all.right};
}
return null;
"""


def call(client: PyClient, function: str, payload: dict, address: dict = COMMUNITY) -> dict:
    return client.request("function", {**address, "function": function, "payload": payload})["data"]


class Bots:
    """Protocol clients that are members of the module's community."""

    def __init__(self, server: CommuneServer):
        self.server = server
        self.ids: dict[str, dict] = {}  # key → identity
        self.stored_names: dict[str, str] = {}  # user id → name the server refused over the wire
        self.stored_channels: dict[str, str] = {}  # top-level channel → name the server refused over the wire

    def register(self, key: str, name: str) -> dict:
        identity = new_identity()
        client = self.connect(identity, register=True)
        try:
            try:
                call(client, "set_username", {"username": name})
            except RuntimeError:
                self.stored_names[identity["user_id"]] = name
        finally:
            client.close()
        self.ids[key] = identity
        return identity

    def connect(self, identity: dict, register: bool = False) -> PyClient:
        client = PyClient(self.server.url.replace("http", "ws"), identity)
        if register:
            client.register(self.server.invite(), f"bot{len(self.ids)}")
        client.login()
        return client

    def client(self, key: str) -> PyClient:
        return self.connect(self.ids[key])

    def store_refused_names(self) -> bool:
        """Writes the names the server refused into its database while it is stopped (old data); whether it did."""
        if not self.stored_names and not self.stored_channels:
            return False
        self.server.stop()
        with sqlite3.connect(Path(self.server.data) / "commune.sqlite") as db:
            for user_id, name in self.stored_names.items():
                db.execute("UPDATE members SET username = ? WHERE user_id = ?", (name, user_id))
            for old, name in self.stored_channels.items():
                db.execute("UPDATE interactables SET name = ? WHERE name = ? AND parent_id IS NULL", (name, old))
        self.stored_names, self.stored_channels = {}, {}
        self.server.start()
        return True

    def store_and_reconnect(self, *browsers: Browser) -> None:
        """store_refused_names, and the browsers back online (and signed in again, with the stored data)."""
        if self.store_refused_names():
            for browser in browsers:
                browser.driver.execute_script("document.getElementById('conn-retry').click()")
                browser.wait(lambda _, b=browser: b.connection() == "online", timeout=40)


@pytest.fixture(scope="module")
def bots(server):
    return Bots(server)


def run(browser: Browser, function: str, payload: dict, address: dict = COMMUNITY):
    """Runs a function from the page (window.commune.run) and returns the reply's data, or the error's text."""
    return browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.commune.run(arguments[0], arguments[1], arguments[2]).then(r => done(r), e => done('error: ' + e.code));",
        address, function, payload,
    )


def word_at(browser: Browser, element, word: str) -> dict:
    got = browser.driver.execute_script(WORD_GEOMETRY, element, word)
    assert got is not None, f"{word!r} not found"
    return got


def reads_ltr(browser: Browser, element, word: str) -> bool:
    return word_at(browser, element, word)["ltr"]


# ---------------------------------------------------------------------------------------------------------------
# 7: names that look like others, and overrides that would reverse neighbouring text


def test_lookalike_names_and_overrides_are_isolated(server, people, bots):
    alice = people("alice")
    join(alice, server.owner_invite, "Alice")
    bob = people("bob")
    join(bob, server.invite(), "Bob")
    bots.register("zw", "Al\u200bice")  # a zero-width space: looks like "Alice"
    bots.register("wide", "\uff21\uff4c\uff49\uff43\uff45")  # full-width "Ａｌｉｃｅ": NFKC makes it "Alice"
    bots.register("eve", f"Eve{RLO}")  # an override left open at the end of the name
    bots.store_and_reconnect(alice, bob)

    eve = bots.client("eve")  # stays online (her status shows) until Alice removes her
    zw = bots.client("zw")
    try:
        try:
            call(eve, "set_status", {"status": "busy", "text": f"{RLO}on the phone"})
            status_refused = False
        except RuntimeError:  # a server that refuses direction controls in a status: nothing to show
            status_refused = True
        call(zw, "send_message", {"message": "hi, it is me, Alice"}, GENERAL)
        call(eve, "send_message", {"message": "waves hello", "kind": "action"}, GENERAL)
        sent = call(eve, "send_message", {"message": f"{RLO}olleh"}, GENERAL)
        edited_id = sent["payload"]["message_id"]
        call(eve, "edit_message", {"message_id": edited_id, "message": f"{RLO}olleh again"}, GENERAL)
    finally:
        zw.close()

    alice_id = my_user_id(alice)
    look_alikes = [alice_id, bots.ids["zw"]["user_id"], bots.ids["wide"]["user_id"]]
    # Every look-alike of "Alice" carries a piece of its user id, each a different one; Bob carries none.
    tags = {}
    for user_id in look_alikes:
        row = member_row(alice, user_id)
        alice.wait(lambda _, r=row: r.find_elements(By.CSS_SELECTOR, ".name-tag"))
        tags[user_id] = row.find_element(By.CSS_SELECTOR, ".name-tag").text
        assert tags[user_id].startswith("#") and user_id.startswith(tags[user_id][1:]), tags[user_id]
    assert len(set(tags.values())) == 3, tags
    assert member_row(alice, my_user_id(bob)).find_elements(By.CSS_SELECTOR, ".name-tag") == []
    # The zero-width space is not part of the name shown, and the message's author shows the tag too.
    item = message_item(alice, "hi, it is me, Alice")
    assert item.find_element(By.CSS_SELECTOR, ".author .name").text == "Alice"
    assert item.find_element(By.CSS_SELECTOR, ".author .name-tag").text == tags[bots.ids["zw"]["user_id"]]

    # The /me line: "* Eve waves hello" reads left to right, the action right of the name.
    action = message_item(alice, "waves hello")
    actor = action.find_element(By.CSS_SELECTOR, ".action-actor")
    assert reads_ltr(alice, action, "waves hello")
    assert word_at(alice, action, "waves")["left"] >= actor.rect["x"] + actor.rect["width"] - 1
    # A message that opens an override keeps it to itself: "(edited)" after it still reads left to right.
    edited = alice.wait_visible(f'#message-list li.message.is-edited[data-id="{edited_id}"]')
    assert reads_ltr(alice, edited.find_element(By.CSS_SELECTOR, ".message-meta"), "Eve")
    assert reads_ltr(alice, edited, "edited")
    # Eve's status: the label before her text is not reversed.
    if not status_refused:
        alice.wait(lambda _: "Busy" in member_row(alice, bots.ids["eve"]["user_id"]).text)
        eve_row = member_row(alice, bots.ids["eve"]["user_id"])
        assert reads_ltr(alice, eve_row.find_element(By.CSS_SELECTOR, ".member-status"), "Busy")
    alice.screenshot("h01-lookalikes-and-overrides.png")

    # Eve removed: the toast's sentence after her name reads left to right.
    dismiss_toasts(alice)
    member_row(alice, bots.ids["eve"]["user_id"]).find_element(By.CSS_SELECTOR, ".member-button").click()
    alice.wait_visible("#app-dialog .member-remove").click()
    submit_dialog(alice)
    wait_dialog_closed(alice)
    toast = alice.wait_visible(".toast .toast-message")
    assert "Eve" in toast.text and "was removed" in toast.text
    assert reads_ltr(alice, toast, "was removed from the community")
    assert word_at(alice, toast, "was removed")["left"] >= word_at(alice, toast, "Eve")["right"] - 1
    alice.screenshot("h02-removal-toast-isolated.png")
    dismiss_toasts(alice)
    eve.close()


def test_lookalike_channel_names_do_not_reverse_the_tree(people, bots):
    alice = people("alice")
    bob = people("bob")
    for n, name in enumerate((f"{RLO}lareneG", "Gener\u200bal")):
        plain = f"lookalike-{n}"
        run(alice, "create", {"codec": "text"}, {"codec": "text", "path": "", "name": plain})
        got = run(alice, "rename", {"new_name": name}, {"codec": "text", "path": "", "name": plain})
        if isinstance(got, str) and got.startswith("error"):
            bots.stored_channels[plain] = name
    dismiss_toasts(alice)
    bots.store_and_reconnect(alice, bob)
    bob.wait(lambda _: len(tree_labels(bob)) == 6 and "lareneG" in tree_labels(bob))
    labels = tree_labels(bob)
    # The override is not drawn: the channel shows as what it is made of, not as "General".
    assert "lareneG" in labels
    tree = bob.one("#channel-tree")
    assert reads_ltr(bob, tree, "lareneG") and reads_ltr(bob, tree, "Rules")
    bob.screenshot("h03-lookalike-channels.png")
    dismiss_toasts(alice)


# ---------------------------------------------------------------------------------------------------------------
# 8: sends that never end


def pending(browser: Browser, state: str):
    return browser.wait_visible(f"#message-list li.pending.state-{state}")


def buttons_of(item) -> list[str]:
    return [b.text for b in item.find_elements(By.CSS_SELECTOR, ".pending-status button")]


def test_sends_that_cannot_succeed_end_at_once(people, bots):
    alice = people("alice")
    dismiss_toasts(alice)
    before = alice.message_ids()
    # Over the limit: refused before it is sent, kept in the composer with the reason; Discard, and no Retry.
    alice.send("y" * 4001)
    failed = pending(alice, "failed")
    assert failed.get_attribute("data-code") == "too_large"
    assert "4000" in failed.text and "back in the composer" in failed.text
    assert buttons_of(failed) == ["Discard"]
    assert len(alice.one("#composer-input").get_attribute("value")) == 4001
    toast_with_code(alice, "too_large")
    # A newer message from someone else comes after it: pending messages stay in time order.
    bot = bots.client("zw")
    try:
        call(bot, "send_message", {"message": "a newer message"}, GENERAL)
    finally:
        bot.close()
    alice.wait_message("a newer message")
    order = alice.driver.execute_script(
        "return Array.from(document.querySelectorAll('#message-list > li'), li => li.dataset.pending ? 'pending' : li.textContent)"
    )
    assert order.index("pending") < next(i for i, t in enumerate(order) if "a newer message" in t), order
    alice.screenshot("h04-refused-before-sending.png")
    pending(alice, "failed").find_element(By.CSS_SELECTOR, ".pending-discard").click()
    alice.wait(lambda _: not alice.css("#message-list li.pending"))

    # A lone surrogate: not well-formed, refused the same way.
    alice.driver.execute_script(
        "const i = document.getElementById('composer-input'); i.value = 'broken ' + String.fromCharCode(0xD800) + ' text';"
        "i.dispatchEvent(new Event('input')); document.getElementById('composer-send').click();"
    )
    failed = pending(alice, "failed")
    assert failed.get_attribute("data-code") == "invalid_argument"
    assert "surrogate" in failed.find_element(By.CSS_SELECTOR, ".pending-text").text
    assert buttons_of(failed) == ["Discard"]
    pending(alice, "failed").find_element(By.CSS_SELECTOR, ".pending-discard").click()
    alice.wait(lambda _: not alice.css("#message-list li.pending"))
    alice.driver.execute_script("const i = document.getElementById('composer-input'); i.value = ''; i.dispatchEvent(new Event('input'))")

    # Refused by the server (an attachment that does not exist): back in the composer with the server's reason.
    dismiss_toasts(alice)
    alice.driver.execute_script(
        "window.commune.send('General/General', 'with a made-up image', {attachments: [{attachment_id: 'nope', width: 8,"
        " height: 8, localUrl: 'data:image/gif;base64,R0lGODlhAQABAAAAACw='}]})"
    )
    failed = pending(alice, "failed")
    reason = toast_with_code(alice, "not_found").find_element(By.CSS_SELECTOR, ".toast-message").text
    assert reason and reason in failed.text and "back in the composer" in failed.text
    assert buttons_of(failed) == ["Discard"]
    assert alice.one("#composer-input").get_attribute("value") == "with a made-up image"
    pending(alice, "failed").find_element(By.CSS_SELECTOR, ".pending-discard").click()
    alice.driver.execute_script("const i = document.getElementById('composer-input'); i.value = ''; i.dispatchEvent(new Event('input'))")
    assert alice.message_ids() == before + [before[-1] + 1]  # only the bot's message was stored
    dismiss_toasts(alice)


def test_a_slow_send_says_sending_and_can_be_discarded(people):
    alice = people("alice")
    # The page's frames for send_message are held back: the send is under way while the connection is fine.
    alice.driver.execute_script(
        "const send = WebSocket.prototype.send; window.__heldBack = 0;"
        "WebSocket.prototype.send = function (data) { if (String(data).includes('send_message')) { window.__heldBack++; return; }"
        " return send.call(this, data); }; window.__restoreSend = () => { WebSocket.prototype.send = send; };"
    )
    try:
        alice.send("this one hangs")
        item = pending(alice, "sending")
        assert alice.connection() == "online"
        assert item.find_element(By.CSS_SELECTOR, ".pending-text").text == "Sending…"
        assert buttons_of(item) == ["Discard"]
        alice.screenshot("h05-sending-online.png")
        item.find_element(By.CSS_SELECTOR, ".pending-discard").click()
        alice.wait(lambda _: not alice.css("#message-list li.pending"))
    finally:
        alice.driver.execute_script("window.__restoreSend()")
    assert "this one hangs" not in alice.message_texts()


def test_a_send_held_back_by_the_rate_limit_goes_out_by_itself(people):
    alice = people("alice")
    # The server's answer to the next send_message is rate_limited with retry_after_ms (what a burst gets): the
    # frame is kept from the server and the error handed to the page as if the server had sent it.
    alice.driver.execute_script(
        "const send = WebSocket.prototype.send; window.__limited = 0;"
        "WebSocket.prototype.send = function (data) {"
        "  const frame = JSON.parse(String(data));"
        "  if (window.__limited === 0 && frame.data && frame.data.function === 'send_message') {"
        "    window.__limited++;"
        "    const error = {type: 'error', id: frame.id, log: {log_level: 3, message: 'Too many messages; try again in 2 s.'},"
        "      data: {code: 'rate_limited', message: 'Too many messages; try again in 2 s.', request_type: 'function', retry_after_ms: 1500}};"
        "    setTimeout(() => this.dispatchEvent(new MessageEvent('message', {data: JSON.stringify(error)})), 10);"
        "    return;"
        "  }"
        "  return send.call(this, data); };"
        "window.__restoreSend = () => { WebSocket.prototype.send = send; };"
    )
    try:
        alice.send("held back, then sent")
        item = pending(alice, "waiting")
        assert "sending again in" in item.find_element(By.CSS_SELECTOR, ".pending-text").text
        assert alice.one("#composer-input").get_attribute("value") == ""
        alice.wait_message("held back, then sent")
        alice.wait(lambda _: not alice.css("#message-list li.pending"))
        assert alice.driver.execute_script("return window.__limited") == 1
    finally:
        alice.driver.execute_script("window.__restoreSend()")
    assert alice.message_texts().count("held back, then sent") == 1


def test_a_queued_send_can_be_discarded_offline(server, people):
    alice = people("alice")
    server.stop()
    try:
        alice.wait(lambda _: alice.connection() in ("reconnecting", "connecting"))
        alice.send("never mind")

        # The list re-renders on every reconnection attempt, so each look finds the bubble afresh.
        def discard_queued(_) -> bool:
            try:
                item = pending(alice, "queued")
                assert "Waiting for the connection" in item.text and buttons_of(item) == ["Discard"]
                item.find_element(By.CSS_SELECTOR, ".pending-discard").click()
                return True
            except StaleElementReferenceException:
                return False

        alice.wait(discard_queued)
        alice.wait(lambda _: not alice.css("#message-list li.pending"))
    finally:
        server.start()
        alice.driver.execute_script("document.getElementById('conn-retry').click()")
    alice.wait(lambda _: alice.connection() == "online", timeout=40)
    time.sleep(1)
    assert "never mind" not in alice.message_texts()
    people("bob").wait(lambda b: people("bob").connection() == "online", timeout=40)


# ---------------------------------------------------------------------------------------------------------------
# 9: only the controls a member's group may use


def open_member_card(browser: Browser, user_id: str) -> None:
    member_row(browser, user_id).find_element(By.CSS_SELECTOR, ".member-button").click()
    browser.wait_visible("#app-dialog.member-dialog")


MODERATION = "#app-dialog .member-rename, #app-dialog .member-group-change, #app-dialog .member-mute, #app-dialog .member-remove, #app-dialog .member-ban"


def test_a_member_is_shown_only_what_they_may_do(people):
    alice = people("alice")
    bob = people("bob")
    # The topic: Alice sets one; Bob reads it, but is offered no way to change it.
    alice.wait_visible("#channel-topic").click()
    set_field(alice, "topic", "Read me — the whole topic is here")
    submit_dialog(alice)
    wait_dialog_closed(alice)
    bob.wait(lambda _: bob.one("#channel-topic").text == "Read me — the whole topic is here")
    assert not bob.one("#edit-topic").is_displayed()
    assert bob.css("#channel-tree .node-add, #channel-tree .node-menu") == []
    bob.one("#channel-topic").click()
    view = bob.wait_visible("#app-dialog.topic-view")
    assert "Read me — the whole topic is here" in view.text
    assert bob.css("#app-dialog .dialog-submit") == [] and bob.css("#app-dialog textarea") == []
    close_dialog(bob)
    # The community menu: nothing to manage.
    bob.one("#open-community").click()
    bob.wait_visible("#app-dialog .community-no-actions")
    assert bob.css("#app-dialog .community-actions button") == []
    bob.screenshot("h06-member-community-menu.png")
    close_dialog(bob)
    # Alice's card: facts, no moderation.
    open_member_card(bob, my_user_id(alice))
    assert bob.css(MODERATION) == []
    close_dialog(bob)
    # Alice, the owner, keeps everything.
    assert alice.one("#edit-topic").is_displayed() and alice.css("#channel-tree .node-add")
    open_member_card(alice, my_user_id(bob))
    assert len(alice.css(MODERATION)) == 5
    close_dialog(alice)


def test_a_moderator_is_shown_what_moderators_may_do(server, people):
    alice = people("alice")
    bob = people("bob")
    mo = people("mo")
    join(mo, server.invite(), "Mo")
    mo_id = my_user_id(mo)
    open_member_card(alice, mo_id)
    alice.wait_visible("#app-dialog .member-group-change").click()
    set_field(alice, "group", "moderator")
    submit_dialog(alice)
    wait_dialog_closed(alice)
    mo.wait(lambda _: mo.one("#me-status").is_displayed() and member_row(mo, mo_id).get_attribute("data-group") == "moderator")
    # Moderators set topics and invite (into groups below their own), but do not manage channels.
    mo.wait(lambda _: mo.one("#edit-topic").is_displayed())
    assert mo.css("#channel-tree .node-add") == []
    mo.one("#open-community").click()
    labels = [b.text for b in mo.wait_visible("#app-dialog .community-actions").find_elements(By.CSS_SELECTOR, "button")]
    assert labels == ["Create invite…", "Bans…"], labels
    mo.one("#app-dialog .community-create-invite").click()
    options = mo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#app-dialog [data-field=group] option'), o => o.value)")
    assert options == ["member"], options
    close_dialog(mo)
    # On a plain member: what moderators may do (not change groups); on the owner: nothing.
    open_member_card(mo, my_user_id(bob))
    shown = [b.text for b in mo.css(MODERATION)]
    assert shown == ["Rename…", "Server-mute in voice", "Remove…", "Ban…"], shown
    mo.screenshot("h07-moderator-member-card.png")
    close_dialog(mo)
    open_member_card(mo, my_user_id(alice))
    assert mo.css(MODERATION) == []
    close_dialog(mo)


# ---------------------------------------------------------------------------------------------------------------
# 10: the tree's indentation, and images of different shapes side by side


def test_tree_nesting_and_images_keep_their_shapes(people):
    alice = people("alice")
    bob = people("bob")
    left = bob.driver.execute_script(
        "const out = {}; for (const b of document.querySelectorAll('#channel-tree .channel-button'))"
        " out[b.closest('li').dataset.key] = b.getBoundingClientRect().left; return out;"
    )
    assert left["General/General"] >= left["Rules"] + 8, left  # inside the category: indented
    for key in (k for k in left if "/" not in k):
        assert abs(left[key] - left["Rules"]) < 1, left  # every top-level channel, after the category too: not
    folder = Path(tempfile.mkdtemp(prefix="commune-shapes-"))
    wide, tall = folder / "wide.png", folder / "tall.png"
    wide.write_bytes(tiny_png(64, 48))
    tall.write_bytes(tiny_png(40, 120))
    alice.one("#composer-file").send_keys(f"{wide}\n{tall}")
    alice.wait(lambda _: len(alice.css("#composer-attachments .staged.state-done")) == 2)
    alice.send("two shapes")
    item = message_item(bob, "two shapes")
    bob.wait(lambda _: bob.driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.attachment img')).every(i => i.complete && i.naturalWidth)", item))
    sizes = bob.driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.attachment'), a => [a.getBoundingClientRect().width, a.getBoundingClientRect().height])",
        item,
    )
    assert len(sizes) == 2
    (w1, h1), (w2, h2) = sizes
    assert abs(w1 - 64) <= 2 and abs(h1 - 48) <= 2, sizes  # not stretched to the taller one
    assert abs(w2 - 40) <= 2 and abs(h2 - 120) <= 2, sizes
    bob.screenshot("h08-tree-and-image-shapes.png")

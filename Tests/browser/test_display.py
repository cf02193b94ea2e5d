"""Message display in the web client (issue 13): a day separator above the day's first message, the "New messages"
divider above the first message another member sent after the reader's mark, and the "Jump to present" bar when
messages arrive while the reader is scrolled up. Alice reads in the browser with an identity made by the CLI (so the
CLI can see her read state); Bob sends from the CLI.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from browserkit import PyClient
from test_cli_tail import identity_of
from test_read_state import GENERAL, badge, browsers, cli, import_identity, pytestmark, server  # noqa: F401 - fixtures and the skip mark
from webkit import open_channel


def list_items(browser) -> list[str]:
    """The message list's rows in order: 'day:LABEL', 'divider', or a message's id."""
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#message-list > li'), li =>"
        " li.classList.contains('day-separator') ? 'day:' + li.textContent :"
        " li.classList.contains('unread-divider') ? 'divider' : li.dataset.id || 'pending');"
    )


def general_read(identity: Path) -> bool:
    """Whether `commune channels`, as the member of identity, counts nothing unread in General (the server's mark)."""
    listed = cli("channels", "--identity", str(identity)).splitlines()
    return not any(line.strip().startswith("General  [text]") and "unread" in line for line in listed)


def in_view(browser, text: str) -> bool:
    """Whether a message starting with text is at least partly in the message list's view."""
    return browser.driver.execute_script(
        "const box = document.getElementById('messages').getBoundingClientRect();"
        "const li = Array.from(document.querySelectorAll('#message-list li.message'))"
        ".find(li => li.querySelector('.message-content').textContent.startsWith(arguments[0]));"
        "if (!li) return false; const r = li.getBoundingClientRect(); return r.top < box.bottom && r.bottom > box.top;",
        text,
    )


def read_general_and_leave(browser, identity: Path) -> int:
    """Reads General to its newest message (until the server has the mark), then leaves the page; the newest id."""
    open_channel(browser, "General")
    browser.driver.execute_script("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;")
    browser.wait(lambda _: general_read(identity), timeout=10, message="the read mark did not reach the server")
    newest = max(browser.message_ids())
    browser.driver.get("about:blank")
    return newest


FOLDER = Path(tempfile.mkdtemp(prefix="commune-display-"))


@pytest.fixture(scope="module")
def alice(server, browsers):
    """Alice in the browser, with an identity the CLI made (so `commune channels` shows her read state)."""
    cli("join", server.invite(), "--name", "Alice", "--identity", str(FOLDER / "alice.json"))
    browser = browsers("alice-display")
    import_identity(browser, server.url, FOLDER / "alice.json")
    return browser


def test_divider_day_separator_and_jump_to_present(server, alice):
    alice_id, bob_id = FOLDER / "alice.json", FOLDER / "bob.json"
    cli("join", server.invite(), "--name", "Bob", "--identity", str(bob_id))

    # Alice reads three of Bob's messages; the server has her mark once `commune channels` counts nothing unread.
    for text in ("old 1", "old 2", "old 3"):
        cli("send", GENERAL, text, "--identity", str(bob_id))
    open_channel(alice, "General")
    alice.wait_message("old 3")
    alice.wait(lambda _: general_read(alice_id), timeout=10, message="Alice's read mark did not reach the server")

    # Elsewhere while Bob writes three more; back in General the divider sits above the first of them.
    open_channel(alice, "Rules")
    for text in ("new 1", "new 2", "new 3"):
        cli("send", GENERAL, text, "--identity", str(bob_id))
    alice.wait(lambda _: badge(alice, "General") == 3, message="General does not count Bob's new messages")
    ids = {t: i for i, t in enumerate(["old 1", "old 2", "old 3", "new 1", "new 2", "new 3"], start=1)}
    open_channel(alice, "General")
    alice.wait_message("new 3")
    items = list_items(alice)
    assert items == ["day:Today", *[str(ids[t]) for t in ("old 1", "old 2", "old 3")], "divider", *[str(ids[t]) for t in ("new 1", "new 2", "new 3")]], items
    # Grouped messages (Bob's run) show their time on hover: the time element is there, with the full time as title.
    grouped_time = alice.driver.execute_script(
        "const t = document.querySelector('#message-list li.message.continued .avatar-space time');"
        "return t ? {title: t.title, text: t.textContent} : null;"
    )
    assert grouped_time and grouped_time["title"] and grouped_time["text"], grouped_time
    alice.screenshot("display-divider.png")

    # Tall messages fill the view; Alice scrolls up, Bob writes: the bar offers the present, a click goes there.
    for n in range(5):
        cli("send", GENERAL, f"tall {n}\n" + "\n".join(f"line {i}" for i in range(14)), "--identity", str(bob_id))
    alice.wait(lambda _: any(t.startswith("tall 4") for t in alice.message_texts()))
    alice.driver.execute_script("document.getElementById('messages').scrollTop = 0;")
    sizes = "const b = document.getElementById('messages'); return [b.scrollHeight, b.clientHeight, b.scrollTop];"
    alice.wait(lambda _: not in_view(alice, "tall 4"), message=f"Alice could not scroll up: {alice.driver.execute_script(sizes)}")
    assert alice.driver.execute_script("return document.querySelector('.jump-bar').hidden")
    cli("send", GENERAL, "latest", "--identity", str(bob_id))
    alice.wait(lambda _: "latest" in alice.message_texts())
    alice.wait(lambda _: alice.one(".jump-bar").is_displayed(), message="no Jump to present bar")
    assert alice.one(".jump-bar .jump-text").text == "New messages below"
    assert not in_view(alice, "latest")
    alice.screenshot("display-jump-bar.png")
    alice.one(".jump-bar .jump-button").click()
    alice.wait(lambda _: in_view(alice, "latest"), message="the jump did not reach the newest message")
    alice.wait(lambda _: not alice.one(".jump-bar").is_displayed(), message="the bar stayed after the jump")
    # The divider stays where the unread messages began while the channel stays open.
    assert list_items(alice).count("divider") == 1


def test_markup_in_the_page_and_as_the_cli_prints_it(alice):
    """Bob's message with the subset's markers: the page renders it (a spoiler hiding a masked link until clicked),
    `commune history` prints it as written."""
    bob_id = FOLDER / "bob.json"
    text = "> quoted\n- **one**\n- two\nsee ||[paypal.com](https://evil.example/x)|| <b>not html</b>"
    cli("send", GENERAL, text, "--identity", str(bob_id))
    alice.wait(lambda _: any(t.startswith("quoted") for t in alice.message_texts()), message="Bob's markup message not shown")
    li = alice.driver.execute_script("return document.querySelector('#message-list li.message:last-child .message-content')")
    shape = alice.driver.execute_script(
        "const c = arguments[0]; return {tags: Array.from(c.querySelectorAll('*'), e => e.tagName),"
        " hidden: getComputedStyle(c.querySelector('.spoiler a')).visibility};", li)
    assert shape == {"tags": ["BLOCKQUOTE", "UL", "LI", "STRONG", "LI", "SPAN", "A", "SPAN"], "hidden": "hidden"}, shape
    alice.screenshot("display-markup-hidden.png")
    li.find_element("css selector", ".spoiler").click()
    alice.wait(lambda _: li.find_element("css selector", ".spoiler a").is_displayed())
    assert li.find_element("css selector", ".spoiler a").text == "paypal.com (evil.example)"
    alice.screenshot("display-markup-revealed.png")
    # The CLI prints the markers as written, a spoiler as ||…|| unless asked (--spoilers).
    printed = cli("history", GENERAL, "--amount", "1", "--identity", str(bob_id))
    assert printed.rstrip("\n").endswith("Bob: " + text.replace("||[paypal.com](https://evil.example/x)||", "||…||")), printed
    printed = cli("history", GENERAL, "--amount", "1", "--spoilers", "--identity", str(bob_id))
    assert printed.rstrip("\n").endswith("Bob: " + text), printed
    hostile = "||a|| ||b ||c|| || d|| " + "||x " * 990
    cli("send", GENERAL, hostile, "--identity", str(bob_id))
    printed = cli("history", GENERAL, "--amount", "1", "--identity", str(bob_id))
    assert printed.rstrip("\n").endswith("Bob: ||…|| ||…|| || d|| " + "||x " * 990), printed[-200:]


def test_divider_after_coming_back_to_the_page(server, alice):
    """The page left on General, two messages meanwhile, the page opened again on General: the divider comes from the
    mark the server had (get_read_state), above the first of the two."""
    alice_id, bob_id = FOLDER / "alice.json", FOLDER / "bob.json"
    newest = read_general_and_leave(alice, alice_id)
    for text in ("while away 1", "while away 2"):
        cli("send", GENERAL, text, "--identity", str(bob_id))
    alice.driver.get(server.url)
    alice.wait_screen("main")
    alice.wait(lambda _: alice.one("#channel-title").text == "# General", message="the page did not open General again")
    alice.wait_message("while away 2")
    alice.wait(lambda _: "divider" in list_items(alice), message="no divider after coming back")
    items = list_items(alice)
    assert items.count("divider") == 1 and items[items.index("divider") + 1] == str(newest + 1), items[-5:]


# Sent before the page's own script runs: the page's get_read_state request leaves 1.5 s late, so the newest page of
# history always arrives before the read state (the order that used to lose the divider).
DELAY_READ_STATE = """
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  if (typeof data === "string" && data.includes('"get_read_state"')) {
    window.readStateAskedLate = (window.readStateAskedLate || 0) + 1;
    setTimeout(() => { send.call(this, data); window.readStateSent = true; }, 1500);
    return;
  }
  return send.call(this, data);
};
"""


def divider_place(browser) -> dict | None:
    """Where the New messages divider is in the message list's view (pixels from its top), with the view's height."""
    return browser.driver.execute_script(
        "const box = document.getElementById('messages'); const d = document.querySelector('#message-list .unread-divider');"
        "if (!d) return null; return {top: d.getBoundingClientRect().top - box.getBoundingClientRect().top, height: box.clientHeight,"
        " fromBottom: box.scrollHeight - box.scrollTop - box.clientHeight};"
    )


def test_opening_with_unread_messages_goes_to_the_divider_after_a_reload(server, alice):
    """The page reloaded on General with more unread messages than fit: the list opens at the divider (the first
    unread message near the top), placed from the server's mark although history arrives first, and the mark stays
    until Alice scrolls down; with nothing unread, the page opens at the newest message."""
    alice_id, bob_id = FOLDER / "alice.json", FOLDER / "bob.json"
    newest = read_general_and_leave(alice, alice_id)
    for n in range(12):
        cli("send", GENERAL, f"unread {n}\n" + "\n".join(f"row {i}" for i in range(12)), "--identity", str(bob_id))
    script = alice.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DELAY_READ_STATE})
    try:
        alice.driver.get(server.url)
        alice.wait_screen("main")
        alice.wait(lambda _: alice.one("#channel-title").text == "# General", message="the page did not open General again")
        alice.wait(lambda _: "unread 11" in " ".join(alice.message_texts()), message="history did not arrive")
        alice.wait(lambda _: divider_place(alice) is not None, message="no divider after the reload")
        assert alice.driver.execute_script("return window.readStateAskedLate") == 1
        items = list_items(alice)
        assert items.count("divider") == 1 and items[items.index("divider") + 1] == str(newest + 1), items[-15:]
        # The divider near the top of the view, the first unread message in view, the newest one below.
        place = divider_place(alice)
        assert 0 <= place["top"] <= 60 and place["fromBottom"] > 200, place
        assert in_view(alice, "unread 0") and not in_view(alice, "unread 11")
        alice.screenshot("display-open-at-divider.png")
        # Not read while Alice has not scrolled down: the server still counts the messages unread (two rounds of
        # the page's 2 s mark throttle later), and the view stays at the divider.
        time.sleep(4)
        assert not general_read(alice_id)
        assert divider_place(alice) == place
        alice.driver.execute_script("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;")
        alice.wait(lambda _: general_read(alice_id), timeout=10, message="scrolling to the newest did not mark it read")

        # Nothing unread: the reload opens at the newest message, without a divider.
        alice.driver.get(server.url)
        alice.wait_screen("main")
        alice.wait(lambda _: alice.one("#channel-title").text == "# General")
        alice.wait(lambda _: "unread 11" in " ".join(alice.message_texts()))
        alice.wait(lambda _: alice.driver.execute_script("return window.readStateSent === true"))
        time.sleep(1)  # the read state's answer
        alice.wait(lambda _: in_view(alice, "unread 11"), message="the newest message is not in view")
        assert "divider" not in list_items(alice)
    finally:
        alice.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


def test_more_unread_than_a_page_opens_at_the_first_of_them(server, alice):
    """60 messages while Alice was away, more than the newest page (50): the page loads back to the first unread one
    and opens there, with the divider above it."""
    alice_id, bob_id = FOLDER / "alice.json", FOLDER / "bob.json"
    newest = read_general_and_leave(alice, alice_id)
    bob = PyClient(server.url.replace("http", "ws"), identity_of(bob_id))
    bob.login()
    for n in range(60):
        bob.send_message("General", "General", f"many {n}")
    bob.close()
    alice.driver.get(server.url)
    alice.wait_screen("main")
    alice.wait(lambda _: alice.one("#channel-title").text == "# General", message="the page did not open General again")
    alice.wait(lambda _: divider_place(alice) is not None and in_view(alice, "many 0"), message="not opened at the first unread")
    items = list_items(alice)
    assert items.count("divider") == 1 and items[items.index("divider") + 1] == str(newest + 1), items[:5]
    assert str(newest + 60) in items, "the newest message is not loaded"
    place = divider_place(alice)
    assert 0 <= place["top"] <= 60, place
    assert not in_view(alice, "many 59")
    # Read to the end.
    alice.driver.execute_script("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight;")
    alice.wait(lambda _: general_read(alice_id), timeout=10, message="scrolling to the newest did not mark it read")


def test_a_reply_preview_keeps_the_spoiler_hidden(alice):
    bob_id = FOLDER / "bob.json"
    cli("send", GENERAL, "||the butler|| did it", "--identity", str(bob_id))
    alice.wait_message("the butler did it")
    original = max(alice.message_ids())
    cli("send", GENERAL, "no way", "--reply-to", str(original), "--identity", str(bob_id))
    alice.wait_message("no way")
    preview = alice.driver.execute_script(
        "const p = document.querySelector('#message-list li.message:last-child .reply-text');"
        "const s = p && p.querySelector('.spoiler');"
        "return p && {text: p.textContent, spoiler: s && s.textContent, revealed: s && s.classList.contains('revealed'),"
        " color: s && getComputedStyle(s).color};"
    )
    assert preview["text"] == "the butler did it" and preview["spoiler"] == "the butler", preview
    assert not preview["revealed"] and preview["color"] == "rgba(0, 0, 0, 0)", preview
    printed = cli("history", GENERAL, "--amount", "1", "--identity", str(bob_id))
    assert printed.rstrip("\n").endswith(f"↪ #{original} Bob: ||…|| did it | Bob: no way"), printed

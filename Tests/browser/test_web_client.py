"""The web client against a real Commune server, in real headless Chromium sessions: joining and the conversation.

One community for the whole module; the tests run in file order and build on each other, as people would:
Alice and Bob join by invite links, chat both ways, Alice reloads and is signed in again with the history, markup
stays text, server errors are shown, the connection drops and comes back without losing or doubling messages,
the page works at phone width, and Alice's exported identity signs her in from a third browser. Managing the
community from the web client (channels, topics, edits, profiles, images, invites and bans) is in
test_web_client_features.py; the helpers both use are in webkit.py.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from browserkit import WAIT, PyClient, new_identity, set_member_permission
from webkit import (  # noqa: F401 - server and people: this module's own community and browsers
    COMMUNE_BIN,
    GENERAL,
    assert_no_alert,
    close_dialog,
    dismiss_toasts,
    join,
    people,
    server,
    set_field,
    sign_in_with_file,
    submit_dialog,
    toast_with_code,
    tree_labels,
)

pytestmark = pytest.mark.skipif(
    not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"
)


# ---------------------------------------------------------------------------------------------------------------


def test_alice_joins_by_invite(server, people):
    assert server.owner_invite, f"the first start printed no owner invite:\n{server.log_tail()}"
    alice = people("alice")
    join(alice, server.owner_invite, "Alice", screenshot="01-join-screen.png")
    # The channel tree of a new community, in position order.
    assert tree_labels(alice) == ["General", "General", "VC-1", "Rules"]
    assert alice.one("#channel-title").text == "# General"
    assert alice.one("#me-name").text == "Alice"
    banner = alice.wait_visible("#identity-banner")
    assert "only in this browser" in banner.text
    assert alice.one("#banner-export").is_displayed()


def test_bob_joins_and_alice_sees_him_online(server, people):
    alice = people("alice")
    bob = people("bob")
    join(bob, server.invite(), "Bob")
    alice.wait(
        lambda _: alice.driver.execute_script(
            "return Array.from(document.querySelectorAll('#member-list .member.online .member-name'), e => e.textContent)"
        )
        == ["Alice", "Bob"],
        message="Alice's member list never showed Bob online",
    )


def test_chat_both_ways_live(people):
    alice = people("alice")
    bob = people("bob")
    hello = "Hello Bob — **bold**, *italic*, `code` and https://example.org/docs 😀 ünïcødé Привет Ωμέγα"
    alice.send(hello)
    shown = "Hello Bob — bold, italic, code and https://example.org/docs 😀 ünïcødé Привет Ωμέγα"
    bob.wait_message(shown)
    last = bob.css("#message-list li.message")[-1]
    assert [e.text for e in last.find_elements(By.CSS_SELECTOR, "strong")] == ["bold"]
    assert [e.text for e in last.find_elements(By.CSS_SELECTOR, "em")] == ["italic"]
    assert [e.text for e in last.find_elements(By.CSS_SELECTOR, "code")] == ["code"]
    links = last.find_elements(By.CSS_SELECTOR, "a")
    assert [a.get_attribute("href") for a in links] == ["https://example.org/docs"]
    assert "noopener" in links[0].get_attribute("rel")
    assert last.find_element(By.CSS_SELECTOR, ".author").text == "Alice"

    bob.send("Hi Alice! A longer line to see wrapping: " + "lorem ipsum dolor sit amet " * 12)
    alice.wait_message("Hi Alice! A longer line to see wrapping: " + "lorem ipsum dolor sit amet " * 12)
    bob.send("line one\nline two")
    alice.wait_message("line one\nline two")
    assert alice.message_ids() == [1, 2, 3]
    assert bob.message_ids() == [1, 2, 3]
    alice.screenshot("02-chat-desktop.png")


def test_markup_injection_stays_text(people):
    alice = people("alice")
    bob = people("bob")
    attack = "<img src=x onerror=alert(1)>"
    attack2 = '<script>window.__pwned = 1</script><b onmouseover="alert(2)">x</b> [y](javascript:alert(3))'
    bob.send(attack)
    alice.wait_message(attack)
    bob.send(attack2)
    alice.wait_message(attack2)
    time.sleep(0.5)
    for browser in (alice, bob):
        assert_no_alert(browser)
        assert browser.css("#message-list img, #message-list script, #message-list b") == []
        assert browser.driver.execute_script("return window.__pwned === undefined")
        hrefs = browser.driver.execute_script(
            "return Array.from(document.querySelectorAll('#message-list a'), a => a.protocol)"
        )
        assert set(hrefs) <= {"http:", "https:"}
    assert attack in alice.message_texts()


def test_too_large_message_shows_the_servers_error(people):
    alice = people("alice")
    before = alice.message_ids()
    alice.send("x" * 4001)
    toast = toast_with_code(alice, "too_large")
    message = toast.find_element(By.CSS_SELECTOR, ".toast-message").text
    assert message.strip(), "the toast must carry the server's data.message"
    failed = alice.wait_visible("#message-list li.pending.state-failed")
    assert message in failed.text
    alice.screenshot("03-error-too-large.png")
    assert alice.message_ids() == before, "a refused message must not appear as sent"
    failed.find_element(By.XPATH, ".//button[text()='Discard']").click()
    alice.wait(lambda _: not alice.css("#message-list li.pending"))
    dismiss_toasts(alice)


def test_sending_to_a_missing_channel_shows_not_found(people):
    bob = people("bob")
    bob.driver.execute_script("window.commune.send('Gone/Nowhere', 'anyone there?')")
    toast = toast_with_code(bob, "not_found")
    assert toast.find_element(By.CSS_SELECTOR, ".toast-message").text.strip()
    dismiss_toasts(bob)


def test_forbidden_action_shows_the_servers_error(people):
    """Bob is a plain member (an ordinary invite): he is offered no way to create channels. When the member group
    may create them he is; if the permission is taken away while his create dialog is open, the server refuses
    with `forbidden`, the page shows the server's own message, and Alice's tree does not change."""
    alice = people("alice")
    bob = people("bob")
    before = tree_labels(alice)
    bob.one("#open-community").click()
    bob.wait_visible("#app-dialog .community-no-actions")
    assert bob.css("#app-dialog .community-create-channel") == []
    close_dialog(bob)
    set_member_permission(alice, "manage_channels", True)
    bob.wait(lambda _: bob.css("#channel-tree .node-add"), message="Bob was not offered creating channels")
    bob.one("#open-community").click()
    bob.wait_visible("#app-dialog .community-create-channel").click()
    set_field(bob, "name", "bobs-channel")
    set_member_permission(alice, "manage_channels", False)
    bob.wait(lambda _: not bob.css("#channel-tree .node-add"), message="Bob kept a permission taken away")
    submit_dialog(bob)
    inline = bob.wait_visible('#app-dialog .dialog-error[data-code="forbidden"]')
    shown = inline.find_element(By.CSS_SELECTOR, ".dialog-error-message").text
    toast = toast_with_code(bob, "forbidden")
    assert toast.find_element(By.CSS_SELECTOR, ".toast-title").text.startswith("Not allowed")
    message = toast.find_element(By.CSS_SELECTOR, ".toast-message").text
    assert message.strip() and message == shown, (message, shown)
    assert "manage_channels" in message or "permission" in message.lower(), message
    bob.screenshot("03b-forbidden-create-channel.png")
    close_dialog(bob)
    time.sleep(0.5)
    assert tree_labels(alice) == before
    assert "bobs-channel" not in tree_labels(bob)
    dismiss_toasts(bob)


def test_reload_signs_in_again_with_history_and_pages_back(server, people):
    alice = people("alice")
    # A third member (a Python client speaking the protocol) fills the channel past a few pages.
    bot = PyClient(server.url.replace("http", "ws"), new_identity())
    try:
        bot.register(server.invite(), "Pagebot")
        bot.login()
        for n in range(1, 131):
            bot.send_message("General", "General", f"page filler {n}")
    finally:
        bot.close()
    alice.wait_message("page filler 130")
    total = 5 + 130

    alice.driver.refresh()
    alice.wait(lambda _: alice.screen() in ("loading", "main"))
    assert alice.screen() != "join"
    alice.wait_screen("main")
    alice.wait(lambda _: alice.connection() == "online")
    alice.wait_message("page filler 130")
    first_page = alice.message_ids()
    assert len(first_page) < total, "only the newest pages should load at first"
    assert first_page == sorted(set(first_page))

    deadline = time.monotonic() + WAIT * 2
    while time.monotonic() < deadline:
        alice.driver.execute_script("document.getElementById('messages').scrollTop = 0")
        if "beginning of" in alice.one("#history-status").text:
            break
        time.sleep(0.3)
    assert "beginning of #General" in alice.one("#history-status").text
    ids = alice.message_ids()
    assert ids == list(range(1, total + 1)), "scroll-back must reach message 1 without gaps or doubles"
    texts = alice.message_texts()
    assert texts[0].startswith("Hello Bob")
    alice.driver.execute_script("document.getElementById('messages').scrollTop = 0")
    time.sleep(0.2)
    alice.screenshot("04-history-scrolled-back.png")
    alice.driver.execute_script("const m = document.getElementById('messages'); m.scrollTop = m.scrollHeight")


def test_reconnect_keeps_every_message_once(server, people):
    alice = people("alice")
    bob = people("bob")
    before = alice.message_ids()
    server.stop()
    for browser in (alice, bob):
        browser.wait(lambda _, b=browser: b.connection() in ("reconnecting", "connecting"), message="no reconnect state")
        banner = browser.wait_visible("#conn-banner")
        assert "reconnecting" in banner.text.lower()
    alice.screenshot("05-reconnecting.png")
    bob.send("sent while the server was away")
    bob.wait_visible("#message-list li.pending.state-queued")
    server.start()
    for browser in (alice, bob):
        browser.driver.execute_script("document.getElementById('conn-retry').click()")
    bob.wait(lambda _: bob.connection() == "online", timeout=WAIT * 2, message="Bob never reconnected")
    alice.wait(lambda _: alice.connection() == "online", timeout=WAIT * 2, message="Alice never reconnected")
    alice.wait_message("sent while the server was away")
    bob.wait(lambda _: not bob.css("#message-list li.pending"), message="Bob's queued message never went out")
    alice.wait(lambda _: not alice.css("#conn-banner:not([hidden])"))
    # One more after the reconnect, live.
    bob.send("and one after")
    alice.wait_message("and one after")
    ids = alice.message_ids()
    assert ids == list(range(1, len(before) + 3)), ids
    assert alice.message_texts().count("sent while the server was away") == 1
    assert bob.message_texts().count("sent while the server was away") == 1


def test_phone_width(people):
    bob = people("bob")
    GAP = "const m = document.getElementById('messages'); return [m.scrollHeight - m.scrollTop - m.clientHeight, m.scrollHeight, m.clientHeight];"
    assert bob.driver.execute_script(GAP)[0] < 80
    bob.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        time.sleep(0.4)
        assert not bob.one("#sidebar").is_displayed() or bob.driver.execute_script(
            "return document.getElementById('sidebar').getBoundingClientRect().right <= 0"
        )
        assert bob.one("#open-sidebar").is_displayed()
        assert bob.one("#composer-input").is_displayed()
        width = bob.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
        bob.wait(lambda _: bob.driver.execute_script(GAP)[0] < 80, message="the newest message left the view on resize")
        bob.screenshot("06-phone-chat.png")
        bob.one("#open-sidebar").click()
        bob.wait(lambda _: bob.driver.execute_script(
            "const r = document.getElementById('sidebar').getBoundingClientRect(); return r.left >= 0 && r.width > 100"
        ))
        time.sleep(0.3)
        bob.screenshot("07-phone-channels.png")
        rules = [e for e in bob.css("#channel-tree .channel-button") if e.text.endswith("Rules")][0]
        rules.click()
        bob.wait(lambda _: bob.one("#channel-title").text == "# Rules")
        bob.wait(lambda _: "beginning of #Rules" in bob.one("#history-status").text)
    finally:
        bob.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_identity_export_and_import_in_another_browser(server, people):
    alice = people("alice")
    alice.one("#banner-export").click()
    alice.wait(lambda _: any(p.suffix == ".json" for p in alice.downloads.iterdir()), message="no identity file")
    exported = next(p for p in alice.downloads.iterdir() if p.suffix == ".json")
    identity = json.loads(exported.read_text())
    assert set(identity) == {"version", "user_id", "private_key", "public_key", "communities"}
    assert identity["version"] == 1
    assert len(base64.b64decode(identity["private_key"], validate=True)) == 32
    assert len(base64.b64decode(identity["public_key"], validate=True)) == 32
    assert not alice.one("#identity-banner").is_displayed()
    [entry] = identity["communities"]
    assert entry["url"] == server.url.rstrip("/") and entry["username"] == "Alice"
    assert len(base64.b64decode(entry["community_key"], validate=True)) == 32

    # The same file works with the CLI.
    cli = subprocess.run(
        [COMMUNE_BIN, "history", GENERAL, "--identity", str(exported), "--amount", "3", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert "and one after" in cli.stdout

    carol = people("alice-laptop")
    sign_in_with_file(carol, server, exported, "Alice")
    # The identity dialog explains where the identity lives.
    carol.one("#open-identity").click()
    dialog = carol.wait_visible("#identity-dialog")
    assert "only in this browser" in dialog.text
    assert identity["user_id"] in dialog.text
    carol.screenshot("08-identity-dialog.png")


def test_cli_identity_imports_into_the_browser(server, people):
    folder = Path(tempfile.mkdtemp(prefix="commune-cli-identity-"))
    path = folder / "identity.json"
    cli = subprocess.run(
        [COMMUNE_BIN, "join", server.invite(), "--name", "Dave", "--identity", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    dave = people("dave")
    sign_in_with_file(dave, server, path, "Dave")
    # Nobody asked Dave to export: the CLI already keeps his file.
    assert not dave.one("#identity-banner").is_displayed()


# ---------------------------------------------------------------------------------------------------------------
# The community's features, with Alice (the owner) acting and Bob (a plain member) watching live.


def test_no_console_errors_while_joining_and_talking(people):
    for name in ("alice", "bob"):
        errors = [
            e
            for e in people(name).severe_console_errors()
            if "favicon" not in e and "WebSocket" not in e and "ERR_CONNECTION_REFUSED" not in e
        ]
        assert errors == [], (name, errors)

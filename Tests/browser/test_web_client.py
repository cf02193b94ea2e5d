"""The web client against a real Commune server, in real headless Chromium sessions.

One community for the whole module; the tests run in file order and build on each other, as people would:
Alice and Bob join by invite links, chat both ways, Alice reloads and is signed in again with the history, markup
stays text, server errors are shown, the connection drops and comes back without losing or doubling messages,
the page works at phone width, and Alice's exported identity signs her in from a third browser.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from browserkit import REPO, WAIT, Browser, CommuneServer, PyClient, new_identity, set_member_permission

COMMUNE_BIN = os.environ.get("COMMUNE_BIN", str(REPO / ".build" / "debug" / "commune"))

pytestmark = pytest.mark.skipif(
    not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"
)

GENERAL = "General/General"


@pytest.fixture(scope="module")
def server():
    srv = CommuneServer(COMMUNE_BIN)
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def people():
    made: dict[str, Browser] = {}

    def get(name: str, **kwargs) -> Browser:
        if name not in made:
            made[name] = Browser(name, **kwargs)
        return made[name]

    yield get
    for browser in made.values():
        browser.quit()


def join(browser: Browser, invite_link: str, username: str, screenshot: str | None = None) -> None:
    browser.driver.get(invite_link)
    browser.wait_screen("join")
    note = browser.one("#join-note").text
    assert "only" in note and "browser" in note, "the join screen must say where the identity lives"
    if screenshot:
        browser.screenshot(screenshot)
    browser.one("#join-name").send_keys(username)
    browser.one("#join-submit").click()
    browser.wait_screen("main")
    browser.wait(lambda _: browser.connection() == "online", message=f"{browser.name} never came online")
    assert "#invite=" not in browser.driver.current_url, "the invite should leave the address after joining"


def sign_in_with_file(browser: Browser, server: CommuneServer, identity_file: Path, username: str) -> None:
    """A fresh browser opens the community without an invite, imports an identity file and is signed in."""
    browser.driver.get(server.url)
    browser.wait_screen("welcome")
    browser.one("#welcome-import").send_keys(str(identity_file))
    browser.wait_screen("main")
    browser.wait(lambda _: browser.connection() == "online")
    assert browser.one("#me-name").text == username
    browser.wait_message("and one after")


def toast_with_code(browser: Browser, code: str):
    return browser.wait_visible(f'.toast[data-code="{code}"]')


def dismiss_toasts(browser: Browser) -> None:
    browser.driver.execute_script("document.querySelectorAll('.toast').forEach(t => t.remove())")


def assert_no_alert(browser: Browser) -> None:
    try:
        alert = browser.driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        pytest.fail(f"an alert opened: {text!r}")
    except NoAlertPresentException:
        pass


def set_field(browser: Browser, name: str, value) -> None:
    """Fills a field of the open dialog (text, textarea, select or checkbox) as a person would."""
    field = browser.wait_visible(f'#app-dialog [data-field="{name}"]')
    if field.get_attribute("type") == "checkbox":
        if field.is_selected() != bool(value):
            field.click()
        return
    if field.tag_name == "select":
        browser.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", field, value
        )
        return
    field.clear()
    field.send_keys(str(value))


def submit_dialog(browser: Browser) -> None:
    browser.wait_visible("#app-dialog .dialog-submit").click()


def wait_dialog_closed(browser: Browser) -> None:
    browser.wait(lambda _: not browser.driver.execute_script("return document.getElementById('app-dialog').open"),
                 message=f"{browser.name}: the dialog stayed open")


def close_dialog(browser: Browser) -> None:
    browser.driver.execute_script("const d = document.getElementById('app-dialog'); if (d.open) d.close()")
    wait_dialog_closed(browser)


def open_channel(browser: Browser, name: str) -> None:
    script = (
        "const b = Array.from(document.querySelectorAll('#channel-tree .channel-button'))"
        ".find(b => b.querySelector('.channel-name').textContent === arguments[0]);"
        "if (b) b.click(); return Boolean(b);"
    )
    browser.wait(lambda _: browser.driver.execute_script(script, name), message=f"{browser.name}: no channel {name}")
    browser.wait(lambda _: browser.one("#channel-title").text == f"# {name}")


def message_item(browser: Browser, text: str):
    """The <li> of the (not pending) message whose content is `text`."""
    def find(_):
        for li in browser.css("#message-list li.message:not(.pending)"):
            contents = li.find_elements(By.CSS_SELECTOR, ".message-content")
            if contents and contents[0].text == text:
                return li
        return False

    return browser.wait(find, message=f"{browser.name}: no message {text!r}")


def member_row(browser: Browser, user_id: str):
    return browser.wait_visible(f'#member-list li.member[data-user-id="{user_id}"]')


def my_user_id(browser: Browser) -> str:
    return browser.driver.execute_script("return JSON.parse(localStorage.getItem('commune.identity.v1')).user_id")


def tiny_png(width: int = 64, height: int = 48) -> bytes:
    """A real RGB PNG (a colour gradient), made with zlib and struct only."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 160)) for x in range(width)) for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def tree_labels(browser: Browser) -> list[str]:
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#channel-tree .category-toggle, #channel-tree .channel-name'),"
        " e => e.textContent.replace(/^[▾▸] /, ''))"
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


def test_owner_creates_a_channel_and_others_see_it_live(people):
    alice = people("alice")
    bob = people("bob")
    dismiss_toasts(alice)
    alice.one("#open-community").click()
    alice.wait_visible("#app-dialog .community-create-channel").click()
    set_field(alice, "codec", "text")
    set_field(alice, "name", "projects")
    set_field(alice, "parent", "General")
    alice.screenshot("09-admin-create-channel.png")
    submit_dialog(alice)
    wait_dialog_closed(alice)
    # Alice lands in the new channel; Bob's tree grows without reloading.
    alice.wait(lambda _: alice.one("#channel-title").text == "# projects")
    bob.wait(lambda _: "projects" in tree_labels(bob), message="Bob never saw the new channel")
    assert tree_labels(bob) == ["General", "General", "VC-1", "projects", "Rules"]
    assert tree_labels(alice) == tree_labels(bob)
    open_channel(bob, "projects")
    bob.wait(lambda _: "beginning of #projects" in bob.one("#history-status").text)


def test_topic_set_shows_in_the_other_header(people):
    alice = people("alice")
    bob = people("bob")
    topic = "Plans & <b>ideas</b> — one line"
    alice.wait_visible("#channel-topic").click()
    set_field(alice, "topic", topic)
    submit_dialog(alice)
    wait_dialog_closed(alice)
    alice.wait(lambda _: alice.one("#channel-topic").text == topic)
    bob.wait(lambda _: bob.one("#channel-topic").is_displayed() and bob.one("#channel-topic").text == topic,
             message="Bob's header never showed the topic")
    assert bob.css("#channel-topic b") == []


def test_edit_and_remove_own_message_live(people):
    alice = people("alice")
    bob = people("bob")
    alice.send("first draft")
    bob.wait_message("first draft")
    mine = message_item(alice, "first draft")
    mine.find_element(By.CSS_SELECTOR, ".message-content").click()  # a tap shows the message's tools
    mine.find_element(By.CSS_SELECTOR, ".msg-edit").click()
    alice.wait_visible("#composer-editing")
    assert alice.one("#composer-input").get_attribute("value") == "first draft"
    alice.send("second draft, **better**")
    bob.wait_message("second draft, better")
    edited = message_item(bob, "second draft, better")
    bob.wait(lambda _: edited.find_element(By.CSS_SELECTOR, ".edited").text.strip() == "(edited)")
    assert edited.find_element(By.CSS_SELECTOR, ".author").text == "Alice"
    assert not alice.one("#composer-editing").is_displayed()
    # Bob, a plain member, is offered no tools on Alice's message.
    assert edited.find_elements(By.CSS_SELECTOR, ".msg-edit, .msg-remove") == []

    mine = message_item(alice, "second draft, better")
    message_id = mine.get_attribute("data-id")
    mine.find_element(By.CSS_SELECTOR, ".message-content").click()
    mine.find_element(By.CSS_SELECTOR, ".msg-remove").click()
    alice.wait_visible("#app-dialog .dialog-submit")
    submit_dialog(alice)
    wait_dialog_closed(alice)
    for browser in (alice, bob):
        item = browser.wait_visible(f'#message-list li.message.removed[data-id="{message_id}"]')
        assert item.find_element(By.CSS_SELECTOR, ".message-content").text == "Message Removed"
        assert item.get_attribute("data-sender") == ""
        assert item.find_elements(By.CSS_SELECTOR, ".author") == []
        assert "second draft" not in browser.message_texts()


def test_me_action_renders_as_an_action_in_both_sessions(people):
    alice = people("alice")
    bob = people("bob")
    bob.send("/me waves")
    for browser in (bob, alice):
        item = message_item(browser, "waves")
        assert "action" in item.get_attribute("class").split()
        assert item.get_attribute("data-kind") == "action"
        assert item.find_element(By.CSS_SELECTOR, ".action-actor").text == "Bob"
        assert item.find_element(By.CSS_SELECTOR, ".message-text").text == "* Bob waves"
    assert "/me waves" not in alice.message_texts()


def set_profile(session, name, status, text):
    """Sets the session's own display name and status through the profile dialog."""
    session.one("#open-profile").click()
    set_field(session, "username", name)
    set_field(session, "status", status)
    set_field(session, "text", text)
    submit_dialog(session)
    wait_dialog_closed(session)


def test_status_and_display_name_show_live_in_the_members_panel(people):
    alice = people("alice")
    bob = people("bob")
    bob_id = my_user_id(bob)
    set_profile(bob, "Bobby", "busy", "in a meeting")
    bob.wait(lambda _: bob.one("#me-name").text == "Bobby")
    bob.wait(lambda _: bob.one("#me-status").text == "busy — in a meeting")
    row = lambda: member_row(alice, bob_id)  # noqa: E731 - re-found after each re-render
    alice.wait(lambda _: row().find_element(By.CSS_SELECTOR, ".member-name").text == "Bobby",
               message="Alice never saw Bob's new name")
    alice.wait(lambda _: row().get_attribute("data-status") == "busy")
    assert row().find_element(By.CSS_SELECTOR, ".member-status").text == "Busy — in a meeting"
    assert row().find_element(By.CSS_SELECTOR, ".group-badge").text == "member"
    alice_row = member_row(alice, my_user_id(alice))
    assert alice_row.find_element(By.CSS_SELECTOR, ".group-badge").text == "owner"
    # Names in the chat follow the rename.
    alice.wait(lambda _: message_item(alice, "waves").find_element(By.CSS_SELECTOR, ".action-actor").text == "Bobby")
    alice.screenshot("10-members-panel.png")
    # Back to plain "online" for the tests that follow.
    set_profile(bob, "Bob", "online", "")
    alice.wait(lambda _: row().get_attribute("data-status") == "online"
               and row().find_element(By.CSS_SELECTOR, ".member-name").text == "Bob")
    assert row().find_elements(By.CSS_SELECTOR, ".member-status") == []


def test_image_upload_is_shown_in_the_other_session(server, people):
    alice = people("alice")
    bob = people("bob")
    folder = Path(tempfile.mkdtemp(prefix="commune-upload-"))
    image = folder / "gradient.png"
    image.write_bytes(tiny_png(64, 48))
    alice.one("#composer-file").send_keys(str(image))
    alice.wait_visible("#composer-attachments .staged.state-done")
    alice.send("a picture")
    item = message_item(bob, "a picture")
    box = item.find_element(By.CSS_SELECTOR, ".attachment")
    assert box.get_attribute("data-type") == "image/png"
    img = box.find_element(By.CSS_SELECTOR, "img")
    bob.wait(lambda _: bob.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 64,
             message="Bob's page never showed the image")
    assert img.get_attribute("src").startswith("blob:")
    # The box had the image's shape (64×48) before the bytes came: no layout jump.
    size = bob.driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", box)
    assert abs(size[0] - 64) <= 2 and abs(size[1] - 48) <= 2, size
    assert not alice.one("#composer-attachments").is_displayed()
    item = message_item(alice, "a picture")
    alice.wait(lambda _: alice.driver.execute_script(
        "const i = arguments[0].querySelector('.attachment img'); return i && i.complete && i.naturalWidth", item) == 64)
    bob.screenshot("11-image-message.png")

    # A text file dressed as a PNG: the server refuses it by its content, and its words are shown.
    fake = folder / "not-really.png"
    fake.write_text("this is only text, not an image\n")
    probe = PyClient(server.url.replace("http", "ws"), new_identity())
    try:
        probe.register(server.invite(), "Probe")
        token = probe.login()["session_token"]
    finally:
        probe.close()
    request = urllib.request.Request(
        server.url + "api/attachments", data=fake.read_bytes(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/png"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    expected = json.loads(refused.value.read())
    assert refused.value.code == 400 and expected["code"] == "invalid_argument"
    dismiss_toasts(alice)
    alice.one("#composer-file").send_keys(str(fake))
    toast = toast_with_code(alice, "invalid_argument")
    assert toast.find_element(By.CSS_SELECTOR, ".toast-message").text == expected["message"]
    assert "not-really.png" in toast.find_element(By.CSS_SELECTOR, ".toast-title").text
    alice.wait(lambda _: not alice.css("#composer-attachments .staged"))
    dismiss_toasts(alice)


def test_invite_from_the_ui_then_ban_with_vengeance(server, people):
    alice = people("alice")
    bob = people("bob")
    alice.one("#open-community").click()
    alice.wait_visible("#app-dialog .community-create-invite").click()
    set_field(alice, "uses", 1)
    submit_dialog(alice)
    link_field = alice.wait_visible("#invite-link")
    link = link_field.get_attribute("value")
    assert "#invite=" in link and link.startswith(server.url.rstrip("/"))
    alice.one("#invite-copy").click()
    alice.wait(lambda _: alice.one("#invite-copy").text in ("Copied", "Select and copy"))
    alice.screenshot("12-invite-created.png")
    submit_dialog(alice)
    wait_dialog_closed(alice)

    erin = people("erin")
    join(erin, link, "Erin")
    open_channel(erin, "projects")
    erin.send("spam spam spam")
    bob.wait_message("spam spam spam")
    erin_id = my_user_id(erin)
    member_row(alice, erin_id).find_element(By.CSS_SELECTOR, ".member-button").click()
    alice.wait_visible("#app-dialog .member-ban").click()
    set_field(alice, "reason", "spam")
    set_field(alice, "vengeance", True)
    alice.screenshot("13-ban-dialog.png")
    submit_dialog(alice)
    wait_dialog_closed(alice)
    # Erin is out, her message is masked for everyone, and the members lists drop her.
    erin.wait_screen("welcome")
    for browser in (alice, bob):
        browser.wait(lambda _, b=browser: not b.css(f'#member-list li.member[data-user-id="{erin_id}"]'))
        browser.wait(lambda _, b=browser: "spam spam spam" not in b.message_texts(),
                     message=f"{browser.name} still shows the banned member's message")
        assert any("Message Removed" == t for t in browser.message_texts())


def test_renamed_channel_keeps_its_view_and_a_removed_one_moves_you(people):
    alice = people("alice")
    bob = people("bob")
    dismiss_toasts(bob)
    dismiss_toasts(alice)
    alice.one("#edit-topic").click()
    alice.wait_visible("#app-dialog .node-rename").click()
    set_field(alice, "new_name", "plans")
    submit_dialog(alice)
    wait_dialog_closed(alice)
    for browser in (alice, bob):
        browser.wait(lambda _, b=browser: b.one("#channel-title").text == "# plans",
                     message=f"{browser.name} did not follow the rename")
        assert "a picture" in browser.message_texts()
    assert not bob.css(".toast")

    alice.one("#edit-topic").click()
    alice.wait_visible("#app-dialog .node-remove").click()
    submit_dialog(alice)
    wait_dialog_closed(alice)
    for browser in (alice, bob):
        browser.wait(lambda _, b=browser: b.one("#channel-title").text == "# General",
                     message=f"{browser.name} stayed in a removed channel")
        assert "plans" not in tree_labels(browser)
        browser.wait(lambda _, b=browser: any("plans was removed" in t.text for t in b.css(".toast")),
                     message=f"{browser.name} was not told that the channel was removed")
    bob.screenshot("14-channel-removed.png")


def test_members_and_dialogs_fit_at_phone_width(people):
    bob = people("bob")
    bob.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        time.sleep(0.4)
        bob.one("#open-members").click()
        bob.wait(lambda _: bob.driver.execute_script(
            "const r = document.getElementById('members').getBoundingClientRect(); return r.right <= 391 && r.width > 100"
        ))
        time.sleep(0.3)
        bob.screenshot("15-phone-members.png")
        bob.one("#close-members").click()
        bob.one("#open-sidebar").click()
        bob.wait(lambda _: bob.driver.execute_script(
            "return document.getElementById('sidebar').getBoundingClientRect().left >= 0"))
        bob.wait_visible("#open-profile").click()
        dialog = bob.wait_visible("#app-dialog")
        width = bob.driver.execute_script("return [arguments[0].getBoundingClientRect().width, document.documentElement.scrollWidth]", dialog)
        assert width[0] <= 390 and width[1] <= 390, width
        bob.screenshot("16-phone-profile-dialog.png")
        close_dialog(bob)
    finally:
        bob.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def expected_refusal(entry: str) -> bool:
    """Chromium logs every HTTP error status as a console error; the one refused upload is provoked on purpose
    (test_image_upload_is_shown_in_the_other_session), so exactly that line is not an error of the page."""
    return "/api/attachments - Failed to load resource" in entry and "status of 400" in entry


def test_no_console_errors(people):
    for name in ("alice", "bob", "erin"):
        errors = [
            e
            for e in people(name).severe_console_errors()
            if "favicon" not in e and "WebSocket" not in e and "ERR_CONNECTION_REFUSED" not in e and not expected_refusal(e)
        ]
        assert errors == [], (name, errors)

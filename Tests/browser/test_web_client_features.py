"""The web client against a real Commune server, in real headless Chromium sessions: running the community.

One community for the whole module; the tests run in file order and build on each other: Alice (the owner) and
Bob join, Alice creates a channel and sets its topic, both edit and remove their own messages and use /me, set
display names and statuses, share an image, Alice invites Erin from the web client and bans her with vengeance,
renames and removes channels, and every dialog fits at phone width. Joining and the conversation itself are in
test_web_client.py; the helpers both use are in webkit.py.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from browserkit import PyClient, new_identity
from webkit import (  # noqa: F401 - server and people: this module's own community and browsers
    COMMUNE_BIN,
    close_dialog,
    dismiss_toasts,
    join,
    member_row,
    message_item,
    my_user_id,
    open_channel,
    people,
    server,
    set_field,
    submit_dialog,
    tiny_png,
    toast_with_code,
    tree_labels,
    wait_dialog_closed,
)

pytestmark = pytest.mark.skipif(
    not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"
)


def test_alice_and_bob_join(server, people):
    assert server.owner_invite, f"the first start printed no owner invite:\n{server.log_tail()}"
    alice = people("alice")
    bob = people("bob")
    join(alice, server.owner_invite, "Alice")
    join(bob, server.invite(), "Bob")
    alice.send("hello from Alice")
    bob.wait_message("hello from Alice")


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

"""Private channels in the web client, in real Chromium sessions on a real server.

Alice (the owner) makes the channel Bob is reading private to moderators from its settings: it closes for Bob with
a message and leaves his tree live, while Alice's tree shows it with a lock; opened again, it comes back for Bob.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from webkit import (  # noqa: F401 - fixtures: this module's own
    COMMUNE_BIN,
    dismiss_toasts,
    join,
    people,
    server,
    set_field,
    submit_dialog,
    tree_labels,
    wait_dialog_closed,
)

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

KEY = "General/General"


def lock_of(browser, key: str):
    """The lock beside a channel in the sidebar, or None."""
    locks = browser.driver.execute_script(
        "const li = Array.from(document.querySelectorAll('#channel-tree li.channel')).find(e => e.dataset.key === arguments[0]);"
        "const lock = li && li.querySelector('.lock'); return lock ? [lock.textContent, lock.title] : null",
        key,
    )
    return locks


def has_channel(browser, key: str) -> bool:
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#channel-tree li.channel')).some(e => e.dataset.key === arguments[0])", key
    )


def set_access(browser, groups: list[str] | None) -> None:
    """Opens the shown channel's settings, then 'Who can see it…', and saves `groups` (None: every member)."""
    browser.one("#edit-topic").click()
    browser.wait_visible("#app-dialog .node-access").click()
    browser.wait(lambda _: browser.css('#app-dialog [data-field="who"]'), message="the access dialog did not open")
    set_field(browser, "who", "everyone" if groups is None else "groups")
    labels = browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#app-dialog .dialog-check'), d => [d.querySelector('input').dataset.field, d.querySelector('label').textContent])"
    )
    if groups is not None:
        for field, label in labels:
            set_field(browser, field, label in groups)
    submit_dialog(browser)
    wait_dialog_closed(browser)


def test_a_channel_made_private_closes_for_those_who_lose_it_and_comes_back(server, people):
    alice = people("alice")
    join(alice, server.owner_invite, "Alice")
    bob = people("bob")
    join(bob, server.invite(), "Bob")
    for browser in (alice, bob):
        browser.wait(lambda _, b=browser: b.one("#channel-title").text.startswith("# General"), message=f"{browser.name} is not in General")
    alice.send("for everyone, for now")
    bob.wait_message("for everyone, for now")
    assert lock_of(alice, KEY) is None and lock_of(bob, KEY) is None
    dismiss_toasts(bob)

    set_access(alice, ["moderator"])
    # Bob: the channel he was reading closes with a message, and is gone from his tree.
    bob.wait(lambda _: not has_channel(bob, KEY), message="the private channel stayed in Bob's tree")
    bob.wait(lambda _: any("may no longer see it" in t.text for t in bob.css(".toast")), message="Bob was not told why the channel closed")
    bob.wait(lambda _: bob.one("#channel-title").text != "# General", message="Bob stayed in the private channel")
    assert "for everyone, for now" not in bob.message_texts()
    assert "VC-1" in tree_labels(bob) and "Rules" in tree_labels(bob)
    bob.screenshot("p01-private-channel-closed.png")
    # Alice: still there, with a lock that says who sees it (in the tree and the header).
    alice.wait(lambda _: lock_of(alice, KEY) is not None, message="no lock on the private channel")
    text, title = lock_of(alice, KEY)
    assert text == "🔒" and "moderator" in title
    assert "🔒" in alice.one("#channel-title").text
    alice.screenshot("p02-private-channel-lock.png")

    # Opened to everyone again: it comes back for Bob, without a lock, with its messages.
    set_access(alice, None)
    bob.wait(lambda _: has_channel(bob, KEY), message="the channel did not come back for Bob")
    alice.wait(lambda _: lock_of(alice, KEY) is None, message="the lock stayed after opening the channel")
    assert lock_of(bob, KEY) is None
    bob.driver.execute_script(
        "Array.from(document.querySelectorAll('#channel-tree li.channel')).find(e => e.dataset.key === arguments[0]).querySelector('.channel-button').click()",
        KEY,
    )
    bob.wait_message("for everyone, for now")
    assert not alice.severe_console_errors() and not bob.severe_console_errors()


def cli(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([COMMUNE_BIN, *args], capture_output=True, text=True, timeout=60)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_cli_makes_a_private_category_and_opens_it(server, people, tmp_path):
    alice = people("alice")
    bob = people("bob")
    # Olga manages from the command line, with an owner's invite made on the data folder.
    link = cli("invite", "create", "--data", server.data, "--group", "owner").stdout.strip().splitlines()[-1]
    identity = tmp_path / "olga.json"
    cli("join", link[link.index("http"):], "--name", "Olga", "--identity", str(identity))
    me = ("--identity", str(identity))
    assert "Created category Staff." in cli("channel", "create", "Staff", "--codec", "category", "--private", "moderator", *me).stdout
    cli("channel", "create", "Staff/plans", *me)
    listed = cli("channels", *me).stdout.splitlines()
    assert "Staff/  (private: moderator)" in listed, listed
    assert any(line.strip().startswith("plans  [text]  Staff/plans") for line in listed), listed
    # Alice (owner) sees both with a lock, the channel's inherited from its category; Bob sees neither.
    alice.wait(lambda _: has_channel(alice, "Staff/plans"), message="Alice does not see the private category's channel")
    assert "Staff" in tree_labels(alice) and "private" in lock_of(alice, "Staff/plans")[1]
    assert alice.driver.execute_script(
        "const c = Array.from(document.querySelectorAll('#channel-tree li.category')).find(e => e.dataset.key === 'Staff');"
        "return Boolean(c && c.querySelector('.category-row .lock'))"
    )
    assert "Staff" not in tree_labels(bob) and not has_channel(bob, "Staff/plans")
    # Refused without a choice; then opened to everyone: Bob sees it appear.
    refused = cli("channel", "access", "Staff", *me, ok=False)
    assert refused.returncode != 0 and "--groups a,b or --everyone" in refused.stderr
    assert "Staff is now seen by everyone." in cli("channel", "access", "Staff", "--everyone", *me).stdout
    bob.wait(lambda _: has_channel(bob, "Staff/plans"), message="the opened category did not appear for Bob")
    assert lock_of(bob, "Staff/plans") is None
    bob.screenshot("p03-category-opened.png")
    assert "Staff/" in cli("channels", *me).stdout.splitlines()

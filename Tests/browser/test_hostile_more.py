"""Issue 11, client side, continued (see test_hostile_members.py): drafts per channel, a removed or banned member told
so, a damaged invite link explained, markup that eats nothing, and masked links that show their real host.
A community of its own: Alice the owner, and members who are removed or banned.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from test_hostile_members import GENERAL, bots, call, people, run, server  # noqa: F401 - fixtures: this module's own
from webkit import close_dialog, dismiss_toasts, join, member_row, message_item, my_user_id, open_channel, set_field, submit_dialog, wait_dialog_closed


def composer(browser) -> str:
    return browser.one("#composer-input").get_attribute("value")


def type_draft(browser, text: str) -> None:
    browser.driver.execute_script(
        "const i = document.getElementById('composer-input'); i.value = arguments[0]; i.dispatchEvent(new Event('input'))", text
    )


def test_each_channel_keeps_its_own_draft(server, people):
    alice = people("alice")
    join(alice, server.owner_invite, "Alice")
    type_draft(alice, "half a thought for General")
    open_channel(alice, "Rules")
    assert composer(alice) == "", "a draft followed to another channel"
    type_draft(alice, "a rule to propose")
    open_channel(alice, "General")
    assert composer(alice) == "half a thought for General"
    alice.screenshot("h09-draft-kept-per-channel.png")
    open_channel(alice, "Rules")
    assert composer(alice) == "a rule to propose"
    # Sending empties only this channel's draft.
    alice.one("#composer-send").click()
    alice.wait_message("a rule to propose")
    assert composer(alice) == ""
    open_channel(alice, "General")
    assert composer(alice) == "half a thought for General"
    type_draft(alice, "")


def remove_from_card(alice, user_id: str, ban: bool) -> None:
    member_row(alice, user_id).find_element(By.CSS_SELECTOR, ".member-button").click()
    alice.wait_visible("#app-dialog .member-ban" if ban else "#app-dialog .member-remove").click()
    if ban:
        set_field(alice, "reason", "testing")
    submit_dialog(alice)
    wait_dialog_closed(alice)


@pytest.mark.parametrize(("ban", "name", "told"), [(False, "Frank", "You were removed from this community"),
                                                    (True, "Gina", "You were banned from this community")])
def test_a_removed_or_banned_member_is_told_so(server, people, ban, name, told):
    alice = people("alice")
    gone = people(name.lower())
    join(gone, server.invite(), name)
    remove_from_card(alice, my_user_id(gone), ban=ban)
    gone.wait_screen("welcome")
    error = gone.wait_visible("#welcome-error")
    assert told in error.text and "does not know" not in error.text, error.text
    gone.screenshot(f"h10-{'banned' if ban else 'removed'}-member.png")
    # Opening the page again: still told plainly (the server now answers unknown_user to this identity).
    gone.driver.refresh()
    gone.wait_screen("welcome")
    gone.wait(lambda _: told in gone.one("#welcome-error").text)
    if not ban:  # a new invite brings a removed member back in
        join(gone, server.invite(), "")
        assert gone.one("#me-name").text == name
    dismiss_toasts(alice)


def test_the_ban_list_shows_who_banned_by_name_as_plain_text(server, people, bots):
    """Issue 11 item 6: a ban carries the banning member's id (banned_by) and name at the time (banned_by_name); the
    list shows the name as text, whatever markup it holds."""
    alice = people("alice")
    banner = bots.register("banner", "<b>Mod</b> & co")
    victim = bots.register("victim", "Victim")
    assert run(alice, "set_user_group", {"user_id": banner["user_id"], "group": "moderator"})["result"] == "member_changed"
    client = bots.client("banner")
    try:
        call(client, "ban", {"user_id": victim["user_id"], "reason": "<i>spam</i>"})
        listed = {b["user_id"]: b for b in call(client, "get_bans", {})["payload"]["bans"]}
    finally:
        client.close()
    assert listed[victim["user_id"]]["banned_by"] == banner["user_id"]
    assert listed[victim["user_id"]]["banned_by_name"] == "<b>Mod</b> & co"
    alice.one("#open-community").click()
    alice.wait_visible("#app-dialog .community-bans").click()
    item = alice.wait_visible(f'#app-dialog li.ban[data-user-id="{victim["user_id"]}"]')
    text = item.find_element(By.CSS_SELECTOR, ".ban-text")
    assert text.text == "Victim — banned by <b>Mod</b> & co: <i>spam</i>", text.text
    assert text.find_elements(By.CSS_SELECTOR, "b, i") == [], "a name or reason was read as markup"
    assert [n.text for n in text.find_elements(By.CSS_SELECTOR, "bdi.name")] == ["Victim", "<b>Mod</b> & co"]
    alice.screenshot("h11-ban-list-banned-by-name.png")
    close_dialog(alice)


@pytest.mark.parametrize("fragment", ["#invite=", "#invite=abc%25%25def", "#invite=q3TfW1bq0Zk%20X9v", "#invite"])
def test_a_damaged_invite_link_is_explained(server, people, fragment):
    henry = people("henry")
    henry.driver.get(server.url + fragment)
    henry.wait_screen("welcome")
    error = henry.wait_visible("#welcome-error")
    assert "invite link is incomplete or damaged" in error.text, error.text
    assert "#invite" in henry.one("#welcome-invite").get_attribute("value")
    if fragment == "#invite=abc%25%25def":
        henry.screenshot("h12-damaged-invite-link.png")
    henry.driver.get("about:blank")


def test_markup_eats_nothing_and_masked_links_show_their_host(server, people, bots):
    alice = people("alice")
    bots.register("mask", "Masker")
    bot = bots.client("mask")
    stars = "*" * 500
    try:
        call(bot, "send_message", {"message": stars}, GENERAL)
        call(bot, "send_message", {"message": "~~~~~~ ______ ```````` and **real bold**"}, GENERAL)
        call(bot, "send_message", {"message": "log in at [https://paypal.com/login](https://evil.example/steal) or [the docs](https://example.org/docs)"}, GENERAL)
        call(bot, "send_message", {"message": "[paypal.com](https://paypal.com.evil.example/) and [www.example.org](https://example.org/)"}, GENERAL)
    finally:
        bot.close()
    alice.wait_message(stars)
    alice.wait_message("~~~~~~ ______ ```````` and real bold")
    item = message_item(alice, "~~~~~~ ______ ```````` and real bold")
    assert [e.text for e in item.find_elements(By.CSS_SELECTOR, "strong")] == ["real bold"]
    links = alice.driver.execute_script(
        "return Array.from(document.querySelectorAll('#message-list a'), a => [a.textContent, a.href])"
    )
    assert ["https://paypal.com/login (evil.example)", "https://evil.example/steal"] in links, links
    assert ["the docs", "https://example.org/docs"] in links, links
    assert ["paypal.com (paypal.com.evil.example)", "https://paypal.com.evil.example/"] in links, links
    assert ["www.example.org", "https://example.org/"] in links, links
    alice.screenshot("h13-markup-runs-and-masked-links.png")

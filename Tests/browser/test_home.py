"""A member's home in the web client (issue 15): a home and two communities on three ports, Ann on all three with one
identity. Each place is named by its owner (set_info), so the rail and the screenshots tell them apart.

- Ann joins the home in her browser (it serves the page); "Use as my home" makes it her home. "+ Join a community" with
  A's and B's invite links registers the same identity there (other origins: their WebSockets under the page's CSP)
  and adds them to her home; the rail shows them connected.
- A second browser that imported Ann's exported identity (which carries `home`) shows the same list at the same
  positions, and `commune home list` with that file lists the three.
- Folders from positions (a label made by another client with Ann's key) show on both browsers; drags inside the
  folder, out of it and back onto its title show on the other browser live. A folder without a name is called after
  its communities; ✎ names and renames it, "+ New folder" makes one, on both browsers (a control character refused).
- Ann opens B from the rail: shown beside the rail without a reload (B's client in a frame, without the identity
  banner), the address says ?community=B, and a reload opens B as the page's own community. While B is framed Ann's
  page keeps one connection to B (the frame's; /metrics counts them) and the frame reports B's unread count to the
  rail; switching back removes the frame and the rail connects again. Ann's own messages sent from another device are
  not counted as unread on the rail.
- A forged update_community (a raw WebSocket logged in as Ann, a field sealed for another entry) is not shown on
  either browser and is reported as unreadable; Ann removes it.
- B stopped: the rail says in words that B cannot be reached (never a bare close code). Removing B from the rail does
  not leave B.
- "Change home…" moves the list to A (ids, positions, addresses and titles kept, sealed anew); a community where Ann is
  not a member is refused; the old home keeps its copy.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from urllib.parse import quote

import pytest
from browserkit import REPO, Browser, CommuneServer, PyClient, assert_not_blank, new_identity
from homekit import (
    base,
    rail,
    folders,
    placed,
    join_from_rail,
    rail_problem,
    dialog_error,
    stored_identity,
    call,
    connections,
    home_key,
    seal,
    unseal,
    opened_home,
    entry_of,
    drag,
    rail_item,
    folder_title,
)

COMMUNE_BIN = os.environ.get("COMMUNE_BIN", str(REPO / ".build" / "debug" / "commune"))

pytestmark = pytest.mark.skipif(
    not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"
)


NAMES = {"home": "Home Port", "a": "Alice's Garden", "b": "Bob's Workshop"}


class Place:
    """A `commune serve` on its own port, named by its owner (a raw client that registered with the owner invite)."""

    def __init__(self, key: str):
        self.key = key
        self.server = CommuneServer(COMMUNE_BIN)
        self.owner = new_identity()

    def start(self) -> None:
        self.server.start()
        owner = PyClient(f"ws://127.0.0.1:{self.server.port}/", self.owner)
        try:
            owner.register(self.server.owner_invite, f"Owner of {NAMES[self.key]}")
            owner.login()
            owner.request("function", {"codec": "community", "path": "", "name": "", "function": "set_info", "payload": {"name": NAMES[self.key]}})
        finally:
            owner.close()


@pytest.fixture(scope="module")
def communities():
    """Ann's home, and two communities she joins from the rail: three `commune serve` on three ports."""
    made = []
    try:
        for key in ("home", "a", "b"):
            place = Place(key)
            made.append(place)
            place.start()
        yield [place.server for place in made], {place.key: place.owner for place in made}
    finally:
        for place in made:
            place.server.cleanup()


@pytest.fixture(scope="module")
def browsers():
    made: dict[str, Browser] = {}

    def get(name: str) -> Browser:
        if name not in made:
            made[name] = Browser(name)
        return made[name]

    yield get
    for browser in made.values():
        browser.quit()


def test_ann_makes_her_home(communities, browsers):
    (home, _, _), _ = communities
    ann = browsers("ann")
    ann.join(home.invite(), "Ann")
    ann.wait(lambda _: rail(ann) != [])
    [here] = rail(ann)
    assert here["address"] == base(home) and here["current"] and here["position"] == "" and here["title"] == NAMES["home"]
    assert ann.one("#rail-use-home").is_displayed() and not ann.one("#rail-join").is_displayed()
    assert not ann.one("#rail-change-home").is_displayed() and not ann.one("#rail-folder").is_displayed()
    ann.one("#rail-use-home").click()
    ann.wait(lambda _: [r["position"] for r in rail(ann)] == ["0"], message="the home never became an entry of Ann's home")
    assert stored_identity(ann)["home"] == base(home)
    assert ann.one("#rail-join").is_displayed() and not ann.one("#rail-use-home").is_displayed()
    assert ann.one("#rail-change-home").is_displayed() and ann.one("#rail-folder").is_displayed()


def test_ann_joins_two_communities_from_the_rail(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    for count, server in ((2, a), (3, b)):
        join_from_rail(ann, server.invite())
        ann.wait(lambda _, n=count: len(rail(ann)) == n, message=f"{base(server)} never appeared on Ann's rail: {dialog_error(ann)!r}")
        ann.wait(lambda _, n=count: rail(ann)[n - 1]["state"] == "online", message=f"never connected: {rail(ann)}")
    entries = rail(ann)
    assert [(r["address"], r["position"], r["title"]) for r in entries] == [
        (base(home), "0", NAMES["home"]), (base(a), "1", NAMES["a"]), (base(b), "2", NAMES["b"])]
    assert [r["current"] for r in entries] == [True, False, False]
    # Ann is a member of A and B under the same identity: a raw login there works.
    for server in (a, b):
        client = PyClient(f"ws://127.0.0.1:{server.port}/", stored_identity(ann))
        try:
            assert client.login()["accepted"] is True
        finally:
            client.close()
    errors = [e for e in ann.severe_console_errors() if "Content Security Policy" in e or "Refused" in e]
    assert errors == []
    path = ann.screenshot("home-rail.png")
    assert_not_blank(path)


def test_a_second_browser_with_the_imported_identity_shows_them_and_the_cli_lists_them(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    ann.one("#open-identity").click()
    ann.one("#identity-export").click()
    ann.wait(lambda _: any(p.suffix == ".json" for p in ann.downloads.iterdir()), message="no identity file")
    exported = next(p for p in ann.downloads.iterdir() if p.suffix == ".json")
    assert json.loads(exported.read_text())["home"] == base(home)
    ann.driver.execute_script("document.getElementById('identity-dialog').close()")
    laptop = browsers("ann-laptop")
    laptop.driver.get(home.url)
    laptop.wait_screen("welcome")
    laptop.one("#welcome-import").send_keys(str(exported))
    laptop.wait_screen("main")
    laptop.wait(lambda _: len(rail(laptop)) == 3 and all(r["state"] == "online" for r in rail(laptop)), message=f"laptop rail: {rail(laptop)}")
    assert [(r["address"], r["position"], r["folder"]) for r in rail(laptop)] == [(r["address"], r["position"], r["folder"]) for r in rail(ann)]
    # The CLI reads the same list with the same file.
    listed = subprocess.run([COMMUNE_BIN, "home", "list", "--identity", str(exported)], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    for key in ("home", "a", "b"):
        assert NAMES[key] in listed.stdout, listed.stdout


def test_folders_and_reordering_show_on_both_browsers(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    identity = stored_identity(ann)
    key = home_key(identity)
    # Ann's CLI (here: Python with her key) makes a folder "Work" at 5 and puts A and B in it.
    label_id = str(uuid.uuid4())
    call(home, identity, "add_community", {
        "id": label_id, "position": "5",
        "community_address": seal(key, label_id, "community_address", ""),
        "community_title": seal(key, label_id, "community_title", "Work"),
    })
    call(home, identity, "update_community", {"id": entry_of(home, identity, base(a))["id"], "position": "5.1"})
    call(home, identity, "update_community", {"id": entry_of(home, identity, base(b))["id"], "position": "5.2"})
    want = [(base(home), None), (base(a), "Work"), (base(b), "Work")]
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: placed(br) == want, message=f"{browser.name}: {rail(browser)}")
    path = ann.screenshot("home-folders.png")
    assert_not_blank(path)
    # Ann drags B above A inside the folder; the laptop follows live.
    drag(ann, rail_item(ann, base(b)), rail_item(ann, base(a)))
    want = [(base(home), None), (base(b), "Work"), (base(a), "Work")]
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: placed(br) == want, message=f"{browser.name} after the drag: {rail(browser)}")
    assert [r["position"] for r in rail(laptop)] == [r["position"] for r in rail(ann)]
    path = laptop.screenshot("home-reordered.png")
    assert_not_blank(path)
    # Out of the folder above the home (the top level is renumbered), and back onto the folder's title from the laptop.
    drag(ann, rail_item(ann, base(b)), rail_item(ann, base(home)))
    want = [(base(b), None), (base(home), None), (base(a), "Work")]
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: placed(br) == want, message=f"{browser.name} after the second drag: {rail(browser)}")
    drag(laptop, rail_item(laptop, base(b)), folder_title(laptop, "Work"))
    want = [(base(home), None), (base(a), "Work"), (base(b), "Work")]
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: placed(br) == want, message=f"{browser.name} after the third drag: {rail(browser)}")


def name_folder(browser: Browser, title, name: str) -> None:
    """✎ on a folder's title (or '+ New folder' when title is None), the name typed, submitted."""
    if title is None:
        browser.one("#rail-folder").click()
    else:
        browser.driver.execute_script("arguments[0].querySelector('.rail-folder-rename').click()", title)
    browser.wait_visible("#dlg-name")
    field = browser.one("#dlg-name")
    field.clear()
    browser.driver.execute_script("arguments[0].value = arguments[1]", field, name)
    browser.one("#app-dialog .dialog-submit").click()


def test_folders_are_named_from_the_rail(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    identity = stored_identity(ann)
    # B alone in folder 900, which has no name: the rail calls it after B, in italics, not "Folder 900".
    call(home, identity, "update_community", {"id": entry_of(home, identity, base(b))["id"], "position": "900.1"})
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: folders(br) == [("Work", True), (NAMES["b"], False)], message=f"{browser.name}: {folders(browser)}")
    # A name with a control character is refused in the dialog, and nothing is stored.
    before = opened_home(home, identity)
    name_folder(ann, folder_title(ann, NAMES["b"]), "Side\u0007projects")
    ann.wait(lambda _: dialog_error(ann) == "A folder's name must be 1 to 64 characters without control characters.", message=dialog_error(ann))
    assert opened_home(home, identity) == before
    ann.one("#app-dialog .dialog-cancel").click()
    # Named from Ann's page: both show it; then renamed from the laptop.
    name_folder(ann, folder_title(ann, NAMES["b"]), "Side projects")
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: folders(br) == [("Work", True), ("Side projects", True)], message=f"{browser.name}: {folders(browser)}")
    # A right-to-left override in the name is kept as typed, and shown without it (as every name is): "exe.txt" no more.
    name_folder(laptop, folder_title(laptop, "Side projects"), "Weekend \u202etxt.exe")
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: folders(br)[1] == ("Weekend txt.exe", True), message=f"{browser.name}: {folders(browser)}")
    assert [e["title"] for e in opened_home(home, identity) if e["position"] == "900"] == ["Weekend \u202etxt.exe"]
    # A new, empty folder from the laptop shows on both; B dragged onto it moves there.
    name_folder(laptop, None, "Games")
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: [f[0] for f in folders(br)] == ["Work", "Weekend txt.exe", "Games"], message=f"{browser.name}: {folders(browser)}")
    drag(ann, rail_item(ann, base(b)), folder_title(ann, "Games"))
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: dict(placed(br)).get(base(b)) == "Games", message=f"{browser.name}: {rail(browser)}")
    ann.screenshot("home-named-folders.png")


def rail_badge(browser: Browser, address: str) -> str:
    return browser.driver.execute_script(
        "const li = Array.from(document.querySelectorAll('#rail-list .rail-community')).find(l => l.dataset.address === arguments[0]);"
        "const b = li && li.querySelector('.rail-badge'); return b ? b.textContent : '';",
        address,
    )


def current(browser: Browser) -> list[str]:
    return [r["address"] for r in rail(browser) if r["current"]]


def test_switching_without_a_reload_and_back_after_one(communities, browsers):
    (home, a, b), owners = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    # Ann writes twice at B from another device (a raw client with her identity), then Bo writes once: the laptop,
    # showing the home, counts only Bo's message on B's icon (Ann's own messages are not unread to her).
    for text in ("from my phone", "and again"):
        call(b, stored_identity(ann), "send_message", {"message": text}, codec="text", path="General", name="General")
    bo = PyClient(f"ws://127.0.0.1:{b.port}/", new_identity())
    try:
        bo.register(b.invite(), "Bo")
        bo.login()
        bo.send_message("General", "General", "hello from B")
    finally:
        bo.close()
    laptop.wait(lambda _: rail_badge(laptop, base(b)) == "1", message=f"B's badge is {rail_badge(laptop, base(b))!r}, not 1")
    # Two connections at B: the rails of Ann's page and of her laptop.
    ann.wait(lambda _: connections(b) == 2, message=f"{connections(b)} connections at B")
    # Ann opens B from the rail: the same page (no reload) shows B's client beside the rail.
    ann.driver.execute_script("window.notReloaded = true")
    rail_item(ann, base(b)).click()
    ann.wait(lambda _: ann.driver.execute_script("return document.body.dataset.shown") == base(b))
    frame = ann.one(f"#community-frames iframe[data-address='{base(b)}']")
    assert frame.is_displayed() and not ann.one("#chat").is_displayed()
    assert ann.driver.current_url == f"{home.url}?community={quote(base(b), safe='')}"
    assert current(ann) == [base(b)]
    ann.driver.switch_to.frame(frame)
    try:
        ann.wait_screen("main")
        ann.wait(lambda _: ann.connection() == "online")
        ann.wait_message("hello from B")
        # The identity's reminder belongs to the page around the frame.
        assert not ann.one("#identity-banner").is_displayed()
    finally:
        ann.driver.switch_to.default_content()
    # One connection for B on Ann's page: the frame's; the rail closed its own and shows the frame's counts.
    ann.wait(lambda _: rail(ann)[[r["address"] for r in rail(ann)].index(base(b))]["counts"] == "frame")
    ann.wait(lambda _: connections(b) == 2, message=f"{connections(b)} connections at B with B in a frame (the rail's not closed?)")
    call(b, owners["b"], "send_message", {"message": "house rules changed"}, codec="text", path="", name="Rules")
    ann.wait(lambda _: rail_badge(ann, base(b)) == "1", message=f"the frame's unread count never reached the rail: {rail_badge(ann, base(b))!r}")
    # Ann read B's General there: the laptop's badge for B counts only Rules now (B tells Ann's other connections).
    laptop.wait(lambda _: rail_badge(laptop, base(b)) == "1" and connections(b) == 2, message="B's badge on the laptop")
    ann.driver.switch_to.frame(frame)
    try:
        ann.send("hi Bo, from my home's page")
        ann.wait_message("hi Bo, from my home's page")
        assert not ann.one("#home-rail").is_displayed()  # the frame has no rail of its own
    finally:
        ann.driver.switch_to.default_content()
    assert ann.driver.execute_script("return window.notReloaded") is True
    ann.screenshot("home-switched.png")
    # Back to the home without a reload: the frame goes, the rail connects to B again.
    rail_item(ann, base(home)).click()
    ann.wait(lambda _: ann.one("#chat").is_displayed() and not ann.one("#community-frames").is_displayed())
    assert ann.driver.current_url == home.url
    assert ann.css("#community-frames iframe") == []
    ann.wait(lambda _: [(r["state"], r["counts"]) for r in rail(ann) if r["address"] == base(b)] == [("online", "rail")])
    ann.wait(lambda _: connections(b) == 2, message=f"{connections(b)} connections at B after switching back")
    # Back and forward, then a reload of B's address comes back to B.
    ann.driver.back()
    ann.wait(lambda _: ann.driver.execute_script("return document.body.dataset.shown") == base(b))
    ann.driver.refresh()
    ann.wait_screen("main")
    ann.wait(lambda _: ann.connection() == "online")
    assert ann.driver.execute_script("return document.body.dataset.shown") == base(b)
    ann.wait_message("hi Bo, from my home's page")  # B's channel in the page itself, no frame
    assert not ann.one("#community-frames").is_displayed()
    assert current(ann) == [base(b)]
    # Leave Ann's page on the home for the tests that follow.
    ann.driver.get(home.url)
    ann.wait_screen("main")
    ann.wait(lambda _: ann.connection() == "online")


def test_a_forged_entry_is_reported_not_shown(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    identity = stored_identity(ann)
    here = next(e for e in call(home, identity, "get_communities", {})["communities"] if e["id"] == entry_of(home, identity, base(home))["id"])
    # Someone with Ann's login but not her key moves the home's sealed address into B's title: valid base64 of the
    # right length, but sealed for another entry and field, so it cannot open there.
    call(home, identity, "update_community", {"id": entry_of(home, identity, base(b))["id"], "community_title": here["community_address"]})
    text = "1 entry in your home could not be read — it was changed by someone without your key."
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: rail_problem(br) == text, message=f"{browser.name} never reported the forged entry")
        assert [r["address"] for r in rail(browser)] == [base(home), base(a)]
    path = laptop.screenshot("home-forged-entry.png")
    assert_not_blank(path)
    # Ann removes it from her laptop: gone from her home on the server, and the report goes on both pages.
    key = home_key(identity)
    [forged] = [e["id"] for e in call(home, identity, "get_communities", {})["communities"]
                if e["id"] != here["id"] and e["community_title"] == here["community_address"]]
    laptop.one("#rail-problem .rail-forget").click()
    laptop.one("#app-dialog .dialog-submit").click()
    for browser in (laptop, ann):
        browser.wait(lambda _, br=browser: rail_problem(br) == "", message=f"{browser.name} still reports the removed entry")
    ids = [e["id"] for e in call(home, identity, "get_communities", {})["communities"]]
    assert forged not in ids and here["id"] in ids and key, ids


def test_an_unreachable_community_says_so_and_removing_does_not_leave(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    # Put B back in Ann's home through the page (the forged entry was removed), then stop B.
    ann.driver.refresh()
    ann.wait_screen("main")
    join_from_rail(ann, b.invite())
    ann.wait(
        lambda _: any(r["address"] == base(b) and r["state"] == "online" for r in rail(ann)),
        message=f"B not back on the rail: {rail(ann)}; the dialog says {dialog_error(ann)!r}",
    )
    b.stop()
    host = f"127.0.0.1:{b.port}"
    expected = f"Cannot reach {host} (nothing answers there, or the network is down). Retrying…"
    said = []

    def unreachable(_):
        [shown] = [r for r in rail(ann) if r["address"] == base(b)]
        if shown["error"] and shown["error"] not in said:
            said.append(shown["error"])
        return shown["state"] == "unreachable" and shown["error"] == expected

    ann.wait(unreachable, message=f"{rail(ann)}; said {said}")
    # In words, never a bare close code: B's clean shutdown ("… closed the connection"), then nothing answering.
    assert all("(1000)" not in text and "closed (" not in text for text in said), said
    ann.screenshot("home-unreachable.png")
    b.start()
    ann.wait(lambda _: any(r["address"] == base(b) and r["state"] == "online" for r in rail(ann)), timeout=45, message=f"{rail(ann)}")
    # Remove B from the rail: the entry goes, the membership stays.
    item = rail_item(ann, base(b))
    ann.driver.execute_script("arguments[0].querySelector('.rail-remove').click()", item)
    ann.one("#app-dialog .dialog-submit").click()
    ann.wait(lambda _: all(r["address"] != base(b) for r in rail(ann)), message="B stayed on the rail")
    client = PyClient(f"ws://127.0.0.1:{b.port}/", stored_identity(ann))
    try:
        assert client.login()["accepted"] is True
    finally:
        client.close()
    assert ann.css("#rail-list .rail-community .rail-error") == []


def test_at_phone_width_the_rail_stays_above_a_framed_community(communities, browsers):
    (home, _, b), _ = communities
    ann = browsers("ann")
    # B was removed from the rail above: Ann adds it again (she is still a member there: no second registration).
    join_from_rail(ann, b.invite())
    ann.wait(lambda _: any(r["address"] == base(b) and r["state"] == "online" for r in rail(ann)), message=f"{rail(ann)}")
    ann.driver.set_window_size(400, 800)
    try:
        ann.one("#open-sidebar").click()  # the channels drawer holds the rail at this width
        ann.wait(lambda _: rail_item(ann, base(b)).is_displayed())
        rail_item(ann, base(b)).click()
        ann.wait(lambda _: ann.one(f"#community-frames iframe[data-address='{base(b)}']").is_displayed())
        assert ann.one("#home-rail").is_displayed()
        rail_box = ann.one("#home-rail").rect
        frame_box = ann.one("#community-frames").rect
        assert rail_box["y"] + rail_box["height"] <= frame_box["y"] + 1 and frame_box["width"] >= 390
        ann.screenshot("home-phone.png")
        rail_item(ann, base(home)).click()
        ann.wait(lambda _: ann.one("#chat").is_displayed())
    finally:
        ann.driver.set_window_size(1280, 860)


def test_the_home_moves_to_another_community(communities, browsers):
    (home, a, b), _ = communities
    ann = browsers("ann")
    identity = stored_identity(ann)
    old = opened_home(home, identity)
    # Not a member of the place named: refused in the dialog, nothing changes.
    ann.one("#rail-change-home").click()
    ann.wait_visible("#dlg-address")
    stranger = CommuneServer(COMMUNE_BIN)
    try:
        stranger.start()
        ann.one("#dlg-address").send_keys(base(stranger))
        ann.one("#app-dialog .dialog-submit").click()
        ann.wait(lambda _: dialog_error(ann).startswith(f"You are not a member of {base(stranger)}"), message=dialog_error(ann))
    finally:
        stranger.cleanup()
    assert stored_identity(ann)["home"] == base(home)
    # A, where Ann is a member: the list is copied there (ids, positions, addresses and titles kept), A is her home.
    field = ann.one("#dlg-address")
    field.clear()
    field.send_keys(base(a) + "/")
    ann.one("#app-dialog .dialog-submit").click()
    ann.wait(lambda _: stored_identity(ann)["home"] == base(a), message=f"the home did not move: {dialog_error(ann)!r}")
    moved = opened_home(a, identity)
    assert sorted((e["id"], e["position"], e["address"], e["title"]) for e in moved) == sorted(
        (e["id"], e["position"], e["address"], e["title"]) for e in old)
    # The rail reads the new home and shows the same; the old home keeps its copy as it was.
    ann.wait(lambda _: {r["address"] for r in rail(ann)} == {e["address"] for e in old if e["address"]}, message=f"{rail(ann)}")
    assert opened_home(home, identity) == old
    # A change now goes to the new home only.
    item = rail_item(ann, base(b))
    ann.driver.execute_script("arguments[0].querySelector('.rail-remove').click()", item)
    ann.one("#app-dialog .dialog-submit").click()
    ann.wait(lambda _: all(e["address"] != base(b) for e in opened_home(a, identity)), message="B still in the new home")
    assert any(e["address"] == base(b) for e in opened_home(home, identity))

"""A member's home in the web client (issue 15): two communities on two ports, Ann on both with one identity.

- Ann joins community A in her browser; A serves the page and is on her rail; "Use as my home" makes A her home.
- "Join a community" with B's invite link registers the same identity at B (another origin: its WebSocket under the
  page's CSP) and adds B to her home; the rail shows B connected.
- A second browser that imported Ann's exported identity (which carries `home`) shows both, at the same positions.
- Folders from positions (a label made by another client with Ann's key) show on both browsers; dragging B out of the
  folder above A, and back onto the folder's title, shows on the other browser live.
- Ann opens B from the rail: shown beside the rail without a reload (B's client in a frame), the address says
  ?community=B, and a reload opens B as the page's own community; the laptop shows B's unread count until Ann reads B.
- A forged update_community (a raw WebSocket logged in as Ann, a field sealed for another entry) is not shown on
  either browser and is reported as unreadable.
- B stopped: the rail says B cannot be reached. Removing B from the rail does not leave B.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from urllib.parse import quote

import pytest
from browserkit import REPO, Browser, CommuneServer, PyClient, assert_not_blank, new_identity

COMMUNE_BIN = os.environ.get("COMMUNE_BIN", str(REPO / ".build" / "debug" / "commune"))

pytestmark = pytest.mark.skipif(
    not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"
)


@pytest.fixture(scope="module")
def communities():
    made = []
    try:
        for _ in range(2):
            server = CommuneServer(COMMUNE_BIN)
            server.start()
            made.append(server)
        yield made
    finally:
        for server in made:
            server.cleanup()


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


def base(server: CommuneServer) -> str:
    return server.url.rstrip("/")


def rail(browser: Browser) -> list[dict]:
    """The rail as shown: each community's address, title, state, position, folder and error line."""
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#rail-list .rail-community'), li => ({"
        " address: li.dataset.address, title: li.querySelector('.rail-title').textContent, state: li.dataset.state,"
        " position: li.dataset.position, current: li.classList.contains('current'),"
        " folder: li.closest('.rail-folder') ? li.closest('.rail-folder').querySelector('.rail-folder-title').textContent : null,"
        " error: (li.querySelector('.rail-error') || {}).textContent || ''}));"
    )


def join_from_rail(browser: Browser, invite: str) -> None:
    """'+ Join a community' on the rail with another community's invite link."""
    browser.one("#rail-join").click()
    browser.wait_visible("#dlg-link")
    browser.one("#dlg-link").send_keys(invite)
    browser.one("#app-dialog .dialog-submit").click()


def rail_problem(browser: Browser) -> str:
    return browser.driver.execute_script(
        "const p = document.getElementById('rail-problem'); return p.hidden ? '' : p.querySelector('.rail-problem-text').textContent;")


def dialog_error(browser: Browser) -> str:
    return browser.driver.execute_script("const e = document.querySelector('#app-dialog .dialog-error'); return e ? e.textContent : '';")


def stored_identity(browser: Browser) -> dict:
    return json.loads(browser.driver.execute_script("return localStorage.getItem('commune.identity.v1')"))


def test_ann_makes_her_first_community_her_home(communities, browsers):
    a, _ = communities
    ann = browsers("ann")
    ann.join(a.owner_invite, "Ann")
    ann.wait(lambda _: rail(ann) != [])
    [here] = rail(ann)
    assert here["address"] == base(a) and here["current"] and here["position"] == ""
    assert ann.one("#rail-use-home").is_displayed() and not ann.one("#rail-join").is_displayed()
    ann.one("#rail-use-home").click()
    ann.wait(lambda _: [r["position"] for r in rail(ann)] == ["0"], message="A never became an entry of Ann's home")
    assert stored_identity(ann)["home"] == base(a)
    assert ann.one("#rail-join").is_displayed() and not ann.one("#rail-use-home").is_displayed()


def test_ann_joins_another_community_from_the_rail(communities, browsers):
    a, b = communities
    ann = browsers("ann")
    join_from_rail(ann, b.invite())
    ann.wait(lambda _: len(rail(ann)) == 2, message="B never appeared on Ann's rail")
    ann.wait(lambda _: rail(ann)[1]["state"] == "online", message=f"B never connected: {rail(ann)}")
    entries = rail(ann)
    assert [(r["address"], r["position"]) for r in entries] == [(base(a), "0"), (base(b), "1")]
    assert entries[1]["title"] == "Commune" and not entries[1]["current"]
    # Ann is a member of B under the same identity: a raw login there works.
    client = PyClient(f"ws://127.0.0.1:{b.port}/", stored_identity(ann))
    try:
        assert client.login()["accepted"] is True
    finally:
        client.close()
    errors = [e for e in ann.severe_console_errors() if "Content Security Policy" in e or "Refused" in e]
    assert errors == []
    path = ann.screenshot("home-rail.png")
    assert_not_blank(path)


def test_a_second_browser_with_the_imported_identity_shows_both(communities, browsers, tmp_path):
    a, b = communities
    ann = browsers("ann")
    ann.one("#open-identity").click()
    ann.one("#identity-export").click()
    ann.wait(lambda _: any(p.suffix == ".json" for p in ann.downloads.iterdir()), message="no identity file")
    exported = next(p for p in ann.downloads.iterdir() if p.suffix == ".json")
    assert json.loads(exported.read_text())["home"] == base(a)
    ann.driver.execute_script("document.getElementById('identity-dialog').close()")
    laptop = browsers("ann-laptop")
    laptop.driver.get(a.url)
    laptop.wait_screen("welcome")
    laptop.one("#welcome-import").send_keys(str(exported))
    laptop.wait_screen("main")
    laptop.wait(lambda _: len(rail(laptop)) == 2 and rail(laptop)[1]["state"] == "online", message=f"laptop rail: {rail(laptop)}")
    assert [(r["address"], r["position"], r["folder"]) for r in rail(laptop)] == [(base(a), "0", None), (base(b), "1", None)]


def home_call(server: CommuneServer, identity: dict, function: str, payload: dict) -> dict:
    """Runs a home function on a raw WebSocket logged in as the member (their other device, or someone with their login)."""
    client = PyClient(f"ws://127.0.0.1:{server.port}/", identity)
    try:
        client.login()
        reply = client.request("function", {"codec": "community", "path": "", "name": "", "function": function, "payload": payload})
        return reply["data"]["payload"]
    finally:
        client.close()


def home_key(identity: dict) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"commune home v1").derive(base64.b64decode(identity["private_key"]))


def seal(key: bytes, entry_id: str, field: str, text: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, text.encode(), f"commune-home:{entry_id}:{field}".encode())).decode()


def unseal(key: bytes, entry_id: str, field: str, value: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(value)
    return AESGCM(key).decrypt(raw[:12], raw[12:], f"commune-home:{entry_id}:{field}".encode()).decode()


def entry_of(server: CommuneServer, identity: dict, address: str) -> dict:
    """The member's home entry for a community's address (opened in Python with the member's key)."""
    key = home_key(identity)
    entries = home_call(server, identity, "get_communities", {})["communities"]
    return next(e for e in entries if unseal(key, e["id"], "community_address", e["community_address"]) == address)


def drag(browser: Browser, source, target) -> None:
    """An HTML drag and drop of source onto target, as the browser dispatches it."""
    browser.driver.execute_script(
        "const [src, dst] = arguments; const dt = new DataTransfer();"
        "src.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));"
        "dst.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));"
        "dst.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));"
        "src.dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: dt}));",
        source,
        target,
    )


def rail_item(browser: Browser, address: str):
    return next(li for li in browser.css("#rail-list .rail-community") if li.get_attribute("data-address") == address)


def test_folders_and_reordering_show_on_both_browsers(communities, browsers):
    a, b = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    identity = stored_identity(ann)
    key = home_key(identity)
    # Ann's CLI (here: Python with her key) makes a folder "Work" at 5 and puts B in it.
    label_id = str(uuid.uuid4())
    home_call(a, identity, "add_community", {
        "id": label_id, "position": "5",
        "community_address": seal(key, label_id, "community_address", ""),
        "community_title": seal(key, label_id, "community_title", "Work"),
    })
    home_call(a, identity, "update_community", {"id": entry_of(a, identity, base(b))["id"], "position": "5.1"})
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: [(r["address"], r["folder"]) for r in rail(br)] == [(base(a), None), (base(b), "Work")],
                     message=f"{browser.name}: {rail(browser)}")
    ann.screenshot("home-folders.png")
    # Ann drags B out of the folder, above A: the top level is renumbered; the laptop follows live.
    drag(ann, rail_item(ann, base(b)), rail_item(ann, base(a)))
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: [(r["address"], r["folder"]) for r in rail(br)] == [(base(b), None), (base(a), None)],
                     message=f"{browser.name} after the drag: {rail(browser)}")
    assert [r["position"] for r in rail(laptop)] == [r["position"] for r in rail(ann)]
    # And back into the folder, dropped on its title.
    drag(laptop, rail_item(laptop, base(b)), laptop.one("#rail-list .rail-folder-title"))
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: [(r["address"], r["folder"]) for r in rail(br)] == [(base(a), None), (base(b), "Work")],
                     message=f"{browser.name} after the second drag: {rail(browser)}")
    laptop.screenshot("home-reordered.png")


def rail_badge(browser: Browser, address: str) -> str:
    return browser.driver.execute_script(
        "const li = Array.from(document.querySelectorAll('#rail-list .rail-community')).find(l => l.dataset.address === arguments[0]);"
        "const b = li && li.querySelector('.rail-badge'); return b ? b.textContent : '';",
        address,
    )


def test_switching_without_a_reload_and_back_after_one(communities, browsers):
    a, b = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    # Someone else at B writes: the laptop, showing A, counts it on B's icon (B's own connection, get_read_state).
    bo = PyClient(f"ws://127.0.0.1:{b.port}/", new_identity())
    try:
        bo.register(b.invite(), "Bo")
        bo.login()
        bo.send_message("General", "General", "hello from B")
    finally:
        bo.close()
    laptop.wait(lambda _: rail_badge(laptop, base(b)) == "1", message=f"no unread badge on B: {rail(laptop)}")
    # Ann opens B from the rail: the same page (no reload) shows B's client beside the rail.
    ann.driver.execute_script("window.notReloaded = true")
    rail_item(ann, base(b)).click()
    ann.wait(lambda _: ann.driver.execute_script("return document.body.dataset.shown") == base(b))
    frame = ann.one(f"#community-frames iframe[data-address='{base(b)}']")
    assert frame.is_displayed() and not ann.one("#chat").is_displayed()
    assert ann.driver.current_url == f"{a.url}?community={quote(base(b), safe='')}"
    assert [r["current"] for r in rail(ann)] == [False, True]
    ann.driver.switch_to.frame(frame)
    try:
        ann.wait_screen("main")
        ann.wait(lambda _: ann.connection() == "online")
        ann.wait_message("hello from B")
    finally:
        ann.driver.switch_to.default_content()
    # Ann read B there: the laptop's badge for B goes (B tells Ann's other connections).
    laptop.wait(lambda _: rail_badge(laptop, base(b)) == "", message="B's badge stayed after Ann read B")
    ann.driver.switch_to.frame(frame)
    try:
        ann.send("hi Bo, from my home's page")
        ann.wait_message("hi Bo, from my home's page")
        assert not ann.one("#home-rail").is_displayed()  # the frame has no rail of its own
    finally:
        ann.driver.switch_to.default_content()
    assert ann.driver.execute_script("return window.notReloaded") is True
    ann.screenshot("home-switched.png")
    # Back to A without a reload, then a reload of B's address comes back to B.
    rail_item(ann, base(a)).click()
    ann.wait(lambda _: ann.one("#chat").is_displayed() and not ann.one("#community-frames").is_displayed())
    assert ann.driver.current_url == a.url
    ann.driver.back()
    ann.wait(lambda _: ann.driver.execute_script("return document.body.dataset.shown") == base(b))
    ann.driver.refresh()
    ann.wait_screen("main")
    ann.wait(lambda _: ann.connection() == "online")
    assert ann.driver.execute_script("return document.body.dataset.shown") == base(b)
    ann.wait_message("hi Bo, from my home's page")  # B's channel in the page itself, no frame
    assert not ann.one("#community-frames").is_displayed()
    assert [r["current"] for r in rail(ann)] == [False, True]
    # Leave Ann's page on A for the tests that follow.
    ann.driver.get(a.url)
    ann.wait_screen("main")
    ann.wait(lambda _: ann.connection() == "online")


def test_a_forged_entry_is_reported_not_shown(communities, browsers):
    a, b = communities
    ann = browsers("ann")
    laptop = browsers("ann-laptop")
    identity = stored_identity(ann)
    here = entry_of(a, identity, base(a))
    # Someone with Ann's login but not her key moves A's sealed address into B's title: valid base64 of the
    # right length, but sealed for another entry and field, so it cannot open there.
    home_call(a, identity, "update_community", {"id": entry_of(a, identity, base(b))["id"], "community_title": here["community_address"]})
    text = "1 entry in your home could not be read — it was changed by someone without your key."
    for browser in (ann, laptop):
        browser.wait(lambda _, br=browser: rail_problem(br) == text, message=f"{browser.name} never reported the forged entry")
        assert [r["address"] for r in rail(browser)] == [base(a)]
    path = laptop.screenshot("home-forged-entry.png")
    assert_not_blank(path)
    # Ann removes it from her laptop: gone from her home on the server, and the report goes on both pages.
    forged = entry_of(a, identity, base(b))["id"]
    laptop.one("#rail-problem .rail-forget").click()
    laptop.one("#app-dialog .dialog-submit").click()
    for browser in (laptop, ann):
        browser.wait(lambda _, br=browser: rail_problem(br) == "", message=f"{browser.name} still reports the removed entry")
    ids = [e["id"] for e in home_call(a, identity, "get_communities", {})["communities"]]
    assert forged not in ids and here["id"] in ids, ids


def test_an_unreachable_community_says_so_and_removing_does_not_leave(communities, browsers):
    a, b = communities
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
    ann.wait(lambda _: any(r["address"] == base(b) and r["state"] == "unreachable" for r in rail(ann)), message=f"{rail(ann)}")
    [shown] = [r for r in rail(ann) if r["address"] == base(b)]
    assert shown["error"].startswith(f"Cannot reach {base(b)}")
    ann.screenshot("home-unreachable.png")
    b.start()
    ann.wait(lambda _: any(r["address"] == base(b) and r["state"] == "online" for r in rail(ann)), timeout=45, message=f"{rail(ann)}")
    # Remove B from the rail: the entry goes, the membership stays.
    item = next(li for li in ann.css("#rail-list .rail-community") if li.get_attribute("data-address") == base(b))
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
    a, b = communities
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
        rail_item(ann, base(a)).click()
        ann.wait(lambda _: ann.one("#chat").is_displayed())
    finally:
        ann.driver.set_window_size(1280, 860)

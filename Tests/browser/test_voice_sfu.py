"""SFU calls (Janus) with Commune's own coturn, in real headless Chromium sessions: what only the server can enforce.

One server for the module (`--voice sfu --media-ip $COMMUNE_TEST_MEDIA_IP`, its own coturn on a free port, TURN
credentials of 12 s) and two members, in file order: with the web client's "relay call media through the server"
choice both members hear each other only through coturn (every selected ICE route is a relayed candidate); each page
refreshes its TURN credential before it expires (refresh_ice: every peer connection gets the new one) and the call
goes on, relayed, past the first one's expiry; a server mute stops the muted member's packets at the listener
although the muted page keeps sending (Janus's `moderate`), a plain member's `server_mute` is refused with
`forbidden`, unmute restores them; Bob's camera, on, off and on again, is published as a stream of its own that
Alice is offered and decodes (both see it on and off in the sidebar); Janus killed mid-call (SIGKILL) ends the call
on both pages with the media-restarted reason, both press the toast's Rejoin while Janus is held down (its
`--janus-path` is a wrapper that waits while a file exists) and are refused, retry by themselves ("Reconnecting
voice…") and give up after 10 s saying so; Rejoin again: Bob leaves while retrying and his page stops, Alice's joins
once Janus is back, and they hear each other; text chat works throughout; a member banned mid-call stops being heard within 2 s, his page says he was
banned and his key cannot register again.

Needs COMMUNE_BIN, Janus, coturn and the media address of scripts/test-network (scripts/test-browser gives all).
Figures are written to test-output/browser/voice-sfu-figures.json.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from browserkit import Browser, CommuneServer, PyClient, free_port, save_figures
from test_voice import COMMUNE_BIN, hear_each_other, media_flags, inbound, occupant, open_voice, stats, user_id, voice_state
from webkit import dismiss_toasts, open_channel

MEDIA_IP = os.environ.get("COMMUNE_TEST_MEDIA_IP")

pytestmark = [
    pytest.mark.skipif(not os.access(COMMUNE_BIN, os.X_OK), reason=f"no commune binary at {COMMUNE_BIN} (build it first)"),
    pytest.mark.skipif(not MEDIA_IP, reason="no media address (COMMUNE_TEST_MEDIA_IP): run through scripts/test-browser"),
    pytest.mark.skipif(not shutil.which("turnserver"), reason="coturn is not installed"),
]
FIGURES: dict[str, object] = {}
TURN_LIFETIME = 12
COMMUNITY = "{codec: 'community', path: '', name: ''}"


@pytest.fixture(scope="module")
def janus_gate(tmp_path_factory):
    """A `janus` for --janus-path that runs Debian's, but waits to start while the returned file exists: a test
    holds a restart back as long as it needs (the real binary, plugins and all, once the file is gone)."""
    real = shutil.which("janus")
    if not real:
        pytest.skip("janus is not installed")
    real_lib = next(Path(real).resolve().parent.parent.glob("lib/*/janus"), None)
    if real_lib is None:
        pytest.skip(f"no plugin folder beside {real}")
    root = tmp_path_factory.mktemp("janus-gate")
    hold = root / "hold"
    (root / "bin").mkdir()
    (root / "lib").mkdir()
    (root / "lib" / "janus").symlink_to(real_lib)
    wrapper = root / "bin" / "janus"
    # At most 30 s held: a test that forgets the file does not leave Janus down for good.
    wrapper.write_text(f'#!/bin/sh\nfor i in $(seq 600); do [ -e "{hold}" ] || break; sleep 0.05; done\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, hold


@pytest.fixture(scope="module")
def sfu(janus_gate):
    # TURN credentials of 12 s: the pages refresh theirs every ~6 s (halfway), so every test runs past expiries.
    srv = CommuneServer(
        COMMUNE_BIN,
        args=(
            "--voice", "sfu", "--media-ip", MEDIA_IP, "--janus-path", str(janus_gate[0]), "--turn-port", str(free_port()),
            "--turn-credential-lifetime", str(TURN_LIFETIME),
        ),
        own_turn=True,
    )
    srv.start()
    try:
        deadline = time.monotonic() + 5
        while not any("SFU calls through Janus" in l for l in srv.lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not any("SFU calls through Janus" in l for l in srv.lines):
            pytest.skip(f"this server offers no SFU here: {[l for l in srv.lines if 'Voice:' in l]}")
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield FIGURES
    save_figures("voice-sfu-figures.json", FIGURES)


@pytest.fixture(scope="module")
def pair(sfu):
    made: list[Browser] = []
    try:
        for name, link in (("Alice", sfu.owner_invite), ("Bob", sfu.invite())):
            browser = Browser(f"voice-sfu-{name.lower()}", flags=media_flags(name))
            made.append(browser)
            browser.driver.get(link)
            browser.wait_screen("join")
            browser.one("#join-name").send_keys(name)
            browser.one("#join-submit").click()
        for browser in made:
            browser.wait_screen("main")
            browser.wait(lambda _, b=browser: b.connection() == "online", message=f"{browser.name} never came online")
        yield made[0], made[1]
    finally:
        for browser in made:
            browser.quit()


def run(browser: Browser, function: str, payload: dict) -> object:
    """A community function from the page: True, or the error's code."""
    return browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"window.commune.run({COMMUNITY}, arguments[0], arguments[1]).then(() => done(true), e => done((e && e.code) || String(e)));",
        function,
        payload,
    )


def received(browser: Browser, sender: str) -> int | None:
    s = inbound(browser, sender, "voice")
    return s["packetsReceived"] if s else None


def sent(browser: Browser) -> int:
    return sum(s["packetsSent"] for s in stats(browser) if s.get("type") == "outbound-rtp" and s.get("kind") == "audio")


def packets_per(listener: Browser, sender: str, talker: Browser, seconds: float = 2.0) -> tuple[int, int]:
    """(packets the listener got from sender, packets the talker's page sent) over `seconds`."""
    r0, s0 = received(listener, sender) or 0, sent(talker)
    time.sleep(seconds)
    return (received(listener, sender) or 0) - r0, sent(talker) - s0


def test_relayed_through_communes_own_turn(sfu, pair):
    alice, bob = pair
    # The user setting, remembered in this browser with the devices: Bob's is ticked in the call's Devices dialog
    # below; both pages start relayed.
    for browser in (alice, bob):
        browser.driver.execute_script("localStorage.setItem('commune.devices.v1', JSON.stringify({relay: true}))")
    figures = hear_each_other(alice, bob, "sfu")
    for browser in (alice, bob):
        routes = [s for s in stats(browser) if s.get("type") == "route"]
        assert routes and all(r["local"] == "relay" for r in routes), f"{browser.name}: {routes}"
    figures["routes"] = {b.name: [s for s in stats(b) if s.get("type") == "route"] for b in (alice, bob)}
    # The setting as the Devices dialog shows it, and turned off and on again there.
    bob.one("#call-devices").click()
    box = bob.wait_visible("#dlg-relay")
    assert box.is_selected()
    assert "hides your IP address" in bob.one("label[for='dlg-relay']").text
    box.click()
    bob.wait_visible(".dialog-submit").click()
    bob.wait(lambda _: bob.driver.execute_script("return JSON.parse(localStorage.getItem('commune.devices.v1')).relay") is False)
    bob.one("#call-devices").click()
    bob.wait_visible("#dlg-relay").click()
    bob.wait_visible(".dialog-submit").click()
    bob.wait(lambda _: bob.driver.execute_script("return JSON.parse(localStorage.getItem('commune.devices.v1')).relay") is True)
    FIGURES["relay"] = figures


def turn_users(browser: Browser) -> list[list[str]]:
    """The TURN user names (`EXPIRY:USER_ID`) each of the page's peer connections is configured with now."""
    return voice_state(browser)["ice"]["usernames"]


def test_turn_credentials_are_refreshed_before_expiry(pair):
    alice, bob = pair
    a, b = user_id(alice), user_id(bob)
    first = turn_users(alice)
    names = {n for connection in first for n in connection}
    assert len(names) == 1 and len(first) >= 2, first  # publishing and receiving: one credential, Alice's own
    old = names.pop()
    expiry, owner = old.split(":")
    assert owner == a and int(expiry) <= time.time() + TURN_LIFETIME + 1, old
    # Halfway to its expiry the page asks refresh_ice and gives every peer connection the new credential.
    alice.wait(lambda _: all(c and c[0] != old for c in turn_users(alice)), timeout=TURN_LIFETIME,
               message=f"Alice's connections still have {old}: {turn_users(alice)} {voice_state(alice)['ice']}")
    refreshed_at = time.time()
    new = {n for connection in turn_users(alice) for n in connection}
    assert len(new) == 1, new
    new_expiry, new_owner = new.pop().split(":")
    assert new_owner == a and int(new_expiry) > int(expiry)
    assert voice_state(alice)["ice"]["expiresAt"] == int(new_expiry) * 1000
    # Past the first credential's expiry the call goes on, relayed, both ways.
    time.sleep(max(0.0, int(expiry) + 1 - time.time()))
    for me, them, talker in ((alice, b, bob), (bob, a, alice)):
        got, _ = packets_per(me, them, talker, 1.0)
        assert got > 10, f"{me.name} gets {got} packets per second from {talker.name} after the first credential expired"
        routes = [s for s in stats(me) if s.get("type") == "route"]
        assert routes and all(r["local"] == "relay" for r in routes), routes
    FIGURES["turn_refresh"] = {
        "lifetime_seconds": TURN_LIFETIME, "refreshed_seconds_before_expiry": round(int(expiry) - refreshed_at, 1),
    }


def test_server_mute_is_enforced_by_janus(pair):
    alice, bob = pair
    a, b = user_id(alice), user_id(bob)
    figures: dict[str, object] = {"before": packets_per(alice, b, bob)}
    assert figures["before"][0] > 20, figures
    # A plain member may not.
    assert run(bob, "server_mute", {"user_id": a, "suppress": True}) == "forbidden"
    assert run(alice, "server_mute", {"user_id": b, "suppress": True}) is True
    time.sleep(0.5)
    figures["muted"] = packets_per(alice, b, bob)
    got, sending = figures["muted"]
    assert got <= 2 and sending > 20, f"server-muted Bob: Alice got {got} packets in 2 s while Bob's page sent {sending}"
    assert run(alice, "server_mute", {"user_id": b, "suppress": False}) is True
    alice.wait(lambda _: packets_per(alice, b, bob, 0.5)[0] > 5, timeout=6, message="Bob's audio did not come back after unmute")
    figures["unmuted"] = packets_per(alice, b, bob)
    assert figures["unmuted"][0] > 20, figures
    FIGURES["server_mute_packets_per_2s"] = figures


SHOWS_CAMERA = (
    "const v = document.querySelector(`#voice-occupants li[data-user-id='${arguments[0]}'] video.camera-video`);"
    "return Boolean(v && v.videoWidth > 0);"
)


def video_bytes_sent(browser: Browser) -> int:
    return sum(s["bytesSent"] for s in stats(browser) if s.get("type") == "outbound-rtp" and s.get("kind") == "video")


def test_camera_is_seen_through_the_sfu(pair):
    alice, bob = pair
    b = user_id(bob)
    open_voice(alice)
    figures: dict[str, object] = {}
    for on in (True, False, True):
        started = time.monotonic()
        bob.one("#call-camera").click()
        bob.wait(lambda _: voice_state(bob)["camera"] is on, message=f"Bob's camera never turned {'on' if on else 'off'}")
        # set_devices: both sidebars follow (Bob's is the server's word too: the reply).
        for browser in (alice, bob):
            browser.wait(lambda _, br=browser: (occupant(br, b) or {}).get("camera") == str(on).lower(),
                         message=f"{browser.name}'s sidebar shows Bob's camera {'off' if on else 'on'}: {occupant(browser, b)}")
        if on:
            alice.wait(lambda _: (inbound(alice, b, "camera") or {}).get("framesDecoded", 0) > 30,
                       message=f"Alice decodes too little of Bob's camera: {inbound(alice, b, 'camera')} {voice_state(bob)}")
            alice.wait(lambda _: alice.driver.execute_script(SHOWS_CAMERA, b), message="Alice's page shows no video in Bob's tile")
            figures.setdefault("seconds_to_30_frames", []).append(round(time.monotonic() - started, 2))
        else:
            alice.wait(lambda _: inbound(alice, b, "camera") is None and not alice.driver.execute_script(SHOWS_CAMERA, b),
                       message=f"Alice still gets Bob's camera after he turned it off: {inbound(alice, b, 'camera')}")
            assert "publish camera" not in voice_state(bob)["connections"], voice_state(bob)
    frames = inbound(alice, b, "camera")
    figures["size"] = f"{frames['frameWidth']}x{frames['frameHeight']}"
    sent0 = video_bytes_sent(bob)
    time.sleep(2)
    figures["camera_upload_kbit_per_s"] = round((video_bytes_sent(bob) - sent0) * 8 / 2 / 1000)
    # Bob's voice goes on beside it.
    assert packets_per(alice, b, bob)[0] > 20
    assert bob.one("#call-camera").get_attribute("aria-pressed") == "true"
    FIGURES["camera"] = figures


REJOIN = "const b = Array.from(document.querySelectorAll('.toast button')).find(b => b.textContent === 'Rejoin'); if (b) b.click(); return Boolean(b);"


def test_janus_killed_mid_call(sfu, janus_gate, pair):
    alice, bob = pair
    a, b = user_id(alice), user_id(bob)
    _, hold = janus_gate
    for browser in (alice, bob):
        dismiss_toasts(browser)
        open_channel(browser, "General")
    pid_file = Path(sfu.data) / "voice" / "janus" / "janus.pid"
    pid = int(pid_file.read_text().strip())
    hold.touch()  # Janus's restart waits until the pages have been refused
    try:
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        told = {}
        for browser in (alice, bob):
            browser.wait(lambda _, br=browser: voice_state(br) is None, message=f"{browser.name}'s call did not end: {voice_state(browser)}")
            browser.wait(lambda _, br=browser: any("Voice restarted on the server" in t.text for t in br.css(".toast")),
                         message=f"{browser.name} was not told the call was interrupted")
            told[browser.name] = round(time.monotonic() - killed, 2)
        # Both press Rejoin while Janus is still down: the server answers join_call with voice_unavailable, and each
        # page tries again by itself, saying "Reconnecting voice…" in its call panel; after ~10 s it gives up and says
        # so, with a Rejoin of its own.
        for browser in (alice, bob):
            assert browser.driver.execute_script(REJOIN), f"{browser.name}: no Rejoin button"
        alice.send("said while Janus restarts")
        bob.wait_message("said while Janus restarts")
        for browser in (alice, bob):
            browser.wait(lambda _, br=browser: (voice_state(br) or {}).get("refusals", 0) >= 1,
                         message=f"{browser.name} was never refused: {voice_state(browser)} {[t.text for t in browser.css('.toast')]}")
            assert voice_state(browser)["phase"] == "retrying", voice_state(browser)
            assert browser.one("#call-panel .call-status").text == "Reconnecting voice…"
        gave_up = "Voice is still unavailable on the server after 10 seconds of trying"
        for browser in (alice, bob):
            browser.wait(lambda _, br=browser: voice_state(br) is None and any(gave_up in t.text for t in br.css(".toast")), timeout=15,
                         message=f"{browser.name} did not give up: {voice_state(browser)} {[t.text for t in browser.css('.toast')]}")
            assert voice_state(browser) is None and not browser.one("#call-panel").is_displayed()
        # Rejoin again, still down: Bob changes his mind and leaves while his page retries, and it stops trying.
        for browser in (alice, bob):
            assert browser.driver.execute_script(REJOIN), f"{browser.name}: no Rejoin button after giving up"
        for browser in (alice, bob):
            browser.wait(lambda _, br=browser: (voice_state(br) or {}).get("refusals", 0) >= 1, message=f"{browser.name}: {voice_state(browser)}")
        bob.one("#call-leave").click()
        assert voice_state(bob) is None
    finally:
        hold.unlink(missing_ok=True)
    # Janus starts now; Alice's page joins at its next try, Bob's tries no more (he joins himself), and they hear
    # each other.
    started = time.monotonic()
    alice.wait(lambda _: (voice_state(alice) or {}).get("phase") == "connected",
               message=f"Alice never rejoined: {voice_state(alice)} {[t.text for t in alice.css('.toast')]}\n{sfu.log_tail(8)}")
    refusals = voice_state(alice)["refusals"]
    assert voice_state(bob) is None
    open_voice(bob)
    bob.wait_visible("#voice-join").click()
    bob.wait(lambda _: (voice_state(bob) or {}).get("phase") == "connected", message=f"Bob did not join: {voice_state(bob)}")
    for browser in (alice, bob):
        assert not browser.css(".toast-error"), [t.text for t in browser.css(".toast")]
    back = sum("Voice: Janus is ready" in l for l in sfu.lines)
    assert back == 2, f"Janus was not restarted once:\n{sfu.log_tail(4)}"
    for me, them in ((alice, b), (bob, a)):
        me.wait(lambda _, me=me, them=them: (received(me, them) or 0) > 0, message=f"{me.name} hears nothing after rejoining")
    heard = round(time.monotonic() - started, 2)
    assert int(pid_file.read_text().strip()) != pid
    open_channel(bob, "General")
    bob.send("said after rejoining")
    alice.wait_message("said after rejoining")
    FIGURES["janus_killed"] = {
        "call_ended_seen_seconds": told, "alice_refusals_on_her_second_rejoin": refusals,
        "audio_both_ways_after_janus_released_seconds": heard,
    }


def test_banned_mid_call_is_cut_off(sfu, pair):
    alice, bob = pair
    b = user_id(bob)
    identity = bob.driver.execute_script("return JSON.parse(localStorage.getItem('commune.identity.v1'))")
    assert (received(alice, b) or 0) > 0
    banned_at = time.monotonic()
    assert run(alice, "ban", {"user_id": b}) is True
    last, last_change = received(alice, b), banned_at
    while time.monotonic() - banned_at < 3.5:
        now = received(alice, b)
        if now != last:
            last, last_change = now, time.monotonic()
        time.sleep(0.1)
    heard_for = round(last_change - banned_at, 2)
    assert heard_for <= 2.0, f"Alice still got Bob's packets {heard_for} s after the ban"
    bob.wait(lambda _: bob.driver.execute_script("return document.body.dataset.gone") == "banned",
             message="Bob's page does not say he was banned")
    assert "banned" in bob.one("body").text
    assert voice_state(bob) is None
    # His key cannot come back, not even with a new invite (so no call secret either).
    client = PyClient(sfu.url.replace("http", "ws"), identity)
    try:
        with pytest.raises(RuntimeError, match="^unknown_user"):
            client.login()
        with pytest.raises(RuntimeError, match="^banned"):
            client.register(sfu.invite(), "Bob again")
    finally:
        client.close()
    FIGURES["ban"] = {"heard_after_ban_seconds": heard_for, "stream_gone": last is None}

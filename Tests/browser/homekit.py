"""What the home's browser tests (test_home.py) read and do: the rail as shown, its dialogs, a member's home opened with
their key in Python (HKDF-SHA256 and AES-256-GCM as PROTOCOL's "Home encryption" says), functions run on a raw
WebSocket as the member, and HTML drag and drop as the browser dispatches it."""

from __future__ import annotations

import base64
import json
import os
import urllib.request

from browserkit import Browser, CommuneServer, PyClient


def base(server: CommuneServer) -> str:
    return server.url.rstrip("/")


def rail(browser: Browser) -> list[dict]:
    """The rail as shown: each community's address, title, state, position, folder, error line and counts' source."""
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#rail-list .rail-community'), li => ({"
        " address: li.dataset.address, title: li.querySelector('.rail-title').textContent, state: li.dataset.state,"
        " position: li.dataset.position, current: li.classList.contains('current'), counts: li.dataset.counts,"
        " folder: li.closest('.rail-folder') ? li.closest('.rail-folder').querySelector('.rail-folder-name').textContent : null,"
        " error: (li.querySelector('.rail-error') || {}).textContent || ''}));"
    )


def folders(browser: Browser) -> list[tuple[str, bool]]:
    """Each folder's title as shown, and whether it is a chosen name (not made from its communities' names)."""
    return [tuple(f) for f in browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#rail-list .rail-folder-title'),"
        " t => [t.querySelector('.rail-folder-name').textContent, !t.classList.contains('unnamed')]);"
    )]


def placed(browser: Browser) -> list[tuple[str, str | None]]:
    return [(r["address"], r["folder"]) for r in rail(browser)]


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
    return browser.driver.execute_script(
        "const e = document.querySelector('#app-dialog .dialog-error');"
        "return e && !e.hidden && e.querySelector('.dialog-error-message') ? e.querySelector('.dialog-error-message').textContent : '';")


def stored_identity(browser: Browser) -> dict:
    return json.loads(browser.driver.execute_script("return localStorage.getItem('commune.identity.v1')"))


def call(server: CommuneServer, identity: dict, function: str, payload: dict, codec: str = "community", path: str = "", name: str = "") -> dict:
    """Runs a function on a raw WebSocket logged in as identity (a member's other device, or someone with their login)."""
    client = PyClient(f"ws://127.0.0.1:{server.port}/", identity)
    try:
        client.login()
        reply = client.request("function", {"codec": codec, "path": path, "name": name, "function": function, "payload": payload})
        return reply["data"]["payload"]
    finally:
        client.close()


def connections(server: CommuneServer) -> float:
    """The server's commune_connections gauge: WebSocket connections logged in there now."""
    with urllib.request.urlopen(f"{server.url}metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("commune_connections "):
                return float(line.split()[1])
    raise AssertionError("no commune_connections in /metrics")


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


def opened_home(server: CommuneServer, identity: dict) -> list[dict]:
    """The member's home at server, each entry opened in Python with the member's key: id, address, title, position."""
    key = home_key(identity)
    return [{"id": e["id"], "position": e["position"], "address": unseal(key, e["id"], "community_address", e["community_address"]),
             "title": unseal(key, e["id"], "community_title", e["community_title"])}
            for e in call(server, identity, "get_communities", {})["communities"]]


def entry_of(server: CommuneServer, identity: dict, address: str) -> dict:
    """The member's home entry for a community's address."""
    return next(e for e in opened_home(server, identity) if e["address"] == address)


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


def folder_title(browser: Browser, name: str):
    return next(t for t in browser.css("#rail-list .rail-folder-title") if t.find_element("css selector", ".rail-folder-name").text.lower() == name.lower())

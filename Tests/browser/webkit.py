"""What the web client's browser tests share: the module's community and browsers (fixtures), joining by an
invite, dialogs, channels, messages and members as a person reaches them. Imported by the test modules (which
re-export nothing of it as their own tests).

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from browserkit import REPO, Browser, CommuneServer

COMMUNE_BIN = os.environ.get("COMMUNE_BIN", str(REPO / ".build" / "debug" / "commune"))

GENERAL = "General/General"


@pytest.fixture(scope="module")
def server():
    """One community for the module that uses it (the fixture is imported by each test module)."""
    srv = CommuneServer(COMMUNE_BIN)
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def people():
    """The module's browsers by name, each started on first use and closed at the module's end."""
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

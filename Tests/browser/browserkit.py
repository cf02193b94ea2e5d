"""Helpers for Commune's real-browser tests: Chromium via selenium (Debian's binary and driver, nothing
downloaded), a Commune server on a free loopback port, a small protocol client in Python, and screenshot checks.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
WEB_DIR = REPO / "Sources" / "CommuneWebClient" / "Web"
OUTPUT = Path(os.environ.get("COMMUNE_BROWSER_OUTPUT", REPO / "test-output" / "browser"))
CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/lib/chromium/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = float(os.environ.get("COMMUNE_BROWSER_WAIT", "20"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


# ----------------------------------------------------------------------------------------------------------------
# Chromium


class Browser:
    """One headless Chromium with its own profile (a separate person's browser)."""

    def __init__(self, name: str, width: int = 1280, height: int = 860, dark: bool = True, flags: tuple[str, ...] = ()):
        self.name = name
        self.profile = tempfile.mkdtemp(prefix=f"commune-chromium-{name}-")
        self.downloads = Path(tempfile.mkdtemp(prefix=f"commune-downloads-{name}-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-features=Translate,MediaRouter,OptimizationHints",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "--lang=en-US",
            *flags,
        ):
            options.add_argument(flag)
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(self.downloads),
                "download.prompt_for_download": False,
                "profile.default_content_setting_values.automatic_downloads": 1,
            },
        )
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_script_timeout(WAIT)
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)}
        )
        if dark:
            self.driver.execute_cdp_cmd(
                "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
            )

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            time.sleep(0.5)
            shutil.rmtree(self.profile, ignore_errors=True)
            shutil.rmtree(self.downloads, ignore_errors=True)

    # -- waiting and finding ------------------------------------------------------------------------------------

    def wait(self, condition, timeout: float = WAIT, message: str = ""):
        # The client re-renders lists (on reconnection attempts, presence, updates): an element found by one poll may
        # be replaced before the condition reads it, so a stale element means "look again", not a failure.
        return WebDriverWait(
            self.driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        ).until(condition, message)

    def css(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector: str):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def wait_visible(self, selector: str, timeout: float = WAIT):
        def visible(_):
            found = [e for e in self.css(selector) if e.is_displayed()]
            return found[0] if found else False

        return self.wait(visible, timeout, f"{self.name}: {selector} never became visible")

    def join(self, invite_link: str, username: str) -> None:
        """Opens an invite link, joins as `username` and waits until the page is online."""
        self.driver.get(invite_link)
        self.wait_screen("join")
        self.one("#join-name").send_keys(username)
        self.one("#join-submit").click()
        self.wait_screen("main")
        self.wait(lambda _: self.connection() == "online", message=f"{self.name} never came online")

    def wait_screen(self, name: str, timeout: float = WAIT) -> None:
        self.wait(
            lambda d: d.execute_script("return document.body.dataset.screen") == name,
            timeout,
            f"{self.name}: never reached the {name} screen (at {self.screen()})",
        )

    def screen(self) -> str:
        return self.driver.execute_script("return document.body && document.body.dataset.screen")

    def connection(self) -> str:
        return self.driver.execute_script("return document.body.dataset.connection || ''")

    def message_texts(self) -> list[str]:
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#message-list li.message:not(.pending) .message-content'),"
            " e => e.textContent)"
        )

    def message_ids(self) -> list[int]:
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#message-list li.message[data-id]'), e => +e.dataset.id)"
        )

    def wait_message(self, text: str, timeout: float = WAIT) -> None:
        self.wait(lambda _: text in self.message_texts(), timeout, f"{self.name}: message {text!r} never shown")

    def send(self, text: str) -> None:
        """Types into the composer (via the value for long texts) and presses Send."""
        box = self.one("#composer-input")
        self.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", box, text
        )
        self.one("#composer-send").click()

    def screenshot(self, filename: str) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / filename
        assert self.driver.save_screenshot(str(path)), f"could not save {path}"
        assert_not_blank(path)
        return path

    def severe_console_errors(self) -> list[str]:
        try:
            logs = self.driver.get_log("browser")
        except Exception:  # noqa: BLE001 - not every driver keeps logs
            return []
        return [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]


def set_member_permission(owner: Browser, permission: str, granted: bool) -> None:
    """The owner adds or removes a permission of the `member` group (update_group, as the CLI or a script would)."""
    change = {"add" if granted else "remove": permission}
    owner.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.commune.run({codec: 'community', path: '', name: ''}, 'update_group', {group: 'member', changes: [arguments[0]]})"
        ".then(() => done(true), e => done(String(e)));",
        change,
    )


def save_figures(filename: str, figures: dict) -> None:
    """Writes a test module's measured figures to test-output/browser/ and prints them."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / filename).write_text(json.dumps(figures, indent=2))
    print(f"{filename}:", json.dumps(figures))


# ----------------------------------------------------------------------------------------------------------------
# Screenshots


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG into rows of raw pixel bytes (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos = 8
    idat = b""
    width = height = color_type = bit_depth = interlace = None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, bit_depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    assert bit_depth == 8 and color_type in (2, 6) and interlace == 0, f"unexpected PNG format in {path}"
    bpp = 4 if color_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r) for r in rows] if bpp == 3 else [_rgba_to_rgb(r) for r in rows]


def _rgba_to_rgb(row: bytes) -> bytes:
    return b"".join(row[i : i + 3] for i in range(0, len(row), 4))


def distinct_colours(path: Path, step: int = 3) -> int:
    width, height, rows = png_pixels(path)
    colours = set()
    for y in range(0, height, step):
        row = rows[y]
        for x in range(0, width, step):
            colours.add(row[3 * x : 3 * x + 3])
    return len(colours)


def assert_not_blank(path: Path, minimum: int = 12) -> None:
    n = distinct_colours(path)
    assert n >= minimum, f"{path.name} looks blank: only {n} distinct colours"


# ----------------------------------------------------------------------------------------------------------------
# A Commune server


class CommuneServer:
    """`commune serve` on a free loopback port with a temporary data folder."""

    def __init__(self, binary: str, args: tuple[str, ...] = (), own_turn: bool = False):
        self.binary = binary
        # Commune's own coturn listens on a fixed port: only the tests that need it start it.
        self.args = list(args) + ([] if own_turn else ["--no-own-turn"])
        self.data = tempfile.mkdtemp(prefix="commune-browser-data-")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.owner_invite: str | None = None
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> None:
        self.lines = []
        self.process = subprocess.Popen(
            [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data", self.data, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        wait_for_port(self.port, timeout)
        # The owner invite, printed last on first start, follows the URL line shortly.
        deadline = time.monotonic() + 5
        while self.owner_invite is None and time.monotonic() < deadline and not self._started_before:
            self.owner_invite = next((l for l in reversed(self.lines) if "#invite=" in l), None)
            if self.owner_invite is None:
                time.sleep(0.1)
        if self.owner_invite:
            self.owner_invite = self.owner_invite[self.owner_invite.index("http") :].strip()
        self._started_before = True

    _started_before = False

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def invite(self, uses: int = 1) -> str:
        out = subprocess.run(
            [self.binary, "invite", "create", "--data", self.data, "--uses", str(uses)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        lines = [l.strip() for l in out.stdout.splitlines() if l.strip()]
        assert lines and "#invite=" in lines[-1], f"no invite link in: {out.stdout!r} {out.stderr!r}"
        link = lines[-1]
        return link[link.index("http") :]

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.lines[-n:])


# ----------------------------------------------------------------------------------------------------------------
# The protocol in Python (test-side client)


@contextlib.contextmanager
def running_server(binary: str, args: tuple[str, ...] = ()):
    """A started `CommuneServer`, cleaned up afterwards (for a module's `server` fixture)."""
    srv = CommuneServer(binary, args=args)
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_identity() -> dict:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = X25519PrivateKey.generate()
    return {
        "version": 1,
        "user_id": str(uuid.uuid4()),
        "private_key": b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
        "public_key": b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
    }


def challenge_key(private_b64: str, peer_public_b64: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    shared = private.exchange(X25519PublicKey.from_public_bytes(base64.b64decode(peer_public_b64)))
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"challenge").derive(shared)


def seal_challenge(key: bytes, secret: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return b64(nonce + AESGCM(key).encrypt(nonce, secret, None))


def open_challenge(key: bytes, sealed_b64: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = base64.b64decode(sealed_b64)
    return AESGCM(key).decrypt(sealed[:12], sealed[12:], None)


class PyClient:
    """A minimal Commune client over websockets' synchronous API, for seeding data from the test side."""

    def __init__(self, ws_url: str, identity: dict):
        from websockets.sync.client import connect

        self.identity = identity
        self._connection = connect(ws_url, open_timeout=10, max_size=2**20)
        self.ws = self._connection.__enter__()

    def request(self, type_: str, data: dict | None = None, timeout: float = 10.0) -> dict:
        rid = str(uuid.uuid4())
        frame = {"type": type_, "id": rid, "log": {"log_level": 0, "message": type_}}
        if data is not None:
            frame["data"] = data
        self.ws.send(json.dumps(frame))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply to {type_}")
            reply = json.loads(self.ws.recv(timeout=remaining))
            if reply.get("id") == rid:
                if reply.get("type") == "error":
                    raise RuntimeError(f"{reply['data'].get('code')}: {reply['data'].get('message')}")
                return reply

    def register(self, invite: str, username: str) -> None:
        self.request(
            "register",
            {
                "user_id": self.identity["user_id"],
                "public_key": self.identity["public_key"],
                "invite": invite.split("#invite=")[-1],
                "username": username,
            },
        )

    def login(self) -> dict:
        challenge = self.request("identification", {"user_id": self.identity["user_id"]})["data"]
        key = challenge_key(self.identity["private_key"], challenge["public_key"])
        answer = b64(open_challenge(key, challenge["challenge"]))
        return self.request("challenge_response", {"challenge": answer})["data"]

    def send_message(self, path: str, name: str, text: str) -> dict:
        return self.request(
            "function",
            {"codec": "text", "path": path, "name": name, "function": "send_message", "payload": {"message": text}},
        )["data"]["payload"]

    def close(self) -> None:
        try:
            self._connection.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - closing a connection the server already dropped
            pass

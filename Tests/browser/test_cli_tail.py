"""`commune tail` (issue 13): a reply arrives with its original's preview ("↪ #N Bob: first line | "), as `commune
history` prints it, and who is typing shows on standard error ("Bob is typing…" when Bob's client says so, "Bob
stopped typing" when his message arrives or 6 s after his last typing call). Alice runs `commune tail` with its
output in pipes; Bob is a protocol client. No browser.

Needs COMMUNE_BIN (an already built `commune`); scripts/test-browser sets it.
"""

from __future__ import annotations

import os
import pty
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from browserkit import PyClient, new_identity
from test_read_state import GENERAL, cli, server  # noqa: F401 - server: the module's own community
from webkit import COMMUNE_BIN

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

FOLDER = Path(tempfile.mkdtemp(prefix="commune-tail-"))


class Lines:
    """The lines a pipe delivers, read by a thread of its own, waited for with a timeout."""

    def __init__(self, pipe):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe) -> None:
        for line in pipe:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout: float = 15.0) -> str:
        line = self.lines.get(timeout=timeout)
        self.seen.append(line)
        return line

    def none_within(self, seconds: float) -> bool:
        try:
            self.seen.append(self.lines.get(timeout=seconds))
            return False
        except queue.Empty:
            return True


def typing(client: PyClient) -> None:
    client.request("function", {"codec": "text", "path": "General", "name": "General", "function": "typing", "payload": {}})


def send(client: PyClient, text: str, reply_to: int | None = None) -> int:
    payload = {"message": text}
    if reply_to is not None:
        payload["reply_to"] = reply_to
    reply = client.request("function", {"codec": "text", "path": "General", "name": "General", "function": "send_message", "payload": payload})
    return reply["data"]["payload"]["message_id"]


def wait_until_tailing(out: Lines, client: PyClient, name: str) -> None:
    """Waits until tail is connected: a message the client sends now reaches its output."""
    for _ in range(50):
        send(client, "ready?")
        try:
            if out.next(timeout=1).endswith(f"{name}: ready?"):
                return
        except queue.Empty:
            continue
    pytest.fail("tail printed nothing")


def test_tail_prints_reply_previews_and_who_is_typing(server):
    alice = FOLDER / "alice.json"
    cli("join", server.invite(), "--name", "Alice", "--identity", str(alice))
    bob = PyClient(server.url.replace("http", "ws"), new_identity())
    bob.register(server.invite(), "Bob")
    bob.login()
    original = send(bob, "||the butler|| did it\nsecond line")
    tail = subprocess.Popen(
        [COMMUNE_BIN, "tail", GENERAL, "--identity", str(alice)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = Lines(tail.stdout), Lines(tail.stderr)
        wait_until_tailing(out, bob, "Bob")

        # A reply: the original's preview first, its spoiler hidden as `commune history` prints it.
        send(bob, "no way", reply_to=original)
        line = out.next()
        while line.endswith("Bob: ready?"):  # one sent just before tail was ready may still arrive
            line = out.next()
        assert line.endswith(f"↪ #{original} Bob: ||…|| did it | Bob: no way"), line
        history = cli("history", GENERAL, "--amount", "1", "--identity", str(alice)).rstrip("\n")
        assert history == line, (history, line)

        # Bob types: one line when he starts (his calls every 2 s keep it, no repeat), one when his message arrives.
        typing(bob)
        assert err.next() == "Bob is typing…"
        time.sleep(2)
        typing(bob)
        assert err.none_within(1.5), err.seen
        send(bob, "done typing")
        assert out.next().endswith("Bob: done typing")
        assert err.next() == "Bob stopped typing"
        # Typing and then nothing: the indicator ends by itself, 6 s after the last call (the server lets one
        # call through every 3 s: wait that long first).
        time.sleep(3.2)
        typing(bob)
        assert err.next() == "Bob is typing…"
        started = time.monotonic()
        assert err.next(timeout=12) == "Bob stopped typing"
        assert time.monotonic() - started >= 5.5, "the indicator ended before the protocol's 6 s"
        # Alice's own typing (another device) never shows.
        mine = PyClient(server.url.replace("http", "ws"), identity_of(alice))
        mine.login()
        typing(mine)
        assert err.none_within(2), err.seen
        mine.close()
    finally:
        tail.terminate()
        tail.wait(timeout=10)
        bob.close()


def test_tail_on_a_terminal_keeps_one_status_line(server):
    """Standard error on a terminal: "Bob is typing…" is one status line (carriage return, erase line, text), erased
    before a message is printed and drawn again after it, and erased when Bob's own message arrives."""
    dana = FOLDER / "dana.json"
    cli("join", server.invite(), "--name", "Dana", "--identity", str(dana))
    bob = PyClient(server.url.replace("http", "ws"), new_identity())
    bob.register(server.invite(), "Bobby")
    bob.login()
    carol = PyClient(server.url.replace("http", "ws"), new_identity())
    carol.register(server.invite(), "Carol")
    carol.login()
    terminal, tty = pty.openpty()
    tail = subprocess.Popen([COMMUNE_BIN, "tail", GENERAL, "--identity", str(dana)], stdout=subprocess.PIPE, stderr=tty, text=True)
    os.close(tty)
    screen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:
                return
            if not chunk:
                return
            screen.append(chunk)

    threading.Thread(target=read, daemon=True).start()
    shown = lambda: b"".join(screen).decode("utf-8", "replace")  # noqa: E731
    erase = "\r\x1b[2K"
    try:
        out = Lines(tail.stdout)
        wait_until_tailing(out, carol, "Carol")
        typing(bob)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not shown().endswith(erase + "Bobby is typing…"):
            time.sleep(0.05)
        assert shown().endswith(erase + "Bobby is typing…"), repr(shown())
        # Carol's message while Bobby types: the status line is erased, the message printed, the line drawn again.
        before = len(shown())
        send(carol, "meanwhile")
        line = out.next()
        while line.endswith("Carol: ready?"):
            line = out.next()
        assert line.endswith("Carol: meanwhile"), line
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and shown()[before:] != erase + erase + "Bobby is typing…":
            time.sleep(0.05)
        assert shown()[before:] == erase + erase + "Bobby is typing…", repr(shown()[before:])
        # Bobby's message ends his indicator: the line is erased and stays so.
        before = len(shown())
        send(bob, "here")
        assert out.next().endswith("Bobby: here")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and shown()[before:] != erase:
            time.sleep(0.05)
        assert shown()[before:] == erase, repr(shown()[before:])
    finally:
        tail.terminate()
        tail.wait(timeout=10)
        os.close(terminal)
        bob.close()
        carol.close()


def identity_of(path: Path) -> dict:
    """The identity in a CLI identity file, in PyClient's form."""
    import json

    data = json.loads(path.read_text())
    return {key: data[key] for key in ("user_id", "public_key", "private_key")}

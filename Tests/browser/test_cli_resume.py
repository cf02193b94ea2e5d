"""`commune tail` resumes after a dropped connection (issue 14, resumable sync): its socket is cut (not the server
restarted), three messages are sent while it is away, and it prints them once, in order, from the resumed stream
("Reconnected; N missed updates follow."), not from history. Alice runs tail; Bob is a protocol client. No browser.

Needs COMMUNE_BIN (an already built `commune`) and `ss` (iproute2) allowed to cut sockets: scripts/test-browser runs
this as root in its own network namespace.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from browserkit import PyClient, new_identity
from test_cli_tail import Lines, send, wait_until_tailing
from test_read_state import GENERAL, cli, server  # noqa: F401 - server: the module's own community
from webkit import COMMUNE_BIN

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")


def cut_connections_of(pid: int) -> int:
    """Aborts the TCP connections process `pid` has open (as a network failure would); returns how many."""
    listing = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True, text=True, check=True).stdout
    ports = [re.search(r":(\d+)\s", line).group(1) for line in listing.splitlines() if f"pid={pid}," in line]
    for port in ports:
        subprocess.run(["ss", "-K", "state", "established", "sport", "=", f":{port}"], capture_output=True, check=True)
    return len(ports)


def test_tail_resumes_after_its_connection_is_cut(server):
    alice = Path(tempfile.mkdtemp(prefix="commune-resume-")) / "alice.json"
    cli("join", server.invite(), "--name", "Alice", "--identity", str(alice))
    bob = PyClient(server.url.replace("http", "ws"), new_identity())
    bob.register(server.invite(), "Bob")
    bob.login()
    tail = subprocess.Popen(
        [COMMUNE_BIN, "tail", GENERAL, "--identity", str(alice)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = Lines(tail.stdout), Lines(tail.stderr)
        wait_until_tailing(out, bob, "Bob")
        while not out.none_within(0.5):  # a "ready?" sent just before tail was ready
            pass

        assert cut_connections_of(tail.pid) == 1
        # Sent while tail waits to reconnect (half a second at first).
        for index in range(1, 4):
            send(bob, f"missed {index}")
        assert err.next().startswith("Connection lost")
        # Alice going offline (everyone hears it; her other devices too) and the three messages.
        assert err.next() == "Reconnected; 4 missed updates follow.", err.seen
        printed = [out.next() for _ in range(3)]
        assert [line.split("Bob: ")[-1] for line in printed] == ["missed 1", "missed 2", "missed 3"], printed
        send(bob, "live again")
        assert out.next().endswith("Bob: live again")
        assert out.none_within(1), out.seen
    finally:
        tail.terminate()
        tail.wait(timeout=10)
        bob.close()

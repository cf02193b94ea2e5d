"""Resuming after a dropped connection, in real Chromium: the page says where it was in the community's stream of
updates, and what it missed arrives in order, once, without reading history again (issue 14, resumable sync)."""

from __future__ import annotations

from pathlib import Path

import pytest

from browserkit import PyClient, new_identity
from webkit import COMMUNE_BIN, join, people, server  # noqa: F401 - fixtures: this module's own

pytestmark = pytest.mark.skipif(not Path(COMMUNE_BIN).exists(), reason=f"no commune binary at {COMMUNE_BIN}")

GENERAL = {"codec": "text", "path": "General", "name": "General"}


def send(client: PyClient, text: str) -> int:
    reply = client.request("function", {**GENERAL, "function": "send_message", "payload": {"message": text}})
    return reply["data"]["payload"]["message_id"]


def test_a_dropped_connection_resumes_with_what_was_missed(server, people):
    bob = PyClient(server.url.replace("http", "ws"), new_identity())
    alice = people("alice")
    join(alice, server.owner_invite, "Alice")
    bob.register(server.invite(), "Bob")
    bob.login()
    send(bob, "before the drop")
    alice.wait_message("before the drop")
    before = alice.driver.execute_script("return window.commune.stream")
    assert before and before["position"] > 0 and before["resume"] is None

    # The network goes: the page's socket drops, and reconnecting is refused until it comes back.
    alice.driver.execute_cdp_cmd("Network.enable", {})
    alice.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [server.url.replace("http", "ws") + "*"]})
    alice.driver.execute_script("window.commune.dropConnection()")
    alice.wait(lambda _: alice.connection() in ("reconnecting", "connecting"), message="no reconnect state")
    missed = [send(bob, f"missed {index}") for index in range(1, 4)]
    assert alice.connection() != "online", "the page came back before the messages were sent: nothing was missed"
    assert "missed 1" not in alice.message_texts()
    alice.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    alice.driver.execute_script("document.getElementById('conn-retry').click()")
    alice.wait(lambda _: alice.connection() == "online", message="Alice never reconnected")
    alice.wait_message("missed 3")

    after = alice.driver.execute_script("return window.commune.stream")
    assert after["id"] == before["id"] and after["resume"] == "resumed", after
    assert after["position"] > before["position"]
    texts = alice.message_texts()
    assert [t for t in texts if t.startswith("missed")] == ["missed 1", "missed 2", "missed 3"]
    assert texts.count("before the drop") == 1
    ids = alice.message_ids()
    assert ids == sorted(set(ids)) and set(missed) <= set(ids), ids
    # Live again.
    send(bob, "after the drop")
    alice.wait_message("after the drop")
    alice.screenshot("r01-resumed.png")
    bob.close()

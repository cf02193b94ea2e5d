"""The home's crypto and rail model (lib/home.js) in a real Chromium, without a Commune server: the files are served
by test_client_units' static server with the community server's Content-Security-Policy.

- The key and every sealed field of the shared vector (Tests/Fixtures/home-seal-vector.json, also read by Swift's
  HomeSealTests) open in WebCrypto; the same fields changed by one byte, moved to another field or another entry, cut
  short or not base64 are refused, and an entry with one such field is left out and counted.
- What the browser seals opens in Python's `cryptography` (the spec's construction, independently).
- Positions: the server's pattern, component-wise order, folders and labels, the next top-level position.
- The identity file's `home` survives import and export, and a bad one is refused.
"""

from __future__ import annotations

import base64
import json

import pytest

from browserkit import REPO, Browser, new_identity
from test_client_units import page, run_module, static_url  # noqa: F401 (fixtures)

VECTOR = json.loads((REPO / "Tests" / "Fixtures" / "home-seal-vector.json").read_text())


def run_home(browser: Browser, body: str, *args):
    """Runs `body` (an async function body with `H` = home.js, `P` = protocol.js, `args`) in the page."""
    return run_module(browser, f"const H = await import('/lib/home.js'); {body}", *args)


VECTOR_IDENTITY = {"private_key": VECTOR["private_key_base64"]}
OPEN = "const key = await H.homeKey(args[0]); return await H.openField(key, args[1], args[2], args[3]);"


def test_vector_opens_in_the_browser(page):
    for field in VECTOR["fields"] + [VECTOR["folder_label_address"]]:
        got = run_home(page, OPEN, VECTOR_IDENTITY, VECTOR["entry_id"], field["field"], field["sealed"])
        assert got == field["plaintext"]
    entry = {
        "id": VECTOR["entry_id"],
        **{f["field"]: f["sealed"] for f in VECTOR["fields"]},
        "position": "3.1",
        "updated_at": "2026-12-02T03:00:00Z",
    }
    opened = run_home(page, "return await H.openEntry(await H.homeKey(args[0]), args[1]);", VECTOR_IDENTITY, entry)
    assert opened == {
        "id": VECTOR["entry_id"],
        "address": "http://127.0.0.1:1984",
        "title": "Café ☕ Work",
        "secret": json.loads(VECTOR["fields"][2]["plaintext"]),
        "position": "3.1",
        "updatedAt": "2026-12-02T03:00:00Z",
    }


def flipped(sealed: str, index: int) -> str:
    raw = bytearray(base64.b64decode(sealed))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_tampered_vector_is_refused(page):
    address, _, secret = VECTOR["fields"]
    entry_id = VECTOR["entry_id"]
    other_id = "00000000-0000-4000-8000-000000000000"
    cases = {
        "nonce": (entry_id, "community_address", flipped(address["sealed"], 0)),
        "ciphertext": (entry_id, "community_address", flipped(address["sealed"], 14)),
        "tag": (entry_id, "community_address", flipped(address["sealed"], -1)),
        "moved to another field": (entry_id, "community_title", address["sealed"]),
        "moved to another entry": (other_id, "community_address", address["sealed"]),
        "cut short": (entry_id, "community_address", base64.b64encode(base64.b64decode(address["sealed"])[:27]).decode()),
        "not base64": (entry_id, "community_address", "not base64!"),
        "url-safe base64": (entry_id, "community_secret", secret["sealed"].replace("+", "-").replace("/", "_")),
    }
    assert cases["url-safe base64"][2] != secret["sealed"]
    for eid, field, sealed in cases.values():
        with pytest.raises(AssertionError, match="could not be read"):
            run_home(page, OPEN, VECTOR_IDENTITY, eid, field, sealed)
    # The id in the additional data is the lower-case one the server stores: an upper-case copy opens the same.
    assert run_home(page, OPEN, VECTOR_IDENTITY, entry_id.upper(), "community_address", address["sealed"]) == address["plaintext"]
    # With another identity's key nothing opens.
    with pytest.raises(AssertionError, match="authentication failed"):
        run_home(page, OPEN, new_identity(), entry_id, "community_address", address["sealed"])
    # A list with one tampered entry: the good one is shown, the bad one left out and counted.
    good = {"id": entry_id, **{f["field"]: f["sealed"] for f in VECTOR["fields"]}, "position": "1"}
    bad = {**good, "id": other_id, "position": "2"}
    got = run_home(
        page,
        "const r = await H.openEntries(await H.homeKey(args[0]), args[1]);"
        "return {ids: r.entries.map(e => e.id), unreadable: r.unreadable, text: H.unreadableText(r.unreadable.length),"
        " next: H.nextTopLevelPosition([...r.entries, ...r.unreadable])};",
        VECTOR_IDENTITY,
        [bad, good],
    )
    assert got == {
        "ids": [entry_id],
        "unreadable": [{"id": other_id, "position": "2"}],
        "text": "1 entry in your home could not be read — it was changed by someone without your key.",
        "next": "3",  # the unreadable entry's position stays taken
    }


def test_browser_seals_what_python_opens(page):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    member = new_identity()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"commune home v1").derive(base64.b64decode(member["private_key"]))
    entry_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    hostile = "\u202eevil\u200b\u0007 title " + "x" * 2000
    sealed = run_home(
        page,
        "return await H.sealEntry(await H.homeKey(args[0]), {id: args[1], address: 'http://127.0.0.1:2000', title: args[2],"
        " secret: {community_key: 'k', username: 'ann'}, position: '4.2'});",
        member,
        entry_id,
        hostile,
    )
    assert sealed["id"] == entry_id and sealed["position"] == "4.2"
    plain = {}
    for field in ("community_address", "community_title", "community_secret"):
        raw = base64.b64decode(sealed[field], validate=True)
        assert len(raw) >= 28
        plain[field] = AESGCM(key).decrypt(raw[:12], raw[12:], f"commune-home:{entry_id}:{field}".encode()).decode()
    assert plain["community_address"] == "http://127.0.0.1:2000"
    assert plain["community_title"] == hostile
    assert json.loads(plain["community_secret"]) == {"community_key": "k", "username": "ann"}
    # A fresh nonce per field per write: sealing the same text twice differs.
    twice = run_home(
        page,
        "const k = await H.homeKey(args[0]); return [await H.sealField(k, 'a', 'community_title', 'x'), await H.sealField(k, 'a', 'community_title', 'x')];",
        member,
    )
    assert twice[0] != twice[1]
    # Over the server's 4,096 characters: refused before anything is sent.
    with pytest.raises(AssertionError, match="too long"):
        run_home(page, "return await H.sealField(await H.homeKey(args[0]), 'a', 'community_title', 'y'.repeat(3100));", member)


# A home as opened: a community at 0 and 1, folder 2 labelled "Work" with B and C (listed out of order), D alone in
# folder 3 (no label).
ENTRIES = [
    {"id": "a", "address": "http://a", "title": "A", "position": "1"},
    {"id": "w", "address": "", "title": "Work", "position": "2"},
    {"id": "c", "address": "http://c", "title": "C", "position": "2.5"},
    {"id": "b", "address": "http://b", "title": "B", "position": "2.1"},
    {"id": "d", "address": "http://d", "title": "D", "position": "3.1"},
    {"id": "e", "address": "http://e", "title": "E", "position": "0"},
]


def test_positions_and_folders(page):
    got = run_home(
        page,
        "return ['0', '7', '999999', '1.2.3', '01', '1.', '1.2.3.4', '1000000', '', ' 1', '1..2', 'a'].map(H.isPosition);",
    )
    assert got == [True, True, True, True, False, False, False, False, False, False, False, False]
    order = run_home(page, "return args[0].sort(H.comparePositions);", ["10", "2", "2.10", "2.9", "2.0", "1.5.3", "1.5"])
    assert order == ["1.5", "1.5.3", "2", "2.0", "2.9", "2.10", "10"]
    entries = ENTRIES
    rail = run_home(
        page,
        "return H.buildRail(args[0]).map(i => i.kind === 'folder' ? ['folder', i.title, i.label && i.label.id, i.entries.map(e => e.id)] : ['community', i.entry.id]);",
        entries,
    )
    assert rail == [
        ["community", "e"],
        ["community", "a"],
        ["folder", "Work", "w", ["b", "c"]],
        ["folder", "D", None, ["d"]],
    ]
    # A folder without a name is called after its first two communities; an empty one with a label by its label.
    unnamed = [{"id": i, "address": f"http://{i}", "title": t, "position": f"7.{n}"} for n, (i, t) in enumerate([("x", "Books"), ("y", "Chess"), ("z", "Darts")])]
    titles = run_home(page, "return H.buildRail(args[0]).map(i => [i.title, i.named]);", unnamed + [{"id": "l", "address": "", "title": "Empty", "position": "8"}])
    assert titles == [["Books, Chess…", False], ["Empty", True]]
    assert run_home(page, "return [H.nextTopLevelPosition(args[0]), H.nextTopLevelPosition([])];", entries) == ["4", "0"]


def test_titles_and_folder_names_are_checked(page):
    check = "try { return H.checkedTitle(args[0]); } catch (e) { return 'refused: ' + e.message; }"
    assert run_home(page, check, "  Work  ") == "Work"
    assert run_home(page, check, "é" * 64) == "é" * 64
    for bad in ("", "   ", "x" * 65, "a\u0000b", "line\nbreak", "a\u2028b", "bell\u0007"):
        assert run_home(page, check, bad) == "refused: A folder's name must be 1 to 64 characters without control characters.", repr(bad)
    # Bidi and zero-width characters are not control characters: kept, and shown isolated like every name.
    assert run_home(page, check, "\u202eevil\u200b") == "\u202eevil\u200b"


def test_closes_are_said_in_words(page):
    """lib/connection.js closeText: what the rail and the loading screen say when a socket closes (never a bare code)."""
    said = run_module(
        page,
        "const C = await import('/lib/connection.js');"
        "return args[0].map(([code, reason, opened]) => C.sentence(C.closeText({code, reason}, 'h:1', opened)));",
        [[1006, "", False], [1000, "", True], [1001, "ping timeout", True], [1006, "", True], [1008, "slow consumer", True],
         [1009, "", True], [1011, "", True], [1012, "", True], [4001, "no pong", True], [4001, "dropped by the client", True], [3999, "odd", True]],
    )
    assert said == [
        "Cannot reach h:1 (nothing answers there, or the network is down)",
        "The community at h:1 closed the connection (it may be restarting)",
        "The community at h:1 heard nothing from this browser for too long and closed the connection",
        "The connection to h:1 was lost (the network dropped, or the community stopped)",
        "The community at h:1 closed the connection: slow consumer",
        "The community at h:1 closed the connection: something this browser sent was too large",
        "The community at h:1 closed the connection after an error of its own",
        "The community at h:1 is restarting or too busy",
        "The community at h:1 stopped answering (no reply to a keep-alive ping)",
        "This page dropped the connection to h:1",
        "The connection to h:1 closed (WebSocket code 3999: odd)",
    ]


def test_identity_file_keeps_home(page):
    member = new_identity()
    file = {**member, "home": "http://127.0.0.1:1984/", "communities": []}
    back = run_home(page, "return JSON.parse(P.identityFileText(await P.validateIdentity(JSON.stringify(args[0]))));", file)
    assert back["home"] == "http://127.0.0.1:1984"
    # Without a home the file has none (the CLI's older files, and a member who chose none).
    plain = run_home(page, "return JSON.parse(P.identityFileText(await P.validateIdentity(args[0])));", member)
    assert "home" not in plain
    for bad in ("javascript:alert(1)", "http://127.0.0.1:1984/some/path", "not a url", 7):
        with pytest.raises(AssertionError, match="home is not"):
            run_home(page, "return await P.validateIdentity(args[0]);", {**member, "home": bad})


def apply_plan(entries: list[dict], plan: list[dict]) -> dict[str, str]:
    """Applies a planned move's updates in order as the server would, refusing a position another entry holds."""
    positions = {e["id"]: e["position"] for e in entries}
    for step in plan:
        taken = {p for i, p in positions.items() if i != step["id"]}
        assert step["position"] not in taken, f"{step} collides with a position still taken: {positions}"
        positions[step["id"]] = step["position"]
    return positions


def test_moves_plan_positions_without_collisions(page):
    entries = ENTRIES
    plan = lambda moving, folder, before: run_home(page, "return H.planMove(args[0], args[1], args[2]);", entries, moving, {"folder": folder, "beforeId": before})  # noqa: E731
    order = lambda positions: run_home(  # noqa: E731
        page,
        "return H.buildRail(args[0]).map(i => i.kind === 'folder' ? [i.title, i.entries.map(e => e.id)] : i.entry.id);",
        [{**e, "position": positions[e["id"]]} for e in entries],
    )
    # Room between the neighbours: one update, in the middle.
    assert plan("a", 2, "c") == [{"id": "a", "position": "2.3"}]
    assert plan("e", None, None) == [{"id": "e", "position": "4"}]
    assert plan("a", 2, None) == [{"id": "a", "position": "2.6"}]
    # No room: the level is renumbered through parked positions, and the folder moves with its number.
    steps = plan("d", None, "a")
    moved = apply_plan(entries, steps)
    assert order(moved) == ["e", "d", "a", ["Work", ["b", "c"]]]
    assert moved["b"].split(".")[1] == "1" and moved["b"].split(".")[0] == moved["w"]
    # Out of a folder to the top level, before another folder's community.
    assert order(apply_plan(entries, plan("b", None, "d"))) == ["e", "a", ["Work", ["c"]], "b", ["D", ["d"]]]
    # Into a full spot inside a folder: renumbered within the folder only.
    crowded = entries + [{"id": "f", "address": "http://f", "title": "F", "position": "2.2"}]
    steps = run_home(page, "return H.planMove(args[0], 'e', {folder: 2, beforeId: 'f'});", crowded)
    assert {s["id"] for s in steps} <= {"b", "c", "e", "f"}
    after = apply_plan(crowded, steps)
    got = run_home(page, "return H.buildRail(args[0]).map(i => i.kind === 'folder' ? i.entries.map(e => e.id) : i.entry.id);", [{**e, "position": after[e["id"]]} for e in crowded])
    assert got == ["a", ["b", "e", "f", "c"], ["d"]]

"""The web client's modules in a real Chromium, without a Commune server: the files are served by a tiny static
server that sends the same Content-Security-Policy as the community server.

- WebCrypto X25519 → HKDF-SHA256 → AES-256-GCM agrees with Python's `cryptography` (the server's construction).
- Identity files round-trip in the CLI's format, and broken ones are refused with a reason.
- Message markup never turns message text into HTML.
- The page starts under the CSP without violations.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import threading

import pytest

from browserkit import WEB_DIR, Browser, challenge_key, new_identity, seal_challenge

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' http: https: ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".svg": "image/svg+xml"}

    def end_headers(self):
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def static_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(WEB_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(static_url):
    browser = Browser("units")
    try:
        browser.driver.get(static_url)
        browser.wait_screen("welcome")
        yield browser
    finally:
        browser.quit()


def run_module(browser: Browser, body: str, *args):
    """Runs `body` (an async function body with `P` = protocol.js, `M` = markup.js, `args`) in the page."""
    script = (
        "const done = arguments[arguments.length - 1];"
        "const args = Array.from(arguments).slice(0, -1);"
        "Promise.all([import('/lib/protocol.js'), import('/lib/markup.js')])"
        f".then(async ([P, M]) => {{ {body} }})"
        ".then(v => done({ok: v}), e => done({error: String(e && e.message || e)}));"
    )
    result = browser.driver.execute_async_script(script, *args)
    if "error" in result:
        raise AssertionError(f"in the browser: {result['error']}")
    return result["ok"]


def test_page_starts_under_csp_without_errors(page):
    assert page.screen() == "welcome"
    assert page.one("#welcome-import").is_displayed()
    errors = [e for e in page.severe_console_errors() if "Content Security Policy" in e or "Refused" in e]
    assert errors == []
    page.screenshot("00-welcome-no-invite.png")


def test_webcrypto_identity_matches_python(page):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    identity = run_module(page, "return await P.generateIdentity();")
    assert set(identity) == {"version", "user_id", "private_key", "public_key"}
    assert identity["version"] == 1
    private = base64.b64decode(identity["private_key"], validate=True)
    public = base64.b64decode(identity["public_key"], validate=True)
    assert len(private) == 32 and len(public) == 32
    derived = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert derived == public


def test_browser_solves_python_sealed_challenge(page):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    community = X25519PrivateKey.generate()
    community_public = base64.b64encode(community.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    community_private = base64.b64encode(community.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    for _ in range(3):
        member = new_identity()
        secret = os.urandom(32)
        sealed = seal_challenge(challenge_key(community_private, member["public_key"]), secret)
        assert len(sealed) == 80
        answer = run_module(page, "return await P.solveChallenge(args[0], args[1], args[2]);", member, sealed, community_public)
        assert base64.b64decode(answer) == secret
        # A challenge sealed for someone else does not open.
        other = new_identity()
        with pytest.raises(AssertionError, match="could not be decrypted"):
            run_module(page, "return await P.solveChallenge(args[0], args[1], args[2]);", other, sealed, community_public)


def test_identity_file_round_trip_and_refusals(page):
    member = new_identity()
    back = run_module(page, "return JSON.parse(P.identityFileText(await P.validateIdentity(JSON.stringify(args[0]))));", member)
    assert back == {**member, "user_id": member["user_id"].lower(), "communities": []}
    # The CLI's files carry the communities joined; the entry for a URL is found with or without a trailing slash.
    cli_file = {**member, "communities": [{"url": "http://127.0.0.1:1984", "username": "al", "community_key": "k"}]}
    entry = run_module(page, "return P.communityEntry(args[0], 'http://127.0.0.1:1984/');", cli_file)
    assert entry["username"] == "al"
    run_module(page, "return await P.validateIdentity(args[0]);", cli_file)
    wrong = {**member, "public_key": new_identity()["public_key"]}
    with pytest.raises(AssertionError, match="does not belong"):
        run_module(page, "return await P.validateIdentity(args[0]);", wrong)
    with pytest.raises(AssertionError, match="not JSON"):
        run_module(page, "return await P.validateIdentity('{nope');")
    with pytest.raises(AssertionError, match="version"):
        run_module(page, "return await P.validateIdentity(args[0]);", {**member, "version": 2})
    with pytest.raises(AssertionError, match="UUID"):
        run_module(page, "return await P.validateIdentity(args[0]);", {**member, "user_id": "alice"})


def test_invite_parsing_and_websocket_url(page):
    got = run_module(
        page,
        "return [P.parseInvite('http://127.0.0.1:1984/#invite=q3TfW1bq0ZkX9v2Jm8sYcA4d'),"
        " P.parseInvite('#invite=abc_DEF-123'), P.parseInvite('q3TfW1bq0ZkX'), P.parseInvite('not a code!'),"
        " P.webSocketUrl({protocol: 'http:', host: '127.0.0.1:1984'}), P.webSocketUrl({protocol: 'https:', host: 'chat.example'}),"
        " P.codePointLength('a😀é')];",
    )
    assert got == ["q3TfW1bq0ZkX9v2Jm8sYcA4d", "abc_DEF-123", "q3TfW1bq0ZkX", None, "ws://127.0.0.1:1984/", "wss://chat.example/", 3]


MARKUP_CASES = [
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>", []),
    ("<script>alert(1)</script>", "<script>alert(1)</script>", []),
    ("**bold** and *it* and _it2_ and `co<b>de` ~~gone~~", "bold and it and it2 and co<b>de gone", ["STRONG", "EM", "EM", "CODE", "S"]),
    ("see https://example.org/a_(b)_c, ok", "see https://example.org/a_(b)_c, ok", ["A"]),
    ("[click](javascript:alert(1))", "[click](javascript:alert(1))", []),
    ("[docs](https://example.org/x)", "docs", ["A"]),
    ("```\n<b>x</b>\n```", "<b>x</b>", ["PRE", "CODE"]),
    ("snake_case_name stays", "snake_case_name stays", []),
    ("emoji 😀👩‍👩‍👧 ünïcødé 漢字 عربى", "emoji 😀👩‍👩‍👧 ünïcødé 漢字 عربى", []),
    ("**unclosed *nested `x", "**unclosed *nested `x", []),
]


# Issue 13: the markdown subset of PROTOCOL.md "Message text" (quotes, lists, spoilers, mailto) and hostile input.

SUBSET_CASES = [
    ("> quoted **bold**\n> second\nafter", "quoted bold\nsecondafter", ["BLOCKQUOTE", "STRONG"]),
    ("- one\n- *two*\n3. three\n4. four", "onetwothreefour", ["UL", "LI", "LI", "EM", "OL", "LI", "LI"]),
    ("a ||secret|| b", "a secret b", ["SPAN"]),
    ("mail mailto:ann@example.org, ok", "mail mailto:ann@example.org, ok", ["A"]),
    ("[write](mailto:ann@example.org)", "write (ann@example.org)", ["A", "SPAN"]),
    ("mailto:a@b.org?cc=x@y.org&body=hi mailto:javascript:alert(1)", "mailto:a@b.org?cc=x@y.org&body=hi mailto:javascript:alert(1)", []),
    (">not a quote\n-not a list\n1.not a list\n|| x||", ">not a quote\n-not a list\n1.not a list\n|| x||", []),
    ("> <img src=x onerror=alert(1)>\n- <script>x</script>\n||<b>b</b>||", "<img src=x onerror=alert(1)><script>x</script><b>b</b>", ["BLOCKQUOTE", "UL", "LI", "SPAN"]),
    ("||**unclosed ||*a||~~", "*unclosed ||a~~", ["SPAN", "EM"]),  # the first closing "||" ends the spoiler
    ("||a ||b|| c||", "a ||b c||", ["SPAN"]),
]


def rendered(page, text):
    """What renderMessage makes of text: its textContent, the tags of its elements, link targets, images/scripts."""
    return run_module(
        page,
        "const host = document.createElement('div'); host.append(M.renderMessage(args[0]));"
        "const tags = Array.from(host.querySelectorAll('*'), e => e.tagName);"
        "const hrefs = Array.from(host.querySelectorAll('a'), a => a.href);"
        "return {text: host.textContent, tags, hrefs, imgs: host.querySelectorAll('img,script,iframe').length};",
        text,
    )


@pytest.mark.parametrize(("text", "shown", "tags"), MARKUP_CASES + SUBSET_CASES, ids=[f"case{i}" for i in range(len(MARKUP_CASES + SUBSET_CASES))])
def test_markup_renders_text_never_html(page, text, shown, tags):
    got = rendered(page, text)
    assert got["text"] == shown
    assert got["tags"] == tags
    assert got["imgs"] == 0
    assert all(h.startswith(("http://", "https://", "mailto:")) for h in got["hrefs"])
    # A mail link is one plain address: never a header, never another scheme behind "mailto:".
    assert not any("?" in h or h.startswith("mailto:javascript") for h in got["hrefs"] if h.startswith("mailto:"))


def test_long_message_markup_is_fast(page):
    ms = run_module(
        page,
        "const t = ('**a* _b ` [x](y ' + 'w'.repeat(50) + ' ').repeat(60).slice(0, 4000);"
        "const s = performance.now(); for (let i = 0; i < 20; i++) M.renderMessage(t); return performance.now() - s;",
    )
    assert ms < 2000


# Issue 11 (client): markup that eats nothing, masked links, sends checked before they go, damaged invites, names.

RUNS_CASES = [
    ("*" * 500, "*" * 500, []),
    ("_" * 300 + "~" * 300 + "`" * 301, "_" * 300 + "~" * 300 + "`" * 301, []),
    ("**a** ***b*** ****", "a *b* ****", ["STRONG", "STRONG"]),
]


@pytest.mark.parametrize(("text", "shown", "tags"), RUNS_CASES, ids=[f"runs{i}" for i in range(len(RUNS_CASES))])
def test_markup_runs_keep_every_character(page, text, shown, tags):
    got = run_module(
        page,
        "const host = document.createElement('div'); host.append(M.renderMessage(args[0]));"
        "return {text: host.textContent, tags: Array.from(host.querySelectorAll('*'), e => e.tagName)};",
        text,
    )
    assert got == {"text": shown, "tags": tags}


def test_masked_links_show_a_host_their_text_hides(page):
    got = run_module(
        page,
        "return args[0].map(t => { const h = document.createElement('div'); h.append(M.renderMessage(t));"
        " return Array.from(h.querySelectorAll('a'), a => a.textContent); });",
        [
            "[https://paypal.com](https://evil.example/x)",
            "[docs](https://example.org/x)",
            "[example.org](https://docs.example.org/)",
            "[\u0440\u0430\u0443\u0440\u0430l.com](https://paypal.com/)",
            "[Paypal.COM/login](https://www.paypal.com/login)",
        ],
    )
    assert got == [
        ["https://paypal.com (evil.example)"],
        ["docs"],
        ["example.org"],
        ["\u0440\u0430\u0443\u0440\u0430l.com (paypal.com)"],
        ["Paypal.COM/login"],
    ]


def test_messages_are_checked_before_sending(page):
    got = run_module(
        page,
        "return [P.messageProblem('x'.repeat(4000)), P.messageProblem('😀'.repeat(4000)), P.messageProblem('x'.repeat(4001)),"
        " P.messageProblem('a' + String.fromCharCode(0xD800) + 'b'), P.messageProblem(String.fromCharCode(0xDC00)),"
        " P.messageProblem('bell\\u0007'), P.messageProblem('tab\\tand\\nlines')].map(p => p && p.code);",
    )
    assert got == [None, None, "too_large", "invalid_argument", "invalid_argument", "invalid_argument", None]


def test_damaged_invites_are_not_taken_for_codes(page):
    got = run_module(
        page,
        "return [P.parseInvite('#invite=abc%25def'), P.parseInvite('#invite='), P.parseInvite('#invite=abc&x=1'),"
        " P.mentionsInvite('#invite'), P.mentionsInvite('#invite=%%'), P.mentionsInvite('#channel=x')];",
    )
    assert got == [None, None, "abc", True, True, False]


def test_names_are_cleaned_and_look_alikes_told_apart(page):
    got = page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import('/lib/names.js').then(N => done({"
        " clean: [N.cleanName('Al\\u200bice'), N.cleanName('\\u202eecila'), N.cleanName('\\u200b\\u2066'), N.cleanName('👩\\u200d👩\\u200d👧')],"
        " keys: [N.lookAlikeKey('Alice'), N.lookAlikeKey('\\uff21lice'), N.lookAlikeKey('\\u0410lice'), N.lookAlikeKey('A l i c e'), N.lookAlikeKey('Bob')],"
        " tags: Array.from(N.disambiguators([{user_id: 'aaaa1111', username: 'Alice'}, {user_id: 'aaaa2222', username: 'ALICE'},"
        "  {user_id: 'bbbb3333', username: 'Bob'}]).entries())}), e => done({error: String(e)}));"
    )
    assert got["clean"] == ["Alice", "ecila", "?", "👩\u200d👩\u200d👧"]
    assert got["keys"][:4] == ["alice"] * 4 and got["keys"][4] == "bob"
    assert got["tags"] == [["aaaa1111", "aaaa1"], ["aaaa2222", "aaaa2"]]


def test_spoiler_hides_a_masked_link_until_clicked(page):
    got = run_module(
        page,
        "const host = document.createElement('div'); document.body.append(host);"
        "host.append(M.renderMessage('look ||[paypal.com](https://evil.example/x)|| here'));"
        "const s = host.querySelector('.spoiler'); const a = s.querySelector('a');"
        "const before = {revealed: s.classList.contains('revealed'), linkTab: a.tabIndex, visible: getComputedStyle(a).visibility,"
        " expanded: s.getAttribute('aria-expanded'), role: s.getAttribute('role')};"
        "s.click();"
        "const after = {revealed: s.classList.contains('revealed'), linkTab: a.tabIndex, visible: getComputedStyle(a).visibility,"
        " expanded: s.getAttribute('aria-expanded'), text: a.textContent, href: a.href};"
        "host.remove(); return {before, after};",
    )
    assert got["before"] == {"revealed": False, "linkTab": -1, "visible": "hidden", "expanded": "false", "role": "button"}
    assert got["after"] == {"revealed": True, "linkTab": 0, "visible": "visible", "expanded": "true",
                            "text": "paypal.com (evil.example)", "href": "https://evil.example/x"}


def test_ten_thousand_markers_render_as_text_quickly(page):
    got = run_module(
        page,
        "const texts = ['|'.repeat(10000), '||x '.repeat(10000), '**x '.repeat(10000), '> '.repeat(10000),"
        " '- a\\n'.repeat(10000), '[x](https://a.b) '.repeat(2000), '||'.repeat(5000) + 'a'];"
        "const s = performance.now(); const out = texts.map(t => { const h = document.createElement('div');"
        " h.append(M.renderMessage(t)); return {len: h.textContent.length, nodes: h.querySelectorAll('*').length}; });"
        "return {ms: performance.now() - s, out};",
    )
    out = got["out"]
    assert out[0] == {"len": 10000, "nodes": 0}
    assert out[1] == {"len": 40000, "nodes": 0}  # every "||" unclosed: no spoiler eats any text
    assert out[2]["len"] == 40000 - 4 * out[2]["nodes"]  # bold pairs lose only their markers
    assert out[3] == {"len": 10000 * 2 - 2, "nodes": 1}  # one quote holding the rest of the markers as text
    assert out[4] == {"len": 10000, "nodes": 10001}  # one list, 10,000 items
    assert out[5]["nodes"] == 2000
    assert out[6]["len"] == 10001 and out[6]["nodes"] == 0
    print(f"10,000-marker texts rendered in {got['ms']:.0f} ms")
    assert got["ms"] < 5000


def test_day_separators_say_today_yesterday_or_the_date(page):
    """Send times are the server's, so messages of other days come from the page's own function, in local time."""
    got = page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import('/codecs/text/display.js').then(D => {"
        " const now = new Date(2026, 11, 1, 0, 30).getTime();"  # 00:30 local: an hour ago is yesterday
        " const at = (y, mo, d, h) => new Date(y, mo, d, h).getTime();"
        " done({labels: [D.dayLabel(now - 20 * 60000, now), D.dayLabel(now - 60 * 60000, now), D.dayLabel(at(2026, 10, 29, 12), now),"
        "  D.dayLabel(at(2025, 11, 31, 23), now)], expected: [at(2026, 10, 29, 12), at(2025, 11, 31, 23)].map((t, i) =>"
        "  new Date(t).toLocaleDateString(undefined, {weekday: 'long', month: 'long', day: 'numeric', year: i ? 'numeric' : undefined})),"
        "  newDay: [D.newDay(now - 60 * 60000, now), D.newDay(now - 20 * 60000, now), D.newDay(undefined, now)]});"
        "}, e => done({error: String(e)}));"
    )
    assert "error" not in got, got
    assert got["labels"][:2] == ["Today", "Yesterday"]
    assert got["labels"][2:] == got["expected"] and "2025" in got["labels"][3] and "2026" not in got["labels"][2]
    assert got["newDay"] == [True, False, False]


def test_reply_previews_keep_spoilers_hidden_and_nothing_else_rendered(page):
    got = run_module(
        page,
        "return args[0].map(t => { const h = document.createElement('div'); h.append(M.renderPreview(t));"
        " return {text: h.textContent, hidden: Array.from(h.querySelectorAll('.spoiler'), s => s.textContent),"
        " tags: h.querySelectorAll('*').length}; });",
        ["a ||b|| c", "see ||the killer is the gardener, as everyone who read the last chapter kno…", "a || b, x ||y",
         "<b>x</b> **y** [z](https://evil.example)"],
    )
    assert got == [
        {"text": "a b c", "hidden": ["b"], "tags": 1},
        {"text": "see the killer is the gardener, as everyone who read the last chapter kno…",
         "hidden": ["the killer is the gardener, as everyone who read the last chapter kno…"], "tags": 1},
        {"text": "a || b, x ||y", "hidden": [], "tags": 0},
        {"text": "<b>x</b> **y** [z](https://evil.example)", "hidden": [], "tags": 0},
    ]

#!/usr/bin/env python3
"""Voice calls measured (issue 12, "Measure"): what a call costs the server, per forwarded audio packet and per
member, Janus's share and Commune's share apart; and what each member uploads in a mesh call and in an SFU call.

Run by scripts/bench-voice (which installs what is missing and puts this in a loopback-only network namespace with
the media address 127.0.0.2). For each shape (mode, members, kind of member) it starts a fresh `commune serve
--voice MODE` pinned to one core (`taskset`; Janus, its child, inherits the pin), has the members join the
community and one voice call (headless Chromium sessions running the web client with the fake microphone, or
synthetic members of Benchmarks/voice-members.py sending a tone; both pinned to --client-cores), first measures
one window with everyone online and no call, then waits until every member receives every other member's audio,
lets the call settle, and over a fixed window reads:

- the CPU seconds of the commune process and of its janus child (utime + stime from /proc/PID/stat);
- the UDP datagrams sent in the namespace (/proc/net/snmp) less those the members' transports sent: what Janus
  sent (forwarded audio, plus its RTCP and ICE checks), which Janus's and Commune's CPU are divided by;
- from every member's own peer connections (getStats): audio packets received from each other member (in a page,
  the web client's `window.commune.voiceStats()`, which names the sender of each stream), and the bytes each member
  uploads (outbound-rtp bytesSent: the Opus payload; transport bytesSent: everything its connections send, with
  SRTP, RTCP and ICE) and on how many peer connections; the frames the server sent each member;
- the CPU seconds of the members (every process under each chromedriver, or the synthetic members' process) and
  of this program.

A run where some member receives nothing from some other member during the window is reported as failed, never as
a figure; one whose members sent fewer than 45 of their 50 packets a second is marked. One JSON line per run goes
to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "browser"))

# A page with eight calls on a busy core answers slowly: the harness's waits (20 s by default) get longer.
os.environ.setdefault("COMMUNE_BROWSER_WAIT", "60")
from browserkit import Browser, CommuneServer  # noqa: E402
from test_voice import MEDIA_FLAGS, join_call, user_id  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
# Debian's python3-aiortc is installed for Debian's own Python, which may not be the `python3` running this.
SYNTHETIC_PYTHON = os.environ.get("COMMUNE_SYNTHETIC_PYTHON", "/usr/bin/python3")

# Keeps every RTCPeerConnection the page makes, so that the whole getStats of each can be read (the web client's
# voiceStats() reports packets, not bytes sent), and counts the frames the server sends on the page's WebSockets.
KEEP_PEER_CONNECTIONS = """
(() => {
  const Original = window.RTCPeerConnection;
  if (!Original || window.__benchPeerConnections) return;
  window.__benchServerFrames = 0;
  const OriginalSocket = window.WebSocket;
  window.WebSocket = new Proxy(OriginalSocket, {
    construct(target, args, newTarget) {
      const socket = Reflect.construct(target, args, newTarget);
      socket.addEventListener('message', () => { window.__benchServerFrames += 1; });
      return socket;
    },
  });
  const kept = [];
  window.__benchPeerConnections = kept;
  window.RTCPeerConnection = new Proxy(Original, {
    construct(target, args, newTarget) { const pc = Reflect.construct(target, args, newTarget); kept.push(pc); return pc; },
  });
})();
"""

# Per page, in one call: audio packets received from each member (the web client's voiceStats(), which names the
# sender of each stream); upload over its open connections (audio outbound-rtp payload bytes and packets; all
# bytes its transports send), and how many connections carry its audio up.
PAGE_STATS = """
const done = arguments[arguments.length - 1];
(async () => {
  const heard = {};
  for (const s of await window.commune.voiceStats()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.stream === 'voice' && s.user_id) {
      heard[s.user_id] = (heard[s.user_id] || 0) + s.packetsReceived;
    }
  }
  const out = {heard, serverFrames: window.__benchServerFrames || 0, payloadBytes: 0, packetsSent: 0, wireBytesSent: 0, wirePacketsSent: 0, uploadConnections: 0, open: 0};
  for (const pc of window.__benchPeerConnections || []) {
    if (pc.connectionState === 'closed') continue;
    out.open += 1;
    const report = await pc.getStats();
    let sends = false;
    report.forEach((r) => {
      if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        out.payloadBytes += r.bytesSent || 0;
        out.packetsSent += r.packetsSent || 0;
        if ((r.packetsSent || 0) > 0) sends = true;
      }
      if (r.type === 'transport') {
        out.wireBytesSent += r.bytesSent || 0;
        out.wirePacketsSent += r.packetsSent || 0;
      }
    });
    if (sends) out.uploadConnections += 1;
  }
  return out;
})().then(done, (e) => done({error: String(e)}));
"""


def log(text: str) -> None:
    print(f"[bench-voice {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# CPU from /proc


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), in seconds; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def descendants(root: int) -> list[int]:
    """root and every process under it (one pass over /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo and len(found) < 10_000:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu(roots: list[int]) -> dict[int, float]:
    """CPU seconds of every live process under the roots, by PID (a process that ends mid-window drops out of both
    readings: compare the PIDs present in both)."""
    out: dict[int, float] = {}
    for root in roots:
        for pid in descendants(root):
            seconds = cpu_seconds(pid)
            if seconds is not None:
                out[pid] = seconds
    return out


def process_kind(pid: int) -> str:
    """chromedriver, chromium (the browser process), or Chromium's --type (renderer, gpu-process; for a utility
    process its --utility-sub-type, e.g. AudioService). Chromium rewrites its command lines into one string."""
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    sub = re.search(r"--utility-sub-type=(\S+)", text)
    if sub:
        return sub.group(1).rsplit(".", 1)[-1]
    kind = re.search(r"--type=(\S+)", text)
    if kind:
        return kind.group(1)
    return "chromedriver" if "chromedriver" in text.split(" ", 1)[0] else "chromium"


def udp_datagrams_sent() -> int:
    """UDP datagrams sent in this network namespace so far (/proc/net/snmp, Udp OutDatagrams)."""
    rows = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("OutDatagrams")])


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------------------------------------------------------
# The members: Chromium sessions running the web client, or synthetic members (aiortc)


class BrowserMembers:
    """The first n of the Chromium sessions, each joining with the web client: a fresh origin, a fresh identity."""

    kind = "chromium"

    def __init__(self, browsers: list[Browser], count: int):
        self.browsers, self.all = browsers[:count], browsers

    def join_community(self, server: CommuneServer) -> dict[str, str]:
        """Returns name → user id, once every member is online."""
        ids: dict[str, str] = {}
        links = [server.owner_invite] + [server.invite() for _ in self.browsers[1:]]
        for index, (browser, link) in enumerate(zip(self.browsers, links)):
            browser.driver.get(link)
            browser.wait_screen("join")
            browser.one("#join-name").send_keys(f"Member {index + 1}")
            browser.one("#join-submit").click()
        for browser in self.browsers:
            browser.wait_screen("main")
            browser.wait(lambda _, b=browser: b.connection() == "online", message=f"{browser.name} never came online")
            ids[browser.name] = user_id(browser)
        return ids

    def join_call(self) -> None:
        for browser in self.browsers:
            join_call(browser)

    def pages(self, ids: dict[str, str]) -> dict[str, dict]:
        """Each page's PAGE_STATS, its `heard` keyed by member name (0 when no stream from that member yet), and the
        time it was read."""
        out = {}
        for browser in self.browsers:
            before = time.monotonic()
            page = browser.driver.execute_async_script(PAGE_STATS)
            if "error" in page:
                raise RuntimeError(f"{browser.name}: getStats failed: {page['error']}")
            page["heard"] = {name: page["heard"].get(ids[name], 0) for name in ids if name != browser.name}
            page["time"] = (before + time.monotonic()) / 2
            out[browser.name] = page
        return out

    def cpu_roots(self) -> list[int]:
        return [b.driver.service.process.pid for b in self.all]

    def close(self) -> None:
        for browser in self.browsers:
            try:
                browser.driver.get("about:blank")
            except Exception:  # noqa: BLE001 - a broken browser shows in the next run's failure
                pass


class SyntheticMembers:
    """n members in one process of Benchmarks/voice-members.py (aiortc, Debian's /usr/bin/python3)."""

    kind = "aiortc"

    def __init__(self, count: int):
        self.count = count
        self.process: subprocess.Popen | None = None
        self.replies: queue.Queue = queue.Queue()

    def read(self, event: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.replies.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"the synthetic members did not say {event!r} within {timeout:g} s") from None
            if line is None:
                raise RuntimeError(f"the synthetic members ended before {event!r}")
            reply = json.loads(line)
            if reply.get("event") == "error":
                raise RuntimeError(f"synthetic members: {reply['message']}")
            if reply.get("event") == event:
                return reply
            log(f"synthetic members: {line.strip()}")

    def join_community(self, server: CommuneServer) -> dict[str, str]:
        invite = server.invite(uses=self.count)
        self.process = subprocess.Popen(
            [SYNTHETIC_PYTHON, str(REPO / "Benchmarks" / "voice-members.py"), "--url", server.url.rstrip("/"),
             *[a for _ in range(self.count) for a in ("--invite", invite)]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )

        def pump(stream) -> None:
            for line in stream:
                self.replies.put(line)
            self.replies.put(None)

        threading.Thread(target=pump, args=(self.process.stdout,), daemon=True).start()
        online = self.read("online", 30 + 5 * self.count)
        return {m["name"]: m["user_id"] for m in online["members"]}

    def command(self, text: str) -> None:
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def join_call(self) -> None:
        self.command("call")
        self.read("in_call", 30 + 10 * self.count)

    def pages(self, ids: dict[str, str]) -> dict[str, dict]:
        self.command("stats")
        out = {}
        names = {user: name for name, user in ids.items()}
        for member in self.read("stats", 30)["members"]:
            heard = {names.get(user, user): n for user, n in member["heard"].items()}
            member["heard"] = {name: heard.get(name, 0) for name in ids if name != member["name"]}
            out[member["name"]] = member
        return out

    def cpu_roots(self) -> list[int]:
        return [self.process.pid] if self.process else []

    def close(self) -> None:
        if not self.process:
            return
        try:
            self.command("quit")
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - it is stopped below
            pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


# ---------------------------------------------------------------------------------------------------------------
# One run


class Run:
    def __init__(self, args, mode: str, members: BrowserMembers | SyntheticMembers, count: int):
        self.args, self.mode, self.people, self.members = args, mode, members, count
        self.server: CommuneServer | None = None

    def start_server(self) -> None:
        server_args = ["--voice", self.mode, "--no-rate-limits", "--max-mesh-members", str(self.args.max_mesh_members)]
        if self.args.media_ip:
            server_args += ["--media-ip", self.args.media_ip]
        self.server = CommuneServer(self.args.pinned_binary, args=tuple(server_args))
        self.server.start()
        if self.mode == "sfu":
            deadline = time.monotonic() + 10
            while not any("SFU calls through Janus" in l for l in self.server.lines) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not any("SFU calls through Janus" in l for l in self.server.lines):
                raise RuntimeError(f"the server offers no SFU: {[l for l in self.server.lines if 'Voice:' in l]}")

    def janus_pid(self) -> int | None:
        path = Path(self.server.data) / "voice" / "janus" / "janus.pid"
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def idle(self) -> dict:
        """The server's CPU with the same members online and no call, over one window: its cost without voice."""
        janus = self.janus_pid() if self.mode == "sfu" else None
        first = time.monotonic(), cpu_seconds(self.server.process.pid), cpu_seconds(janus) if janus else None
        time.sleep(self.args.window)
        last = time.monotonic(), cpu_seconds(self.server.process.pid), cpu_seconds(janus) if janus else None
        span = last[0] - first[0]
        out = {"commune_core_percent": round(100 * (last[1] - first[1]) / span, 2)}
        if janus and first[2] is not None and last[2] is not None:
            out["janus_core_percent"] = round(100 * (last[2] - first[2]) / span, 2)
        return out

    def sample(self, ids: dict[str, str]) -> dict:
        cpu = {"time": time.monotonic(), "commune": cpu_seconds(self.server.process.pid),
               "janus": cpu_seconds(self.janus_pid()) if self.mode == "sfu" else None,
               "generator_processes": tree_cpu(self.people.cpu_roots()),
               "generator": own_cpu(), "udp_sent": udp_datagrams_sent()}
        return {"cpu": cpu, "pages": self.people.pages(ids)}

    def measure(self) -> dict:
        label = f"{self.mode}-{self.members}-{self.people.kind}"
        record: dict = {"label": label, "mode": self.mode, "members": self.members, "generator": self.people.kind, "window_s": self.args.window,
                        "settle_s": self.args.settle, "server_core": self.args.server_core,
                        "client_cores": self.args.client_cores, "ok": False}
        phase = ""
        try:
            phase = "starting the server"
            self.start_server()
            phase = "joining the community"
            ids = self.people.join_community(self.server)
            if self.args.idle:
                phase = "the window with no call"
                time.sleep(self.args.settle)
                record["no_call"] = self.idle()
            phase = "joining the call"
            setup = time.monotonic()
            self.people.join_call()
            record["join_seconds"] = round(time.monotonic() - setup, 1)
            # Everyone hears everyone before the window starts (bounded wait).
            phase = "waiting until everyone hears everyone"
            deadline = time.monotonic() + 20 + 5 * self.members
            while True:
                silent = [(l, s) for l, page in self.people.pages(ids).items() for s, n in page["heard"].items() if n == 0]
                if not silent:
                    break
                if time.monotonic() > deadline:
                    record["failure"] = f"never heard (listener, sender): {silent}"
                    return record
                time.sleep(0.5)
            record["all_heard_after_s"] = round(time.monotonic() - setup, 1)
            time.sleep(self.args.settle)
            phase = "the measured window"
            first = self.sample(ids)
            time.sleep(self.args.window)
            last = self.sample(ids)
            record.update(self.figures(first, last))
            silent = [(l, s) for l, got in record["packets_received_by_pair"].items() for s, n in got.items() if n <= 0]
            if silent:
                record["failure"] = f"no audio during the window (listener, sender): {silent}"
            else:
                record["ok"] = True
                # Every member's microphone makes 50 packets a second; fewer means the members' core fell behind, and
                # the per-member figures are then for a quieter call than the size says.
                sent = record["audio_packets_sent_per_s_per_member"] / max(1, record["upload_connections_per_member"])
                if sent < 45:
                    record["note"] = f"members behind: {sent:.0f} of 50 packets/s sent per connection"
            return record
        except Exception as error:  # noqa: BLE001 - a failed run is reported, and the next one runs
            record["failure"] = f"{phase}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            if self.server:
                record["server_log_tail"] = self.server.log_tail(12)
            return record
        finally:
            self.people.close()
            if self.server:
                self.server.cleanup()

    def figures(self, first: dict, last: dict) -> dict:
        n = self.members
        c0, c1 = first["cpu"], last["cpu"]
        cpu_window = c1["time"] - c0["time"]
        out: dict = {"cpu_window_s": round(cpu_window, 2)}

        # Per page: packets received from each other member, upload, over that page's own interval.
        pairs: dict[str, dict[str, int]] = {}
        received_per_s = 0.0
        payload_kbit, wire_kbit, connections, sent_per_s, wire_packets_per_s = [], [], [], [], []
        frames_per_s = 0.0
        for name, p1 in last["pages"].items():
            p0 = first["pages"][name]
            span = p1["time"] - p0["time"]
            pairs[name] = {s: p1["heard"][s] - p0["heard"][s] for s in p1["heard"]}
            received_per_s += sum(pairs[name].values()) / span
            u0, u1 = p0, p1
            payload_kbit.append((u1["payloadBytes"] - u0["payloadBytes"]) * 8 / span / 1000)
            wire_kbit.append((u1["wireBytesSent"] - u0["wireBytesSent"]) * 8 / span / 1000)
            sent_per_s.append((u1["packetsSent"] - u0["packetsSent"]) / span)
            wire_packets_per_s.append((u1["wirePacketsSent"] - u0["wirePacketsSent"]) / span)
            frames_per_s += (u1["serverFrames"] - u0["serverFrames"]) / span
            connections.append(u1["uploadConnections"])
        out["packets_received_by_pair"] = pairs
        out["audio_packets_received_per_s"] = round(received_per_s, 1)
        out["audio_packets_sent_per_s_per_member"] = round(sum(sent_per_s) / n, 1)
        out["upload_payload_kbit_s_per_member"] = round(sum(payload_kbit) / n, 1)
        out["upload_wire_kbit_s_per_member"] = round(sum(wire_kbit) / n, 1)
        out["upload_connections_per_member"] = round(sum(connections) / n, 2)
        # Commune's work during a call: the frames it sends members (talking and state updates, signalling).
        out["server_frames_to_members_per_s"] = round(frames_per_s, 1)

        # What Janus sent: every UDP datagram sent in this namespace (only the call's processes live here) but the
        # members' own (their transports' packetsSent): the audio it forwarded, plus its RTCP and ICE checks. In a
        # busy load generator some of them are dropped before a member reads them, so this, not the members'
        # packetsReceived, is what Janus's CPU is divided by.
        forwarded = None
        if self.mode == "sfu":
            forwarded = (c1["udp_sent"] - c0["udp_sent"]) / cpu_window - sum(wire_packets_per_s)
            out["forwarded_packets_per_s"] = round(forwarded, 1)
            out["delivered_to_members_ratio"] = round(received_per_s / max(1.0, forwarded), 3)

        def share(key: str) -> dict | None:
            if c0[key] is None or c1[key] is None:
                return None
            per_s = (c1[key] - c0[key]) / cpu_window
            figures = {"cpu_s": round(c1[key] - c0[key], 3), "core_percent": round(100 * per_s, 2),
                       "core_percent_per_member": round(100 * per_s / n, 3)}
            if forwarded and forwarded > 0:
                figures["us_per_packet"] = round(per_s / forwarded * 1e6, 2)
            return figures

        out["commune"] = share("commune")
        if self.mode == "sfu":
            out["janus"] = share("janus")
            if out["janus"] is None:
                raise RuntimeError("janus was not running for the whole window (restarted?)")
        g0, g1 = c0["generator_processes"], c1["generator_processes"]
        common = set(g0) & set(g1)
        members = sum(g1[p] - g0[p] for p in common)
        by_kind: dict[str, float] = {}
        for pid in common:
            kind = process_kind(pid) if self.people.kind == "chromium" else "voice-members.py"
            by_kind[kind] = by_kind.get(kind, 0.0) + g1[pid] - g0[pid]
        out["load_generator"] = {"cpu_s": round(members, 2), "core_percent": round(100 * members / cpu_window, 1),
                                 "core_percent_per_member": round(100 * members / cpu_window / n, 1),
                                 "core_percent_by_process": {k: round(100 * v / cpu_window, 1) for k, v in sorted(by_kind.items())}}
        driver = c1["generator"] - c0["generator"]
        out["bench_driver"] = {"cpu_s": round(driver, 2), "core_percent": round(100 * driver / cpu_window, 1)}
        return out


# ---------------------------------------------------------------------------------------------------------------
# The table


def cell(value, fmt: str = "{:,.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def table(records: list[dict]) -> str:
    """Two Markdown tables: the server's CPU during the call, and each member's upload."""
    cpu = [
        "| call (members are) | members | forwarded packets/s (Janus) | of them read by members | Janus % core "
        "| Janus % core per member | Janus µs per forwarded packet | Commune % core | Commune % core per member "
        "| Commune µs per forwarded packet | Commune frames to members/s | no call, members online: Commune / Janus % core "
        "| load generator % core (per member) | result |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    upload = [
        "| call (members are) | members | connections each member uploads on | upload kbit/s per member, Opus payload "
        "| upload kbit/s per member, all it sends | audio packets sent/s per member | result |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in records:
        call = f"{r['mode']} ({r['generator']})"
        result = ("ok" + (f" ({r['note']})" if r.get("note") else "")) if r.get("ok") else f"**failed**: {r.get('failure', '?')}"
        if "commune" not in r:
            cpu.append(f"| {call} | {r['members']} |" + " |" * 11 + f" {result} |")
            upload.append(f"| {call} | {r['members']} |" + " |" * 4 + f" {result} |")
            continue
        janus, commune, idle = r.get("janus") or {}, r.get("commune") or {}, r.get("no_call") or {}
        sfu = r["mode"] == "sfu"
        cpu.append(" | ".join([
            f"| {call}", str(r["members"]),
            cell(r.get("forwarded_packets_per_s"), "{:,.0f}") if sfu else "— (peer to peer)",
            cell(r.get("delivered_to_members_ratio"), "{:.0%}") if sfu else "—",
            cell(janus.get("core_percent"), "{:.2f}"), cell(janus.get("core_percent_per_member"), "{:.2f}"),
            cell(janus.get("us_per_packet"), "{:.1f}"),
            cell(commune.get("core_percent"), "{:.2f}"), cell(commune.get("core_percent_per_member"), "{:.3f}"),
            cell(commune.get("us_per_packet"), "{:.2f}"), cell(r.get("server_frames_to_members_per_s")),
            f"{cell(idle.get('commune_core_percent'), '{:.2f}')} / {cell(idle.get('janus_core_percent'), '{:.2f}')}",
            f"{cell(r['load_generator']['core_percent'], '{:.0f}')} ({cell(r['load_generator']['core_percent_per_member'], '{:.0f}')})",
            f"{result} |",
        ]))
        upload.append(" | ".join([
            f"| {call}", str(r["members"]), cell(r.get("upload_connections_per_member"), "{:.0f}"),
            cell(r.get("upload_payload_kbit_s_per_member")), cell(r.get("upload_wire_kbit_s_per_member")),
            cell(r.get("audio_packets_sent_per_s_per_member")), f"{result} |",
        ]))
    return "\n".join(cpu) + "\n\n" + "\n".join(upload)


# ---------------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commune", required=True, help="the commune binary")
    parser.add_argument("--out", required=True, help="JSON lines, one per run, appended")
    parser.add_argument("--mesh", default="2,4,6",
                        help="mesh call sizes, Chromium members (those above --max-mesh-members are skipped)")
    parser.add_argument("--sfu", default="2,4", help="SFU call sizes, Chromium members")
    parser.add_argument("--sfu-synthetic", default="2,4,8", help="SFU call sizes, synthetic (aiortc) members")
    parser.add_argument("--mesh-synthetic", default="2,4,6", help="mesh call sizes, synthetic (aiortc) members")
    parser.add_argument("--max-mesh-members", type=int, default=6)
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after everyone hears everyone")
    parser.add_argument("--no-idle", dest="idle", action="store_false",
                        help="skip the window with everyone online and no call (the server's cost without voice)")
    parser.add_argument("--server-core", default="0")
    parser.add_argument("--client-cores", default="1")
    parser.add_argument("--media-ip", default=os.environ.get("COMMUNE_TEST_MEDIA_IP"))
    args = parser.parse_args()

    sizes = lambda text: [int(x) for x in text.split(",") if x.strip()]  # noqa: E731
    shapes = [("mesh", n, "chromium") for n in sizes(args.mesh) if n <= args.max_mesh_members]
    shapes += [("sfu", n, "chromium") for n in sizes(args.sfu)]
    shapes += [("mesh", n, "aiortc") for n in sizes(args.mesh_synthetic) if n <= args.max_mesh_members]
    shapes += [("sfu", n, "aiortc") for n in sizes(args.sfu_synthetic)]
    skipped = [n for n in sizes(args.mesh) + sizes(args.mesh_synthetic) if n > args.max_mesh_members]
    if skipped:
        log(f"mesh sizes {skipped} skipped: above --max-mesh-members {args.max_mesh_members}")
    if not shapes:
        log("nothing to run")
        return 64
    if any(mode == "sfu" for mode, _, _ in shapes) and not args.media_ip:
        log("warning: no media address (COMMUNE_TEST_MEDIA_IP): Janus will use this machine's own")

    # The server and its janus child on one core; the members (children of this process) on the others.
    work = Path(tempfile.mkdtemp(prefix="commune-bench-voice-"))
    pinned = work / "commune-pinned"
    pinned.write_text(f'#!/bin/sh\nexec taskset -c {args.server_core} "{os.path.abspath(args.commune)}" "$@"\n')
    pinned.chmod(0o755)
    args.pinned_binary = str(pinned)
    os.sched_setaffinity(0, {int(c) for c in args.client_cores.split(",")})

    records: list[dict] = []
    count = max([n for _, n, kind in shapes if kind == "chromium"], default=0)
    log(f"members on core(s) {args.client_cores}; server on core {args.server_core}")
    browsers: list[Browser] = []
    try:
        if count:
            log(f"starting {count} Chromium sessions")
        for index in range(count):
            browser = Browser(f"bench-voice-{index + 1}", width=1000, height=700, flags=MEDIA_FLAGS)
            browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_PEER_CONNECTIONS})
            browsers.append(browser)
        for mode, members, kind in shapes:
            log(f"run {mode}-{members}-{kind}: {members} members, {args.settle:g} s to settle, {args.window:g} s measured")
            people = BrowserMembers(browsers, members) if kind == "chromium" else SyntheticMembers(members)
            record = Run(args, mode, people, members).measure()
            record["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with open(args.out, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            records.append(record)
            log(f"run {mode}-{members}-{kind}: " + ("ok" if record["ok"] else f"FAILED: {record.get('failure')}"))
    finally:
        for browser in browsers:
            browser.quit()
        shutil.rmtree(work, ignore_errors=True)

    print(table(records))
    return 0 if all(r["ok"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())

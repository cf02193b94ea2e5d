#!/usr/bin/env python3
"""What read state costs the server when every member reads along (issue 13, Measure).

MEMBERS members (default 1,000) log in to a fresh `commune serve` and stay in General/General; one of them sends
RATE messages a second for SECONDS seconds, twice:
  A. the members only receive the messages;
  B. every member answers every message it receives with mark_read up to it — the worst client there could be (the
     web client marks at most once every 2 s, and only with the newest message in view).
For each phase: the server's CPU seconds (utime + stime, /proc/PID/stat), the bytes it wrote to disk (/proc/PID/io
write_bytes: SQLite's WAL), and the mark_read replies the members got. At the end: the rows in read_marks (one per
member and channel, however many marks were made). Prints one JSON line per phase and a small table.

  taskset -c 1 /usr/bin/python3 Benchmarks/readstate-bench.py --commune .build-release/release/commune \
      [--members 1000] [--rate 5] [--seconds 20] [--server-core 0]

Needs Debian's python3-websockets and python3-cryptography (apt install python3-websockets python3-cryptography).
The server runs pinned to --server-core; pin this generator to the other core as above.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import websockets
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GENERAL = {"codec": "text", "path": "General", "name": "General"}
TIMEOUT = 60


class Member:
    def __init__(self, name: str, url: str, code: str):
        self.name, self.url, self.code = name, url, code
        self.key = X25519PrivateKey.generate()
        self.user_id = str(uuid.uuid4())
        self.pending: dict[str, asyncio.Future] = {}
        self.marking = False
        self.marked = 0
        self.received = 0
        self.socket = None

    async def request(self, type_: str, data: dict) -> dict:
        rid = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        await self.socket.send(json.dumps({"type": type_, "id": rid, "log": {"log_level": 0, "message": type_}, "data": data}))
        reply = await asyncio.wait_for(future, TIMEOUT)
        if reply.get("type") == "error":
            raise RuntimeError(f"{self.name}: {type_}: {reply['data']}")
        return reply

    async def read(self) -> None:
        async for text in self.socket:
            frame = json.loads(text)
            future = self.pending.pop(frame.get("id"), None)
            if future and not future.done():
                future.set_result(frame)
                continue
            data = frame.get("data") or {}
            if frame.get("type") == "update" and data.get("result") == "message_live":
                self.received += 1
                if self.marking:
                    message_id = data["payload"]["message_id"]
                    asyncio.get_running_loop().create_task(self.mark(message_id))

    async def mark(self, message_id: int) -> None:
        try:
            await self.request("function", {**GENERAL, "function": "mark_read", "payload": {"message_id": message_id}})
            self.marked += 1
        except Exception as error:  # noqa: BLE001 - counted, not fatal
            print(f"{self.name}: mark_read: {error}", file=sys.stderr)

    async def login(self) -> None:
        self.socket = await websockets.connect(self.url, max_size=2**22, open_timeout=TIMEOUT, ping_interval=None)
        asyncio.get_running_loop().create_task(self.read())
        public = base64.b64encode(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        await self.request("register", {"user_id": self.user_id, "public_key": public, "invite": self.code, "username": self.name})
        challenge = (await self.request("identification", {"user_id": self.user_id}))["data"]
        shared = self.key.exchange(X25519PublicKey.from_public_bytes(base64.b64decode(challenge["public_key"])))
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"challenge").derive(shared)
        sealed = base64.b64decode(challenge["challenge"])
        secret = AESGCM(key).decrypt(sealed[:12], sealed[12:], None)
        reply = await self.request("challenge_response", {"challenge": base64.b64encode(secret).decode()})
        if not reply["data"].get("accepted"):
            raise RuntimeError(f"{self.name}: login refused")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_bytes(pid: int) -> int:
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


async def phase(name: str, pid: int, members: list[Member], sender: Member, rate: float, seconds: float, marking: bool) -> dict:
    for member in members:
        member.marking, member.marked, member.received = marking, 0, 0
    cpu0, io0, t0 = cpu_seconds(pid), write_bytes(pid), time.monotonic()
    sent = 0
    while time.monotonic() - t0 < seconds:
        await sender.request("function", {**GENERAL, "function": "send_message", "payload": {"message": f"{name} {sent}"}})
        sent += 1
        await asyncio.sleep(max(0.0, t0 + sent / rate - time.monotonic()))
    await asyncio.sleep(3)  # the last deliveries and marks, and one more flush of the marks
    cpu, io, elapsed = cpu_seconds(pid) - cpu0, write_bytes(pid) - io0, time.monotonic() - t0
    received = sum(m.received for m in members)
    marked = sum(m.marked for m in members)
    return {
        "phase": name, "members": len(members), "messages": sent, "deliveries": received, "marks": marked,
        "server_cpu_seconds": round(cpu, 2), "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "disk_write_kib": round(io / 1024), "elapsed_seconds": round(elapsed, 1),
        "cpu_us_per_mark": round((cpu * 1e6) / marked, 1) if marked else None,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commune", required=True)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=19840)
    parser.add_argument("--server-core", default="0")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="commune-readstate-bench-")
    server = subprocess.Popen(
        ["taskset", "-c", args.server_core, args.commune, "serve", "--host", "127.0.0.1", "--port", str(args.port), "--data", data,
         "--no-rate-limits", "--max-connections-per-address", str(args.members + 100), "--voice", "off", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        invite = None
        deadline = time.monotonic() + 60
        while invite is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if "#invite=" in line:
                invite = line.strip().split("#invite=")[-1]
        if invite is None:
            raise RuntimeError("the server printed no invite")
        many = subprocess.run([args.commune, "invite", "create", "--uses", str(args.members + 10), "--data", data],
                              capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1].split("#invite=")[-1]
        url = f"ws://127.0.0.1:{args.port}/"
        sender = Member("sender", url, invite)
        await sender.login()
        members = [Member(f"m{index}", url, many) for index in range(args.members)]
        started = time.monotonic()
        for start in range(0, len(members), 50):
            await asyncio.gather(*(m.login() for m in members[start:start + 50]))
        print(f"{len(members)} members logged in in {time.monotonic() - started:.1f} s", file=sys.stderr)
        await asyncio.sleep(3)
        results = [
            await phase("receive only", server.pid, members, sender, args.rate, args.seconds, marking=False),
            await phase("mark_read on every message", server.pid, members, sender, args.rate, args.seconds, marking=True),
        ]
        db = sqlite3.connect(f"file:{data}/commune.sqlite?mode=ro", uri=True)
        rows = db.execute("SELECT count(*) FROM read_marks").fetchone()[0]
        for result in results:
            result["read_marks_rows_at_end"] = rows
            print(json.dumps(result))
        a, b = results
        print(f"\n{'phase':<28} {'deliveries':>10} {'marks':>8} {'server CPU %':>12} {'disk KiB':>9} {'µs CPU/mark':>12}", file=sys.stderr)
        for r in results:
            print(f"{r['phase']:<28} {r['deliveries']:>10} {r['marks']:>8} {r['server_cpu_percent']:>12} {r['disk_write_kib']:>9} "
                  f"{str(r['cpu_us_per_mark'] or '-'):>12}", file=sys.stderr)
        extra = (b["server_cpu_seconds"] - a["server_cpu_seconds"]) * 1e6 / b["marks"] if b["marks"] else 0
        print(f"marks add {extra:.1f} µs of server CPU each; read_marks holds {rows} rows", file=sys.stderr)
        return 0
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

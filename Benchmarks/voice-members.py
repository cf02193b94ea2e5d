#!/usr/bin/python3
"""Synthetic call members for scripts/bench-voice: N members of a Commune community in one process, each with its
own identity, that join one voice call and send a tone as Opus, with aiortc (Debian's python3-aiortc; run with
Debian's /usr/bin/python3, which has it). They speak the protocol of docs/PROTOCOL.md as the web client does:
register with an invite and log in (X25519 challenge), `join_call`, the call socket's `hello`; in `sfu` mode
`publish {kind: "voice", jsep}` with a complete SDP (aiortc gathers ICE before it answers) and an `answer` to each
`offer` the server sends for what the member receives; in `mesh` mode an offer to each member already in the call
(`signal {to, payload: {description, streams}}`, complete SDPs, no trickle) and an answer to each offer signalled
by a member who joins later. What they receive is counted, not decoded.

Driven over stdin/stdout by Benchmarks/voice-bench.py, one JSON line per reply:
    (start)        → {"event": "online", "members": [{"name", "user_id"}]}   every member registered and logged in
    call           → {"event": "in_call"}                                   every member joined and published
    stats          → {"event": "stats", "members": [{"name", "time", "heard": {user_id: packets}, "serverFrames",
                      "payloadBytes", "packetsSent", "wireBytesSent", "wirePacketsSent", "uploadConnections"}]}
    quit           → the members leave and the process ends
Errors end the process with {"event": "error", "message"}.

    voice-members.py --url http://127.0.0.1:PORT --invite LINK [--invite LINK …] [--path General --name VC-1]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import fractions
import json
import math
import os
import sys
import time
import uuid

import aiortc.rtcrtpreceiver
import av
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

RATE = 48_000
FRAME = 960  # 20 ms
STEP_TIMEOUT = 60.0


def say(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def discard_worker(loop, input_q, output_q):
    """Stands in for aiortc's decoder thread: received audio is counted (packetsReceived) but never decoded, so
    that eight members' 56 incoming streams do not outrun one core; decoding is the client's cost, not the server's."""
    while input_q.get() is not None:
        pass
    asyncio.run_coroutine_threadsafe(output_q.put(None), loop)


aiortc.rtcrtpreceiver.decoder_worker = discard_worker


class Tone(MediaStreamTrack):
    """A 440 Hz tone, on for 0.5 s and off for 0.5 s (like Chromium's fake microphone, which beeps), paced in real
    time: 50 frames of 20 ms a second."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.start: float | None = None
        self.pts = 0
        loud = bytearray()
        for i in range(FRAME * 25):
            sample = int(8000 * math.sin(2 * math.pi * 440 * i / RATE))
            loud += sample.to_bytes(2, "little", signed=True)
        self.second = bytes(loud) + bytes(2 * FRAME * 25)

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        else:
            wait = self.start + self.pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        offset = (self.pts % RATE) * 2
        frame.planes[0].update(self.second[offset : offset + 2 * FRAME])
        frame.pts, frame.sample_rate, frame.time_base = self.pts, RATE, fractions.Fraction(1, RATE)
        self.pts += FRAME
        return frame


class Member:
    def __init__(self, name: str, url: str, invite: str, channel: tuple[str, str]):
        self.name, self.url, self.invite, (self.path, self.channel) = name, url.rstrip("/"), invite, channel
        key = X25519PrivateKey.generate()
        self.private = key
        self.public_b64 = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        self.user_id = str(uuid.uuid4())
        self.main = None
        self.pending: dict[str, asyncio.Future] = {}
        self.call = None
        self.publisher: RTCPeerConnection | None = None
        self.receiver: RTCPeerConnection | None = None
        self.published = asyncio.Event()
        self.mids: dict[str, str] = {}  # mid → user_id, from the server's last offer (sfu)
        self.peers: dict[str, RTCPeerConnection] = {}  # user_id → connection (mesh)
        self.unanswered: set[str] = set()  # members my mesh offers still wait on
        self.tasks: list[asyncio.Task] = []
        self.frames = 0  # frames the server sent on the main and call sockets (updates, replies, offers)

    # -- the main socket ------------------------------------------------------------------------------------

    async def request(self, type_: str, data: dict) -> dict:
        rid = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        await self.main.send(json.dumps({"type": type_, "id": rid, "log": {"log_level": 0, "message": type_}, "data": data}))
        reply = await asyncio.wait_for(future, STEP_TIMEOUT)
        if reply.get("type") == "error":
            raise RuntimeError(f"{self.name}: {type_}: {reply['data'].get('code')}: {reply['data'].get('message')}")
        return reply

    async def read_main(self) -> None:
        async for text in self.main:
            self.frames += 1
            frame = json.loads(text)
            future = self.pending.get(frame.get("id"))
            # A login's reply to challenge_response has the same id; the challenge itself answers identification.
            if future and not future.done():
                self.pending.pop(frame.get("id"), None)
                future.set_result(frame)

    async def go_online(self) -> None:
        self.main = await websockets.connect(self.url.replace("http", "ws", 1) + "/", max_size=2**22, open_timeout=STEP_TIMEOUT)
        self.tasks.append(asyncio.create_task(self.read_main()))
        code = self.invite.split("#invite=")[-1]
        await self.request("register", {"user_id": self.user_id, "public_key": self.public_b64, "invite": code, "username": self.name})
        challenge = (await self.request("identification", {"user_id": self.user_id}))["data"]
        shared = self.private.exchange(X25519PublicKey.from_public_bytes(base64.b64decode(challenge["public_key"])))
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"challenge").derive(shared)
        sealed = base64.b64decode(challenge["challenge"])
        secret = AESGCM(key).decrypt(sealed[:12], sealed[12:], None)
        reply = await self.request("challenge_response", {"challenge": base64.b64encode(secret).decode()})
        if not reply["data"].get("accepted"):
            raise RuntimeError(f"{self.name}: login refused: {reply}")

    # -- the call -------------------------------------------------------------------------------------------

    async def join_call(self) -> None:
        reply = await self.request("function", {"codec": "voice", "path": self.path, "name": self.channel,
                                                "function": "join_call", "payload": {}})
        joined = reply["data"]["payload"]
        self.call = await websockets.connect(self.url.replace("http", "ws", 1) + joined["socket"], max_size=2**22,
                                             open_timeout=STEP_TIMEOUT)
        await self.call.send(json.dumps({"type": "hello", "data": {"path": self.path, "name": self.channel, "secret": joined["secret"]}}))
        ready = json.loads(await asyncio.wait_for(self.call.recv(), STEP_TIMEOUT))
        if ready.get("type") != "ready":
            raise RuntimeError(f"{self.name}: call socket: {ready}")
        self.tasks.append(asyncio.create_task(self.read_call()))
        if joined["mode"] == "mesh":
            # The joiner offers to every member already in the call; the others answer.
            self.unanswered = set(ready["data"]["peers"])
            for peer in ready["data"]["peers"]:
                pc = self.peer(peer)
                await pc.setLocalDescription(await pc.createOffer())
                await self.signal(peer, pc)
            if not self.unanswered:
                self.published.set()
            await asyncio.wait_for(self.published.wait(), STEP_TIMEOUT)
            return
        # ICE servers: none here (loopback, --no-own-turn); aiortc gathers host candidates.
        self.publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.publisher.addTransceiver(Tone(), direction="sendonly")
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        await self.call.send(json.dumps({"type": "publish", "data": {"kind": "voice", "jsep": {
            "type": "offer", "sdp": self.publisher.localDescription.sdp}}}))
        await asyncio.wait_for(self.published.wait(), STEP_TIMEOUT)

    async def read_call(self) -> None:
        async for text in self.call:
            self.frames += 1
            frame = json.loads(text)
            kind, data = frame.get("type"), frame.get("data") or {}
            if kind == "answer" and data.get("kind") == "voice":
                await self.publisher.setRemoteDescription(RTCSessionDescription(data["jsep"]["sdp"], "answer"))
                self.published.set()
            elif kind == "offer":
                self.mids = {s["mid"]: s["user_id"] for s in data.get("streams", []) if s.get("kind") == "voice"}
                if self.receiver is None:
                    self.receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                await self.receiver.setRemoteDescription(RTCSessionDescription(data["jsep"]["sdp"], "offer"))
                await self.receiver.setLocalDescription(await self.receiver.createAnswer())
                await self.call.send(json.dumps({"type": "answer", "data": {"jsep": {
                    "type": "answer", "sdp": self.receiver.localDescription.sdp}}}))
            elif kind == "signal":
                await self.on_signal(data["from"], data.get("payload") or {})
            elif kind == "peer_left" and data.get("user_id") in self.peers:
                await self.peers.pop(data["user_id"]).close()
            elif kind in ("error", "ended"):
                say(event="note", member=self.name, frame=frame)

    def peer(self, user_id: str) -> RTCPeerConnection:
        """My mesh connection to a member, with a tone of its own (each connection encodes its own copy)."""
        if user_id not in self.peers:
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pc.addTransceiver(Tone(), direction="sendrecv")
            self.peers[user_id] = pc
        return self.peers[user_id]

    async def signal(self, to: str, pc: RTCPeerConnection) -> None:
        sdp = pc.localDescription.sdp
        streams = {line.split(":", 1)[1].split()[0]: "voice" for line in sdp.splitlines() if line.startswith("a=msid:")}
        await self.call.send(json.dumps({"type": "signal", "data": {"to": to, "payload": {
            "description": {"type": pc.localDescription.type, "sdp": sdp}, "streams": streams}}}))

    async def on_signal(self, sender: str, payload: dict) -> None:
        description = payload.get("description")
        if not isinstance(description, dict):
            return  # no trickled candidates here: every description is complete
        pc = self.peer(sender)
        await pc.setRemoteDescription(RTCSessionDescription(description["sdp"], description["type"]))
        if description["type"] == "offer":
            await pc.setLocalDescription(await pc.createAnswer())
            await self.signal(sender, pc)
        else:
            self.unanswered.discard(sender)
            if not self.unanswered:
                self.published.set()

    async def stats(self) -> dict:
        heard: dict[str, int] = {}
        if self.receiver:
            for transceiver in self.receiver.getTransceivers():
                sender = self.mids.get(transceiver.mid)
                if not sender:
                    continue
                for s in (await transceiver.receiver.getStats()).values():
                    if s.type == "inbound-rtp":
                        heard[sender] = heard.get(sender, 0) + s.packetsReceived
        for user, pc in self.peers.items():
            for s in (await pc.getStats()).values():
                if s.type == "inbound-rtp" and s.kind == "audio":
                    heard[user] = heard.get(user, 0) + s.packetsReceived
        out = {"name": self.name, "time": time.monotonic(), "heard": heard, "serverFrames": self.frames, "payloadBytes": 0, "packetsSent": 0,
               "wireBytesSent": 0, "wirePacketsSent": 0, "uploadConnections": 0}
        for pc in (self.publisher, self.receiver, *self.peers.values()):
            if pc is None or pc.connectionState == "closed":
                continue
            sends = False
            for s in (await pc.getStats()).values():
                if s.type == "outbound-rtp":
                    out["payloadBytes"] += s.bytesSent
                    out["packetsSent"] += s.packetsSent
                    sends = sends or s.packetsSent > 0
                elif s.type == "transport":
                    out["wireBytesSent"] += s.bytesSent
                    out["wirePacketsSent"] += s.packetsSent
            out["uploadConnections"] += int(sends)
        return out

    async def close(self) -> None:
        for pc in (self.publisher, self.receiver, *self.peers.values()):
            if pc:
                await pc.close()
        for socket in (self.call, self.main):
            if socket:
                await socket.close()
        for task in self.tasks:
            task.cancel()


async def lines():
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.strip()


async def run(args) -> None:
    members = [Member(f"member-{i + 1}", args.url, invite, (args.path, args.name)) for i, invite in enumerate(args.invite)]
    try:
        for member in members:
            await member.go_online()
        say(event="online", members=[{"name": m.name, "user_id": m.user_id} for m in members])
        async for command in lines():
            if command == "call":
                for member in members:
                    await member.join_call()
                say(event="in_call")
            elif command == "stats":
                say(event="stats", members=[await m.stats() for m in members])
            elif command == "quit":
                break
    finally:
        for member in members:
            try:
                await member.close()
            except Exception:  # noqa: BLE001 - closing what the server already closed
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--invite", action="append", required=True, help="one per member")
    parser.add_argument("--path", default="General")
    parser.add_argument("--name", default="VC-1")
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except Exception as error:  # noqa: BLE001 - reported to the driver, which reports the run as failed
        say(event="error", message=f"{type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

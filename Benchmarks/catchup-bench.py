#!/usr/bin/env python3
"""A reconnecting member's catch-up (issue 14, Measure): how long after its login reply a member that resumes has
every update it missed.

Reader R logs in on --first-port and keeps the stream point of the last update it got; it disconnects. --senders
members on --send-port then send --count messages to General/General between them (pipelined, each acknowledged =
committed). R logs in again on --resume-port with `resume` (docs/PROTOCOL.md, "Resuming after a disconnect"); the
time from its `identification_response` (which says `resumed` and how many updates follow) to the `message_live`
of the last of the --count messages to reach it is the catch-up time (the client's own reading included). Repeated --rounds times; prints one JSON line with every round and the median.
The three ports may be the same node (single node) or three nodes of one cluster.

  python3 Benchmarks/catchup-bench.py --invite http://127.0.0.1:PORT/#invite=CODE --first-port P1 \
      --send-port P2 --resume-port P3 [--count 1000] [--rounds 3] [--senders 4] [--label LABEL]

The invite needs --senders + 1 uses. Needs Debian's python3-websockets and python3-cryptography. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "browser"))
from browserkit import PyClient, b64, challenge_key, new_identity, open_challenge  # noqa: E402

GENERAL = {"codec": "text", "path": "General", "name": "General"}


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/"


def frame(type_: str, data: dict, rid: str | None = None) -> str:
    envelope = {"type": type_, "log": {"log_level": 0, "message": type_}, "data": data}
    if rid is not None:
        envelope["id"] = rid
    return json.dumps(envelope)


def login(client: PyClient, resume: dict | None) -> tuple[dict, int]:
    """Logs in (resuming if asked) and returns the identification_response's data and its arrival (ns)."""
    data = {"user_id": client.identity["user_id"]}
    if resume is not None:
        data["resume"] = resume
    challenge = client.request("identification", data)["data"]
    key = challenge_key(client.identity["private_key"], challenge["public_key"])
    answer = b64(open_challenge(key, challenge["challenge"]))
    rid = str(uuid.uuid4())
    client.ws.send(frame("challenge_response", {"challenge": answer}, rid))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        raw = client.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        arrived = time.monotonic_ns()
        reply = json.loads(raw)
        if reply.get("id") == rid:
            if reply.get("type") == "error":
                raise RuntimeError(f"login refused: {reply['data']}")
            return reply["data"], arrived
    raise TimeoutError("no identification_response")


def wait_for(client: PyClient, marker: str, point: dict, timeout: float = 20.0) -> None:
    """Reads updates until one carries `marker`, keeping the position of the last update in `point`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = client.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if '"type":"update"' not in raw.replace(" ", ""):
            continue
        update = json.loads(raw)
        if update.get("position") is not None:
            point["position"] = update["position"]
        if marker in raw:
            return
    raise TimeoutError(f"{marker!r} never arrived")


def wait_acknowledged(sender: PyClient, count: int) -> None:
    """Reads until `count` sends are acknowledged (message_received)."""
    acked = 0
    deadline = time.monotonic() + 60
    while acked < count and time.monotonic() < deadline:
        raw = sender.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if '"message_received"' in raw:
            acked += 1
        elif '"type":"error"' in raw.replace(" ", ""):
            raise RuntimeError(f"a send was refused: {raw[:300]}")
    if acked < count:
        raise TimeoutError(f"{acked} of {count} sends acknowledged")


def round_trip(args, reader_identity: dict, senders: list[PyClient], round_index: int) -> dict:
    reader = PyClient(url(args.first_port), reader_identity)
    data, _ = login(reader, None)
    stream = data["stream"]
    point = {"position": stream["position"]}
    # The reader is live: a message from the sender reaches it, and its point is that update's.
    warm = f"warm {round_index} {uuid.uuid4()}"
    senders[0].send_message(GENERAL["path"], GENERAL["name"], warm)
    wait_for(reader, warm, point)
    reader.close()

    prefix = f"catchup {round_index} "
    texts = [f"{prefix}{n}" for n in range(1, args.count + 1)]
    started = time.monotonic()
    for index, sender in enumerate(senders):
        for text in texts[index :: len(senders)]:
            sender.ws.send(frame("function", {**GENERAL, "function": "send_message", "payload": {"message": text}}, str(uuid.uuid4())))
    for index, sender in enumerate(senders):
        wait_acknowledged(sender, len(texts[index :: len(senders)]))
    send_seconds = time.monotonic() - started

    again = PyClient(url(args.resume_port), reader_identity)
    data, replied = login(again, {"stream": stream["id"], "position": point["position"], "connection": stream["connection"]})
    resume = data.get("resume") or {}
    seen = 0
    done = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        raw = again.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if prefix in raw:
            seen += 1
            if seen == args.count:
                done = time.monotonic_ns()
                break
    again.close()
    if done is None:
        raise TimeoutError(f"{seen} of the {args.count} missed messages arrived (resume {resume})")
    return {
        "status": resume.get("status"),
        "missed": resume.get("missed"),
        "seen": seen,
        "catchup_ms": round((done - replied) / 1e6, 2),
        "send_s": round(send_seconds, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invite", required=True)
    parser.add_argument("--first-port", type=int, required=True)
    parser.add_argument("--send-port", type=int, required=True)
    parser.add_argument("--resume-port", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    if not 1 <= args.count <= 9000 or not 1 <= args.rounds <= 20 or not 1 <= args.senders <= 20:
        parser.error("--count must be 1 to 9000 (the resume window is 10,000 updates), --rounds and --senders 1 to 20")
    invite = args.invite

    reader_identity = new_identity()
    first = PyClient(url(args.first_port), reader_identity)
    tag = uuid.uuid4().hex[:6]  # another run on the same community needs other names
    first.register(invite, f"reader-{tag}")
    first.close()
    senders = []
    for index in range(args.senders):
        sender = PyClient(url(args.send_port), new_identity())
        sender.register(invite, f"sender-{tag}-{chr(ord('a') + index)}")
        sender.login()
        senders.append(sender)

    rounds = [round_trip(args, reader_identity, senders, index) for index in range(args.rounds)]
    for sender in senders:
        # Their sockets hold the others' messages unread: the closing handshake would wait its full timeout.
        sender.ws.close_timeout = 0.2
        sender.close()
    times = [entry["catchup_ms"] for entry in rounds]
    result = {"label": args.label, "count": args.count, "rounds": rounds, "catchup_ms_median": statistics.median(times)}
    print(json.dumps(result), flush=True)
    return 0 if all(entry["status"] == "resumed" and entry["seen"] >= args.count for entry in rounds) else 2


if __name__ == "__main__":
    sys.exit(main())

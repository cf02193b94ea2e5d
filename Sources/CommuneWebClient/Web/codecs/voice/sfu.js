// SFU calls (docs/PROTOCOL.md, "Calls", sfu mode): my microphone goes up on one publishing RTCPeerConnection
// (`publish {kind: "voice", jsep}` with a complete SDP: ICE gathered first, no trickle), a shared screen on a second
// one (`publish {kind: "screen"}`, `unpublish`); everything I receive comes on one receiving connection that answers
// the server's `offer {jsep, streams: [{mid, user_id, kind}]}`, `streams` telling whose each track is.

import { audioContextNow, local, micTrack } from "./media.js";

/** Resolves when pc has gathered its ICE candidates (or after timeoutMs: what it has is sent). */
function gathered(pc, timeoutMs = 4000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/** A silent track: a member without a microphone still publishes, so that the call shows them connected. */
function silentTrack() {
  const ctx = audioContextNow();
  return ctx ? ctx.createMediaStreamDestination().stream.getAudioTracks()[0] : null;
}

export class SfuTransport {
  /**
   * options: iceServers, send(type, data) on the call socket, onTrack(userId, kind, stream), onTrackGone(userId,
   * kind), onState().
   */
  constructor({ iceServers, send, onTrack, onTrackGone, onState }) {
    this.mode = "sfu";
    this.iceServers = iceServers;
    this.send = send;
    this.onTrack = onTrack;
    this.onTrackGone = onTrackGone;
    this.onState = onState;
    this.publishers = new Map(); // kind (voice | screen) → RTCPeerConnection
    this.receiver = null; // the receiving RTCPeerConnection
    this.mids = new Map(); // mid → {user_id, kind}
    this.streams = new Map(); // mid → MediaStream handed out for it
    this.queue = Promise.resolve();
    this.closed = false;
  }

  start() {
    this.enqueue(() => this.publish("voice", micTrack() || silentTrack(), local.mic));
  }

  enqueue(job) {
    this.queue = this.queue.then(job).catch((e) => console.warn("voice (sfu):", e));
    return this.queue;
  }

  newConnection() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    pc.addEventListener("connectionstatechange", () => this.onState());
    return pc;
  }

  async publish(kind, track, stream) {
    if (this.closed || !track) return;
    const old = this.publishers.get(kind);
    if (old) old.close();
    const pc = this.newConnection();
    this.publishers.set(kind, pc);
    pc.addTransceiver(track, { direction: "sendonly", streams: stream ? [stream] : [] });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.publishers.get(kind) !== pc) return;
    this.send("publish", { kind, jsep: { type: "offer", sdp: pc.localDescription.sdp } });
  }

  /** A frame from the call socket (sfu: answer, offer). */
  receive(type, data) {
    if (type === "answer" && data.jsep && typeof data.jsep.sdp === "string") {
      const pc = this.publishers.get(data.kind === "screen" ? "screen" : "voice");
      if (pc && pc.signalingState === "have-local-offer") this.enqueue(() => pc.setRemoteDescription({ type: "answer", sdp: data.jsep.sdp }));
    } else if (type === "offer" && data.jsep && typeof data.jsep.sdp === "string") {
      const streams = Array.isArray(data.streams) ? data.streams : [];
      this.enqueue(() => this.answer(data.jsep.sdp, streams));
    }
  }

  async answer(sdp, streams) {
    if (this.closed) return;
    if (!this.receiver) {
      this.receiver = this.newConnection();
      this.receiver.addEventListener("track", () => this.assignTracks());
    }
    const pc = this.receiver;
    const before = this.mids;
    this.mids = new Map();
    for (const s of streams) {
      if (s && typeof s.mid === "string" && typeof s.user_id === "string") this.mids.set(s.mid, { user_id: s.user_id, kind: s.kind === "screen" ? "screen" : "voice" });
    }
    // What is no longer received, or now belongs to someone else, is gone for its former owner.
    for (const [mid, was] of before) {
      const now = this.mids.get(mid);
      if (!now || now.user_id !== was.user_id || now.kind !== was.kind) {
        this.streams.delete(mid);
        this.onTrackGone(was.user_id, was.kind);
      }
    }
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    this.send("answer", { jsep: { type: "answer", sdp: pc.localDescription.sdp } });
    this.assignTracks();
  }

  /** Hands each receiving track to its member, by mid. */
  assignTracks() {
    if (!this.receiver) return;
    for (const t of this.receiver.getTransceivers()) {
      const owner = t.mid !== null ? this.mids.get(t.mid) : null;
      if (!owner || !t.receiver.track) continue;
      let stream = this.streams.get(t.mid);
      if (!stream || stream.getTracks()[0] !== t.receiver.track) {
        stream = new MediaStream([t.receiver.track]);
        this.streams.set(t.mid, stream);
        this.onTrack(owner.user_id, owner.kind, stream);
      }
    }
  }

  /** My screen share started (a stream) or stopped (null). */
  setScreen(stream) {
    if (stream) {
      this.enqueue(() => this.publish("screen", stream.getVideoTracks()[0], stream));
      return;
    }
    const pc = this.publishers.get("screen");
    if (pc) {
      this.publishers.delete("screen");
      pc.close();
      this.send("unpublish", { kind: "screen" });
    }
  }

  /** Asks the server for a member's screen (or to stop sending it); a new offer follows. */
  watch(userId, on) {
    return this.send(on ? "watch" : "unwatch", { user_id: userId });
  }

  micChanged() {
    const pc = this.publishers.get("voice");
    const sender = pc && pc.getSenders()[0];
    if (sender) sender.replaceTrack(micTrack() || silentTrack());
  }

  setIceServers(iceServers) {
    this.iceServers = iceServers;
    for (const pc of [...this.publishers.values(), this.receiver]) if (pc) pc.setConfiguration({ iceServers });
  }

  /** kind or "receiving" → connection state. */
  states() {
    const out = {};
    for (const [kind, pc] of this.publishers) out[`publish ${kind}`] = pc.connectionState;
    if (this.receiver) out.receiving = this.receiver.connectionState;
    return out;
  }

  /** The peer connections and whose tracks they carry: [{userId, pc, mids}]. */
  connections() {
    const list = Array.from(this.publishers.values(), (pc) => ({ userId: null, pc }));
    if (this.receiver) list.push({ userId: null, pc: this.receiver, mids: this.mids });
    return list;
  }

  close() {
    this.closed = true;
    for (const pc of this.publishers.values()) pc.close();
    this.publishers.clear();
    if (this.receiver) this.receiver.close();
    this.receiver = null;
    for (const owner of this.mids.values()) this.onTrackGone(owner.user_id, owner.kind);
    this.mids.clear();
  }
}

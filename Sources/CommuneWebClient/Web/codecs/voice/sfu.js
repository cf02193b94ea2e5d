// SFU calls (docs/PROTOCOL.md, "Calls", sfu mode): my microphone goes up on one publishing RTCPeerConnection
// (`publish {kind: "voice", jsep}` with a complete SDP: ICE gathered first, no trickle), my camera and a shared screen
// each on one of their own while they are on (`publish {kind: "camera" | "screen"}`, `unpublish`); everything I
// receive comes on one receiving connection that answers the server's `offer {jsep, streams: [{mid, user_id, kind}]}`,
// `streams` telling whose each track is and what it is.

import { audioContextNow, local, micTrack, rtcConfiguration } from "./media.js";

/** Resolves once reached() holds for pc, checked at each `event` of pc, or after timeoutMs. */
function until(pc, event, reached, timeoutMs) {
  if (reached()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener(event, check);
      resolve();
    };
    const check = () => reached() && done();
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener(event, check);
  });
}

/** Resolves when pc has gathered its ICE candidates (or after 4 s: what it has is sent). */
const gathered = (pc) => until(pc, "icegatheringstatechange", () => pc.iceGatheringState === "complete", 4000);

/** Resolves when pc's media is up, or it failed (or after 10 s). */
const connected = (pc) => until(pc, "connectionstatechange", () => ["connected", "failed", "closed"].includes(pc.connectionState), 10000);

/** What my camera sends at most (bit/s); the server caps it too. Everyone in the call receives it. */
const CAMERA_MAX_BITRATE = 500000;
const KINDS = new Set(["voice", "camera", "screen"]);

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
    this.publishers = new Map(); // kind (voice | camera | screen) → RTCPeerConnection
    this.receiver = null; // the receiving RTCPeerConnection
    this.mids = new Map(); // mid → {user_id, kind} as the server's last offer said
    this.assigned = new Map(); // mid → {user_id, kind, stream} handed to onTrack
    this.camera = null; // my camera's stream, published once the call is started
    this.queue = Promise.resolve();
    this.waiting = new Map(); // kind → resolves when the server answered that publication
    this.closed = false;
  }

  start() {
    this.started = true;
    this.enqueue(() => this.publishVoice());
    if (this.camera) this.setVideo("camera", this.camera);
  }

  enqueue(job) {
    this.queue = this.queue.then(job).catch((e) => console.warn("voice (sfu):", e));
    return this.queue;
  }

  newConnection() {
    const pc = new RTCPeerConnection(rtcConfiguration(this.iceServers));
    pc.addEventListener("connectionstatechange", () => this.onState());
    return pc;
  }

  /** Publishes my voice on its connection (a microphone changed later is a replaced track, not a new offer). */
  async publishVoice() {
    if (this.closed || this.publishers.has("voice")) return;
    const pc = this.newConnection();
    this.publishers.set("voice", pc);
    pc.addTransceiver(micTrack() || silentTrack(), { direction: "sendonly", streams: local.mic ? [local.mic] : [] });
    await this.offer("voice", pc);
  }

  /**
   * Publishes a video of mine (kind camera or screen) on a new connection of its own; one there before is closed and
   * unpublished first (the SFU takes a new connection as a new publisher, never as the old one's renegotiation).
   */
  async publishVideo(kind, stream) {
    if (this.closed) return null;
    const old = this.publishers.get(kind);
    if (old) {
      old.close();
      this.send("unpublish", { kind });
    }
    const pc = this.newConnection();
    this.publishers.set(kind, pc);
    const sendEncodings = kind === "camera" ? [{ maxBitrate: CAMERA_MAX_BITRATE }] : undefined;
    pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly", streams: [stream], sendEncodings });
    await this.offer(kind, pc);
    return pc;
  }

  /** Sends a publishing connection's offer and waits (in the queue) for its answer, so that offers never cross. */
  async offer(kind, pc) {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.publishers.get(kind) !== pc || this.closed) return;
    const answered = new Promise((resolve) => {
      this.waiting.set(kind, resolve);
      setTimeout(resolve, 15000);
    });
    this.send("publish", { kind, jsep: { type: "offer", sdp: pc.localDescription.sdp } });
    await answered;
    this.waiting.delete(kind);
  }

  /** A frame from the call socket (sfu: answer, offer). */
  receive(type, data) {
    if (type === "answer" && data.jsep && typeof data.jsep.sdp === "string") {
      const kind = KINDS.has(data.kind) ? data.kind : "voice";
      const pc = this.publishers.get(kind);
      const done = this.waiting.get(kind) || (() => {});
      if (pc && pc.signalingState === "have-local-offer") {
        pc.setRemoteDescription({ type: "answer", sdp: data.jsep.sdp }).catch((e) => console.warn("voice (sfu): answer", e)).finally(done);
      } else done();
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
    this.mids = new Map();
    for (const s of streams) {
      if (s && typeof s.mid === "string" && typeof s.user_id === "string") this.mids.set(s.mid, { user_id: s.user_id, kind: KINDS.has(s.kind) ? s.kind : "voice" });
    }
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    this.send("answer", { jsep: { type: "answer", sdp: pc.localDescription.sdp } });
    this.assignTracks();
  }

  /** The server refused a frame (its error is shown): a publication waiting for its answer waits no more. */
  refused() {
    for (const done of this.waiting.values()) done();
  }

  /** Hands each receiving track to its member, by mid; what is no longer received (or is someone else's) is gone. */
  assignTracks() {
    if (!this.receiver) return;
    const now = new Map();
    for (const t of this.receiver.getTransceivers()) {
      const owner = t.mid !== null ? this.mids.get(t.mid) : null;
      const track = t.receiver.track;
      if (!owner || !track || t.currentDirection === "inactive") continue;
      if (owner.kind !== "voice" ? track.kind !== "video" : track.kind !== "audio") continue;
      now.set(t.mid, { user_id: owner.user_id, kind: owner.kind, track });
    }
    for (const [mid, was] of this.assigned) {
      const is = now.get(mid);
      if (!is || is.user_id !== was.user_id || is.kind !== was.kind || is.track !== was.stream.getTracks()[0]) {
        this.assigned.delete(mid);
        this.onTrackGone(was.user_id, was.kind);
      }
    }
    for (const [mid, is] of now) {
      if (this.assigned.has(mid)) continue;
      const stream = new MediaStream([is.track]);
      this.assigned.set(mid, { user_id: is.user_id, kind: is.kind, stream });
      this.onTrack(is.user_id, is.kind, stream);
    }
  }

  /**
   * My camera or screen share (kind) started (a stream) or stopped (null). Resolves once its media is up: the server
   * offers it to the others only then, so it is announced (set_devices, go_live) after.
   */
  async setVideo(kind, stream) {
    if (stream) {
      let pc = null;
      await this.enqueue(async () => {
        pc = await this.publishVideo(kind, stream);
      });
      if (pc) await connected(pc);
      return;
    }
    const pc = this.publishers.get(kind);
    if (pc) {
      this.publishers.delete(kind);
      pc.close();
      this.send("unpublish", { kind });
    }
  }

  setScreen(stream) {
    return this.setVideo("screen", stream);
  }

  /** My camera went on (a stream) or off (null); another camera while it is on is a replaced track. */
  setCamera(stream) {
    this.camera = stream;
    if (!this.started) return Promise.resolve();
    const pc = this.publishers.get("camera");
    if (stream && pc && pc.connectionState === "connected") return pc.getSenders()[0].replaceTrack(stream.getVideoTracks()[0]);
    return this.setVideo("camera", stream);
  }

  /** Asks the server for a member's screen (or to stop sending it); a new offer follows. */
  watch(userId, on) {
    return this.send(on ? "watch" : "unwatch", { user_id: userId });
  }

  micChanged() {
    const pc = this.publishers.get("voice");
    const sender = pc && pc.getTransceivers()[0].sender;
    if (sender) sender.replaceTrack(micTrack() || silentTrack());
  }

  setIceServers(iceServers) {
    this.iceServers = iceServers;
    for (const pc of [...this.publishers.values(), this.receiver]) if (pc) pc.setConfiguration(rtcConfiguration(iceServers));
  }

  /** kind or "receiving" → connection state. */
  states() {
    const out = {};
    for (const [kind, pc] of this.publishers) out[`publish ${kind}`] = pc.connectionState;
    if (this.receiver) out.receiving = this.receiver.connectionState;
    return out;
  }

  /** The peer connections, and whose an inbound RTP report is: [{pc, ownerOf(report) → {user_id, kind} | null}]. */
  connections() {
    const list = Array.from(this.publishers.values(), (pc) => ({ pc, ownerOf: () => null }));
    if (this.receiver) list.push({ pc: this.receiver, ownerOf: (r) => (r.mid ? this.assigned.get(r.mid) || null : null) });
    return list;
  }

  close() {
    this.closed = true;
    for (const pc of this.publishers.values()) pc.close();
    this.publishers.clear();
    for (const done of this.waiting.values()) done();
    if (this.receiver) this.receiver.close();
    this.receiver = null;
    for (const was of this.assigned.values()) this.onTrackGone(was.user_id, was.kind);
    this.assigned.clear();
    this.mids.clear();
  }
}

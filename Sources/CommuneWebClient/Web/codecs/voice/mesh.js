// Mesh calls (docs/PROTOCOL.md, "Calls", mesh mode): one RTCPeerConnection per other member; the member who joins
// offers to each of `ready.peers`, the others answer; renegotiation (a screen shared with a watcher, a microphone
// added later, an ICE restart) follows the perfect-negotiation pattern, the member with the smaller user id being the
// polite one. Signalling goes through the call socket as `signal {to, payload}`; the payloads this client sends:
//   {description: {type, sdp}, streams: {<MediaStream id>: "voice" | "screen" | "camera"}}   an offer or answer, and
//                                                                                  what each of my streams carries
//   {candidate: RTCIceCandidateInit}                                               a trickled ICE candidate
//   {watch: true | false}                                                          send me your screen (or stop)

import { local, micTrack, rtcConfiguration } from "./media.js";

export class MeshTransport {
  /**
   * options: me (my user id), iceServers, send(type, data) on the call socket, onTrack(userId, kind, stream),
   * onPeerGone(userId), onState() when a peer connection's state changes.
   */
  constructor({ me, iceServers, send, onTrack, onPeerGone, onState }) {
    this.mode = "mesh";
    this.me = me;
    this.iceServers = iceServers;
    this.send = send;
    this.onTrack = onTrack;
    this.onPeerGone = onPeerGone;
    this.onState = onState;
    this.peers = new Map(); // user id → peer
    this.screen = null; // my shared screen's stream (sent to those who watch it)
    this.camera = null; // my camera's stream (sent to everyone)
    this.watched = new Set(); // the members whose screens I asked for (asked again on a new connection to them)
    this.closed = false;
  }

  /** After `ready`: offer to everyone already in the call. */
  start(ready) {
    for (const id of Array.isArray(ready.peers) ? ready.peers : []) if (typeof id === "string") this.connect(id, true);
  }

  signal(to, payload) {
    this.send("signal", { to, payload });
  }

  streamKinds() {
    const kinds = {};
    if (local.mic) kinds[local.mic.id] = "voice";
    if (this.screen) kinds[this.screen.id] = "screen";
    if (this.camera) kinds[this.camera.id] = "camera";
    return kinds;
  }

  /** The peer connection to a member, made when missing; as the offerer, it offers at once. */
  connect(id, offerer) {
    const existing = this.peers.get(id);
    if (existing) return existing;
    const pc = new RTCPeerConnection(rtcConfiguration(this.iceServers));
    const peer = { id, pc, polite: this.me < id, makingOffer: false, ignoreOffer: false, queue: Promise.resolve(), kinds: new Map(), tracks: new Map(), watching: false, screen: null, camera: null };
    this.peers.set(id, peer);
    const track = micTrack();
    // An answerer's addTrack transceiver takes the offer's audio section; an offerer without a microphone still
    // asks for the others' audio.
    if (track) pc.addTrack(track, local.mic);
    else if (offerer) pc.addTransceiver("audio", { direction: "recvonly" });
    if (this.camera) this.sendVideo(peer, "camera", this.camera);
    pc.addEventListener("negotiationneeded", async () => {
      if (pc.signalingState !== "stable" || this.closed) return; // asked again once stable
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        this.signal(id, { description: pc.localDescription.toJSON(), streams: this.streamKinds() });
      } catch (e) {
        console.warn("voice: offer to", id, "failed:", e);
      } finally {
        peer.makingOffer = false;
      }
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.signal(id, { candidate: candidate.toJSON() });
    });
    pc.addEventListener("track", (event) => {
      const stream = event.streams[0] || new MediaStream([event.track]);
      const kind = peer.kinds.get(stream.id) || (event.track.kind === "audio" ? "voice" : "screen");
      peer.tracks.set(event.track.id, kind);
      this.onTrack(id, kind, stream);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && !peer.polite) pc.restartIce();
      this.onState();
    });
    if (this.watched.has(id)) this.signal(id, { watch: true });
    return peer;
  }

  /** A frame from the call socket (mesh: signal, peer_joined, peer_left). */
  receive(type, data) {
    if (type === "peer_joined" && typeof data.user_id === "string") {
      // They joined (or came back on a new call socket): they offer; an old connection to them is stale.
      this.drop(data.user_id);
    } else if (type === "peer_left" && typeof data.user_id === "string") {
      this.drop(data.user_id);
    } else if (type === "signal" && typeof data.from === "string" && data.payload && typeof data.payload === "object") {
      const peer = this.connect(data.from, false);
      peer.queue = peer.queue.then(() => this.handle(peer, data.payload)).catch((e) => console.warn("voice: signal from", data.from, "failed:", e));
    }
  }

  async handle(peer, payload) {
    const { pc } = peer;
    if (pc.signalingState === "closed") return;
    if (payload.streams && typeof payload.streams === "object") {
      for (const [streamId, kind] of Object.entries(payload.streams)) peer.kinds.set(streamId, kind);
    }
    if (payload.description && typeof payload.description === "object") {
      const description = payload.description;
      const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.signal(peer.id, { description: pc.localDescription.toJSON(), streams: this.streamKinds() });
      }
    } else if (payload.candidate && typeof payload.candidate === "object") {
      try {
        await pc.addIceCandidate(payload.candidate);
      } catch (e) {
        if (!peer.ignoreOffer) throw e;
      }
    } else if (typeof payload.watch === "boolean") {
      peer.watching = payload.watch;
      this.shareWith(peer);
    }
  }

  /** Sends a video (slot: screen or camera) to a peer on a transceiver of its own, or stops sending it. */
  sendVideo(peer, slot, stream) {
    const track = stream ? stream.getVideoTracks()[0] : null;
    const transceiver = peer[slot];
    if (track && !transceiver) {
      peer[slot] = peer.pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    } else if (track) {
      transceiver.sender.replaceTrack(track);
      transceiver.sender.setStreams(stream);
      transceiver.direction = "sendonly";
    } else if (transceiver && transceiver.direction !== "inactive") {
      transceiver.sender.replaceTrack(null);
      transceiver.direction = "inactive";
    }
  }

  /** Sends my screen to a peer who watches it, or stops. */
  shareWith(peer) {
    this.sendVideo(peer, "screen", peer.watching ? this.screen : null);
  }

  /** My screen share started (a stream) or stopped (null): watchers get it or lose it; they ask again next time. */
  setScreen(stream) {
    this.screen = stream;
    for (const peer of this.peers.values()) {
      if (!stream) peer.watching = false;
      this.shareWith(peer);
    }
  }

  /** My camera went on (a stream, also after choosing another camera) or off (null): everyone gets it. */
  setCamera(stream) {
    this.camera = stream;
    for (const peer of this.peers.values()) this.sendVideo(peer, "camera", stream);
  }

  /** Asks a member for their screen (or to stop sending it). */
  watch(userId, on) {
    if (on) this.watched.add(userId);
    else this.watched.delete(userId);
    if (this.peers.has(userId)) this.signal(userId, { watch: on });
    return this.peers.has(userId);
  }

  /** The microphone changed (another device, or one found after joining without): every peer gets the new track. */
  micChanged() {
    const track = micTrack();
    for (const peer of this.peers.values()) {
      const audio = peer.pc.getTransceivers().find((t) => t.receiver.track.kind === "audio");
      if (!audio) {
        if (track) peer.pc.addTrack(track, local.mic);
        continue;
      }
      audio.sender.replaceTrack(track);
      if (track) {
        audio.sender.setStreams(local.mic);
        if (audio.direction === "recvonly") audio.direction = "sendrecv";
      }
    }
  }

  setIceServers(iceServers) {
    this.iceServers = iceServers;
    for (const peer of this.peers.values()) peer.pc.setConfiguration(rtcConfiguration(iceServers));
  }

  drop(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    peer.pc.close();
    this.onPeerGone(id);
    this.onState();
  }

  /** user id → connection state of each peer. */
  states() {
    return Object.fromEntries(Array.from(this.peers.values(), (p) => [p.id, p.pc.connectionState]));
  }

  /** The peer connections, and whose an inbound RTP report is: [{pc, ownerOf(report) → {user_id, kind} | null}]. */
  connections() {
    return Array.from(this.peers.values(), (p) => ({
      pc: p.pc,
      ownerOf: (r) => ({ user_id: p.id, kind: p.tracks.get(r.trackIdentifier) || (r.kind === "video" ? "screen" : "voice") }),
    }));
  }

  close() {
    this.closed = true;
    for (const id of Array.from(this.peers.keys())) this.drop(id);
  }
}

// My call: joining and leaving, the call socket and the media transport of the call's mode (mesh.js or sfu.js),
// refreshing TURN credentials, and what happens when things drop: a lost call socket is reopened with the same secret,
// a lost main connection rejoins once it is back, a rejoin while the server's voice restarts is tried again, and a call
// the server ends (`call_ended`, or `ended` on the call socket) says why. My mute, deafen and talking are in mine.js;
// my devices, camera, screen share and what I watch in sharing.js.

import { ConnectionLost } from "../../lib/connection.js";
import { nameNode } from "../../lib/names.js";
import { webSocketUrl } from "../../lib/protocol.js";
import { errorToast, h, toast } from "../../lib/ui.js";
import { acquireMicrophone, audioContextNow, local, mediaSupported, micProblem, micTrack, releaseCamera, releaseMicrophone, TalkingDetector } from "./media.js";
import { MeshTransport } from "./mesh.js";
import { applyLocal, applyMine, chosenState, sendTalking } from "./mine.js";
import { addressOf, changed, model, myId, quietly, setOccupant, voiceNode } from "./model.js";
import * as playback from "./playback.js";
import { SfuTransport } from "./sfu.js";
import { announceLive, stopScreen } from "./sharing.js";
import { CallSocket } from "./signalling.js";

const SOCKET_RETRY_MS = [500, 1000, 2000, 4000, 8000];
// A rejoin refused with voice_unavailable (the server's SFU is restarting) is tried again after each of these waits
// (~10 s in all), then given up.
const UNAVAILABLE_RETRY_MS = [500, 1000, 1500, 2500, 4500];

function conn() {
  return model.ctx.store.get("conn");
}

function channelLabel(key) {
  const node = voiceNode(key);
  return nameNode(node ? node.name : key.split("/").pop());
}

// -------------------------------------------------------------------------------------------------------------
// Joining and leaving

/**
 * Joins a voice channel's call (leaving the one I am in). auto: rejoining by itself after a lost connection; rejoin:
 * the person pressed Rejoin after the server's voice restarted. Both try again while the server answers
 * voice_unavailable (its SFU is not back yet), showing "Reconnecting voice…", until UNAVAILABLE_RETRY_MS runs out.
 */
export async function join(key, { auto = false, rejoin = false } = {}) {
  if (!voiceNode(key)) return;
  if (!auto && model.call && model.call.key === key && model.call.phase !== "reconnecting") return;
  if (!mediaSupported()) {
    toast({
      title: "Calls are not available in this page",
      message: "The browser offers no microphone or WebRTC here. Open Commune over https, or over http on 127.0.0.1 or localhost.",
    });
    return;
  }
  audioContextNow(); // made during the click, so that the browser lets it run
  let watching = new Set();
  if (model.call) {
    // The server moves me from the old call when I join the new one; a share does not follow me to another call,
    // and what I watched is watched again when I rejoin the same one.
    if (model.call.key !== key) stopScreen();
    else watching = model.call.watching;
    teardown(model.call);
  }
  const retry = auto || rejoin;
  const call = { key, phase: "joining", mode: null, secret: null, socket: null, transport: null, watching, retries: 0, retry, refusals: 0 };
  model.call = call;
  model.rejoinKey = null;
  changed();
  await acquireMicrophone();
  if (model.call !== call) return;
  await requestJoin(call, auto);
}

/** Asks the server for my place in the call (join_call), then connects; tried again while voice is unavailable. */
async function requestJoin(call, auto) {
  const key = call.key;
  let reply;
  try {
    reply = call.retry ? await quietly(key, "join_call") : await model.ctx.act(addressOf(key), "join_call", {}, "joining the call");
  } catch (e) {
    if (model.call !== call) return;
    if (call.retry && e && e.code === "voice_unavailable" && call.refusals < UNAVAILABLE_RETRY_MS.length) {
      // The server's SFU is restarting: again in a moment (Leave stops it).
      call.phase = "retrying";
      call.retryTimer = setTimeout(() => model.call === call && requestJoin(call, auto), UNAVAILABLE_RETRY_MS[call.refusals]);
      call.refusals += 1;
      changed();
      return;
    }
    if (auto && e instanceof ConnectionLost) {
      call.phase = "reconnecting"; // tried again on the next login
    } else {
      model.call = null;
      if (!local.screen) releaseMicrophone();
      if (call.retry && e && e.code === "voice_unavailable") gaveUp(key, e);
      else if (call.retry) errorToast(e, "joining the call");
    }
    changed();
    return;
  }
  if (model.call !== call) {
    // Left (or went elsewhere) while the join was on its way.
    if (!model.call || model.call.key !== key) quietly(key, "leave_call").catch(() => {});
    return;
  }
  const p = reply.payload || {};
  Object.assign(call, {
    secret: String(p.secret || ""),
    socketPath: typeof p.socket === "string" && p.socket.startsWith("/") ? p.socket : "/ws/calls/",
    mode: p.mode === "sfu" ? "sfu" : "mesh",
    maxMembers: Number(p.max_members) || null,
    iceServers: Array.isArray(p.ice_servers) ? p.ice_servers : [],
    iceExpiresAt: Number.isFinite(p.ice_expires_at) ? p.ice_expires_at : null,
  });
  setOccupant(key, myId(), p.user || { state: "inactive" });
  if (!local.mic && !auto) {
    toast({ kind: "info", title: "Listening only", message: `${micProblem(local.micError)} Others will not hear you.`, timeout: 9000 });
  }
  // What I chose before (muted, deafened) and what my devices are, for the others to see.
  const follow = [];
  if (chosenState() !== "active") follow.push(["set_call_state", { state: chosenState() }]);
  if (!local.mic || local.camera) follow.push(["set_devices", { audio: Boolean(local.mic), video: Boolean(local.camera) }]);
  for (const [fn, payload] of follow) {
    try {
      const r = await quietly(key, fn, payload);
      if (model.call === call) applyMine(r.payload);
    } catch (e) {
      if (!(e instanceof ConnectionLost)) errorToast(e, fn);
    }
  }
  applyLocal();
  scheduleIceRefresh(call);
  openSocket(call);
}

/** Leaves my call. */
export async function leave() {
  const call = model.call;
  if (!call) return;
  model.call = null;
  model.rejoinKey = null;
  teardown(call);
  stopScreen();
  releaseMicrophone();
  releaseCamera();
  setOccupant(call.key, myId(), null);
  changed();
  if (call.secret) {
    try {
      await quietly(call.key, "leave_call");
    } catch (e) {
      if (!(e instanceof ConnectionLost)) errorToast(e, "leaving the call");
    }
  }
}

/** Stops what the call runs in this page (sockets, peer connections, timers); the microphone stays open. */
function teardown(call) {
  clearTimeout(call.iceTimer);
  clearTimeout(call.retryTimer);
  clearTimeout(call.talkTimer);
  if (call.detector) call.detector.detach();
  call.detector = null;
  if (call.transport) call.transport.close();
  call.transport = null;
  if (call.socket) call.socket.close();
  call.socket = null;
  playback.clear();
}

/** The server ended my call (reason: moved, channel_removed, media_restarted, no_access, removed, disconnected, left). */
export function ended(reason) {
  const call = model.call;
  if (!call) return;
  const key = call.key;
  teardown(call);
  setOccupant(key, myId(), null);
  if (reason === "disconnected") {
    // The main connection dropped: join again once it is back (at once, if it already is).
    call.phase = "reconnecting";
    changed();
    if (conn() && conn().online) join(key, { auto: true });
    return;
  }
  model.call = null;
  stopScreen();
  releaseMicrophone();
  releaseCamera();
  changed();
  // Removed or banned: the connection closes next and says so itself.
  if (reason === "left" || reason === "removed") return;
  if (reason === "moved") {
    toast({ kind: "info", title: "Call moved", message: ["You joined ", channelLabel(key), " from another device or page, so this page left the call."], timeout: 9000 });
  } else if (reason === "channel_removed") {
    toast({ kind: "info", title: "Call ended", message: ["The voice channel ", channelLabel(key), " was removed."], timeout: 9000 });
  } else if (reason === "no_access") {
    toast({ kind: "info", title: "Call ended", message: ["You may no longer see the voice channel ", channelLabel(key), " (it was made private)."], timeout: 9000 });
  } else if (reason === "media_restarted") {
    rejoinToast(key, "Call interrupted", "Voice restarted on the server. ");
  } else {
    toast({ kind: "info", title: "Call ended", message: `The server ended the call (${reason}).`, timeout: 9000 });
  }
}

/** A toast that stays, with a Rejoin button (pressed, the toast goes and the call is joined, retrying a while). */
function rejoinToast(key, title, text) {
  const rejoin = h("button", {
    type: "button",
    className: "primary small",
    textContent: "Rejoin",
    on: {
      click: () => {
        node.remove();
        join(key, { rejoin: true });
      },
    },
  });
  const node = toast({ kind: "info", title, message: [text, rejoin], timeout: 0 });
}

/** Voice did not come back while I retried: say so, with the server's last word, and offer to try again. */
function gaveUp(key, error) {
  const seconds = Math.round(UNAVAILABLE_RETRY_MS.reduce((a, b) => a + b, 0) / 1000);
  const said = error && error.message ? ` The server says: “${error.message}”` : "";
  rejoinToast(key, "Could not rejoin the call", `Voice is still unavailable on the server after ${seconds} seconds of trying.${said} `);
}

// -------------------------------------------------------------------------------------------------------------
// The call socket and the media

async function openSocket(call) {
  const address = addressOf(call.key);
  const url = new URL(call.socketPath, webSocketUrl(location)).href;
  const socket = new CallSocket(url, { path: address.path, name: address.name, secret: call.secret });
  call.socket = socket;
  call.phase = "connecting";
  changed();
  let ready;
  try {
    ready = await socket.open();
  } catch (e) {
    if (model.call !== call || call.socket !== socket) return;
    call.socket = null;
    if (e.code === "forbidden") {
      // The secret is no longer good: the server took me out of the call.
      errorToast(e, "connecting to the call");
      ended("left");
      return;
    }
    retrySocket(call);
    return;
  }
  if (model.call !== call || call.socket !== socket) {
    socket.close();
    return;
  }
  call.retries = 0;
  call.mode = ready.mode === "sfu" ? "sfu" : ready.mode === "mesh" ? "mesh" : call.mode;
  socket.addEventListener("frame", (event) => onFrame(call, event.detail));
  socket.addEventListener("closed", (event) => onSocketClosed(call, socket, event.detail));
  const send = (type, data) => socket.send(type, data);
  const common = {
    me: myId(),
    iceServers: call.iceServers,
    send,
    onTrack: (userId, kind, stream) => playback.addStream(userId, kind, stream),
    onTrackGone: (userId, kind) => playback.removeStream(userId, kind),
    onPeerGone: (userId) => playback.removePeer(userId),
    onState: changed,
  };
  call.transport = call.mode === "sfu" ? new SfuTransport(common) : new MeshTransport(common);
  if (local.camera) call.transport.setCamera(local.camera);
  call.transport.start(ready);
  if (local.screen) {
    // Still sharing after a rejoin (the server forgot it) or a new call socket: up again, then announced again.
    const shared = local.screen;
    Promise.resolve(call.transport.setScreen(shared.stream)).then(() => {
      if (model.call === call && local.screen === shared) announceLive(call, true, shared.label);
    });
  }
  for (const userId of call.watching) call.transport.watch(userId, true);
  if (call.mode === "mesh") {
    call.detector = new TalkingDetector((talking) => sendTalking(call, talking));
    if (local.mic) call.detector.attach(local.mic);
  }
  call.phase = "connected";
  applyLocal();
  changed();
}

function onFrame(call, { type, data }) {
  if (model.call !== call) return;
  if (type === "ended") {
    ended(typeof data.reason === "string" ? data.reason : "left");
  } else if (type === "error") {
    if (call.transport && call.transport.refused) call.transport.refused(data);
    // A member who left between my signal and its delivery is not worth a word.
    if (data.code === "not_found") return;
    errorToast(Object.assign(new Error(data.message || "The call refused a message."), { code: data.code || "error" }), "call");
  } else if (call.transport) {
    call.transport.receive(type, data);
  }
}

function onSocketClosed(call, socket, { ended: reason, byMe }) {
  if (model.call !== call || call.socket !== socket || byMe) return;
  call.socket = null;
  if (reason) return; // `ended` was handled as a frame
  retrySocket(call);
}

/** The call socket dropped: the media is rebuilt on a new socket with the same secret (I stay in the call). */
function retrySocket(call) {
  if (call.transport) call.transport.close();
  call.transport = null;
  if (call.detector) call.detector.detach();
  call.detector = null;
  playback.clear();
  call.phase = "reconnecting";
  changed();
  const delay = SOCKET_RETRY_MS[Math.min(call.retries, SOCKET_RETRY_MS.length - 1)];
  call.retries += 1;
  clearTimeout(call.retryTimer);
  call.retryTimer = setTimeout(() => {
    if (model.call === call && conn() && conn().online) openSocket(call);
  }, delay);
}

/** The main connection's state: while it is down I am out of the call (the server ended it); back, I rejoin. */
export function connectionChanged(state) {
  const call = model.call;
  if (!call) return;
  if (state === "failed" || state === "idle") {
    teardown(call);
    model.call = null;
    stopScreen();
    releaseMicrophone();
    releaseCamera();
    changed();
  } else if (state !== "online" && call.phase !== "reconnecting") {
    teardown(call);
    setOccupant(call.key, myId(), null);
    call.phase = "reconnecting";
    changed();
  }
}

/** Logged in again after a lost connection: back into the call I was in. */
export function online() {
  const call = model.call;
  if (call && call.phase === "reconnecting" && !call.socket) join(call.key, { auto: true });
}

/** A renamed or moved channel keeps my call. */
export function remap({ removed, moved }) {
  const call = model.call;
  if (call && removed.includes(call.key) && moved(call.key)) call.key = moved(call.key);
}

// -------------------------------------------------------------------------------------------------------------
// TURN credentials

function scheduleIceRefresh(call) {
  clearTimeout(call.iceTimer);
  if (!call.iceExpiresAt) return;
  const left = call.iceExpiresAt - Date.now();
  const wait = Math.max(5000, left - Math.min(5 * 60 * 1000, left / 2));
  call.iceTimer = setTimeout(() => refreshIce(call), Math.min(wait, 2 ** 31 - 1));
}

async function refreshIce(call) {
  if (model.call !== call) return;
  try {
    const p = (await quietly(call.key, "refresh_ice")).payload || {};
    if (model.call !== call) return;
    call.iceServers = Array.isArray(p.ice_servers) ? p.ice_servers : call.iceServers;
    call.iceExpiresAt = Number.isFinite(p.ice_expires_at) ? p.ice_expires_at : null;
    if (call.transport) call.transport.setIceServers(call.iceServers);
    scheduleIceRefresh(call);
  } catch {
    call.iceTimer = setTimeout(() => refreshIce(call), 30000);
  }
}

// -------------------------------------------------------------------------------------------------------------
// For tests and power users (read only)

/**
 * My call: {key, mode, phase, refusals (voice_unavailable answers to this join's tries), connections: {…: state},
 * watching, self, sharing, camera, microphone, sending, ice: {expiresAt, usernames: the TURN user names each peer
 * connection is configured with}}, or null.
 */
export function describe() {
  const call = model.call;
  if (!call) return null;
  return {
    key: call.key,
    mode: call.mode,
    phase: call.phase,
    refusals: call.refusals,
    connections: call.transport ? call.transport.states() : {},
    watching: Array.from(call.watching),
    self: { ...model.self },
    sharing: Boolean(local.screen),
    camera: Boolean(local.camera),
    microphone: Boolean(micTrack()),
    sending: Boolean(micTrack() && micTrack().enabled),
    ice: {
      expiresAt: call.iceExpiresAt,
      usernames: call.transport ? call.transport.connections().map(({ pc }) => pc.getConfiguration().iceServers.filter((s) => s.username).map((s) => s.username)) : [],
    },
  };
}

/**
 * The RTP statistics of my call's peer connections: [{type, kind, user_id, packetsReceived, …}], and per connection
 * its selected route: {type: "route", local, remote} (the candidate types, e.g. "relay" when relayed through TURN).
 */
export async function stats() {
  const call = model.call;
  if (!call || !call.transport) return [];
  const out = [];
  for (const { pc, ownerOf } of call.transport.connections()) {
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) {
        const pair = report.get(r.selectedCandidatePairId);
        const local = pair && report.get(pair.localCandidateId);
        const remote = pair && report.get(pair.remoteCandidateId);
        out.push({ type: "route", local: local ? local.candidateType : null, remote: remote ? remote.candidateType : null });
      }
      if (r.type !== "inbound-rtp" && r.type !== "outbound-rtp") return;
      const owner = r.type === "inbound-rtp" ? ownerOf(r) : null;
      out.push({
        type: r.type,
        kind: r.kind,
        user_id: owner ? owner.user_id : null,
        stream: owner ? owner.kind : null,
        packetsReceived: r.packetsReceived || 0,
        packetsSent: r.packetsSent || 0,
        bytesSent: r.bytesSent || 0,
        bytesReceived: r.bytesReceived || 0,
        totalAudioEnergy: r.totalAudioEnergy || 0,
        framesDecoded: r.framesDecoded || 0,
        frameWidth: r.frameWidth || 0,
        frameHeight: r.frameHeight || 0,
      });
    });
  }
  return out;
}

// The voice codec's shared state: the context, who is in each voice channel's call (kept on the tree nodes as
// `activeUsers`, from the tree and the updates), and my own call (`model.call`, null when I am in none). The parts
// (call, mine, sharing, media, mesh, sfu, playback, panel, view) read and change it here and call changed() so that the
// sidebar, the channel view and the call panel re-render.

import { ConnectionLost } from "../../lib/connection.js";

export const NAME = "voice";

export const model = {
  ctx: null,
  /**
   * My call, or null: {key, mode, secret, socketPath, iceServers, iceExpiresAt, maxMembers, phase, socket,
   * transport, watching: Set of user ids, live: {stream, label} | null}. phase: joining | retrying (the server's voice
   * is restarting: join_call is tried again) | connecting | connected | reconnecting.
   */
  call: null,
  /** What I chose, kept across calls and rejoins: muted, deafened. */
  self: { muted: false, deafened: false },
  /** The channel to join again when the main connection is back (it dropped while I was in its call). */
  rejoinKey: null,
  listeners: [],
};

/** A call member object as the protocol sends it, with defaults for what is missing. */
export function memberInfo(raw) {
  const r = raw && typeof raw === "object" ? raw : {};
  const state = ["active", "muted", "deafened", "inactive"].includes(r.state) ? r.state : "inactive";
  return {
    state,
    streaming: r.streaming === true,
    live_label: typeof r.live_label === "string" ? r.live_label : "",
    audio: r.audio !== false,
    video: r.video === true,
    talking: r.talking === true,
    server_muted: r.server_muted === true,
  };
}

export function isVoice(node) {
  return Boolean(node && node.codec === NAME);
}

/** The voice node of key, or null. */
export function voiceNode(key) {
  const node = key ? model.ctx.store.get("nodes").get(key) : null;
  return isVoice(node) ? node : null;
}

/** My user id. */
export function myId() {
  const me = model.ctx.store.get("me");
  return me ? me.user_id : null;
}

/** The call member object of a member in a channel's call, or null. */
export function occupant(key, userId) {
  const node = voiceNode(key);
  return node ? node.activeUsers.get(userId) || null : null;
}

/** Sets (or, with info null, removes) a member in a channel's call, and re-renders. */
export function setOccupant(key, userId, info) {
  const node = voiceNode(key);
  if (!node) return;
  if (info) node.activeUsers.set(userId, memberInfo(info));
  else node.activeUsers.delete(userId);
  changed();
}

/** Changes some fields of a member in a channel's call (nothing when they are not in it). */
export function patchOccupant(key, userId, fields) {
  const node = voiceNode(key);
  const before = node && node.activeUsers.get(userId);
  if (!before) return;
  node.activeUsers.set(userId, memberInfo({ ...before, ...fields }));
  changed();
}

/** Calls fn() after every change to calls, occupants or my call. */
export function onChanged(fn) {
  model.listeners.push(fn);
}

let scheduled = false;
/** Re-renders what shows calls (once per task, however many changes came). */
export function changed() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    model.ctx.store.touch("tree"); // the sidebar lists each call's members
    for (const fn of model.listeners) fn();
  });
}

/** The address of a channel's functions. */
export function addressOf(key) {
  return model.ctx.address(key, NAME);
}

/** Runs a function of a voice channel without toasts (for what the page does by itself). */
export function quietly(key, fn, payload = {}) {
  const c = model.ctx.store.get("conn");
  if (!c || !c.online) return Promise.reject(new ConnectionLost("Not connected."));
  return c.call(addressOf(key), fn, payload);
}

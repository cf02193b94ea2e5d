// What I hear and see of the others in my call: one <audio> per member's voice, silent while I am deafened or they
// are server-muted (in mesh calls the listener enforces a server mute), played on the chosen speaker; and their
// cameras and the screens they share with me (shown by the channel view).

import * as storage from "../../lib/storage.js";
import { h } from "../../lib/ui.js";
import { canChooseSpeaker } from "./media.js";
import { changed, model, occupant } from "./model.js";

/** user id → {voice, screen, camera: MediaStream | null, audio: HTMLAudioElement | null} */
const remote = new Map();
let box = null;

export function install() {
  box = h("div", { id: "call-audio", hidden: true });
  document.body.append(box);
}

function entryOf(userId) {
  let entry = remote.get(userId);
  if (!entry) {
    entry = { voice: null, screen: null, camera: null, audio: null };
    remote.set(userId, entry);
  }
  return entry;
}

/** A member's stream arrived (kind: voice, screen or camera). */
export function addStream(userId, kind, stream) {
  const entry = entryOf(userId);
  if (kind === "screen" || kind === "camera") {
    if (entry[kind] === stream) return;
    entry[kind] = stream;
    stream.addEventListener("removetrack", () => {
      if (entry[kind] === stream && !stream.getVideoTracks().length) removeStream(userId, kind);
    });
    changed();
    return;
  }
  entry.voice = stream;
  if (!entry.audio) {
    entry.audio = h("audio", { autoplay: true, dataset: { userId } });
    box.append(entry.audio);
  }
  if (entry.audio.srcObject !== stream) entry.audio.srcObject = stream;
  applyOne(userId, entry);
  entry.audio.play().catch(() => {
    /* autoplay refused until the next click: audible after it */
  });
  changed();
}

/** A member's stream of one kind is gone. */
export function removeStream(userId, kind) {
  const entry = remote.get(userId);
  if (!entry) return;
  if (kind === "screen" || kind === "camera") entry[kind] = null;
  else {
    entry.voice = null;
    if (entry.audio) {
      entry.audio.srcObject = null;
      entry.audio.remove();
      entry.audio = null;
    }
  }
  if (!entry.voice && !entry.screen && !entry.camera) remote.delete(userId);
  changed();
}

/** Everything of a member who left. */
export function removePeer(userId) {
  removeStream(userId, "voice");
  removeStream(userId, "screen");
  removeStream(userId, "camera");
}

/** Everything (the call ended). */
export function clear() {
  for (const userId of Array.from(remote.keys())) removePeer(userId);
}

/** The screen a member shares with me, or null. */
export function screenOf(userId) {
  return videoOf(userId, "screen");
}

/** A member's camera, or null. */
export function cameraOf(userId) {
  return videoOf(userId, "camera");
}

function videoOf(userId, kind) {
  const entry = remote.get(userId);
  const stream = entry ? entry[kind] : null;
  return stream && stream.getVideoTracks().some((t) => t.readyState === "live") ? stream : null;
}

/** Whether I receive a member's voice. */
export function hearing(userId) {
  const entry = remote.get(userId);
  return Boolean(entry && entry.voice);
}

function applyOne(userId, entry) {
  if (!entry.audio) return;
  const call = model.call;
  const info = call ? occupant(call.key, userId) : null;
  entry.audio.muted = model.self.deafened || Boolean(info && info.server_muted);
  const speaker = storage.loadDevices().speaker || "";
  if (canChooseSpeaker && entry.audio.sinkId !== speaker) entry.audio.setSinkId(speaker).catch(() => {});
}

/** Applies deafen, server mutes and the speaker choice to every member's audio. */
export function applyAll() {
  for (const [userId, entry] of remote) applyOne(userId, entry);
}

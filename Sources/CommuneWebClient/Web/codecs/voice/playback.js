// What I hear and see of the others in my call: one <audio> per member's voice, silent while I am deafened or they
// are server-muted (in mesh calls the listener enforces a server mute), played on the chosen speaker; and the screens
// they share with me (shown by the channel view).

import * as storage from "../../lib/storage.js";
import { h } from "../../lib/ui.js";
import { canChooseSpeaker } from "./media.js";
import { changed, model, occupant } from "./model.js";

/** user id → {voice: MediaStream | null, screen: MediaStream | null, audio: HTMLAudioElement | null} */
const remote = new Map();
let box = null;

export function install() {
  box = h("div", { id: "call-audio", hidden: true });
  document.body.append(box);
}

function entryOf(userId) {
  let entry = remote.get(userId);
  if (!entry) {
    entry = { voice: null, screen: null, audio: null };
    remote.set(userId, entry);
  }
  return entry;
}

/** A member's stream arrived (kind: voice or screen). */
export function addStream(userId, kind, stream) {
  const entry = entryOf(userId);
  if (kind === "screen") {
    if (entry.screen === stream) return;
    entry.screen = stream;
    stream.addEventListener("removetrack", () => {
      if (entry.screen === stream && !stream.getVideoTracks().length) removeStream(userId, "screen");
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
  if (kind === "screen") entry.screen = null;
  else {
    entry.voice = null;
    if (entry.audio) {
      entry.audio.srcObject = null;
      entry.audio.remove();
      entry.audio = null;
    }
  }
  if (!entry.voice && !entry.screen) remote.delete(userId);
  changed();
}

/** Everything of a member who left. */
export function removePeer(userId) {
  removeStream(userId, "voice");
  removeStream(userId, "screen");
}

/** Everything (the call ended). */
export function clear() {
  for (const userId of Array.from(remote.keys())) removePeer(userId);
}

/** The screen a member shares with me, or null. */
export function screenOf(userId) {
  const entry = remote.get(userId);
  return entry && entry.screen && entry.screen.getVideoTracks().length ? entry.screen : null;
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

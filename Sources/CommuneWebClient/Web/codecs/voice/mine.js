// My own state in my call: mute and deafen (what I chose, kept across calls and rejoins) and server mute (what the
// server says of me), applied to my microphone, my talking detection and what I hear; and, in mesh calls, telling the
// others when I talk.

import { micTrack } from "./media.js";
import { addressOf, changed, model, myId, occupant, patchOccupant, quietly, setOccupant } from "./model.js";
import * as playback from "./playback.js";

const TALKING_MIN_INTERVAL_MS = 300; // set_talking at most this often

/** The state I chose, as set_call_state says it. */
export function chosenState() {
  return model.self.deafened ? "deafened" : model.self.muted ? "muted" : "active";
}

/** A user_changed about me (a reply, or an update): my server mute may have changed. */
export function applyMine(payload) {
  const call = model.call;
  if (!call || !payload || typeof payload !== "object") return;
  setOccupant(call.key, myId(), payload);
  applyLocal();
}

function serverMuted() {
  const call = model.call;
  const mine = call ? occupant(call.key, myId()) : null;
  return Boolean(mine && mine.server_muted);
}

/** Applies mute, deafen and server mute to my microphone, my talking detection and what I hear. */
export function applyLocal() {
  const sending = !(model.self.muted || model.self.deafened || serverMuted());
  const track = micTrack();
  if (track) track.enabled = sending;
  const call = model.call;
  if (call && call.detector) call.detector.setEnabled(sending);
  playback.applyAll();
  changed();
}

async function sendState() {
  applyLocal();
  const call = model.call;
  if (!call || !call.secret || call.phase === "reconnecting") return;
  try {
    applyMine((await model.ctx.act(addressOf(call.key), "set_call_state", { state: chosenState() }, "changing your call state")).payload);
  } catch {
    /* shown by act */
  }
}

export function toggleMute() {
  if (model.self.deafened) {
    // Unmuting while deafened undeafens too: speaking while hearing nothing makes no sense.
    model.self.deafened = false;
    model.self.muted = false;
  } else {
    model.self.muted = !model.self.muted;
  }
  return sendState();
}

/** Deafened hears nothing and sends nothing; undeafened, the mute is what it was before. */
export function toggleDeafen() {
  model.self.deafened = !model.self.deafened;
  return sendState();
}

/** Mesh: tells the others when I start or stop talking (at most every TALKING_MIN_INTERVAL_MS). */
export function sendTalking(call, talking) {
  call.talkWanted = talking;
  if (call.talkTimer) return;
  const flush = () => {
    call.talkTimer = null;
    if (model.call !== call || call.talkSent === call.talkWanted) return;
    call.talkSent = call.talkWanted;
    patchOccupant(call.key, myId(), { talking: call.talkSent && !serverMuted() });
    quietly(call.key, "set_talking", { talking: call.talkSent }).catch(() => {});
    call.talkTimer = setTimeout(flush, TALKING_MIN_INTERVAL_MS);
  };
  flush();
}

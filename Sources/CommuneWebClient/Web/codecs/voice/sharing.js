// What I show besides my voice, and what I watch: my devices during a call (another microphone or camera, and
// set_devices telling the others which work), my camera on and off, sharing a screen (go_live) and watching the others'
// shares. My call's transport (mesh.js or sfu.js) carries the media; call.js stops a share when the call ends and
// announces it again on a new call socket.

import { errorToast, toast } from "../../lib/ui.js";
import { acquireCamera, captureScreen, local, micProblem, releaseCamera, switchMicrophone } from "./media.js";
import { applyLocal, applyMine } from "./mine.js";
import { addressOf, changed, model, quietly } from "./model.js";
import * as playback from "./playback.js";

// -------------------------------------------------------------------------------------------------------------
// Devices and camera

/** Uses another microphone now (already remembered by the caller). */
export async function useMicrophone(deviceId) {
  if (!model.call) return;
  await switchMicrophone(deviceId);
  const call = model.call;
  if (!call) return;
  if (call.transport) call.transport.micChanged();
  if (call.detector) call.detector.attach(local.mic);
  applyLocal();
  try {
    applyMine((await quietly(call.key, "set_devices", { audio: true })).payload);
  } catch {
    /* shown when it matters: the next state change */
  }
}

/** Tells the others which devices work (set_devices). */
async function announceDevices(call, devices) {
  try {
    applyMine((await model.ctx.act(addressOf(call.key), "set_devices", devices, "updating your devices")).payload);
  } catch {
    /* shown by act */
  }
}

/** Turns my camera on (everyone in the call sees it) or off. */
export async function toggleCamera() {
  const call = model.call;
  if (!call) return;
  if (local.camera) {
    releaseCamera();
    if (call.transport) call.transport.setCamera(null);
    changed();
    await announceDevices(call, { video: false });
    return;
  }
  try {
    await acquireCamera();
  } catch (e) {
    toast({ title: "Camera not available", message: micProblem(e, "camera") });
    return;
  }
  if (model.call !== call) {
    releaseCamera();
    return;
  }
  const camera = local.camera;
  camera.getVideoTracks()[0].addEventListener("ended", () => local.camera === camera && toggleCamera()); // unplugged
  changed();
  // Announced once the others can be offered it (sfu: its publication is up).
  if (call.transport) await call.transport.setCamera(camera);
  if (model.call !== call || local.camera !== camera) return;
  await announceDevices(call, { video: true });
}

/** Uses another camera now, if mine is on (the choice is already remembered). */
export async function useCamera(deviceId) {
  const call = model.call;
  if (!call || !local.camera) return;
  await acquireCamera(deviceId);
  if (model.call === call && call.transport) call.transport.setCamera(local.camera);
  changed();
}

// -------------------------------------------------------------------------------------------------------------
// Screen share and watching

/** What the server takes as a live label: one line without invisible characters, at most 64 code points. */
function liveLabel(text) {
  const clean = String(text).replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\u2028\u2029]/gu, "").replace(/\s+/g, " ").trim();
  return Array.from(clean || "Screen").slice(0, 64).join("");
}

export function stopScreen() {
  if (!local.screen) return false;
  for (const t of local.screen.stream.getTracks()) t.stop();
  local.screen = null;
  if (model.call && model.call.transport) model.call.transport.setScreen(null);
  changed();
  return true;
}

export async function announceLive(call, live, label = "") {
  const context = live ? "going live" : "ending the share";
  try {
    applyMine((await quietly(call.key, "go_live", { live, label })).payload);
    return;
  } catch (e) {
    // A window title the server will not take as a label (look-alike blanks, piled-up marks): the share is "Screen".
    if (!(e && e.code === "invalid_argument" && live && label !== "Screen")) {
      errorToast(e, context);
      return;
    }
  }
  try {
    applyMine((await model.ctx.act(addressOf(call.key), "go_live", { live, label: "Screen" }, context)).payload);
  } catch {
    /* shown by act */
  }
}

/** Shares a screen or window (the browser asks which), or stops sharing. */
export async function toggleScreen() {
  const call = model.call;
  if (!call) return;
  if (stopScreen()) {
    await announceLive(call, false);
    return;
  }
  let shared;
  try {
    shared = await captureScreen();
  } catch (e) {
    if (e && e.name === "NotAllowedError") return; // the person cancelled the browser's picker
    errorToast(e, "sharing your screen");
    return;
  }
  if (model.call !== call) {
    for (const t of shared.stream.getTracks()) t.stop();
    return;
  }
  shared.label = liveLabel(shared.label);
  local.screen = shared;
  const track = shared.stream.getVideoTracks()[0];
  // Stopped from the browser's own "Stop sharing" bar.
  if (track) track.addEventListener("ended", () => local.screen === shared && toggleScreen());
  changed();
  // Announced once the share can be watched (sfu: its publication is up).
  if (call.transport) await call.transport.setScreen(shared.stream);
  if (model.call !== call || local.screen !== shared) return;
  await announceLive(call, true, shared.label);
}

/** Watches a member's share (or stops). */
export function watch(userId, on) {
  const call = model.call;
  if (!call) return;
  if (on) call.watching.add(userId);
  else {
    call.watching.delete(userId);
    playback.removeStream(userId, "screen");
  }
  if (call.transport) call.transport.watch(userId, on);
  changed();
}

/** Someone (again) shares a screen: if I watched it before (a rejoin, a new call socket), I ask for it again. */
export function shareStarted(userId) {
  const call = model.call;
  if (call && call.transport && call.watching.has(userId)) call.transport.watch(userId, true);
}

/** Someone stopped sharing: nothing to watch any more. */
export function shareEnded(userId) {
  const call = model.call;
  if (call && call.watching.delete(userId)) {
    if (call.transport && call.mode === "sfu") call.transport.watch(userId, false);
    changed();
  }
}

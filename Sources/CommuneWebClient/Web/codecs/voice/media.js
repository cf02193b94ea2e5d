// This browser's media for calls: the microphone and the camera (the chosen devices, remembered in localStorage), the
// speaker choice, capturing a screen or window, and hearing myself talk (an AnalyserNode on the microphone, for mesh calls where
// each client says when its member talks).

import * as storage from "../../lib/storage.js";

export const local = {
  /** The microphone's stream (one audio track), or null: listening only. */
  mic: null,
  /** Why there is no microphone (an Error from getUserMedia), or null. */
  micError: null,
  /** The shared screen or window: {stream, label}, or null. */
  screen: null,
  /** The camera's stream while it is on, or null. */
  camera: null,
};

let audioContext = null;

/** The page's AudioContext, created (or resumed) on a user's action so that the browser lets it run. */
export function audioContextNow() {
  if (!audioContext) {
    const Ctor = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Ctor) return null;
    audioContext = new Ctor();
  }
  if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
  return audioContext;
}

function audioConstraints(deviceId) {
  const c = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (deviceId) c.deviceId = { ideal: deviceId };
  return c;
}

/**
 * The configuration of every RTCPeerConnection of calls: the server's STUN/TURN servers, and with the "relay" choice
 * (remembered in this browser with the devices) only relayed candidates, so media goes through the server's TURN
 * and other members never see this browser's addresses.
 */
export function rtcConfiguration(iceServers) {
  return { iceServers, iceTransportPolicy: storage.loadDevices().relay ? "relay" : "all" };
}

/** Whether this page may use media devices at all (a secure context with mediaDevices). */
export function mediaSupported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && globalThis.RTCPeerConnection);
}

/** The live microphone track, or null. */
export function micTrack() {
  const track = local.mic ? local.mic.getAudioTracks()[0] : null;
  return track && track.readyState === "live" ? track : null;
}

/** Opens the chosen microphone (or the default) unless it is open; null when there is none or it was refused. */
export async function acquireMicrophone() {
  if (micTrack()) return local.mic;
  try {
    local.mic = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(storage.loadDevices().microphone) });
    local.micError = null;
  } catch (e) {
    local.mic = null;
    local.micError = e;
  }
  return local.mic;
}

/** Opens another microphone and stops the old one; resolves with the new track (or throws, keeping the old one). */
export async function switchMicrophone(deviceId) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(deviceId) });
  const old = local.mic;
  local.mic = stream;
  local.micError = null;
  if (old) for (const t of old.getTracks()) t.stop();
  return stream.getAudioTracks()[0];
}

/** Stops the microphone (after leaving a call: the browser's recording indicator goes off). */
export function releaseMicrophone() {
  if (local.mic) for (const t of local.mic.getTracks()) t.stop();
  local.mic = null;
}

function cameraConstraints(deviceId) {
  const c = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 30 } };
  if (deviceId) c.deviceId = { ideal: deviceId };
  return c;
}

/** Turns the chosen camera (or the default) on; throws what getUserMedia threw. */
export async function acquireCamera(deviceId = storage.loadDevices().camera) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(deviceId) });
  releaseCamera();
  local.camera = stream;
  return stream;
}

/** Turns the camera off. */
export function releaseCamera() {
  if (local.camera) for (const t of local.camera.getTracks()) t.stop();
  local.camera = null;
}

/** What a failed getUserMedia means, for people. */
export function micProblem(error, device = "microphone") {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") return `The browser was not allowed to use the ${device}.`;
  if (name === "NotFoundError" || name === "OverconstrainedError") return `No ${device} was found.`;
  if (name === "NotReadableError") return `The ${device} is in use by another program or could not be opened.`;
  return `The ${device} could not be opened${error && error.message ? `: ${error.message}` : "."}`;
}

/** This browser's devices by kind: {microphones, speakers, cameras}, each [{deviceId, label}]. */
export async function listDevices() {
  const all = navigator.mediaDevices && navigator.mediaDevices.enumerateDevices ? await navigator.mediaDevices.enumerateDevices() : [];
  const of = (kind, noun) =>
    all
      .filter((d) => d.kind === kind && d.deviceId !== "default" && d.deviceId !== "communications")
      .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${noun} ${i + 1}` }));
  return { microphones: of("audioinput", "Microphone"), speakers: of("audiooutput", "Speaker"), cameras: of("videoinput", "Camera") };
}

/** Whether audio output can be sent to a chosen speaker here. */
export const canChooseSpeaker = typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;

/** Asks the browser for a screen or window to share; resolves with {stream, label}. */
export async function captureScreen() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
    throw new Error("This browser cannot share a screen.");
  }
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
  return { stream, label: shareLabel(stream.getVideoTracks()[0]) };
}

/** What a share is called: a window's or tab's title, or "Screen" (browsers label screens "screen:0:0"). */
function shareLabel(track) {
  const surface = track && track.getSettings ? track.getSettings().displaySurface : undefined;
  const title = track && track.label && !/^(screen|window|web-contents-media-stream):/.test(track.label) ? track.label : "";
  if (surface === "monitor" || (!title && !surface)) return "Screen";
  return title || (surface === "window" ? "A window" : "A tab");
}

/**
 * Hears whether the microphone picks up speech: onChange(talking) when that changes. Talking starts at once above
 * the threshold and ends after HOLD_MS of quiet, so pauses between words do not flicker.
 */
export class TalkingDetector {
  static THRESHOLD = 0.012; // RMS of the signal (full scale 1.0): about -38 dBFS
  static HOLD_MS = 700;
  static EVERY_MS = 100;

  constructor(onChange) {
    this.onChange = onChange;
    this.talking = false;
    this.lastLoud = 0;
    this.timer = null;
    this.source = null;
    this.analyser = null;
    this.enabled = true;
  }

  /** Listens to stream's audio (replacing what it listened to before). */
  attach(stream) {
    this.detach();
    const ctx = audioContextNow();
    if (!ctx || !stream || !stream.getAudioTracks().length) return;
    this.source = ctx.createMediaStreamSource(stream);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.source.connect(this.analyser);
    const buffer = new Float32Array(this.analyser.fftSize);
    this.timer = setInterval(() => {
      this.analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (let i = 0; i < buffer.length; i++) sum += buffer[i] * buffer[i];
      const now = performance.now();
      if (this.enabled && Math.sqrt(sum / buffer.length) > TalkingDetector.THRESHOLD) this.lastLoud = now;
      this.set(this.enabled && now - this.lastLoud < TalkingDetector.HOLD_MS);
    }, TalkingDetector.EVERY_MS);
  }

  set(talking) {
    if (talking === this.talking) return;
    this.talking = talking;
    this.onChange(talking);
  }

  /** While disabled (muted), it reports not talking. */
  setEnabled(enabled) {
    this.enabled = enabled;
    if (!enabled) {
      this.lastLoud = 0;
      this.set(false);
    }
  }

  detach() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.source) this.source.disconnect();
    this.source = null;
    this.analyser = null;
    this.set(false);
  }
}

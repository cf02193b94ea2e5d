// The call panel, shown while I am in a call: the channel and the connection's state, the call's members, and the
// buttons (mute, deafen, camera, share a screen, devices, leave) with their keyboard shortcuts. Docked above my user panel in
// the sidebar on a wide screen; at phone width, a bar at the bottom of the chat that opens into a sheet of members.

import { openDialog } from "../../lib/dialogs.js";
import { nameAttr, nameNode } from "../../lib/names.js";
import * as storage from "../../lib/storage.js";
import { $, h } from "../../lib/ui.js";
import * as call from "./call.js";
import { canChooseSpeaker, listDevices, local } from "./media.js";
import { toggleDeafen, toggleMute } from "./mine.js";
import { model, voiceNode } from "./model.js";
import * as playback from "./playback.js";
import * as sharing from "./sharing.js";
import { sortedOccupants, occupantItem } from "./view.js";

const NARROW = matchMedia("(max-width: 699px)");
const SHORTCUTS = { mute: "Ctrl+Shift+M", deafen: "Ctrl+Shift+D" };

let panel = null;
const el = {};

function button(id, label, onClick, className = "") {
  el[id] = h("button", { id: `call-${id}`, type: "button", className: `call-button ${className}`.trim(), on: { click: onClick } }, h("span", { attrs: { "aria-hidden": "true" } }));
  return el[id];
}

function setButton(id, icon, label, pressed) {
  const b = el[id];
  b.firstChild.textContent = icon;
  b.title = label;
  b.setAttribute("aria-label", label);
  if (pressed !== undefined) b.setAttribute("aria-pressed", String(pressed));
}

/** Docks the panel: in the sidebar (wide) or at the bottom of the chat (narrow). */
function place() {
  if (NARROW.matches) $("chat").append(panel);
  else $("sidebar").insertBefore(panel, $("sidebar").querySelector(".user-panel"));
}

export function install() {
  el.status = h("strong", { className: "call-status" });
  el.channel = h("button", { type: "button", className: "link-button call-channel", on: { click: () => model.call && model.ctx.select(model.call.key) } });
  el.expand = h("button", {
    type: "button",
    className: "icon-button call-expand only-narrow",
    on: { click: () => panel.classList.toggle("expanded") },
  });
  el.members = h("ul", { className: "call-members", attrs: { "aria-label": "In the call" } });
  panel = h(
    "section",
    { id: "call-panel", className: "call-panel", hidden: true, attrs: { "aria-label": "Voice call" } },
    h("div", { className: "call-head" }, h("span", { className: "call-dot", attrs: { "aria-hidden": "true" } }), h("div", { className: "call-where" }, el.status, el.channel), el.expand),
    el.members,
    h(
      "div",
      { className: "call-controls" },
      button("mute", "Mute", () => toggleMute()),
      button("deafen", "Deafen", () => toggleDeafen()),
      button("camera", "Camera", () => sharing.toggleCamera()),
      button("screen", "Share your screen", () => sharing.toggleScreen()),
      button("devices", "Devices", () => openDevices()),
      button("leave", "Leave the call", () => call.leave(), "call-leave"),
    ),
  );
  place();
  NARROW.addEventListener("change", place);
  document.addEventListener("keydown", (event) => {
    if (!model.call || !event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return;
    if (event.code === "KeyM") toggleMute();
    else if (event.code === "KeyD") toggleDeafen();
    else return;
    event.preventDefault();
  });
}

const PHASES = { joining: "Joining…", retrying: "Reconnecting voice…", connecting: "Connecting…", connected: "Voice connected", reconnecting: "Reconnecting…" };

export function render() {
  const c = model.call;
  panel.hidden = !c;
  document.body.classList.toggle("in-call", Boolean(c));
  if (!c) {
    panel.classList.remove("expanded");
    return;
  }
  const node = voiceNode(c.key);
  const states = Object.values(c.transport ? c.transport.states() : {});
  const trouble = c.phase === "connected" && states.some((s) => s === "failed" || s === "disconnected");
  panel.dataset.phase = c.phase;
  panel.dataset.mode = c.mode || "";
  el.status.textContent = trouble ? "Connection trouble…" : PHASES[c.phase] || c.phase;
  el.status.title = c.mode === "sfu" ? "Through the server's media relay" : c.mode === "mesh" ? "Browser to browser" : "";
  el.channel.replaceChildren("🔊 ", nameNode(node ? node.name : c.key));
  el.channel.title = `Open ${nameAttr(c.key)}`;
  const list = node ? sortedOccupants(node) : [];
  el.members.replaceChildren(...list.map(([u, i]) => occupantItem(u, i, "occupant call-member")));
  const expanded = panel.classList.contains("expanded");
  el.expand.textContent = expanded ? "▾" : `${list.length} ▴`;
  el.expand.title = expanded ? "Hide who is in the call" : "Show who is in the call";
  el.expand.setAttribute("aria-expanded", String(expanded));

  const { muted, deafened } = model.self;
  setButton("mute", muted || deafened ? "🔇" : "🎙", `${muted || deafened ? "Unmute" : "Mute"} (${SHORTCUTS.mute})`, muted || deafened);
  setButton("deafen", deafened ? "🔕" : "🎧", `${deafened ? "Undeafen" : "Deafen"} (${SHORTCUTS.deafen})`, deafened);
  setButton("screen", "🖥", local.screen ? "Stop sharing your screen" : "Share your screen", Boolean(local.screen));
  setButton("camera", "📷", local.camera ? "Turn your camera off" : "Turn your camera on", Boolean(local.camera));
  setButton("devices", "⚙", "Microphone, speaker, camera and relaying");
  setButton("leave", "📞", "Leave the call");
  el.screen.disabled = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
}

/** Choosing the microphone, the speaker and the camera, and whether call media is relayed (remembered in this browser). */
async function openDevices() {
  let devices;
  try {
    devices = await listDevices();
  } catch {
    devices = { microphones: [], speakers: [], cameras: [] };
  }
  const chosen = storage.loadDevices();
  const options = (list) => [{ value: "", label: "System default" }, ...list.map((d) => ({ value: d.deviceId, label: d.label }))];
  const fields = [{ name: "microphone", label: "Microphone", type: "select", value: chosen.microphone || "", options: options(devices.microphones) }];
  if (canChooseSpeaker) fields.push({ name: "speaker", label: "Speaker", type: "select", value: chosen.speaker || "", options: options(devices.speakers) });
  fields.push({ name: "camera", label: "Camera", type: "select", value: chosen.camera || "", options: options(devices.cameras) });
  fields.push({
    name: "relay",
    label: "Relay call media through the server (hides your IP address from other members)",
    type: "checkbox",
    value: Boolean(chosen.relay),
    hint: "Takes effect from the next call you join.",
  });
  await openDialog({
    title: "Devices",
    lead: "Remembered in this browser for every call.",
    fields,
    submitText: "Use these",
    onSubmit: async (values) => {
      const micChanged = (values.microphone || "") !== (chosen.microphone || "");
      const cameraChanged = (values.camera || "") !== (chosen.camera || "");
      storage.saveDevices({ microphone: values.microphone || "", camera: values.camera || "", relay: Boolean(values.relay), ...(canChooseSpeaker ? { speaker: values.speaker || "" } : {}) });
      playback.applyAll();
      if (micChanged && model.call) await sharing.useMicrophone(values.microphone || "");
      if (cameraChanged && model.call) await sharing.useCamera(values.camera || "");
    },
  });
}

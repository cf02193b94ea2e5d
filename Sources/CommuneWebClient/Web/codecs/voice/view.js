// How calls look: a member of a call (avatar with a speaking ring, name, muted / deafened / server-muted / camera /
// live marks) in the sidebar, the call panel and the channel view; and the voice channel's view: who is in the call
// (their camera in place of the avatar when it is on), the join and leave button, a Watch button on each live member,
// and the shares I watch (and my own, as a preview).

import { nameAttr, nameNode, textNode } from "../../lib/names.js";
import { $, avatar, h } from "../../lib/ui.js";
import * as call from "./call.js";
import { local } from "./media.js";
import { model, myId, voiceNode } from "./model.js";
import * as playback from "./playback.js";
import { watch } from "./sharing.js";

let pane = null;
let stage = null;
const screens = new Map(); // stage entry key → {figure, video, caption}
const cameras = new Map(); // user id → the <video> of their camera in their tile (kept across re-renders)

function mark(className, text, label) {
  return h("span", { className: `call-mark ${className}`, textContent: text, title: label, attrs: { role: "img", "aria-label": label } });
}

/** The marks of a call member: server-muted, deafened or muted, connecting, live. */
function marks(info) {
  return [
    info.server_muted ? mark("mark-server-muted", "⛔", "Server-muted") : null,
    info.state === "deafened" ? mark("mark-deafened", "🔕", "Deafened") : info.state === "muted" ? mark("mark-muted", "🔇", "Muted") : null,
    info.state === "inactive" ? mark("mark-connecting", "…", "Connecting") : null,
    info.video ? mark("mark-camera", "📷", "Camera on") : null,
    info.streaming ? h("span", { className: "live", textContent: "LIVE", title: info.live_label ? `Live: ${nameAttr(info.live_label)}` : "Live" }) : null,
  ];
}

/** One member of a call as a list item (sidebar, panel). */
export function occupantItem(userId, info, className = "occupant") {
  return h(
    "li",
    {
      className: `${className} state-${info.state}${info.talking ? " talking" : ""}${info.server_muted ? " server-muted" : ""}${userId === myId() ? " me" : ""}`,
      dataset: { userId, state: info.state, talking: String(info.talking), serverMuted: String(info.server_muted), streaming: String(info.streaming), camera: String(info.video) },
    },
    avatar(model.ctx.memberName(userId), userId, "small"),
    model.ctx.memberLabel(userId, "occupant-name"),
    ...marks(info),
  );
}

/** The members of a call in join order of the map, me first. */
export function sortedOccupants(node) {
  const me = myId();
  return Array.from(node.activeUsers.entries()).sort(([a], [b]) => (a === me ? -1 : b === me ? 1 : 0));
}

/** Under a voice channel in the sidebar: who is in its call. */
export function treeOccupants(node) {
  if (!node.activeUsers.size) return null;
  return h("ul", { className: "occupants" }, sortedOccupants(node).map(([userId, info]) => occupantItem(userId, info)));
}

export function install() {
  stage = h("div", { id: "voice-stage", className: "voice-stage" });
  pane = h(
    "div",
    { id: "voice-view", className: "voice-view", hidden: true },
    h("div", { className: "voice-head" }, h("p", { id: "voice-summary", className: "voice-summary" }), h("button", { id: "voice-join", type: "button", className: "primary" })),
    h("ul", { id: "voice-occupants", className: "voice-tiles", attrs: { "aria-label": "In the call" } }),
    stage,
  );
  $("channel-views").append(pane);
  $("voice-join").addEventListener("click", () => {
    const key = pane.dataset.key;
    if (model.call && model.call.key === key) call.leave();
    else call.join(key);
  });
}

export function panes() {
  return [pane];
}

/** A member's camera in their tile: the same <video> element from one render to the next, so it keeps playing. */
function cameraVideo(userId, stream) {
  let video = cameras.get(userId);
  if (!video) {
    video = h("video", { autoplay: true, muted: true, playsInline: true, className: "camera-video", dataset: { userId } });
    cameras.set(userId, video);
  }
  if (video.srcObject !== stream) video.srcObject = stream;
  return video;
}

function tile(userId, info, inMyCall) {
  const me = userId === myId();
  const watching = inMyCall && model.call.watching.has(userId);
  const camera = inMyCall ? (me ? local.camera : playback.cameraOf(userId)) : null;
  return h(
    "li",
    {
      className: `voice-tile state-${info.state}${info.talking ? " talking" : ""}${info.server_muted ? " server-muted" : ""}${me ? " me" : ""}`,
      dataset: { userId, state: info.state, talking: String(info.talking), serverMuted: String(info.server_muted), streaming: String(info.streaming), camera: String(info.video) },
    },
    camera ? cameraVideo(userId, camera) : avatar(model.ctx.memberName(userId), userId, "large"),
    h("span", { className: "tile-name" }, model.ctx.memberLabel(userId, "occupant-name"), ...marks(info)),
    info.streaming && info.live_label ? h("span", { className: "tile-live-label" }, textNode(info.live_label)) : null,
    info.streaming && inMyCall && !me
      ? h("button", {
          type: "button",
          className: `small watch-button${watching ? "" : " primary"}`,
          textContent: watching ? "Stop watching" : "Watch",
          on: { click: () => watch(userId, !watching) },
        })
      : null,
  );
}

/** Fills the view for a voice channel. */
export function render(node) {
  if (!node || !pane) return;
  pane.dataset.key = node.key;
  const call_ = model.call;
  const inMyCall = Boolean(call_ && call_.key === node.key);
  const list = sortedOccupants(node);
  const count = list.length;
  const summary = $("voice-summary");
  summary.textContent = count ? `${count} in the call` : "Nobody is in this call yet.";
  if (inMyCall && call_.mode) {
    summary.append(
      h("span", { className: "muted", textContent: call_.mode === "sfu" ? " · through the server" : ` · browser to browser${call_.maxMembers ? `, up to ${call_.maxMembers}` : ""}` }),
    );
  }
  const button = $("voice-join");
  button.textContent = inMyCall ? (call_.phase === "joining" ? "Joining…" : "Leave call") : "Join voice";
  button.className = inMyCall ? "danger" : "primary";
  button.title = inMyCall ? "Leave the call" : "Join this channel's call";
  $("voice-occupants").replaceChildren(...list.map(([u, i]) => tile(u, i, inMyCall)));
  for (const [userId, video] of cameras) {
    if (!video.isConnected) {
      video.srcObject = null;
      cameras.delete(userId);
    }
  }
  renderStage(node, inMyCall);
}

/** The shares I watch in this channel's call, and my own: one <video> each, kept while it stays. */
function renderStage(node, inMyCall) {
  const wanted = new Map();
  if (inMyCall) {
    if (local.screen) wanted.set("me", { stream: local.screen.stream, who: myId(), label: local.screen.label, mine: true });
    for (const userId of model.call.watching) {
      const info = node.activeUsers.get(userId);
      if (info && info.streaming) wanted.set(userId, { stream: playback.screenOf(userId), who: userId, label: info.live_label });
    }
  }
  for (const [key, entry] of screens) {
    if (!wanted.has(key)) {
      entry.video.srcObject = null;
      entry.figure.remove();
      screens.delete(key);
    }
  }
  for (const [key, want] of wanted) {
    let entry = screens.get(key);
    if (!entry) {
      const video = h("video", { autoplay: true, muted: true, playsInline: true, className: "share-video" });
      const caption = h("figcaption", { className: "share-caption" });
      entry = { figure: h("figure", { className: "share", dataset: { userId: want.who } }, video, caption), video, caption };
      screens.set(key, entry);
      stage.append(entry.figure);
    }
    if (entry.video.srcObject !== want.stream) entry.video.srcObject = want.stream;
    entry.figure.classList.toggle("waiting", !want.stream);
    entry.caption.replaceChildren(
      want.mine ? "Your share" : nameNode(model.ctx.memberName(want.who)),
      want.label ? " — " : "",
      want.label ? textNode(want.label) : "",
      want.stream ? "" : " (connecting…)",
    );
  }
  stage.hidden = wanted.size === 0;
}

/** Re-renders the view when it shows a voice channel. */
export function refresh() {
  const key = model.ctx.store.get("current");
  const node = voiceNode(key);
  if (node) render(node);
}

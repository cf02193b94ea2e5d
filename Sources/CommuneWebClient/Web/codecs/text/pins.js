// Pinned messages: the channel header's 📌 list (newest pin first, each with Jump and, with pin_messages, Unpin),
// the Pin / Unpin tool on messages, a marker on pinned messages, and the live pin_changed updates.

import { closeDialog, openDialog } from "../../lib/dialogs.js";
import { renderMessage } from "../../lib/markup.js";
import { $, fullTime, h, show } from "../../lib/ui.js";
import { jumpToMessage } from "./messages.js";
import { address, changed, currentKey, isText, model, normalMessage } from "./model.js";

/** key → {loaded, list: [{message_id, pinned_by, pinned_by_name, pin_time, message}]} */
const pinsByChannel = new Map();
/** The channel whose list the open dialog shows, and where it draws it. */
let open = null;

function normalPin(p) {
  if (!p || !Number.isInteger(p.message_id) || !p.message || typeof p.message !== "object") return null;
  return {
    message_id: p.message_id,
    pinned_by: typeof p.pinned_by === "string" ? p.pinned_by : "",
    pinned_by_name: typeof p.pinned_by_name === "string" ? p.pinned_by_name : "",
    pin_time: Number.isInteger(p.pin_time) ? p.pin_time : 0,
    message: normalMessage(p.message),
  };
}

function pinsOf(key) {
  let entry = pinsByChannel.get(key);
  if (!entry) {
    entry = { loaded: false, list: [] };
    pinsByChannel.set(key, entry);
  }
  return entry;
}

/** Whether message id of the channel is pinned (as far as this page knows). */
export const isPinned = (key, id) => pinsOf(key).list.some((p) => p.message_id === id);

/** Reads a channel's pins (get_pins). */
export async function loadPins(key) {
  const conn = model.ctx.store.get("conn");
  if (!conn || !conn.online) return;
  try {
    const reply = await conn.call(address(key), "get_pins", {});
    const list = reply.payload && Array.isArray(reply.payload.pins) ? reply.payload.pins.map(normalPin).filter(Boolean) : [];
    pinsByChannel.set(key, { loaded: true, list });
  } catch {
    return;
  }
  refresh(key);
}

/** After a reconnect: the pins of every channel read before (pin_changed updates may have been missed). */
export function reloadPins() {
  for (const [key, entry] of pinsByChannel) {
    if (entry.loaded && model.ctx.store.get("nodes").has(key)) loadPins(key);
  }
}

function refresh(key) {
  if (key === currentKey()) changed();
  if (open && open.key === key) renderList();
}

/** pin_changed (an update, or the reply to my own pin or unpin). */
export function pinChanged({ key, payload }) {
  if (!payload || !Number.isInteger(payload.message_id)) return;
  const entry = pinsOf(key);
  const rest = entry.list.filter((p) => p.message_id !== payload.message_id);
  const pin = payload.pinned ? normalPin(payload) : null;
  entry.list = pin ? [pin, ...rest] : rest;
  refresh(key);
}

/** Pins or unpins a message (needs pin_messages; the server checks). */
export async function togglePin(key, id) {
  const pinned = isPinned(key, id);
  try {
    const reply = await model.ctx.act(address(key), pinned ? "unpin_message" : "pin_message", { message_id: id }, pinned ? "message not unpinned" : "message not pinned");
    pinChanged({ key, payload: reply.payload });
  } catch {
    /* shown as a toast */
  }
}

function pinItem(key, p) {
  const { ctx } = model;
  const m = p.message;
  const removed = m.sender_id === null;
  const actions = [
    h("button", { className: "link-button pin-jump", type: "button", textContent: "Jump", on: { click: () => { closeDialog(); jumpToMessage(key, p.message_id); } } }),
  ];
  if (ctx.can("pin_messages")) actions.push(h("button", { className: "link-button pin-unpin", type: "button", textContent: "Unpin", on: { click: () => togglePin(key, p.message_id) } }));
  return h(
    "li",
    { className: "pin", dataset: { id: String(p.message_id) } },
    h("div", { className: "pin-meta" }, removed ? h("span", { className: "muted", textContent: "Removed message" }) : ctx.memberLabel(m.sender_id, "author"), h("time", { className: "time", textContent: fullTime(m.send_time) })),
    h("div", { className: "pin-text message-content" }, renderMessage(m.message)),
    h("div", { className: "pin-actions" }, h("span", { className: "muted pin-by", textContent: `Pinned by ${p.pinned_by ? ctx.memberName(p.pinned_by) : p.pinned_by_name}` }), ...actions),
  );
}

function renderList() {
  if (!open) return;
  const { key, box } = open;
  const entry = pinsOf(key);
  box.replaceChildren(
    entry.list.length
      ? h("ol", { className: "pin-list" }, entry.list.map((p) => pinItem(key, p)))
      : h("p", { className: "muted pins-empty", textContent: entry.loaded ? "Nothing is pinned in this channel yet." : "Loading…" }),
  );
}

/** The channel's pinned messages in a dialog, kept up to date while it is open. */
export async function openPins(key) {
  const box = h("div", { className: "pins-box" });
  open = { key, box };
  renderList();
  const closed = openDialog({ title: "Pinned messages", body: [box], submitText: null, cancelText: "Close", className: "pins-dialog" });
  loadPins(key);
  await closed;
  if (open && open.box === box) open = null;
}

/** The header's 📌 button: shown for text channels. */
export function wirePinsButton() {
  const button = $("channel-pins");
  button.addEventListener("click", () => {
    const key = currentKey();
    if (key) openPins(key);
  });
  model.ctx.store.subscribe(["current", "nodes"], () => {
    const key = currentKey();
    show(button, Boolean(key && isText(model.ctx.store.get("nodes").get(key))));
  });
}

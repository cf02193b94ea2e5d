// Typing indicators in text channels: while the member types, `typing` is sent at most every 3 s (the server passes
// it on at most that often anyway); others' `member_typing` updates show "X is typing…" above the composer, each
// dropped 6 s after its last update, or at once when that member's message arrives.

import { $, h, show } from "../../lib/ui.js";
import { address, currentKey, isText, model } from "./model.js";

/** How often typing is sent while the member types (PROTOCOL.md, `typing`: the server's window). */
const SEND_EVERY = 3000;
/** How long an indicator lasts after the last update (PROTOCOL.md, `typing`). */
const SHOW_FOR = 6000;

const typers = new Map(); // channel key → Map user id → the timer that drops them
let lastSent = { key: null, at: 0 };
let element = null;

export function wireTyping() {
  element = h("div", { id: "typing-indicator", className: "typing-indicator", hidden: true, attrs: { "aria-live": "polite" } });
  $("composer-replying").before(element);
  $("composer-input").addEventListener("input", sendTyping);
  model.ctx.store.subscribe(["current", "members"], render);
}

/** On input in the composer: `typing`, unless sent for this channel less than SEND_EVERY ago (or editing). */
function sendTyping() {
  const key = currentKey();
  const conn = model.ctx.store.get("conn");
  if (!key || model.editing || !$("composer-input").value.trim() || !conn || !conn.online) return;
  if (!isText(model.ctx.store.get("nodes").get(key))) return;
  const now = Date.now();
  if (lastSent.key === key && now - lastSent.at < SEND_EVERY) return;
  lastSent = { key, at: now };
  // An indicator is worth nothing late: a failure is not worth a toast either.
  conn.call(address(key), "typing", {}).catch(() => {});
}

/** member_typing: someone else is writing in the channel. */
export function typingUpdate({ key, payload }) {
  const me = model.ctx.store.get("me");
  const id = payload.user_id;
  if (typeof id !== "string" || (me && id === me.user_id)) return;
  let channel = typers.get(key);
  if (!channel) typers.set(key, (channel = new Map()));
  clearTimeout(channel.get(id));
  channel.set(id, setTimeout(() => typingStopped(key, id), SHOW_FOR));
  if (key === currentKey()) render();
}

/** Drops a member's indicator in a channel (expired, or their message arrived). */
export function typingStopped(key, id) {
  const channel = typers.get(key);
  if (!channel || !channel.has(id)) return;
  clearTimeout(channel.get(id));
  channel.delete(id);
  if (!channel.size) typers.delete(key);
  if (key === currentKey()) render();
}

/** "X is typing…", "X and Y are typing…", "Several people are typing…", names as isolated, cleaned labels. */
function render() {
  if (!element) return;
  const key = currentKey();
  const ids = key && typers.has(key) ? Array.from(typers.get(key).keys()) : [];
  const name = (id) => model.ctx.memberLabel(id, "typing-name");
  let parts = [];
  if (ids.length === 1) parts = [name(ids[0]), " is typing…"];
  else if (ids.length === 2) parts = [name(ids[0]), " and ", name(ids[1]), " are typing…"];
  else if (ids.length > 2) parts = ["Several people are typing…"];
  element.replaceChildren(...parts);
  show(element, ids.length > 0);
}

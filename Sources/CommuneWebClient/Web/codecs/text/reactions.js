// Emoji reactions under messages: the chips (emoji and count, mine highlighted) that add or take back my reaction,
// who reacted on hover or long-press (get_reactors), a small picker, and the live reaction_changed updates.

import { $, h, toast } from "../../lib/ui.js";
import { address, changed, currentKey, model } from "./model.js";

/** The picker's quick choices; any other emoji can be typed in its field. */
const QUICK = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "🔥", "👀", "✅"];

/** A message's reactions as the server sends them (message object `reactions`), cleaned. */
export function normalReactions(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((r) => r && typeof r.emoji === "string" && Number.isInteger(r.count) && r.count > 0)
    .map((r) => ({ emoji: r.emoji, count: r.count, me: Boolean(r.me) }));
}

/** reaction_changed (an update, or the reply to my own change): the emoji's count, and whether I react with it. */
export function reactionChanged({ key, payload }) {
  const cs = model.channels.get(key);
  const m = cs && payload && cs.messages.get(payload.message_id);
  if (!m || typeof payload.emoji !== "string" || !Number.isInteger(payload.count)) return;
  const me = model.ctx.store.get("me");
  const list = m.reactions.map((r) => ({ ...r }));
  let entry = list.find((r) => r.emoji === payload.emoji);
  if (!entry) {
    entry = { emoji: payload.emoji, count: 0, me: false };
    list.push(entry);
  }
  entry.count = payload.count;
  if (me && payload.user_id === me.user_id) entry.me = Boolean(payload.added);
  m.reactions = list.filter((r) => r.count > 0);
  if (key === currentKey()) changed();
}

async function toggle(key, m, emoji) {
  const mine = m.reactions.some((r) => r.emoji === emoji && r.me);
  try {
    const reply = await model.ctx.act(address(key), mine ? "remove_reaction" : "add_reaction", { message_id: m.message_id, emoji }, "reaction not changed");
    reactionChanged({ key, payload: reply.payload });
  } catch {
    /* shown as a toast */
  }
}

/** Who reacted with an emoji (the first 20), as a sentence. */
async function whoReacted(key, m, emoji) {
  const conn = model.ctx.store.get("conn");
  if (!conn || !conn.online) return "";
  const reply = await conn.call(address(key), "get_reactors", { message_id: m.message_id, emoji, amount: 20 });
  const users = (reply.payload && Array.isArray(reply.payload.users) ? reply.payload.users : []).map((u) =>
    u && typeof u.user_id === "string" ? model.ctx.memberName(u.user_id) : "",
  );
  const entry = m.reactions.find((r) => r.emoji === emoji);
  const more = entry && entry.count > users.length ? ` and ${entry.count - users.length} more` : "";
  return users.length ? `${emoji} ${users.join(", ")}${more}` : "";
}

/** How long a finger rests on a chip before it counts as a long-press. */
const LONG_PRESS_MS = 500;

function chip(key, m, r) {
  let asked = false;
  // A long-press on a touch screen, timed here: iOS Safari fires no contextmenu for one. `pressed` keeps the
  // finger's lifting from also toggling the reaction, and Android's own contextmenu from showing it twice.
  let pressTimer = 0;
  let pressed = false;
  const cancelPress = () => clearTimeout(pressTimer);
  const showWho = async () => {
    const text = await whoReacted(key, m, r.emoji).catch(() => "");
    if (text) toast({ kind: "info", title: "Reactions", message: text, timeout: 5000 });
  };
  const button = h(
    "button",
    {
      className: `reaction${r.me ? " mine" : ""}`,
      type: "button",
      title: `${r.emoji} — ${r.count}`,
      dataset: { emoji: r.emoji },
      attrs: { "aria-pressed": r.me ? "true" : "false", "aria-label": `${r.emoji} ${r.count}${r.me ? ", including you" : ""}` },
      on: {
        click: (e) => {
          if (pressed) {
            pressed = false;
            e.preventDefault();
            return;
          }
          toggle(key, m, r.emoji);
        },
        // Hover or focus: who reacted, asked once per chip.
        mouseenter: () => describe(),
        focus: () => describe(),
        // Long-press on a touch screen: who reacted, as a toast.
        pointerdown: (e) => {
          if (e.pointerType !== "touch") return;
          pressed = false;
          cancelPress();
          pressTimer = setTimeout(() => {
            pressed = true;
            showWho();
          }, LONG_PRESS_MS);
        },
        pointerup: cancelPress,
        pointercancel: cancelPress,
        pointerleave: cancelPress,
        // A right click (and Android's long-press): the same toast, once.
        contextmenu: (e) => {
          e.preventDefault();
          if (!pressed) showWho();
        },
      },
    },
    h("span", { className: "reaction-emoji", textContent: r.emoji }),
    h("span", { className: "reaction-count", textContent: String(r.count) }),
  );
  async function describe() {
    if (asked) return;
    asked = true;
    const text = await whoReacted(key, m, r.emoji).catch(() => "");
    if (text) button.title = text;
  }
  return button;
}

/** The chips under a message (nothing when it has no reactions). */
export function reactionsRow(key, m) {
  if (!m.reactions.length) return null;
  return h("div", { className: "reactions" }, m.reactions.map((r) => chip(key, m, r)));
}

/** The picker that opens from a message's "Add reaction" tool: quick emoji and a field for any other. */
export function openPicker(key, m, anchor) {
  closePicker();
  const input = h("input", { className: "reaction-input", type: "text", placeholder: "Other emoji", maxLength: 16, attrs: { "aria-label": "Other emoji" } });
  const choose = (emoji) => {
    closePicker();
    if (emoji && !m.reactions.some((r) => r.emoji === emoji && r.me)) toggle(key, m, emoji);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      choose(input.value.trim());
    } else if (e.key === "Escape") closePicker();
  });
  const picker = h(
    "div",
    { id: "reaction-picker", className: "reaction-picker", attrs: { role: "dialog", "aria-label": "Add a reaction" } },
    h("div", { className: "reaction-quick" }, QUICK.map((emoji) => h("button", { className: "icon-button reaction-choice", type: "button", textContent: emoji, on: { click: () => choose(emoji) } }))),
    input,
  );
  anchor.closest("li.message").append(picker);
  picker.querySelector("button").focus();
  setTimeout(() => document.addEventListener("click", outside, true), 0);
}

function outside(e) {
  const picker = $("reaction-picker");
  if (picker && !picker.contains(e.target)) closePicker();
}

export function closePicker() {
  const picker = $("reaction-picker");
  if (picker) picker.remove();
  document.removeEventListener("click", outside, true);
}

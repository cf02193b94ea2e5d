// The shown text channel's message list: messages grouped by sender, /me actions, removed messages, images, the
// sends still pending with their state, and the history line at the top. Message text goes through markup.js only.

import { attachmentBox } from "../../lib/attachments.js";
import { renderMessage, renderPreview } from "../../lib/markup.js";
import { nameNode } from "../../lib/names.js";
import { $, avatar, fullTime, h, shortTime } from "../../lib/ui.js";
import { discardPending, removeMessage, retryPending, startEditing, startReplying } from "./composer.js";
import { daySeparator, firstUnreadId, newDay, placeReader, unreadDivider, updateJumpBar } from "./display.js";
import { loadOlder, loadToShow } from "./history.js";
import { isPinned, togglePin } from "./pins.js";
import { decorateMentions } from "./mentions.js";
import { openPicker, reactionsRow } from "./reactions.js";
import { channelState, currentKey, isText, model, sortedIds } from "./model.js";

const GROUP_WINDOW_MS = 7 * 60 * 1000;
const REMOVED_TEXT = "*Message Removed*";

const token = () => model.ctx.store.get("sessionToken");

function toolButton(className, label, title, icon, onClick) {
  return h("button", { className: `icon-button ${className}`, type: "button", textContent: icon, title, attrs: { "aria-label": label }, on: { click: onClick } });
}

function messageNode(cs, m, continued) {
  const { ctx } = model;
  const me = ctx.store.get("me");
  const key = currentKey();
  const removed = m.sender_id === null;
  const mine = Boolean(me && m.sender_id === me.user_id);
  const canEdit = mine && !removed;
  const canRemove = !removed && (mine || (ctx.can("change_messages") && ctx.outranks(m.sender_id)));
  const editing = Boolean(model.editing && model.editing.id === m.message_id && model.editing.key === key);
  const name = removed ? "" : ctx.memberName(m.sender_id);
  const tag = removed ? "" : ctx.memberTag(m.sender_id);
  const replying = Boolean(model.replying && model.replying.id === m.message_id && model.replying.key === key);
  const replyName = m.reply_to && m.reply_to.sender_id ? ctx.memberName(m.reply_to.sender_id) : "";
  const canPin = !removed && ctx.can("pin_messages");
  const pinned = isPinned(key, m.message_id);
  const cacheKey = JSON.stringify([m.message, m.edited, m.kind, m.sender_id, name, tag, continued, canEdit, canRemove, editing, replying, m.attachments.map((a) => a.attachment_id), m.reply_to, replyName, m.reactions, canPin, pinned]);
  const cached = cs.nodes.get(m.message_id);
  if (cached && cached.cacheKey === cacheKey) return cached.node;
  const action = m.kind === "action" && !removed;
  const time = h("time", { className: "time", textContent: shortTime(m.send_time), title: fullTime(m.send_time), dateTime: new Date(m.send_time || 0).toISOString() });
  let text;
  if (removed) {
    text = h("div", { className: "message-text" }, h("span", { className: "message-content removed-text" }, renderMessage(m.message || REMOVED_TEXT)));
  } else if (action) {
    text = h(
      "div",
      { className: "message-text action-text" },
      h("span", { className: "action-star", textContent: "* ", attrs: { "aria-hidden": "true" } }),
      ctx.memberLabel(m.sender_id, "action-actor"),
      " ",
      h("span", { className: "message-content" }, renderMessage(m.message)),
      m.edited ? h("span", { className: "edited", textContent: " (edited)" }) : null,
    );
  } else {
    text = h(
      "div",
      { className: "message-text" },
      h("span", { className: "message-content" }, renderMessage(m.message)),
      m.edited ? h("span", { className: "edited", textContent: " (edited)" }) : null,
    );
  }
  const tools = [];
  if (!removed) tools.push(toolButton("msg-reply", "Reply to message", "Reply", "↩", () => startReplying(currentKey(), m.message_id)));
  if (!removed) tools.push(toolButton("msg-react", "Add a reaction", "React", "☺", (e) => openPicker(currentKey(), m, e.currentTarget)));
  if (canPin) tools.push(toolButton("msg-pin", pinned ? "Unpin message" : "Pin message", pinned ? "Unpin" : "Pin", "📌", () => togglePin(currentKey(), m.message_id)));
  if (canEdit) tools.push(toolButton("msg-edit", "Edit message", "Edit", "✎", () => startEditing(currentKey(), m.message_id)));
  if (canRemove) tools.push(toolButton("msg-remove", "Remove message", "Remove", "🗑", () => removeMessage(currentKey(), m.message_id)));
  const node = h(
    "li",
    {
      className: `message${pinned ? " pinned" : ""}${continued ? " continued" : ""}${m.reply_to ? " is-reply" : ""}${replying ? " replying" : ""}${mine ? " mine" : ""}${removed ? " removed" : ""}${action ? " action" : ""}${m.edited ? " is-edited" : ""}${editing ? " editing" : ""}`,
      dataset: { id: String(m.message_id), sender: m.sender_id || "", kind: m.kind },
      on: {
        click: (e) => {
          if (!e.target.closest("a, button, img")) node.classList.toggle("tools-open");
        },
      },
    },
    continued ? h("span", { className: "avatar-space" }, time) : removed ? h("span", { className: "avatar avatar-removed", attrs: { "aria-hidden": "true" } }) : avatar(name, m.sender_id),
    h(
      "div",
      { className: "message-body" },
      m.reply_to ? replyPreview(key, m.reply_to) : null,
      continued ? null : h("div", { className: "message-meta" }, removed ? null : ctx.memberLabel(m.sender_id, "author"), time),
      text,
      m.attachments.length ? h("div", { className: "attachments" }, m.attachments.map((a) => attachmentBox(a, token))) : null,
      removed ? null : reactionsRow(key, m),
    ),
    pinned ? h("span", { className: "pinned-mark", textContent: "📌", title: "Pinned", attrs: { "aria-label": "Pinned" } }) : null,
    tools.length ? h("div", { className: "message-tools" }, tools) : null,
  );
  cs.nodes.set(m.message_id, { cacheKey, node });
  return node;
}

/** The original a reply answers, above it: its author and first line, or "original removed"; a click goes there. */
function replyPreview(key, r) {
  const { ctx } = model;
  const what = r.removed
    ? [h("span", { className: "reply-removed", textContent: "Original message removed" })]
    : [
        r.sender_id && ctx.store.get("members").has(r.sender_id) ? ctx.memberLabel(r.sender_id, "reply-author") : h("span", { className: "member-label reply-author" }, nameNode(r.sender_name || "someone")),
        // Isolated: direction marks in the original's text stay inside it.
        // Its spoilers stay hidden (a click on one shows it, not the original).
        h("bdi", { className: "reply-text" }, r.text ? renderPreview(r.text) : "(attachment)"),
      ];
  return h(
    "button",
    {
      className: "reply-preview",
      type: "button",
      title: "Show the original message",
      dataset: { replyTo: String(r.message_id) },
      on: { click: () => jumpToMessage(key, r.message_id) },
    },
    h("span", { className: "reply-arrow", textContent: "↪", attrs: { "aria-hidden": "true" } }),
    ...what,
  );
}

/** Scrolls to message id of the channel (loading the history up to it when it is not loaded) and highlights it. */
export async function jumpToMessage(key, id) {
  const cs = channelState(key);
  if (!cs.messages.has(id) && !(await loadToShow(key, id))) return;
  if (key !== currentKey()) return;
  renderMessages();
  const li = $("message-list").querySelector(`li.message[data-id="${id}"]`);
  if (!li) return;
  li.scrollIntoView({ block: "center" });
  li.classList.remove("highlighted");
  void li.offsetWidth; // restarts the highlight's animation
  li.classList.add("highlighted");
  setTimeout(() => li.classList.remove("highlighted"), 2500);
}

/** What a pending message's line says: while online it is being sent; offline it waits (or its fate is unknown). */
function pendingStatus(p, online) {
  if (p.state === "failed") return `Not sent: ${p.error}${p.returned ? " It is back in the composer to change." : ""}`;
  if (p.state === "waiting") return `Sending too fast — sending again in ${Math.max(1, Math.ceil((p.retryAt - Date.now()) / 1000))} s…`;
  if (online) return "Sending…";
  return p.state === "unsure" ? "Connection lost — checking whether it was sent…" : "Waiting for the connection…";
}

function pendingNode(p, online) {
  const button = (text, cls, onClick) => h("button", { className: `link-button ${cls}`, type: "button", textContent: text, on: { click: onClick } });
  const actions = [];
  if (p.state === "failed" && p.retryable) actions.push(button("Retry", "pending-retry", () => retryPending(p)));
  actions.push(button("Discard", "pending-discard", () => discardPending(p)));
  const me = model.ctx.store.get("me");
  const myName = me ? me.username : "";
  const label = (cls) => (me ? model.ctx.memberLabel(me.user_id, cls) : h("span", { className: cls }));
  const content = h("span", { className: "message-content" }, renderMessage(p.text));
  return h(
    "li",
    { className: `message mine pending state-${p.state}${p.kind === "action" ? " action" : ""}`, dataset: { pending: p.localId, code: p.code || "" } },
    avatar(myName || "?", me ? me.user_id : ""),
    h(
      "div",
      { className: "message-body" },
      h("div", { className: "message-meta" }, label("author")),
      p.kind === "action"
        ? h("div", { className: "message-text action-text" }, h("span", { className: "action-star", textContent: "* " }), label("action-actor"), " ", content)
        : p.text
          ? h("div", { className: "message-text" }, content)
          : null,
      p.attachments.length ? h("div", { className: "attachments" }, p.attachments.map((a) => attachmentBox(a, token, a.localUrl))) : null,
      h(
        "div",
        { className: "pending-status", attrs: p.state === "failed" ? { role: "alert" } : {} },
        h("span", { className: "pending-text", textContent: pendingStatus(p, online) }),
        ...actions,
      ),
    ),
  );
}

/**
 * The shown messages with the pending ones among them in time order: a pending message comes after every message
 * that was shown when it was written (afterId) or that the server accepted before it was written, and before the rest.
 */
function withPending(cs) {
  const ids = sortedIds(cs);
  const pending = [...cs.pending].sort((a, b) => a.createdAt - b.createdAt);
  const out = [];
  let i = 0;
  for (const p of pending) {
    while (i < ids.length) {
      const m = cs.messages.get(ids[i]);
      if (m.message_id > p.afterId && m.send_time > p.createdAt) break;
      out.push(m);
      i++;
    }
    out.push(p);
  }
  for (; i < ids.length; i++) out.push(cs.messages.get(ids[i]));
  return out;
}

/** Renders the shown channel's messages, keeping the reader's place (scrollToEnd, or keepTop after older ones). */
export function renderMessages({ scrollToEnd = false, keepTop = false } = {}) {
  const key = currentKey();
  const node = key ? model.ctx.store.get("nodes").get(key) : null;
  if (!isText(node)) return;
  const cs = channelState(key);
  const box = $("messages");
  const list = $("message-list");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const prevHeight = box.scrollHeight;
  const prevTop = box.scrollTop;
  const items = [];
  let prev = null;
  let lastTime = null;
  const unreadFrom = firstUnreadId(key, cs);
  const conn = model.ctx.store.get("conn");
  const online = Boolean(conn && conn.online);
  for (const m of withPending(cs)) {
    // A new local day starts with its separator; the first unread message with the divider. Neither is grouped across.
    const time = m.localId ? m.createdAt : m.send_time;
    if (lastTime === null ? Number.isFinite(time) : newDay(lastTime, time)) {
      items.push(daySeparator(time));
      prev = null;
    }
    if (Number.isFinite(time)) lastTime = time;
    if (!m.localId && m.message_id === unreadFrom) {
      items.push(unreadDivider());
      prev = null;
    }
    if (m.localId) {
      items.push(pendingNode(m, online));
      prev = null;
      continue;
    }
    const continued = Boolean(
      prev && m.sender_id && !m.reply_to && m.kind !== "action" && prev.kind !== "action" && prev.sender_id === m.sender_id &&
        m.send_time - prev.send_time < GROUP_WINDOW_MS && m.message_id === prev.message_id + 1,
    );
    items.push(messageNode(cs, m, continued));
    prev = m;
  }
  list.replaceChildren(...items);
  decorateMentions(list, cs);
  const status = $("history-status");
  status.replaceChildren();
  if (cs.loading) status.append(h("span", { textContent: "Loading messages…" }));
  else if (cs.reachedStart) status.append(h("span", {}, "This is the beginning of #", nameNode(node.name), "."));
  else if (cs.loadedAny) status.append(h("button", { className: "link-button", type: "button", textContent: "Load older messages", on: { click: () => loadOlder(key) } }));
  if (keepTop) box.scrollTop = prevTop + (box.scrollHeight - prevHeight);
  else if (placeReader(key, cs, box, list)) scrollToEnd = false;
  else if (scrollToEnd || atBottom) box.scrollTop = box.scrollHeight;
  const ids = sortedIds(cs);
  updateJumpBar(key, cs, atBottom || scrollToEnd, ids.length ? ids[ids.length - 1] : 0);
}

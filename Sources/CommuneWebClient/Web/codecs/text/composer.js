// Writing in a text channel: the composer (Enter sends, /me actions, the length counter), sends that wait for the
// connection and are resent with the same message number, and editing or removing my messages.

import { ConnectionLost } from "../../lib/connection.js";
import { confirmDialog } from "../../lib/dialogs.js";
import { codePointLength, MAX_MESSAGE_CODE_POINTS, messageProblem } from "../../lib/protocol.js";
import * as storage from "../../lib/storage.js";
import { renderPreview } from "../../lib/markup.js";
import { $, errorText, errorToast, h, show, toast } from "../../lib/ui.js";
import { address, changed, channelState, currentKey, isText, mergeMessages, model, normalMessage, previewOf, sortedIds } from "./model.js";

const store = () => model.ctx.store;

function sendFromComposer(event) {
  if (event) event.preventDefault();
  const input = $("composer-input");
  let text = input.value;
  const key = currentKey();
  if (!key || !isText(store().get("nodes").get(key))) return;
  if (model.editing) {
    submitEdit(text);
    return;
  }
  const staged = store().get("staged");
  if (staged.some((a) => a.state === "uploading")) {
    toast({ kind: "info", title: "Still uploading", message: "Wait until the images are uploaded, then send.", timeout: 4000 });
    return;
  }
  const attachments = staged.filter((a) => a.state === "done").map((a) => ({ ...a.info, localUrl: a.previewUrl }));
  let kind = "text";
  const me = /^\/me(?:\s+([\s\S]*))?$/.exec(text);
  if (me) {
    if (!me[1] || !me[1].trim()) {
      toast({ kind: "info", title: "Nothing to do", message: "Write what you do after /me, e.g. “/me waves”.", timeout: 5000 });
      return;
    }
    kind = "action";
    text = me[1];
  }
  if (!text.trim() && !attachments.length) return;
  // What was refused and went back to the composer is replaced by what is sent now.
  const cs = channelState(key);
  cs.pending = cs.pending.filter((p) => !(p.state === "failed" && p.returned));
  const replyTo = model.replying && model.replying.key === key ? model.replying.id : null;
  const p = queueMessage(key, text.trim() ? text : "", { kind, attachments, fromComposer: true, replyTo });
  if (p.state === "failed") return; // refused before sending: the text stays in the composer
  cancelReplying();
  input.value = "";
  model.drafts.delete(key);
  store().set({ staged: [] });
  resizeComposer();
  updateCounter();
}

/**
 * The next per-sender message number (PROTOCOL.md `send_message.number`): a resend with the same number after a
 * lost reply stores nothing twice. Numbers only need to be unique per member, so they follow the clock in
 * microsecond-like steps (milliseconds × 1000 + a random part) and never go down: the same identity used in two
 * browsers (an imported identity file) does not reuse the other's numbers.
 */
function nextNumber() {
  const base = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  model.lastNumber = Math.max(model.lastNumber + 1, base);
  storage.updateCommunity(model.ctx.baseUrl, { last_number: model.lastNumber });
  return model.lastNumber;
}

const newestId = (cs) => Math.max(0, ...cs.messages.keys());

/** Codes after which sending the same message again may succeed (a passing failure, not a refusal of its content). */
const RETRYABLE = new Set(["internal_error", "rate_limited", "connection_lost", "timeout"]);

/** Sends a message, or keeps it pending until the connection is back; one the server would refuse fails at once. */
export function queueMessage(key, text, { kind = "text", attachments = [], fromComposer = false, replyTo = null } = {}) {
  const cs = channelState(key);
  const p = {
    localId: `local-${++model.localSeq}`, key, text, kind, attachments, replyTo, number: 0, state: "queued", sentAt: 0, error: "", code: "",
    retryable: false, returned: false, tries: 0, slowed: 0, retryAt: 0, createdAt: Date.now(), afterId: newestId(cs),
  };
  cs.pending.push(p);
  const problem = messageProblem(text);
  if (problem) {
    // Never sent: it stays in the composer (sendFromComposer keeps it there) with the reason.
    fail(p, problem, { returned: fromComposer });
    errorToast(problem, "message not sent");
  } else {
    p.number = nextNumber();
    const conn = store().get("conn");
    if (conn && conn.online) sendPending(p);
  }
  if (key === currentKey()) changed({ scrollToEnd: true });
  return p;
}

function fail(p, { code, message }, { returned = false } = {}) {
  p.state = "failed";
  p.code = code || "";
  p.error = message;
  p.retryable = RETRYABLE.has(p.code);
  p.returned = returned;
}

/** A refused message's text goes back to its channel's composer (unless something else is being written there). */
function returnToComposer(p) {
  const text = p.kind === "action" ? `/me ${p.text}` : p.text;
  if (!p.text) return false;
  if (p.key === currentKey()) {
    const input = $("composer-input");
    if (model.editing || input.value.trim()) return false;
    input.value = text;
    resizeComposer();
    updateCounter();
    return true;
  }
  if ((model.drafts.get(p.key) || "").trim()) return false;
  model.drafts.set(p.key, text);
  return true;
}

async function sendPending(p) {
  const cs = channelState(p.key);
  p.state = "sending";
  p.sentAt = Date.now();
  const payload = { message: p.text, number: p.number };
  if (p.kind === "action") payload.kind = "action";
  if (p.attachments.length) payload.attachments = p.attachments.map((a) => a.attachment_id);
  if (p.replyTo) payload.reply_to = p.replyTo;
  try {
    const conn = store().get("conn");
    const reply = await conn.call(address(p.key), "send_message", payload);
    const answer = reply.payload || {};
    p.slowed = 0;
    cs.pending = cs.pending.filter((x) => x !== p);
    if (Number.isInteger(answer.message_id)) {
      const sent = {
        message_id: answer.message_id,
        message: p.text,
        send_time: answer.send_time,
        sender_id: store().get("me").user_id,
        kind: p.kind,
        attachments: p.attachments.map(({ localUrl, ...info }) => info),
        reply_to: p.replyTo && cs.messages.has(p.replyTo) ? previewOf(cs.messages.get(p.replyTo)) : null,
      };
      if (!cs.messages.has(answer.message_id)) mergeMessages(p.key, [sent]);
    }
  } catch (e) {
    if (!cs.pending.includes(p)) return; // discarded meanwhile
    const conn = store().get("conn");
    if (e instanceof ConnectionLost && conn && conn.online && ++p.tries < 3) {
      // No answer in time on a connection that is still open: sent again with the same number (stored once).
      sendPending(p);
      return;
    } else if (e instanceof ConnectionLost && !(conn && conn.online)) {
      // Maybe committed, maybe not: sent again with the same number after reconnecting (the server stores it once).
      p.state = "unsure";
    } else if (e instanceof ConnectionLost) {
      fail(p, { code: "timeout", message: "The community did not answer." });
    } else if (e.code === "rate_limited" && e.retryAfterMs !== null && ++p.slowed <= MAX_AUTOMATIC_RETRIES) {
      // Sent too fast: sent again by itself once the server says it may succeed (same number, stored once).
      waitAndResend(p, e.retryAfterMs);
    } else {
      fail(p, { code: e.code || "", message: errorText(e) });
      if (!p.retryable) p.returned = returnToComposer(p);
      errorToast(e, "message not sent");
    }
  }
  if (p.key === currentKey()) changed({ scrollToEnd: true });
}

/** How many times in a row a message held back by the rate limit is sent again by itself before it needs a Retry. */
const MAX_AUTOMATIC_RETRIES = 5;

/** Waits `ms` (capped at 60 s, plus a little so that a burst does not come back all at once), then sends again. */
function waitAndResend(p, ms) {
  p.state = "waiting";
  p.retryAt = Date.now() + Math.min(ms, 60_000) + Math.floor(Math.random() * 250);
  setTimeout(() => {
    if (p.state !== "waiting" || !channelState(p.key).pending.includes(p)) return; // discarded or resent meanwhile
    const conn = store().get("conn");
    if (conn && conn.online) sendPending(p);
    else p.state = "queued";
  }, p.retryAt - Date.now());
}

/** Pending messages whose fate is unknown are sent again with their number: the server keeps the first copy. */
export function reconcilePending(key) {
  const cs = channelState(key);
  for (const p of cs.pending) if (p.state === "unsure" || p.state === "sending" || p.state === "waiting") p.state = "queued";
}

export function flushAllPending() {
  for (const [key, cs] of model.channels) {
    reconcilePending(key);
    for (const p of cs.pending) if (p.state === "queued") sendPending(p);
  }
  changed();
}

export function retryPending(p) {
  if (!p.retryable) return;
  p.state = "queued";
  p.error = "";
  p.tries = 0;
  p.slowed = 0;
  const conn = store().get("conn");
  if (conn && conn.online) sendPending(p);
  else changed();
}

export function discardPending(p) {
  const cs = channelState(p.key);
  cs.pending = cs.pending.filter((x) => x !== p);
  changed();
}

/**
 * Another channel shown: the composer's text stays with the channel it was written in, and the new channel's own
 * draft comes back (an edit in progress elsewhere is given up first).
 */
export function switchDraft(key) {
  if (model.editing && model.editing.key !== key) cancelEditing();
  if (model.replying && model.replying.key !== key) cancelReplying();
  if (model.draftKey === key) return;
  const input = $("composer-input");
  if (model.draftKey !== null) {
    if (input.value) model.drafts.set(model.draftKey, input.value);
    else model.drafts.delete(model.draftKey);
  }
  model.draftKey = key;
  input.value = (key && model.drafts.get(key)) || "";
  resizeComposer();
  updateCounter();
}

// -- replying

/** The next message sent in this channel replies to message id: the reply bar above the composer says to whom. */
export function startReplying(key, id) {
  const cs = model.channels.get(key);
  const m = cs && cs.messages.get(id);
  if (!m || m.sender_id === null) return;
  if (model.editing) cancelEditing();
  model.replying = { key, id };
  const preview = previewOf(m);
  $("composer-reply-text").replaceChildren(
    "Replying to ",
    model.ctx.memberLabel(m.sender_id, "reply-bar-author"),
    preview.text ? " — " : "",
    // Isolated: direction marks in the original's text stay inside it.
    h("bdi", { className: "reply-bar-text" }, renderPreview(preview.text)),
    h("span", { className: "reply-bar-hint", textContent: " (Esc cancels)" }),
  );
  show($("composer-replying"), true);
  $("composer-input").focus();
  changed();
}

export function cancelReplying() {
  if (!model.replying) return;
  model.replying = null;
  show($("composer-replying"), false);
  changed();
}

// -- editing and removing

/** An edited or removed message (update or reply): replaces the one shown, if it is loaded. */
export function replaceMessage(key, m) {
  const cs = model.channels.get(key);
  if (!cs || !m || !Number.isInteger(m.message_id) || !cs.messages.has(m.message_id)) return;
  const replaced = normalMessage(m);
  // Edits and removals carry no reactions (only history does): the ones shown stay.
  if (!Array.isArray(m.reactions)) replaced.reactions = cs.messages.get(m.message_id).reactions;
  cs.messages.set(m.message_id, replaced);
  // The loaded replies to it show it as it is now (the server's previews are made when a reply is read).
  for (const reply of cs.messages.values()) {
    if (reply.reply_to && reply.reply_to.message_id === replaced.message_id) {
      reply.reply_to = { ...previewOf(replaced), sender_name: reply.reply_to.sender_name };
    }
  }
  const editing = model.editing;
  if (editing && editing.key === key && editing.id === m.message_id && !m.sender_id) cancelEditing();
  const replying = model.replying;
  if (replying && replying.key === key && replying.id === m.message_id && !m.sender_id) cancelReplying();
  if (key === currentKey()) changed();
}

export function startEditing(key, id) {
  const cs = model.channels.get(key);
  const m = cs && cs.messages.get(id);
  const me = store().get("me");
  if (!m || !me || m.sender_id !== me.user_id) return;
  const input = $("composer-input");
  model.editing = { key, id, draft: model.editing ? model.editing.draft : input.value };
  input.value = m.message;
  show($("composer-editing"), true);
  $("composer").classList.add("is-editing");
  resizeComposer();
  updateCounter();
  input.focus();
  changed();
}

export function cancelEditing() {
  if (!model.editing) return;
  const draft = model.editing.draft || "";
  model.editing = null;
  show($("composer-editing"), false);
  $("composer").classList.remove("is-editing");
  $("composer-input").value = draft;
  resizeComposer();
  updateCounter();
  changed();
}

async function submitEdit(text) {
  const editing = model.editing;
  if (!editing) return;
  const cs = model.channels.get(editing.key);
  const m = cs && cs.messages.get(editing.id);
  if (m && m.message === text) {
    cancelEditing();
    return;
  }
  if (!text.trim()) {
    removeMessage(editing.key, editing.id);
    return;
  }
  const problem = messageProblem(text);
  if (problem) {
    errorToast(problem, "message not edited");
    return;
  }
  try {
    const reply = await model.ctx.act(address(editing.key), "edit_message", { message_id: editing.id, message: text }, "message not edited");
    cancelEditing();
    replaceMessage(editing.key, reply.payload);
  } catch {
    /* shown as a toast; the composer keeps the text */
  }
}

export function removeMessage(key, id) {
  const cs = model.channels.get(key);
  const m = cs && cs.messages.get(id);
  if (!m) return;
  const me = store().get("me");
  const mine = me && m.sender_id === me.user_id;
  const preview = m.message.length > 200 ? `${m.message.slice(0, 200)}…` : m.message;
  confirmDialog({
    title: "Remove message",
    lead: mine
      ? "Remove your message? Everyone will see “Message Removed” in its place."
      : ["Remove ", model.ctx.memberLabel(m.sender_id), "'s message? Everyone will see “Message Removed” in its place."],
    body: [h("blockquote", { className: "quote", textContent: preview })],
    confirmText: "Remove",
    onSubmit: async () => {
      const reply = await model.ctx.act(address(key), "remove_message", { message_id: id }, "message not removed");
      replaceMessage(key, reply.payload);
      if (model.editing && model.editing.id === id) cancelEditing();
    },
  });
}

// -- the composer's box

function resizeComposer() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
  input.classList.toggle("scrolls", input.scrollHeight > 240);
}

function updateCounter() {
  const n = codePointLength($("composer-input").value);
  const counter = $("composer-count");
  show(counter, n > MAX_MESSAGE_CODE_POINTS - 400);
  counter.textContent = `${n} / ${MAX_MESSAGE_CODE_POINTS}`;
  counter.classList.toggle("over", n > MAX_MESSAGE_CODE_POINTS);
}

/** Wires the composer: Enter sends, Shift+Enter breaks the line, Esc cancels an edit, Up edits my newest message. */
export function wireComposer() {
  $("composer").addEventListener("submit", sendFromComposer);
  $("composer-input").addEventListener("keydown", (e) => {
    const key = currentKey();
    const me = store().get("me");
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) sendFromComposer(e);
    else if (e.key === "Escape" && model.editing) {
      e.preventDefault();
      cancelEditing();
    } else if (e.key === "Escape" && model.replying) {
      e.preventDefault();
      cancelReplying();
    } else if (e.key === "ArrowUp" && !e.target.value && !model.editing && key && me) {
      // Up in an empty composer edits my newest message, as in other chat clients.
      const cs = model.channels.get(key);
      const ids = cs ? sortedIds(cs).reverse() : [];
      const id = ids.find((i) => cs.messages.get(i).sender_id === me.user_id);
      if (id !== undefined) {
        e.preventDefault();
        startEditing(key, id);
      }
    }
  });
  $("composer-cancel-edit").addEventListener("click", cancelEditing);
  $("composer-cancel-reply").addEventListener("click", cancelReplying);
  $("composer-input").addEventListener("input", () => {
    resizeComposer();
    updateCounter();
  });
}

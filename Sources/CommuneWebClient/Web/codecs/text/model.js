// A text channel's state in this page: its loaded messages by id, how far back they go, the sends still pending,
// and the message being edited. Shared by the text codec's modules; the rest of the client sees only the store's
// `unread` counts.

import { normalReactions } from "./reactions.js";

export const NAME = "text";

/** The text codec's state. ctx: the shared context (lib/context.js), set at install. */
export const model = {
  ctx: null,
  channels: new Map(), // key → {messages: Map id → message, loadedAny, reachedStart, loading, pending: [], nodes: Map}
  editing: null, // {key, id, draft}: the message the composer edits, and what the composer held before
  replying: null, // {key, id}: the message the next send replies to
  drafts: new Map(), // channel key → what its composer held when another channel was shown
  draftKey: null, // the channel whose draft the composer holds
  lastNumber: 0, // the last per-sender message number used (composer.js, nextNumber)
  localSeq: 0,
};

let listener = () => {};

/** Sets what runs when the shown messages changed (the message list's renderer). */
export function onChanged(fn) {
  listener = fn;
}

/** Re-renders the shown messages: {scrollToEnd, keepTop}. */
export function changed(options) {
  listener(options);
}

/** The key of the shown channel. */
export const currentKey = () => model.ctx.store.get("current");

/** Whether the node is a text channel. */
export const isText = (node) => Boolean(node && node.codec === NAME);

export function channelState(key) {
  let cs = model.channels.get(key);
  if (!cs) {
    cs = { messages: new Map(), loadedAny: false, reachedStart: false, loading: false, pending: [], nodes: new Map() };
    model.channels.set(key, cs);
  }
  return cs;
}

export function normalMessage(m) {
  return {
    message_id: m.message_id,
    message: m.message,
    send_time: m.send_time,
    sender_id: typeof m.sender_id === "string" ? m.sender_id : null,
    kind: m.kind === "action" ? "action" : "text",
    edited: Boolean(m.edited),
    attachments: Array.isArray(m.attachments) ? m.attachments.filter((a) => a && typeof a.attachment_id === "string") : [],
    reply_to: normalReply(m.reply_to),
    reactions: normalReactions(m.reactions),
    mentions: Array.isArray(m.mentions) ? m.mentions.filter((id) => typeof id === "string") : [],
    mentions_everyone: m.mentions_everyone === true,
  };
}

/** A reply's preview of its original (PROTOCOL.md, message object `reply_to`), or null. */
function normalReply(r) {
  if (!r || typeof r !== "object" || !Number.isInteger(r.message_id)) return null;
  return {
    message_id: r.message_id,
    sender_id: typeof r.sender_id === "string" ? r.sender_id : null,
    sender_name: typeof r.sender_name === "string" ? r.sender_name : "",
    text: typeof r.text === "string" ? r.text : "",
    removed: Boolean(r.removed) || typeof r.sender_id !== "string",
  };
}

/** The preview a reply to message m shows (as the server makes it: its first line, cut to 100 characters). */
export function previewOf(m) {
  const line = (m.message.split("\n").find((l) => l.trim()) || "").trimStart();
  const chars = typeof Intl.Segmenter === "function" ? Array.from(new Intl.Segmenter().segment(line), (s) => s.segment) : Array.from(line);
  return {
    message_id: m.message_id,
    sender_id: m.sender_id,
    sender_name: "",
    text: chars.length > 100 ? `${chars.slice(0, 100).join("")}…` : line,
    removed: m.sender_id === null,
  };
}

/** Merges messages into a channel by id; returns how many were new. */
export function mergeMessages(key, list) {
  const cs = channelState(key);
  let added = 0;
  for (const m of list || []) {
    if (!m || !Number.isInteger(m.message_id) || typeof m.message !== "string") continue;
    if (!cs.messages.has(m.message_id)) added++;
    cs.messages.set(m.message_id, normalMessage(m));
  }
  return added;
}

export function sortedIds(cs) {
  return Array.from(cs.messages.keys()).sort((a, b) => a - b);
}

/** Changes a channel's unread count (the sidebar's badge) to fn(count). */
export function setUnread(key, fn) {
  model.ctx.store.update("unread", (unread) => {
    const next = new Map(unread);
    const n = fn(next.get(key) || 0);
    if (n > 0) next.set(key, n);
    else next.delete(key);
    return next;
  });
}

/** The address of a text channel for a function call (a key not in the tree is taken as a text channel). */
export const address = (key) => model.ctx.address(key, NAME);

// Read state, the same on every device of a member (PROTOCOL.md, mark_read and get_read_state): the unread counts
// in the sidebar come from the server at each connection, the channel being read is marked read on the server when
// its newest message is in view (at most once every 2 s per channel), and a mark made on another device clears the
// count here.

import { COMMUNITY } from "../../lib/context.js";
import { keyOf } from "../../lib/tree.js";
import { address, changed, channelState, currentKey, isText, model, setUnread, sortedIds } from "./model.js";

const MARK_EVERY_MS = 2000;
const marked = new Map(); // channel key → the mark the server has (as far as this page knows)
const sentAt = new Map(); // channel key → when this page last sent mark_read for it
const timers = new Map(); // channel key → a mark waiting for its turn
const opened = new Map(); // channel key → {mark, unread}: the server's mark and unread count when it was last shown
let known = false; // whether the server said where this member stopped reading (get_read_state answered once)

/**
 * Whether the server's read state is known. Until it is, nothing is marked read (a mark sent first would move the
 * server's mark before it was read), and where a channel opened on loading the page was left is not known.
 */
export const readStateKnown = () => known;

/** Call as channel key is shown, before its unread count is cleared: remembers where its unread messages began. */
export function channelOpened(key) {
  opened.set(key, { mark: marked.get(key), unread: model.ctx.store.get("unread").get(key) || 0 });
}

/** The mark channel key had when it was shown if it had unread messages then, else null ("New messages" goes after it). */
export function markWhenOpened(key) {
  const o = opened.get(key);
  return o && o.unread > 0 && Number.isInteger(o.mark) ? o.mark : null;
}

/** Asks the server where this member stopped reading, and shows its unread counts (the channel in view is read). */
export async function syncReadState() {
  const conn = model.ctx.store.get("conn");
  if (!conn || !conn.online) return;
  let reply;
  try {
    reply = await conn.call(COMMUNITY, "get_read_state", {});
  } catch {
    // A server without read state: the page's own counts stay, and marks go ahead. A lost connection: the next
    // connection asks again.
    if (conn.online && !known) {
      known = true;
      changed();
      const current = currentKey();
      if (current) markReadSoon(current);
    }
    return;
  }
  const list = reply && reply.payload && Array.isArray(reply.payload.channels) ? reply.payload.channels : [];
  model.ctx.bus.emit("read-state", list);
  const unread = new Map();
  const nodes = model.ctx.store.get("nodes");
  for (const entry of list) {
    if (!entry || typeof entry.path !== "string" || typeof entry.name !== "string") continue;
    const key = keyOf(entry.path, entry.name);
    if (!isText(nodes.get(key))) continue;
    if (Number.isInteger(entry.last_read)) marked.set(key, Math.max(marked.get(key) || 0, entry.last_read));
    if (Number.isInteger(entry.unread) && entry.unread > 0) unread.set(key, entry.unread);
  }
  const current = currentKey();
  // The shown channel was opened before the server said where its reader stopped (a reload): that is where.
  const open = current ? opened.get(current) : null;
  const entry = current ? list.find((e) => e && typeof e.path === "string" && typeof e.name === "string" && keyOf(e.path, e.name) === current) : null;
  let redraw = !known;
  if (open && open.mark === undefined && entry && Number.isInteger(entry.last_read)) {
    opened.set(current, { mark: entry.last_read, unread: Number.isInteger(entry.unread) ? entry.unread : 0 });
    redraw = true;
  }
  known = true;
  if (redraw) changed(); // The divider, and the reader's place in the channel opened meanwhile (messages.js).
  if (current && !document.hidden) unread.delete(current);
  model.ctx.store.set({ unread });
  if (current) markReadSoon(current);
}

/** The channel `key` is being read: once its newest message is in view, tell the server (throttled). */
export function markReadSoon(key) {
  if (timers.has(key)) return;
  const wait = Math.max(0, (sentAt.get(key) || 0) + MARK_EVERY_MS - Date.now());
  timers.set(
    key,
    setTimeout(() => {
      timers.delete(key);
      markRead(key);
    }, wait),
  );
}

async function markRead(key) {
  const conn = model.ctx.store.get("conn");
  if (!conn || !conn.online || !known || key !== currentKey() || document.hidden) return;
  const cs = channelState(key);
  if (cs.detached || !cs.loadedAny) return; // An older stretch is shown, not the newest messages.
  const box = document.getElementById("messages");
  if (box && box.scrollHeight - box.scrollTop - box.clientHeight > 80) return; // Scrolled up: not read yet.
  const ids = sortedIds(cs);
  const newest = ids.length ? ids[ids.length - 1] : 0;
  if (newest <= (marked.get(key) || 0)) return;
  sentAt.set(key, Date.now());
  try {
    const reply = await conn.call(address(key), "mark_read", { message_id: newest });
    readMarked({ key, payload: reply.payload });
  } catch {
    // Not marked (a lost connection, a message removed meanwhile): the next sync or read tries again.
  }
}

/** `read_marked {message_id, unread}`: this page's own mark, or one made on another device. */
export function readMarked({ key, payload }) {
  if (!payload || !Number.isInteger(payload.message_id)) return;
  marked.set(key, Math.max(marked.get(key) || 0, payload.message_id));
  if (key === currentKey() && !document.hidden) return;
  if (Number.isInteger(payload.unread)) setUnread(key, () => payload.unread);
}

/** The server's read mark in channel key as far as this page knows (undefined before get_read_state answered). */
export const readMark = (key) => marked.get(key);

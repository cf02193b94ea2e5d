// A text channel's history: the newest page when it is first shown, older pages when scrolling up, and after a
// reconnect the pages that close the gap to what was already shown (message ids have no gaps, so a gap is visible).

import { ConnectionLost } from "../../lib/connection.js";
import { $, errorToast } from "../../lib/ui.js";
import { reconcilePending } from "./composer.js";
import { address, changed, channelState, currentKey, isText, mergeMessages, model, setUnread, sortedIds } from "./model.js";

const PAGE_SIZE = 50;
const CATCH_UP_PAGES = 10;

async function fetchPage(key, before, amount = PAGE_SIZE) {
  const payload = { loaded_messages: 0, amount };
  if (before !== undefined) payload.before = before;
  const reply = await model.ctx.store.get("conn").call(address(key), "get_messages", payload);
  return reply.payload && Array.isArray(reply.payload.messages) ? reply.payload.messages : [];
}

/** Loads the newest page of a channel, or (older) the page before the oldest message shown. */
async function loadPage(key, older) {
  const cs = channelState(key);
  const conn = model.ctx.store.get("conn");
  if (cs.loading || !conn || !conn.online || (older && cs.reachedStart)) return;
  const ids = sortedIds(cs);
  const before = older && ids.length ? ids[0] : undefined;
  cs.loading = true;
  if (key === currentKey()) changed({ keepTop: Boolean(before) });
  try {
    const page = await fetchPage(key, before);
    mergeMessages(key, page);
    cs.loadedAny = true;
    if (page.length < PAGE_SIZE || page.some((m) => m.message_id <= 1)) cs.reachedStart = true;
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, before ? "loading older messages" : "loading messages");
  } finally {
    cs.loading = false;
  }
  if (key === currentKey()) {
    changed(before ? { keepTop: true } : { scrollToEnd: true });
    fillViewport(key);
  }
}

/** The most older pages of 100 that a jump to a reply's original loads (10,000 messages back). */
const JUMP_PAGES = 100;

/**
 * Loads older pages (of 100) until message id is loaded, keeping the loaded messages one run without gaps; false
 * (with a toast) when it is further back than JUMP_PAGES pages, gone, or the loading failed.
 */
export async function loadUntil(key, id) {
  const cs = channelState(key);
  const conn = model.ctx.store.get("conn");
  if (!conn || !conn.online || cs.loading) return false;
  cs.loading = true;
  try {
    for (let pages = 0; !cs.messages.has(id) && !cs.reachedStart && pages < JUMP_PAGES; pages++) {
      const ids = sortedIds(cs);
      const page = await fetchPage(key, ids.length ? ids[0] : undefined, 100);
      mergeMessages(key, page);
      cs.loadedAny = true;
      if (page.length < 100 || page.some((m) => m.message_id <= 1)) cs.reachedStart = true;
    }
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading the original message");
    return false;
  } finally {
    cs.loading = false;
  }
  if (!cs.messages.has(id)) {
    errorToast({ message: "The original message is too far back to show here." }, "showing the original message");
    return false;
  }
  return true;
}

/** How far back (in messages before the oldest loaded) a jump loads every page; further, it loads the stretch around. */
const NEAR_JUMP = 1000;

/**
 * Loads what showing message id needs: when it is at most NEAR_JUMP messages older than the oldest loaded, the pages
 * down to it; further back (a search result in a long channel), only the page around it, which replaces what was
 * loaded: the channel is then "detached" from the present, and scrolling down loads newer pages (loadNewer) until it
 * reaches it. False when it could not be loaded or does not exist.
 */
export async function loadToShow(key, id) {
  const cs = channelState(key);
  // A page in flight (the newest page of a channel just selected) first: at most 5 s.
  for (let i = 0; cs.loading && i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (cs.messages.has(id)) return true;
  const ids = sortedIds(cs);
  if (cs.loading || (ids.length && id >= ids[0] - NEAR_JUMP)) return loadUntil(key, id);
  const conn = model.ctx.store.get("conn");
  if (!conn || !conn.online) return false;
  const half = PAGE_SIZE / 2;
  cs.loading = true;
  try {
    const page = await fetchPage(key, id + half + 1, PAGE_SIZE);
    cs.messages.clear();
    cs.nodes.clear();
    mergeMessages(key, page);
    cs.loadedAny = true;
    cs.reachedStart = page.some((m) => m.message_id <= 1);
    // Messages newer than the page may exist when the page is full up to where it was asked to end.
    cs.detached = page.some((m) => m.message_id === id + half);
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading the message");
    return false;
  } finally {
    cs.loading = false;
  }
  return cs.messages.has(id);
}

/** In a detached channel (loadToShow), the next page after the stretch shown; attached again on reaching the newest. */
export async function loadNewer(key) {
  const cs = channelState(key);
  const conn = model.ctx.store.get("conn");
  if (!cs.detached || cs.loading || !conn || !conn.online) return;
  const ids = sortedIds(cs);
  // The end of the run that starts at the oldest loaded message (live messages may sit beyond a gap).
  let top = ids.length ? ids[0] : 0;
  for (const i of ids) {
    if (i > top + 1) break;
    top = i;
  }
  cs.loading = true;
  try {
    const page = await fetchPage(key, top + 101, 100);
    mergeMessages(key, page);
    if (page.length < 100) cs.detached = false;
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading newer messages");
  } finally {
    cs.loading = false;
  }
  if (key === currentKey()) changed();
}

export const loadNewest = (key) => loadPage(key, false);
export const loadOlder = (key) => loadPage(key, true);

/** Loads older pages until the list can scroll (so scrolling up can ask for more). */
function fillViewport(key) {
  const box = $("messages");
  const cs = channelState(key);
  if (key === currentKey() && !cs.reachedStart && box.scrollHeight <= box.clientHeight + 40) loadOlder(key);
}

/**
 * After a reconnect: the newest page of every loaded channel, merged by message_id, and older pages until the
 * gap to what was already shown is closed.
 */
export async function catchUpAll() {
  const { store } = model.ctx;
  for (const [key, cs] of model.channels) {
    if (!cs.loadedAny || !store.get("nodes").has(key)) continue;
    try {
      const known = sortedIds(cs);
      const knownMax = known.length ? known[known.length - 1] : 0;
      let page = await fetchPage(key);
      mergeMessages(key, page);
      let pages = 1;
      while (page.length === PAGE_SIZE && known.length && Math.min(...page.map((m) => m.message_id)) > knownMax + 1 && pages < CATCH_UP_PAGES) {
        page = await fetchPage(key, Math.min(...page.map((m) => m.message_id)));
        mergeMessages(key, page);
        pages++;
      }
      const ids = sortedIds(cs);
      // Still a hole after CATCH_UP_PAGES pages: keep only the newest contiguous run.
      for (let i = ids.length - 1; i > 0; i--) {
        if (ids[i - 1] !== ids[i] - 1) {
          for (const old of ids.slice(0, i)) cs.messages.delete(old);
          cs.reachedStart = false;
          break;
        }
      }
      if (key !== currentKey()) {
        const me = store.get("me").user_id;
        const added = sortedIds(cs).filter((id) => id > knownMax && cs.messages.get(id).sender_id !== me).length;
        if (added) setUnread(key, (n) => n + added);
      }
    } catch (e) {
      if (e instanceof ConnectionLost) return;
      errorToast(e, "catching up");
    }
    reconcilePending(key);
  }
  changed();
}

/** The most pages of 100 that refreshLoaded reads again in the shown channel (newest first). */
const REFRESH_PAGES = 10;

/**
 * After a member was removed (their reactions dropped, PROTOCOL.md member_removed): the shown channel's loaded
 * messages are read again in place (pages of 100 from the newest loaded down, at most REFRESH_PAGES; older ones
 * loaded beyond that are dropped and load again on scrolling up), and the other loaded channels when next shown.
 */
export async function refreshLoaded() {
  const key = currentKey();
  for (const [other, cs] of model.channels) {
    if (other === key || !cs.loadedAny) continue;
    cs.messages.clear();
    cs.nodes.clear();
    cs.loadedAny = false;
    cs.reachedStart = false;
    cs.detached = false;
  }
  const conn = model.ctx.store.get("conn");
  if (!key || !isText(model.ctx.store.get("nodes").get(key)) || !conn || !conn.online) return;
  const cs = channelState(key);
  const ids = sortedIds(cs);
  if (!ids.length) return;
  let before = ids[ids.length - 1] + 1;
  let pages = 0;
  try {
    while (before > ids[0] && pages < REFRESH_PAGES) {
      const page = await fetchPage(key, before, 100);
      mergeMessages(key, page);
      pages++;
      if (page.length < 100) break;
      before = Math.min(...page.map((m) => m.message_id));
    }
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "reading the messages again");
    return;
  }
  // What lies beyond the pages read again is dropped (it would keep the removed member's reactions).
  if (before > ids[0] && pages === REFRESH_PAGES) {
    for (const id of ids) if (id < before) cs.messages.delete(id);
    cs.reachedStart = false;
  }
  if (key === currentKey()) changed();
}

/** After a removal with vengeance: every loaded channel is read again (messages were masked). */
export function reloadLoadedChannels() {
  for (const cs of model.channels.values()) {
    cs.messages.clear();
    cs.nodes.clear();
    cs.loadedAny = false;
    cs.reachedStart = false;
  }
  const key = currentKey();
  if (key && isText(model.ctx.store.get("nodes").get(key))) loadNewest(key);
}

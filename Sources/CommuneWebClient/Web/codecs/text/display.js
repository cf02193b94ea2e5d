// Reading aids in the shown channel's message list (messages.js places them): day separators in local time, the
// "New messages" divider above the first message that was unread when the channel was shown (readstate.js keeps
// that mark), and the "Jump to present" bar while the reader is scrolled up past newly arrived messages or an older
// stretch (a search result, history.js `detached`) is shown.

import { $, h } from "../../lib/ui.js";
import { loadNewest, loadToShow } from "./history.js";
import { changed, channelState, currentKey, model, sortedIds } from "./model.js";
import { markWhenOpened, readStateKnown } from "./readstate.js";

const AT_BOTTOM_PX = 80;

/** Midnight (local time) of the day holding the time ms. */
function dayStart(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** What a day separator says for the time ms: "Today", "Yesterday" (calendar days, local time), else the date. */
export function dayLabel(ms, now = Date.now()) {
  const day = dayStart(ms);
  const today = dayStart(now);
  if (day === today) return "Today";
  const yesterday = new Date(today);
  yesterday.setDate(yesterday.getDate() - 1);
  if (day === yesterday.getTime()) return "Yesterday";
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric", year: sameYear ? undefined : "numeric" });
}

/** Whether the times a and b fall on different local days (a missing time starts nothing). */
export const newDay = (a, b) => Number.isFinite(a) && Number.isFinite(b) && dayStart(a) !== dayStart(b);

function separator(className, label) {
  return h("li", { className, attrs: { role: "separator", "aria-label": label } }, h("span", { className: "separator-label", textContent: label }));
}

/** A day separator for the day of the time ms. */
export const daySeparator = (ms) => separator("day-separator", dayLabel(ms));

/** The "New messages" divider. */
export const unreadDivider = () => separator("unread-divider", "New messages");

/**
 * The id of the message the "New messages" divider goes above in channel key: the first one after the read mark the
 * channel had when it was shown that another member wrote; null when nothing was unread then.
 */
export function firstUnreadId(key, cs) {
  const mark = markWhenOpened(key);
  if (mark === null) return null;
  const me = model.ctx.store.get("me");
  for (const id of sortedIds(cs)) {
    const m = cs.messages.get(id);
    if (id > mark && m.sender_id && !(me && m.sender_id === me.user_id)) return id;
  }
  return null;
}

/** How far below the top of the list the "New messages" divider is placed when a channel opens, in pixels. */
const DIVIDER_MARGIN_PX = 24;

/**
 * When channel key was just shown (cs.place, set on opening it): puts the reader at the "New messages" divider (the
 * first unread message near the top of the view), or at the newest message when nothing was unread or the channel was
 * never read. Waits for what that needs, whatever arrives first: the newest page, and the server's read state (its
 * mark, not one this page sent: nothing is marked read before). When the first unread message is older than the
 * loaded page, its stretch is loaded first. True when it set the list's scroll position (now or as nothing can be decided yet: not at all).
 */
export function placeReader(key, cs, box, list) {
  if (!cs.place) return false;
  if (!readStateKnown() || !cs.loadedAny || cs.loading) return false;
  // A member who never read the channel (mark 0: new, or it was empty) starts at the newest, as with nothing unread.
  const mark = markWhenOpened(key) || null;
  const ids = sortedIds(cs);
  if (mark !== null && ids.length && ids[0] > mark + 1 && !cs.reachedStart) {
    // The first unread message is not loaded: its stretch of history first, then the place.
    if (!cs.placeLoading) {
      cs.placeLoading = true;
      loadToShow(key, mark + 1).finally(() => {
        cs.placeLoading = false;
        if (key === currentKey()) changed();
      });
    }
    return false;
  }
  cs.place = false;
  const divider = mark === null ? null : list.querySelector(".unread-divider");
  if (!divider) {
    box.scrollTop = box.scrollHeight;
    return true;
  }
  box.scrollTop += divider.getBoundingClientRect().top - box.getBoundingClientRect().top - DIVIDER_MARGIN_PX;
  return true;
}

let bar = null;

const scrolledUp = (box) => box.scrollHeight - box.scrollTop - box.clientHeight >= AT_BOTTOM_PX;

function jumpBar() {
  if (bar) return bar;
  const box = $("messages");
  bar = h(
    "div",
    { className: "jump-bar", hidden: true, attrs: { role: "status" } },
    h("span", { className: "jump-text" }),
    h("button", { className: "jump-button", type: "button", textContent: "Jump to present", on: { click: () => jumpToPresent(currentKey()) } }),
  );
  box.append(bar);
  // Scrolled down to the newest: nothing left to jump to.
  box.addEventListener("scroll", () => {
    const key = currentKey();
    if (!key || scrolledUp(box)) return;
    const cs = channelState(key);
    if (cs.behind && !cs.detached) {
      cs.behind = false;
      bar.hidden = true;
    }
  });
  return bar;
}

/**
 * After the list of channel key was rendered: notes newer messages that arrived while the reader was scrolled up
 * (wasAtBottom: before the render) and shows the bar while there are such, or while an older stretch is shown.
 */
export function updateJumpBar(key, cs, wasAtBottom, newest) {
  const node = jumpBar();
  if (cs.shownNewest !== undefined && newest > cs.shownNewest && !wasAtBottom) cs.behind = true;
  if (!scrolledUp($("messages")) && !cs.detached) cs.behind = false;
  cs.shownNewest = newest;
  node.hidden = !(cs.behind || cs.detached);
  node.querySelector(".jump-text").textContent = cs.detached ? "You are viewing older messages" : "New messages below";
}

/** Scrolls channel key to its newest message; an older stretch shown is replaced by the newest page first. */
export async function jumpToPresent(key) {
  if (!key) return;
  const cs = channelState(key);
  cs.behind = false;
  if (cs.detached) {
    cs.messages.clear();
    cs.nodes.clear();
    cs.detached = false;
    cs.reachedStart = false;
    await loadNewest(key);
  }
  if (key === currentKey()) changed({ scrollToEnd: true });
}

// The other communities on the rail: a connection each (logged in with the same identity), for an honest state and
// the unread and mention counts (get_read_state, kept current from their updates). The member's own messages never
// count: sending one moves the member's read mark to it on the server (PROTOCOL, mark_read: sending marks read).
//
// A community open in a frame (switching.js) has one connection, the frame's: the rail closes its own while the frame
// is there, and the frame tells this page its counts and state (postMessage, this origin only: reportToParent below);
// when the frame goes, the rail connects again.

import { Connection, sentence } from "../../lib/connection.js";
import { COMMUNITY } from "../../lib/context.js";
import { isFolderLabel } from "../../lib/home.js";
import * as storage from "../../lib/storage.js";
import { errorText } from "../../lib/ui.js";
import { home, redraw, socketUrlOf } from "./shared.js";

/** Opens a connection to each community of the home that is not this page's, and closes those no longer listed. */
export function syncOthers() {
  const { ctx, others } = home;
  const wanted = new Set(ctx.store.get("home").entries.filter((e) => !isFolderLabel(e) && e.address !== ctx.baseUrl).map((e) => e.address));
  for (const [address, other] of others) {
    if (!wanted.has(address)) {
      other.conn.stop();
      clearTimeout(other.timer);
      others.delete(address);
    }
  }
  for (const address of wanted) {
    if (others.has(address)) continue;
    // The community in the frame already has its connection there (the list can come after the frame, on a reload).
    if (address === home.shown) others.set(address, framedOther());
    else connectOther(address);
  }
  redraw();
}

/** A community of the rail that the frame's connection serves: no connection of the rail's own. */
function framedOther() {
  const none = { online: false, stop() {} };
  return { conn: none, reach: { state: "connecting", error: "" }, unread: 0, mentions: 0, timer: null, framed: true, userId: null };
}

/** A frame shows this community now: the rail's connection to it closes; the frame reports its counts. */
export function handOverToFrame(address) {
  const other = home.others.get(address);
  if (other && other.framed) return;
  if (other) {
    other.conn.stop();
    clearTimeout(other.timer);
  }
  home.others.set(address, framedOther());
  redraw();
}

/** The frame of this community went: the rail connects to it again (when the home still lists it). */
export function takeBackFromFrame(address) {
  const other = home.others.get(address);
  if (!other || !other.framed) return;
  home.others.delete(address);
  syncOthers();
}

const MAX_REASON = 300;

/** The counts and state a community's frame reports (features/home.js reportToParent), from a frame of this page only. */
export function installFrameReports() {
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || !event.data || event.data.type !== "commune-frame-counts") return;
    const frame = Array.from(document.querySelectorAll("#community-frames iframe")).find((f) => f.contentWindow === event.source);
    const other = frame ? home.others.get(frame.dataset.address) : null;
    if (!other || !other.framed) return;
    const { unread, mentions, state, reason } = event.data;
    other.unread = Number.isSafeInteger(unread) && unread >= 0 ? unread : 0;
    other.mentions = Number.isSafeInteger(mentions) && mentions >= 0 ? mentions : 0;
    const why = typeof reason === "string" ? reason.slice(0, MAX_REASON) : "";
    other.reach = state === "online" ? { state: "online", error: "" } : state === "reconnecting" ? { state: "unreachable", error: `${sentence(why)}. Retrying…` } : { state: "connecting", error: "" };
    redraw();
  });
}

function connectOther(address) {
  const { ctx, others } = home;
  const identity = ctx.store.get("identity");
  const entry = ctx.store.get("home").entries.find((e) => e.address === address);
  const pinned = (entry && entry.secret && entry.secret.community_key) || (storage.loadCommunity(address) || {}).community_key || null;
  let url;
  try {
    url = socketUrlOf(address);
  } catch {
    others.set(address, { conn: { stop() {} }, reach: { state: "failed", error: "This is not a community's address." }, unread: 0, mentions: 0 });
    return;
  }
  const conn = new Connection({ url, identity, communityKey: pinned });
  const other = { conn, reach: { state: "connecting", error: "" }, unread: 0, mentions: 0, timer: null, framed: false, userId: identity.user_id };
  others.set(address, other);
  const setReach = (reach) => {
    other.reach = reach;
    redraw();
  };
  conn.addEventListener("state", (e) => {
    const { state, reason } = e.detail;
    if (state === "online") setReach({ state: "online", error: "" });
    else if (state === "reconnecting") setReach({ state: "unreachable", error: `${sentence(reason)}. Retrying…` });
  });
  conn.addEventListener("fatal", (e) => {
    const error = e.detail;
    const why =
      error && error.code === "unknown_user"
        ? "This community does not know your identity: join it again with an invite."
        : error && (error.code === "removed" || error.code === "banned")
          ? errorText(error)
          : `This community refused your identity: ${errorText(error)}`;
    setReach({ state: "failed", error: why });
  });
  conn.addEventListener("login", (e) => {
    if (e.detail && typeof e.detail.user_id === "string") other.userId = e.detail.user_id;
    storage.updateCommunity(address, { community_key: conn.communityKey, registered: true, user_id: identity.user_id });
    refreshCounts(address);
  });
  conn.addEventListener("update", (e) => {
    const result = e.detail && e.detail.result;
    if (result === "message_live" || result === "read_marked" || result === "message_removed") {
      clearTimeout(other.timer);
      other.timer = setTimeout(() => refreshCounts(address), 300);
    }
  });
  conn.start();
}

async function refreshCounts(address) {
  const other = home.others.get(address);
  if (!other || other.framed || !other.conn.online) return;
  try {
    const reply = await other.conn.call(COMMUNITY, "get_read_state", {});
    const channels = reply.payload && Array.isArray(reply.payload.channels) ? reply.payload.channels : [];
    other.unread = channels.reduce((n, c) => n + (Number.isSafeInteger(c.unread) && c.unread > 0 ? c.unread : 0), 0);
    other.mentions = channels.reduce((n, c) => n + (Number.isSafeInteger(c.mentions) ? c.mentions : 0), 0);
    redraw();
  } catch {
    /* the state shows the connection's trouble */
  }
}

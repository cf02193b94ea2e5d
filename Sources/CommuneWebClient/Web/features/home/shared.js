// What the parts of the home feature (features/home.js and features/home/) share: the context, the connection to the
// home and the list read from it (store key "home"), and the badge connections to the other communities. Only
// features/home.js and its parts import this file.

import { Connection, sentence, ServerError } from "../../lib/connection.js";
import { COMMUNITY } from "../../lib/context.js";
import { homeKey, openEntries, openEntry, unreadableOf, unreadableText, UnreadableEntry } from "../../lib/home.js";
import { webSocketUrl } from "../../lib/protocol.js";
import * as storage from "../../lib/storage.js";
import { errorText, toast } from "../../lib/ui.js";

/** This page is another page's frame for one community (see features/home/switching.js): no rail, no home of its own. */
export const EMBEDDED = new URLSearchParams(location.search).get("embedded") === "1";

export const home = {
  ctx: null,
  shown: null, // the base URL of the community shown: this page's own (ctx.baseUrl) or one in a frame
  homeConn: null, // the Connection to the home when it is another community (else the page's own)
  others: new Map(), // base URL → {conn, reach: {state, error}, unread, mentions, timer}
};

let redrawRail = () => {};

/** The rail's renderer (features/home/rail.js) registers itself here; the other parts call redraw(). */
export function onRedraw(fn) {
  redrawRail = fn;
}

export function redraw() {
  redrawRail();
}

/** A community's WebSocket URL from its base URL. */
export const socketUrlOf = (baseUrl) => webSocketUrl(new URL(baseUrl));

export const homeHere = () => home.ctx.store.get("identity") && home.ctx.store.get("identity").home === home.ctx.baseUrl;

/** The connection to the home, or null when there is none or it is not online. */
export function homeConnection() {
  const conn = homeHere() ? home.ctx.store.get("conn") : home.homeConn;
  return conn && conn.online ? conn : null;
}

export function setHome(patch) {
  home.ctx.store.update("home", (state) => ({ ...state, ...patch }));
}

/** Runs a home function on the home's connection (the error connection_lost when it is not online). */
export async function callHome(fn, payload) {
  const conn = homeConnection();
  if (!conn) throw new ServerError({ code: "connection_lost", message: "Your home is not connected: wait for it and try again." });
  return conn.call(COMMUNITY, fn, payload);
}

// -------------------------------------------------------------------------------------------------------------
// Reading the home

export async function loadHome() {
  const { ctx } = home;
  const identity = ctx.store.get("identity");
  try {
    const reply = await callHome("get_communities", {});
    const list = reply.payload && Array.isArray(reply.payload.communities) ? reply.payload.communities : [];
    const { entries, unreadable } = await openEntries(await homeKey(identity), list);
    const before = ctx.store.get("home").unreadable.length;
    setHome({ state: "ready", entries, unreadable, error: "" });
    if (unreadable.length && unreadable.length !== before) {
      toast({ kind: "error", title: "Your home was changed", message: unreadableText(unreadable.length), timeout: 0 });
    }
  } catch (e) {
    setHome({ state: "error", error: homeErrorText(e) });
  }
}

function homeErrorText(e) {
  const address = home.ctx.store.get("identity").home;
  if (e && e.code === "unknown_function") return `${address} keeps no homes: ${errorText(e)}`;
  return `Your home at ${address} could not be read: ${errorText(e)}`;
}

/** Applies an entry pushed by the home (another device's change) or returned by our own. */
export async function applyEntry(wire) {
  const { ctx } = home;
  let entry;
  try {
    entry = await openEntry(await homeKey(ctx.store.get("identity")), wire);
  } catch (e) {
    if (!(e instanceof UnreadableEntry)) throw e;
    const state = ctx.store.get("home");
    const unreadable = [...state.unreadable.filter((x) => x.id !== e.id), unreadableOf(e, wire)];
    setHome({ entries: state.entries.filter((x) => x.id !== e.id), unreadable });
    toast({ kind: "error", title: "Your home was changed", message: unreadableText(unreadable.length), timeout: 0 });
    return;
  }
  const state = ctx.store.get("home");
  setHome({
    entries: [...state.entries.filter((x) => x.id !== entry.id), entry],
    unreadable: state.unreadable.filter((x) => x.id !== entry.id),
  });
}

export function dropEntry(id) {
  const state = home.ctx.store.get("home");
  setHome({ entries: state.entries.filter((x) => x.id !== id), unreadable: state.unreadable.filter((x) => x.id !== id) });
}

export const homeUpdates = {
  community_added: ({ payload }) => payload.community && applyEntry(payload.community),
  community_updated: ({ payload }) => payload.community && applyEntry(payload.community),
  community_removed: ({ payload }) => typeof payload.id === "string" && dropEntry(payload.id),
};

/** Connects to the home (when it is another community) and reads it; the page's own connection serves a home here. */
export function startHome() {
  const { ctx } = home;
  const identity = ctx.store.get("identity");
  if (home.homeConn) home.homeConn.stop();
  home.homeConn = null;
  if (!identity || !identity.home) {
    setHome({ state: "none", entries: [], unreadable: [], error: "" });
    return;
  }
  setHome({ state: "loading", error: "" });
  if (homeHere()) {
    loadHome();
    return;
  }
  const address = identity.home;
  const pinned = (storage.loadCommunity(address) || {}).community_key || null;
  const conn = new Connection({ url: socketUrlOf(address), identity, communityKey: pinned });
  home.homeConn = conn;
  conn.addEventListener("login", () => {
    storage.updateCommunity(address, { community_key: conn.communityKey, registered: true, user_id: identity.user_id });
    loadHome();
  });
  conn.addEventListener("state", (e) => {
    if (e.detail.state === "reconnecting" && ctx.store.get("home").state !== "ready") {
      setHome({ state: "error", error: `Your home at ${address} is not connected. ${sentence(e.detail.reason)}. Retrying…` });
    }
  });
  conn.addEventListener("fatal", (e) => setHome({ state: "error", error: `Your home at ${address} refused this identity: ${errorText(e.detail)}` }));
  conn.addEventListener("update", (e) => {
    const data = e.detail;
    const handler = data.codec === COMMUNITY.codec ? homeUpdates[data.result] : null;
    if (handler) handler({ payload: data.payload && typeof data.payload === "object" ? data.payload : {} });
  });
  conn.start();
}

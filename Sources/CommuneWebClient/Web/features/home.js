// The member's communities (docs/PROTOCOL.md "Home"): the rail above the channels, read from the home the identity
// names (`identity.home`), opened in this page with the identity's key (lib/home.js), in folders from the entries'
// positions. The community serving this page is always on the rail. Every other community on it gets a connection
// of its own, logged in with the same identity: the rail says plainly when one cannot be reached or does not know
// this identity, and shows its unread and mention counts (get_read_state, kept current from its updates).
//
// "Join a community" registers this identity with another community's invite link and adds it to the home; "Use as
// my home" makes the community serving this page the home when the identity has none. Removing a community from the
// rail removes the home's entry only: the membership stays. Dragging a community on the rail moves it
// (update_community position, planned by lib/home.js planMove); another device sees the move live.

import { Connection, ServerError } from "../lib/connection.js";
import { COMMUNITY } from "../lib/context.js";
import { openDialog } from "../lib/dialogs.js";
import { buildRail, homeKey, isFolderLabel, nextTopLevelPosition, openEntries, openEntry, planMove, sealEntry, unreadableOf, unreadableText, UnreadableEntry } from "../lib/home.js";
import { codePointLength, homeUrl, parseInvite, webSocketUrl } from "../lib/protocol.js";
import * as storage from "../lib/storage.js";
import { $, errorText, h, show, toast } from "../lib/ui.js";

/** This page is another page's frame for one community (see "Switching"): no rail, no home of its own. */
const EMBEDDED = new URLSearchParams(location.search).get("embedded") === "1";

let ctx = null;
let shown = null; // the base URL of the community shown: this page's own (ctx.baseUrl) or one in a frame
let homeConn = null; // the Connection to the home when it is another community (else the page's own)
const others = new Map(); // base URL → {conn, reach: {state, error}, unread, mentions, timer}

/** A community's WebSocket URL from its base URL. */
const socketUrlOf = (baseUrl) => webSocketUrl(new URL(baseUrl));

const homeHere = () => ctx.store.get("identity") && ctx.store.get("identity").home === ctx.baseUrl;

/** The connection to the home, or null when there is none or it is not online. */
function homeConnection() {
  const conn = homeHere() ? ctx.store.get("conn") : homeConn;
  return conn && conn.online ? conn : null;
}

function setHome(patch) {
  ctx.store.update("home", (home) => ({ ...home, ...patch }));
}

/** Runs a home function; errors become a toast and are thrown on. */
async function callHome(fn, payload) {
  const conn = homeConnection();
  if (!conn) {
    const e = new ServerError({ code: "connection_lost", message: "Your home is not connected: wait for it and try again." });
    throw e;
  }
  return conn.call(COMMUNITY, fn, payload);
}

// -------------------------------------------------------------------------------------------------------------
// Reading the home

async function loadHome() {
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
  const home = ctx.store.get("identity").home;
  if (e && e.code === "unknown_function") return `${home} keeps no homes: ${errorText(e)}`;
  return `Your home at ${home} could not be read: ${errorText(e)}`;
}

/** Applies an entry pushed by the home (another device's change) or returned by our own. */
async function applyEntry(wire) {
  let entry;
  try {
    entry = await openEntry(await homeKey(ctx.store.get("identity")), wire);
  } catch (e) {
    if (!(e instanceof UnreadableEntry)) throw e;
    const home = ctx.store.get("home");
    const unreadable = [...home.unreadable.filter((x) => x.id !== e.id), unreadableOf(e, wire)];
    setHome({ entries: home.entries.filter((x) => x.id !== e.id), unreadable });
    toast({ kind: "error", title: "Your home was changed", message: unreadableText(unreadable.length), timeout: 0 });
    return;
  }
  const home = ctx.store.get("home");
  setHome({
    entries: [...home.entries.filter((x) => x.id !== entry.id), entry],
    unreadable: home.unreadable.filter((x) => x.id !== entry.id),
  });
}

function dropEntry(id) {
  const home = ctx.store.get("home");
  setHome({ entries: home.entries.filter((x) => x.id !== id), unreadable: home.unreadable.filter((x) => x.id !== id) });
}

const homeUpdates = {
  community_added: ({ payload }) => payload.community && applyEntry(payload.community),
  community_updated: ({ payload }) => payload.community && applyEntry(payload.community),
  community_removed: ({ payload }) => typeof payload.id === "string" && dropEntry(payload.id),
};

/** Connects to the home (when it is another community) and reads it; the page's own connection serves a home here. */
function startHome() {
  const identity = ctx.store.get("identity");
  if (homeConn) homeConn.stop();
  homeConn = null;
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
  homeConn = conn;
  conn.addEventListener("login", () => {
    storage.updateCommunity(address, { community_key: conn.communityKey, registered: true, user_id: identity.user_id });
    loadHome();
  });
  conn.addEventListener("state", (e) => {
    if (e.detail.state === "reconnecting" && ctx.store.get("home").state !== "ready") {
      setHome({ state: "error", error: `Cannot reach your home at ${address} (${e.detail.reason || "no answer"}). Retrying…` });
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

// -------------------------------------------------------------------------------------------------------------
// The other communities: a connection each, for an honest state and the unread counts

function syncOthers() {
  const wanted = new Set(ctx.store.get("home").entries.filter((e) => !isFolderLabel(e) && e.address !== ctx.baseUrl).map((e) => e.address));
  for (const [address, other] of others) {
    if (!wanted.has(address)) {
      other.conn.stop();
      clearTimeout(other.timer);
      others.delete(address);
    }
  }
  for (const address of wanted) if (!others.has(address)) connectOther(address);
  renderRail();
}

function connectOther(address) {
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
  const other = { conn, reach: { state: "connecting", error: "" }, unread: 0, mentions: 0, timer: null };
  others.set(address, other);
  const setReach = (reach) => {
    other.reach = reach;
    renderRail();
  };
  conn.addEventListener("state", (e) => {
    const { state, reason } = e.detail;
    if (state === "online") setReach({ state: "online", error: "" });
    else if (state === "reconnecting") setReach({ state: "unreachable", error: `Cannot reach ${address} (${reason || "no answer"}). Retrying…` });
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
  conn.addEventListener("login", () => {
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
  const other = others.get(address);
  if (!other || !other.conn.online) return;
  try {
    const reply = await other.conn.call(COMMUNITY, "get_read_state", {});
    const channels = reply.payload && Array.isArray(reply.payload.channels) ? reply.payload.channels : [];
    other.unread = channels.reduce((n, c) => n + (Number.isSafeInteger(c.unread) ? c.unread : 0), 0);
    other.mentions = channels.reduce((n, c) => n + (Number.isSafeInteger(c.mentions) ? c.mentions : 0), 0);
    renderRail();
  } catch {
    /* the state shows the connection's trouble */
  }
}

// -------------------------------------------------------------------------------------------------------------
// The rail

function initials(title) {
  const words = String(title || "?").trim().split(/\s+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0]);
  return (letters.join("") || "?").toUpperCase();
}

function communityItem(entry) {
  const here = entry.address === ctx.baseUrl;
  const current = entry.address === shown;
  const other = others.get(entry.address);
  const reach = here ? { state: "online", error: "" } : other ? other.reach : { state: "connecting", error: "" };
  const unread = other ? other.unread : 0;
  const mentions = other ? other.mentions : 0;
  const title = entry.title || entry.address;
  return h(
    "li",
    {
      className: `rail-community${current ? " current" : ""}`,
      draggable: Boolean(entry.id),
      tabIndex: 0,
      attrs: { role: "button", "aria-current": current ? "page" : "false" },
      on: {
        click: () => showCommunity(entry.address, true),
        keydown: (e) => {
          if (e.key === "Enter" && e.target === e.currentTarget) showCommunity(entry.address, true);
        },
      },
      dataset: { address: entry.address, entryId: entry.id || "", state: reach.state, position: entry.position || "" },
    },
    h(
      "span",
      { className: "rail-icon", attrs: { "aria-hidden": "true" } },
      initials(title),
      mentions ? h("span", { className: "rail-badge mention", textContent: `@${mentions}`, title: `${mentions} unread mentions` }) : null,
      !mentions && unread ? h("span", { className: "rail-badge", textContent: unread > 99 ? "99+" : String(unread), title: `${unread} unread messages` }) : null,
    ),
    h(
      "span",
      { className: "rail-text" },
      h("span", { className: "rail-title", textContent: title, title: entry.address }),
      reach.error ? h("span", { className: "rail-error", textContent: reach.error, attrs: { role: "status" } }) : null,
    ),
    entry.id
      ? h("button", {
          type: "button",
          className: "icon-button rail-remove",
          title: `Remove ${title} from your home (you stay a member)`,
          attrs: { "aria-label": `Remove ${title} from your home` },
          textContent: "✕",
          on: {
            click: (e) => {
              e.stopPropagation();
              removeFromHome(entry);
            },
          },
        })
      : null,
  );
}

function renderRail() {
  const { identity, home, community } = ctx.store.get();
  const rail = $("home-rail");
  if (!rail || !identity) return;
  const list = $("rail-list");
  const items = buildRail(home.entries);
  const hasHere = home.entries.some((e) => e.address === ctx.baseUrl);
  const nodes = [];
  if (!hasHere) nodes.push(communityItem({ id: "", address: ctx.baseUrl, title: community.name, position: "" }));
  for (const item of items) {
    if (item.kind === "community") nodes.push(communityItem(item.entry));
    else {
      nodes.push(
        h(
          "li",
          { className: "rail-folder", dataset: { folder: String(item.folder) } },
          h("span", { className: "rail-folder-title", textContent: item.title, title: "Drop a community here to put it in this folder" }),
          h("ul", { className: "rail-folder-list" }, item.entries.map(communityItem)),
        ),
      );
    }
  }
  list.replaceChildren(...nodes);
  const problem = home.state === "error" ? home.error : unreadableText(home.unreadable.length);
  // Entries nobody can read any more can still go: their ids are known, and they keep positions taken.
  const forget =
    home.state !== "error" && home.unreadable.length
      ? h("button", { className: "link-button rail-forget", type: "button", textContent: "Remove", on: { click: () => removeUnreadable() } })
      : null;
  $("rail-problem").replaceChildren(h("span", { className: "rail-problem-text", textContent: problem }), ...(forget ? [" ", forget] : []));
  show($("rail-problem"), Boolean(problem));
  document.body.dataset.home = home.state;
  show($("rail-use-home"), !identity.home);
  show($("rail-join"), Boolean(identity.home));
}

// -------------------------------------------------------------------------------------------------------------
// Switching: another community is shown without a reload, as this same client in a frame of this origin
// (`/?community=<its base URL>&embedded=1`: lib/storage.js pageCommunity), kept once opened so that switching back is
// instant and its connection stays. The address bar says `?community=<base URL>`, so a reload (or a shared link on
// this browser) opens that community as this page's own.

function pageUrlFor(address) {
  return address === location.origin ? "/" : `/?community=${encodeURIComponent(address)}`;
}

function showCommunity(address, push) {
  if (address === shown) return;
  if (address !== ctx.baseUrl) {
    const known = storage.loadCommunity(address);
    if (!known || !known.registered) {
      toast({ kind: "error", title: "Not signed in there", message: `This browser has not signed in to ${address} yet; it is tried again by itself.`, timeout: 6000 });
      return;
    }
  }
  shown = address;
  const frames = $("community-frames");
  let frame = null;
  for (const f of frames.querySelectorAll("iframe")) {
    const mine = f.dataset.address === address;
    f.hidden = !mine;
    if (mine) frame = f;
  }
  if (address !== ctx.baseUrl && !frame) {
    const src = address === location.origin ? "/?embedded=1" : `/?community=${encodeURIComponent(address)}&embedded=1`;
    frame = h("iframe", { className: "community-frame", src, title: address, dataset: { address } });
    frames.append(frame);
  }
  const framed = address !== ctx.baseUrl;
  show(frames, framed);
  document.body.classList.toggle("framed", framed);
  // At phone width the rail was opened in the channels drawer: the drawer closes (framed, the rail is a strip on top).
  document.body.classList.remove("sidebar-open");
  show($("scrim"), false);
  document.body.dataset.shown = address;
  if (push) history.pushState({ community: address }, "", pageUrlFor(address));
  renderRail();
}

// -------------------------------------------------------------------------------------------------------------
// Drag to reorder: a community dropped on another goes before it (in its folder, if it is in one), dropped on a
// folder's title goes to the end of that folder, dropped below the list goes to the end of the top level.

let dragging = null; // the entry id being dragged

function dropTarget(event) {
  const item = event.target.closest(".rail-community");
  const folder = event.target.closest(".rail-folder");
  if (item && item.dataset.entryId) {
    return { folder: folder ? Number(folder.dataset.folder) : null, beforeId: item.dataset.entryId };
  }
  if (folder) return { folder: Number(folder.dataset.folder), beforeId: null };
  if (item) return null; // the page's community when the home does not list it
  return { folder: null, beforeId: null };
}

async function moveEntry(id, target) {
  const home = ctx.store.get("home");
  // Unreadable entries keep their positions on the server: they take part so that nothing collides with them.
  const all = [...home.entries, ...home.unreadable.filter((u) => u.position).map((u) => ({ id: u.id, position: u.position, address: null, title: "" }))];
  try {
    for (const step of planMove(all, id, target)) {
      const reply = await callHome("update_community", step);
      if (reply.payload && reply.payload.community) await applyEntry(reply.payload.community);
    }
  } catch (e) {
    toast({ kind: "error", title: "Not moved", message: errorText(e), timeout: 6000 });
    loadHome();
  }
}

function installDrag(list) {
  list.addEventListener("dragstart", (e) => {
    const item = e.target.closest(".rail-community");
    if (!item || !item.dataset.entryId) return;
    dragging = item.dataset.entryId;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.dataset.address);
    item.classList.add("dragging");
  });
  list.addEventListener("dragend", (e) => {
    dragging = null;
    const item = e.target.closest(".rail-community");
    if (item) item.classList.remove("dragging");
  });
  list.addEventListener("dragover", (e) => {
    if (dragging && dropTarget(e)) e.preventDefault();
  });
  list.addEventListener("drop", (e) => {
    const id = dragging;
    const target = dropTarget(e);
    dragging = null;
    if (!id || !target || target.beforeId === id) return;
    e.preventDefault();
    moveEntry(id, target);
  });
}

// -------------------------------------------------------------------------------------------------------------
// Changing the home

/** Adds a community to the home (after the last top-level entry); resolves with the opened entry. */
async function addToHome({ address, title, secret }) {
  const { identity, home } = ctx.store.get();
  if (home.entries.some((e) => e.address === address)) return; // already in the home
  const key = await homeKey(identity);
  const payload = await sealEntry(key, { address, title, secret, position: nextTopLevelPosition([...home.entries, ...home.unreadable]) });
  const reply = await callHome("add_community", payload);
  if (reply.payload && reply.payload.community) await applyEntry(reply.payload.community);
}

async function removeFromHome(entry) {
  const ok = await openDialog({
    title: "Remove from your home?",
    lead: [`${entry.title || entry.address} leaves your list of communities. You stay a member there and can add it again.`],
    submitText: "Remove",
    danger: true,
    onSubmit: async () => {
      await callHome("remove_community", { id: entry.id });
      return true;
    },
  });
  if (ok) dropEntry(entry.id);
}

/** Removes the entries of the home that could not be read (changed by someone without the member's key). */
async function removeUnreadable() {
  const ids = ctx.store.get("home").unreadable.map((u) => u.id);
  if (!ids.length) return;
  const ok = await openDialog({
    title: ids.length === 1 ? "Remove the entry that could not be read?" : `Remove the ${ids.length} entries that could not be read?`,
    lead: [
      "Someone without your key changed them, so what they held cannot be known. Removing them frees their places in your home; you stay a member of every community, and can add one again.",
    ],
    submitText: "Remove",
    danger: true,
    onSubmit: async () => {
      for (const id of ids) await callHome("remove_community", { id });
      return true;
    },
  });
  if (ok) for (const id of ids) dropEntry(id);
}

function hereAsEntry() {
  const me = ctx.store.get("me");
  const known = storage.loadCommunity(ctx.baseUrl) || {};
  const secret = { username: (me && me.username) || known.username || "" };
  if (known.community_key) secret.community_key = known.community_key;
  return { address: ctx.baseUrl, title: ctx.store.get("community").name, secret };
}

async function useAsHome() {
  const identity = { ...ctx.store.get("identity"), home: ctx.baseUrl };
  if (!storage.saveIdentity(identity)) {
    toast({ kind: "error", title: "Not saved", message: "This browser refused to store your identity's home.", timeout: 0 });
    return;
  }
  ctx.store.set({ identity });
  startHome();
  try {
    if (ctx.store.get("home").state !== "ready") await loadHome();
    if (ctx.store.get("home").state !== "ready") throw new Error(ctx.store.get("home").error);
    if (!ctx.store.get("home").entries.some((e) => e.address === ctx.baseUrl)) await addToHome(hereAsEntry());
    toast({ kind: "ok", title: "Home chosen", message: "This community now keeps your list of communities. Export your identity again to carry it.", timeout: 6000 });
  } catch (e) {
    const { home: _dropped, ...without } = identity;
    storage.saveIdentity(without);
    ctx.store.set({ identity: without });
    startHome();
    toast({ kind: "error", title: "Not your home", message: errorText(e), timeout: 0 });
  }
}

/** Logs in at another community (registering first when registration is given); resolves with {conn, login}. */
function signIn(origin, registration) {
  const known = storage.loadCommunity(origin) || {};
  const conn = new Connection({ url: socketUrlOf(origin), identity: ctx.store.get("identity"), registration, communityKey: known.community_key || null });
  return new Promise((resolve, reject) => {
    const fail = (error) => {
      clearTimeout(timer);
      conn.stop();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${origin} did not answer.`)), 20000);
    conn.addEventListener("login", (e) => {
      clearTimeout(timer);
      resolve({ conn, login: e.detail });
    });
    conn.addEventListener("fatal", (e) => fail(e.detail));
    conn.addEventListener("state", (e) => {
      if (e.detail.state === "reconnecting" && e.detail.attempt >= 2) fail(new Error(`Cannot reach ${origin} (${e.detail.reason || "no answer"}).`));
    });
    conn.start();
  });
}

/** Registers this identity with another community by its invite link, then adds it to the home. */
async function joinOther(link, username) {
  const code = parseInvite(link);
  let origin = null;
  try {
    origin = homeUrl(new URL(link.trim()).origin);
  } catch {
    /* not a URL */
  }
  if (!code || !origin) throw new Error("Paste the whole invite link, http(s)://host:port/#invite=…");
  if (origin === ctx.baseUrl) throw new Error("That invite is for this community, where you are already a member.");
  // Already a member there (an entry removed from the home earlier): log in; else register with the invite.
  let signed;
  try {
    signed = await signIn(origin, null);
  } catch (e) {
    if (!e || e.code !== "unknown_user") throw e;
    signed = await signIn(origin, { invite: code, username });
  }
  const { conn, login } = signed;
  const identity = ctx.store.get("identity");
  const title = (login.community && typeof login.community.name === "string" && login.community.name) || new URL(origin).host;
  const name = login.username || username;
  storage.updateCommunity(origin, { user_id: identity.user_id, username: name, registered: true, community_name: title, community_key: conn.communityKey });
  conn.stop();
  await addToHome({ address: origin, title, secret: { community_key: conn.communityKey, username: name } });
  toast({ kind: "ok", title: "Joined", message: `You joined ${title}; it is in your home.`, timeout: 5000 });
}

function openJoinDialog() {
  const me = ctx.store.get("me");
  openDialog({
    title: "Join a community",
    lead: "Paste an invite link from another community. You join it with this same identity, and it is added to your home.",
    fields: [
      { name: "link", label: "Invite link", placeholder: "http://host:port/#invite=…" },
      { name: "username", label: "Display name there", value: me ? me.username : "", maxLength: 64 },
    ],
    submitText: "Join",
    onSubmit: async ({ link, username }) => {
      const name = username.trim();
      if (!name || codePointLength(name) > 32) throw new Error("A display name has 1 to 32 characters.");
      await joinOther(link, name);
      return true;
    },
  });
}

export function install(context) {
  ctx = context;
  shown = ctx.baseUrl;
  if (EMBEDDED) {
    document.body.dataset.embedded = "1";
    return;
  }
  document.body.dataset.shown = shown;
  window.addEventListener("popstate", () => showCommunity(storage.pageCommunity(), false));
  ctx.bus.on("signed-in", ({ first }) => {
    if (first) startHome();
    else if (homeHere()) loadHome();
  });
  ctx.store.subscribe(["home"], syncOthers);
  ctx.store.subscribe(["community", "identity"], renderRail);
  installDrag($("rail-list"));
  $("rail-use-home").addEventListener("click", useAsHome);
  $("rail-join").addEventListener("click", openJoinDialog);
}

/** The home's updates when the home is the community serving this page (else they come on the home's connection). */
export const updates = Object.fromEntries(
  Object.entries(homeUpdates).map(([result, handler]) => [result, (update) => !EMBEDDED && homeHere() && handler(update)]),
);

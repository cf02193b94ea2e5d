// Commune's web client, the entry: creates the state store, the event bus and the connection, installs the features
// and the codecs, and routes the server's updates to the codec or feature that declared them.
//
// Features (features/) and codecs (codecs/) never import each other: they share the store (lib/state.js) and the
// bus. Bus events: start, start-session (registration), registered, fatal (error), signed-in ({data, first,
// previous}), online ({first}), channel-selected (key), remap ({removed, moved}), open-member (user id),
// open-node (key), open-topic (key), open-create ({parent, container}), unknown-member (user id), messages-masked,
// reactions-stale (a member's reactions were dropped: the shown messages are read again), open-message ({key, id}:
// show a message in its channel, highlighted).

import { CODECS } from "./codecs/index.js";
import * as attachments from "./features/attachments.js";
import * as channel from "./features/channel.js";
import * as community from "./features/community.js";
import * as home from "./features/home.js";
import * as identity from "./features/identity.js";
import * as layout from "./features/layout.js";
import * as members from "./features/members.js";
import * as search from "./features/search.js";
import * as structure from "./features/structure.js";
import { Connection, ServerError } from "./lib/connection.js";
import { COMMUNITY, createContext } from "./lib/context.js";
import { webSocketUrl } from "./lib/protocol.js";
import { createBus, createStore } from "./lib/state.js";
import * as storage from "./lib/storage.js";
import { keyOf } from "./lib/tree.js";
import { $, errorToast, setFormError, show, showScreen, toast } from "./lib/ui.js";

/** In install order, which is also the order in which they hear the bus (members load before history catches up). */
const FEATURES = [layout, identity, community, home, structure, channel, members, attachments, search];

const store = createStore({
  identity: null, // the stored identity (lib/storage.js)
  conn: null, // the Connection
  connection: { state: "idle" }, // the connection's last state event: {state, retryAt, reason}
  loggedInOnce: false,
  me: null, // {user_id, username, group}
  community: { name: "Commune", description: "", public: false },
  sessionToken: null, // for the HTTP API (attachments) of the current login
  groups: new Map(), // group name → {name, power, permissions}
  members: new Map(), // user_id → {user_id, username, group, online, status, status_text, suppressed}
  tree: [], // the sorted nodes (lib/tree.js)
  nodes: new Map(), // key → node, every interactable
  current: null, // key of the shown channel
  unread: new Map(), // channel key → messages not seen yet
  mentions: new Map(), // channel key → unread messages mentioning me (codecs/text/mentions.js)
  staged: [], // images uploaded for the next message: {localId, file, previewUrl, info, state}
  home: { state: "none", entries: [], unreadable: [], error: "" }, // the member's communities (features/home.js)
});
const bus = createBus();
const ctx = createContext({ store, bus, codecs: CODECS });

// -------------------------------------------------------------------------------------------------------------
// Updates: each codec declares the channel updates it handles, each feature the community updates (and, through
// channelUpdates(codec), channel updates common to several codecs, such as the topic).

const routes = new Map(); // "codec result" → [handler]

function route(codecName, handlers) {
  for (const [result, handler] of Object.entries(handlers || {})) {
    const name = `${codecName} ${result}`;
    routes.set(name, [...(routes.get(name) || []), handler]);
  }
}

for (const feature of FEATURES) route(COMMUNITY.codec, feature.updates);
for (const codec of CODECS) {
  route(codec.name, codec.updates);
  for (const feature of FEATURES) if (feature.channelUpdates) route(codec.name, feature.channelUpdates(codec));
}

function onUpdate(data) {
  const payload = data.payload && typeof data.payload === "object" ? data.payload : {};
  const key = keyOf(data.path || "", data.name || "");
  const update = { result: data.result, key, node: store.get("nodes").get(key) || null, payload };
  for (const handler of routes.get(`${data.codec} ${data.result}`) || []) handler(update);
}

// -------------------------------------------------------------------------------------------------------------
// The session

function startSession(registration) {
  const old = store.get("conn");
  if (old) old.stop();
  showScreen(registration ? "join" : "loading");
  $("loading-text").textContent = "Connecting…";
  const pinned = (storage.loadCommunity(ctx.baseUrl) || {}).community_key || null;
  const conn = new Connection({ url: webSocketUrl(new URL(ctx.baseUrl)), identity: store.get("identity"), registration, communityKey: pinned });
  store.set({ conn });
  conn.addEventListener("state", (e) => store.set({ connection: e.detail }));
  conn.addEventListener("registered", () => bus.emit("registered"));
  conn.addEventListener("login", (e) => onLogin(e.detail));
  conn.addEventListener("update", (e) => onUpdate(e.detail));
  conn.addEventListener("servererror", (e) => errorToast(new ServerError(e.detail)));
  conn.addEventListener("fatal", (e) => bus.emit("fatal", e.detail));
  conn.start();
}

function onLogin(data) {
  const first = !store.get("loggedInOnce");
  const me = { user_id: data.user_id || store.get("identity").user_id, username: data.username || "", group: data.group || "member" };
  const previous = storage.loadCommunity(ctx.baseUrl) || {};
  store.set({ loggedInOnce: true, me, sessionToken: typeof data.session_token === "string" ? data.session_token : null });
  // Each feature and codec takes its part of the login: the community's information, the tree, message numbers.
  bus.emit("signed-in", { data, first, previous });
  storage.updateCommunity(ctx.baseUrl, {
    user_id: me.user_id,
    username: me.username,
    registered: true,
    community_name: store.get("community").name,
    community_key: store.get("conn").communityKey,
  });
  showScreen("main");
  if (first) {
    const remembered = previous.last_channel;
    ctx.select((remembered && store.get("nodes").get(remembered) && remembered) || ctx.landingChannel());
  } else {
    if (!store.get("nodes").has(store.get("current"))) ctx.select(ctx.landingChannel());
    toast({ kind: "ok", title: "Reconnected", message: "", timeout: 2500 });
  }
  // After a resumed reconnect the updates missed meanwhile follow by themselves; otherwise modules read again.
  bus.emit("online", { first, resumed: Boolean(data.resume && data.resume.status === "resumed") });
}

// -------------------------------------------------------------------------------------------------------------
// Start-up

function boot() {
  if (!globalThis.crypto || !crypto.subtle) {
    showScreen("welcome");
    show($("welcome-invite-form"), false);
    setFormError(
      "welcome-error",
      "This page is not a secure context, so the browser offers no cryptography here. Open Commune over https, or " +
        "over http on 127.0.0.1 or localhost.",
    );
    return;
  }
  if (!storage.storageWorks()) {
    toast({ title: "Storage is off", message: "This browser does not let Commune keep your identity. It will be lost when the page closes.", kind: "error", timeout: 0 });
  }
  bus.on("start-session", startSession);
  for (const feature of FEATURES) feature.install(ctx);
  for (const codec of CODECS) if (codec.install) codec.install(ctx);
  bus.emit("start");
}

// A small handle for tests and power users: runs a function through the same paths as the UI (errors become toasts),
// and the codecs' commands (e.g. send).
window.commune = Object.freeze({
  get state() {
    const conn = store.get("conn");
    return conn ? conn.state : "idle";
  },
  /** Where the connection stands in the community's stream of updates, and what the last login's resume did. */
  get stream() {
    const conn = store.get("conn");
    if (!conn || !conn.stream) return null;
    const resume = conn.session && conn.session.resume ? conn.session.resume.status : null;
    return { id: conn.stream.id, position: conn.position, resume };
  },
  /** Drops the connection as a network failure would: it reconnects by itself and resumes. */
  dropConnection() {
    const conn = store.get("conn");
    if (conn && conn.socket) conn.socket.close(4001, "dropped by the client");
  },
  async run(address, fn, payload = {}) {
    try {
      return await store.get("conn").call(address, fn, payload);
    } catch (e) {
      errorToast(e, fn);
      throw e;
    }
  },
  ...Object.assign({}, ...CODECS.map((codec) => codec.commands || {})),
});

boot();

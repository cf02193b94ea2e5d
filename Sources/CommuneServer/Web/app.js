// Commune's web client: screens, the channel tree, chat, members and the identity.

import { Connection, ConnectionLost, ServerError } from "./connection.js";
import { renderMessage } from "./markup.js";
import {
  codePointLength,
  communityEntry,
  generateIdentity,
  identityFileText,
  MAX_MESSAGE_CODE_POINTS,
  parseInvite,
  validateIdentity,
  webSocketUrl,
} from "./protocol.js";
import * as store from "./store.js";
import { $, avatar, downloadText, ERROR_TITLES, fullTime, h, paintAvatar, readFileText, shortTime, show, toast } from "./ui.js";

const PAGE_SIZE = 50;
const GROUP_WINDOW_MS = 7 * 60 * 1000;
const CATCH_UP_PAGES = 10;
const BASE_URL = location.origin;

const state = {
  identity: null,
  conn: null,
  loggedInOnce: false,
  me: null, // {user_id, username}
  communityName: "Commune",
  tree: [], // normalized nodes (see normalizeTree)
  nodes: new Map(), // key → node, every interactable
  members: new Map(), // user_id → {user_id, username, group, online}
  current: null, // key of the shown channel
  channels: new Map(), // key → text channel state (see channelState)
  collapsed: new Set(),
  localSeq: 0,
};

// -------------------------------------------------------------------------------------------------------------
// Screens

function showScreen(name) {
  for (const id of ["loading", "join", "welcome", "main"]) show($(`screen-${id}`), id === name);
  document.body.dataset.screen = name;
}

function setFormError(id, text) {
  const node = $(id);
  node.textContent = text || "";
  show(node, Boolean(text));
}

function errorText(error) {
  if (error instanceof ServerError) return `${error.message}`;
  return error && error.message ? error.message : String(error);
}

function errorToast(error, context) {
  const code = error && error.code ? error.code : "error";
  const title = (ERROR_TITLES[code] || "Error") + (context ? ` — ${context}` : "");
  toast({ title, message: errorText(error), code, kind: "error" });
}

// -------------------------------------------------------------------------------------------------------------
// Start-up

async function boot() {
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
  if (!store.storageWorks()) {
    toast({ title: "Storage is off", message: "This browser does not let Commune keep your identity. It will be lost when the page closes.", kind: "error", timeout: 0 });
  }
  wireStaticUi();
  route();
}

/** Decides which screen applies from the stored identity and the address's #invite=. */
function route() {
  const invite = parseInvite(location.hash);
  state.identity = store.loadIdentity();
  const community = store.loadCommunity(BASE_URL);
  if (state.identity && community && community.registered && community.user_id === state.identity.user_id) {
    if (invite) {
      clearInviteFromAddress();
      toast({ kind: "info", title: "Already a member", message: `You are already a member here as ${community.username || "yourself"}.`, timeout: 6000 });
    }
    startSession(null);
    return;
  }
  if (invite) {
    showJoin(invite);
    return;
  }
  if (state.identity) {
    // An imported identity, or one whose registration never completed: try to log in.
    startSession(null);
    return;
  }
  showWelcome();
}

function clearInviteFromAddress() {
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function showJoin(invite) {
  showScreen("join");
  $("join-host").textContent = location.host;
  $("join-form").dataset.invite = invite;
  const community = store.loadCommunity(BASE_URL);
  if (community && community.username && !$("join-name").value) $("join-name").value = community.username;
  setFormError("join-error", "");
  $("join-submit").disabled = false;
  $("join-name").focus();
}

function showWelcome(message) {
  if (state.conn) state.conn.stop();
  state.conn = null;
  showScreen("welcome");
  setFormError("welcome-error", message || "");
}

async function onJoinSubmit(event) {
  event.preventDefault();
  const username = $("join-name").value.trim();
  if (!username) {
    setFormError("join-error", "Pick a display name first.");
    return;
  }
  if (codePointLength(username) > 32) {
    setFormError("join-error", "A display name has at most 32 characters.");
    return;
  }
  setFormError("join-error", "");
  $("join-submit").disabled = true;
  try {
    if (!state.identity) {
      state.identity = await generateIdentity();
      if (!store.saveIdentity(state.identity)) {
        throw new Error("This browser refused to store the identity, so you could not sign in again. Allow site data and retry.");
      }
    }
  } catch (e) {
    $("join-submit").disabled = false;
    setFormError("join-error", `Could not create your identity: ${errorText(e)}`);
    return;
  }
  store.updateCommunity(BASE_URL, { user_id: state.identity.user_id, username, registered: false });
  startSession({ invite: $("join-form").dataset.invite, username });
}

async function importIdentityFrom(input, errorId) {
  const file = input.files && input.files[0];
  input.value = "";
  if (!file) return;
  let identity;
  let entry;
  try {
    const text = await readFileText(file);
    identity = await validateIdentity(text);
    entry = communityEntry(JSON.parse(text), BASE_URL);
  } catch (e) {
    setFormError(errorId, errorText(e));
    return;
  }
  if (state.identity && state.identity.user_id !== identity.user_id && !confirm("Replace the identity stored in this browser with the imported one?")) {
    return;
  }
  store.saveIdentity(identity);
  const known = { user_id: identity.user_id, registered: true, exported: true };
  if (entry && typeof entry.username === "string") known.username = entry.username;
  if (entry && typeof entry.community_key === "string") known.community_key = entry.community_key;
  store.updateCommunity(BASE_URL, known);
  state.identity = identity;
  setFormError(errorId, "");
  if (state.conn) {
    state.conn.stop();
    state.conn = null;
    location.reload();
    return;
  }
  clearInviteFromAddress();
  startSession(null);
}

// -------------------------------------------------------------------------------------------------------------
// The session

function startSession(registration) {
  if (state.conn) state.conn.stop();
  showScreen(registration ? "join" : "loading");
  $("loading-text").textContent = "Connecting…";
  const pinned = (store.loadCommunity(BASE_URL) || {}).community_key || null;
  const conn = new Connection({ url: webSocketUrl(location), identity: state.identity, registration, communityKey: pinned });
  state.conn = conn;
  conn.addEventListener("state", (e) => onConnectionState(e.detail));
  conn.addEventListener("registered", () => {
    store.updateCommunity(BASE_URL, { registered: true, user_id: state.identity.user_id });
    clearInviteFromAddress();
  });
  conn.addEventListener("login", (e) => onLogin(e.detail));
  conn.addEventListener("update", (e) => onUpdate(e.detail));
  conn.addEventListener("servererror", (e) => errorToast(new ServerError(e.detail)));
  conn.addEventListener("fatal", (e) => onFatal(e.detail));
  conn.start();
}

let bannerTimer = null;

function onConnectionState({ state: s, retryAt, reason }) {
  document.body.dataset.connection = s;
  const status = $("me-status");
  status.textContent = { online: "online", connecting: "connecting…", authenticating: "signing in…", reconnecting: "offline", failed: "signed out", idle: "offline" }[s] || s;
  status.dataset.state = s;
  clearInterval(bannerTimer);
  const banner = $("conn-banner");
  if (s === "online" || !state.loggedInOnce || s === "idle" || s === "failed") {
    show(banner, false);
    if (!state.loggedInOnce && s === "reconnecting") {
      $("loading-text").textContent = `Cannot reach the community (${reason || "no answer"}). Retrying…`;
    }
    return;
  }
  show(banner, true);
  const text = $("conn-text");
  if (s === "reconnecting") {
    const tick = () => {
      const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      text.textContent = `Connection lost — reconnecting${secs > 0 ? ` in ${secs} s` : ""}…`;
    };
    tick();
    bannerTimer = setInterval(tick, 500);
    show($("conn-retry"), true);
  } else {
    text.textContent = "Reconnecting…";
    show($("conn-retry"), false);
  }
}

function onFatal(error) {
  const code = error && error.code;
  if (code === "invite_invalid" || (error instanceof ServerError && error.requestType === "register")) {
    showJoin($("join-form").dataset.invite || parseInvite(location.hash) || "");
    const prefix = code === "invite_invalid" ? "This invite cannot be used: " : "";
    setFormError("join-error", prefix + errorText(error));
    return;
  }
  if (code === "unknown_user") {
    store.updateCommunity(BASE_URL, { registered: false });
    const invite = parseInvite(location.hash);
    if (invite) {
      showJoin(invite);
      return;
    }
    showWelcome(`This community does not know this browser's identity (${errorText(error)}). Ask a member for an invite link to join.`);
    return;
  }
  if (code === "challenge_failed") {
    showWelcome(`The community refused this identity: ${errorText(error)} Import the right identity file, or join again with an invite.`);
    return;
  }
  showWelcome(`Could not sign in: ${errorText(error)}`);
}

async function onLogin(data) {
  const first = !state.loggedInOnce;
  state.loggedInOnce = true;
  state.me = { user_id: data.user_id || state.identity.user_id, username: data.username || "" };
  state.communityName = (data.community && data.community.name) || "Commune";
  const previous = store.loadCommunity(BASE_URL) || {};
  store.updateCommunity(BASE_URL, {
    user_id: state.me.user_id,
    username: state.me.username,
    registered: true,
    community_name: state.communityName,
    community_key: state.conn.communityKey,
  });
  document.title = `${state.communityName} — Commune`;
  $("community-name").textContent = state.communityName;
  $("me-name").textContent = state.me.username;
  paintAvatar($("me-avatar"), state.me.username, state.me.user_id);
  setTree(data.interactables || {});
  showScreen("main");
  show($("identity-banner"), !previous.exported);
  if (first) {
    const remembered = previous.last_channel;
    const target = (remembered && state.nodes.get(remembered) && remembered) || firstTextChannel();
    selectChannel(target);
  } else {
    if (!state.nodes.has(state.current)) selectChannel(firstTextChannel());
    else renderChannelView();
    toast({ kind: "ok", title: "Reconnected", message: "", timeout: 2500 });
  }
  loadMembers();
  if (!first) await catchUpAll();
  flushAllPending();
}

// -------------------------------------------------------------------------------------------------------------
// The tree

function keyOf(path, name) {
  return path ? `${path}/${name}` : name;
}

function normalizeTree(object, path) {
  const nodes = [];
  if (!object || typeof object !== "object") return nodes;
  for (const [name, raw] of Object.entries(object)) {
    if (!raw || typeof raw !== "object") continue;
    const node = {
      name,
      path,
      key: keyOf(path, name),
      codec: typeof raw.codec === "string" ? raw.codec : "unknown",
      position: Number.isFinite(raw.position) ? raw.position : Number.MAX_SAFE_INTEGER,
      children: [],
      activeUsers: new Map(),
    };
    const data = raw.data && typeof raw.data === "object" ? raw.data : {};
    if (node.codec === "category") node.children = normalizeTree(data, node.key);
    if (node.codec === "voice" && data.active_users && typeof data.active_users === "object") {
      for (const [userId, info] of Object.entries(data.active_users)) node.activeUsers.set(userId, info || {});
    }
    nodes.push(node);
  }
  nodes.sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  return nodes;
}

function setTree(interactables) {
  state.tree = normalizeTree(interactables, "");
  state.nodes = new Map();
  const walk = (list) => {
    for (const n of list) {
      state.nodes.set(n.key, n);
      walk(n.children);
    }
  };
  walk(state.tree);
  renderTree();
}

function firstTextChannel() {
  const walk = (list) => {
    for (const n of list) {
      if (n.codec === "text") return n.key;
      const inner = walk(n.children);
      if (inner) return inner;
    }
    return null;
  };
  return walk(state.tree);
}

function memberName(userId) {
  const m = state.members.get(userId);
  if (m && m.username) return m.username;
  if (state.me && userId === state.me.user_id) return state.me.username;
  return `user ${String(userId).slice(0, 8)}`;
}

const VOICE_STATES = { active: "🎙", muted: "🔇", deafened: "🔕", inactive: "💤" };

function renderTree() {
  const nav = $("channel-tree");
  const build = (list, depth) =>
    h(
      "ul",
      { className: depth === 0 ? "tree" : "tree-children" },
      list.map((node) => {
        if (node.codec === "category") {
          const collapsed = state.collapsed.has(node.key);
          return h(
            "li",
            { className: `category${collapsed ? " collapsed" : ""}`, dataset: { key: node.key } },
            h("button", {
              className: "category-toggle",
              type: "button",
              text: `${collapsed ? "▸" : "▾"} ${node.name}`,
              attrs: { "aria-expanded": String(!collapsed) },
              on: {
                click: () => {
                  if (state.collapsed.has(node.key)) state.collapsed.delete(node.key);
                  else state.collapsed.add(node.key);
                  renderTree();
                },
              },
            }),
            collapsed ? null : build(node.children, depth + 1),
          );
        }
        const cs = state.channels.get(node.key);
        const unread = cs ? cs.unread : 0;
        const icon = node.codec === "text" ? "#" : node.codec === "voice" ? "🔊" : "?";
        const known = node.codec === "text" || node.codec === "voice";
        const item = h(
          "li",
          { className: `channel channel-${node.codec}${node.key === state.current ? " selected" : ""}`, dataset: { key: node.key, codec: node.codec } },
          h(
            "button",
            {
              className: "channel-button",
              type: "button",
              disabled: !known,
              title: known ? node.key : `${node.key} (${node.codec} channels are not supported here yet)`,
              attrs: node.key === state.current ? { "aria-current": "page" } : {},
              on: { click: () => selectChannel(node.key) },
            },
            h("span", { className: "channel-icon", text: icon, attrs: { "aria-hidden": "true" } }),
            h("span", { className: "channel-name", text: node.name }),
            unread > 0 ? h("span", { className: "badge", text: unread > 99 ? "99+" : String(unread) }) : null,
          ),
        );
        if (node.codec === "voice" && node.activeUsers.size > 0) {
          item.append(
            h(
              "ul",
              { className: "occupants" },
              Array.from(node.activeUsers.entries()).map(([userId, info]) => occupantItem(userId, info)),
            ),
          );
        }
        return item;
      }),
    );
  nav.replaceChildren(build(state.tree, 0));
}

function occupantItem(userId, info) {
  const s = typeof info.state === "string" ? info.state : "active";
  return h(
    "li",
    { className: `occupant state-${s}`, dataset: { userId, state: s } },
    avatar(memberName(userId), userId, "small"),
    h("span", { className: "occupant-name", text: memberName(userId) }),
    h("span", { className: "occupant-state", text: VOICE_STATES[s] || "", title: s, attrs: { "aria-label": s } }),
    info.streaming ? h("span", { className: "live", text: "LIVE" }) : null,
  );
}

// -------------------------------------------------------------------------------------------------------------
// Channels and messages

function channelState(key) {
  let cs = state.channels.get(key);
  if (!cs) {
    cs = { messages: new Map(), loadedAny: false, reachedStart: false, loading: false, unread: 0, pending: [], nodes: new Map() };
    state.channels.set(key, cs);
  }
  return cs;
}

function address(key) {
  const node = state.nodes.get(key);
  if (node) return { codec: node.codec, path: node.path, name: node.name };
  const slash = key.lastIndexOf("/");
  return { codec: "text", path: slash < 0 ? "" : key.slice(0, slash), name: slash < 0 ? key : key.slice(slash + 1) };
}

function mergeMessages(key, list) {
  const cs = channelState(key);
  let added = 0;
  for (const m of list || []) {
    if (!m || !Number.isInteger(m.message_id) || typeof m.message !== "string") continue;
    if (!cs.messages.has(m.message_id)) added++;
    cs.messages.set(m.message_id, { message_id: m.message_id, message: m.message, send_time: m.send_time, sender_id: m.sender_id });
  }
  return added;
}

function sortedIds(cs) {
  return Array.from(cs.messages.keys()).sort((a, b) => a - b);
}

function selectChannel(key) {
  if (!key || !state.nodes.has(key)) {
    state.current = null;
    $("channel-title").textContent = "No channels";
    renderChannelView();
    return;
  }
  state.current = key;
  store.updateCommunity(BASE_URL, { last_channel: key });
  const node = state.nodes.get(key);
  if (node.codec === "text") {
    const cs = channelState(key);
    cs.unread = 0;
    if (!cs.loadedAny) loadNewest(key);
  }
  setDrawer("sidebar", false);
  renderTree();
  renderChannelView(true);
}

function renderChannelView(scrollToEnd = false) {
  const node = state.current ? state.nodes.get(state.current) : null;
  $("channel-title").textContent = node ? (node.codec === "voice" ? `🔊 ${node.name}` : `# ${node.name}`) : "";
  $("channel-title").title = node ? node.key : "";
  const isText = Boolean(node && node.codec === "text");
  show($("messages"), isText);
  show($("composer"), isText);
  show($("voice-view"), Boolean(node && node.codec === "voice"));
  if (node && node.codec === "voice") {
    const list = Array.from(node.activeUsers.entries());
    $("voice-occupants").replaceChildren(...(list.length ? list.map(([u, i]) => occupantItem(u, i)) : [h("li", { className: "muted", text: "Nobody is here." })]));
  }
  if (isText) {
    $("composer-input").placeholder = `Message #${node.name}`;
    renderMessages({ scrollToEnd });
  }
}

function messageNode(cs, m, continued) {
  const cacheKey = `${m.message_id}|${memberName(m.sender_id)}|${continued}`;
  const cached = cs.nodes.get(m.message_id);
  if (cached && cached.cacheKey === cacheKey) return cached.node;
  const name = memberName(m.sender_id);
  const mine = state.me && m.sender_id === state.me.user_id;
  const node = h(
    "li",
    { className: `message${continued ? " continued" : ""}${mine ? " mine" : ""}`, dataset: { id: String(m.message_id), sender: m.sender_id || "" } },
    continued ? h("span", { className: "avatar-space" }) : avatar(name, m.sender_id),
    h(
      "div",
      { className: "message-body" },
      continued
        ? null
        : h(
            "div",
            { className: "message-meta" },
            h("span", { className: "author", text: name }),
            h("time", { className: "time", text: shortTime(m.send_time), title: fullTime(m.send_time), dateTime: new Date(m.send_time || 0).toISOString() }),
          ),
      h("div", { className: "message-content" }, renderMessage(m.message)),
    ),
  );
  cs.nodes.set(m.message_id, { cacheKey, node });
  return node;
}

function pendingNode(p) {
  const status =
    p.state === "failed"
      ? `Not sent: ${p.error}`
      : p.state === "queued"
        ? "Waiting for the connection…"
        : p.state === "unsure"
          ? "Connection lost — checking whether it was sent…"
          : "Sending…";
  const actions =
    p.state === "failed"
      ? [
          h("button", { className: "link-button", type: "button", text: "Retry", on: { click: () => retryPending(p) } }),
          h("button", { className: "link-button", type: "button", text: "Discard", on: { click: () => discardPending(p) } }),
        ]
      : [];
  return h(
    "li",
    { className: `message mine pending state-${p.state}`, dataset: { pending: p.localId, code: p.code || "" } },
    avatar(state.me ? state.me.username : "?", state.me ? state.me.user_id : ""),
    h(
      "div",
      { className: "message-body" },
      h("div", { className: "message-meta" }, h("span", { className: "author", text: state.me ? state.me.username : "" })),
      h("div", { className: "message-content" }, renderMessage(p.text)),
      h("div", { className: "pending-status", attrs: p.state === "failed" ? { role: "alert" } : {} }, h("span", { text: status }), ...actions),
    ),
  );
}

function renderMessages({ scrollToEnd = false, keepTop = false } = {}) {
  const key = state.current;
  const node = key ? state.nodes.get(key) : null;
  if (!node || node.codec !== "text") return;
  const cs = channelState(key);
  const box = $("messages");
  const list = $("message-list");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const prevHeight = box.scrollHeight;
  const prevTop = box.scrollTop;
  const items = [];
  let prev = null;
  for (const id of sortedIds(cs)) {
    const m = cs.messages.get(id);
    const continued = Boolean(prev && prev.sender_id === m.sender_id && m.send_time - prev.send_time < GROUP_WINDOW_MS && m.message_id === prev.message_id + 1);
    items.push(messageNode(cs, m, continued));
    prev = m;
  }
  for (const p of cs.pending) items.push(pendingNode(p));
  list.replaceChildren(...items);
  const status = $("history-status");
  status.replaceChildren();
  if (cs.loading) status.append(h("span", { text: "Loading messages…" }));
  else if (cs.reachedStart) status.append(h("span", { text: `This is the beginning of #${node.name}.` }));
  else if (cs.loadedAny) status.append(h("button", { className: "link-button", type: "button", text: "Load older messages", on: { click: () => loadOlder(key) } }));
  if (keepTop) box.scrollTop = prevTop + (box.scrollHeight - prevHeight);
  else if (scrollToEnd || atBottom) box.scrollTop = box.scrollHeight;
}

async function fetchPage(key, before) {
  const payload = { loaded_messages: 0, amount: PAGE_SIZE };
  if (before !== undefined) payload.before = before;
  const reply = await state.conn.call(address(key), "get_messages", payload);
  const messages = reply.payload && Array.isArray(reply.payload.messages) ? reply.payload.messages : [];
  return messages;
}

/** Loads the newest page of a channel, or (older) the page before the oldest message shown. */
async function loadPage(key, older) {
  const cs = channelState(key);
  if (cs.loading || !state.conn || !state.conn.online || (older && cs.reachedStart)) return;
  const ids = sortedIds(cs);
  const before = older && ids.length ? ids[0] : undefined;
  cs.loading = true;
  if (key === state.current) renderMessages({ keepTop: Boolean(before) });
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
  if (key === state.current) {
    renderMessages(before ? { keepTop: true } : { scrollToEnd: true });
    fillViewport(key);
  }
}

const loadNewest = (key) => loadPage(key, false);
const loadOlder = (key) => loadPage(key, true);

/** Loads older pages until the list can scroll (so scrolling up can ask for more). */
function fillViewport(key) {
  const box = $("messages");
  const cs = channelState(key);
  if (key === state.current && !cs.reachedStart && box.scrollHeight <= box.clientHeight + 40) loadOlder(key);
}

/**
 * After a reconnect: the newest page of every loaded channel, merged by message_id, and older pages until the
 * gap to what was already shown is closed (ids have no gaps, so a gap is visible).
 */
async function catchUpAll() {
  for (const [key, cs] of state.channels) {
    if (!cs.loadedAny || !state.nodes.has(key)) continue;
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
      if (key !== state.current) {
        const added = sortedIds(cs).filter((id) => id > knownMax && cs.messages.get(id).sender_id !== state.me.user_id).length;
        cs.unread += added;
      }
    } catch (e) {
      if (e instanceof ConnectionLost) return;
      errorToast(e, "catching up");
    }
    reconcilePending(key);
  }
  renderTree();
  renderMessages();
}

// -------------------------------------------------------------------------------------------------------------
// Sending

function sendFromComposer(event) {
  if (event) event.preventDefault();
  const input = $("composer-input");
  const text = input.value;
  if (!text.trim() || !state.current) return;
  const node = state.nodes.get(state.current);
  if (!node || node.codec !== "text") return;
  input.value = "";
  resizeComposer();
  updateCounter();
  queueMessage(state.current, text);
}

function queueMessage(key, text) {
  const cs = channelState(key);
  const p = { localId: `local-${++state.localSeq}`, key, text, state: "queued", sentAt: 0, error: "", code: "" };
  cs.pending.push(p);
  if (key === state.current) renderMessages({ scrollToEnd: true });
  if (state.conn && state.conn.online) sendPending(p);
  return p;
}

async function sendPending(p) {
  const cs = channelState(p.key);
  p.state = "sending";
  p.sentAt = Date.now();
  try {
    const reply = await state.conn.call(address(p.key), "send_message", { message: p.text });
    const payload = reply.payload || {};
    cs.pending = cs.pending.filter((x) => x !== p);
    if (Number.isInteger(payload.message_id)) {
      mergeMessages(p.key, [{ message_id: payload.message_id, message: p.text, send_time: payload.send_time, sender_id: state.me.user_id }]);
    }
  } catch (e) {
    if (e instanceof ConnectionLost) {
      // Maybe committed, maybe not: decided after reconnecting, by looking for it in the channel.
      p.state = "unsure";
    } else {
      p.state = "failed";
      p.error = errorText(e);
      p.code = e.code || "";
      errorToast(e, "message not sent");
    }
  }
  if (p.key === state.current) renderMessages({ scrollToEnd: true });
}

/** Pending messages whose fate is unknown: found in the channel → sent; not found → send again. */
function reconcilePending(key) {
  const cs = channelState(key);
  const claimed = new Set();
  for (const p of cs.pending) {
    if (p.state !== "unsure" && p.state !== "sending") continue;
    const match = sortedIds(cs).find((id) => {
      const m = cs.messages.get(id);
      return !claimed.has(id) && m.sender_id === state.me.user_id && m.message === p.text && m.send_time >= p.sentAt - 120000;
    });
    if (match !== undefined) {
      claimed.add(match);
      p.state = "done";
    } else {
      p.state = "queued";
    }
  }
  cs.pending = cs.pending.filter((p) => p.state !== "done");
}

function flushAllPending() {
  for (const [key, cs] of state.channels) {
    reconcilePending(key);
    for (const p of cs.pending) if (p.state === "queued") sendPending(p);
  }
  renderMessages();
}

function retryPending(p) {
  p.state = "queued";
  p.error = "";
  if (state.conn && state.conn.online) sendPending(p);
  else renderMessages();
}

function discardPending(p) {
  const cs = channelState(p.key);
  cs.pending = cs.pending.filter((x) => x !== p);
  renderMessages();
}

// -------------------------------------------------------------------------------------------------------------
// Members

async function loadMembers() {
  try {
    const reply = await state.conn.call({ codec: "community", path: "", name: "" }, "get_members", {});
    const list = reply.payload && Array.isArray(reply.payload.members) ? reply.payload.members : [];
    state.members = new Map(list.filter((m) => m && m.user_id).map((m) => [m.user_id, m]));
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading members");
  }
  renderMembers();
  for (const cs of state.channels.values()) cs.nodes.clear();
  renderMessages();
  renderTree();
}

let memberRefresh = null;
function refreshMembersSoon() {
  clearTimeout(memberRefresh);
  memberRefresh = setTimeout(() => state.conn && state.conn.online && loadMembers(), 500);
}

function renderMembers() {
  const all = Array.from(state.members.values()).sort((a, b) => String(a.username).localeCompare(String(b.username)));
  const online = all.filter((m) => m.online);
  const offline = all.filter((m) => !m.online);
  const section = (title, list, cls) =>
    list.length
      ? [
          h("h3", { className: "member-group", text: `${title} — ${list.length}` }),
          h(
            "ul",
            { className: `member-ul ${cls}` },
            list.map((m) =>
              h(
                "li",
                { className: `member ${m.online ? "online" : "offline"}`, dataset: { userId: m.user_id } },
                h("span", { className: "avatar-wrap" }, avatar(m.username, m.user_id), h("span", { className: "presence-dot" })),
                h("span", { className: "member-name", text: m.username }),
                m.group && m.group !== "member" ? h("span", { className: "group-badge", text: m.group }) : null,
              ),
            ),
          ),
        ]
      : [];
  $("member-list").replaceChildren(...section("Online", online, "members-online"), ...section("Offline", offline, "members-offline"));
}

// -------------------------------------------------------------------------------------------------------------
// Updates

function onUpdate(data) {
  const payload = data.payload && typeof data.payload === "object" ? data.payload : {};
  switch (data.result) {
    case "message_live": {
      const key = keyOf(data.path || "", data.name || "");
      const cs = channelState(key);
      const added = mergeMessages(key, [payload]);
      if (payload.sender_id && !state.members.has(payload.sender_id)) refreshMembersSoon();
      if (key === state.current && !document.hidden) {
        renderMessages();
      } else if (added) {
        cs.unread += 1;
        if (key === state.current) renderMessages();
        renderTree();
      }
      break;
    }
    case "member_joined":
      if (payload.user_id) {
        state.members.set(payload.user_id, { ...state.members.get(payload.user_id), ...payload, online: payload.online !== false });
        renderMembers();
      }
      break;
    case "presence": {
      const m = state.members.get(payload.user_id);
      if (m) {
        m.online = Boolean(payload.online);
        renderMembers();
      } else refreshMembersSoon();
      break;
    }
    case "user_changed": {
      const node = state.nodes.get(keyOf(data.path || "", data.name || ""));
      if (!node || node.codec !== "voice" || !payload.user_id) break;
      if (payload.state === null || payload.state === "left" || payload.left === true) node.activeUsers.delete(payload.user_id);
      else node.activeUsers.set(payload.user_id, { state: payload.state || "active", streaming: Boolean(payload.streaming) });
      renderTree();
      if (state.current === node.key) renderChannelView();
      break;
    }
    default:
      break;
  }
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.current) {
    const cs = state.channels.get(state.current);
    if (cs && cs.unread) {
      cs.unread = 0;
      renderTree();
    }
  }
});

// -------------------------------------------------------------------------------------------------------------
// Identity dialog

function openIdentityDialog() {
  const id = state.identity;
  $("identity-name").textContent = state.me ? state.me.username : "";
  $("identity-id").textContent = id ? id.user_id : "";
  $("identity-key").textContent = id ? id.public_key : "";
  setFormError("identity-error", "");
  $("identity-dialog").showModal();
}

function exportIdentity() {
  if (!state.identity) return;
  const name = (state.me && state.me.username ? state.me.username : "identity").replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 32);
  const community = store.loadCommunity(BASE_URL) || {};
  const entry = { url: BASE_URL, username: community.username || (state.me && state.me.username) || "", name: community.community_name || state.communityName };
  if (community.community_key) entry.community_key = community.community_key;
  downloadText(`commune-identity-${name}.json`, identityFileText(state.identity, [entry]));
  store.updateCommunity(BASE_URL, { exported: true });
  show($("identity-banner"), false);
  toast({ kind: "ok", title: "Identity exported", message: "Keep the file somewhere safe and private.", timeout: 5000 });
}

function forgetIdentity() {
  if (!confirm("Remove your identity from this browser? Without an exported identity file you cannot sign in as this member again.")) return;
  if (state.conn) state.conn.stop();
  state.conn = null;
  store.forgetEverything();
  state.identity = null;
  state.loggedInOnce = false;
  $("identity-dialog").close();
  location.reload();
}

// -------------------------------------------------------------------------------------------------------------
// Static wiring

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

const WIDE = matchMedia("(min-width: 1100px)");

function setDrawer(which, open) {
  if (which === "members" && WIDE.matches) {
    document.body.classList.toggle("members-closed", !open);
    document.body.classList.remove("members-open");
  } else {
    document.body.classList.toggle(`${which}-open`, open);
  }
  const overlay = document.body.classList.contains("sidebar-open") || (document.body.classList.contains("members-open") && !WIDE.matches);
  show($("scrim"), overlay);
}

function membersShown() {
  return WIDE.matches ? !document.body.classList.contains("members-closed") : document.body.classList.contains("members-open");
}

function wireStaticUi() {
  $("join-form").addEventListener("submit", onJoinSubmit);
  $("join-import").addEventListener("change", (e) => importIdentityFrom(e.target, "join-error"));
  $("welcome-import").addEventListener("change", (e) => importIdentityFrom(e.target, "welcome-error"));
  $("welcome-invite-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("welcome-invite").value.trim();
    const code = parseInvite(text);
    if (!code) {
      setFormError("welcome-error", "That is not an invite link or code.");
      return;
    }
    try {
      const url = new URL(text);
      if (url.origin !== BASE_URL && (url.protocol === "http:" || url.protocol === "https:")) {
        location.href = url.href; // the invite belongs to another community: its own server serves its client
        return;
      }
    } catch {
      /* a bare code */
    }
    location.hash = `invite=${code}`;
  });
  window.addEventListener("hashchange", () => {
    const code = parseInvite(location.hash);
    if (code && !(state.conn && state.loggedInOnce)) showJoin(code);
  });
  $("composer").addEventListener("submit", sendFromComposer);
  $("composer-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) sendFromComposer(e);
  });
  $("composer-input").addEventListener("input", () => {
    resizeComposer();
    updateCounter();
  });
  const box = $("messages");
  let stickToBottom = true;
  let seenSize = "";
  const sizeOf = () => `${box.clientWidth}x${box.clientHeight}`;
  box.addEventListener("scroll", () => {
    // Scrolls that a resize causes (before the observer below has seen the new size) are not the reader's.
    if (sizeOf() === seenSize) stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    if (box.scrollTop < 150 && state.current) loadOlder(state.current);
  });
  // A resize (a phone rotating, the keyboard opening, a banner closing) keeps the newest message in view.
  new ResizeObserver(() => {
    seenSize = sizeOf();
    if (stickToBottom) box.scrollTop = box.scrollHeight;
  }).observe(box);
  $("conn-retry").addEventListener("click", () => state.conn && state.conn.retryNow());
  $("open-identity").addEventListener("click", openIdentityDialog);
  $("identity-export").addEventListener("click", exportIdentity);
  $("banner-export").addEventListener("click", exportIdentity);
  $("banner-dismiss").addEventListener("click", () => show($("identity-banner"), false));
  $("identity-import").addEventListener("change", (e) => importIdentityFrom(e.target, "identity-error"));
  $("identity-forget").addEventListener("click", forgetIdentity);
  $("open-sidebar").addEventListener("click", () => setDrawer("sidebar", true));
  $("close-sidebar").addEventListener("click", () => setDrawer("sidebar", false));
  $("open-members").addEventListener("click", () => setDrawer("members", !membersShown()));
  $("close-members").addEventListener("click", () => setDrawer("members", false));
  $("scrim").addEventListener("click", () => {
    setDrawer("sidebar", false);
    setDrawer("members", false);
  });
  window.addEventListener("online", () => state.conn && state.conn.retryNow());
}

// A small handle for tests and power users: runs a function through the same paths as the UI (errors become toasts).
window.commune = Object.freeze({
  get state() {
    return state.conn ? state.conn.state : "idle";
  },
  async run(addressObject, fn, payload = {}) {
    try {
      return await state.conn.call(addressObject, fn, payload);
    } catch (e) {
      errorToast(e, fn);
      throw e;
    }
  },
  send(key, text) {
    return queueMessage(key, text).localId;
  },
});

boot();

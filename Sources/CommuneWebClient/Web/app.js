// Commune's web client: screens, the channel tree, chat, members and the identity.

import { attachmentUrl, fitSize, MAX_ATTACHMENTS, uploadAttachment } from "./attachments.js";
import { Connection, ConnectionLost, ServerError } from "./connection.js";
import { confirmDialog, openDialog } from "./dialogs.js";
import { renderMessage, safeUrl } from "./markup.js";
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
  me: null, // {user_id, username, group}
  communityName: "Commune",
  community: { name: "Commune", description: "", public: false },
  sessionToken: null, // for the HTTP API (attachments) of the current login
  groups: new Map(), // group name → {name, power, permissions}
  lastNumber: 0, // the last per-sender message number used (see nextNumber)
  editing: null, // {key, id}: the message the composer edits
  staged: [], // attachments uploaded for the next message: {localId, file, previewUrl, info, state, error}
  tree: [], // normalized nodes (see normalizeTree)
  nodes: new Map(), // key → node, every interactable
  members: new Map(), // user_id → {user_id, username, group, online, status, status_text, suppressed}
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
  renderMeStatus();
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
  state.me = { user_id: data.user_id || state.identity.user_id, username: data.username || "", group: data.group || "member" };
  state.sessionToken = typeof data.session_token === "string" ? data.session_token : null;
  setCommunityInfo(data.community || {});
  const previous = store.loadCommunity(BASE_URL) || {};
  state.lastNumber = Math.max(state.lastNumber, Number(previous.last_number) || 0);
  store.updateCommunity(BASE_URL, {
    user_id: state.me.user_id,
    username: state.me.username,
    registered: true,
    community_name: state.communityName,
    community_key: state.conn.communityKey,
  });
  renderMe();
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
  loadGroups();
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
    node.topic = typeof data.topic === "string" ? data.topic : "";
    if (node.codec === "link") {
      node.linkKind = typeof data.kind === "string" ? data.kind : "";
      node.target = typeof data.target === "string" ? data.target : "";
    }
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

/**
 * A tree_changed update: the whole new tree. A single renamed or moved node (and everything under it) keeps its
 * messages, unread count and selection; a removed channel's messages are dropped, and when it was the one shown
 * the view moves to another channel and says so.
 */
function applyTreeChange(interactables, hint = null) {
  const old = state.nodes;
  setTree(interactables);
  const removed = Array.from(old.keys()).filter((k) => !state.nodes.has(k) || state.nodes.get(k).codec !== old.get(k).codec);
  const added = Array.from(state.nodes.keys()).filter((k) => !old.has(k) || old.get(k).codec !== state.nodes.get(k).codec);
  const parentOf = (node) => node.path;
  const topRemoved = removed.filter((k) => !removed.includes(parentOf(old.get(k))));
  const topAdded = added.filter((k) => !added.includes(parentOf(state.nodes.get(k))));
  let from = null;
  let to = null;
  if (hint && removed.includes(hint.from) && state.nodes.has(hint.to)) {
    from = hint.from;
    to = hint.to;
  } else if (topRemoved.length === 1 && topAdded.length === 1 && old.get(topRemoved[0]).codec === state.nodes.get(topAdded[0]).codec) {
    from = topRemoved[0];
    to = topAdded[0];
  }
  const remap = (key) => {
    if (from === null) return null;
    if (key === from) return to;
    if (key.startsWith(`${from}/`)) return to + key.slice(from.length);
    return null;
  };
  for (const key of removed) {
    const moved = remap(key);
    const cs = state.channels.get(key);
    state.channels.delete(key);
    if (moved && state.nodes.has(moved) && cs) state.channels.set(moved, cs);
    if (state.collapsed.delete(key) && moved) state.collapsed.add(moved);
  }
  if (state.current && !state.nodes.has(state.current)) {
    const moved = remap(state.current);
    if (moved && state.nodes.has(moved)) {
      state.current = moved;
      store.updateCommunity(BASE_URL, { last_channel: moved });
      if (state.editing) state.editing.key = moved;
    } else {
      const gone = state.current;
      cancelEditing();
      const next = firstTextChannel();
      selectChannel(next);
      toast({
        kind: "info",
        title: "Channel removed",
        message: next ? `#${gone.split("/").pop()} was removed. You are now in #${state.nodes.get(next).name}.` : `#${gone.split("/").pop()} was removed.`,
        timeout: 8000,
      });
      return;
    }
  }
  renderTree();
  renderChannelView();
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
  const manage = (node, label) =>
    h("button", {
      className: "icon-button node-menu",
      type: "button",
      text: "⋯",
      title: `Manage ${label}`,
      attrs: { "aria-label": `Manage ${label}` },
      on: { click: () => openNodeDialog(node.key) },
    });
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
            h(
              "div",
              { className: "tree-row category-row" },
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
              h("button", {
                className: "icon-button node-add",
                type: "button",
                text: "+",
                title: `Create a channel in ${node.name}`,
                attrs: { "aria-label": `Create a channel in ${node.name}` },
                on: { click: () => openCreateDialog(node.key) },
              }),
              manage(node, `category ${node.name}`),
            ),
            collapsed ? null : build(node.children, depth + 1),
          );
        }
        const cs = state.channels.get(node.key);
        const unread = cs ? cs.unread : 0;
        const icon = node.codec === "text" ? "#" : node.codec === "voice" ? "🔊" : node.codec === "link" ? "🔗" : "?";
        const known = node.codec === "text" || node.codec === "voice" || node.codec === "link";
        const title = node.codec === "link" ? `${node.key} → ${linkLabel(node)}` : known ? node.key : `${node.key} (${node.codec} channels are not supported here yet)`;
        const item = h(
          "li",
          { className: `channel channel-${node.codec}${node.key === state.current ? " selected" : ""}`, dataset: { key: node.key, codec: node.codec } },
          h(
            "div",
            { className: "tree-row channel-row" },
            h(
              "button",
              {
                className: "channel-button",
                type: "button",
                disabled: !known,
                title,
                attrs: node.key === state.current ? { "aria-current": "page" } : {},
                on: { click: () => (node.codec === "link" ? openLink(node) : selectChannel(node.key)) },
              },
              h("span", { className: "channel-icon", text: icon, attrs: { "aria-hidden": "true" } }),
              h("span", { className: "channel-name", text: node.name }),
              unread > 0 ? h("span", { className: "badge", text: unread > 99 ? "99+" : String(unread) }) : null,
            ),
            manage(node, `channel ${node.name}`),
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

function linkLabel(node) {
  if (node.linkKind === "user") return `member ${memberName(node.target)}`;
  return node.target;
}

/** A link channel opens its target: another community's address in a new tab, or a member's card. */
function openLink(node) {
  if (node.linkKind === "user") {
    if (state.members.has(node.target)) openMemberDialog(node.target);
    else toast({ kind: "info", title: "Not a member here", message: `${node.name} points at a member this community does not know.` });
    return;
  }
  const url = safeUrl(node.target);
  if (!url) {
    toast({ kind: "error", title: "Cannot open link", message: `${node.name} does not point at an http(s) address.` });
    return;
  }
  window.open(url, "_blank", "noopener,noreferrer");
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
    cs.messages.set(m.message_id, normalMessage(m));
  }
  return added;
}

function normalMessage(m) {
  return {
    message_id: m.message_id,
    message: m.message,
    send_time: m.send_time,
    sender_id: typeof m.sender_id === "string" ? m.sender_id : null,
    kind: m.kind === "action" ? "action" : "text",
    edited: Boolean(m.edited),
    attachments: Array.isArray(m.attachments) ? m.attachments.filter((a) => a && typeof a.attachment_id === "string") : [],
  };
}

/** An edited or removed message (update or reply): replaces the one shown, if it is loaded. */
function replaceMessage(key, m) {
  const cs = state.channels.get(key);
  if (!cs || !m || !Number.isInteger(m.message_id) || !cs.messages.has(m.message_id)) return;
  cs.messages.set(m.message_id, normalMessage(m));
  if (state.editing && state.editing.key === key && state.editing.id === m.message_id && !m.sender_id) cancelEditing();
  if (key === state.current) renderMessages();
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
  if (state.current !== key) cancelEditing();
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
  renderTopic();
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

const REMOVED_TEXT = "*Message Removed*";

function can(permission) {
  if (!state.me) return false;
  if (state.me.group === "owner") return true;
  const group = state.groups.get(state.me.group);
  return Boolean(group && Array.isArray(group.permissions) && group.permissions.includes(permission));
}

function messageNode(cs, m, continued) {
  const removed = m.sender_id === null;
  const mine = Boolean(state.me && m.sender_id === state.me.user_id);
  const canEdit = mine && !removed;
  const canRemove = !removed && (mine || can("change_messages"));
  const editing = Boolean(state.editing && state.editing.id === m.message_id && state.editing.key === state.current);
  const name = removed ? "" : memberName(m.sender_id);
  const cacheKey = JSON.stringify([m.message, m.edited, m.kind, m.sender_id, name, continued, canEdit, canRemove, editing, m.attachments.map((a) => a.attachment_id)]);
  const cached = cs.nodes.get(m.message_id);
  if (cached && cached.cacheKey === cacheKey) return cached.node;
  const action = m.kind === "action" && !removed;
  const time = h("time", { className: "time", text: shortTime(m.send_time), title: fullTime(m.send_time), dateTime: new Date(m.send_time || 0).toISOString() });
  let text;
  if (removed) {
    text = h("div", { className: "message-text" }, h("span", { className: "message-content removed-text" }, renderMessage(m.message || REMOVED_TEXT)));
  } else if (action) {
    text = h(
      "div",
      { className: "message-text action-text" },
      h("span", { className: "action-star", text: "* ", attrs: { "aria-hidden": "true" } }),
      h("span", { className: "action-actor", text: name }),
      " ",
      h("span", { className: "message-content" }, renderMessage(m.message)),
      m.edited ? h("span", { className: "edited", text: " (edited)" }) : null,
    );
  } else {
    text = h(
      "div",
      { className: "message-text" },
      h("span", { className: "message-content" }, renderMessage(m.message)),
      m.edited ? h("span", { className: "edited", text: " (edited)" }) : null,
    );
  }
  const tools = [];
  if (canEdit) tools.push(h("button", { className: "icon-button msg-edit", type: "button", text: "✎", title: "Edit", attrs: { "aria-label": "Edit message" }, on: { click: () => startEditing(state.current, m.message_id) } }));
  if (canRemove) tools.push(h("button", { className: "icon-button msg-remove", type: "button", text: "🗑", title: "Remove", attrs: { "aria-label": "Remove message" }, on: { click: () => removeMessage(state.current, m.message_id) } }));
  const node = h(
    "li",
    {
      className: `message${continued ? " continued" : ""}${mine ? " mine" : ""}${removed ? " removed" : ""}${action ? " action" : ""}${m.edited ? " is-edited" : ""}${editing ? " editing" : ""}`,
      dataset: { id: String(m.message_id), sender: m.sender_id || "", kind: m.kind },
      on: {
        click: (e) => {
          if (!e.target.closest("a, button, img")) node.classList.toggle("tools-open");
        },
      },
    },
    continued ? h("span", { className: "avatar-space" }) : removed ? h("span", { className: "avatar avatar-removed", attrs: { "aria-hidden": "true" } }) : avatar(name, m.sender_id),
    h(
      "div",
      { className: "message-body" },
      continued
        ? null
        : h("div", { className: "message-meta" }, removed ? null : h("span", { className: "author", text: name }), time),
      text,
      m.attachments.length ? h("div", { className: "attachments" }, m.attachments.map((a) => attachmentNode(a))) : null,
    ),
    tools.length ? h("div", { className: "message-tools" }, tools) : null,
  );
  cs.nodes.set(m.message_id, { cacheKey, node });
  return node;
}

/** An image attachment: a box of the image's shape at once, filled when the bytes arrive (fetched with the token). */
function attachmentNode(a, localUrl = null) {
  const size = fitSize(a.width, a.height);
  const img = h("img", {
    className: "attachment-image",
    alt: `Image (${a.width || "?"}×${a.height || "?"})`,
    width: size.width,
    height: size.height,
    decoding: "async",
  });
  const box = h(
    "div",
    { className: "attachment", dataset: { attachmentId: a.attachment_id || "", type: a.type || "" } },
    img,
  );
  box.style.width = `${size.width}px`;
  box.style.aspectRatio = `${size.width} / ${size.height}`;
  const failed = (e) => {
    box.classList.add("failed");
    box.replaceChildren(h("span", { className: "attachment-error", text: `Image unavailable: ${errorText(e)}` }));
  };
  if (localUrl) img.src = localUrl;
  else {
    attachmentUrl(a.attachment_id, () => state.sessionToken)
      .then((url) => {
        img.src = url;
      })
      .catch(failed);
  }
  img.addEventListener("click", () => {
    if (!img.src) return;
    openDialog({
      title: "Image",
      className: "image-dialog",
      body: [h("img", { className: "image-full", src: img.src, alt: img.alt })],
      submitText: null,
      cancelText: "Close",
    });
  });
  return box;
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
  const me = state.me ? state.me.username : "";
  const content = h("span", { className: "message-content" }, renderMessage(p.text));
  return h(
    "li",
    { className: `message mine pending state-${p.state}${p.kind === "action" ? " action" : ""}`, dataset: { pending: p.localId, code: p.code || "" } },
    avatar(me || "?", state.me ? state.me.user_id : ""),
    h(
      "div",
      { className: "message-body" },
      h("div", { className: "message-meta" }, h("span", { className: "author", text: me })),
      p.kind === "action"
        ? h("div", { className: "message-text action-text" }, h("span", { className: "action-star", text: "* " }), h("span", { className: "action-actor", text: me }), " ", content)
        : p.text
          ? h("div", { className: "message-text" }, content)
          : null,
      p.attachments.length ? h("div", { className: "attachments" }, p.attachments.map((a) => attachmentNode(a, a.localUrl))) : null,
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
    const continued = Boolean(
      prev && m.sender_id && m.kind !== "action" && prev.kind !== "action" && prev.sender_id === m.sender_id &&
        m.send_time - prev.send_time < GROUP_WINDOW_MS && m.message_id === prev.message_id + 1,
    );
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
  let text = input.value;
  if (!state.current) return;
  const node = state.nodes.get(state.current);
  if (!node || node.codec !== "text") return;
  if (state.editing) {
    submitEdit(text);
    return;
  }
  if (state.staged.some((a) => a.state === "uploading")) {
    toast({ kind: "info", title: "Still uploading", message: "Wait until the images are uploaded, then send.", timeout: 4000 });
    return;
  }
  const attachments = state.staged.filter((a) => a.state === "done").map((a) => ({ ...a.info, localUrl: a.previewUrl }));
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
  input.value = "";
  state.staged = [];
  renderStaged();
  resizeComposer();
  updateCounter();
  queueMessage(state.current, text.trim() ? text : "", { kind, attachments });
}

/**
 * The next per-sender message number (PROTOCOL.md `send_message.number`): a resend with the same number after a
 * lost reply stores nothing twice. Numbers only need to be unique per member, so they follow the clock in
 * microsecond-like steps (milliseconds × 1000 + a random part) and never go down: the same identity used in two
 * browsers (an imported identity file) does not reuse the other's numbers.
 */
function nextNumber() {
  const base = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  state.lastNumber = Math.max(state.lastNumber + 1, base);
  store.updateCommunity(BASE_URL, { last_number: state.lastNumber });
  return state.lastNumber;
}

function queueMessage(key, text, { kind = "text", attachments = [] } = {}) {
  const cs = channelState(key);
  const p = { localId: `local-${++state.localSeq}`, key, text, kind, attachments, number: nextNumber(), state: "queued", sentAt: 0, error: "", code: "" };
  cs.pending.push(p);
  if (key === state.current) renderMessages({ scrollToEnd: true });
  if (state.conn && state.conn.online) sendPending(p);
  return p;
}

async function sendPending(p) {
  const cs = channelState(p.key);
  p.state = "sending";
  p.sentAt = Date.now();
  const payload = { message: p.text, number: p.number };
  if (p.kind === "action") payload.kind = "action";
  if (p.attachments.length) payload.attachments = p.attachments.map((a) => a.attachment_id);
  try {
    const reply = await state.conn.call(address(p.key), "send_message", payload);
    const answer = reply.payload || {};
    cs.pending = cs.pending.filter((x) => x !== p);
    if (Number.isInteger(answer.message_id)) {
      const sent = {
        message_id: answer.message_id,
        message: p.text,
        send_time: answer.send_time,
        sender_id: state.me.user_id,
        kind: p.kind,
        attachments: p.attachments.map(({ localUrl, ...info }) => info),
      };
      if (!cs.messages.has(answer.message_id)) mergeMessages(p.key, [sent]);
    }
  } catch (e) {
    if (e instanceof ConnectionLost) {
      // Maybe committed, maybe not: sent again with the same number after reconnecting (the server stores it once).
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

/** Pending messages whose fate is unknown are sent again with their number: the server keeps the first copy. */
function reconcilePending(key) {
  const cs = channelState(key);
  for (const p of cs.pending) if (p.state === "unsure" || p.state === "sending") p.state = "queued";
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
    const reply = await state.conn.call(COMMUNITY, "get_members", {});
    const list = reply.payload && Array.isArray(reply.payload.members) ? reply.payload.members : [];
    state.members = new Map(list.filter((m) => m && m.user_id).map((m) => [m.user_id, m]));
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading members");
  }
  renderMembers();
  renderMe();
  for (const cs of state.channels.values()) cs.nodes.clear();
  renderMessages();
  renderTree();
}

let memberRefresh = null;
function refreshMembersSoon() {
  clearTimeout(memberRefresh);
  memberRefresh = setTimeout(() => state.conn && state.conn.online && loadMembers(), 500);
}

const STATUS_LABELS = { online: "Online", away: "Away", busy: "Busy" };

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
            list.map((m) => {
              const status = m.online ? (STATUS_LABELS[m.status] ? m.status : "online") : "offline";
              const statusLine = [m.online && status !== "online" ? STATUS_LABELS[status] : "", m.status_text || ""].filter(Boolean).join(" — ");
              return h(
                "li",
                {
                  className: `member ${m.online ? "online" : "offline"} status-${status}${m.suppressed ? " suppressed" : ""}${state.me && m.user_id === state.me.user_id ? " me" : ""}`,
                  dataset: { userId: m.user_id, status, group: m.group || "" },
                },
                h(
                  "button",
                  {
                    className: "member-button",
                    type: "button",
                    title: `${m.username}${m.group ? ` (${m.group})` : ""}`,
                    on: { click: () => openMemberDialog(m.user_id) },
                  },
                  h("span", { className: "avatar-wrap" }, avatar(m.username, m.user_id), h("span", { className: "presence-dot", title: m.online ? STATUS_LABELS[status] : "Offline" })),
                  h(
                    "span",
                    { className: "member-text" },
                    h("span", { className: "member-name", text: m.username }),
                    statusLine ? h("span", { className: "member-status", text: statusLine }) : null,
                  ),
                  m.suppressed ? h("span", { className: "muted-marker", text: "🔇", title: "Server-muted", attrs: { "aria-label": "Server-muted" } }) : null,
                  m.group ? h("span", { className: "group-badge", text: m.group }) : null,
                ),
              );
            }),
          ),
        ]
      : [];
  $("member-list").replaceChildren(...section("Online", online, "members-online"), ...section("Offline", offline, "members-offline"));
}

async function loadGroups() {
  try {
    const reply = await state.conn.call(COMMUNITY, "get_groups", {});
    const list = reply.payload && Array.isArray(reply.payload.groups) ? reply.payload.groups : [];
    state.groups = new Map(list.filter((g) => g && typeof g.name === "string").map((g) => [g.name, g]));
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading groups");
  }
  renderMessages();
  renderTopic();
}

/** The user panel: my name, and my connection state or chosen status. */
function renderMe() {
  if (!state.me) return;
  $("me-name").textContent = state.me.username;
  paintAvatar($("me-avatar"), state.me.username, state.me.user_id);
  renderMeStatus();
}

function renderMeStatus() {
  const status = $("me-status");
  const s = state.conn ? state.conn.state : "idle";
  const mine = state.me && state.members.get(state.me.user_id);
  if (s === "online" && mine) {
    const chosen = STATUS_LABELS[mine.status] ? mine.status : "online";
    status.textContent = [chosen === "online" ? "online" : chosen, mine.status_text || ""].filter(Boolean).join(" — ");
    status.dataset.status = chosen;
  } else {
    status.textContent = { online: "online", connecting: "connecting…", authenticating: "signing in…", reconnecting: "offline", failed: "signed out", idle: "offline" }[s] || s;
    status.dataset.status = "";
  }
  status.dataset.state = s;
}

function setCommunityInfo(info) {
  state.community = {
    name: typeof info.name === "string" && info.name ? info.name : "Commune",
    description: typeof info.description === "string" ? info.description : "",
    public: Boolean(info.public),
    icon: typeof info.icon === "string" ? info.icon : null,
  };
  state.communityName = state.community.name;
  document.title = `${state.communityName} — Commune`;
  $("community-name").textContent = state.communityName;
  $("community-name").title = state.communityName;
  const desc = $("community-description");
  desc.textContent = state.community.description;
  desc.title = state.community.description;
  show(desc, Boolean(state.community.description));
}

// -------------------------------------------------------------------------------------------------------------
// Actions (the server decides who may; a refusal is shown as its error)

const COMMUNITY = { codec: "community", path: "", name: "" };

/** Runs a function; errors become a toast and are thrown on (so a dialog can show them too). */
async function act(addressObject, fn, payload, context) {
  if (!state.conn || !state.conn.online) {
    const e = new ConnectionLost("Not connected: wait for the connection and try again.");
    errorToast(e, context || fn);
    throw e;
  }
  try {
    return await state.conn.call(addressObject, fn, payload);
  } catch (e) {
    errorToast(e, context || fn);
    throw e;
  }
}

function startEditing(key, id) {
  const cs = state.channels.get(key);
  const m = cs && cs.messages.get(id);
  if (!m || !state.me || m.sender_id !== state.me.user_id) return;
  state.editing = { key, id, draft: state.editing ? state.editing.draft : $("composer-input").value };
  const input = $("composer-input");
  input.value = m.message;
  show($("composer-editing"), true);
  $("composer").classList.add("is-editing");
  resizeComposer();
  updateCounter();
  input.focus();
  renderMessages();
}

function cancelEditing() {
  if (!state.editing) return;
  const draft = state.editing.draft || "";
  state.editing = null;
  show($("composer-editing"), false);
  $("composer").classList.remove("is-editing");
  $("composer-input").value = draft;
  resizeComposer();
  updateCounter();
  renderMessages();
}

async function submitEdit(text) {
  const editing = state.editing;
  if (!editing) return;
  const cs = state.channels.get(editing.key);
  const m = cs && cs.messages.get(editing.id);
  if (m && m.message === text) {
    cancelEditing();
    return;
  }
  if (!text.trim()) {
    removeMessage(editing.key, editing.id);
    return;
  }
  try {
    const reply = await act(address(editing.key), "edit_message", { message_id: editing.id, message: text }, "message not edited");
    cancelEditing();
    replaceMessage(editing.key, reply.payload);
  } catch {
    /* shown as a toast; the composer keeps the text */
  }
}

function removeMessage(key, id) {
  const cs = state.channels.get(key);
  const m = cs && cs.messages.get(id);
  if (!m) return;
  const mine = state.me && m.sender_id === state.me.user_id;
  const preview = m.message.length > 200 ? `${m.message.slice(0, 200)}…` : m.message;
  confirmDialog({
    title: "Remove message",
    lead: mine ? "Remove your message? Everyone will see “Message Removed” in its place." : `Remove ${memberName(m.sender_id)}'s message? Everyone will see “Message Removed” in its place.`,
    body: [h("blockquote", { className: "quote", text: preview })],
    confirmText: "Remove",
    onSubmit: async () => {
      const reply = await act(address(key), "remove_message", { message_id: id }, "message not removed");
      replaceMessage(key, reply.payload);
      if (state.editing && state.editing.id === id) cancelEditing();
    },
  });
}

// -- attachments staged for the next message

function renderStaged() {
  const box = $("composer-attachments");
  box.replaceChildren(
    ...state.staged.map((a) =>
      h(
        "div",
        { className: `staged state-${a.state}`, dataset: { localId: a.localId } },
        h("img", { className: "staged-thumb", src: a.previewUrl, alt: a.file.name }),
        h("span", { className: "staged-name", text: a.state === "uploading" ? `Uploading ${a.file.name}…` : a.file.name }),
        h("button", {
          className: "icon-button staged-remove",
          type: "button",
          text: "✕",
          attrs: { "aria-label": `Remove ${a.file.name}` },
          on: {
            click: () => {
              state.staged = state.staged.filter((x) => x !== a);
              renderStaged();
            },
          },
        }),
      ),
    ),
  );
  show(box, state.staged.length > 0);
}

async function stageFiles(files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  const room = MAX_ATTACHMENTS - state.staged.length;
  if (list.length > room) {
    toast({ kind: "error", title: "Too many images", message: `A message may carry at most ${MAX_ATTACHMENTS} images.`, code: "invalid_argument" });
  }
  await Promise.all(
    list.slice(0, Math.max(0, room)).map(async (file) => {
      const a = { localId: `att-${++state.localSeq}`, file, previewUrl: URL.createObjectURL(file), info: null, state: "uploading" };
      state.staged.push(a);
      renderStaged();
      try {
        a.info = await uploadAttachment(file, state.sessionToken);
        a.state = "done";
      } catch (e) {
        state.staged = state.staged.filter((x) => x !== a);
        URL.revokeObjectURL(a.previewUrl);
        errorToast(e, `${file.name} not attached`);
      }
      renderStaged();
    }),
  );
}

// -- topic

function renderTopic() {
  const node = state.current ? state.nodes.get(state.current) : null;
  const topic = $("channel-topic");
  const hasTopic = Boolean(node && node.topic);
  const settable = Boolean(node && (node.codec === "text" || node.codec === "voice"));
  topic.textContent = hasTopic ? node.topic : can("set_topic") ? "Set a topic" : "";
  topic.title = hasTopic ? `${node.topic}${settable ? " — click to change" : ""}` : "Set a topic for this channel";
  topic.classList.toggle("empty", !hasTopic);
  show(topic, settable && (hasTopic || can("set_topic")));
  show($("edit-topic"), settable);
}

function openTopicDialog(key = state.current) {
  const node = state.nodes.get(key);
  if (!node) return;
  openDialog({
    title: `Topic of #${node.name}`,
    lead: "Everyone sees the topic in the channel's header. Leave it empty to clear it.",
    fields: [{ name: "topic", label: "Topic", type: "textarea", value: node.topic, maxLength: 512 }],
    submitText: "Set topic",
    onSubmit: async ({ topic }) => {
      await act(address(key), "set_topic", { topic: topic.trim() }, "topic not set");
    },
  });
}

function setTopic(key, topic) {
  const node = state.nodes.get(key);
  if (!node) return;
  node.topic = topic;
  if (key === state.current) renderTopic();
}

// -- profile (my name and status)

function openProfileDialog() {
  if (!state.me) return;
  const mine = state.members.get(state.me.user_id) || {};
  openDialog({
    title: "Your profile",
    fields: [
      { name: "username", label: "Display name", value: state.me.username, maxLength: 32 },
      {
        name: "status",
        label: "Status",
        type: "select",
        value: STATUS_LABELS[mine.status] ? mine.status : "online",
        options: Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label })),
      },
      { name: "text", label: "Status text", value: mine.status_text || "", maxLength: 128, placeholder: "What are you up to?" },
    ],
    submitText: "Save",
    onSubmit: async ({ username, status, text }) => {
      const name = username.trim();
      if (name && name !== state.me.username) {
        await act(COMMUNITY, "set_username", { username: name }, "name not changed");
      }
      const now = state.members.get(state.me.user_id) || {};
      if (status !== (now.status || "online") || text.trim() !== (now.status_text || "")) {
        await act(COMMUNITY, "set_status", { status, text: text.trim() }, "status not changed");
      }
    },
  });
}

// -- members (moderation)

function openMemberDialog(userId) {
  const m = state.members.get(userId);
  if (!m) return;
  if (state.me && userId === state.me.user_id) {
    openProfileDialog();
    return;
  }
  const facts = h(
    "dl",
    { className: "facts" },
    h("dt", { text: "Name" }),
    h("dd", { className: "member-card-name", text: m.username }),
    h("dt", { text: "Group" }),
    h("dd", { text: m.group || "member" }),
    h("dt", { text: "Status" }),
    h("dd", { text: m.online ? [STATUS_LABELS[m.status] || "Online", m.status_text].filter(Boolean).join(" — ") : "Offline" }),
    h("dt", { text: "User id" }),
    h("dd", { className: "mono", text: m.user_id }),
  );
  const button = (text, cls, onClick) => h("button", { type: "button", className: cls, text, on: { click: onClick } });
  const actions = h(
    "div",
    { className: "dialog-actions member-actions" },
    button("Rename…", "member-rename", () => renameMember(userId)),
    button("Change group…", "member-group-change", () => changeGroup(userId)),
    button(m.suppressed ? "Unmute in voice" : "Server-mute in voice", "member-mute", async () => {
      try {
        await act(COMMUNITY, "server_mute", { user_id: userId, suppress: !m.suppressed }, "mute not changed");
        openMemberDialog(userId);
      } catch {
        /* toast shown */
      }
    }),
    button("Remove…", "danger member-remove", () => removeMember(userId, false)),
    button("Ban…", "danger member-ban", () => removeMember(userId, true)),
  );
  openDialog({
    title: m.username,
    className: "member-dialog",
    body: [facts, actions, h("p", { className: "muted small-text", text: "The community decides who may do what: a refused action shows the reason." })],
    submitText: null,
    cancelText: "Close",
  });
}

function renameMember(userId) {
  const m = state.members.get(userId);
  if (!m) return;
  openDialog({
    title: `Rename ${m.username}`,
    fields: [{ name: "username", label: "Display name", value: m.username, maxLength: 32 }],
    submitText: "Rename",
    onSubmit: async ({ username }) => {
      await act(COMMUNITY, "set_username", { user_id: userId, username: username.trim() }, "member not renamed");
    },
  });
}

function changeGroup(userId) {
  const m = state.members.get(userId);
  if (!m) return;
  const names = Array.from(state.groups.keys());
  openDialog({
    title: `Group of ${m.username}`,
    lead: names.length ? `Groups here: ${names.join(", ")}.` : "",
    fields: [{ name: "group", label: "Group", value: m.group || "member", maxLength: 64 }],
    submitText: "Set group",
    onSubmit: async ({ group }) => {
      await act(COMMUNITY, "set_user_group", { user_id: userId, group: group.trim() }, "group not changed");
    },
  });
}

function removeMember(userId, ban) {
  const m = state.members.get(userId);
  if (!m) return;
  const fields = [];
  if (ban) fields.push({ name: "reason", label: "Reason (optional)", maxLength: 512 });
  fields.push({ name: "vengeance", label: "Also remove every message they sent, and their uploads", type: "checkbox", value: false });
  confirmDialog({
    title: ban ? `Ban ${m.username}` : `Remove ${m.username}`,
    lead: ban
      ? `${m.username} leaves the community and cannot join again, not even with a new invite, until unbanned.`
      : `${m.username} leaves the community. They may come back with a new invite.`,
    fields,
    confirmText: ban ? "Ban" : "Remove",
    onSubmit: async (values) => {
      const payload = { user_id: userId, vengeance: Boolean(values.vengeance) };
      if (ban && values.reason && values.reason.trim()) payload.reason = values.reason.trim();
      await act(COMMUNITY, ban ? "ban" : "remove_member", payload, ban ? "member not banned" : "member not removed");
    },
  });
}

function openBansDialog() {
  act(COMMUNITY, "get_bans", {}, "bans not loaded")
    .then((reply) => {
      const bans = reply.payload && Array.isArray(reply.payload.bans) ? reply.payload.bans : [];
      const list = h(
        "ul",
        { className: "ban-list" },
        bans.length
          ? bans.map((b) =>
              h(
                "li",
                { className: "ban", dataset: { userId: b.user_id } },
                h("span", { className: "ban-text", text: `${b.username} — banned by ${b.banned_by}${b.reason ? `: ${b.reason}` : ""}` }),
                h("button", {
                  type: "button",
                  className: "small",
                  text: "Unban",
                  on: {
                    click: async () => {
                      try {
                        await act(COMMUNITY, "unban", { user_id: b.user_id }, "not unbanned");
                        toast({ kind: "ok", title: "Unbanned", message: `${b.username} may join again with a new invite.`, timeout: 5000 });
                        openBansDialog();
                      } catch {
                        /* toast shown */
                      }
                    },
                  },
                }),
              ),
            )
          : [h("li", { className: "muted", text: "Nobody is banned." })],
      );
      openDialog({ title: "Bans", body: [list], submitText: null, cancelText: "Close" });
    })
    .catch(() => {});
}

// -- structure (channels and categories)

function categoryOptions() {
  const options = [{ value: "", label: "(top level)" }];
  for (const node of state.nodes.values()) if (node.codec === "category") options.push({ value: node.key, label: node.key });
  return options;
}

function openCreateDialog(parentKey = "", codec = "text") {
  openDialog({
    title: "Create",
    className: "create-dialog",
    fields: [
      {
        name: "codec",
        label: "Kind",
        type: "select",
        value: codec,
        options: [
          { value: "text", label: "Text channel" },
          { value: "voice", label: "Voice channel" },
          { value: "category", label: "Category" },
          { value: "link", label: "Link to another community" },
        ],
      },
      { name: "name", label: "Name", maxLength: 64, placeholder: "e.g. projects" },
      { name: "parent", label: "Inside", type: "select", value: parentKey, options: categoryOptions() },
      { name: "target", label: "Address (http or https)", placeholder: "https://…", showIf: { codec: ["link"] } },
    ],
    submitText: "Create",
    onSubmit: async ({ codec: kind, name, parent, target }) => {
      const payload = { codec: kind };
      if (kind === "link") {
        payload.kind = "community";
        payload.target = target.trim();
      }
      await act({ codec: kind, path: parent, name: name.trim() }, "create", payload, `${kind === "category" ? "category" : "channel"} not created`);
      if (kind === "text") {
        const key = keyOf(parent, name.trim());
        if (state.nodes.has(key)) selectChannel(key);
      }
    },
  });
}

function openNodeDialog(key) {
  const node = state.nodes.get(key);
  if (!node) return;
  const what = node.codec === "category" ? "category" : `${node.codec} channel`;
  const button = (text, cls, onClick) => h("button", { type: "button", className: cls, text, on: { click: onClick } });
  const actions = [
    button("Rename…", "node-rename", () => renameNode(key)),
    button("Move…", "node-move", () => moveNode(key)),
  ];
  if (node.codec === "text" || node.codec === "voice") actions.push(button("Set topic…", "node-topic", () => openTopicDialog(key)));
  if (node.codec === "category") actions.push(button("Create inside…", "node-create", () => openCreateDialog(key)));
  actions.push(button("Remove…", "danger node-remove", () => removeNode(key)));
  openDialog({
    title: node.codec === "category" ? node.name : `${node.codec === "voice" ? "🔊" : node.codec === "link" ? "🔗" : "#"} ${node.name}`,
    lead: `A ${what}${node.path ? ` in ${node.path}` : " at the top level"}.${node.codec === "link" ? ` It points at ${linkLabel(node)}.` : ""}`,
    className: "node-dialog",
    body: [h("div", { className: "dialog-actions node-actions" }, actions)],
    submitText: null,
    cancelText: "Close",
  });
}

function renameNode(key) {
  const node = state.nodes.get(key);
  if (!node) return;
  openDialog({
    title: `Rename ${node.name}`,
    fields: [{ name: "new_name", label: "New name", value: node.name, maxLength: 64 }],
    submitText: "Rename",
    onSubmit: async ({ new_name: newName }) => {
      const name = newName.trim();
      state.treeHint = { from: key, to: keyOf(node.path, name) };
      try {
        await act(address(key), "rename", { new_name: name }, "not renamed");
      } finally {
        state.treeHint = null;
      }
    },
  });
}

function moveNode(key) {
  const node = state.nodes.get(key);
  if (!node) return;
  const options = categoryOptions().filter((o) => o.value !== key && !o.value.startsWith(`${key}/`));
  openDialog({
    title: `Move ${node.name}`,
    fields: [
      { name: "parent_path", label: "Into", type: "select", value: node.path, options },
      { name: "position", label: "Position (0 = first; empty = last)", type: "number", min: 0 },
    ],
    submitText: "Move",
    onSubmit: async ({ parent_path: parentPath, position }) => {
      const payload = { parent_path: parentPath };
      if (Number.isInteger(position) && position >= 0) payload.position = position;
      state.treeHint = { from: key, to: keyOf(parentPath, node.name) };
      try {
        await act(address(key), "move", payload, "not moved");
      } finally {
        state.treeHint = null;
      }
    },
  });
}

function removeNode(key) {
  const node = state.nodes.get(key);
  if (!node) return;
  confirmDialog({
    title: `Remove ${node.name}`,
    lead:
      node.codec === "category"
        ? `Remove the category ${node.name}, every channel in it, and all their messages? This cannot be undone.`
        : `Remove ${node.name} and all its messages? This cannot be undone.`,
    confirmText: "Remove",
    onSubmit: async () => {
      await act(address(key), "remove", {}, "not removed");
    },
  });
}

// -- community

function openCommunityMenu() {
  const button = (text, cls, onClick) => h("button", { type: "button", className: cls, text, on: { click: onClick } });
  openDialog({
    title: state.communityName,
    lead: state.community.description || "",
    className: "community-dialog",
    body: [
      h(
        "div",
        { className: "dialog-actions community-actions" },
        button("Create channel…", "community-create-channel", () => openCreateDialog("", "text")),
        button("Create category…", "community-create-category", () => openCreateDialog("", "category")),
        button("Create invite…", "community-create-invite", openInviteDialog),
        button("Community information…", "community-info", openInfoDialog),
        button("Bans…", "community-bans", openBansDialog),
      ),
      h("p", { className: "muted small-text", text: "The community decides who may do what: a refused action shows the reason." }),
    ],
    submitText: null,
    cancelText: "Close",
  });
}

const EXPIRY_CHOICES = [
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "1 day" },
  { value: "0", label: "7 days" },
  { value: "-1", label: "Never" },
];

function openInviteDialog() {
  openDialog({
    title: "Create an invite",
    lead: "An invite is a link. Whoever opens it can join, as many times as it has uses.",
    className: "invite-dialog",
    fields: [
      { name: "uses", label: "Uses", type: "number", value: 1, min: 1, max: 1000000 },
      { name: "expires_in", label: "Expires after", type: "select", value: "0", options: EXPIRY_CHOICES },
      { name: "group", label: "Group of those who join", value: "member", maxLength: 64 },
    ],
    submitText: "Create invite",
    onSubmit: async ({ uses, expires_in: expiresIn, group }) => {
      const payload = { uses: Number.isInteger(uses) && uses > 0 ? uses : 1, expires_in: Number(expiresIn) };
      if (group.trim()) payload.group = group.trim();
      const reply = await act(COMMUNITY, "create_invite", payload, "invite not created");
      return reply.payload || {};
    },
  }).then((invite) => {
    if (invite && typeof invite === "object") showInvite(invite);
  });
}

function showInvite(invite) {
  const link = invite.link || `${BASE_URL}/#invite=${invite.code}`;
  const input = h("input", { id: "invite-link", type: "text", readOnly: true, value: link, className: "mono" });
  const copy = h("button", {
    id: "invite-copy",
    type: "button",
    className: "primary",
    text: "Copy",
    on: {
      click: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(link);
          copy.textContent = "Copied";
        } catch {
          copy.textContent = document.execCommand && document.execCommand("copy") ? "Copied" : "Select and copy";
        }
      },
    },
  });
  const details = [
    `Group: ${invite.group || "member"}`,
    `Uses: ${invite.uses_left ?? "?"}`,
    invite.expires_at ? `Expires: ${fullTime(invite.expires_at)}` : "Never expires",
  ].join(" · ");
  openDialog({
    title: "Invite created",
    className: "invite-result",
    body: [h("div", { className: "row invite-row" }, input, copy), h("p", { className: "muted small-text", text: details })],
    submitText: "Done",
    cancelText: null,
  });
  input.select();
}

function openInfoDialog() {
  openDialog({
    title: "Community information",
    fields: [
      { name: "name", label: "Name", value: state.community.name, maxLength: 64 },
      { name: "description", label: "Description", type: "textarea", value: state.community.description, maxLength: 1000 },
      { name: "public", label: "Public: anyone with the address may join without an invite", type: "checkbox", value: state.community.public },
    ],
    submitText: "Save",
    onSubmit: async ({ name, description, public: open }) => {
      await act(COMMUNITY, "set_info", { name: name.trim(), description: description.trim(), public: open }, "information not saved");
    },
  });
}

/** After a removal with vengeance: every loaded channel is read again (messages were masked). */
function reloadLoadedChannels() {
  for (const cs of state.channels.values()) {
    cs.messages.clear();
    cs.nodes.clear();
    cs.loadedAny = false;
    cs.reachedStart = false;
  }
  if (state.current && state.nodes.get(state.current)?.codec === "text") loadNewest(state.current);
}

// -------------------------------------------------------------------------------------------------------------
// Updates

function onUpdate(data) {
  const payload = data.payload && typeof data.payload === "object" ? data.payload : {};
  const key = keyOf(data.path || "", data.name || "");
  switch (data.result) {
    case "message_live": {
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
    case "message_edited":
    case "message_removed":
      replaceMessage(key, payload);
      break;
    case "topic_changed":
      setTopic(key, typeof payload.topic === "string" ? payload.topic : "");
      break;
    case "tree_changed":
      if (payload.interactables && typeof payload.interactables === "object") applyTreeChange(payload.interactables, state.treeHint);
      break;
    case "info_changed":
      setCommunityInfo(payload);
      break;
    case "member_joined":
    case "member_changed":
      if (payload.user_id) {
        const before = state.members.get(payload.user_id);
        state.members.set(payload.user_id, { ...before, ...payload, online: payload.online !== undefined ? Boolean(payload.online) : Boolean(before && before.online) });
        if (state.me && payload.user_id === state.me.user_id) {
          if (typeof payload.username === "string") state.me.username = payload.username;
          if (typeof payload.group === "string" && payload.group !== state.me.group) {
            state.me.group = payload.group;
            loadGroups();
          }
          store.updateCommunity(BASE_URL, { username: state.me.username });
          renderMe();
        }
        renderMembers();
        renderMessages();
        renderTree();
      }
      break;
    case "member_removed":
      if (payload.user_id) {
        const gone = state.members.get(payload.user_id);
        state.members.delete(payload.user_id);
        renderMembers();
        if (gone && !(state.me && payload.user_id === state.me.user_id)) {
          toast({ kind: "info", title: payload.banned ? "Member banned" : "Member removed", message: `${gone.username} ${payload.banned ? "was banned" : "was removed from the community"}.`, timeout: 6000 });
        }
        if (payload.vengeance) reloadLoadedChannels();
      }
      break;
    case "group_changed":
    case "group_removed":
      loadGroups();
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
      const node = state.nodes.get(key);
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
    else if (e.key === "Escape" && state.editing) {
      e.preventDefault();
      cancelEditing();
    } else if (e.key === "ArrowUp" && !e.target.value && !state.editing && state.current && state.me) {
      // Up in an empty composer edits my newest message, as in other chat clients.
      const cs = state.channels.get(state.current);
      const ids = cs ? sortedIds(cs).reverse() : [];
      const id = ids.find((i) => cs.messages.get(i).sender_id === state.me.user_id);
      if (id !== undefined) {
        e.preventDefault();
        startEditing(state.current, id);
      }
    }
  });
  $("composer-cancel-edit").addEventListener("click", cancelEditing);
  $("composer-file").addEventListener("change", (e) => {
    const files = Array.from(e.target.files || []);
    e.target.value = "";
    stageFiles(files);
  });
  $("composer-input").addEventListener("paste", (e) => {
    const files = Array.from((e.clipboardData && e.clipboardData.files) || []).filter((f) => f.type.startsWith("image/"));
    if (files.length) {
      e.preventDefault();
      stageFiles(files);
    }
  });
  const chat = $("chat");
  chat.addEventListener("dragover", (e) => {
    if (e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files")) {
      e.preventDefault();
      chat.classList.add("dropping");
    }
  });
  chat.addEventListener("dragleave", (e) => {
    if (!chat.contains(e.relatedTarget)) chat.classList.remove("dropping");
  });
  chat.addEventListener("drop", (e) => {
    chat.classList.remove("dropping");
    const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
    if (!files.length) return;
    e.preventDefault();
    const node = state.current && state.nodes.get(state.current);
    if (node && node.codec === "text") stageFiles(files);
  });
  $("open-community").addEventListener("click", openCommunityMenu);
  $("open-profile").addEventListener("click", openProfileDialog);
  $("channel-topic").addEventListener("click", () => openTopicDialog());
  $("edit-topic").addEventListener("click", () => state.current && openNodeDialog(state.current));
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
  send(key, text, options) {
    return queueMessage(key, text, options).localId;
  },
});

boot();

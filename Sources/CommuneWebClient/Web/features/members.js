// Members: the members panel, a member's card with the moderation actions, my own panel and profile (name and
// status), groups (for permissions), and the community updates about members, presence and groups.
//
// The panel shows one page of the member list (PROTOCOL.md "The member list in pages"): the server tells this page's
// members' presence and changes, and the counts for the rest. `members` in the store holds the members this page
// knows (the page, and anyone fetched by id: a message's author, a mention), not necessarily everyone.

import { ConnectionLost } from "../lib/connection.js";
import { COMMUNITY } from "../lib/context.js";
import { confirmDialog, openDialog } from "../lib/dialogs.js";
import { nameAttr, nameNode, textNode } from "../lib/names.js";
import * as storage from "../lib/storage.js";
import { $, avatar, errorToast, h, paintAvatar, toast } from "../lib/ui.js";

const STATUS_LABELS = { online: "Online", away: "Away", busy: "Busy" };

/** Members per page of the panel (the server's default page; at most 200). */
const PAGE = 100;

let ctx = null;
/** The page shown: where it starts, the ids on it, and the community's counts. */
let page = { offset: 0, ids: [], total: 0, online: 0 };

// -------------------------------------------------------------------------------------------------------------
// Loading

function known(list) {
  const members = new Map(ctx.store.get("members"));
  for (const m of list) if (m && m.user_id) members.set(m.user_id, m);
  return members;
}

/** The page asked for last, and how many reads were asked: a read's reply older than the last asked is dropped. */
let requested = 0;
let reads = 0;

async function loadMembers(offset = requested) {
  requested = offset;
  const read = ++reads;
  try {
    const reply = await ctx.store.get("conn").call(COMMUNITY, "get_members", { offset, limit: PAGE });
    // A later read (the pager, a re-read after the list moved) was asked meanwhile: its page is the one shown.
    if (read !== reads) return;
    const p = reply.payload || {};
    const list = Array.isArray(p.members) ? p.members.filter((m) => m && m.user_id) : [];
    page = { offset: Number(p.offset) || 0, ids: list.map((m) => m.user_id), total: Number(p.total) || list.length, online: Number(p.online) || 0 };
    ctx.store.set({ members: known(list) });
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading members");
  }
}

/** Members this page has not seen (a message's author, a member named in an update), asked for by id in batches. */
const wanted = new Set();
const asked = new Set(); // asked for once already: an id of no member is not asked for again
let fetchSoon = null;
function fetchMember(userId) {
  if (!userId || asked.has(userId) || ctx.store.get("members").has(userId)) return;
  wanted.add(userId);
  clearTimeout(fetchSoon);
  fetchSoon = setTimeout(async () => {
    const conn = ctx.store.get("conn");
    const ids = [...wanted].slice(0, PAGE);
    ids.forEach((id) => {
      wanted.delete(id);
      asked.add(id);
    });
    if (!conn || !conn.online || !ids.length) return;
    try {
      const reply = await conn.call(COMMUNITY, "get_members", { user_ids: ids });
      const list = reply.payload && Array.isArray(reply.payload.members) ? reply.payload.members : [];
      ctx.store.set({ members: known(list) });
    } catch (e) {
      if (!(e instanceof ConnectionLost)) errorToast(e, "loading members");
    }
    if (wanted.size) fetchMember([...wanted][0]);
  }, 200);
}

async function loadGroups() {
  try {
    const reply = await ctx.store.get("conn").call(COMMUNITY, "get_groups", {});
    const list = reply.payload && Array.isArray(reply.payload.groups) ? reply.payload.groups : [];
    ctx.store.set({ groups: new Map(list.filter((g) => g && typeof g.name === "string").map((g) => [g.name, g])) });
  } catch (e) {
    if (!(e instanceof ConnectionLost)) errorToast(e, "loading groups");
  }
}

// -------------------------------------------------------------------------------------------------------------
// The members panel and my panel

/** A status line: the chosen status's label and the member's own text (isolated), joined by " — ". */
function statusLine(label, text) {
  const parts = [label || "", text ? textNode(text, "status-text") : ""].filter(Boolean);
  return parts.length === 2 ? [parts[0], " — ", parts[1]] : parts;
}

function memberItem(m, me) {
  const status = m.online ? (STATUS_LABELS[m.status] ? m.status : "online") : "offline";
  const line = statusLine(m.online && status !== "online" ? STATUS_LABELS[status] : "", m.status_text || "");
  return h(
    "li",
    {
      className: `member ${m.online ? "online" : "offline"} status-${status}${m.suppressed ? " suppressed" : ""}${me && m.user_id === me.user_id ? " me" : ""}`,
      dataset: { userId: m.user_id, status, group: m.group || "" },
    },
    h(
      "button",
      { className: "member-button", type: "button", title: `${nameAttr(m.username)}${m.group ? ` (${nameAttr(m.group)})` : ""}`, on: { click: () => openMemberDialog(m.user_id) } },
      h("span", { className: "avatar-wrap" }, avatar(m.username, m.user_id), h("span", { className: "presence-dot", title: m.online ? STATUS_LABELS[status] : "Offline" })),
      h(
        "span",
        { className: "member-text" },
        ctx.memberLabel(m.user_id, "member-name"),
        line.length ? h("span", { className: "member-status" }, line) : null,
      ),
      m.suppressed ? h("span", { className: "muted-marker", textContent: "🔇", title: "Server-muted", attrs: { "aria-label": "Server-muted" } }) : null,
      m.group ? nameNode(m.group, "group-badge") : null,
    ),
  );
}

function renderMembers() {
  const { members, me } = ctx.store.get();
  const shown = page.ids.map((id) => members.get(id)).filter(Boolean);
  const section = (title, list, cls) =>
    list.length
      ? [
          h("h3", { className: "member-group", textContent: `${title} — ${list.length}` }),
          h("ul", { className: `member-ul ${cls}` }, list.map((m) => memberItem(m, me))),
        ]
      : [];
  const counts = h("p", { className: "member-counts muted small-text", textContent: `${page.total} ${page.total === 1 ? "member" : "members"}, ${page.online} online` });
  const pager =
    page.total > PAGE
      ? h(
          "div",
          { className: "member-pager" },
          h("button", { type: "button", className: "member-page-prev", textContent: "‹ Previous", disabled: page.offset === 0, on: { click: () => loadMembers(Math.max(0, page.offset - PAGE)) } }),
          h("span", { className: "member-page-range", textContent: `${Math.min(page.offset + 1, page.total)}–${Math.min(page.offset + shown.length, page.total)} of ${page.total}` }),
          h("button", { type: "button", className: "member-page-next", textContent: "Next ›", disabled: page.offset + PAGE >= page.total, on: { click: () => loadMembers(page.offset + PAGE) } }),
        )
      : null;
  $("member-list").replaceChildren(
    counts,
    ...(pager ? [pager] : []),
    ...section("Online", shown.filter((m) => m.online), "members-online"),
    ...section("Offline", shown.filter((m) => !m.online), "members-offline"),
  );
}

/** The user panel: my name, and my connection state or chosen status. */
function renderMe() {
  const { me, members, connection } = ctx.store.get();
  if (me) {
    $("me-name").replaceChildren(ctx.memberLabel(me.user_id));
    paintAvatar($("me-avatar"), me.username, me.user_id);
  }
  const status = $("me-status");
  const s = connection.state;
  const mine = me && members.get(me.user_id);
  if (s === "online" && mine) {
    const chosen = STATUS_LABELS[mine.status] ? mine.status : "online";
    status.replaceChildren(...statusLine(chosen, mine.status_text || ""));
    status.dataset.status = chosen;
  } else {
    status.textContent = { online: "online", connecting: "connecting…", authenticating: "signing in…", reconnecting: "offline", failed: "signed out", idle: "offline" }[s] || s;
    status.dataset.status = "";
  }
  status.dataset.state = s;
}

// -------------------------------------------------------------------------------------------------------------
// Dialogs (the server decides who may; a refusal is shown as its error)

function openProfileDialog() {
  const { me, members } = ctx.store.get();
  if (!me) return;
  const mine = members.get(me.user_id) || {};
  openDialog({
    title: "Your profile",
    fields: [
      { name: "username", label: "Display name", value: me.username, maxLength: 32 },
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
      if (name && name !== ctx.store.get("me").username) {
        await ctx.act(COMMUNITY, "set_username", { username: name }, "name not changed");
      }
      const now = ctx.store.get("members").get(me.user_id) || {};
      if (status !== (now.status || "online") || text.trim() !== (now.status_text || "")) {
        await ctx.act(COMMUNITY, "set_status", { status, text: text.trim() }, "status not changed");
      }
    },
  });
}

function openMemberDialog(userId) {
  const { members, me } = ctx.store.get();
  const m = members.get(userId);
  if (!m) return;
  if (me && userId === me.user_id) {
    openProfileDialog();
    return;
  }
  const facts = h(
    "dl",
    { className: "facts" },
    h("dt", { textContent: "Name" }),
    h("dd", { className: "member-card-name" }, ctx.memberLabel(userId)),
    h("dt", { textContent: "Group" }),
    h("dd", {}, nameNode(m.group || "member")),
    h("dt", { textContent: "Status" }),
    h("dd", {}, m.online ? statusLine(STATUS_LABELS[m.status] || "Online", m.status_text || "") : "Offline"),
    h("dt", { textContent: "User id" }),
    h("dd", { className: "mono", textContent: m.user_id }),
  );
  // Only what my group may do to this member: the permission, and a power level above theirs.
  const may = (permission) => ctx.can(permission) && ctx.outranks(userId);
  const button = (permission, text, cls, onClick) =>
    may(permission) ? h("button", { type: "button", className: cls, textContent: text, on: { click: onClick } }) : null;
  const buttons = [
    button("rename_users", "Rename…", "member-rename", () => renameMember(userId)),
    button("set_user_groups", "Change group…", "member-group-change", () => changeGroup(userId)),
    button("suppress_users", m.suppressed ? "Unmute in voice" : "Server-mute in voice", "member-mute", async () => {
      try {
        await ctx.act(COMMUNITY, "server_mute", { user_id: userId, suppress: !m.suppressed }, "mute not changed");
        openMemberDialog(userId);
      } catch {
        /* toast shown */
      }
    }),
    button("remove_users", "Remove…", "danger member-remove", () => removeMember(userId, false)),
    button("ban_users", "Ban…", "danger member-ban", () => removeMember(userId, true)),
  ].filter(Boolean);
  const actions = buttons.length
    ? [
        h("div", { className: "dialog-actions member-actions" }, buttons),
        h("p", { className: "muted small-text", textContent: "The community decides who may do what: a refused action shows the reason." }),
      ]
    : [];
  openDialog({
    title: [ctx.memberLabel(userId)],
    className: "member-dialog",
    body: [facts, ...actions],
    submitText: null,
    cancelText: "Close",
  });
}

function renameMember(userId) {
  const m = ctx.store.get("members").get(userId);
  if (!m) return;
  openDialog({
    title: ["Rename ", ctx.memberLabel(userId)],
    fields: [{ name: "username", label: "Display name", value: m.username, maxLength: 32 }],
    submitText: "Rename",
    onSubmit: async ({ username }) => {
      await ctx.act(COMMUNITY, "set_username", { user_id: userId, username: username.trim() }, "member not renamed");
    },
  });
}

function changeGroup(userId) {
  const m = ctx.store.get("members").get(userId);
  if (!m) return;
  const names = Array.from(ctx.store.get("groups").keys());
  openDialog({
    title: ["Group of ", ctx.memberLabel(userId)],
    lead: names.length ? `Groups here: ${names.join(", ")}.` : "",
    fields: [{ name: "group", label: "Group", value: m.group || "member", maxLength: 64 }],
    submitText: "Set group",
    onSubmit: async ({ group }) => {
      await ctx.act(COMMUNITY, "set_user_group", { user_id: userId, group: group.trim() }, "group not changed");
    },
  });
}

function removeMember(userId, ban) {
  const m = ctx.store.get("members").get(userId);
  if (!m) return;
  const fields = [];
  if (ban) fields.push({ name: "reason", label: "Reason (optional)", maxLength: 512 });
  fields.push({ name: "vengeance", label: "Also remove every message they sent, and their uploads", type: "checkbox", value: false });
  confirmDialog({
    title: [ban ? "Ban " : "Remove ", ctx.memberLabel(userId)],
    lead: ban
      ? [ctx.memberLabel(userId), " leaves the community and cannot join again, not even with a new invite, until unbanned."]
      : [ctx.memberLabel(userId), " leaves the community. They may come back with a new invite."],
    fields,
    confirmText: ban ? "Ban" : "Remove",
    onSubmit: async (values) => {
      const payload = { user_id: userId, vengeance: Boolean(values.vengeance) };
      if (ban && values.reason && values.reason.trim()) payload.reason = values.reason.trim();
      await ctx.act(COMMUNITY, ban ? "ban" : "remove_member", payload, ban ? "member not banned" : "member not removed");
    },
  });
}

// -------------------------------------------------------------------------------------------------------------
// Updates

function memberJoined(update) {
  const { payload } = update;
  if (!payload.user_id) return;
  // Sent only when the new member's place is on this page.
  if (!page.ids.includes(payload.user_id)) page = { ...page, ids: [...page.ids, payload.user_id], total: page.total + 1 };
  memberChanged(update);
}

function memberChanged({ payload }) {
  if (!payload.user_id) return;
  const members = new Map(ctx.store.get("members"));
  const before = members.get(payload.user_id);
  members.set(payload.user_id, { ...before, ...payload, online: payload.online !== undefined ? Boolean(payload.online) : Boolean(before && before.online) });
  const me = ctx.store.get("me");
  if (!me || payload.user_id !== me.user_id) {
    ctx.store.set({ members });
    return;
  }
  const mine = { ...me };
  if (typeof payload.username === "string") mine.username = payload.username;
  const regroup = typeof payload.group === "string" && payload.group !== me.group;
  if (regroup) mine.group = payload.group;
  storage.updateCommunity(ctx.baseUrl, { username: mine.username });
  ctx.store.set({ members, me: mine });
  if (regroup) loadGroups();
}

function memberRemoved({ payload }) {
  if (!payload.user_id) return;
  const members = new Map(ctx.store.get("members"));
  const gone = members.get(payload.user_id);
  members.delete(payload.user_id);
  if (page.ids.includes(payload.user_id)) page = { ...page, ids: page.ids.filter((id) => id !== payload.user_id) };
  page = { ...page, total: Math.max(0, page.total - 1) };
  ctx.store.set({ members });
  const me = ctx.store.get("me");
  if (gone && !(me && payload.user_id === me.user_id)) {
    const what = payload.banned ? " was banned." : " was removed from the community.";
    toast({ kind: "info", title: payload.banned ? "Member banned" : "Member removed", message: [nameNode(gone.username), what], timeout: 6000 });
  }
  // With vengeance their messages are masked; either way their reactions no longer count (PROTOCOL.md, member_removed).
  ctx.bus.emit(payload.vengeance ? "messages-masked" : "reactions-stale");
}

function presence({ payload }) {
  const m = ctx.store.get("members").get(payload.user_id);
  if (!m) {
    fetchMember(payload.user_id);
    return;
  }
  if (m.online !== Boolean(payload.online) && page.total > 0) page = { ...page, online: Math.max(0, page.online + (payload.online ? 1 : -1)) };
  ctx.store.set({ members: new Map(ctx.store.get("members")).set(m.user_id, { ...m, online: Boolean(payload.online) }) });
}

/** How long the page waits for more changes before it reads itself again after the list moved. */
const REREAD_DELAY = 300;
let rereadSoon = null;

/**
 * The counts, when this page does not hold the whole list (at most once a second). With changed_from before the
 * page's end, a join, removal or rename moved the members on it: the page is read again (once for a burst).
 */
function memberCounts({ payload }) {
  page = { ...page, total: Number(payload.total) || 0, online: Number(payload.online) || 0 };
  ctx.store.touch("members");
  if (Number.isInteger(payload.changed_from) && payload.changed_from < requested + PAGE) {
    clearTimeout(rereadSoon);
    rereadSoon = setTimeout(() => {
      const conn = ctx.store.get("conn");
      if (conn && conn.online) loadMembers();
    }, REREAD_DELAY);
  }
}

/** The community updates this feature handles. */
export const updates = {
  member_joined: memberJoined,
  member_changed: memberChanged,
  member_removed: memberRemoved,
  presence,
  member_counts: memberCounts,
  group_changed: loadGroups,
  group_removed: loadGroups,
};

export function install(context) {
  ctx = context;
  const { store, bus } = ctx;
  store.subscribe(["members", "me", "groups"], renderMembers);
  store.subscribe(["me", "members", "connection"], renderMe);
  bus.on("online", () => {
    loadMembers();
    loadGroups();
  });
  bus.on("unknown-member", fetchMember);
  bus.on("open-member", openMemberDialog);
  $("open-profile").addEventListener("click", openProfileDialog);
}

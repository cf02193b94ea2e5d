// Mentions (PROTOCOL.md "Mentions"): `@` in the composer opens a list of members (by name, keyboard and mouse) and
// inserts the chosen member's token `<@USER_ID>`, so names that change or look alike never matter; tokens show as
// "@name" pills with the member's current name (isolated in a <bdi>, a look-alike told apart by a piece of the user
// id; an id that is no member's as "@unknown-member"); a message mentioning me (or everyone) is highlighted; the
// sidebar shows unread mentions per channel ("@3", from get_read_state and live messages) beside the unread count;
// desktop notifications are opt-in (asked only when turned on), per channel: all messages, mentions only (the
// default) or nothing, shown while the page is hidden.

import { hideSpoilers } from "../../lib/markup.js";
import { lookAlikeKey, nameNode } from "../../lib/names.js";
import { keyOf } from "../../lib/tree.js";
import { $, h } from "../../lib/ui.js";
import { currentKey, isText, model } from "./model.js";
import { readMark, syncReadState } from "./readstate.js";

const TOKEN = /<@([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})>/g;
const MAX_OPTIONS = 10;
/** How long typing pauses before the server is asked for the members matching what was typed. */
const SEARCH_DELAY = 150;
const decorated = new WeakSet();
const NOTIFY_KEY = "commune.notifications";

/** Whether message m mentions me (by id or @everyone), not counting my own messages. */
export function mentionsMe(m) {
  const me = model.ctx.store.get("me");
  if (!m || !me || !m.sender_id || m.sender_id === me.user_id) return false;
  return Boolean(m.mentions_everyone) || (Array.isArray(m.mentions) && m.mentions.includes(me.user_id));
}

/** The name a token shows: the member's current name, or "unknown-member". */
function mentionName(id) {
  const member = model.ctx.store.get("members").get(id);
  return member && member.username ? member.username : "unknown-member";
}

function fillPill(pill) {
  const id = pill.dataset.userId;
  const tag = model.ctx.store.get("members").has(id) ? model.ctx.memberTag(id) : "";
  const parts = ["@", nameNode(mentionName(id))];
  if (tag) parts.push(h("span", { className: "name-tag", textContent: `#${tag}` }));
  pill.replaceChildren(...parts);
}

/** The text of a message with its tokens as "@name" (for a notification, where no element can show a pill). */
export function plainMentions(text) {
  return String(text || "").replace(TOKEN, (_, id) => `@${mentionName(id.toLowerCase())}`);
}

/** After the message list is drawn: tokens in message text become pills, messages mentioning me are highlighted. */
export function decorateMentions(list, cs) {
  // Pending sends too: their tokens show as pills before the server has the message.
  for (const li of list.querySelectorAll("li.message[data-id], li.message[data-pending]")) {
    const m = li.dataset.id ? cs.messages.get(Number(li.dataset.id)) : null;
    li.classList.toggle("mentions-me", mentionsMe(m));
    if (!decorated.has(li)) {
      decorated.add(li);
      for (const content of li.querySelectorAll(".message-content")) replaceTokens(content);
    }
    for (const pill of li.querySelectorAll(".mention-pill")) fillPill(pill);
  }
}

function replaceTokens(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    TOKEN.lastIndex = 0;
    if (TOKEN.test(node.data)) found.push(node);
  }
  for (const node of found) {
    const parts = [];
    let last = 0;
    TOKEN.lastIndex = 0;
    for (let match = TOKEN.exec(node.data); match; match = TOKEN.exec(node.data)) {
      if (match.index > last) parts.push(document.createTextNode(node.data.slice(last, match.index)));
      parts.push(h("span", { className: "mention-pill", dataset: { userId: match[1].toLowerCase() } }));
      last = match.index + match[0].length;
    }
    if (last < node.data.length) parts.push(document.createTextNode(node.data.slice(last)));
    node.replaceWith(...parts);
  }
}

// MARK: the mention badge

function setMentions(key, update) {
  const mentions = new Map(model.ctx.store.get("mentions") || []);
  const count = Math.max(0, update(mentions.get(key) || 0));
  if (count) mentions.set(key, count);
  else mentions.delete(key);
  model.ctx.store.set({ mentions });
}

/** Unread mentions per channel from get_read_state's entries (readstate.js asks at each connection). */
function readState(list) {
  const mentions = new Map();
  const current = currentKey();
  for (const entry of list) {
    if (!entry || typeof entry.path !== "string" || typeof entry.name !== "string") continue;
    const key = keyOf(entry.path, entry.name);
    if (Number.isInteger(entry.mentions) && entry.mentions > 0 && !(key === current && !document.hidden)) mentions.set(key, entry.mentions);
  }
  model.ctx.store.set({ mentions });
}

/** A live message: counts towards the badge when it mentions me and is not being read; may notify. */
export function mentionLive(key, m) {
  const reading = key === currentKey() && !document.hidden;
  if (mentionsMe(m) && !reading) setMentions(key, (n) => n + 1);
  notify(key, m);
}

let recount = null;

/**
 * `message_edited` or `message_removed` in channel key, not being read: an edit that adds or removes a mention of me
 * in an unread message (after the server's mark) changes the badge by one. before: the message as this page had it;
 * when it was not loaded (sent before the page was), whether it mentioned me is the server's to say: its counts are
 * read again (get_read_state, once for a burst of edits).
 */
export function mentionEdited(key, before, payload) {
  if (!payload || !Number.isInteger(payload.message_id) || (key === currentKey() && !document.hidden)) return;
  const mark = readMark(key);
  if (Number.isInteger(mark) && payload.message_id <= mark) return;
  const now = mentionsMe({
    sender_id: typeof payload.sender_id === "string" ? payload.sender_id : null,
    mentions: Array.isArray(payload.mentions) ? payload.mentions : [],
    mentions_everyone: payload.mentions_everyone === true,
  });
  if (before) {
    const was = mentionsMe(before);
    if (was !== now) setMentions(key, (n) => n + (now ? 1 : -1));
    return;
  }
  // Neither mentioning me now nor counted before: nothing to ask.
  if (recount || (!now && !(model.ctx.store.get("mentions") || new Map()).get(key))) return;
  recount = setTimeout(() => {
    recount = null;
    syncReadState();
  }, 250);
}

/** `read_marked` (from any device): read to the newest clears the badge. */
export function mentionsRead({ key, payload }) {
  if (payload && payload.unread === 0) setMentions(key, () => 0);
}

/** The channel is shown: its mentions are being read. */
export function mentionsSeen(key) {
  setMentions(key, () => 0);
}

/** The sidebar badge for channel key ("@3"), or null. */
export function mentionBadge(key) {
  const count = (model.ctx.store.get("mentions") || new Map()).get(key) || 0;
  if (!count) return null;
  const text = `@${count > 99 ? "99+" : count}`;
  return h("span", { className: "badge mention-badge", textContent: text, title: `${count} unread mention${count === 1 ? "" : "s"}` });
}

// MARK: desktop notifications

function notifySettings() {
  try {
    const saved = JSON.parse(localStorage.getItem(NOTIFY_KEY) || "{}");
    return { enabled: Boolean(saved.enabled), levels: saved.levels && typeof saved.levels === "object" ? saved.levels : {} };
  } catch {
    return { enabled: false, levels: {} };
  }
}

function saveNotifySettings(settings) {
  try {
    localStorage.setItem(NOTIFY_KEY, JSON.stringify(settings));
  } catch {
    // Private browsing without storage: the setting lasts for this page.
  }
}

/** The channel's notification level: "all", "mentions" (default) or "none". */
export function notifyLevel(key) {
  const level = notifySettings().levels[key];
  return level === "all" || level === "none" ? level : "mentions";
}

function notify(key, m) {
  const settings = notifySettings();
  if (!settings.enabled || !document.hidden || typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const me = model.ctx.store.get("me");
  if (!m || !m.sender_id || (me && m.sender_id === me.user_id)) return;
  const level = notifyLevel(key);
  if (level === "none" || (level === "mentions" && !mentionsMe(m))) return;
  const node = model.ctx.store.get("nodes").get(key);
  try {
    new Notification(`${model.ctx.memberName(m.sender_id)} in #${node ? node.name : key}`, { body: Array.from(plainMentions(hideSpoilers(m.message))).slice(0, 200).join(""), tag: `${key}:${m.message_id}` });
  } catch {
    // A browser that shows notifications only from a service worker: nothing to show.
  }
}

function wireNotifySetting() {
  const pins = $("channel-pins");
  if (!pins || $("notify-level")) return;
  const toggle = h("input", { type: "checkbox", id: "notify-enabled" });
  const select = h(
    "select",
    { id: "notify-level", title: "Desktop notifications for this channel", attrs: { "aria-label": "Desktop notifications for this channel" } },
    h("option", { value: "all", textContent: "All messages" }),
    h("option", { value: "mentions", textContent: "Mentions only" }),
    h("option", { value: "none", textContent: "Nothing" }),
  );
  const box = h("label", { className: "notify-setting", title: "Desktop notifications" }, toggle, h("span", { textContent: "🔔", attrs: { "aria-hidden": "true" } }), select);
  const refresh = () => {
    const settings = notifySettings();
    toggle.checked = settings.enabled && typeof Notification !== "undefined" && Notification.permission === "granted";
    select.disabled = !toggle.checked;
    const key = currentKey();
    box.hidden = !isText(key ? model.ctx.store.get("nodes").get(key) : null);
    if (key) select.value = notifyLevel(key);
  };
  toggle.addEventListener("change", async () => {
    const settings = notifySettings();
    settings.enabled = toggle.checked;
    // Permission is asked only here, when the member turns notifications on.
    if (settings.enabled && typeof Notification !== "undefined" && Notification.permission !== "granted") {
      settings.enabled = (await Notification.requestPermission()) === "granted";
    }
    saveNotifySettings(settings);
    refresh();
  });
  select.addEventListener("change", () => {
    const key = currentKey();
    if (!key) return;
    const settings = notifySettings();
    settings.levels[key] = select.value;
    saveNotifySettings(settings);
  });

  pins.before(box);
  model.ctx.store.subscribe(["current"], refresh);
  refresh();
}

// MARK: the composer's autocomplete

/** The "@query" being typed just before the caret, or null. */
function typedQuery(input) {
  const before = input.value.slice(0, input.selectionStart);
  const match = /(^|\s)@([^\s@<>]{0,32})$/u.exec(before);
  return match ? { start: before.length - match[2].length - 1, query: match[2] } : null;
}

/**
 * The members this page knows that match query: by the start of the name (and those the server found for query,
 * whose folding of accents is its own), then anywhere in it, then a look-alike.
 */
function candidates(query, found = new Set()) {
  const members = [...model.ctx.store.get("members").values()].filter((m) => m && m.username);
  const q = query.toLowerCase();
  const key = lookAlikeKey(query);
  const score = (m) => {
    const name = m.username.toLowerCase();
    if (name.startsWith(q) || found.has(m.user_id)) return 0;
    if (name.includes(q)) return 1;
    if (key && lookAlikeKey(m.username).startsWith(key)) return 2;
    return -1;
  };
  return members
    .map((m) => ({ m, s: score(m) }))
    .filter((c) => c.s >= 0)
    .sort((a, b) => a.s - b.s || a.m.username.localeCompare(b.m.username) || String(a.m.user_id).localeCompare(String(b.m.user_id)))
    .slice(0, MAX_OPTIONS)
    .map((c) => c.m);
}

function wireAutocomplete() {
  const input = $("composer-input");
  const form = $("composer");
  const menu = h("ul", { id: "mention-menu", className: "mention-menu", hidden: true, attrs: { role: "listbox", "aria-label": "Mention a member" } });
  form.append(menu);
  let state = null; // {start, options, index}

  const close = () => {
    state = null;
    menu.hidden = true;
    menu.replaceChildren();
    input.removeAttribute("aria-activedescendant");
  };
  const choose = (member) => {
    if (!state) return;
    const end = input.selectionStart;
    const token = `<@${member.user_id}> `;
    input.value = input.value.slice(0, state.start) + token + input.value.slice(end);
    const caret = state.start + token.length;
    input.setSelectionRange(caret, caret);
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  };
  const draw = () => {
    menu.replaceChildren(
      ...state.options.map((m, i) =>
        h(
          "li",
          {
            id: `mention-option-${i}`,
            className: `mention-option${i === state.index ? " active" : ""}`,
            dataset: { userId: m.user_id },
            attrs: { role: "option", "aria-selected": String(i === state.index) },
            on: {
              // mousedown, not click: the composer keeps its focus and caret.
              mousedown: (e) => {
                e.preventDefault();
                choose(m);
              },
            },
          },
          model.ctx.memberLabel(m.user_id, "mention-option-name"),
        ),
      ),
    );
    menu.hidden = false;
    input.setAttribute("aria-activedescendant", `mention-option-${state.index}`);
  };
  // The page knows only some members (the panel's page, authors, mentions): the server is asked too, once typing
  // pauses, and the members it finds join the known ones; a reply to a query no longer typed is not shown.
  let found = { query: null, ids: new Set() };
  let asking = null;
  const show = (typed) => {
    const options = candidates(typed.query, found.query === typed.query ? found.ids : undefined);
    if (!options.length) return close();
    const ids = (list) => list.map((m) => m.user_id).join(" ");
    // The same options (the server found none the page did not know): the menu stays as it is, under the pointer.
    if (state && !menu.hidden && state.start === typed.start && ids(state.options) === ids(options)) return;
    const chosen = state && state.options[state.index];
    const index = chosen ? options.findIndex((m) => m.user_id === chosen.user_id) : -1;
    state = { start: typed.start, options, index: Math.max(0, index) };
    draw();
  };
  const update = () => {
    const typed = typedQuery(input);
    clearTimeout(asking);
    if (!typed) return close();
    show(typed);
    if (found.query === typed.query) return;
    asking = setTimeout(async () => {
      const list = await model.ctx.searchMembers(typed.query, MAX_OPTIONS);
      found = { query: typed.query, ids: new Set(list.map((m) => m.user_id)) };
      const now = typedQuery(input);
      if (now && now.query === typed.query && document.activeElement === input) show(now);
    }, SEARCH_DELAY);
  };
  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("blur", () => setTimeout(close, 150));
  // Capture on the form: the menu's keys never reach the composer's own Enter-to-send.
  form.addEventListener(
    "keydown",
    (e) => {
      if (!state || e.target !== input) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        state.index = (state.index + (e.key === "ArrowDown" ? 1 : state.options.length - 1)) % state.options.length;
        draw();
      } else if (e.key === "Enter" || e.key === "Tab") {
        choose(state.options[state.index]);
      } else if (e.key === "Escape") {
        close();
      } else {
        return;
      }
      e.preventDefault();
      e.stopPropagation();
    },
    true,
  );
}

/** Sets up the autocomplete and the notification setting; the sidebar badge follows the store's "mentions". */
export function wireMentions() {
  if (!model.ctx.store.get("mentions")) model.ctx.store.set({ mentions: new Map() });
  wireAutocomplete();
  wireNotifySetting();
  model.ctx.bus.on("read-state", readState);
  // Names change: pills show the current one.
  model.ctx.store.subscribe(["members"], () => {
    for (const pill of document.querySelectorAll("#message-list .mention-pill")) fillPill(pill);
  });
}

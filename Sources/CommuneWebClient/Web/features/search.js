// Search: a search box over the chat (the 🔍 button in the channel header, or Ctrl+K), results newest first with the
// words found highlighted, paged with "More results"; clicking one closes the panel (its results stay for the next
// open) and shows the message in its channel (the text codec loads that stretch of history and highlights it, on the
// bus's open-message).
// Bus events: emits open-message ({key, id}).

import { ConnectionLost } from "../lib/connection.js";
import { COMMUNITY } from "../lib/context.js";
import { nameAttr, nameNode } from "../lib/names.js";
import { keyOf } from "../lib/tree.js";
import { $, errorToast, h, show } from "../lib/ui.js";

/** The longest query the server takes (PROTOCOL.md, Search), in code points. */
const MAX_QUERY = 256;
const PAGE = 25;

let ctx = null;
/** The search shown: {query, scope (a channel key or ""), results: [], cursor, loading, error}. */
let search = null;
let elements = null;

/** A query's words as the server reads them: runs of letters, digits and marks. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const fold = (word) => word.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();

function build() {
  const input = h("input", {
    id: "search-input",
    type: "search",
    placeholder: "Search messages",
    maxLength: MAX_QUERY,
    attrs: { "aria-label": "Search messages", autocomplete: "off" },
  });
  const scope = h("select", { id: "search-scope", attrs: { "aria-label": "Where to search" } });
  const form = h(
    "form",
    { className: "search-form", on: { submit: (e) => (e.preventDefault(), start()) } },
    input,
    scope,
    h("button", { type: "submit", className: "primary small", textContent: "Search" }),
    h("button", { type: "button", className: "icon-button", textContent: "✕", title: "Close search (Esc)", attrs: { "aria-label": "Close search" }, on: { click: close } }),
  );
  // Filters: who wrote it, and between which days (local dates; the server takes Unix milliseconds).
  const author = h("select", { id: "search-author", attrs: { "aria-label": "Written by" } });
  // The select lists the members this page knows; typing the start of a name asks the server for any member.
  const authorFind = h("input", {
    id: "search-author-find",
    type: "search",
    placeholder: "Find author…",
    maxLength: 32,
    attrs: { "aria-label": "Find an author by the start of their name", autocomplete: "off" },
    on: { input: () => findAuthors() },
  });
  const after = h("input", { id: "search-after", type: "date", title: "Sent on or after this day", attrs: { "aria-label": "Sent on or after" } });
  const before = h("input", { id: "search-before", type: "date", title: "Sent on or before this day", attrs: { "aria-label": "Sent on or before" } });
  const filters = h(
    "div",
    { className: "search-filters" },
    authorFind,
    author,
    h("label", { className: "search-date" }, "from ", after),
    h("label", { className: "search-date" }, "to ", before),
  );
  const status = h("p", { id: "search-status", className: "search-status", attrs: { role: "status" } });
  const list = h("ol", { id: "search-results", className: "search-results" });
  const more = h("button", { id: "search-more", type: "button", className: "link-button", textContent: "More results", hidden: true, on: { click: () => page() } });
  const panel = h("section", { id: "search-panel", className: "search-panel", hidden: true, attrs: { "aria-label": "Search" } }, form, filters, status, list, more);
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  const button = h("button", {
    id: "open-search",
    type: "button",
    className: "icon-button",
    textContent: "🔍",
    title: "Search messages (Ctrl+K)",
    attrs: { "aria-label": "Search messages" },
    on: { click: () => (panel.hidden ? open() : close()) },
  });
  $("open-members").before(button);
  $("chat").append(panel);
  return { panel, input, scope, author, authorFind, after, before, status, list, more, button };
}

function open() {
  renderScope();
  if (elements.authorFind.value.trim()) findAuthors();
  else renderAuthors();
  show(elements.panel, true);
  elements.input.focus();
  elements.input.select();
}

function close() {
  show(elements.panel, false);
}

/** "Everywhere", and the channel shown (with the category around it) to narrow the search to. */
function renderScope() {
  const { current, nodes } = ctx.store.get();
  const node = current ? nodes.get(current) : null;
  const chosen = elements.scope.value;
  const options = [h("option", { value: "", textContent: "Everywhere" })];
  if (node) options.push(h("option", { value: node.key, textContent: `In #${nameAttr(node.name)}` }));
  if (node && node.path) options.push(h("option", { value: node.path, textContent: `In ${nameAttr(node.path)}` }));
  elements.scope.replaceChildren(...options);
  elements.scope.value = options.some((o) => o.value === chosen) ? chosen : "";
}

let findingAuthors = null;
/** The author finder changed: after a pause, the members whose name starts with it (server-side), or all known. */
function findAuthors() {
  clearTimeout(findingAuthors);
  findingAuthors = setTimeout(async () => {
    const typed = elements.authorFind.value.trim();
    if (!typed) return renderAuthors();
    const found = await ctx.searchMembers(typed, 10);
    if (elements.authorFind.value.trim() !== typed) return;
    renderAuthors(found.map((m) => m.user_id));
    // The first found is chosen, so that typing a name is enough; the select offers the others.
    if (found.length && !found.some((m) => m.user_id === elements.author.value)) elements.author.value = found[0].user_id;
  }, 200);
}

/** "Anyone", then the members listed (every member this page knows by default) by name (look-alikes told apart). */
function renderAuthors(ids = null) {
  const chosen = elements.author.value;
  const members = ids ? [...new Set(chosen ? [chosen, ...ids] : ids)] : Array.from(ctx.store.get("members").keys());
  const options = [h("option", { value: "", textContent: "Anyone" })];
  for (const id of members.sort((a, b) => ctx.memberName(a).localeCompare(ctx.memberName(b)))) {
    options.push(h("option", { value: id, textContent: `By ${ctx.memberName(id)}` }));
  }
  elements.author.replaceChildren(...options);
  elements.author.value = options.some((o) => o.value === chosen) ? chosen : "";
}

/** A date input's day as Unix milliseconds at its local midnight (plus `days`), or undefined when empty. */
function dayStart(input, days = 0) {
  const [y, m, d] = (input.value || "").split("-").map(Number);
  if (!y || !m || !d) return undefined;
  return new Date(y, m - 1, d + days).getTime();
}

function start() {
  const query = elements.input.value.trim();
  if (!query) return;
  search = {
    query,
    scope: elements.scope.value,
    author: elements.author.value,
    after: dayStart(elements.after),
    before: dayStart(elements.before, 1), // the whole chosen day: before the next one's midnight
    results: [],
    cursor: null,
    loading: false,
    error: "",
  };
  page();
}

async function page() {
  const s = search;
  if (!s || s.loading) return;
  const conn = ctx.store.get("conn");
  if (!conn || !conn.online) {
    s.error = "Not connected: wait for the connection and try again.";
    render();
    return;
  }
  const payload = { query: s.query, amount: PAGE };
  if (s.scope) {
    const slash = s.scope.lastIndexOf("/");
    payload.channel = { path: slash < 0 ? "" : s.scope.slice(0, slash), name: slash < 0 ? s.scope : s.scope.slice(slash + 1) };
  }
  if (s.author) payload.author = s.author;
  if (s.after !== undefined) payload.after = s.after;
  if (s.before !== undefined) payload.before = s.before;
  if (s.cursor) payload.cursor = s.cursor;
  s.loading = true;
  s.error = "";
  render();
  try {
    const reply = await conn.call(COMMUNITY, "search", payload);
    if (search !== s) return;
    const results = reply.payload && Array.isArray(reply.payload.results) ? reply.payload.results : [];
    s.results.push(...results.filter((r) => r && typeof r.name === "string" && Number.isInteger(r.message_id)));
    s.cursor = reply.payload && typeof reply.payload.next_cursor === "string" ? reply.payload.next_cursor : null;
  } catch (e) {
    if (search !== s) return;
    s.error = e && e.message ? e.message : String(e);
    if (!(e instanceof ConnectionLost) && !(e && e.code)) errorToast(e, "searching");
  } finally {
    s.loading = false;
  }
  render();
}

/** The snippet with the query's words marked, as text nodes and <mark>s (never markup from the message). */
function marked(snippet, words) {
  const parts = [];
  let last = 0;
  for (const match of snippet.matchAll(WORD)) {
    if (!words.has(fold(match[0]))) continue;
    if (match.index > last) parts.push(snippet.slice(last, match.index));
    parts.push(h("mark", { textContent: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < snippet.length) parts.push(snippet.slice(last));
  return h("bdi", { className: "search-snippet" }, ...parts);
}

function resultItem(r, words) {
  const key = keyOf(r.path || "", r.name);
  const time = new Date(r.send_time);
  const who = typeof r.sender_id === "string" ? ctx.memberLabel(r.sender_id, "search-author") : h("span", { textContent: "(removed)" });
  return h(
    "li",
    { className: "search-result" },
    h(
      "button",
      {
        type: "button",
        dataset: { key, id: String(r.message_id) },
        title: "Show this message in its channel",
        on: {
          click: () => {
            // The panel covers the top of the chat: closed, it keeps its results for the next open.
            close();
            ctx.bus.emit("open-message", { key, id: r.message_id });
          },
        },
      },
      h("span", { className: "search-meta" }, h("span", { className: "search-channel" }, "#", nameNode(r.name)), " ", who, " ", h("time", { dateTime: time.toISOString(), textContent: time.toLocaleString() })),
      marked(typeof r.snippet === "string" ? r.snippet : "", words),
    ),
  );
}

function render() {
  const s = search;
  if (!s) return;
  const words = new Set(Array.from(s.query.matchAll(WORD), (m) => fold(m[0])));
  elements.list.replaceChildren(...s.results.map((r) => resultItem(r, words)));
  let status = "";
  if (s.error) status = s.error;
  else if (s.loading) status = "Searching…";
  else if (!s.results.length) status = "No messages found.";
  else status = `${s.results.length}${s.cursor ? "+" : ""} message${s.results.length === 1 ? "" : "s"} found`;
  elements.status.textContent = status;
  elements.status.classList.toggle("form-error", Boolean(s.error));
  show(elements.more, Boolean(s.cursor) && !s.loading && !s.error);
}

function install(context) {
  ctx = context;
  elements = build();
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k" && !$("screen-main").hidden) {
      e.preventDefault();
      open();
    }
  });
  // Names in the results follow the member list.
  ctx.store.subscribe(["members"], () => render());
  ctx.store.subscribe(["current"], () => {
    if (!elements.panel.hidden) renderScope();
  });
}

export { install };

// Small DOM helpers for the web client. Everything is built with createElement and textContent: no HTML strings.

/**
 * Makes an element. props: className, dataset, attrs (setAttribute), on (event listeners), and any other key is set
 * as a property (e.g. textContent, type, disabled, title, hidden).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Shows or hides an element with the `hidden` attribute. */
export function show(node, visible) {
  node.hidden = !visible;
}

/** People's titles for the protocol's error codes. */
export const ERROR_TITLES = {
  bad_json: "The client sent something unreadable",
  unknown_type: "Not understood",
  not_authenticated: "Not signed in",
  unexpected_message: "Out of order",
  invalid_argument: "Invalid input",
  not_found: "Not found",
  unknown_function: "Not supported",
  too_large: "Too large",
  invite_invalid: "Invite not valid",
  already_registered: "Already a member",
  unknown_user: "Unknown identity",
  challenge_failed: "Sign-in refused",
  forbidden: "Not allowed",
  rate_limited: "Slow down",
  voice_unavailable: "Voice unavailable",
  call_full: "The call is full",
  limit_reached: "Limit reached",
  internal_error: "Server error",
  connection_lost: "Connection problem",
};

/**
 * A toast: {title, message, code, kind: "error" | "info" | "ok", timeout ms (0: stays until closed)}. The title and
 * the message are text or a list of texts and nodes (names in their isolates: lib/names.js).
 */
export function toast({ title, message, code, kind = "error", timeout = 9000 }) {
  const box = $("toasts");
  const heading = title || (code && ERROR_TITLES[code]) || (kind === "error" ? "Error" : "");
  const node = h(
    "div",
    { className: `toast toast-${kind}`, attrs: { role: kind === "error" ? "alert" : "status" }, dataset: { code: code || "" } },
    h(
      "div",
      { className: "toast-text" },
      heading ? h("strong", { className: "toast-title" }, heading) : null,
      message && message.length !== 0 ? h("span", { className: "toast-message" }, message) : null,
      code && kind === "error" ? h("code", { className: "toast-code", textContent: code }) : null,
    ),
    h("button", { className: "icon-button toast-close", type: "button", textContent: "✕", attrs: { "aria-label": "Dismiss" }, on: { click: () => node.remove() } }),
  );
  box.append(node);
  while (box.children.length > 5) box.firstElementChild.remove();
  // In the top layer (a popover), shown again after any open modal dialog so that it stays above it.
  if (typeof box.showPopover === "function") {
    try {
      if (box.matches(":popover-open")) box.hidePopover();
      box.showPopover();
    } catch {
      /* not supported here */
    }
  }
  if (timeout > 0) setTimeout(() => node.remove(), timeout);
  return node;
}

/** A stable hue for a user id. */
function hue(seed) {
  let x = 2166136261;
  for (let i = 0; i < seed.length; i++) x = Math.imul(x ^ seed.charCodeAt(i), 16777619);
  return ((x >>> 0) % 360 + 360) % 360;
}

/** The first letter (grapheme-ish: first code point) of a name, upper-cased. */
function initial(name) {
  const first = Array.from((name || "?").trim())[0] || "?";
  return first.toLocaleUpperCase();
}

/** Fills an avatar element for a member. */
export function paintAvatar(node, name, userId) {
  node.textContent = initial(name);
  node.style.backgroundColor = `hsl(${hue(userId || name || "")} 45% 42%)`;
  return node;
}

export function avatar(name, userId, extraClass = "") {
  return paintAvatar(h("span", { className: `avatar ${extraClass}`.trim(), attrs: { "aria-hidden": "true" } }), name, userId);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

/** Short time for a message: the time of day today, date and time otherwise. */
export function shortTime(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFormat.format(d) : dateTimeFormat.format(d);
}

export function fullTime(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : fullFormat.format(d);
}

/** Downloads text as a file. */
export function downloadText(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Reads a chosen file as text. */
export function readFileText(file) {
  if (!file) return Promise.reject(new Error("No file chosen."));
  if (file.size > 64 * 1024) return Promise.reject(new Error("That file is too large to be an identity file."));
  return file.text();
}

/** Shows one of the page's screens: loading, join, welcome or main. */
export function showScreen(name) {
  for (const id of ["loading", "join", "welcome", "main"]) show($(`screen-${id}`), id === name);
  document.body.dataset.screen = name;
}

/** Shows text in a form's error line, or hides the line when there is none. */
export function setFormError(id, text) {
  const node = $(id);
  node.textContent = text || "";
  show(node, Boolean(text));
}

/** What an error says, for people. */
export function errorText(error) {
  return error && error.message ? error.message : String(error);
}

/** An error as a toast titled by its code, with what it was about. */
export function errorToast(error, context) {
  const code = error && error.code ? error.code : "error";
  const title = (ERROR_TITLES[code] || "Error") + (context ? ` — ${context}` : "");
  toast({ title, message: errorText(error), code, kind: "error" });
}

// Safe rendering of message text with the markdown subset of PROTOCOL.md ("Message text"): ```code blocks```,
// `code`, **bold**, *italic* / _italic_, ~~strike~~, ||spoilers||, "> " quotes, "- " and "1. " lists,
// [text](https://link) and bare http(s)/mailto links.
//
// Nothing here ever parses HTML: every piece of message text becomes a Text node (textContent) inside elements
// made with createElement, and links get only http:/https:/mailto: URLs that `new URL` accepts.

const MAX_DEPTH = 4;

/** An http(s) URL as a string, or null when the text is not one. */
export function safeUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

// A mailto: link to one plain address (no headers, no second address), as a string, or null.
const MAIL_ADDRESS = /^mailto:([\p{L}\p{N}._%+-]{1,64}@(?:[\p{L}\p{N}-]{1,63}\.)+[\p{L}\p{N}-]{2,63})$/u;

function safeMailto(text) {
  const m = MAIL_ADDRESS.exec(text);
  return m ? `mailto:${m[1]}` : null;
}

// Something in a link's text that reads as a host name ("example.org", "раураl.com", "http://a.b/…").
const HOST_LIKE = /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}[\p{L}\p{N}-]{1,62}/gu;

function hostOf(text) {
  try {
    return new URL(`http://${text}`).hostname.replace(/^www\./, "");
  } catch {
    return null;
  }
}

/**
 * The real host of a masked link when its text names another one ("[paypal.com](https://evil.example)"), else null.
 * Hosts compare after IDNA (a look-alike in another script differs), and a host's subdomains count as the host.
 */
export function hiddenHost(label, href) {
  if (href.startsWith("mailto:")) {
    const address = href.slice("mailto:".length);
    return label.trim().toLowerCase() === address.toLowerCase() ? null : address;
  }
  const target = hostOf(new URL(href).host);
  const named = (label.match(HOST_LIKE) || []).map(hostOf).filter(Boolean);
  const same = (a, b) => a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
  return named.length && !named.every((h) => same(h, target)) ? new URL(href).host : null;
}

function link(href, label, masked = false) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = label;
  const real = masked ? hiddenHost(label, href) : null;
  if (real) {
    const host = document.createElement("span");
    host.className = "link-host";
    host.textContent = ` (${real})`;
    a.append(host);
    a.title = href;
  }
  a.rel = "noopener noreferrer nofollow ugc";
  a.target = "_blank";
  return a;
}

function wrap(tag, content, depth) {
  const node = document.createElement(tag);
  node.append(renderInline(content, depth + 1));
  return node;
}

/** A spoiler: its content rendered but hidden (and its links not clickable) until a click or Enter shows it. */
function spoiler(content, depth) {
  return hidden(wrap("span", content, depth));
}

/** Makes node (a span holding a spoiler's content) a spoiler. */
function hidden(node) {
  node.className = "spoiler";
  node.tabIndex = 0;
  node.setAttribute("role", "button");
  node.setAttribute("aria-label", "Spoiler, hidden: show it");
  node.setAttribute("aria-expanded", "false");
  const links = [...node.querySelectorAll("a")];
  for (const a of links) a.tabIndex = -1;
  const reveal = (e) => {
    if (node.classList.contains("revealed")) return;
    e.preventDefault();
    e.stopPropagation();
    node.classList.add("revealed");
    node.removeAttribute("role");
    node.removeAttribute("aria-label");
    node.setAttribute("aria-expanded", "true");
    node.removeAttribute("tabindex");
    for (const a of links) a.removeAttribute("tabindex");
  };
  node.addEventListener("click", reveal);
  node.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") reveal(e);
  });
  return node;
}

// A spoiler (at most 1,000 characters, so that unclosed markers cost little) is hidden until clicked.
const SPOILER = /\|\|(?=[^\s|])([\s\S]{0,999}?[^\s|])\|\|/g;

// Inline rules, in priority order for matches that start at the same place.
const RULES = [
  {
    re: /`([^`\n]+)`/g,
    make: (m) => {
      const code = document.createElement("code");
      code.textContent = m[1];
      return code;
    },
  },
  {
    re: /\[([^\]\n]{1,300})\]\((https?:\/\/[^\s()<>]+|mailto:[^\s()<>]+)\)/g,
    make: (m) => {
      const href = m[2].startsWith("mailto:") ? safeMailto(m[2]) : safeUrl(m[2]);
      return href ? link(href, m[1], true) : null;
    },
  },
  {
    re: /\bmailto:[^\s<>"'`()]+/g,
    make: (m) => {
      const text = m[0].replace(/[.,;:!?]+$/, "");
      const href = safeMailto(text);
      return href ? { node: link(href, text), length: text.length } : null;
    },
  },
  {
    re: /\bhttps?:\/\/[^\s<>"'`]+/g,
    make: (m) => {
      // Leave closing punctuation out of a bare link, and a ')' that does not close a '(' inside it.
      let text = m[0];
      for (;;) {
        const last = text[text.length - 1];
        if (".,;:!?'\"".includes(last)) text = text.slice(0, -1);
        else if (last === ")" && (text.match(/\(/g) || []).length < (text.match(/\)/g) || []).length) {
          text = text.slice(0, -1);
        } else break;
      }
      const href = safeUrl(text);
      return href ? { node: link(href, text), length: text.length } : null;
    },
  },
  { re: SPOILER, make: (m, d) => spoiler(m[1], d) },
  // Bold and strike hold something besides their markers: a run of "*" or "~" stays as it is.
  { re: /\*\*(?=[^\s*])([\s\S]*?[^\s*])\*\*/g, make: (m, d) => wrap("strong", m[1], d) },
  { re: /~~(?=[^\s~])([\s\S]*?[^\s~])~~/g, make: (m, d) => wrap("s", m[1], d) },
  { re: /\*(?=[^\s*])([^*]*?[^\s*])\*/g, make: (m, d) => wrap("em", m[1], d) },
  { re: /(?<![\p{L}\p{N}_])_(?=[^\s_])([^_]*?[^\s_])_(?![\p{L}\p{N}_])/gu, make: (m, d) => wrap("em", m[1], d) },
];

/** What a spoiler shows as where nothing can reveal it (desktop notifications; the server's search snippets too). */
export const SPOILER_PLACEHOLDER = "▒▒▒";

/** Plain text (a notification's body) with each spoiler, markers included, as SPOILER_PLACEHOLDER. */
export function hideSpoilers(text) {
  return String(text || "").replace(new RegExp(SPOILER.source, "g"), SPOILER_PLACEHOLDER);
}

/**
 * A preview's plain text (a reply's first line, cut by the server) with its spoilers still hidden and nothing else
 * rendered: text after an opening "||" that the cut left unclosed ("…" at the end) is hidden too.
 */
export function renderPreview(text) {
  const fragment = document.createDocumentFragment();
  const plainSpoiler = (t) => {
    const span = document.createElement("span");
    span.textContent = t;
    return hidden(span);
  };
  const re = new RegExp(SPOILER.source, "g");
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) fragment.append(document.createTextNode(text.slice(last, m.index)));
    fragment.append(plainSpoiler(m[1]));
    last = re.lastIndex;
  }
  const rest = text.slice(last);
  const open = text.endsWith("…") ? rest.search(/\|\|(?=[^\s|])/) : -1;
  if (open >= 0) {
    if (open > 0) fragment.append(document.createTextNode(rest.slice(0, open)));
    fragment.append(plainSpoiler(rest.slice(open + 2)));
  } else if (rest) {
    fragment.append(document.createTextNode(rest));
  }
  return fragment;
}

/** Inline markup of text, as a DocumentFragment. */
export function renderInline(text, depth = 0) {
  const fragment = document.createDocumentFragment();
  if (depth >= MAX_DEPTH) {
    fragment.append(document.createTextNode(text));
    return fragment;
  }
  // The next match of each rule at or after `pos` (null: none left), refreshed only when passed.
  const next = RULES.map(() => undefined);
  let pos = 0;
  let plainFrom = 0;
  while (pos < text.length) {
    let best = -1;
    for (let i = 0; i < RULES.length; i++) {
      if (next[i] === null) continue;
      if (next[i] === undefined || next[i].index < pos) {
        RULES[i].re.lastIndex = pos;
        next[i] = RULES[i].re.exec(text);
        if (next[i] === null) continue;
      }
      if (best < 0 || next[i].index < next[best].index) best = i;
    }
    if (best < 0) break;
    const m = next[best];
    const made = RULES[best].make(m, depth);
    if (!made) {
      // Not something to render after all: look for this rule's next match, one character further on.
      RULES[best].re.lastIndex = m.index + 1;
      next[best] = RULES[best].re.exec(text);
      continue;
    }
    const node = made instanceof Node ? made : made.node;
    const length = made instanceof Node ? m[0].length : made.length;
    if (m.index > plainFrom) fragment.append(document.createTextNode(text.slice(plainFrom, m.index)));
    fragment.append(node);
    pos = m.index + length;
    plainFrom = pos;
  }
  if (plainFrom < text.length) fragment.append(document.createTextNode(text.slice(plainFrom)));
  return fragment;
}

const QUOTE_LINE = /^> ?/;
const BULLET_LINE = /^- (?=\S)/;
const NUMBER_LINE = /^(\d{1,9})\. (?=\S)/;

/** The kind of block a line starts or continues: "quote", "ul", "ol" or "text". */
function lineKind(line) {
  if (/^>( |$)/.test(line)) return "quote";
  if (BULLET_LINE.test(line)) return "ul";
  if (NUMBER_LINE.test(line)) return "ol";
  return "text";
}

/** Text outside code blocks: runs of quote lines, list items and plain lines, each run rendered as one block. */
function renderBlocks(text) {
  const fragment = document.createDocumentFragment();
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length) {
    const kind = lineKind(lines[i]);
    let j = i + 1;
    while (j < lines.length && lineKind(lines[j]) === kind) j++;
    const run = lines.slice(i, j);
    if (kind === "quote") {
      const quote = document.createElement("blockquote");
      quote.append(renderInline(run.map((l) => l.replace(QUOTE_LINE, "")).join("\n")));
      fragment.append(quote);
    } else if (kind === "ul" || kind === "ol") {
      const list = document.createElement(kind);
      const first = kind === "ol" ? Number(NUMBER_LINE.exec(run[0])[1]) : 1;
      if (kind === "ol" && first !== 1) list.start = first;
      for (const l of run) {
        const item = document.createElement("li");
        item.append(renderInline(l.replace(kind === "ol" ? NUMBER_LINE : BULLET_LINE, "")));
        list.append(item);
      }
      fragment.append(list);
    } else {
      // Plain lines keep their line breaks (the one next to a block is the block's own).
      const plain = run.join("\n");
      if (plain) fragment.append(renderInline(plain));
    }
    i = j;
  }
  return fragment;
}

/** A message's text with its markup, as a DocumentFragment (code blocks first, then blocks and inline markup). */
export function renderMessage(text) {
  const fragment = document.createDocumentFragment();
  const fence = /```(?:([A-Za-z0-9_+-]{1,20})\n)?([\s\S]*?)```/g;
  let last = 0;
  let m;
  while ((m = fence.exec(text)) !== null) {
    if (!/[^\s`]/.test(m[2])) continue; // a run of backticks is text, not an empty block
    if (m.index > last) fragment.append(renderBlocks(text.slice(last, m.index)));
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    code.textContent = m[2].replace(/^\n/, "").replace(/\n$/, "");
    if (m[1]) code.dataset.lang = m[1];
    pre.append(code);
    fragment.append(pre);
    last = fence.lastIndex;
  }
  if (last < text.length) fragment.append(renderBlocks(text.slice(last)));
  return fragment;
}

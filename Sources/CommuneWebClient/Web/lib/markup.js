// Safe rendering of message text with a little markdown: ```code blocks```, `code`, **bold**, *italic* / _italic_,
// ~~strike~~, [text](https://link) and bare http(s) links.
//
// Nothing here ever parses HTML: every piece of message text becomes a Text node (textContent) inside elements
// made with createElement, and links get only http:/https: URLs that `new URL` accepts.

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
    re: /\[([^\]\n]{1,300})\]\((https?:\/\/[^\s()<>]+)\)/g,
    make: (m) => {
      const href = safeUrl(m[2]);
      return href ? link(href, m[1], true) : null;
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
  // Bold and strike hold something besides their markers: a run of "*" or "~" stays as it is.
  { re: /\*\*(?=[^\s*])([\s\S]*?[^\s*])\*\*/g, make: (m, d) => wrap("strong", m[1], d) },
  { re: /~~(?=[^\s~])([\s\S]*?[^\s~])~~/g, make: (m, d) => wrap("s", m[1], d) },
  { re: /\*(?=[^\s*])([^*]*?[^\s*])\*/g, make: (m, d) => wrap("em", m[1], d) },
  { re: /(?<![\p{L}\p{N}_])_(?=[^\s_])([^_]*?[^\s_])_(?![\p{L}\p{N}_])/gu, make: (m, d) => wrap("em", m[1], d) },
];

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

/** A message's text with its markup, as a DocumentFragment (code blocks first, inline markup elsewhere). */
export function renderMessage(text) {
  const fragment = document.createDocumentFragment();
  const fence = /```(?:([A-Za-z0-9_+-]{1,20})\n)?([\s\S]*?)```/g;
  let last = 0;
  let m;
  while ((m = fence.exec(text)) !== null) {
    if (!/[^\s`]/.test(m[2])) continue; // a run of backticks is text, not an empty block
    if (m.index > last) fragment.append(renderInline(text.slice(last, m.index)));
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    code.textContent = m[2].replace(/^\n/, "").replace(/\n$/, "");
    if (m[1]) code.dataset.lang = m[1];
    pre.append(code);
    fragment.append(pre);
    last = fence.lastIndex;
  }
  if (last < text.length) fragment.append(renderInline(text.slice(last)));
  return fragment;
}

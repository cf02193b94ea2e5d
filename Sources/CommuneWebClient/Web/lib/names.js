// Strings that members chose (names, topics, statuses, reasons), shown so that they cannot disguise themselves or
// their neighbours: each sits in its own <bdi> (an isolate: a right-to-left override inside cannot reverse the text
// around it), names lose the invisible and direction-control characters that make "Al\u200Bice" or "\u202Eecila"
// look like someone else, and names that still look alike are told apart by a piece of the user id.

import { h } from "./ui.js";

// Bidi embeddings, overrides, isolates and marks; zero-width space, word joiner and invisible operators; BOM; C0/C1
// controls. Zero-width (non-)joiners stay: emoji sequences and several scripts need them.
const INVISIBLE = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0]/g;

/** A name as shown: without invisible and direction-control characters (an all-invisible name shows as "?"). */
export function cleanName(text) {
  const clean = String(text ?? "").replace(INVISIBLE, "").trim();
  return clean || "?";
}

/** A name in its own isolate, cleaned: <bdi class=…>. */
export function nameNode(text, className = "") {
  return h("bdi", { className: `name ${className}`.trim(), textContent: cleanName(text) });
}

/** Free text a member wrote (a topic, a status, a reason) in its own isolate, unchanged. */
export function textNode(text, className = "") {
  return h("bdi", { className, textContent: String(text ?? "") });
}

/** A name for an attribute (a title, a placeholder, the page title), where no element can isolate it. */
export function nameAttr(text) {
  return `\u2068${cleanName(text)}\u2069`;
}

// Letters of other scripts drawn like Latin ones (a few of Unicode's confusables, enough for names).
const HOMOGLYPHS = new Map(
  Object.entries({
    а: "a", в: "b", е: "e", ё: "e", к: "k", м: "m", н: "h", о: "o", р: "p", с: "c", т: "t", у: "y", х: "x", і: "i", ј: "j",
    ѕ: "s", ԁ: "d", ԛ: "q", ԝ: "w", ӏ: "l", α: "a", β: "b", ε: "e", η: "n", ι: "i", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t",
    υ: "u", χ: "x", ү: "y", ɑ: "a", ɡ: "g", ı: "i", "0": "o", "1": "l", "|": "l",
  }),
);

/** What a name looks like, for comparing: cleaned, NFKC, lower case, homoglyphs folded, no spaces or marks. */
export function lookAlikeKey(name) {
  const base = cleanName(name).normalize("NFKC").toLowerCase().normalize("NFD").replace(/[\p{M}\s._-]/gu, "");
  let key = "";
  for (const ch of base) key += HOMOGLYPHS.get(ch) || ch;
  return key.replace(/rn/g, "m").replace(/vv/g, "w");
}

/**
 * For members whose names look alike: user id → the shortest prefix of the id (at least 4 characters) that tells
 * each of them apart from the others who look the same. Members without a look-alike are not in the map.
 */
export function disambiguators(members) {
  const groups = new Map();
  for (const m of members) {
    const key = lookAlikeKey(m.username);
    groups.set(key, [...(groups.get(key) || []), String(m.user_id)]);
  }
  const tags = new Map();
  for (const ids of groups.values()) {
    if (ids.length < 2) continue;
    let n = 4;
    while (n < 36 && new Set(ids.map((id) => id.slice(0, n))).size < ids.length) n++;
    for (const id of ids) tags.set(id, id.slice(0, n));
  }
  return tags;
}

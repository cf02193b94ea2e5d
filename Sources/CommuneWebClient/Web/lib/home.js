// The member's home (docs/PROTOCOL.md "Home"): the list of their communities that one community keeps for them,
// sealed in the browser so that the home's server stores only opaque strings and positions.
//
// key = HKDF-SHA256(IKM = the identity's raw X25519 private key, salt empty, info "commune home v1", 32 bytes), used
// as an AES-256-GCM key; each field sealed on its own with a fresh 12-byte nonce and the additional data
// "commune-home:" + id + ":" + field, so that a field cannot be moved to another field or another entry. A sealed
// field is standard base64 of nonce(12) ‖ ciphertext ‖ tag(16). The key never leaves the page.
//
// Positions ("x", "x.y", "x.y.z") order the rail and make its folders: entries sharing the first component and
// having two or more components are in folder x, ordered by the rest; an entry whose address is "" names folder x.

import { base64ToBytes, bytesToBase64, newId } from "./protocol.js";

/** The three sealed fields of an entry, in the order the wire lists them. */
export const SEALED_FIELDS = ["community_address", "community_title", "community_secret"];

/** The longest sealed field the server stores, in characters. */
export const MAX_SEALED_LENGTH = 4096;

/** The most entries a home keeps per member. */
export const MAX_ENTRIES = 500;

const INFO = "commune home v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** An entry whose sealed fields do not open with this identity's key: changed by someone without it. */
export class UnreadableEntry extends Error {
  constructor(id, field, reason) {
    super(`The entry ${id} of your home could not be read (${field}: ${reason}).`);
    this.name = "UnreadableEntry";
    this.id = id;
    this.field = field;
  }
}

const keyCache = new Map(); // private key (base64) → Promise<CryptoKey>

/** The home's AES-256-GCM key for an identity ({private_key: base64 of 32 bytes}). */
export function homeKey(identity) {
  const cached = keyCache.get(identity.private_key);
  if (cached) return cached;
  const promise = (async () => {
    const raw = base64ToBytes(identity.private_key);
    if (raw.length !== 32) throw new Error("The identity's private key is not 32 bytes.");
    const ikm = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
    return crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(INFO) },
      ikm,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  })();
  keyCache.set(identity.private_key, promise);
  promise.catch(() => keyCache.delete(identity.private_key));
  return promise;
}

/** The additional data of a field: the entry id in lower case (as the server stores it; Swift's HomeSeal does the same). */
function additionalData(id, field) {
  return encoder.encode(`commune-home:${id.toLowerCase()}:${field}`);
}

/** Seals one field's text: base64(nonce ‖ ciphertext ‖ tag), a fresh nonce each time. */
export async function sealField(key, id, field, text) {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: additionalData(id, field), tagLength: 128 },
    key,
    encoder.encode(text),
  );
  const out = new Uint8Array(NONCE_BYTES + sealed.byteLength);
  out.set(nonce, 0);
  out.set(new Uint8Array(sealed), NONCE_BYTES);
  const value = bytesToBase64(out);
  if (value.length > MAX_SEALED_LENGTH) throw new Error(`The ${field.replace("community_", "")} is too long for your home.`);
  return value;
}

/** Opens one sealed field; throws UnreadableEntry when it is not standard base64, too short, or fails its tag. */
export async function openField(key, id, field, value) {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new UnreadableEntry(id, field, "not base64");
  }
  let bytes;
  try {
    bytes = base64ToBytes(value);
  } catch {
    throw new UnreadableEntry(id, field, "not base64");
  }
  if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new UnreadableEntry(id, field, "too short");
  let plain;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, NONCE_BYTES), additionalData: additionalData(id, field), tagLength: 128 },
      key,
      bytes.subarray(NONCE_BYTES),
    );
  } catch {
    throw new UnreadableEntry(id, field, "authentication failed");
  }
  try {
    return decoder.decode(plain);
  } catch {
    throw new UnreadableEntry(id, field, "not UTF-8");
  }
}

/**
 * The sealed payload of add_community / update_community for a plain entry
 * {id, address, title, secret: {community_key, username} | null, position}; fields left undefined are not sent
 * (an update); secret null clears it.
 */
export async function sealEntry(key, entry) {
  const id = (entry.id || newId()).toLowerCase();
  const payload = { id };
  if (entry.address !== undefined) payload.community_address = await sealField(key, id, "community_address", entry.address);
  if (entry.title !== undefined) payload.community_title = await sealField(key, id, "community_title", entry.title);
  if (entry.secret === null) payload.community_secret = null;
  else if (entry.secret !== undefined) payload.community_secret = await sealField(key, id, "community_secret", JSON.stringify(entry.secret));
  if (entry.position !== undefined) payload.position = entry.position;
  return payload;
}

/**
 * Opens an entry from the wire ({id, community_address, community_title, community_secret?, position, updated_at})
 * into {id, address, title, secret, position, updatedAt}; throws UnreadableEntry when any field does not open.
 */
export async function openEntry(key, wire) {
  const id = wire && typeof wire.id === "string" ? wire.id : "";
  if (!id) throw new UnreadableEntry("(no id)", "id", "missing");
  if (!isPosition(wire.position)) throw new UnreadableEntry(id, "position", "malformed");
  const address = await openField(key, id, "community_address", wire.community_address);
  const title = await openField(key, id, "community_title", wire.community_title);
  let secret = null;
  if (wire.community_secret !== undefined && wire.community_secret !== null) {
    const text = await openField(key, id, "community_secret", wire.community_secret);
    try {
      secret = JSON.parse(text);
    } catch {
      throw new UnreadableEntry(id, "community_secret", "not JSON");
    }
    if (!secret || typeof secret !== "object" || Array.isArray(secret)) throw new UnreadableEntry(id, "community_secret", "not an object");
  }
  return { id, address, title, secret, position: wire.position, updatedAt: typeof wire.updated_at === "string" ? wire.updated_at : "" };
}

/**
 * Opens every entry of a get_communities reply: {entries: [opened…] (sorted by position), unreadable: [{id,
 * position}]}. An entry that does not open is left out and counted, never shown; its position stays taken.
 */
export async function openEntries(key, wireEntries) {
  const entries = [];
  const unreadable = [];
  for (const wire of Array.isArray(wireEntries) ? wireEntries : []) {
    try {
      entries.push(await openEntry(key, wire));
    } catch (e) {
      if (!(e instanceof UnreadableEntry)) throw e;
      unreadable.push(unreadableOf(e, wire));
    }
  }
  entries.sort(compareEntries);
  return { entries, unreadable };
}

/** What is kept of an entry that did not open: its id and, when well-formed, its position (still taken on the server). */
export function unreadableOf(error, wire) {
  return { id: error.id, position: wire && isPosition(wire.position) ? wire.position : null };
}

/** The sentence the rail shows for entries that could not be read, or "" for none. */
export function unreadableText(count) {
  if (!count) return "";
  const what = count === 1 ? "1 entry in your home could not be read" : `${count} entries in your home could not be read`;
  return `${what} — it was changed by someone without your key.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Positions and folders

const POSITION_RE = /^(0|[1-9][0-9]{0,5})(\.(0|[1-9][0-9]{0,5})){0,2}$/;

/** Whether text is a position the server accepts: 1 to 3 dot-separated integers 0…999999, no leading zeros. */
export function isPosition(text) {
  return typeof text === "string" && POSITION_RE.test(text);
}

/** A position's components as numbers. */
export function positionParts(position) {
  return position.split(".").map(Number);
}

/** Orders positions component-wise, numerically; a shorter prefix first ("3" before "3.0"). */
export function comparePositions(a, b) {
  const x = positionParts(a);
  const y = positionParts(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The home's order: by position, then id (as the server sorts get_communities). */
export function compareEntries(a, b) {
  return comparePositions(a.position, b.position) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The longest title or folder name, in code points (the CLI's `--title` and `commune home folder` check the same). */
export const MAX_TITLE = 64;

/** A title or folder name trimmed, or an Error: 1 to 64 code points, no control characters or line separators. */
export function checkedTitle(text, what = "A folder's name") {
  const trimmed = String(text || "").trim();
  const length = Array.from(trimmed).length;
  if (length < 1 || length > MAX_TITLE || /[\p{Cc}\u2028\u2029]/u.test(trimmed)) {
    throw new Error(`${what} must be 1 to ${MAX_TITLE} characters without control characters.`);
  }
  return trimmed;
}

/** Whether an opened entry is a folder's label (its address is empty) rather than a community. */
export function isFolderLabel(entry) {
  return entry.address === "";
}

/**
 * The rail from opened entries, in order: top-level items {kind: "community", entry} and
 * {kind: "folder", folder: x, title, named, label: entry | null, entries: [entry…]}. A folder is made by the entries
 * with two or more components sharing x; a label without members still shows (an empty folder). A folder without a
 * name (named false) is called after its first two communities ("Books, Chess…").
 */
export function buildRail(entries) {
  const sorted = [...entries].sort(compareEntries);
  const folders = new Map(); // x → folder item
  const items = [];
  const folderOf = (x) => {
    let folder = folders.get(x);
    if (!folder) {
      folder = { kind: "folder", folder: x, title: `Folder ${x}`, named: false, label: null, entries: [], order: x };
      folders.set(x, folder);
      items.push(folder);
    }
    return folder;
  };
  for (const entry of sorted) {
    const parts = positionParts(entry.position);
    if (isFolderLabel(entry)) {
      const folder = folderOf(parts[0]);
      if (!folder.label) {
        folder.label = entry;
        if (entry.title) {
          folder.title = entry.title;
          folder.named = true;
        }
      }
    } else if (parts.length >= 2) {
      folderOf(parts[0]).entries.push(entry);
    } else {
      items.push({ kind: "community", entry, order: parts[0] });
    }
  }
  for (const folder of folders.values()) {
    if (folder.named || !folder.entries.length) continue;
    const names = folder.entries.slice(0, 2).map((e) => e.title || e.address);
    folder.title = names.join(", ") + (folder.entries.length > 2 ? "…" : "");
  }
  // Stable: a community at "x" before folder x (its entries sort after "x").
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => a.item.order - b.item.order || (a.item.kind === b.item.kind ? a.index - b.index : a.item.kind === "community" ? -1 : 1))
    .map(({ item }) => item);
}

/** The position after the last top-level entry (what joining a community appends at): "0" for an empty home. */
export function nextTopLevelPosition(entries) {
  let last = -1;
  for (const entry of entries) if (isPosition(entry.position)) last = Math.max(last, positionParts(entry.position)[0]);
  return String(Math.min(last + 1, 999999));
}

const MAX_COMPONENT = 999999;
/** Where a renumbering parks entries first, so that no step takes a position another entry still holds. */
const PARKING = 900000;

/**
 * The position updates ([{id, position}], to send in order) that move the entry movingId to a place in the rail:
 * target {folder: x or null (the top level), beforeId: the entry it goes before, or null for the end}. One update
 * when there is room between the neighbours (the middle); otherwise the level is renumbered in steps of 10, each
 * entry first parked at 900000 and up so that no update collides with a position still taken. A top-level move
 * carries a folder's entries and label with its number.
 */
export function planMove(entries, movingId, target) {
  const moving = entries.find((e) => e.id === movingId);
  if (!moving) return [];
  const rest = entries.filter((e) => e.id !== movingId).sort(compareEntries);
  const first = (e) => positionParts(e.position)[0];
  if (target.folder === null || target.folder === undefined) {
    // The top level: units by first component (a community "x" and folder x move together).
    const units = [];
    for (const e of rest) {
      const key = first(e);
      const unit = units.find((u) => u.key === key);
      if (unit) unit.entries.push(e);
      else units.push({ key, entries: [e] });
    }
    const before = target.beforeId ? rest.find((e) => e.id === target.beforeId) : null;
    const index = before ? units.findIndex((u) => u.key === first(before)) : units.length;
    const at = index < 0 ? units.length : index;
    const prev = at > 0 ? units[at - 1].key : -1;
    const next = at < units.length ? units[at].key : MAX_COMPONENT + 1;
    if (next - prev >= 2) return [{ id: movingId, position: String(at < units.length ? Math.floor((prev + next) / 2) : Math.min(prev + 1, MAX_COMPONENT)) }];
    const order = [...units.slice(0, at), { key: null, entries: [{ ...moving, position: "0" }] }, ...units.slice(at)];
    return renumber(order.map((u, i) => u.entries.map((e) => ({ id: e.id, from: e.position, parts: positionParts(e.position).slice(1), key: (i + 1) * 10, park: PARKING + i }))).flat(), (x, parts) => [x, ...parts]);
  }
  // Inside folder x: ordered by the rest of the position; the moved entry gets two components.
  const x = target.folder;
  const members = rest.filter((e) => first(e) === x && positionParts(e.position).length >= 2 && !isFolderLabel(e));
  const before = target.beforeId ? members.findIndex((e) => e.id === target.beforeId) : -1;
  const at = before < 0 ? members.length : before;
  const second = (e) => positionParts(e.position)[1];
  const prev = at > 0 ? second(members[at - 1]) : -1;
  const next = at < members.length ? second(members[at]) : MAX_COMPONENT + 1;
  // Room between two neighbours that have no third components in the way.
  if (next - prev >= 2) return [{ id: movingId, position: `${x}.${at < members.length ? Math.floor((prev + next) / 2) : Math.min(prev + 1, MAX_COMPONENT)}` }];
  const order = [...members.slice(0, at), { ...moving, position: `${x}.0` }, ...members.slice(at)];
  return renumber(order.map((e, i) => ({ id: e.id, from: e.position, parts: positionParts(e.position).slice(2), key: (i + 1) * 10, park: PARKING + i })), (k, parts) => [x, k, ...parts].slice(0, 3));
}

/** The updates of a renumbering: every moved entry parked first, then each to its place (make(key, rest) → parts). */
function renumber(items, make) {
  const changed = items.filter((it) => make(it.key, it.parts).join(".") !== it.from);
  const parked = changed.map((it) => ({ id: it.id, position: make(it.park, it.parts).join(".") }));
  const placed = changed.map((it) => ({ id: it.id, position: make(it.key, it.parts).join(".") }));
  return [...parked, ...placed];
}

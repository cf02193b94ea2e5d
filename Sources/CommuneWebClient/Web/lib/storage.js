// What the web client keeps in this browser (localStorage): the identity, and per community its base URL,
// the username and a few preferences. The identity is the same JSON as the CLI's identity file. (The page's state
// while it runs is lib/state.js; this is what outlives the page.)

const IDENTITY_KEY = "commune.identity.v1";
const COMMUNITIES_KEY = "commune.communities.v1";
const DEVICES_KEY = "commune.devices.v1";

function read(key) {
  try {
    const text = localStorage.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** Whether this browser lets the page keep anything (private windows may not). */
export function storageWorks() {
  try {
    localStorage.setItem("commune.probe", "1");
    localStorage.removeItem("commune.probe");
    return true;
  } catch {
    return false;
  }
}

/** The stored identity, or null. */
export function loadIdentity() {
  const id = read(IDENTITY_KEY);
  return id && typeof id.user_id === "string" && typeof id.private_key === "string" ? id : null;
}

/** Stores the identity; returns false when the browser refused. */
export function saveIdentity(identity) {
  return write(IDENTITY_KEY, identity);
}

/** Removes the identity and everything remembered about communities. */
export function forgetEverything() {
  write(IDENTITY_KEY, null);
  write(COMMUNITIES_KEY, null);
}

function communities() {
  const all = read(COMMUNITIES_KEY);
  return all && typeof all === "object" && !Array.isArray(all) ? all : {};
}

/** What this browser remembers about the community at baseUrl: {base_url, user_id, username, registered, …}. */
export function loadCommunity(baseUrl) {
  return communities()[baseUrl] || null;
}

/**
 * The community this page is a client of: `?community=<base URL>` when it names a community this browser has
 * signed in to (one of the member's home, opened from the rail), else the page's own origin. A link naming any
 * other community is ignored, so that no link can point this identity at a server it never joined.
 */
export function pageCommunity(loc = location) {
  const wanted = new URLSearchParams(loc.search).get("community");
  if (!wanted) return loc.origin;
  let origin = null;
  try {
    const url = new URL(wanted);
    if (url.protocol === "http:" || url.protocol === "https:") origin = url.origin;
  } catch {
    return loc.origin;
  }
  const known = origin ? loadCommunity(origin) : null;
  return known && known.registered ? origin : loc.origin;
}

/** Merges fields into the record of the community at baseUrl. */
export function updateCommunity(baseUrl, fields) {
  const all = communities();
  all[baseUrl] = { ...(all[baseUrl] || {}), base_url: baseUrl, ...fields };
  write(COMMUNITIES_KEY, all);
  return all[baseUrl];
}

/** The media devices chosen in this browser (device ids are per browser, not per community): {microphone, speaker, camera}. */
export function loadDevices() {
  const d = read(DEVICES_KEY);
  return d && typeof d === "object" && !Array.isArray(d) ? d : {};
}

/** Merges device choices ({microphone, speaker, camera}: a deviceId, or "" for the system's default). */
export function saveDevices(fields) {
  return write(DEVICES_KEY, { ...loadDevices(), ...fields });
}

// Commune wire protocol for the browser: envelopes, identities and the login challenge.
//
// Same construction as every client (docs/PROTOCOL.md): X25519 key agreement between the member's key and the
// community's key, HKDF-SHA256 (empty salt, info "challenge", 32 bytes), AES-256-GCM over
// base64(nonce(12) ‖ ciphertext ‖ tag(16)). Everything runs in WebCrypto (`crypto.subtle`), which browsers only
// offer in secure contexts (https, or http on 127.0.0.1 / localhost).

/** The longest message the server accepts, in Unicode code points. */
export const MAX_MESSAGE_CODE_POINTS = 4000;

/** The identity file's format version (the same JSON the CLI reads and writes). */
export const IDENTITY_VERSION = 1;

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------------------------
// base64

/** Standard base64 (with padding) of bytes. */
export function bytesToBase64(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, view.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Bytes of standard or URL-safe base64, padded or not. Throws on anything else. */
export function base64ToBytes(text) {
  if (typeof text !== "string") throw new TypeError("base64 text must be a string");
  let normal = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normal)) throw new TypeError("not base64");
  normal = normal.replace(/=+$/, "");
  if (normal.length % 4 === 1) throw new TypeError("not base64");
  normal += "=".repeat((4 - (normal.length % 4)) % 4);
  const binary = atob(normal);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** base64url (no padding, as in JWK) → standard base64 with padding. */
export function base64UrlToBase64(text) {
  return bytesToBase64(base64ToBytes(text));
}

/** standard base64 → base64url without padding (as JWK wants). */
export function base64ToBase64Url(text) {
  return bytesToBase64(base64ToBytes(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

/** A fresh request id. */
export function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether text is a UUID string. */
export function isUuid(text) {
  return typeof text === "string" && UUID_RE.test(text);
}

/** Length of a string in Unicode code points (what the server counts). */
export function codePointLength(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Why the server would refuse a message's text, or null when it can be sent: over MAX_MESSAGE_CODE_POINTS (too_large),
 * or not well-formed Unicode (a lone surrogate) or carrying control characters other than tab and line breaks
 * (invalid_argument). {code, message} as in an error reply.
 */
export function messageProblem(text) {
  const n = codePointLength(text);
  if (n > MAX_MESSAGE_CODE_POINTS) {
    return { code: "too_large", message: `A message may have at most ${MAX_MESSAGE_CODE_POINTS} characters; this one has ${n}. Shorten it or split it.` };
  }
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    return { code: "invalid_argument", message: "The message contains a broken character (a lone UTF-16 surrogate). Remove it and send again." };
  }
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text)) {
    return { code: "invalid_argument", message: "The message contains control characters (such as NUL, BEL or ESC). Remove them and send again." };
  }
  return null;
}

/** The invite code in a link (`…#invite=CODE`) or a bare code; null when there is none or it is malformed. */
export function parseInvite(text) {
  if (typeof text !== "string") return null;
  const trimmed = text.trim();
  const m = /(?:^|[#&?])invite=([^&#\s]*)/.exec(trimmed);
  if (m) return /^[A-Za-z0-9_-]+$/.test(m[1]) ? m[1] : null;
  if (/^[A-Za-z0-9_-]{6,}$/.test(trimmed)) return trimmed;
  return null;
}

/** Whether an address (its #fragment) tries to carry an invite, well-formed or not. */
export function mentionsInvite(text) {
  return typeof text === "string" && /(?:^|[#&?])invite\b/i.test(text.trim());
}

/** The community's WebSocket URL for a page location: same host, `ws:` for `http:`, `wss:` for `https:`, path `/`. */
export function webSocketUrl(loc) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/`;
}

/** One frame as the protocol wants it. */
export function envelope(type, data, id, message = "", level = 1) {
  const frame = { type, log: { log_level: level, message: message || type } };
  if (id !== undefined && id !== null) frame.id = id;
  if (data !== undefined) frame.data = data;
  return frame;
}

/** The log line clients put in their requests, as in the protocol's examples. */
export const REQUEST_LOG = {
  register: [1, "Client registering"],
  identification: [1, "Client signing in"],
  challenge_response: [1, "Solved challenge"],
  function: [0, "running function"],
  ping: [0, "ping"],
};

// ---------------------------------------------------------------------------------------------------------------
// WebCrypto

function subtle() {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new Error(
      "This browser offers no WebCrypto here. Open Commune over https, or over http on 127.0.0.1 or localhost.",
    );
  }
  return crypto.subtle;
}

const X25519 = { name: "X25519" };

/** Whether this browser can do X25519 in WebCrypto. */
export async function cryptoSupported() {
  try {
    await subtle().generateKey(X25519, true, ["deriveBits"]);
    return true;
  } catch {
    return false;
  }
}

const BASE_POINT = new Uint8Array(32);
BASE_POINT[0] = 9;

/** X25519(private, base point) = the public key that belongs to a private key. */
async function publicKeyOf(privateKey) {
  const base = await subtle().importKey("raw", BASE_POINT, X25519, true, []);
  return new Uint8Array(await subtle().deriveBits({ name: "X25519", public: base }, privateKey, 256));
}

/** A new identity: a fresh user id and X25519 key pair, in the identity-file format. */
export async function generateIdentity() {
  const pair = await subtle().generateKey(X25519, true, ["deriveBits"]);
  const jwk = await subtle().exportKey("jwk", pair.privateKey);
  return {
    version: IDENTITY_VERSION,
    user_id: newId().toLowerCase(),
    private_key: base64UrlToBase64(jwk.d),
    public_key: base64UrlToBase64(jwk.x),
  };
}

const privateKeyCache = new Map();

/** The identity's private key as a WebCrypto key. */
export async function importPrivateKey(identity) {
  const cached = privateKeyCache.get(identity.private_key);
  if (cached) return cached;
  const jwk = {
    kty: "OKP",
    crv: "X25519",
    d: base64ToBase64Url(identity.private_key),
    x: base64ToBase64Url(identity.public_key),
    ext: true,
  };
  const key = await subtle().importKey("jwk", jwk, X25519, true, ["deriveBits"]);
  privateKeyCache.set(identity.private_key, key);
  return key;
}

/**
 * Checks an identity file's content (an object or its JSON text) and returns a clean identity.
 * Throws an Error whose message says what is wrong, for people.
 */
export async function validateIdentity(input) {
  let obj = input;
  if (typeof input === "string") {
    try {
      obj = JSON.parse(input);
    } catch {
      throw new Error("This file is not an identity file (it is not JSON).");
    }
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new Error("This file is not an identity file.");
  if (obj.version !== IDENTITY_VERSION) {
    throw new Error(`Unsupported identity file version ${JSON.stringify(obj.version)} (expected ${IDENTITY_VERSION}).`);
  }
  if (!isUuid(obj.user_id)) throw new Error("The identity file's user_id is not a UUID.");
  let priv;
  let pub;
  try {
    priv = base64ToBytes(obj.private_key);
    pub = base64ToBytes(obj.public_key);
  } catch {
    throw new Error("The identity file's keys are not base64.");
  }
  if (priv.length !== 32 || pub.length !== 32) throw new Error("The identity file's keys must be 32 bytes each.");
  const identity = {
    version: IDENTITY_VERSION,
    user_id: obj.user_id.toLowerCase(),
    private_key: bytesToBase64(priv),
    public_key: bytesToBase64(pub),
  };
  if (obj.home !== undefined && obj.home !== null) {
    const home = homeUrl(obj.home);
    if (!home) throw new Error("The identity file's home is not a community's address (http://host:port).");
    identity.home = home;
  }
  let derived;
  try {
    derived = await publicKeyOf(await importPrivateKey(identity));
  } catch (e) {
    throw new Error(`The identity file's private key cannot be used: ${e.message || e}`);
  }
  if (bytesToBase64(derived) !== identity.public_key) {
    privateKeyCache.delete(identity.private_key);
    throw new Error("The identity file's public key does not belong to its private key.");
  }
  return identity;
}

/**
 * The identity as the JSON text of an identity file (the CLI's format), with the communities it joined:
 * [{url, username, name, community_key}], and its home's base URL when it has one (`home`).
 */
export function identityFileText(identity, communities = []) {
  const file = {
    version: IDENTITY_VERSION,
    user_id: identity.user_id,
    private_key: identity.private_key,
    public_key: identity.public_key,
  };
  if (identity.home) file.home = identity.home;
  file.communities = communities;
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** A home's base URL as the identity file keeps it (`http://host:port`, no path), or null when text is not one. */
export function homeUrl(text) {
  if (typeof text !== "string") return null;
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** The entry for a community's base URL in an identity file's `communities`, or null. */
export function communityEntry(fileObject, baseUrl) {
  const list = fileObject && Array.isArray(fileObject.communities) ? fileObject.communities : [];
  const wanted = baseUrl.replace(/\/+$/, "");
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i];
    if (e && typeof e.url === "string" && e.url.replace(/\/+$/, "") === wanted) return e;
  }
  return null;
}

/** The symmetric challenge key: HKDF-SHA256(X25519(ours, theirs), salt empty, info "challenge") → AES-256-GCM. */
export async function challengeKey(identity, communityPublicKeyBase64) {
  const s = subtle();
  const priv = await importPrivateKey(identity);
  const peerBytes = base64ToBytes(communityPublicKeyBase64);
  if (peerBytes.length !== 32) throw new Error("The community's public key is not 32 bytes.");
  const peer = await s.importKey("raw", peerBytes, X25519, true, []);
  const shared = await s.deriveBits({ name: "X25519", public: peer }, priv, 256);
  const ikm = await s.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return s.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("challenge") },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
}

/** Opens the server's challenge and returns the answer for `challenge_response` (base64 of the secret). */
export async function solveChallenge(identity, challengeBase64, communityPublicKeyBase64) {
  const sealed = base64ToBytes(challengeBase64);
  if (sealed.length < 12 + 16) throw new Error("The challenge is too short.");
  const key = await challengeKey(identity, communityPublicKeyBase64);
  let plain;
  try {
    plain = await subtle().decrypt(
      { name: "AES-GCM", iv: sealed.subarray(0, 12), tagLength: 128 },
      key,
      sealed.subarray(12),
    );
  } catch {
    throw new Error("The challenge could not be decrypted with this identity's key.");
  }
  return bytesToBase64(new Uint8Array(plain));
}

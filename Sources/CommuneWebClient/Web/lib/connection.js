// One member's connection to a community: the socket, request/reply matching by id, registering and logging in,
// keep-alive, and reconnecting with exponential backoff.
//
// Events (a plain EventTarget; `event.detail` carries the data):
//   state     {state, retryAt, attempt, reason}   idle | connecting | authenticating | online | reconnecting | failed
//   login     identification_response.data        after every successful login (first and each reconnect); a
//                                                 reconnect resumes the stream of updates: data.resume.status is
//                                                 "resumed" when the missed updates follow, "refetch" when not
//   update    update envelope's data              server-pushed changes
//   servererror  {code, message, request_type}    an error frame that answers no pending request
//   fatal     ServerError or Error                a failure that retrying cannot fix (no reconnect follows), also a
//                                                 close that says this member was removed or banned (code removed/banned)
//   registered   register reply data

import { envelope, newId, REQUEST_LOG, solveChallenge } from "./protocol.js";

/** An `error` envelope from the server, as an exception. */
export class ServerError extends Error {
  constructor(data, requestType) {
    const d = data && typeof data === "object" ? data : {};
    super(typeof d.message === "string" && d.message ? d.message : "The server refused the request.");
    this.name = "ServerError";
    this.code = typeof d.code === "string" ? d.code : "unknown";
    this.requestType = d.request_type || requestType || null;
    // rate_limited: how long to wait before the same request can succeed (PROTOCOL.md "Rate limits").
    this.retryAfterMs = Number.isInteger(d.retry_after_ms) && d.retry_after_ms >= 0 ? d.retry_after_ms : null;
  }
}

/** The connection closed or timed out before the reply came: the request may or may not have been carried out. */
export class ConnectionLost extends Error {
  constructor(message = "The connection to the community was lost.") {
    super(message);
    this.name = "ConnectionLost";
    this.code = "connection_lost";
  }
}

/** Error codes after which reconnecting with the same identity cannot help. */
const FATAL_CODES = new Set(["unknown_user", "challenge_failed", "invite_invalid", "banned", "removed"]);

/**
 * A close that says this member is no longer one (PROTOCOL.md: 1008 with the reason `removed from the community` or
 * `banned`) as a ServerError with the code `removed` or `banned`; null for any other close.
 */
function removalOf(event) {
  if (event.code !== 1008) return null;
  const reason = String(event.reason || "").toLowerCase();
  if (/\bbanned\b/.test(reason)) return new ServerError({ code: "banned", message: "You were banned from this community." });
  if (/\bremoved\b/.test(reason)) return new ServerError({ code: "removed", message: "You were removed from this community." });
  return null;
}

/**
 * Why a socket closed, in words a member can act on (never a bare close code): `host` is the community's host:port,
 * `opened` whether the socket ever opened. Lower case, no final stop: callers put it in a sentence (see sentence()).
 */
export function closeText(event, host, opened) {
  const code = event && Number.isInteger(event.code) ? event.code : 1006;
  const reason = String((event && event.reason) || "").trim();
  if (!opened) return `cannot reach ${host} (nothing answers there, or the network is down)`;
  switch (code) {
    case 1000:
    case 1001:
      if (/ping timeout/i.test(reason)) return `the community at ${host} heard nothing from this browser for too long and closed the connection`;
      return `the community at ${host} closed the connection (it may be restarting)`;
    case 1006:
      return `the connection to ${host} was lost (the network dropped, or the community stopped)`;
    case 1008:
      return `the community at ${host} closed the connection${reason ? `: ${reason}` : " (it refused something this browser sent)"}`;
    case 1009:
      return `the community at ${host} closed the connection: something this browser sent was too large`;
    case 1011:
      return `the community at ${host} closed the connection after an error of its own`;
    case 1012:
    case 1013:
      return `the community at ${host} is restarting or too busy`;
    case 4000:
      return `the login at ${host} did not complete`;
    case 4001:
      return /dropped by the client/i.test(reason) ? `this page dropped the connection to ${host}` : `the community at ${host} stopped answering (no reply to a keep-alive ping)`;
    default:
      return `the connection to ${host} closed (WebSocket code ${code}${reason ? `: ${reason}` : ""})`;
  }
}

/** A phrase from closeText (or any reason) as the start of a sentence. */
export function sentence(text) {
  const s = String(text || "no answer");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const REQUEST_TIMEOUT_MS = 20000;
const OPEN_TIMEOUT_MS = 10000;
const PING_EVERY_MS = 25000;
const PONG_TIMEOUT_MS = 10000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30000;

export class Connection extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.url           ws:// or wss:// URL of the community
   * @param {object} options.identity      {user_id, private_key, public_key}
   * @param {object} [options.registration] {invite, username}: register first (once), then log in
   * @param {string} [options.communityKey] the community's public key seen at an earlier login (base64)
   */
  constructor({ url, identity, registration = null, communityKey = null }) {
    super();
    this.communityKey = communityKey; // the community's public key seen before (pinned); null: take the first one
    this.url = url;
    this.identity = identity;
    this.registration = registration;
    this.state = "idle";
    this.socket = null;
    this.pending = new Map();
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.stopped = true;
    this.session = null; // identification_response.data of the current login
    // Where the last login joined the community's stream of updates, and the newest position received since: the
    // next login resumes from there (PROTOCOL.md, "Resuming after a disconnect").
    this.stream = null;
    this.position = 0;
    this.generation = 0;
  }

  /** The community's host:port, for messages. */
  get host() {
    try {
      return new URL(this.url).host;
    } catch {
      return String(this.url);
    }
  }

  /** Opens the connection (and keeps it open until stop()). */
  start() {
    this.stopped = false;
    this.connectNow();
  }

  /** Closes for good. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.teardown("closed by the client");
    this.setState("idle");
  }

  /** Skips the rest of the backoff wait. */
  retryNow() {
    if (this.stopped || this.state === "online" || this.state === "connecting" || this.state === "authenticating") {
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connectNow();
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, attempt: this.attempt, ...extra } }));
  }

  connectNow() {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.setState("connecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect(`${this.host} is not an address this browser can connect to (${String(e.message || e)})`);
      return;
    }
    this.socket = socket;
    const openTimer = setTimeout(() => {
      if (socket.readyState === WebSocket.CONNECTING) socket.close();
    }, OPEN_TIMEOUT_MS);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      clearTimeout(openTimer);
      if (generation !== this.generation) return;
      this.handshake(generation).catch((e) => this.handshakeFailed(e, generation));
    });
    socket.addEventListener("message", (event) => {
      if (generation === this.generation) this.receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      clearTimeout(openTimer);
      if (generation !== this.generation) return;
      const reason = closeText(event, this.host, opened);
      this.socket = null;
      this.failPending(new ConnectionLost());
      this.stopPing();
      this.session = null;
      if (this.stopped || this.state === "failed") return;
      const removal = removalOf(event);
      if (removal) {
        // Reconnecting cannot help: this identity is no longer a member here.
        this.stopped = true;
        this.setState("failed", { reason: removal.message });
        this.dispatchEvent(new CustomEvent("fatal", { detail: removal }));
        return;
      }
      this.scheduleReconnect(reason);
    });
  }

  async handshake(generation) {
    this.setState("authenticating");
    if (this.registration) {
      try {
        const reply = await this.request("register", {
          user_id: this.identity.user_id,
          public_key: this.identity.public_key,
          invite: this.registration.invite,
          username: this.registration.username,
        });
        if (reply.data && reply.data.accepted === false) {
          throw new ServerError({ code: "invite_invalid", message: "The community did not accept the registration." });
        }
        this.dispatchEvent(new CustomEvent("registered", { detail: reply.data || {} }));
      } catch (e) {
        // A registration that went through before a lost connection is retried on the next connection and then
        // answers already_registered: this identity is a member, so log in.
        if (!(e instanceof ServerError && e.code === "already_registered")) {
          if (e instanceof ServerError) e.fatal = true; // a bad username or invite: the person must change it
          throw e;
        }
        this.dispatchEvent(new CustomEvent("registered", { detail: { already: true } }));
      }
      this.registration = null;
    }
    const identification = { user_id: this.identity.user_id };
    if (this.stream) {
      identification.resume = {
        stream: this.stream.id,
        position: Math.max(this.position, this.stream.position),
        connection: this.stream.connection,
      };
    }
    const challenge = await this.request("identification", identification);
    if (challenge.type !== "challenge" || !challenge.data) throw new Error(`Expected a challenge, got ${challenge.type}.`);
    const key = challenge.data.public_key;
    if (this.communityKey && key !== this.communityKey) {
      throw new Error(
        "The community's key is not the one this browser saw before: this may not be the same community. " +
          "Signing in was stopped so your identity is not used with an impostor.",
      );
    }
    this.communityKey = key;
    const answer = await solveChallenge(this.identity, challenge.data.challenge, challenge.data.public_key);
    const response = await this.request("challenge_response", { challenge: answer });
    if (response.type !== "identification_response" || !response.data || response.data.accepted === false) {
      throw new ServerError({ code: "challenge_failed", message: "The community did not accept the login." });
    }
    if (generation !== this.generation) return;
    this.attempt = 0;
    this.session = response.data;
    const stream = response.data.stream;
    if (stream && typeof stream.id === "string" && Number.isSafeInteger(stream.position)) {
      // Frames after this reply have not been read yet: the position starts at the login's.
      this.stream = { id: stream.id, position: stream.position, connection: String(stream.connection || "") };
      this.position = stream.position;
    } else {
      this.stream = null;
    }
    this.setState("online");
    this.startPing(generation);
    this.dispatchEvent(new CustomEvent("login", { detail: response.data }));
  }

  handshakeFailed(error, generation) {
    if (generation !== this.generation) return;
    const retryable =
      error instanceof ConnectionLost || (error instanceof ServerError && !error.fatal && !FATAL_CODES.has(error.code));
    if (retryable) {
      // A lost connection or a passing server error during login: close, and the close handler reconnects.
      if (this.socket) this.socket.close(4000, "login failed");
      return;
    }
    // A refused invite, identity or username, or a local crypto failure: retrying cannot help.
    this.setState("failed", { reason: error.message });
    this.teardown("login failed");
    this.dispatchEvent(new CustomEvent("fatal", { detail: error }));
  }

  scheduleReconnect(reason) {
    if (this.stopped) return;
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = Math.round(exp * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectNow();
    }, delay);
    this.setState("reconnecting", { retryAt: Date.now() + delay, reason });
  }

  teardown(reason) {
    this.generation++;
    this.stopPing();
    this.failPending(new ConnectionLost());
    if (this.socket) {
      try {
        this.socket.close(1000, reason);
      } catch {
        /* already closed */
      }
    }
    this.socket = null;
    this.session = null;
  }

  failPending(error) {
    const pending = Array.from(this.pending.values());
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  startPing(generation) {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (generation !== this.generation || this.state !== "online") return;
      this.request("ping", undefined, PONG_TIMEOUT_MS).catch((e) => {
        if (e instanceof ConnectionLost && this.socket && generation === this.generation) {
          this.socket.close(4001, "no pong");
        }
      });
    }, PING_EVERY_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /** Whether requests can be sent now. */
  get online() {
    return this.state === "online" && this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a request and resolves with the reply envelope carrying the same id; rejects with ServerError for an
   * `error` reply, or ConnectionLost when the socket closes or the reply does not come in time.
   */
  request(type, data, timeoutMs = REQUEST_TIMEOUT_MS) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return Promise.reject(new ConnectionLost("Not connected."));
    const id = newId();
    const [level, message] = REQUEST_LOG[type] || [0, type];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new ConnectionLost("The community did not answer in time."));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, type });
      try {
        socket.send(JSON.stringify(envelope(type, data, id, message, level)));
      } catch (e) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new ConnectionLost(String(e.message || e)));
      }
    });
  }

  /** Runs a function on an interactable (or on the community) and resolves with the reply's `data`. */
  async call({ codec, path, name }, fn, payload = {}) {
    const data = { name, path, function: fn, payload };
    if (codec) data.codec = codec;
    if (!this.online) throw new ConnectionLost("Not connected.");
    const reply = await this.request("function", data);
    return reply.data || {};
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object" || typeof frame.type !== "string") return;
    if (frame.type === "update") {
      if (Number.isSafeInteger(frame.position) && frame.position > this.position) this.position = frame.position;
      if (frame.data && typeof frame.data === "object") {
        this.dispatchEvent(new CustomEvent("update", { detail: frame.data }));
      }
      return;
    }
    const pending = frame.id !== undefined ? this.pending.get(frame.id) : undefined;
    if (!pending) {
      if (frame.type === "error") {
        this.dispatchEvent(new CustomEvent("servererror", { detail: frame.data || {} }));
      }
      return;
    }
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.type === "error") pending.reject(new ServerError(frame.data, pending.type));
    else pending.resolve(frame);
  }
}

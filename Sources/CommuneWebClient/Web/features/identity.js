// Who I am here: which screen applies at start (an invite link, a stored identity, or neither), joining with an
// invite, importing and exporting the identity file, the identity dialog and banner, and what to do when the
// community refuses this identity.

import { ServerError } from "../lib/connection.js";
import { nameNode } from "../lib/names.js";
import { codePointLength, communityEntry, generateIdentity, identityFileText, mentionsInvite, parseInvite, validateIdentity } from "../lib/protocol.js";
import * as storage from "../lib/storage.js";
import { $, downloadText, errorText, readFileText, setFormError, show, showScreen, toast } from "../lib/ui.js";

let ctx = null;

const startSession = (registration) => ctx.bus.emit("start-session", registration);

function stopSession() {
  const conn = ctx.store.get("conn");
  if (conn) conn.stop();
  ctx.store.set({ conn: null });
}

/** Decides which screen applies from the stored identity and the address's #invite=. */
function route() {
  const invite = parseInvite(location.hash);
  const identity = storage.loadIdentity();
  ctx.store.set({ identity });
  const community = storage.loadCommunity(ctx.baseUrl);
  if (identity && community && community.registered && community.user_id === identity.user_id) {
    if (invite) {
      clearInviteFromAddress();
      toast({ kind: "info", title: "Already a member", message: ["You are already a member here as ", community.username ? nameNode(community.username) : "yourself", "."], timeout: 6000 });
    }
    startSession(null);
    return;
  }
  if (invite) {
    showJoin(invite);
    return;
  }
  if (mentionsInvite(location.hash)) {
    showMalformedInvite();
    return;
  }
  if (identity) {
    // An imported identity, or one whose registration never completed: try to log in.
    startSession(null);
    return;
  }
  showWelcome();
}

/** An address with an invite that is cut off or mangled: the welcome screen says so, with the link to correct. */
function showMalformedInvite() {
  let text = location.hash;
  try {
    text = decodeURIComponent(text);
  } catch {
    /* shown as it is */
  }
  text = text.slice(0, 300);
  clearInviteFromAddress();
  showWelcome(
    "This invite link is incomplete or damaged: an invite ends in a code of letters, digits, “-” and “_” after " +
      "“#invite=”. Copy the whole link again, or ask for a new one, and paste it here.",
  );
  $("welcome-invite").value = location.origin + location.pathname + text;
}

function clearInviteFromAddress() {
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function showJoin(invite) {
  showScreen("join");
  $("join-host").textContent = location.host;
  $("join-form").dataset.invite = invite;
  const community = storage.loadCommunity(ctx.baseUrl);
  if (community && community.username && !$("join-name").value) $("join-name").value = community.username;
  setFormError("join-error", "");
  $("join-submit").disabled = false;
  $("join-name").focus();
}

function showWelcome(message) {
  stopSession();
  showScreen("welcome");
  setFormError("welcome-error", message || "");
}

async function onJoinSubmit(event) {
  event.preventDefault();
  const username = $("join-name").value.trim();
  if (!username) {
    setFormError("join-error", "Pick a display name first.");
    return;
  }
  if (codePointLength(username) > 32) {
    setFormError("join-error", "A display name has at most 32 characters.");
    return;
  }
  setFormError("join-error", "");
  $("join-submit").disabled = true;
  let identity = ctx.store.get("identity");
  try {
    if (!identity) {
      identity = await generateIdentity();
      ctx.store.set({ identity });
      if (!storage.saveIdentity(identity)) {
        throw new Error("This browser refused to store the identity, so you could not sign in again. Allow site data and retry.");
      }
    }
  } catch (e) {
    $("join-submit").disabled = false;
    setFormError("join-error", `Could not create your identity: ${errorText(e)}`);
    return;
  }
  storage.updateCommunity(ctx.baseUrl, { user_id: identity.user_id, username, registered: false });
  startSession({ invite: $("join-form").dataset.invite, username });
}

async function importIdentityFrom(input, errorId) {
  const file = input.files && input.files[0];
  input.value = "";
  if (!file) return;
  let identity;
  let entry;
  try {
    const text = await readFileText(file);
    identity = await validateIdentity(text);
    entry = communityEntry(JSON.parse(text), ctx.baseUrl);
  } catch (e) {
    setFormError(errorId, errorText(e));
    return;
  }
  const current = ctx.store.get("identity");
  if (current && current.user_id !== identity.user_id && !confirm("Replace the identity stored in this browser with the imported one?")) {
    return;
  }
  storage.saveIdentity(identity);
  const known = { user_id: identity.user_id, registered: true, exported: true };
  if (entry && typeof entry.username === "string") known.username = entry.username;
  if (entry && typeof entry.community_key === "string") known.community_key = entry.community_key;
  storage.updateCommunity(ctx.baseUrl, known);
  ctx.store.set({ identity });
  setFormError(errorId, "");
  if (ctx.store.get("conn")) {
    stopSession();
    location.reload();
    return;
  }
  clearInviteFromAddress();
  startSession(null);
}

/** A failure that retrying cannot fix: back to the join or welcome screen, saying why. */
function onFatal(error) {
  const code = error && error.code;
  if (code === "invite_invalid" || (error instanceof ServerError && error.requestType === "register")) {
    showJoin($("join-form").dataset.invite || parseInvite(location.hash) || "");
    const prefix = code === "invite_invalid" ? "This invite cannot be used: " : "";
    setFormError("join-error", prefix + errorText(error));
    return;
  }
  const gone = code === "banned" || code === "removed" ? code : code === "unknown_user" ? (storage.loadCommunity(ctx.baseUrl) || {}).gone : null;
  if (gone === "banned" || gone === "removed") {
    // Removed or banned by a moderator: said plainly, not as an unknown identity.
    storage.updateCommunity(ctx.baseUrl, { registered: false, gone });
    const invite = gone === "removed" && parseInvite(location.hash);
    if (invite) {
      showJoin(invite);
      return;
    }
    showWelcome(
      gone === "banned"
        ? "You were banned from this community. You cannot join again unless a moderator lifts the ban."
        : "You were removed from this community. You may join again with a new invite link from a member.",
    );
    document.body.dataset.gone = gone;
    return;
  }
  if (code === "unknown_user") {
    storage.updateCommunity(ctx.baseUrl, { registered: false });
    const invite = parseInvite(location.hash);
    if (invite) {
      showJoin(invite);
      return;
    }
    showWelcome(`This community does not know this browser's identity (${errorText(error)}). Ask a member for an invite link to join.`);
    return;
  }
  if (code === "challenge_failed") {
    showWelcome(`The community refused this identity: ${errorText(error)} Import the right identity file, or join again with an invite.`);
    return;
  }
  showWelcome(`Could not sign in: ${errorText(error)}`);
}

// -------------------------------------------------------------------------------------------------------------
// The identity dialog

function openIdentityDialog() {
  const { identity, me } = ctx.store.get();
  $("identity-name").replaceChildren(me ? nameNode(me.username) : "");
  $("identity-id").textContent = identity ? identity.user_id : "";
  $("identity-key").textContent = identity ? identity.public_key : "";
  setFormError("identity-error", "");
  $("identity-dialog").showModal();
}

function exportIdentity() {
  const { identity, me } = ctx.store.get();
  if (!identity) return;
  const name = (me && me.username ? me.username : "identity").replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 32);
  const community = storage.loadCommunity(ctx.baseUrl) || {};
  const entry = { url: ctx.baseUrl, username: community.username || (me && me.username) || "", name: community.community_name || ctx.store.get("community").name };
  if (community.community_key) entry.community_key = community.community_key;
  downloadText(`commune-identity-${name}.json`, identityFileText(identity, [entry]));
  storage.updateCommunity(ctx.baseUrl, { exported: true });
  show($("identity-banner"), false);
  toast({ kind: "ok", title: "Identity exported", message: "Keep the file somewhere safe and private.", timeout: 5000 });
}

function forgetIdentity() {
  if (!confirm("Remove your identity from this browser? Without an exported identity file you cannot sign in as this member again.")) return;
  stopSession();
  storage.forgetEverything();
  ctx.store.set({ identity: null, loggedInOnce: false });
  $("identity-dialog").close();
  location.reload();
}

function onWelcomeInvite(e) {
  e.preventDefault();
  const text = $("welcome-invite").value.trim();
  const code = parseInvite(text);
  if (!code) {
    setFormError("welcome-error", "That is not an invite link or code.");
    return;
  }
  try {
    const url = new URL(text);
    if (url.origin !== ctx.baseUrl && (url.protocol === "http:" || url.protocol === "https:")) {
      location.href = url.href; // the invite belongs to another community: its own server serves its client
      return;
    }
  } catch {
    /* a bare code */
  }
  location.hash = `invite=${code}`;
}

export function install(context) {
  ctx = context;
  const { store, bus } = ctx;
  bus.on("start", route);
  bus.on("fatal", onFatal);
  bus.on("registered", () => {
    storage.updateCommunity(ctx.baseUrl, { registered: true, gone: null, user_id: store.get("identity").user_id });
    clearInviteFromAddress();
  });
  bus.on("signed-in", ({ previous }) => show($("identity-banner"), !previous.exported));
  $("join-form").addEventListener("submit", onJoinSubmit);
  $("join-import").addEventListener("change", (e) => importIdentityFrom(e.target, "join-error"));
  $("welcome-import").addEventListener("change", (e) => importIdentityFrom(e.target, "welcome-error"));
  $("welcome-invite-form").addEventListener("submit", onWelcomeInvite);
  window.addEventListener("hashchange", () => {
    const code = parseInvite(location.hash);
    const signedIn = store.get("conn") && store.get("loggedInOnce");
    if (code && !signedIn) showJoin(code);
    else if (!code && !signedIn && mentionsInvite(location.hash)) showMalformedInvite();
  });
  $("open-identity").addEventListener("click", openIdentityDialog);
  $("identity-export").addEventListener("click", exportIdentity);
  $("banner-export").addEventListener("click", exportIdentity);
  $("banner-dismiss").addEventListener("click", () => show($("identity-banner"), false));
  $("identity-import").addEventListener("change", (e) => importIdentityFrom(e.target, "identity-error"));
  $("identity-forget").addEventListener("click", forgetIdentity);
}

// Changing the home: adding the community serving this page ("Use as my home"), joining another community by its
// invite link (registering this identity there) and adding it, removing entries (the membership stays).

import { Connection, sentence } from "../../lib/connection.js";
import { openDialog } from "../../lib/dialogs.js";
import { homeKey, nextTopLevelPosition, sealEntry } from "../../lib/home.js";
import { codePointLength, homeUrl, parseInvite } from "../../lib/protocol.js";
import * as storage from "../../lib/storage.js";
import { errorText, toast } from "../../lib/ui.js";
import { applyEntry, callHome, dropEntry, home, loadHome, socketUrlOf, startHome } from "./shared.js";

/** Adds a community to the home (after the last top-level entry); resolves with the opened entry. */
async function addToHome({ address, title, secret }) {
  const { identity, home: state } = home.ctx.store.get();
  if (state.entries.some((e) => e.address === address)) return; // already in the home
  const key = await homeKey(identity);
  const payload = await sealEntry(key, { address, title, secret, position: nextTopLevelPosition([...state.entries, ...state.unreadable]) });
  const reply = await callHome("add_community", payload);
  if (reply.payload && reply.payload.community) await applyEntry(reply.payload.community);
}

export async function removeFromHome(entry) {
  const ok = await openDialog({
    title: "Remove from your home?",
    lead: [`${entry.title || entry.address} leaves your list of communities. You stay a member there and can add it again.`],
    submitText: "Remove",
    danger: true,
    onSubmit: async () => {
      await callHome("remove_community", { id: entry.id });
      return true;
    },
  });
  if (ok) dropEntry(entry.id);
}

/** Removes the entries of the home that could not be read (changed by someone without the member's key). */
export async function removeUnreadable() {
  const ids = home.ctx.store.get("home").unreadable.map((u) => u.id);
  if (!ids.length) return;
  const ok = await openDialog({
    title: ids.length === 1 ? "Remove the entry that could not be read?" : `Remove the ${ids.length} entries that could not be read?`,
    lead: [
      "Someone without your key changed them, so what they held cannot be known. Removing them frees their places in your home; you stay a member of every community, and can add one again.",
    ],
    submitText: "Remove",
    danger: true,
    onSubmit: async () => {
      for (const id of ids) await callHome("remove_community", { id });
      return true;
    },
  });
  if (ok) for (const id of ids) dropEntry(id);
}

function hereAsEntry() {
  const me = home.ctx.store.get("me");
  const known = storage.loadCommunity(home.ctx.baseUrl) || {};
  const secret = { username: (me && me.username) || known.username || "" };
  if (known.community_key) secret.community_key = known.community_key;
  return { address: home.ctx.baseUrl, title: home.ctx.store.get("community").name, secret };
}

export async function useAsHome() {
  const identity = { ...home.ctx.store.get("identity"), home: home.ctx.baseUrl };
  if (!storage.saveIdentity(identity)) {
    toast({ kind: "error", title: "Not saved", message: "This browser refused to store your identity's home.", timeout: 0 });
    return;
  }
  home.ctx.store.set({ identity });
  startHome();
  try {
    if (home.ctx.store.get("home").state !== "ready") await loadHome();
    if (home.ctx.store.get("home").state !== "ready") throw new Error(home.ctx.store.get("home").error);
    if (!home.ctx.store.get("home").entries.some((e) => e.address === home.ctx.baseUrl)) await addToHome(hereAsEntry());
    toast({ kind: "ok", title: "Home chosen", message: "This community now keeps your list of communities. Export your identity again to carry it.", timeout: 6000 });
  } catch (e) {
    const { home: _dropped, ...without } = identity;
    storage.saveIdentity(without);
    home.ctx.store.set({ identity: without });
    startHome();
    toast({ kind: "error", title: "Not your home", message: errorText(e), timeout: 0 });
  }
}

/** Logs in at another community (registering first when registration is given); resolves with {conn, login}. */
export function signIn(origin, registration) {
  const known = storage.loadCommunity(origin) || {};
  const conn = new Connection({ url: socketUrlOf(origin), identity: home.ctx.store.get("identity"), registration, communityKey: known.community_key || null });
  return new Promise((resolve, reject) => {
    const fail = (error) => {
      clearTimeout(timer);
      conn.stop();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${origin} did not answer.`)), 20000);
    conn.addEventListener("login", (e) => {
      clearTimeout(timer);
      resolve({ conn, login: e.detail });
    });
    conn.addEventListener("fatal", (e) => fail(e.detail));
    conn.addEventListener("state", (e) => {
      if (e.detail.state === "reconnecting" && e.detail.attempt >= 2) fail(new Error(`${sentence(e.detail.reason)}.`));
    });
    conn.start();
  });
}

/** Registers this identity with another community by its invite link, then adds it to the home. */
async function joinOther(link, username) {
  const code = parseInvite(link);
  let origin = null;
  try {
    origin = homeUrl(new URL(link.trim()).origin);
  } catch {
    /* not a URL */
  }
  if (!code || !origin) throw new Error("Paste the whole invite link, http(s)://host:port/#invite=…");
  if (origin === home.ctx.baseUrl) throw new Error("That invite is for this community, where you are already a member.");
  // Already a member there (an entry removed from the home earlier): log in; else register with the invite.
  let signed;
  try {
    signed = await signIn(origin, null);
  } catch (e) {
    if (!e || e.code !== "unknown_user") throw e;
    signed = await signIn(origin, { invite: code, username });
  }
  const { conn, login } = signed;
  const identity = home.ctx.store.get("identity");
  const title = (login.community && typeof login.community.name === "string" && login.community.name) || new URL(origin).host;
  const name = login.username || username;
  storage.updateCommunity(origin, { user_id: identity.user_id, username: name, registered: true, community_name: title, community_key: conn.communityKey });
  conn.stop();
  await addToHome({ address: origin, title, secret: { community_key: conn.communityKey, username: name } });
  toast({ kind: "ok", title: "Joined", message: `You joined ${title}; it is in your home.`, timeout: 5000 });
}

export function openJoinDialog() {
  const me = home.ctx.store.get("me");
  openDialog({
    title: "Join a community",
    lead: "Paste an invite link from another community. You join it with this same identity, and it is added to your home.",
    fields: [
      { name: "link", label: "Invite link", placeholder: "http://host:port/#invite=…" },
      { name: "username", label: "Display name there", value: me ? me.username : "", maxLength: 64 },
    ],
    submitText: "Join",
    onSubmit: async ({ link, username }) => {
      const name = username.trim();
      if (!name || codePointLength(name) > 32) throw new Error("A display name has 1 to 32 characters.");
      await joinOther(link, name);
      return true;
    },
  });
}


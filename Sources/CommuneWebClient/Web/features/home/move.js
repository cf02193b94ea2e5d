// Changing the home: the list moves to another community where this identity is a member. Every entry this page
// can read is sealed anew there with the same key, keeping its id and position (an entry already there with the same
// id is brought up to date; a community already listed there is left as it is; a position taken there puts the entry
// after the last top-level one), then the identity's `home` names the new one. The old home keeps its copy as it
// was (sealed; nothing deletes it), no longer updated; entries that could not be read are not copied. Other devices
// keep using the old home until the exported identity is imported there again: the dialog says so.

import { COMMUNITY } from "../../lib/context.js";
import { openDialog } from "../../lib/dialogs.js";
import { compareEntries, homeKey, isFolderLabel, isPosition, nextTopLevelPosition, openEntries, sealEntry } from "../../lib/home.js";
import { homeUrl } from "../../lib/protocol.js";
import * as storage from "../../lib/storage.js";
import { toast } from "../../lib/ui.js";
import { signIn } from "./changes.js";
import { home, startHome } from "./shared.js";

/** Copies the readable entries of the home to conn's community (sealed anew); resolves with how many were written. */
async function copyEntries(conn, key, entries) {
  const reply = await conn.call(COMMUNITY, "get_communities", {});
  const there = reply.payload && Array.isArray(reply.payload.communities) ? reply.payload.communities : [];
  const { entries: opened } = await openEntries(key, there);
  const ids = new Set(there.map((w) => String(w.id).toLowerCase()));
  const taken = new Set(there.map((w) => w.position));
  const listed = new Set(opened.filter((e) => !isFolderLabel(e)).map((e) => e.address));
  let next = Number(nextTopLevelPosition([...there.filter((w) => isPosition(w.position)), ...entries]));
  let written = 0;
  for (const entry of [...entries].sort(compareEntries)) {
    const sealed = { id: entry.id, address: entry.address, title: entry.title, secret: entry.secret };
    if (ids.has(entry.id)) {
      await conn.call(COMMUNITY, "update_community", await sealEntry(key, sealed));
    } else if (!isFolderLabel(entry) && listed.has(entry.address)) {
      continue;
    } else {
      const position = taken.has(entry.position) ? String(next++) : entry.position;
      taken.add(position);
      await conn.call(COMMUNITY, "add_community", await sealEntry(key, { ...sealed, position }));
    }
    written += 1;
  }
  return written;
}

async function changeHome(text) {
  const { ctx } = home;
  const target = homeUrl(String(text || "").trim().replace(/\/+$/, ""));
  if (!target) throw new Error("Give a community's address: http(s)://host:port");
  const identity = ctx.store.get("identity");
  if (target === identity.home) throw new Error("That community is your home already.");
  const state = ctx.store.get("home");
  if (state.state !== "ready") throw new Error("Your home has not been read yet: wait until the rail shows it, then try again.");
  let signed;
  try {
    signed = await signIn(target, null);
  } catch (e) {
    if (e && e.code === "unknown_user") throw new Error(`You are not a member of ${target}: join it first (+ Join a community), then make it your home.`);
    throw e;
  }
  const { conn } = signed;
  let written;
  try {
    written = await copyEntries(conn, await homeKey(identity), state.entries);
  } finally {
    conn.stop();
  }
  storage.updateCommunity(target, { user_id: identity.user_id, registered: true, community_key: conn.communityKey });
  const moved = { ...identity, home: target };
  if (!storage.saveIdentity(moved)) throw new Error("This browser refused to store your identity's new home.");
  ctx.store.set({ identity: moved });
  startHome();
  const skipped = state.unreadable.length ? ` ${state.unreadable.length} that could not be read stayed behind.` : "";
  toast({
    kind: "ok",
    title: "Home moved",
    message: `${written} ${written === 1 ? "entry" : "entries"} copied to ${target}.${skipped} Export your identity again and import it on your other devices.`,
    timeout: 9000,
  });
}

export function openChangeHomeDialog() {
  const { identity, home: state } = home.ctx.store.get();
  openDialog({
    title: "Change your home",
    lead: [
      `Your home is ${identity.home}. Give the address of another community where you are a member (one on your rail, for example): your list is copied there, sealed anew with your key, and it becomes your home.`,
      "Your old home keeps its copy as it is (sealed: only you can read it), no longer updated. Your other devices keep using the old home until you import your exported identity there again.",
      ...(state.unreadable.length ? [`The ${state.unreadable.length} entries that could not be read are not copied.`] : []),
    ],
    fields: [{ name: "address", label: "New home's address", placeholder: "http://host:port" }],
    submitText: "Move my home",
    onSubmit: async ({ address }) => {
      await changeHome(address);
      return true;
    },
  });
}

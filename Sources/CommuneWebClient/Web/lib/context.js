// What every feature and codec is given at install: the state store, the event bus, the codecs, and the few
// helpers they all use (running a function on the server, permissions, member names, selecting a channel).

import { ConnectionLost } from "./connection.js";
import { disambiguators, nameNode } from "./names.js";
import { pageCommunity } from "./storage.js";
import { firstKey } from "./tree.js";
import { errorToast, h } from "./ui.js";

/** The address of the community-wide functions. */
export const COMMUNITY = { codec: "community", path: "", name: "" };

export function createContext({ store, bus, codecs }) {
  const byName = new Map(codecs.map((c) => [c.name, c]));
  const codecOf = (node) => (node ? byName.get(node.codec) || null : null);
  let tagsOf = { members: null, tags: new Map() }; // look-alike names' disambiguators, for one members map

  /** The power level of a group (owner 100; a group this client does not know: 0). */
  const power = (group) => {
    if (group === "owner") return 100;
    const g = store.get("groups").get(group);
    return g && Number.isFinite(g.power) ? g.power : 0;
  };

  return {
    store,
    bus,
    codecs,
    /** The base URL of the community this page is a client of (lib/storage.js pageCommunity). */
    baseUrl: pageCommunity(),

    /** The codec module of a tree node, or null for a codec this client does not know. */
    codecOf,

    /** The codec module called name, or null. */
    codecNamed: (name) => byName.get(name) || null,

    /** The channel a member lands in: the first one, in tree order, whose codec is a landing codec. */
    landingChannel: () => firstKey(store.get("tree"), (n) => Boolean(codecOf(n) && codecOf(n).landing)),

    /** Shows a channel (or nothing, for a key that is not in the tree). */
    select(key) {
      if (!key || !store.get("nodes").has(key)) {
        store.set({ current: null });
        return;
      }
      store.set({ current: key });
      bus.emit("channel-selected", key);
    },

    /** The address of a node for a function call; a key not in the tree is taken as a channel of fallbackCodec. */
    address(key, fallbackCodec) {
      const node = store.get("nodes").get(key);
      if (node) return { codec: node.codec, path: node.path, name: node.name };
      const slash = key.lastIndexOf("/");
      return { codec: fallbackCodec, path: slash < 0 ? "" : key.slice(0, slash), name: slash < 0 ? key : key.slice(slash + 1) };
    },

    /** Runs a function (the server decides who may); errors become a toast and are thrown on, for a dialog to show. */
    async act(address, fn, payload, context) {
      const conn = store.get("conn");
      if (!conn || !conn.online) {
        const e = new ConnectionLost("Not connected: wait for the connection and try again.");
        errorToast(e, context || fn);
        throw e;
      }
      try {
        return await conn.call(address, fn, payload);
      } catch (e) {
        errorToast(e, context || fn);
        throw e;
      }
    },

    /** Whether my group holds a permission (the owner holds all); the server checks again. */
    can(permission) {
      const { me, groups } = store.get();
      if (!me) return false;
      if (me.group === "owner") return true;
      const group = groups.get(me.group);
      return Boolean(group && Array.isArray(group.permissions) && group.permissions.includes(permission));
    },

    /** The power level of a group. */
    power,

    /** Whether I may act on another member: the owner may; others need a power level above theirs. */
    outranks(userId) {
      const { me, members } = store.get();
      if (!me) return false;
      if (me.group === "owner") return true;
      const them = members.get(userId);
      return power(me.group) > power(them ? them.group : "member");
    },

    /** The piece of a member's user id shown after their name when another member's name looks the same, or "". */
    memberTag(userId) {
      const members = store.get("members");
      if (tagsOf.members !== members) tagsOf = { members, tags: disambiguators(members.values()) };
      return tagsOf.tags.get(userId) || "";
    },

    /** A member's name as an element: isolated and cleaned, with the disambiguator of a look-alike. */
    memberLabel(userId, className = "") {
      const tag = this.memberTag(userId);
      return h(
        "span",
        { className: `member-label ${className}`.trim() },
        nameNode(this.memberName(userId)),
        tag ? h("span", { className: "name-tag", textContent: `#${tag}`, title: `User id ${userId}` }) : null,
      );
    },

    /**
     * The members whose name starts with query (case and accents aside), searched by the server among every member
     * (get_members {query, limit}, PROTOCOL.md "The member list in pages"): the page shown stays. They join the
     * members this page knows. A refused query (a character no name holds) or no connection finds none.
     */
    async searchMembers(query, limit = 10) {
      const conn = store.get("conn");
      if (!conn || !conn.online) return [];
      try {
        const reply = await conn.call(COMMUNITY, "get_members", { query: String(query), limit });
        const list = reply.payload && Array.isArray(reply.payload.members) ? reply.payload.members.filter((m) => m && m.user_id && typeof m.username === "string") : [];
        if (list.length) {
          const members = new Map(store.get("members"));
          for (const m of list) members.set(m.user_id, { ...members.get(m.user_id), ...m });
          store.set({ members });
        }
        return list;
      } catch {
        return [];
      }
    },

    /** A member's display name, also for someone not (or no longer) in the member list. */
    memberName(userId) {
      const { members, me } = store.get();
      const m = members.get(userId);
      if (m && m.username) return m.username;
      if (me && userId === me.user_id) return me.username;
      // Not on the member list's page this client shows: the members feature asks for them by id.
      if (userId) bus.emit("unknown-member", userId);
      return `user ${String(userId).slice(0, 8)}`;
    },
  };
}

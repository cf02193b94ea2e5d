// What every feature and codec is given at install: the state store, the event bus, the codecs, and the few
// helpers they all use (running a function on the server, permissions, member names, selecting a channel).

import { ConnectionLost } from "./connection.js";
import { firstKey } from "./tree.js";
import { errorToast } from "./ui.js";

/** The address of the community-wide functions. */
export const COMMUNITY = { codec: "community", path: "", name: "" };

export function createContext({ store, bus, codecs }) {
  const byName = new Map(codecs.map((c) => [c.name, c]));
  const codecOf = (node) => (node ? byName.get(node.codec) || null : null);

  return {
    store,
    bus,
    codecs,
    baseUrl: location.origin,

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

    /** A member's display name, also for someone not (or no longer) in the member list. */
    memberName(userId) {
      const { members, me } = store.get();
      const m = members.get(userId);
      if (m && m.username) return m.username;
      if (me && userId === me.user_id) return me.username;
      return `user ${String(userId).slice(0, 8)}`;
    },
  };
}

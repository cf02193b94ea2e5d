// Voice channels. The server has no calls yet: the client shows who is in a channel (its active users, in the
// sidebar and in the channel's view) and follows their states (user_changed).

import { $, avatar, h } from "../lib/ui.js";

const STATES = { active: "🎙", muted: "🔇", deafened: "🔕", inactive: "💤" };

let ctx = null;
let pane = null;

function occupantItem(userId, info) {
  const s = typeof info.state === "string" ? info.state : "active";
  return h(
    "li",
    { className: `occupant state-${s}`, dataset: { userId, state: s } },
    avatar(ctx.memberName(userId), userId, "small"),
    ctx.memberLabel(userId, "occupant-name"),
    h("span", { className: "occupant-state", textContent: STATES[s] || "", title: s, attrs: { "aria-label": s } }),
    info.streaming ? h("span", { className: "live", textContent: "LIVE" }) : null,
  );
}

const voice = {
  name: "voice",
  label: "Voice channel",
  noun: "voice channel",
  icon: "🔊",
  topic: true,

  install(context) {
    ctx = context;
    pane = h(
      "div",
      { id: "voice-view", className: "voice-view", hidden: true },
      h("p", { className: "muted", textContent: "Voice calls are not in the web client yet. Who is in this channel:" }),
      h("ul", { id: "voice-occupants", className: "voice-occupants" }),
    );
    $("channel-views").append(pane);
  },

  readData(node, data) {
    node.activeUsers = new Map();
    if (data.active_users && typeof data.active_users === "object") {
      for (const [userId, info] of Object.entries(data.active_users)) node.activeUsers.set(userId, info || {});
    }
  },

  treeExtras(node) {
    if (!node.activeUsers.size) return null;
    return h("ul", { className: "occupants" }, Array.from(node.activeUsers.entries()).map(([userId, info]) => occupantItem(userId, info)));
  },

  panes: () => [pane],

  renderView(node) {
    const list = Array.from(node.activeUsers.entries());
    $("voice-occupants").replaceChildren(
      ...(list.length ? list.map(([u, i]) => occupantItem(u, i)) : [h("li", { className: "muted", textContent: "Nobody is here." })]),
    );
  },

  updates: {
    user_changed({ node, payload }) {
      if (!node || node.codec !== voice.name || !payload.user_id) return;
      if (payload.state === null || payload.state === "left" || payload.left === true) node.activeUsers.delete(payload.user_id);
      else node.activeUsers.set(payload.user_id, { state: payload.state || "active", streaming: Boolean(payload.streaming) });
      ctx.store.touch("tree", "nodes");
    },
  },
};

export default voice;

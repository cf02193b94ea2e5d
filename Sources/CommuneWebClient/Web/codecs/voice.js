// Voice channels: who is in each channel's call (the tree's active_users, kept live by user_changed, user_left and
// talking), joining and leaving, and my call's media. The parts live in ./voice/: model (state), call (joining,
// leaving, the call socket's life, reconnecting), mine (my mute, deafen and talking), sharing (my devices, camera and
// screen share, and the shares I watch), signalling (the call socket), mesh and sfu (the two media modes), media
// (microphone, devices, screen capture, talking detection), playback (what I hear and see), view (the channel's view
// and the occupant lists) and panel (the call panel and its shortcuts).

import * as call from "./voice/call.js";
import { applyMine } from "./voice/mine.js";
import { changed, isVoice, memberInfo, model, myId, NAME, patchOccupant, setOccupant } from "./voice/model.js";
import * as panel from "./voice/panel.js";
import * as playback from "./voice/playback.js";
import * as sharing from "./voice/sharing.js";
import * as view from "./voice/view.js";

export default {
  name: NAME,
  label: "Voice channel",
  noun: "voice channel",
  icon: "🔊",
  topic: true,

  install(ctx) {
    model.ctx = ctx;
    playback.install();
    view.install();
    panel.install();
    model.listeners.push(panel.render, view.refresh);
    ctx.store.subscribe(["connection"], (_, { connection }) => call.connectionChanged(connection.state));
    ctx.store.subscribe(["members"], changed);
    ctx.bus.on("online", () => call.online());
    ctx.bus.on("remap", (change) => call.remap(change));
  },

  readData(node, data) {
    node.activeUsers = new Map();
    if (data.active_users && typeof data.active_users === "object") {
      for (const [userId, info] of Object.entries(data.active_users)) node.activeUsers.set(userId, memberInfo(info));
    }
  },

  treeExtras: (node) => view.treeOccupants(node),

  panes: () => view.panes(),

  renderView: (node) => view.render(node),

  updates: {
    user_changed({ key, node, payload }) {
      if (!isVoice(node) || typeof payload.user_id !== "string") return;
      const wasStreaming = Boolean(node.activeUsers.get(payload.user_id) && node.activeUsers.get(payload.user_id).streaming);
      if (payload.user_id === myId() && model.call && model.call.key === key) applyMine(payload);
      else setOccupant(key, payload.user_id, payload);
      if (wasStreaming && payload.streaming !== true) sharing.shareEnded(payload.user_id);
      if (!wasStreaming && payload.streaming === true) sharing.shareStarted(payload.user_id);
      playback.applyAll(); // a server mute starts or ends: mesh listeners enforce it
    },
    user_left({ key, node, payload }) {
      if (!isVoice(node) || typeof payload.user_id !== "string") return;
      // What I watched of them stays asked for: a member whose connection dropped comes back sharing.
      setOccupant(key, payload.user_id, null);
    },
    talking({ key, node, payload }) {
      if (!isVoice(node) || typeof payload.user_id !== "string") return;
      patchOccupant(key, payload.user_id, { talking: payload.talking === true });
    },
    call_ended({ key, payload }) {
      if (model.call && model.call.key === key) call.ended(typeof payload.reason === "string" ? payload.reason : "left");
    },
  },

  commands: {
    /** My call, read only: {key, mode, phase, refusals, connections, watching, self, sharing, microphone, sending} or null. */
    voiceState: () => call.describe(),
    /** The RTP statistics of my call's connections (a promise): [{type, kind, user_id, packetsReceived, …}]. */
    voiceStats: () => call.stats(),
  },
};

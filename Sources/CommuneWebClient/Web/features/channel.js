// The selected channel: its header (title and topic), its codec's view, and remembering it for the next visit.

import { openDialog } from "../lib/dialogs.js";
import * as storage from "../lib/storage.js";
import { $, show } from "../lib/ui.js";

let ctx = null;

function selectedNode() {
  const { current, nodes } = ctx.store.get();
  return current ? nodes.get(current) || null : null;
}

function renderView() {
  const node = selectedNode();
  const codec = ctx.codecOf(node);
  const title = $("channel-title");
  title.textContent = node ? `${codec ? codec.icon : "#"} ${node.name}` : "";
  title.title = node ? node.key : "";
  renderTopic();
  for (const c of ctx.codecs) if (c.panes) for (const pane of c.panes()) show(pane, Boolean(node) && c === codec);
  if (node && codec && codec.renderView) codec.renderView(node);
}

function renderTopic() {
  const node = selectedNode();
  const codec = ctx.codecOf(node);
  const topic = $("channel-topic");
  const hasTopic = Boolean(node && node.topic);
  const settable = Boolean(codec && codec.topic);
  topic.textContent = hasTopic ? node.topic : ctx.can("set_topic") ? "Set a topic" : "";
  topic.title = hasTopic ? `${node.topic}${settable ? " — click to change" : ""}` : "Set a topic for this channel";
  topic.classList.toggle("empty", !hasTopic);
  show(topic, settable && (hasTopic || ctx.can("set_topic")));
  show($("edit-topic"), settable);
}

function openTopicDialog(key = ctx.store.get("current")) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  openDialog({
    title: `Topic of #${node.name}`,
    lead: "Everyone sees the topic in the channel's header. Leave it empty to clear it.",
    fields: [{ name: "topic", label: "Topic", type: "textarea", value: node.topic, maxLength: 512 }],
    submitText: "Set topic",
    onSubmit: async ({ topic }) => {
      await ctx.act(ctx.address(key), "set_topic", { topic: topic.trim() }, "topic not set");
    },
  });
}

function topicChanged({ node, payload }) {
  if (!node) return;
  node.topic = typeof payload.topic === "string" ? payload.topic : "";
  if (node.key === ctx.store.get("current")) renderTopic();
}

export function install(context) {
  ctx = context;
  const { store, bus } = ctx;
  store.subscribe(["current", "nodes"], renderView);
  store.subscribe(["groups", "me"], renderTopic);
  store.subscribe(["current"], (_, { current }) => {
    if (current) storage.updateCommunity(ctx.baseUrl, { last_channel: current });
  });
  bus.on("open-topic", openTopicDialog);
  $("channel-topic").addEventListener("click", () => openTopicDialog());
  $("edit-topic").addEventListener("click", () => store.get("current") && bus.emit("open-node", store.get("current")));
}

/** The channel updates this feature handles, for the codecs that have a topic. */
export const channelUpdates = (codec) => (codec.topic ? { topic_changed: topicChanged } : {});

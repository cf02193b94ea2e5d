// The selected channel: its header (title and topic), its codec's view, and remembering it for the next visit.

import { openDialog } from "../lib/dialogs.js";
import { nameAttr, nameNode, textNode } from "../lib/names.js";
import * as storage from "../lib/storage.js";
import { lockMark } from "../lib/tree.js";
import { $, h, show } from "../lib/ui.js";

let ctx = null;

function selectedNode() {
  const { current, nodes } = ctx.store.get();
  return current ? nodes.get(current) || null : null;
}

function renderView() {
  const node = selectedNode();
  const codec = ctx.codecOf(node);
  const title = $("channel-title");
  title.replaceChildren(...(node ? [`${codec ? codec.icon : "#"} `, nameNode(node.name), lockMark(node) || ""] : []));
  title.title = node ? nameAttr(node.key) : "";
  renderTopic();
  for (const c of ctx.codecs) if (c.panes) for (const pane of c.panes()) show(pane, Boolean(node) && c === codec);
  if (node && codec && codec.renderView) codec.renderView(node);
}

function renderTopic() {
  const node = selectedNode();
  const codec = ctx.codecOf(node);
  const topic = $("channel-topic");
  const hasTopic = Boolean(node && node.topic);
  const hasOne = Boolean(codec && codec.topic);
  const mayChange = hasOne && ctx.can("set_topic");
  topic.replaceChildren(hasTopic ? textNode(node.topic) : mayChange ? "Set a topic" : "");
  topic.title = hasTopic ? (mayChange ? "Click to change the topic" : "Click to read the whole topic") : "Set a topic for this channel";
  topic.classList.toggle("empty", !hasTopic);
  topic.classList.toggle("read-only", !mayChange);
  show(topic, hasOne && (hasTopic || mayChange));
  show($("edit-topic"), Boolean(node) && (ctx.can("manage_channels") || mayChange));
}

/** The topic in full, for those who may not change it. */
function showTopic(node) {
  openDialog({
    title: ["Topic of #", nameNode(node.name)],
    className: "topic-view",
    body: [h("p", { className: "topic-text" }, textNode(node.topic))],
    submitText: null,
    cancelText: "Close",
  });
}

function openTopicDialog(key = ctx.store.get("current")) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  if (!ctx.can("set_topic")) {
    if (node.topic) showTopic(node);
    return;
  }
  openDialog({
    title: ["Topic of #", nameNode(node.name)],
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

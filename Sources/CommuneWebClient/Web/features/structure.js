// The channel tree: the sidebar, creating, renaming, moving and removing channels and categories, and following
// the server's tree_changed (a renamed or moved channel keeps its messages and stays shown). What a node looks like
// and does comes from its codec (codecs/index.js).

import { confirmDialog, openDialog } from "../lib/dialogs.js";
import { nameAttr, nameNode } from "../lib/names.js";
import { indexNodes, keyOf, lockMark, normalizeTree } from "../lib/tree.js";
import { $, h, toast } from "../lib/ui.js";

let ctx = null;
let hint = null; // {from, to}: the rename or move this page asked for, while waiting for its tree_changed

function readTree(interactables) {
  const tree = normalizeTree(interactables, "", ctx.codecNamed);
  return { tree, nodes: indexNodes(tree) };
}

// -------------------------------------------------------------------------------------------------------------
// The sidebar

/** Whether I may do anything in a node's dialog: manage channels, or set the topic of a channel that has one. */
function canManage(node) {
  const codec = ctx.codecOf(node);
  return ctx.can("manage_channels") || Boolean(codec && codec.topic && ctx.can("set_topic"));
}

/** The "⋯" of a node in the sidebar; nothing when I may not change it. */
function manageButton(node, label) {
  if (!canManage(node)) return null;
  return h("button", {
    className: "icon-button node-menu",
    type: "button",
    textContent: "⋯",
    title: `Manage ${nameAttr(label)}`,
    attrs: { "aria-label": `Manage ${nameAttr(label)}` },
    on: { click: () => openNodeDialog(node.key) },
  });
}

function channelItem(node, codec) {
  const { current, unread } = ctx.store.get();
  const count = unread.get(node.key) || 0;
  const selected = node.key === current;
  const title = !codec ? `${nameAttr(node.key)} (${node.codec} channels are not supported here yet)` : codec.treeTitle ? codec.treeTitle(node) : nameAttr(node.key);
  const item = h(
    "li",
    { className: `channel channel-${node.codec}${selected ? " selected" : ""}`, dataset: { key: node.key, codec: node.codec } },
    h(
      "div",
      { className: "tree-row channel-row" },
      h(
        "button",
        {
          className: "channel-button",
          type: "button",
          disabled: !codec,
          title,
          attrs: selected ? { "aria-current": "page" } : {},
          on: { click: () => (codec.open ? codec.open(node) : ctx.select(node.key)) },
        },
        h("span", { className: "channel-icon", textContent: codec ? codec.icon : "?", attrs: { "aria-hidden": "true" } }),
        nameNode(node.name, "channel-name"),
        lockMark(node),
        count > 0 ? h("span", { className: "badge", textContent: count > 99 ? "99+" : String(count) }) : null,
        codec && codec.treeBadge ? codec.treeBadge(node) : null,
      ),
      manageButton(node, `channel ${node.name}`),
    ),
  );
  const extras = codec && codec.treeExtras ? codec.treeExtras(node) : null;
  if (extras) item.append(extras);
  return item;
}

function renderTree() {
  const list = (nodes, depth) =>
    h(
      "ul",
      { className: depth === 0 ? "tree" : "tree-children" },
      nodes.map((node) => {
        const codec = ctx.codecOf(node);
        if (!codec || !codec.treeItem) return channelItem(node, codec);
        return codec.treeItem(node, {
          manageButton,
          children: (inner) => list(inner, depth + 1),
          createIn: ctx.can("manage_channels") ? (key) => openCreateDialog(key) : null,
        });
      }),
    );
  $("channel-tree").replaceChildren(list(ctx.store.get("tree"), 0));
}

// -------------------------------------------------------------------------------------------------------------
// Changes from the server

/**
 * A tree_changed update: the whole new tree. A single renamed or moved node (and everything under it) keeps its
 * state (each codec moves its own on the bus's "remap") and its selection; a removed channel's state is dropped, and
 * when it was the one shown the view moves to another channel and says so.
 */
function applyTreeChange(interactables) {
  const old = ctx.store.get("nodes");
  const { tree, nodes } = readTree(interactables);
  const removed = Array.from(old.keys()).filter((k) => !nodes.has(k) || nodes.get(k).codec !== old.get(k).codec);
  const added = Array.from(nodes.keys()).filter((k) => !old.has(k) || old.get(k).codec !== nodes.get(k).codec);
  const topRemoved = removed.filter((k) => !removed.includes(old.get(k).path));
  const topAdded = added.filter((k) => !added.includes(nodes.get(k).path));
  let from = null;
  let to = null;
  if (hint && removed.includes(hint.from) && nodes.has(hint.to)) {
    from = hint.from;
    to = hint.to;
  } else if (topRemoved.length === 1 && topAdded.length === 1 && old.get(topRemoved[0]).codec === nodes.get(topAdded[0]).codec) {
    from = topRemoved[0];
    to = topAdded[0];
  }
  const moved = (key) => {
    if (from === null) return null;
    const next = key === from ? to : key.startsWith(`${from}/`) ? to + key.slice(from.length) : null;
    return next && nodes.has(next) ? next : null;
  };
  ctx.bus.emit("remap", { removed, moved });
  const current = ctx.store.get("current");
  if (!current || nodes.has(current)) {
    ctx.store.set({ tree, nodes });
    return;
  }
  if (moved(current)) {
    ctx.store.set({ tree, nodes, current: moved(current) });
    return;
  }
  ctx.store.set({ tree, nodes });
  const next = ctx.landingChannel();
  ctx.select(next);
  const gone = current.split("/").pop();
  // The server does not say which: a removed channel and one made private to groups I am not in both leave my tree.
  toast({
    kind: "info",
    title: "Channel closed",
    message: [
      "#",
      nameNode(gone),
      " was removed, or you may no longer see it (it was made private).",
      ...(next ? [" You are now in #", nameNode(nodes.get(next).name), "."] : []),
    ],
    timeout: 8000,
  });
}

// -------------------------------------------------------------------------------------------------------------
// Dialogs (the server decides who may; a refusal is shown as its error)

function containerOptions() {
  const options = [{ value: "", label: "(top level)" }];
  for (const node of ctx.store.get("nodes").values()) {
    const codec = ctx.codecOf(node);
    if (codec && codec.container) options.push({ value: node.key, label: node.key });
  }
  return options;
}

/** The create dialog, inside parentKey, with a codec chosen (default: the landing codec). */
function openCreateDialog(parentKey = "", codecName = ctx.codecs.find((c) => c.landing).name) {
  const creatable = ctx.codecs.filter((c) => c.label);
  openDialog({
    title: "Create",
    className: "create-dialog",
    fields: [
      { name: "codec", label: "Kind", type: "select", value: codecName, options: creatable.map((c) => ({ value: c.name, label: c.label })) },
      { name: "name", label: "Name", maxLength: 64, placeholder: "e.g. projects" },
      { name: "parent", label: "Inside", type: "select", value: parentKey, options: containerOptions() },
      ...creatable.flatMap((c) => (c.createFields || []).map((f) => ({ ...f, showIf: { codec: [c.name] } }))),
    ],
    submitText: "Create",
    onSubmit: async (values) => {
      const codec = ctx.codecNamed(values.codec);
      const name = values.name.trim();
      const payload = { codec: codec.name, ...(codec.createPayload ? codec.createPayload(values) : {}) };
      await ctx.act({ codec: codec.name, path: values.parent, name }, "create", payload, `${codec.container ? codec.noun : "channel"} not created`);
      if (codec.landing) {
        const key = keyOf(values.parent, name);
        if (ctx.store.get("nodes").has(key)) ctx.select(key);
      }
    },
  });
}

function openNodeDialog(key) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  const codec = ctx.codecOf(node);
  const what = codec ? codec.noun : `${node.codec} channel`;
  const button = (text, cls, onClick) => h("button", { type: "button", className: cls, textContent: text, on: { click: onClick } });
  const manage = ctx.can("manage_channels");
  const actions = manage ? [button("Rename…", "node-rename", () => renameNode(key)), button("Move…", "node-move", () => moveNode(key))] : [];
  if (codec && codec.topic && ctx.can("set_topic")) actions.push(button("Set topic…", "node-topic", () => ctx.bus.emit("open-topic", key)));
  if (manage && codec && codec.container) actions.push(button("Create inside…", "node-create", () => openCreateDialog(key)));
  if (manage) actions.push(button("Who can see it…", "node-access", () => accessNode(key)));
  if (manage) actions.push(button("Remove…", "danger node-remove", () => removeNode(key)));
  openDialog({
    title: codec && codec.container ? [nameNode(node.name)] : [`${codec ? codec.icon : "#"} `, nameNode(node.name)],
    lead: [
      `A ${what}`,
      ...(node.path ? [" in ", nameNode(node.path)] : [" at the top level"]),
      ".",
      ...(node.private ? [" 🔒 Private."] : []),
      ...[].concat(codec && codec.describe ? codec.describe(node) : []),
    ],
    className: "node-dialog",
    body: actions.length ? [h("div", { className: "dialog-actions node-actions" }, actions)] : [],
    submitText: null,
    cancelText: "Close",
  });
}

/** Runs a rename or move with a hint of where the node goes, so that the tree change keeps its state. */
async function relocate(key, to, fn, payload, context) {
  hint = { from: key, to };
  try {
    await ctx.act(ctx.address(key), fn, payload, context);
  } finally {
    hint = null;
  }
}

function renameNode(key) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  openDialog({
    title: ["Rename ", nameNode(node.name)],
    fields: [{ name: "new_name", label: "New name", value: node.name, maxLength: 64 }],
    submitText: "Rename",
    onSubmit: async ({ new_name: newName }) => {
      const name = newName.trim();
      await relocate(key, keyOf(node.path, name), "rename", { new_name: name }, "not renamed");
    },
  });
}

function moveNode(key) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  const options = containerOptions().filter((o) => o.value !== key && !o.value.startsWith(`${key}/`));
  openDialog({
    title: ["Move ", nameNode(node.name)],
    fields: [
      { name: "parent_path", label: "Into", type: "select", value: node.path, options },
      { name: "position", label: "Position (0 = first; empty = last)", type: "number", min: 0 },
    ],
    submitText: "Move",
    onSubmit: async ({ parent_path: parentPath, position }) => {
      const payload = { parent_path: parentPath };
      if (Number.isInteger(position) && position >= 0) payload.position = position;
      await relocate(key, keyOf(parentPath, node.name), "move", payload, "not moved");
    },
  });
}

/** Who may see a node: every member, or only some groups (a private channel or category; the server checks power). */
function accessNode(key) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  const groups = Array.from(ctx.store.get("groups").values())
    .filter((g) => g.name !== "owner")
    .sort((a, b) => b.power - a.power || a.name.localeCompare(b.name));
  const chosen = new Set(node.access || []);
  openDialog({
    title: ["Who can see ", nameNode(node.name)],
    lead: "The owner always sees everything. A category's choice holds for everything in it; those who cannot see a channel do not know it is there.",
    className: "access-dialog",
    fields: [
      {
        name: "who",
        label: "Who can see it",
        type: "select",
        value: node.access ? "groups" : "everyone",
        options: [
          { value: "everyone", label: "Every member" },
          { value: "groups", label: "Only these groups" },
        ],
      },
      ...groups.map((g, i) => ({ name: `group-${i}`, label: g.name, type: "checkbox", value: chosen.has(g.name), showIf: { who: ["groups"] } })),
    ],
    submitText: "Save",
    onSubmit: async (values) => {
      const list = values.who === "everyone" ? null : groups.filter((_, i) => values[`group-${i}`]).map((g) => g.name);
      await ctx.act(ctx.address(key), "set_access", { groups: list }, "access not changed");
    },
  });
}

function removeNode(key) {
  const node = ctx.store.get("nodes").get(key);
  if (!node) return;
  const codec = ctx.codecOf(node);
  confirmDialog({
    title: ["Remove ", nameNode(node.name)],
    lead:
      codec && codec.container
        ? [`Remove the ${codec.noun} `, nameNode(node.name), ", every channel in it, and all their messages? This cannot be undone."]
        : ["Remove ", nameNode(node.name), " and all its messages? This cannot be undone."],
    confirmText: "Remove",
    onSubmit: async () => {
      await ctx.act(ctx.address(key), "remove", {}, "not removed");
    },
  });
}

// -------------------------------------------------------------------------------------------------------------

export function install(context) {
  ctx = context;
  ctx.store.subscribe(["tree", "current", "unread", "mentions", "members", "groups", "me"], renderTree);
  ctx.bus.on("signed-in", ({ data }) => ctx.store.set(readTree(data.interactables || {})));
  ctx.bus.on("open-node", openNodeDialog);
  ctx.bus.on("open-create", ({ parent = "", container = false }) =>
    openCreateDialog(parent, (container ? ctx.codecs.find((c) => c.container) : ctx.codecs.find((c) => c.landing)).name),
  );
}

/** The community updates this feature handles. */
export const updates = {
  tree_changed({ payload }) {
    if (payload.interactables && typeof payload.interactables === "object") applyTreeChange(payload.interactables);
  },
};

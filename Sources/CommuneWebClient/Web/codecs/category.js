// Categories group the tree: they hold channels (and categories), fold open and shut in the sidebar, and are where
// channels are created and moved to.

import { nameAttr, nameNode } from "../lib/names.js";
import { lockMark } from "../lib/tree.js";
import { h } from "../lib/ui.js";

let ctx = null;
const collapsed = new Set(); // keys of the categories folded shut in this page

export default {
  name: "category",
  label: "Category",
  noun: "category",
  container: true,

  install(context) {
    ctx = context;
    // A renamed or moved category stays folded; a removed one is forgotten.
    ctx.bus.on("remap", ({ removed, moved }) => {
      for (const key of removed) if (collapsed.delete(key) && moved(key)) collapsed.add(moved(key));
    });
  },

  readData(node, data, children) {
    node.children = children(data);
  },

  treeItem(node, tree) {
    const shut = collapsed.has(node.key);
    return h(
      "li",
      { className: `category${shut ? " collapsed" : ""}`, dataset: { key: node.key } },
      h(
        "div",
        { className: "tree-row category-row" },
        h(
          "button",
          {
            className: "category-toggle",
            type: "button",
            attrs: { "aria-expanded": String(!shut) },
            on: {
              click: () => {
                if (collapsed.has(node.key)) collapsed.delete(node.key);
                else collapsed.add(node.key);
                ctx.store.touch("tree");
              },
            },
          },
          `${shut ? "▸" : "▾"} `,
          nameNode(node.name),
        ),
        lockMark(node),
        tree.createIn
          ? h("button", {
              className: "icon-button node-add",
              type: "button",
              textContent: "+",
              title: `Create a channel in ${nameAttr(node.name)}`,
              attrs: { "aria-label": `Create a channel in ${nameAttr(node.name)}` },
              on: { click: () => tree.createIn(node.key) },
            })
          : null,
        tree.manageButton(node, `category ${node.name}`),
      ),
      shut ? null : tree.children(node.children),
    );
  },
};

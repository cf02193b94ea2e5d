// Link channels point at another community's address (opened in a new tab) or at a member (their card opens).

import { safeUrl } from "../lib/markup.js";
import { nameAttr, nameNode, textNode } from "../lib/names.js";
import { toast } from "../lib/ui.js";

let ctx = null;

function target(node) {
  if (node.linkKind === "user") return `member ${nameAttr(ctx.memberName(node.target))}`;
  return node.target;
}

export default {
  name: "link",
  label: "Link to another community",
  noun: "link channel",
  icon: "🔗",
  createFields: [{ name: "target", label: "Address (http or https)", placeholder: "https://…" }],

  createPayload: ({ target: address }) => ({ kind: "community", target: address.trim() }),

  install(context) {
    ctx = context;
  },

  readData(node, data) {
    node.linkKind = typeof data.kind === "string" ? data.kind : "";
    node.target = typeof data.target === "string" ? data.target : "";
  },

  treeTitle: (node) => `${nameAttr(node.key)} → ${target(node)}`,

  describe: (node) => [" It points at ", node.linkKind === "user" ? ctx.memberLabel(node.target) : textNode(node.target), "."],

  open(node) {
    if (node.linkKind === "user") {
      if (ctx.store.get("members").has(node.target)) ctx.bus.emit("open-member", node.target);
      else toast({ kind: "info", title: "Not a member here", message: [nameNode(node.name), " points at a member this community does not know."] });
      return;
    }
    const url = safeUrl(node.target);
    if (!url) {
      toast({ kind: "error", title: "Cannot open link", message: [nameNode(node.name), " does not point at an http(s) address."] });
      return;
    }
    window.open(url, "_blank", "noopener,noreferrer");
  },
};

// The interactable tree as the protocol sends it ({name: {codec, position, data}}, categories nesting theirs in
// `data`), turned into sorted nodes: {name, path, key, codec, position, topic, access, private, children, …what the
// codec reads}. `access` is the groups a private node itself is restricted to (null when it has none); `private` is
// true when it or a category above it has one.

import { h } from "./ui.js";

/** A node's key: its path and name joined with "/". */
export function keyOf(path, name) {
  return path ? `${path}/${name}` : name;
}

/**
 * The sorted nodes of a tree object at path. Each codec reads its own part of a node's `data` (readData);
 * codecNamed(name) gives the codec module of a name, or null.
 */
export function normalizeTree(object, path, codecNamed, privateAbove = false) {
  const nodes = [];
  if (!object || typeof object !== "object") return nodes;
  for (const [name, raw] of Object.entries(object)) {
    if (!raw || typeof raw !== "object") continue;
    const node = {
      name,
      path,
      key: keyOf(path, name),
      codec: typeof raw.codec === "string" ? raw.codec : "unknown",
      position: Number.isFinite(raw.position) ? raw.position : Number.MAX_SAFE_INTEGER,
      children: [],
    };
    node.access = Array.isArray(raw.access) ? raw.access.filter((g) => typeof g === "string") : null;
    node.private = privateAbove || node.access !== null;
    const data = raw.data && typeof raw.data === "object" ? raw.data : {};
    node.topic = typeof data.topic === "string" ? data.topic : "";
    const codec = codecNamed(node.codec);
    if (codec && codec.readData) codec.readData(node, data, (inner) => normalizeTree(inner, node.key, codecNamed, node.private));
    nodes.push(node);
  }
  nodes.sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  return nodes;
}

/** Every node of a tree by key. */
export function indexNodes(tree) {
  const nodes = new Map();
  const walk = (list) => {
    for (const n of list) {
      nodes.set(n.key, n);
      walk(n.children);
    }
  };
  walk(tree);
  return nodes;
}

/** The key of the first node, in tree order, that test() accepts; null when there is none. */
export function firstKey(tree, test) {
  for (const n of tree) {
    if (test(n)) return n.key;
    const inner = firstKey(n.children, test);
    if (inner) return inner;
  }
  return null;
}

/** The lock shown beside a private node's name (null for a node every member sees), saying who may see it. */
export function lockMark(node) {
  if (!node.private) return null;
  const who = node.access === null ? "its category is private" : node.access.length ? `only ${node.access.join(", ")} (and the owner) can see it` : "only the owner can see it";
  return h("span", { className: "lock", textContent: "🔒", title: `Private: ${who}`, attrs: { "aria-label": `private: ${who}` } });
}

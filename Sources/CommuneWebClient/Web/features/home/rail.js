// The rail: the member's communities in the order and folders of their home, each with its state and its unread
// and mention counts; the community shown is marked current. Titles and folder names are shown as names are
// (lib/names.js: isolated, without invisible or direction-control characters), whoever chose them.

import { buildRail, unreadableText } from "../../lib/home.js";
import { cleanName, nameNode } from "../../lib/names.js";
import { $, h, show } from "../../lib/ui.js";
import { removeFromHome, removeUnreadable } from "./changes.js";
import { openFolderDialog } from "./folders.js";
import { home } from "./shared.js";
import { showCommunity } from "./switching.js";

function initials(title) {
  const words = cleanName(title).split(/\s+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0]);
  return (letters.join("") || "?").toUpperCase();
}

function communityItem(entry) {
  const { ctx, others } = home;
  const here = entry.address === ctx.baseUrl;
  const current = entry.address === home.shown;
  const other = others.get(entry.address);
  const reach = here ? { state: "online", error: "" } : other ? other.reach : { state: "connecting", error: "" };
  const unread = other ? other.unread : 0;
  const mentions = other ? other.mentions : 0;
  const title = entry.title || entry.address;
  return h(
    "li",
    {
      className: `rail-community${current ? " current" : ""}`,
      draggable: Boolean(entry.id),
      tabIndex: 0,
      attrs: { role: "button", "aria-current": current ? "page" : "false" },
      on: {
        click: () => showCommunity(entry.address, true),
        keydown: (e) => {
          if (e.key === "Enter" && e.target === e.currentTarget) showCommunity(entry.address, true);
        },
      },
      // counts: whose connection the counts come from, the rail's own or (while it is shown there) the frame's.
      dataset: { address: entry.address, entryId: entry.id || "", state: reach.state, position: entry.position || "", counts: other && other.framed ? "frame" : "rail" },
    },
    h(
      "span",
      { className: "rail-icon", attrs: { "aria-hidden": "true" } },
      initials(title),
      mentions ? h("span", { className: "rail-badge mention", textContent: `@${mentions}`, title: `${mentions} unread mentions` }) : null,
      !mentions && unread ? h("span", { className: "rail-badge", textContent: unread > 99 ? "99+" : String(unread), title: `${unread} unread messages` }) : null,
    ),
    h(
      "span",
      { className: "rail-text" },
      h("span", { className: "rail-title", title: entry.address }, nameNode(title)),
      reach.error ? h("span", { className: "rail-error", textContent: reach.error, attrs: { role: "status" } }) : null,
    ),
    entry.id
      ? h("button", {
          type: "button",
          className: "icon-button rail-remove",
          title: `Remove ${title} from your home (you stay a member)`,
          attrs: { "aria-label": `Remove ${title} from your home` },
          textContent: "✕",
          on: {
            click: (e) => {
              e.stopPropagation();
              removeFromHome(entry);
            },
          },
        })
      : null,
  );
}

export function renderRail() {
  const { ctx } = home;
  const { identity, home: state, community } = ctx.store.get();
  const rail = $("home-rail");
  if (!rail || !identity) return;
  const list = $("rail-list");
  const items = buildRail(state.entries);
  const hasHere = state.entries.some((e) => e.address === ctx.baseUrl);
  const nodes = [];
  if (!hasHere) nodes.push(communityItem({ id: "", address: ctx.baseUrl, title: community.name, position: "" }));
  for (const item of items) {
    if (item.kind === "community") nodes.push(communityItem(item.entry));
    else {
      nodes.push(
        h(
          "li",
          { className: "rail-folder", dataset: { folder: String(item.folder) } },
          h(
            "span",
            { className: `rail-folder-title${item.named ? "" : " unnamed"}`, title: "Drop a community here to put it in this folder" },
            h("span", { className: "rail-folder-name" }, nameNode(item.title)),
            h("button", {
              type: "button",
              className: "icon-button rail-folder-rename",
              title: item.named ? `Rename ${item.title}` : "Name this folder",
              attrs: { "aria-label": item.named ? `Rename the folder ${item.title}` : "Name this folder" },
              textContent: "✎",
              on: { click: () => openFolderDialog(item) },
            }),
          ),
          h("ul", { className: "rail-folder-list" }, item.entries.map(communityItem)),
        ),
      );
    }
  }
  list.replaceChildren(...nodes);
  const problem = state.state === "error" ? state.error : unreadableText(state.unreadable.length);
  // Entries nobody can read any more can still go: their ids are known, and they keep positions taken.
  const forget =
    state.state !== "error" && state.unreadable.length
      ? h("button", { className: "link-button rail-forget", type: "button", textContent: "Remove", on: { click: () => removeUnreadable() } })
      : null;
  $("rail-problem").replaceChildren(h("span", { className: "rail-problem-text", textContent: problem }), ...(forget ? [" ", forget] : []));
  show($("rail-problem"), Boolean(problem));
  document.body.dataset.home = state.state;
  show($("rail-use-home"), !identity.home);
  for (const id of ["rail-join", "rail-folder", "rail-change-home"]) show($(id), Boolean(identity.home));
}

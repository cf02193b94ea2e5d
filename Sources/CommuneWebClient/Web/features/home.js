// The member's communities (docs/PROTOCOL.md "Home"): the rail above the channels, read from the home the identity
// names (`identity.home`), opened in this page with the identity's key (lib/home.js), in folders from the entries'
// positions. The community serving this page is always on the rail. Every other community on it gets a connection
// of its own, logged in with the same identity: the rail says plainly when one cannot be reached or does not know
// this identity, and shows its unread and mention counts (get_read_state, kept current from its updates).
//
// "Join a community" registers this identity with another community's invite link and adds it to the home; "Use as
// my home" makes the community serving this page the home when the identity has none; "Change home…" moves the list
// to another community; "+ New folder" and ✎ name folders. Removing a community from the
// rail removes the home's entry only: the membership stays. Dragging a community on the rail moves it
// (update_community position, planned by lib/home.js planMove); another device sees the move live.
//
// The parts, in features/home/: shared.js (the home's connection and list), others.js (the other communities'
// connections and counts), rail.js (drawing), switching.js (frames), drag.js (reordering), changes.js (joining,
// adding, removing), folders.js (naming folders), move.js (moving the list to another home).

import * as storage from "../lib/storage.js";
import { $ } from "../lib/ui.js";
import { openJoinDialog, useAsHome } from "./home/changes.js";
import { installDrag } from "./home/drag.js";
import { openFolderDialog } from "./home/folders.js";
import { openChangeHomeDialog } from "./home/move.js";
import { installFrameReports, syncOthers } from "./home/others.js";
import { renderRail } from "./home/rail.js";
import { EMBEDDED, home, homeHere, homeUpdates, loadHome, onRedraw, startHome } from "./home/shared.js";
import { showCommunity } from "./home/switching.js";

export function install(context) {
  home.ctx = context;
  home.shown = context.baseUrl;
  if (EMBEDDED) {
    document.body.dataset.embedded = "1";
    reportToParent(context);
    return;
  }
  const { ctx } = home;
  onRedraw(renderRail);
  document.body.dataset.shown = home.shown;
  window.addEventListener("popstate", () => showCommunity(storage.pageCommunity(), false));
  ctx.bus.on("signed-in", ({ first }) => {
    if (first) startHome();
    else if (homeHere()) loadHome();
  });
  ctx.store.subscribe(["home"], syncOthers);
  ctx.store.subscribe(["community", "identity"], renderRail);
  installDrag($("rail-list"));
  installFrameReports();
  $("rail-use-home").addEventListener("click", useAsHome);
  $("rail-join").addEventListener("click", openJoinDialog);
  $("rail-folder").addEventListener("click", () => openFolderDialog(null));
  $("rail-change-home").addEventListener("click", openChangeHomeDialog);
}

/** In a frame: tells the page around it this community's counts and connection state (home/others.js listens). */
function reportToParent(ctx) {
  if (window.parent === window) return;
  const sum = (map) => Array.from(map.values()).reduce((n, v) => n + (Number.isSafeInteger(v) && v > 0 ? v : 0), 0);
  const post = () => {
    const { unread, mentions, connection } = ctx.store.get();
    const message = { type: "commune-frame-counts", unread: sum(unread), mentions: sum(mentions), state: connection.state, reason: connection.reason || "" };
    window.parent.postMessage(message, location.origin);
  };
  ctx.store.subscribe(["unread", "mentions", "connection"], post);
}

/** The home's updates when the home is the community serving this page (else they come on the home's connection). */
export const updates = Object.fromEntries(
  Object.entries(homeUpdates).map(([result, handler]) => [result, (update) => !EMBEDDED && homeHere() && handler(update)]),
);

// The page's frame: the sidebar and members drawers (overlays at narrow widths), and the banner that tells about a
// lost connection and counts down to the next try.

import { sentence } from "../lib/connection.js";
import { $, show } from "../lib/ui.js";

const WIDE = matchMedia("(min-width: 1100px)");

let ctx = null;
let bannerTimer = null;

function setDrawer(which, open) {
  if (which === "members" && WIDE.matches) {
    document.body.classList.toggle("members-closed", !open);
    document.body.classList.remove("members-open");
  } else {
    document.body.classList.toggle(`${which}-open`, open);
  }
  const overlay = document.body.classList.contains("sidebar-open") || (document.body.classList.contains("members-open") && !WIDE.matches);
  show($("scrim"), overlay);
}

function membersShown() {
  return WIDE.matches ? !document.body.classList.contains("members-closed") : document.body.classList.contains("members-open");
}

function renderConnection() {
  const { connection, loggedInOnce } = ctx.store.get();
  const { state: s, retryAt, reason } = connection;
  document.body.dataset.connection = s;
  clearInterval(bannerTimer);
  const banner = $("conn-banner");
  if (s === "online" || !loggedInOnce || s === "idle" || s === "failed") {
    show(banner, false);
    if (!loggedInOnce && s === "reconnecting") {
      $("loading-text").textContent = `${sentence(reason)}. Retrying…`;
    }
    return;
  }
  show(banner, true);
  const text = $("conn-text");
  if (s === "reconnecting") {
    const tick = () => {
      const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      text.textContent = `Connection lost — reconnecting${secs > 0 ? ` in ${secs} s` : ""}…`;
    };
    tick();
    bannerTimer = setInterval(tick, 500);
    show($("conn-retry"), true);
  } else {
    text.textContent = "Reconnecting…";
    show($("conn-retry"), false);
  }
}

function retryNow() {
  const conn = ctx.store.get("conn");
  if (conn) conn.retryNow();
}

export function install(context) {
  ctx = context;
  ctx.store.subscribe(["connection"], renderConnection);
  ctx.bus.on("channel-selected", () => setDrawer("sidebar", false));
  $("open-sidebar").addEventListener("click", () => setDrawer("sidebar", true));
  $("close-sidebar").addEventListener("click", () => setDrawer("sidebar", false));
  $("open-members").addEventListener("click", () => setDrawer("members", !membersShown()));
  $("close-members").addEventListener("click", () => setDrawer("members", false));
  $("scrim").addEventListener("click", () => {
    setDrawer("sidebar", false);
    setDrawer("members", false);
  });
  $("conn-retry").addEventListener("click", retryNow);
  window.addEventListener("online", retryNow);
}

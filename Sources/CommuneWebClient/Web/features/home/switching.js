// Switching: another community is shown without a reload, as this same client in a frame of this origin
// (`/?community=<its base URL>&embedded=1`: lib/storage.js pageCommunity), kept once opened so that switching back is
// instant and its connection stays. The address bar says `?community=<base URL>`, so a reload (or a shared link on
// this browser) opens that community as this page's own.

import * as storage from "../../lib/storage.js";
import { $, h, show, toast } from "../../lib/ui.js";
import { home, redraw } from "./shared.js";

function pageUrlFor(address) {
  return address === location.origin ? "/" : `/?community=${encodeURIComponent(address)}`;
}

export function showCommunity(address, push) {
  const { ctx } = home;
  if (address === home.shown) return;
  if (address !== ctx.baseUrl) {
    const known = storage.loadCommunity(address);
    if (!known || !known.registered) {
      toast({ kind: "error", title: "Not signed in there", message: `This browser has not signed in to ${address} yet; it is tried again by itself.`, timeout: 6000 });
      return;
    }
  }
  home.shown = address;
  const frames = $("community-frames");
  let frame = null;
  for (const f of frames.querySelectorAll("iframe")) {
    const mine = f.dataset.address === address;
    f.hidden = !mine;
    if (mine) frame = f;
  }
  if (address !== ctx.baseUrl && !frame) {
    const src = address === location.origin ? "/?embedded=1" : `/?community=${encodeURIComponent(address)}&embedded=1`;
    frame = h("iframe", { className: "community-frame", src, title: address, dataset: { address } });
    frames.append(frame);
  }
  const framed = address !== ctx.baseUrl;
  show(frames, framed);
  document.body.classList.toggle("framed", framed);
  // At phone width the rail was opened in the channels drawer: the drawer closes (framed, the rail is a strip on top).
  document.body.classList.remove("sidebar-open");
  show($("scrim"), false);
  document.body.dataset.shown = address;
  if (push) history.pushState({ community: address }, "", pageUrlFor(address));
  redraw();
}

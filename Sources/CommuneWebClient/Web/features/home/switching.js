// Switching: another community is shown without a reload, as this same client in a frame of this origin
// (`/?community=<its base URL>&embedded=1`: lib/storage.js pageCommunity). The frame's connection is the only one to
// that community while it is shown: the rail's own closes (others.js handOverToFrame) and the frame reports the
// counts; switching away removes the frame and the rail connects again. The address bar says `?community=<base URL>`,
// so a reload (or a shared link on this browser) opens that community as this page's own.

import * as storage from "../../lib/storage.js";
import { $, h, show, toast } from "../../lib/ui.js";
import { handOverToFrame, takeBackFromFrame } from "./others.js";
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
  for (const f of frames.querySelectorAll("iframe")) {
    if (f.dataset.address === address) continue;
    f.remove();
    takeBackFromFrame(f.dataset.address);
  }
  if (address !== ctx.baseUrl && !frames.querySelector("iframe")) {
    handOverToFrame(address);
    const src = address === location.origin ? "/?embedded=1" : `/?community=${encodeURIComponent(address)}&embedded=1`;
    frames.append(h("iframe", { className: "community-frame", src, title: address, dataset: { address } }));
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

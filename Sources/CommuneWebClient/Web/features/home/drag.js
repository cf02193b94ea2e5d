// Drag to reorder: a community dropped on another goes before it (in its folder, if it is in one), dropped on a
// folder's title goes to the end of that folder, dropped below the list goes to the end of the top level.

import { planMove } from "../../lib/home.js";
import { errorText, toast } from "../../lib/ui.js";
import { applyEntry, callHome, home, loadHome } from "./shared.js";

let dragging = null; // the entry id being dragged

function dropTarget(event) {
  const item = event.target.closest(".rail-community");
  const folder = event.target.closest(".rail-folder");
  if (item && item.dataset.entryId) {
    return { folder: folder ? Number(folder.dataset.folder) : null, beforeId: item.dataset.entryId };
  }
  if (folder) return { folder: Number(folder.dataset.folder), beforeId: null };
  if (item) return null; // the page's community when the home does not list it
  return { folder: null, beforeId: null };
}

async function moveEntry(id, target) {
  const state = home.ctx.store.get("home");
  // Unreadable entries keep their positions on the server: they take part so that nothing collides with them.
  const all = [...state.entries, ...state.unreadable.filter((u) => u.position).map((u) => ({ id: u.id, position: u.position, address: null, title: "" }))];
  try {
    for (const step of planMove(all, id, target)) {
      const reply = await callHome("update_community", step);
      if (reply.payload && reply.payload.community) await applyEntry(reply.payload.community);
    }
  } catch (e) {
    toast({ kind: "error", title: "Not moved", message: errorText(e), timeout: 6000 });
    loadHome();
  }
}

export function installDrag(list) {
  list.addEventListener("dragstart", (e) => {
    const item = e.target.closest(".rail-community");
    if (!item || !item.dataset.entryId) return;
    dragging = item.dataset.entryId;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.dataset.address);
    item.classList.add("dragging");
  });
  list.addEventListener("dragend", (e) => {
    dragging = null;
    const item = e.target.closest(".rail-community");
    if (item) item.classList.remove("dragging");
  });
  list.addEventListener("dragover", (e) => {
    if (dragging && dropTarget(e)) e.preventDefault();
  });
  list.addEventListener("drop", (e) => {
    const id = dragging;
    const target = dropTarget(e);
    dragging = null;
    if (!id || !target || target.beforeId === id) return;
    e.preventDefault();
    moveEntry(id, target);
  });
}

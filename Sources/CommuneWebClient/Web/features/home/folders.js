// Naming folders: a folder's name is a label entry at the folder's position "x" with an empty address, sealed like
// every entry (PROTOCOL.md "Home"; the CLI's `commune home folder N NAME` does the same). "+ New folder" puts an
// empty, named folder after the last top-level entry; ✎ on a folder names or renames it.

import { openDialog } from "../../lib/dialogs.js";
import { checkedTitle, homeKey, isFolderLabel, MAX_TITLE, nextTopLevelPosition, sealEntry } from "../../lib/home.js";
import { applyEntry, callHome, home } from "./shared.js";

/** Names folder x (renames it when it has a name); x null: a new, empty folder after the last top-level entry. */
async function nameFolder(x, name) {
  const { identity, home: state } = home.ctx.store.get();
  const key = await homeKey(identity);
  const at = x === null ? nextTopLevelPosition([...state.entries, ...state.unreadable]) : String(x);
  const label = state.entries.find((e) => isFolderLabel(e) && e.position === at);
  let reply;
  if (label) {
    reply = await callHome("update_community", await sealEntry(key, { id: label.id, title: name }));
  } else {
    const holder = state.entries.find((e) => e.position === at) || state.unreadable.find((u) => u.position === at);
    if (holder) {
      const what = holder.title ? `“${holder.title}”` : "An entry that could not be read";
      throw new Error(`${what} stands where this folder's name is kept (position ${at}): drag it into the folder or elsewhere first.`);
    }
    reply = await callHome("add_community", await sealEntry(key, { address: "", title: name, position: at }));
  }
  if (reply.payload && reply.payload.community) await applyEntry(reply.payload.community);
}

/** The dialog that names a folder of the rail ({folder, title, named}), or makes a new one (null). */
export function openFolderDialog(folder) {
  openDialog({
    title: !folder ? "New folder" : folder.named ? "Rename the folder" : "Name the folder",
    lead: !folder
      ? "An empty folder at the end of your rail: drag communities onto its name to put them in it. Your other devices show it too."
      : "Your other devices show the new name too.",
    // maxLength counts UTF-16 units, the limit code points: room for MAX_TITLE characters outside the BMP (emoji);
    // checkedTitle says when a name is longer.
    fields: [{ name: "name", label: "Folder name", value: folder && folder.named ? folder.title : "", maxLength: MAX_TITLE * 2 }],
    submitText: folder ? "Save" : "Make the folder",
    onSubmit: async ({ name }) => {
      await nameFolder(folder ? folder.folder : null, checkedTitle(name));
      return true;
    },
  });
}

// Images for the next message: chosen, pasted or dropped, uploaded at once (lib/attachments.js) and shown staged
// above the composer. The composer sends the uploaded ones from the store's `staged` list.

import { MAX_ATTACHMENTS, uploadAttachment } from "../lib/attachments.js";
import { $, errorToast, h, show, toast } from "../lib/ui.js";

let ctx = null;
let seq = 0;

const staged = () => ctx.store.get("staged");
const setStaged = (list) => ctx.store.set({ staged: list });

function renderStaged() {
  const box = $("composer-attachments");
  box.replaceChildren(
    ...staged().map((a) =>
      h(
        "div",
        { className: `staged state-${a.state}`, dataset: { localId: a.localId } },
        h("img", { className: "staged-thumb", src: a.previewUrl, alt: a.file.name }),
        h("span", { className: "staged-name", textContent: a.state === "uploading" ? `Uploading ${a.file.name}…` : a.file.name }),
        h("button", {
          className: "icon-button staged-remove",
          type: "button",
          textContent: "✕",
          attrs: { "aria-label": `Remove ${a.file.name}` },
          on: { click: () => setStaged(staged().filter((x) => x !== a)) },
        }),
      ),
    ),
  );
  show(box, staged().length > 0);
}

async function stageFiles(files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  const room = MAX_ATTACHMENTS - staged().length;
  if (list.length > room) {
    toast({ kind: "error", title: "Too many images", message: `A message may carry at most ${MAX_ATTACHMENTS} images.`, code: "invalid_argument" });
  }
  await Promise.all(
    list.slice(0, Math.max(0, room)).map(async (file) => {
      const a = { localId: `att-${++seq}`, file, previewUrl: URL.createObjectURL(file), info: null, state: "uploading" };
      setStaged([...staged(), a]);
      try {
        a.info = await uploadAttachment(file, ctx.store.get("sessionToken"));
        a.state = "done";
        setStaged([...staged()]);
      } catch (e) {
        setStaged(staged().filter((x) => x !== a));
        URL.revokeObjectURL(a.previewUrl);
        errorToast(e, `${file.name} not attached`);
      }
    }),
  );
}

/** Whether the shown channel's codec takes images. */
function takesImages() {
  const { current, nodes } = ctx.store.get();
  const codec = ctx.codecOf(current ? nodes.get(current) : null);
  return Boolean(codec && codec.attachments);
}

export function install(context) {
  ctx = context;
  ctx.store.subscribe(["staged"], renderStaged);
  $("composer-file").addEventListener("change", (e) => {
    const files = Array.from(e.target.files || []);
    e.target.value = "";
    stageFiles(files);
  });
  $("composer-input").addEventListener("paste", (e) => {
    const files = Array.from((e.clipboardData && e.clipboardData.files) || []).filter((f) => f.type.startsWith("image/"));
    if (files.length) {
      e.preventDefault();
      stageFiles(files);
    }
  });
  const chat = $("chat");
  chat.addEventListener("dragover", (e) => {
    if (e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files")) {
      e.preventDefault();
      chat.classList.add("dropping");
    }
  });
  chat.addEventListener("dragleave", (e) => {
    if (!chat.contains(e.relatedTarget)) chat.classList.remove("dropping");
  });
  chat.addEventListener("drop", (e) => {
    chat.classList.remove("dropping");
    const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
    if (!files.length) return;
    e.preventDefault();
    if (takesImages()) stageFiles(files);
  });
}

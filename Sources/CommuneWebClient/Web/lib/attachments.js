// Image attachments over HTTP (docs/PROTOCOL.md, "Attachments (HTTP)"): uploads with POST /api/attachments and
// downloads with GET /api/attachments/<id> on the page's community (lib/storage.js pageCommunity), both with
// `Authorization: Bearer <session_token>`. Downloaded images
// are shown through blob: URLs (the page's Content-Security-Policy allows `img-src blob:`), in attachmentBox.

import { ServerError } from "./connection.js";
import { openDialog } from "./dialogs.js";
import { pageCommunity } from "./storage.js";
import { errorText, h } from "./ui.js";

/** The largest upload the server takes (8 MiB). */
export const MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024;
/** At most this many attachments per message. */
export const MAX_ATTACHMENTS = 4;

/** The community whose attachments this page uses (another origin's answer through its CORS, PROTOCOL.md). */
const API = `${pageCommunity()}/api/attachments`;

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  if (body && typeof body.code === "string") return new ServerError(body);
  return new ServerError({ code: response.status === 401 ? "not_authenticated" : "internal_error", message: `The server answered ${response.status} ${response.statusText}.` });
}

/** Uploads one file's bytes; resolves with {attachment_id, type, width, height, size} or rejects with ServerError. */
export async function uploadAttachment(file, token) {
  if (!token) throw new ServerError({ code: "not_authenticated", message: "Not signed in: wait for the connection and try again." });
  if (file.size > MAX_ATTACHMENT_BYTES) {
    throw new ServerError({ code: "too_large", message: `That file has ${file.size} bytes; attachments may have at most ${MAX_ATTACHMENT_BYTES} bytes.` });
  }
  let response;
  try {
    response = await fetch(API, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": file.type || "application/octet-stream" },
      body: file,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ServerError({ code: "connection_lost", message: `The upload did not reach the community: ${e.message || e}` });
  }
  if (!response.ok) throw await failure(response);
  const info = await response.json();
  if (!info || typeof info.attachment_id !== "string") throw new ServerError({ code: "internal_error", message: "The server's answer to the upload had no attachment_id." });
  return info;
}

const urls = new Map(); // attachment_id → Promise<blob: URL>

/**
 * A blob: URL for an attachment, fetched once with the session token. `token()` gives the current token (a
 * reconnect brings a new one); a 401 is retried once with a newer token.
 */
export function attachmentUrl(id, token) {
  let promise = urls.get(id);
  if (!promise) {
    promise = (async () => {
      let used = token();
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(`${API}/${encodeURIComponent(id)}`, {
          headers: { Authorization: `Bearer ${used}` },
          credentials: "omit",
        });
        if (response.ok) return URL.createObjectURL(await response.blob());
        const error = await failure(response);
        if (response.status === 401 && token() && token() !== used) {
          used = token();
          continue;
        }
        throw error;
      }
      throw new ServerError({ code: "not_authenticated", message: "The image could not be fetched." });
    })();
    urls.set(id, promise);
    promise.catch(() => urls.delete(id));
  }
  return promise;
}

/** Display size for an image of width×height inside maxW×maxH, keeping its shape. */
export function fitSize(width, height, maxW = 360, maxH = 280) {
  const w = Number.isFinite(width) && width > 0 ? width : maxW;
  const hgt = Number.isFinite(height) && height > 0 ? height : maxH;
  const scale = Math.min(1, maxW / w, maxH / hgt);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(hgt * scale)) };
}

/**
 * An image attachment: a box of the image's shape at once, filled when the bytes arrive (fetched with the token that
 * `token()` gives), or at once from `localUrl` (an image this browser is sending). A click shows it large.
 */
export function attachmentBox(a, token, localUrl = null) {
  const size = fitSize(a.width, a.height);
  const img = h("img", {
    className: "attachment-image",
    alt: `Image (${a.width || "?"}×${a.height || "?"})`,
    width: size.width,
    height: size.height,
    decoding: "async",
  });
  const box = h("div", { className: "attachment", dataset: { attachmentId: a.attachment_id || "", type: a.type || "" } }, img);
  box.style.width = `${size.width}px`;
  box.style.aspectRatio = `${size.width} / ${size.height}`;
  const failed = (e) => {
    box.classList.add("failed");
    box.replaceChildren(h("span", { className: "attachment-error", textContent: `Image unavailable: ${errorText(e)}` }));
  };
  if (localUrl) img.src = localUrl;
  else {
    attachmentUrl(a.attachment_id, token)
      .then((url) => {
        img.src = url;
      })
      .catch(failed);
  }
  img.addEventListener("click", () => {
    if (!img.src) return;
    openDialog({
      title: "Image",
      className: "image-dialog",
      body: [h("img", { className: "image-full", src: img.src, alt: img.alt })],
      submitText: null,
      cancelText: "Close",
    });
  });
  return box;
}

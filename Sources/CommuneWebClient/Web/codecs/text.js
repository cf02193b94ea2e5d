// Text channels: the chat. Messages with markup and images, history paging, sending with per-sender message numbers
// (resent safely after a lost connection), /me actions, editing and removing, and unread counts in the sidebar.
// The parts live in ./text/: model (state), messages (the list), history (paging, catching up), composer (sending,
// editing).

import { nameAttr } from "../lib/names.js";
import { $ } from "../lib/ui.js";
import { flushAllPending, queueMessage, replaceMessage, switchDraft, wireComposer } from "./text/composer.js";
import { catchUpAll, loadNewer, loadNewest, loadOlder, refreshLoaded, reloadLoadedChannels } from "./text/history.js";
import { jumpToMessage, renderMessages } from "./text/messages.js";
import { loadPins, pinChanged, reloadPins, wirePinsButton } from "./text/pins.js";
import { reactionChanged } from "./text/reactions.js";
import { mentionBadge, mentionEdited, mentionLive, mentionsRead, mentionsSeen, wireMentions } from "./text/mentions.js";
import { typingStopped, typingUpdate, wireTyping } from "./text/typing.js";
import { channelState, currentKey, isText, mergeMessages, model, NAME, onChanged, setUnread } from "./text/model.js";
import { channelOpened, markReadSoon, readMarked, syncReadState } from "./text/readstate.js";

function install(ctx) {
  model.ctx = ctx;
  const { store, bus } = ctx;
  onChanged(renderMessages);
  wireComposer();
  wireScrolling();
  wirePinsButton();
  wireTyping();
  wireMentions();

  // Names, permissions and my identity show in every message.
  store.subscribe(["members", "groups", "me"], () => renderMessages());
  // Another channel shown: an edit in progress is given up, and each channel keeps its own draft.
  store.subscribe(["current"], (_, { current }) => switchDraft(current));
  // A pending message's line says whether it is being sent or waits for the connection.
  store.subscribe(["connection"], () => {
    const key = currentKey();
    if (key && channelState(key).pending.length) renderMessages();
  });
  bus.on("channel-selected", (key) => {
    if (!isText(store.get("nodes").get(key))) return;
    channelOpened(key);
    // Where the reader starts: at the "New messages" divider, or the newest message (display.js placeReader).
    channelState(key).place = true;
    setUnread(key, () => 0);
    mentionsSeen(key);
    if (!channelState(key).loadedAny) loadPins(key);
    if (!channelState(key).loadedAny) Promise.resolve(loadNewest(key)).then(() => markReadSoon(key));
    renderMessages({ scrollToEnd: true });
    markReadSoon(key);
  });
  bus.on("signed-in", ({ previous }) => {
    model.lastNumber = Math.max(model.lastNumber, Number(previous.last_number) || 0);
  });
  bus.on("online", async ({ first, resumed }) => {
    // Resumed: what was missed arrives as updates. Otherwise messages and pins changed meanwhile are read again.
    if (!first && !resumed) await catchUpAll();
    flushAllPending();
    if (!first && !resumed) reloadPins();
    syncReadState();
  });
  // A renamed or moved channel keeps its messages, unread count and edit; a removed one's are dropped.
  bus.on("remap", ({ removed, moved }) => {
    const unread = new Map(store.get("unread"));
    for (const key of removed) {
      const to = moved(key);
      const cs = model.channels.get(key);
      model.channels.delete(key);
      if (to && cs) model.channels.set(to, cs);
      const count = unread.get(key);
      unread.delete(key);
      if (to && count) unread.set(to, count);
      if (to && model.editing && model.editing.key === key) model.editing.key = to;
      if (model.drafts.has(key)) {
        if (to) model.drafts.set(to, model.drafts.get(key));
        model.drafts.delete(key);
      }
      if (model.draftKey === key) model.draftKey = to;
    }
    store.set({ unread });
  });
  bus.on("messages-masked", reloadLoadedChannels);
  bus.on("reactions-stale", refreshLoaded);
  // A search result: its channel shown, the stretch of history around the message loaded, the message highlighted.
  bus.on("open-message", ({ key, id }) => {
    if (!isText(store.get("nodes").get(key)) || !Number.isInteger(id)) return;
    if (currentKey() !== key) ctx.select(key);
    jumpToMessage(key, id);
  });
  document.addEventListener("visibilitychange", () => {
    const key = currentKey();
    if (!document.hidden && key && store.get("unread").get(key)) setUnread(key, () => 0);
    if (!document.hidden && key && isText(store.get("nodes").get(key))) markReadSoon(key);
  });
}

function wireScrolling() {
  const box = $("messages");
  let stickToBottom = true;
  let seenSize = "";
  const sizeOf = () => `${box.clientWidth}x${box.clientHeight}`;
  box.addEventListener("scroll", () => {
    // Scrolls that a resize causes (before the observer below has seen the new size) are not the reader's.
    if (sizeOf() === seenSize) stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const key = currentKey();
    if (box.scrollTop < 150 && key) loadOlder(key);
    // Showing an older stretch (a search result): near the bottom, the next newer page.
    if (key && box.scrollHeight - box.scrollTop - box.clientHeight < 150 && channelState(key).detached) loadNewer(key);
    // Scrolled down to the newest: read.
    if (key && box.scrollHeight - box.scrollTop - box.clientHeight < 80 && isText(model.ctx.store.get("nodes").get(key))) markReadSoon(key);
  });
  // A resize (a phone rotating, the keyboard opening, a banner closing) keeps the newest message in view.
  new ResizeObserver(() => {
    seenSize = sizeOf();
    if (stickToBottom) box.scrollTop = box.scrollHeight;
  }).observe(box);
}

function messageLive({ key, payload }) {
  const { store, bus } = model.ctx;
  const added = mergeMessages(key, [payload]);
  if (payload.sender_id) typingStopped(key, payload.sender_id);
  if (payload.sender_id && !store.get("members").has(payload.sender_id)) bus.emit("unknown-member", payload.sender_id);
  const me = store.get("me");
  if (me && payload.sender_id === me.user_id && Number.isInteger(payload.message_id)) {
    // Sent from this member's other device: the server moved their mark to it (PROTOCOL, sending marks read).
    const read = { key, payload: { message_id: payload.message_id, unread: 0 } };
    readMarked(read);
    mentionsRead(read);
    if (key === currentKey()) renderMessages();
    return;
  }
  if (added) mentionLive(key, payload);
  if (key === currentKey() && !document.hidden) {
    renderMessages();
    markReadSoon(key);
  } else if (added) {
    setUnread(key, (n) => n + 1);
    if (key === currentKey()) renderMessages();
  }
}

function messageReplaced({ key, payload }) {
  const cs = model.channels.get(key);
  mentionEdited(key, cs && payload ? cs.messages.get(payload.message_id) : undefined, payload);
  replaceMessage(key, payload);
}

export default {
  name: NAME,
  label: "Text channel",
  noun: "text channel",
  icon: "#",
  landing: true,
  topic: true,
  attachments: true,
  install,
  panes: () => [$("messages"), $("composer")],
  treeBadge: (node) => mentionBadge(node.key),

  renderView(node) {
    $("composer-input").placeholder = `Message #${nameAttr(node.name)}`;
    renderMessages();
  },

  updates: {
    message_live: messageLive,
    message_edited: messageReplaced,
    message_removed: messageReplaced,
    reaction_changed: reactionChanged,
    pin_changed: pinChanged,
    member_typing: typingUpdate,
    read_marked: (update) => {
      readMarked(update);
      mentionsRead(update);
    },
  },

  commands: {
    /** Sends a message as the composer would: send(key, text, {kind, attachments}) → the pending message's id. */
    send(key, text, options) {
      return queueMessage(key, text, options).localId;
    },
  },
};

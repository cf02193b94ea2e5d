// The community itself: its name and description in the sidebar and the page title, its menu, information, invites
// and bans.

import { COMMUNITY } from "../lib/context.js";
import { openDialog } from "../lib/dialogs.js";
import { nameAttr, nameNode, textNode } from "../lib/names.js";
import { $, fullTime, h, show, toast } from "../lib/ui.js";

let ctx = null;

/** The community information as the server sends it (login, get_info, info_changed), checked. */
function communityInfo(info) {
  return {
    name: typeof info.name === "string" && info.name ? info.name : "Commune",
    description: typeof info.description === "string" ? info.description : "",
    public: Boolean(info.public),
    icon: typeof info.icon === "string" ? info.icon : null,
  };
}

const FAVICON = "/favicon.svg";
// The favicon with a red badge: the same drawing as favicon.svg, and the count (a number the page made, no text from
// anyone) in a circle. A data: URL, which the Content-Security-Policy's img-src allows.
const badgedFavicon = (label) =>
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#7c8cff"/>' +
      '<path d="M16 20h32a4 4 0 0 1 4 4v16a4 4 0 0 1-4 4H30l-10 8v-8h-4a4 4 0 0 1-4-4V24a4 4 0 0 1 4-4z" fill="#0d1030"/>' +
      '<circle cx="46" cy="18" r="18" fill="#e5484d"/>' +
      `<text x="46" y="26" font-family="sans-serif" font-size="${label.length > 1 ? 20 : 24}" font-weight="700" fill="#fff" text-anchor="middle">${label}</text></svg>`,
  );

/** The tab's title and icon: the community's name after the number of unread messages, and a badge on the icon. */
function renderTitle() {
  const { community, unread } = ctx.store.get();
  let total = 0;
  for (const count of unread.values()) total += count;
  const shown = total > 999 ? "999+" : String(total);
  document.title = `${total ? `(${shown}) ` : ""}${nameAttr(community.name)} — Commune`;
  const icon = document.querySelector("link[rel='icon']");
  if (icon) {
    const href = total ? badgedFavicon(total > 9 ? "9+" : String(total)) : FAVICON;
    if (icon.getAttribute("href") !== href) icon.setAttribute("href", href);
  }
}

function renderInfo() {
  const { name, description } = ctx.store.get("community");
  renderTitle();
  $("community-name").replaceChildren(nameNode(name));
  $("community-name").title = nameAttr(name);
  const desc = $("community-description");
  desc.replaceChildren(textNode(description));
  desc.title = description;
  show(desc, Boolean(description));
}

const button = (text, cls, onClick) => h("button", { type: "button", className: cls, textContent: text, on: { click: onClick } });

/** The community's menu: its name and description, and what my group may do here (nothing more). */
function openCommunityMenu() {
  const community = ctx.store.get("community");
  const may = (permission, ...made) => (ctx.can(permission) ? made : []);
  const actions = [
    ...may("manage_channels",
      button("Create channel…", "community-create-channel", () => ctx.bus.emit("open-create", { parent: "", container: false })),
      button("Create category…", "community-create-category", () => ctx.bus.emit("open-create", { parent: "", container: true }))),
    ...may("invite_users", button("Create invite…", "community-create-invite", openInviteDialog)),
    ...may("manage_community", button("Community information…", "community-info", openInfoDialog)),
    ...may("ban_users", button("Bans…", "community-bans", openBansDialog)),
  ];
  const group = (ctx.store.get("me") || {}).group || "member";
  openDialog({
    title: [nameNode(community.name)],
    lead: community.description ? [textNode(community.description)] : "",
    className: "community-dialog",
    body: actions.length
      ? [
          h("div", { className: "dialog-actions community-actions" }, actions),
          h("p", { className: "muted small-text", textContent: "The community decides who may do what: a refused action shows the reason." }),
        ]
      : [h("p", { className: "muted small-text community-no-actions" }, "You are in the group ", nameNode(group), ", which has nothing to manage here.")],
    submitText: null,
    cancelText: "Close",
  });
}

const EXPIRY_CHOICES = [
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "1 day" },
  { value: "0", label: "7 days" },
  { value: "-1", label: "Never" },
];

/** The groups I may invite into: every group for the owner, else those below my power level. */
function invitableGroups() {
  const me = ctx.store.get("me");
  const mine = ctx.power(me ? me.group : "member");
  const owner = me && me.group === "owner";
  const names = Array.from(ctx.store.get("groups").values()).filter((g) => owner || ctx.power(g.name) < mine).map((g) => g.name);
  if (!names.includes("member") && (owner || mine > 0)) names.push("member");
  return names.map((name) => ({ value: name, label: nameAttr(name) }));
}

function openInviteDialog() {
  openDialog({
    title: "Create an invite",
    lead: "An invite is a link. Whoever opens it can join, as many times as it has uses.",
    className: "invite-dialog",
    fields: [
      { name: "uses", label: "Uses", type: "number", value: 1, min: 1, max: 1000000 },
      { name: "expires_in", label: "Expires after", type: "select", value: "0", options: EXPIRY_CHOICES },
      { name: "group", label: "Group of those who join", type: "select", value: "member", options: invitableGroups() },
    ],
    submitText: "Create invite",
    onSubmit: async ({ uses, expires_in: expiresIn, group }) => {
      const payload = { uses: Number.isInteger(uses) && uses > 0 ? uses : 1, expires_in: Number(expiresIn) };
      if (group.trim()) payload.group = group.trim();
      const reply = await ctx.act(COMMUNITY, "create_invite", payload, "invite not created");
      return reply.payload || {};
    },
  }).then((invite) => {
    if (invite && typeof invite === "object") showInvite(invite);
  });
}

function showInvite(invite) {
  const link = invite.link || `${ctx.baseUrl}/#invite=${invite.code}`;
  const input = h("input", { id: "invite-link", readOnly: true, value: link, className: "mono" });
  const copy = h("button", {
    id: "invite-copy",
    type: "button",
    className: "primary",
    textContent: "Copy",
    on: {
      click: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(link);
          copy.textContent = "Copied";
        } catch {
          copy.textContent = document.execCommand && document.execCommand("copy") ? "Copied" : "Select and copy";
        }
      },
    },
  });
  const details = [
    `Group: ${nameAttr(invite.group || "member")}`,
    `Uses: ${invite.uses_left ?? "?"}`,
    invite.expires_at ? `Expires: ${fullTime(invite.expires_at)}` : "Never expires",
  ].join(" · ");
  openDialog({
    title: "Invite created",
    className: "invite-result",
    body: [h("div", { className: "row invite-row" }, input, copy), h("p", { className: "muted small-text", textContent: details })],
    submitText: "Done",
    cancelText: null,
  });
  input.select();
}

function openInfoDialog() {
  const community = ctx.store.get("community");
  openDialog({
    title: "Community information",
    fields: [
      { name: "name", label: "Name", value: community.name, maxLength: 64 },
      { name: "description", label: "Description", type: "textarea", value: community.description, maxLength: 1000 },
      { name: "public", label: "Public: anyone with the address may join without an invite", type: "checkbox", value: community.public },
    ],
    submitText: "Save",
    onSubmit: async ({ name, description, public: open }) => {
      await ctx.act(COMMUNITY, "set_info", { name: name.trim(), description: description.trim(), public: open }, "information not saved");
    },
  });
}

function banItem(b) {
  const unban = async () => {
    try {
      await ctx.act(COMMUNITY, "unban", { user_id: b.user_id }, "not unbanned");
      toast({ kind: "ok", title: "Unbanned", message: [nameNode(b.username), " may join again with a new invite."], timeout: 5000 });
      openBansDialog();
    } catch {
      /* toast shown */
    }
  };
  return h(
    "li",
    { className: "ban", dataset: { userId: b.user_id } },
    h("span", { className: "ban-text" }, nameNode(b.username), " — banned by ", nameNode(b.banned_by_name), ...(b.reason ? [": ", textNode(b.reason)] : [])),
    h("button", { type: "button", className: "small", textContent: "Unban", on: { click: unban } }),
  );
}

function openBansDialog() {
  ctx
    .act(COMMUNITY, "get_bans", {}, "bans not loaded")
    .then((reply) => {
      const bans = reply.payload && Array.isArray(reply.payload.bans) ? reply.payload.bans : [];
      const list = h("ul", { className: "ban-list" }, bans.length ? bans.map(banItem) : [h("li", { className: "muted", textContent: "Nobody is banned." })]);
      openDialog({ title: "Bans", body: [list], submitText: null, cancelText: "Close" });
    })
    .catch(() => {});
}

export function install(context) {
  ctx = context;
  ctx.store.subscribe(["community"], renderInfo);
  ctx.store.subscribe(["unread"], renderTitle);
  ctx.bus.on("signed-in", ({ data }) => ctx.store.set({ community: communityInfo(data.community || {}) }));
  $("open-community").addEventListener("click", openCommunityMenu);
}

/** The community updates this feature handles. */
export const updates = {
  info_changed({ payload }) {
    ctx.store.set({ community: communityInfo(payload) });
  },
};

// Drawing the web client: the message log, the conversation and member
// lists, the top bar. Text from the network only ever goes in as text
// nodes. What a button does is up to app.js, through ``actions``.

import { avatarSource, initials } from "./avatar.js";
import { linkify, parseFormatting, stripFormatting } from "./irc.js";
import { activeConversation, client, conversation, has, key } from "./state.js";

/** Set by app.js: send, switchTo, startReply, sendReaction. */
export const actions = {};

export const $ = (id) => document.getElementById(id);

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const REACTIONS = ["👍", "❤️", "😂", "🎉", "😮"];

export function setStatus(text, kind = "") {
  const status = $("connection-status");
  status.textContent = text;
  status.dataset.kind = kind;
}

export function updateTitle() {
  let unread = 0;
  for (const conv of client.conversations.values()) if (conv.kind !== "server") unread += conv.unread;
  const where = client.active && client.active !== key("*server*") ? `${activeConversation().name} | hubbub` : "hubbub";
  document.title = unread ? `(${unread}) ${where}` : where;
}

const NICK_COLOURS = 8;

export function nickColour(nick) {
  let hash = 0;
  for (const ch of key(nick)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `nick-${hash % NICK_COLOURS}`;
}

// Avatar sources that failed to load: initials from then on (bounded).
const failedAvatars = new Set();
const MAX_FAILED_AVATARS = 500;

/**
 * ``nick``'s avatar (draft/metadata-3 key "avatar"): an <img> whose source
 * avatar.js accepted, set as a DOM property, never HTML; else, or when it
 * fails to load, the initials on the nick's colour. Decorative: the nick is
 * next to it, so screen readers skip it. ``meta``: the values to show
 * instead of the known ones (the profile dialog's preview).
 */
export function avatarElement(nick, meta = client.metadata.get(key(nick)) ?? {}) {
  const holder = element("span", `avatar ${nickColour(nick)}`);
  holder.setAttribute("aria-hidden", "true");
  const letters = initials(meta["display-name"] || nick);
  const showInitials = () => {
    holder.classList.add("initials");
    holder.replaceChildren(element("span", "", letters));
  };
  const source = avatarSource(meta.avatar, { remote: client.remoteAvatars });
  if (!source || failedAvatars.has(source)) {
    showInitials();
    return holder;
  }
  const image = document.createElement("img");
  image.alt = "";
  image.referrerPolicy = "no-referrer"; // the host another user chose learns nothing of this page
  image.loading = "lazy";
  image.decoding = "async";
  image.addEventListener("error", () => {
    if (failedAvatars.size >= MAX_FAILED_AVATARS) failedAvatars.clear();
    failedAvatars.add(source);
    showInitials();
  });
  image.src = source;
  holder.append(image);
  return holder;
}

/** Formatted, linked text as DOM nodes: text nodes only, links http(s) only. */
export function formattedText(text) {
  const fragment = document.createDocumentFragment();
  for (const run of parseFormatting(text)) {
    const span = element("span");
    const classes = [];
    for (const flag of ["bold", "italic", "underline", "strike", "mono", "reverse"]) if (run[flag]) classes.push(`f-${flag}`);
    if (run.fg !== undefined && run.fg < 16) classes.push(`fg-${run.fg}`);
    if (run.bg !== undefined && run.bg < 16) classes.push(`bg-${run.bg}`);
    span.className = classes.join(" ");
    for (const piece of linkify(run.text)) {
      if (piece.href) {
        const link = element("a", "", piece.text);
        link.href = piece.href;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        span.append(link);
      } else {
        span.append(document.createTextNode(piece.text));
      }
    }
    fragment.append(span);
  }
  return fragment;
}

export function timeLabel(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function messageElement(message) {
  const row = element("div", "msg");
  if (message.local) {
    row.classList.add(message.local);
    row.append(element("time", "", timeLabel(message.time)), " ", element("span", "text", message.text));
    return row;
  }
  message.element = row;
  if (message.msgid) {
    row.dataset.msgid = message.msgid;
    row.tabIndex = -1; // a tap focuses it, which shows its actions on a phone
  }
  row.classList.toggle("self", message.self);
  row.classList.toggle("mention", Boolean(message.mention));
  row.classList.toggle("notice", message.notice);
  row.classList.toggle("action", message.action);
  const time = element("time", "", timeLabel(message.time));
  time.dateTime = message.time.toISOString();
  time.title = message.time.toLocaleString();
  if (message.replyTo) {
    const original = activeConversation().messages.find((x) => x.msgid === message.replyTo);
    const quote = element("div", "reply-quote", original ? `↪ ${original.nick}: ${stripFormatting(original.text).slice(0, 120)}` : "↪ reply to an earlier message");
    row.append(quote);
  }
  const meta = client.metadata.get(key(message.nick)) ?? {};
  row.dataset.nick = key(message.nick);
  const nick = element("span", `nick ${nickColour(message.nick)}`, message.action ? `* ${message.nick}` : message.nick);
  const body = element("span", "text");
  if (message.redacted) {
    body.textContent = "(message deleted)";
    body.classList.add("redacted");
  } else {
    body.append(formattedText(message.text));
  }
  row.append(time, " ", avatarElement(message.nick), " ", nick, " ");
  // A display name (draft/metadata-3) is shown as text, never as markup.
  if (meta["display-name"]) row.append(element("span", "display-name", meta["display-name"]), " ");
  row.append(body);
  if (message.reactions.size) {
    const list = element("div", "reactions");
    for (const [emoji, nicks] of message.reactions) {
      const chip = element("span", "reaction", `${emoji} ${nicks.size}`);
      chip.title = [...nicks].join(", ");
      list.append(chip);
    }
    row.append(list);
  }
  return row;
}

/**
 * One toolbar, outside the log, for the message under the pointer or focus:
 * buttons inside each row would be read out with every new message.
 */
export function showActions(row) {
  const conv = activeConversation();
  const message = conv.messages.find((x) => x.msgid && x.msgid === row.dataset.msgid);
  const toolbar = $("message-actions");
  if (!message || message.redacted) {
    toolbar.hidden = true;
    return;
  }
  if (client.actionsFor === message && !toolbar.hidden) return;
  client.actionsFor = message;
  toolbar.replaceChildren(...messageActions(message));
  toolbar.hidden = !toolbar.childElementCount;
  const log = $("messages");
  toolbar.style.top = `${Math.max(0, row.offsetTop - log.scrollTop - toolbar.offsetHeight + 4)}px`;
}

export function hideActions() {
  $("message-actions").hidden = true;
  client.actionsFor = null;
}

function messageActions(message) {
  const buttons = [];
  if (has("message-tags")) {
    const reply = element("button", "quiet", "Reply");
    reply.type = "button";
    reply.setAttribute("aria-label", `Reply to ${message.nick}`);
    reply.addEventListener("click", () => actions.startReply(message));
    buttons.push(reply);
    for (const emoji of REACTIONS.slice(0, 3)) {
      const react = element("button", "quiet react", emoji);
      react.type = "button";
      react.setAttribute("aria-label", `React ${emoji}`);
      react.addEventListener("click", () => actions.sendReaction(message, emoji));
      buttons.push(react);
    }
  }
  // Only a logged-in user may delete: the server refuses guests (no account to own it).
  if (message.self && client.account && has("draft/message-redaction")) {
    const remove = element("button", "quiet", "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", "Delete your message");
    remove.addEventListener("click", () => actions.send("REDACT", [activeConversation().name, message.msgid]));
    buttons.push(remove);
  }
  return buttons;
}

export function refreshMessageElement(message) {
  const old = message.element;
  if (!old || !old.isConnected) return;
  const focused = document.activeElement === old;
  const fresh = messageElement(message);
  old.replaceWith(fresh);
  if (focused) fresh.focus({ preventScroll: true }); // a keyboard user stays where they were
}

/** Redraw the open conversation's messages from ``nick`` (its avatar or display name changed). */
export function refreshMessagesFrom(nick) {
  const id = key(nick);
  for (const message of activeConversation().messages) if (!message.local && key(message.nick) === id) refreshMessageElement(message);
}

function nearBottom(log) {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
}

export function appendMessageElement(message) {
  const log = $("messages");
  const stick = nearBottom(log);
  log.append(messageElement(message));
  if (stick || message.self) log.scrollTop = log.scrollHeight;
}

export function renderMessages({ keepOffsetFromBottom = false } = {}) {
  hideActions();
  const log = $("messages");
  const fromBottom = log.scrollHeight - log.scrollTop;
  const conv = activeConversation();
  // A redraw (history arriving, avatars allowed) keeps the keyboard on the
  // message it was on.
  const focused = log.contains(document.activeElement) ? document.activeElement.closest(".msg") : null;
  const focusedId = focused ? focused.dataset.msgid : undefined;
  log.replaceChildren(...conv.messages.map(messageElement));
  log.scrollTop = keepOffsetFromBottom ? log.scrollHeight - fromBottom : log.scrollHeight;
  const again = focusedId && conv.messages.find((m) => m.msgid === focusedId);
  if (again && again.element) again.element.focus({ preventScroll: true });
}

export function renderConversationList() {
  const list = $("conversation-list");
  const convs = [...client.conversations.values()].sort((a, b) => {
    const rank = { server: 0, channel: 1, query: 2 };
    return rank[a.kind] - rank[b.kind] || a.name.localeCompare(b.name);
  });
  client.order = convs.map((c) => key(c.name));
  list.replaceChildren(
    ...convs.map((conv) => {
      const item = element("li");
      const button = element("button", "conversation", conv.kind === "server" ? "Server messages" : conv.name);
      button.type = "button";
      button.classList.toggle("mention", conv.mention);
      button.classList.toggle("parted", conv.kind === "channel" && !conv.joined);
      if (key(conv.name) === client.active) button.setAttribute("aria-current", "true");
      if (conv.unread) {
        const badge = element("span", "badge", String(conv.unread));
        badge.setAttribute("aria-label", `${conv.unread} unread${conv.mention ? ", mentioned" : ""}`);
        button.append(" ", badge);
      }
      button.addEventListener("click", () => {
        actions.switchTo(conv.name);
        closeDrawers();
        $("message").focus();
      });
      item.append(button);
      return item;
    }),
  );
}

function sortedMembers(conv) {
  const rank = (entry) => {
    const index = client.prefix.findIndex((p) => entry.modes.has(p.mode));
    return index < 0 ? client.prefix.length : index;
  };
  return [...conv.members.values()].sort((a, b) => rank(a) - rank(b) || key(a.nick).localeCompare(key(b.nick)));
}

function symbolOf(entry) {
  const best = client.prefix.find((p) => entry.modes.has(p.mode));
  return best ? best.symbol : "";
}

export function myModes(conv) {
  return conv.members.get(key(client.nick))?.modes ?? new Set();
}

export function renderMembers() {
  const conv = activeConversation();
  const list = $("member-list");
  const members = conv.kind === "channel" ? sortedMembers(conv) : [];
  $("member-count").textContent = members.length ? `(${members.length})` : "";
  const op = ["q", "a", "o", "h"].some((mode) => myModes(conv).has(mode));
  // Redrawn often (joins, modes, away): keep the open menu open, and focus where it was.
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const focusedText = focused?.textContent;
  const focusedNick = focused?.closest(".member")?.dataset.nick;
  list.replaceChildren(
    ...members.map((entry) => {
      const item = element("li", "member");
      item.dataset.nick = key(entry.nick);
      item.classList.toggle("away", Boolean(entry.away));
      const button = element("button", "member-name");
      button.type = "button";
      button.setAttribute("aria-expanded", "false");
      const symbol = symbolOf(entry);
      button.append(element("span", "prefix", symbol), avatarElement(entry.nick), element("span", nickColour(entry.nick), entry.nick));
      const meta = client.metadata.get(key(entry.nick));
      if (meta?.["display-name"]) button.append(" ", element("span", "display-name", meta["display-name"]));
      if (entry.account) button.append(" ", element("span", "account", `(${entry.account})`));
      const label = [symbol === "@" ? "operator" : symbol === "+" ? "voiced" : symbol ? symbol : "", entry.nick, entry.account ? `logged in as ${entry.account}` : "", entry.away ? "away" : ""];
      button.setAttribute("aria-label", label.filter(Boolean).join(" "));
      if (entry.away) button.title = `away: ${entry.away}`;
      const menu = memberMenu(conv, entry, op);
      menu.hidden = client.memberMenu !== key(entry.nick);
      button.setAttribute("aria-expanded", String(!menu.hidden));
      button.addEventListener("click", () => {
        const open = menu.hidden;
        for (const other of list.querySelectorAll(".member-menu")) other.hidden = true;
        for (const other of list.querySelectorAll(".member-name")) other.setAttribute("aria-expanded", "false");
        menu.hidden = !open;
        client.memberMenu = open ? key(entry.nick) : null;
        button.setAttribute("aria-expanded", String(open));
        if (open) menu.querySelector("button")?.focus();
      });
      item.append(button, menu);
      return item;
    }),
  );
  if (focusedNick) {
    const item = list.querySelector(`.member[data-nick="${CSS.escape(focusedNick)}"]`);
    const again = [...(item?.querySelectorAll("button") ?? [])].find((b) => b.textContent === focusedText);
    again?.focus();
  }
}

function memberMenu(conv, entry, op) {
  const menu = element("div", "member-menu");
  menu.setAttribute("role", "group");
  menu.setAttribute("aria-label", `Actions for ${entry.nick}`);
  const add = (label, action) => {
    const button = element("button", "quiet", label);
    button.type = "button";
    button.addEventListener("click", () => {
      action();
      menu.hidden = true;
      client.memberMenu = null;
    });
    menu.append(button);
  };
  add("Private message", () => {
    actions.switchTo(conversation(entry.nick, "query").name);
    closeDrawers();
    $("message").focus();
  });
  if (op && key(entry.nick) !== key(client.nick)) {
    add(entry.modes.has("o") ? "Take operator" : "Make operator", () => actions.send("MODE", [conv.name, entry.modes.has("o") ? "-o" : "+o", entry.nick]));
    add(entry.modes.has("v") ? "Take voice" : "Give voice", () => actions.send("MODE", [conv.name, entry.modes.has("v") ? "-v" : "+v", entry.nick]));
    add("Kick", () => actions.send("KICK", [conv.name, entry.nick]));
    add("Ban", () => {
      actions.send("MODE", [conv.name, "+b", `${entry.nick}!*@*`]);
      actions.send("KICK", [conv.name, entry.nick, "Banned"]);
    });
  }
  return menu;
}

export function renderTopbar() {
  const conv = activeConversation();
  $("conversation-title").textContent = conv.kind === "server" ? "Server messages" : conv.name;
  const topic = $("topic");
  topic.replaceChildren(formattedText(conv.kind === "channel" ? conv.topic : ""));
  topic.hidden = !(conv.kind === "channel" && conv.topic);
  $("leave").hidden = conv.kind === "server";
  $("leave").textContent = conv.kind === "channel" ? "Leave" : "Close";
  $("leave").setAttribute("aria-label", conv.kind === "channel" ? `Leave ${conv.name}` : `Close ${conv.name}`);
  $("message").disabled = conv.kind === "channel" && !conv.joined && client.registered;
  $("show-members").hidden = conv.kind !== "channel";
}

export function renderTyping() {
  const conv = activeConversation();
  const nicks = [...conv.typing.keys()];
  $("typing").textContent = !nicks.length ? "" : nicks.length === 1 ? `${nicks[0]} is typing…` : `${nicks.slice(0, 3).join(", ")} are typing…`;
}

export function renderWhoAmI() {
  const text = client.account ? `${client.nick} (logged in as ${client.account})` : `${client.nick} (guest)`;
  $("my-avatar").replaceChildren(avatarElement(client.nick));
  $("who-am-i").textContent = text;
  $("profile").hidden = !has("draft/metadata-3");
}

export function closeDrawers() {
  for (const id of ["conversations", "members"]) $(id).classList.remove("open");
  $("show-conversations").setAttribute("aria-expanded", "false");
  $("show-members").setAttribute("aria-expanded", "false");
  $("backdrop").hidden = true;
}

export function toggleDrawer(id, button) {
  const open = !$(id).classList.contains("open");
  closeDrawers();
  if (open) {
    $(id).classList.add("open");
    $(button).setAttribute("aria-expanded", "true");
    $("backdrop").hidden = false;
    $(id).querySelector("button, input")?.focus();
  }
}

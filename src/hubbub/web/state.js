// The web client's state: the connection's capabilities and ISUPPORT, the
// conversations and their members, and what is remembered in localStorage.
// No DOM here: the page is drawn by view.js.

import { fold, isChannel, parsePrefix } from "./irc.js";

/** Set by app.js: called when a conversation is created (to redraw the list). */
export const hooks = { conversationAdded: () => {} };

const STORE = "hubbub.web";

export function loadSaved() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "{}");
  } catch {
    return {};
  }
}

export function save(changes) {
  const saved = { ...loadSaved(), ...changes };
  for (const [key, value] of Object.entries(saved)) if (value === null) delete saved[key];
  localStorage.setItem(STORE, JSON.stringify(saved));
}

export class Conversation {
  constructor(name, kind) {
    this.name = name;
    this.kind = kind; // "server" | "channel" | "query"
    this.messages = [];
    this.msgids = new Set();
    this.members = new Map();
    this.topic = "";
    this.unread = 0;
    this.mention = false;
    this.joined = false;
    this.historyAsked = false;
    this.loadingOlder = false;
    this.reachedStart = false;
    this.typing = new Map();
    this.readUpTo = null;
  }

  newestMsgid() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].msgid) return this.messages[i].msgid;
    return null;
  }

  oldestMsgid() {
    for (const message of this.messages) if (message.msgid) return message.msgid;
    return null;
  }
}

export const client = {
  ws: null,
  nick: "",
  wantNick: "",
  password: null,
  keys: null,
  register: false,
  email: "",
  account: null,
  available: new Map(),
  caps: new Set(),
  isupport: {},
  prefix: parsePrefix(),
  registered: false,
  session: false, // registered once since Connect: a lost connection is retried
  quitting: false,
  retries: 0,
  retryTimer: null,
  batches: new Map(),
  conversations: new Map(),
  active: null,
  order: [],
  sasl: null,
  replyTo: null,
  lastTyping: 0,
  metadata: new Map(),
  remoteAvatars: false, // [web] remote_avatars, from settings.json
  actionsFor: null, // the message the actions toolbar is showing
  memberMenu: null, // folded nick whose member menu is open
};

export const key = (name) => fold(name, client.isupport.CASEMAPPING || "rfc1459");

export const chantypes = () => client.isupport.CHANTYPES ?? "#&";

export const has = (cap) => client.caps.has(cap);

export function conversation(name, kind) {
  const id = key(name);
  let conv = client.conversations.get(id);
  if (!conv) {
    conv = new Conversation(name, kind ?? (isChannel(name, chantypes()) ? "channel" : "query"));
    client.conversations.set(id, conv);
    hooks.conversationAdded(conv);
  }
  return conv;
}

export function serverConversation() {
  return conversation("*server*", "server");
}

export function activeConversation() {
  return client.conversations.get(client.active) ?? serverConversation();
}

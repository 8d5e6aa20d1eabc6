// The hubbub web client: IRC over the WebSocket it was served from
// (text.ircv3.net), with the state in this page only. Message text is only
// ever put in the page as text nodes (textContent), never as HTML; the CSP
// enforces that with Trusted Types.

import { runCommand } from "./commands.js";
import {
  buildLine, isChannel, mentions, parseCaps, parseInput, parseIsupport, parseLine, parsePrefix,
  parseSource, splitBytes, stripFormatting,
} from "./irc.js";
import { profileProblem, setProfile, wireProfile } from "./profile.js";
import { ScramClient, authenticateChunks, canScram, fromBase64, plainPayload } from "./sasl.js";
import {
  activeConversation, chantypes, client, conversation, has, hooks, key, loadSaved, save,
  serverConversation,
} from "./state.js";
import {
  $, actions, appendMessageElement, closeDrawers, hideActions, refreshMessageElement,
  refreshMessagesFrom, renderConversationList, renderMembers, renderMessages, renderTopbar,
  renderTyping, renderWhoAmI, setStatus, showActions, toggleDrawer, updateTitle,
} from "./view.js";

const WANTED_CAPS = [
  "message-tags", "server-time", "echo-message", "batch", "sasl", "draft/chathistory",
  "away-notify", "account-notify", "account-tag", "extended-join", "multi-prefix",
  "invite-notify", "cap-notify", "draft/account-registration", "draft/multiline",
  "draft/read-marker", "draft/message-redaction", "draft/metadata-3",
];
const MAX_MESSAGES = 2000; // per conversation; the oldest are dropped beyond
const HISTORY_PAGE = 50;
const MAX_SEND_BYTES = 400; // text per PRIVMSG, so the relayed line fits 512 bytes
const TYPING_EVERY = 3000;
const TYPING_EXPIRES = 6000;

function isLoopback() {
  return ["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
}

// ---------------------------------------------------------------- state

// ---------------------------------------------------------------- connection

function send(command, params = [], tags = {}) {
  if (client.ws && client.ws.readyState === WebSocket.OPEN) {
    client.ws.send(buildLine(command, params, tags));
    return true;
  }
  notice(activeConversation(), "Not connected: the message was not sent.");
  return false;
}

function connect() {
  clearTimeout(client.retryTimer);
  client.quitting = false;
  client.registered = false;
  client.caps = new Set();
  client.available = new Map();
  client.batches = new Map();
  client.nick = client.wantNick;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  setStatus(client.retries ? "Reconnecting…" : "Connecting…", "busy");
  const ws = new WebSocket(`${scheme}://${location.host}/`, ["text.ircv3.net"]);
  client.ws = ws;
  ws.addEventListener("open", () => {
    send("CAP", ["LS", "302"]);
    send("NICK", [client.wantNick]);
    send("USER", [client.wantNick.toLowerCase().replace(/[^a-z0-9]/g, "") || "web", "0", "*", "hubbub web client"]);
  });
  ws.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const message = parseLine(event.data);
    if (message) handle(message);
  });
  ws.addEventListener("close", () => {
    if (client.ws !== ws) return;
    client.ws = null;
    for (const conv of client.conversations.values()) conv.joined = false;
    if (client.quitting) {
      setStatus("Disconnected", "error");
    } else if (client.session) {
      scheduleReconnect(); // this page was connected before: keep trying
    } else {
      failLogin(client.registered ? "The server closed the connection." : "Could not connect to the server.");
    }
  });
}

function scheduleReconnect() {
  const delay = Math.min(30, 2 ** client.retries) * (0.75 + Math.random() * 0.5);
  client.retries += 1;
  let left = Math.ceil(delay);
  setStatus(`Reconnecting in ${left} s…`, "busy");
  const tick = () => {
    left -= 1;
    if (left > 0) {
      setStatus(`Reconnecting in ${left} s…`, "busy");
      client.retryTimer = setTimeout(tick, 1000);
    } else {
      connect();
    }
  };
  client.retryTimer = setTimeout(tick, 1000);
}

function failLogin(text) {
  client.quitting = true;
  client.session = false;
  if (client.ws) client.ws.close();
  client.ws = null;
  if (client.keys) save({ keys: null, account: null });
  client.keys = null;
  showConnectScreen(text);
}

// ---------------------------------------------------------------- capability negotiation and login

function requestCaps() {
  const wanted = WANTED_CAPS.filter((cap) => client.available.has(cap));
  if (!wanted.length) return finishCaps();
  let chunk = [];
  for (const cap of wanted) {
    if ((chunk.join(" ") + " " + cap).length > 400) {
      send("CAP", ["REQ", chunk.join(" ")]);
      chunk = [];
    }
    chunk.push(cap);
  }
  send("CAP", ["REQ", chunk.join(" ")]);
}

function finishCaps() {
  if (client.register && client.password) {
    const value = client.available.get("draft/account-registration");
    if (value !== undefined && value.split(",").includes("before-connect")) {
      send("REGISTER", ["*", client.email || "*", client.password]);
      return; // CAP END after the answer
    }
  }
  if (!client.register && (client.password || client.keys) && has("sasl")) return startSasl();
  send("CAP", ["END"]);
}

function startSasl() {
  const mechanisms = (client.available.get("sasl") || "PLAIN").split(",");
  if (canScram() && mechanisms.includes("SCRAM-SHA-256")) {
    const secret = client.password ? { password: client.password, keys: client.keys } : { keys: client.keys };
    client.sasl = { mechanism: "SCRAM-SHA-256", scram: new ScramClient(client.wantNick, secret), step: 0, buffer: "" };
  } else if (client.password && (location.protocol === "https:" || isLoopback())) {
    client.sasl = { mechanism: "PLAIN", step: 0, buffer: "" };
  } else {
    notice(serverConversation(), "Cannot log in safely here (no SCRAM and no TLS): connected as a guest.");
    send("CAP", ["END"]);
    return;
  }
  send("AUTHENTICATE", [client.sasl.mechanism]);
}

async function onAuthenticate(data) {
  const sasl = client.sasl;
  if (!sasl) return;
  if (data !== "+") {
    sasl.buffer += data;
    if (data.length === 400) return;
  }
  const payload = sasl.buffer ? fromBase64(sasl.buffer) : new Uint8Array();
  sasl.buffer = "";
  let answer;
  try {
    if (sasl.mechanism === "PLAIN") {
      answer = plainPayload(client.wantNick, client.password);
    } else if (sasl.step === 0) {
      answer = sasl.scram.clientFirst();
    } else if (sasl.step === 1) {
      answer = await sasl.scram.clientFinal(payload);
    } else {
      if (!sasl.scram.verify(payload)) throw new Error("the server's SCRAM signature is wrong");
      answer = new Uint8Array();
    }
  } catch (error) {
    send("AUTHENTICATE", ["*"]);
    failLogin(`Login failed: ${error.message}`);
    return;
  }
  sasl.step += 1;
  for (const chunk of authenticateChunks(answer)) send("AUTHENTICATE", [chunk]);
}

function loggedIn(account) {
  client.account = account;
  const sasl = client.sasl;
  if (sasl && sasl.scram && sasl.scram.keys) {
    client.keys = sasl.scram.keys;
    save({ nick: client.wantNick, account, keys: client.keys });
  } else {
    save({ nick: client.wantNick, account });
  }
  renderWhoAmI();
}

// ---------------------------------------------------------------- incoming lines

function handle(message) {
  const batchRef = message.tags.batch;
  if (batchRef && client.batches.has(batchRef) && message.command !== "BATCH") {
    client.batches.get(batchRef).lines.push(message);
    return;
  }
  const handler = HANDLERS[message.command];
  if (handler) handler(message);
  else if (/^[0-9]{3}$/.test(message.command)) numeric(message);
}

const HANDLERS = {
  PING: (m) => send("PONG", m.params),
  CAP: onCap,
  AUTHENTICATE: (m) => onAuthenticate(m.params[0] ?? "+"),
  REGISTER: onRegister,
  BATCH: onBatch,
  PRIVMSG: (m) => onMessage(m, "PRIVMSG"),
  NOTICE: (m) => onMessage(m, "NOTICE"),
  TAGMSG: onTagmsg,
  JOIN: onJoin,
  PART: onPart,
  KICK: onKick,
  QUIT: onQuit,
  NICK: onNick,
  MODE: onMode,
  TOPIC: onTopic,
  AWAY: onAway,
  ACCOUNT: (m) => forMember(parseSource(m.source).nick, (member) => { member.account = m.params[0] === "*" ? null : m.params[0]; }),
  INVITE: (m) => notice(activeConversation(), `${parseSource(m.source).nick} invites ${m.params[0] === client.nick ? "you" : m.params[0]} to ${m.params[1]}`),
  REDACT: onRedact,
  MARKREAD: onMarkread,
  // METADATA <target> <key> <visibility> [:<value>]: no value means the key was cleared
  METADATA: (m) => onMetadataValue(m.params[0], m.params[1], m.params[3]),
  FAIL: (m) => onRegisterFail(m) || notice(activeConversation(), `${m.params[0]} failed: ${m.params.at(-1)}`, "error"),
  WARN: (m) => notice(activeConversation(), `${m.params[0]}: ${m.params.at(-1)}`),
  NOTE: (m) => notice(serverConversation(), `${m.params[0]}: ${m.params.at(-1)}`),
  ERROR: (m) => notice(serverConversation(), `Server: ${m.params[0] ?? ""}`, "error"),
  CHATHISTORY: onTargetsLine,
};

function onCap(m) {
  const sub = m.params[1];
  if (sub === "LS" || sub === "NEW") {
    const more = m.params[2] === "*";
    for (const [name, value] of parseCaps(m.params.at(-1))) client.available.set(name, value);
    if (sub === "LS" && !more && !client.registered) requestCaps();
    if (sub === "NEW" && client.registered) {
      const wanted = WANTED_CAPS.filter((cap) => client.available.has(cap) && !client.caps.has(cap) && cap !== "sasl");
      if (wanted.length) send("CAP", ["REQ", wanted.join(" ")]);
    }
  } else if (sub === "ACK") {
    for (const cap of m.params.at(-1).split(" ")) {
      if (cap.startsWith("-")) client.caps.delete(cap.slice(1));
      else if (cap) client.caps.add(cap);
    }
    if (!client.registered) finishCaps();
    else if (has("draft/metadata-3")) subscribeMetadata();
  } else if (sub === "NAK") {
    if (!client.registered) send("CAP", ["END"]);
  } else if (sub === "DEL") {
    for (const cap of m.params.at(-1).split(" ")) {
      client.caps.delete(cap);
      client.available.delete(cap);
    }
  }
}

function onRegister(m) {
  // REGISTER SUCCESS <account> :msg, or VERIFICATION_REQUIRED
  if (m.params[0] === "SUCCESS") {
    loggedIn(m.params[1]);
    notice(serverConversation(), `Account ${m.params[1]} created; you are logged in.`);
  } else {
    notice(serverConversation(), m.params.at(-1));
  }
  client.register = false;
  if (!client.registered) send("CAP", ["END"]);
}

function onRegisterFail(m) {
  if (m.params[0] !== "REGISTER") return false;
  if (!client.registered) {
    failLogin(`Could not register: ${m.params.at(-1)}`);
  } else {
    notice(serverConversation(), `Could not register: ${m.params.at(-1)}`, "error");
  }
  return true;
}

function numeric(m) {
  const params = m.params.slice(1);
  switch (m.command) {
    case "001":
      client.registered = true;
      client.session = true;
      client.nick = m.params[0];
      client.retries = 0;
      setStatus("");
      showChat();
      break;
    case "005":
      parseIsupport(params.slice(0, -1), client.isupport);
      client.prefix = parsePrefix(client.isupport.PREFIX);
      break;
    case "376":
    case "422":
      afterWelcome();
      break;
    case "900":
      loggedIn(params[1]);
      break;
    case "901":
      client.account = null;
      renderWhoAmI();
      break;
    case "903":
      client.sasl = null;
      send("CAP", ["END"]);
      break;
    case "902":
    case "904":
    case "905":
    case "906":
    case "908":
      if (!client.registered && client.sasl) {
        client.sasl = null;
        failLogin(`Login failed: ${params.at(-1)}`);
      }
      break;
    case "433":
    case "432":
      if (!client.registered) {
        const next = params[0].length < 28 ? `${params[0]}_` : `${params[0].slice(0, 24)}${Math.floor(Math.random() * 1000)}`;
        client.nick = next;
        send("NICK", [next]);
      } else {
        notice(activeConversation(), `${params[0]}: ${params.at(-1)}`, "error");
      }
      break;
    case "332":
      setTopic(params[0], params[1]);
      break;
    case "331":
      setTopic(params[0], "");
      break;
    case "353":
      onNames(params[1], params[2]);
      break;
    case "366":
      renderMembers();
      break;
    case "354":
      onWhox(params);
      break;
    case "372":
      notice(serverConversation(), params.at(-1));
      break;
    case "315": // end of WHO, topic setter, modes, creation time, server info: not shown
    case "333":
    case "324":
    case "329":
    case "002":
    case "003":
    case "004":
    case "375":
      break;
    case "305":
    case "306":
      notice(activeConversation(), params.at(-1));
      break;
    case "301":
      notice(conversation(params[0]), `${params[0]} is away: ${params[1]}`);
      break;
    case "761": // RPL_KEYVALUE <target> <key> <visibility> :<value>
      onMetadataValue(params[0], params[1], params[3]);
      break;
    case "766": // RPL_KEYNOTSET <target> <key>: not set, or just cleared
      onMetadataValue(params[0], params[1], undefined);
      break;
    case "770": // subscribed, unsubscribed, subscriptions, sync later: nothing to show
    case "771":
    case "772":
    case "774":
      break;
    default:
      if (Number(m.command) >= 400) notice(activeConversation(), params.join(" "), "error");
      else notice(serverConversation(), params.join(" "));
  }
}

function afterWelcome() {
  // Subscribe before joining: a JOIN sends the members' metadata for subscribed keys only.
  if (has("draft/metadata-3")) subscribeMetadata();
  const saved = loadSaved();
  const channels = new Set(saved.channels ?? []);
  for (const conv of client.conversations.values()) if (conv.kind === "channel") channels.add(conv.name);
  if (channels.size) send("JOIN", [[...channels].join(",")]);
  if (has("draft/chathistory")) {
    const now = new Date(Date.now() + 60000).toISOString();
    send("CHATHISTORY", ["TARGETS", `timestamp=${now}`, "timestamp=1970-01-01T00:00:00.000Z", "50"]);
    for (const conv of client.conversations.values()) if (conv.kind === "query") fetchMissed(conv);
  }
  renderWhoAmI();
}

function onBatch(m) {
  const ref = m.params[0].slice(1);
  if (m.params[0].startsWith("+")) {
    client.batches.set(ref, { type: m.params[1], params: m.params.slice(2), tags: m.tags, lines: [] });
    return;
  }
  const batch = client.batches.get(ref);
  client.batches.delete(ref);
  if (!batch) return;
  const parent = client.batches.get(batch.tags.batch);
  if (batch.type === "draft/multiline" && parent) {
    // Inside a chathistory batch: one history line, not a live message.
    const merged = mergeMultiline(batch);
    if (merged) parent.lines.push(merged);
  } else if (batch.type === "chathistory") onHistoryBatch(batch);
  else if (batch.type === "draft/multiline") onMultilineBatch(batch);
  else for (const line of batch.lines) handle({ ...line, tags: { ...line.tags, batch: undefined } });
}

function onTargetsLine(m) {
  if (m.params[0] !== "TARGETS") return;
  const name = m.params[1];
  if (!isChannel(name, chantypes())) conversation(name, "query");
}

// ---------------------------------------------------------------- messages

function messageFrom(m, command) {
  const source = parseSource(m.source);
  let text = m.params[1] ?? "";
  let action = false;
  if (text.startsWith("\x01ACTION ") || text === "\x01ACTION\x01") {
    action = true;
    text = text.slice(8).replace(/\x01$/, "");
  } else if (text.startsWith("\x01")) {
    return null; // other CTCPs are not shown
  }
  const time = m.tags.time ? new Date(m.tags.time) : new Date();
  return {
    msgid: m.tags.msgid ?? null,
    time,
    nick: source.nick,
    account: m.tags.account ?? null,
    text,
    action,
    notice: command === "NOTICE",
    replyTo: m.tags["+draft/reply"] ?? null,
    reactions: new Map(),
    redacted: false,
    self: key(source.nick) === key(client.nick),
  };
}

/** Which conversation a PRIVMSG/NOTICE/TAGMSG belongs to. */
function targetOf(m) {
  const target = m.params[0].replace(new RegExp(`^[${(client.prefix.map((p) => p.symbol).join("") || "@+").replace(/[\]\\^-]/g, "\\$&")}]+`), "");
  if (isChannel(target, chantypes())) return target;
  const source = parseSource(m.source);
  if (!source.nick || source.nick.includes(".")) return "*server*";
  return key(source.nick) === key(client.nick) ? target : source.nick;
}

function onMessage(m, command) {
  const message = messageFrom(m, command);
  if (!message) return;
  const target = targetOf(m);
  if (command === "NOTICE" && (target === "*" || !client.registered || target === "*server*")) {
    notice(serverConversation(), `${message.nick ? message.nick + ": " : ""}${message.text}`);
    return;
  }
  if (key(target) === key(client.nick) || target === "*server*") {
    notice(serverConversation(), message.text);
    return;
  }
  const conv = conversation(target);
  stopTyping(conv, message.nick);
  addMessage(conv, message, true);
}

/** Insert in time order; ``older`` puts it before messages of the same time (BEFORE pages). */
function addMessage(conv, message, live, older = false) {
  if (message.msgid && conv.msgids.has(message.msgid)) return;
  if (message.msgid) conv.msgids.add(message.msgid);
  const list = conv.messages;
  let index = list.length;
  while (index > 0 && (older ? list[index - 1].time >= message.time : list[index - 1].time > message.time)) index--;
  list.splice(index, 0, message);
  if (list.length > MAX_MESSAGES) {
    const dropped = list.shift();
    if (dropped.msgid) conv.msgids.delete(dropped.msgid);
  }
  const mentioned = !message.self && (conv.kind === "query" || mentions(message.text, client.nick));
  message.mention = mentioned && conv.kind === "channel";
  const seen = key(conv.name) === client.active && !document.hidden;
  if (live && !message.self) {
    if (!seen) {
      conv.unread += 1;
      if (mentioned) conv.mention = true;
      renderConversationList();
    } else {
      markRead(conv);
    }
    if (mentioned && document.hidden) notify(conv, message);
  }
  // History is drawn once per batch (onHistoryBatch), live lines one by one.
  if (live && key(conv.name) === client.active) {
    if (index === list.length - 1) appendMessageElement(message);
    else renderMessages();
  }
  updateTitle();
}

/** A draft/multiline batch as one PRIVMSG/NOTICE line whose text has its line breaks. */
function mergeMultiline(batch) {
  const first = batch.lines[0];
  if (!first) return null;
  let text = "";
  batch.lines.forEach((line, i) => {
    if (i > 0) text += "draft/multiline-concat" in line.tags ? "" : "\n";
    text += line.params[1] ?? "";
  });
  const tags = { ...first.tags, ...batch.tags, msgid: batch.tags.msgid ?? first.tags.msgid, batch: undefined };
  return { ...first, tags, params: [batch.params[0], text] };
}

function onMultilineBatch(batch) {
  const merged = mergeMultiline(batch);
  if (merged) onMessage(merged, merged.command);
}

function onHistoryBatch(batch) {
  const target = batch.params[0];
  const conv = client.conversations.get(key(target)) ?? conversation(target);
  const before = conv.messages.length;
  const log = $("messages");
  log.setAttribute("aria-busy", "true");
  // An older page goes in newest first, each before its equals in time.
  const lines = conv.loadingOlder ? [...batch.lines].reverse() : batch.lines;
  for (const line of lines) {
    if (line.command !== "PRIVMSG" && line.command !== "NOTICE") continue;
    const message = messageFrom(line, line.command);
    if (message) addMessage(conv, message, false, conv.loadingOlder);
  }
  log.setAttribute("aria-busy", "false");
  if (conv.loadingOlder) {
    conv.loadingOlder = false;
    if (conv.messages.length === before) conv.reachedStart = true;
    if (key(conv.name) === client.active) renderMessages({ keepOffsetFromBottom: true });
  } else if (key(conv.name) === client.active) {
    renderMessages();
    if (!document.hidden) markRead(conv);
  } else if (conv.readUpTo) {
    countUnread(conv); // what came after this account's read marker (MARKREAD)
  }
  // A log too short to scroll can never be scrolled up: fill it first.
  if (key(conv.name) === client.active && log.scrollHeight <= log.clientHeight) fetchOlder(conv);
}

function onTagmsg(m) {
  const target = targetOf(m);
  const conv = client.conversations.get(key(target));
  if (!conv) return;
  const nick = parseSource(m.source).nick;
  const react = m.tags["+draft/react"];
  const reply = m.tags["+draft/reply"];
  if (react && reply) {
    const message = conv.messages.find((x) => x.msgid === reply);
    if (message) {
      const nicks = message.reactions.get(react) ?? new Set();
      nicks.add(nick);
      message.reactions.set(react, nicks);
      refreshMessageElement(message);
    }
  }
  const typing = m.tags["+typing"];
  if (typing && key(nick) !== key(client.nick)) {
    clearTimeout(conv.typing.get(nick));
    conv.typing.delete(nick);
    if (typing === "active" || typing === "paused") {
      conv.typing.set(nick, setTimeout(() => stopTyping(conv, nick), TYPING_EXPIRES));
    }
    renderTyping();
  }
}

function stopTyping(conv, nick) {
  if (!conv.typing.has(nick)) return;
  clearTimeout(conv.typing.get(nick));
  conv.typing.delete(nick);
  renderTyping();
}

function onRedact(m) {
  const conv = client.conversations.get(key(targetOf(m)));
  const message = conv?.messages.find((x) => x.msgid === m.params[1]);
  if (!message) return;
  message.redacted = true;
  message.text = "";
  refreshMessageElement(message);
}

function onMarkread(m) {
  const conv = client.conversations.get(key(m.params[0]));
  const value = m.params[1];
  if (!conv || !value || !value.startsWith("timestamp=")) return;
  conv.readUpTo = new Date(value.slice(10));
  countUnread(conv);
}

/** Unread: others' messages after the read marker (not events, not our own). */
function countUnread(conv) {
  const reading = key(conv.name) === client.active && !document.hidden;
  conv.unread = reading ? 0 : conv.messages.filter((x) => !x.self && !x.local && x.time > conv.readUpTo).length;
  if (!conv.unread) conv.mention = false;
  renderConversationList();
  updateTitle();
}

function markRead(conv) {
  if (!has("draft/read-marker") || !client.registered) return;
  const last = conv.messages.at(-1);
  if (!last || (conv.readUpTo && last.time <= conv.readUpTo)) return;
  conv.readUpTo = last.time;
  send("MARKREAD", [conv.name, `timestamp=${last.time.toISOString()}`]);
}

function subscribeMetadata() {
  send("METADATA", ["*", "SUB", "avatar", "display-name"]);
}

function onMetadataValue(target, name, value) {
  if (!target || !name || target === "*") return;
  const entry = client.metadata.get(key(target)) ?? {};
  const before = entry[name];
  if (value === undefined || value === "") delete entry[name];
  else entry[name] = value;
  client.metadata.set(key(target), entry);
  if (entry[name] === before) return;
  renderMembers();
  // Messages show the avatar and display name next to the nick: redraw theirs.
  if (name === "display-name" || name === "avatar") refreshMessagesFrom(target);
  if (key(target) === key(client.nick)) renderWhoAmI();
}

// ---------------------------------------------------------------- membership

function member(conv, nick) {
  let entry = conv.members.get(key(nick));
  if (!entry) {
    entry = { nick, modes: new Set(), away: null, account: null };
    conv.members.set(key(nick), entry);
  }
  return entry;
}

function forMember(nick, change) {
  for (const conv of client.conversations.values()) {
    const entry = conv.members.get(key(nick));
    if (entry) change(entry);
  }
  renderMembers();
}

function onJoin(m) {
  const source = parseSource(m.source);
  const conv = conversation(m.params[0], "channel");
  if (key(source.nick) === key(client.nick)) {
    conv.joined = true;
    conv.members.clear();
    rememberChannels();
    send("WHO", [conv.name, "%tcnfa,42"]);
    if (!client.active || client.active === key("*server*") || conv.openOnJoin) switchTo(conv.name);
    conv.openOnJoin = false;
    fetchMissed(conv);
  } else {
    event(conv, `${source.nick} joined`);
  }
  const entry = member(conv, source.nick);
  if (has("extended-join") && m.params[1] && m.params[1] !== "*") entry.account = m.params[1];
  renderMembers();
}

/** LATEST on a first open; AFTER the newest known message after a reconnect. */
function fetchMissed(conv) {
  if (!has("draft/chathistory")) return;
  const newest = conv.newestMsgid();
  if (newest) {
    send("CHATHISTORY", ["AFTER", conv.name, `msgid=${newest}`, String(historyLimit())]);
  } else {
    conv.historyAsked = true;
    send("CHATHISTORY", ["LATEST", conv.name, "*", String(historyLimit())]);
  }
}

function historyLimit() {
  const limit = Number(client.isupport.CHATHISTORY) || HISTORY_PAGE;
  return Math.min(limit, HISTORY_PAGE);
}

function fetchOlder(conv) {
  if (!has("draft/chathistory") || conv.loadingOlder || conv.reachedStart) return;
  const oldest = conv.oldestMsgid();
  if (!oldest) return;
  conv.loadingOlder = true;
  send("CHATHISTORY", ["BEFORE", conv.name, `msgid=${oldest}`, String(historyLimit())]);
}

function onPart(m) {
  const nick = parseSource(m.source).nick;
  const conv = client.conversations.get(key(m.params[0]));
  if (!conv) return;
  if (key(nick) === key(client.nick)) {
    conv.joined = false;
    closeConversation(conv);
    rememberChannels();
    return;
  }
  conv.members.delete(key(nick));
  event(conv, `${nick} left${m.params[1] ? ` (${m.params[1]})` : ""}`);
  renderMembers();
}

function onKick(m) {
  const conv = client.conversations.get(key(m.params[0]));
  if (!conv) return;
  const by = parseSource(m.source).nick;
  const victim = m.params[1];
  const reason = m.params[2] ? ` (${m.params[2]})` : "";
  if (key(victim) === key(client.nick)) {
    conv.joined = false;
    conv.members.clear();
    event(conv, `You were kicked by ${by}${reason}`);
    rememberChannels();
  } else {
    conv.members.delete(key(victim));
    event(conv, `${victim} was kicked by ${by}${reason}`);
  }
  renderMembers();
  renderTopbar();
}

function onQuit(m) {
  const nick = parseSource(m.source).nick;
  for (const conv of client.conversations.values()) {
    if (conv.members.delete(key(nick))) event(conv, `${nick} quit${m.params[0] ? ` (${m.params[0]})` : ""}`);
  }
  renderMembers();
}

function onNick(m) {
  const old = parseSource(m.source).nick;
  const now = m.params[0];
  // Metadata belongs to the user, not the nick: it follows the rename.
  const meta = client.metadata.get(key(old));
  if (meta && key(old) !== key(now)) {
    client.metadata.delete(key(old));
    client.metadata.set(key(now), meta);
  }
  if (key(old) === key(client.nick)) {
    client.nick = now;
    save({ nick: now });
    renderWhoAmI();
  }
  for (const conv of client.conversations.values()) {
    const entry = conv.members.get(key(old));
    if (entry) {
      conv.members.delete(key(old));
      entry.nick = now;
      conv.members.set(key(now), entry);
      event(conv, `${old} is now known as ${now}`);
    }
  }
  const query = client.conversations.get(key(old));
  if (query && query.kind === "query" && !client.conversations.has(key(now))) {
    client.conversations.delete(key(old));
    query.name = now;
    client.conversations.set(key(now), query);
    if (client.active === key(old)) client.active = key(now);
    renderConversationList();
    renderTopbar();
  }
  renderMembers();
}

function onMode(m) {
  const target = m.params[0];
  if (!isChannel(target, chantypes())) return;
  const conv = client.conversations.get(key(target));
  if (!conv) return;
  const by = parseSource(m.source).nick;
  const modes = m.params[1] ?? "";
  const args = m.params.slice(2);
  const chanmodes = (client.isupport.CHANMODES ?? "beI,k,l,imnpst").split(",");
  let adding = true;
  let argIndex = 0;
  for (const letter of modes) {
    if (letter === "+" || letter === "-") {
      adding = letter === "+";
      continue;
    }
    const prefix = client.prefix.find((p) => p.mode === letter);
    const takesArg = prefix || chanmodes[0].includes(letter) || chanmodes[1].includes(letter) || (adding && chanmodes[2].includes(letter));
    const arg = takesArg ? args[argIndex++] : undefined;
    if (prefix && arg) {
      const entry = conv.members.get(key(arg));
      if (entry) {
        if (adding) entry.modes.add(letter);
        else entry.modes.delete(letter);
      }
    }
  }
  event(conv, `${by} sets mode ${m.params.slice(1).join(" ")}`);
  renderMembers();
}

function onTopic(m) {
  setTopic(m.params[0], m.params[1] ?? "");
  const conv = client.conversations.get(key(m.params[0]));
  if (conv) event(conv, `${parseSource(m.source).nick} set the topic: ${m.params[1] ?? ""}`);
}

function setTopic(channel, topic) {
  const conv = conversation(channel, "channel");
  conv.topic = topic;
  renderTopbar();
}

function onAway(m) {
  const away = m.params[0] ?? null;
  forMember(parseSource(m.source).nick, (entry) => { entry.away = away; });
}

function onNames(channel, names) {
  const conv = conversation(channel, "channel");
  const symbols = client.prefix.map((p) => p.symbol);
  for (let name of names.split(" ")) {
    if (!name) continue;
    const modes = new Set();
    while (name && symbols.includes(name[0])) {
      modes.add(client.prefix.find((p) => p.symbol === name[0]).mode);
      name = name.slice(1);
    }
    const nick = parseSource(name).nick;
    const entry = member(conv, nick);
    entry.modes = modes;
  }
}

function onWhox(params) {
  // 354 <client> 42 <channel> <nick> <flags> <account>
  if (params[0] !== "42") return;
  const conv = client.conversations.get(key(params[1]));
  const entry = conv?.members.get(key(params[2]));
  if (!entry) return;
  const flags = params[3] ?? "";
  entry.modes = new Set(client.prefix.filter((p) => flags.includes(p.symbol)).map((p) => p.mode));
  entry.away = flags.includes("G") ? entry.away ?? "away" : null;
  entry.account = params[4] && params[4] !== "0" ? params[4] : null;
  renderMembers();
}

function rememberChannels() {
  const channels = [...client.conversations.values()].filter((c) => c.kind === "channel" && c.joined).map((c) => c.name);
  save({ channels });
}

// ---------------------------------------------------------------- notices and events

function notice(conv, text, kind = "notice") {
  addLocal(conv, { kind, text });
}

function event(conv, text) {
  addLocal(conv, { kind: "event", text });
}

function addLocal(conv, entry) {
  const message = { msgid: null, time: new Date(), local: entry.kind, text: entry.text, nick: "", reactions: new Map() };
  conv.messages.push(message);
  if (conv.messages.length > MAX_MESSAGES) conv.messages.shift();
  if (key(conv.name) === client.active) appendMessageElement(message);
}

// ---------------------------------------------------------------- notifications and title

function notify(conv, message) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const title = conv.kind === "query" ? message.nick : `${message.nick} in ${conv.name}`;
  const note = new Notification(title, { body: stripFormatting(message.text).slice(0, 200), tag: conv.name });
  note.addEventListener("click", () => {
    window.focus();
    switchTo(conv.name);
  });
}

function askNotificationPermission() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

// ---------------------------------------------------------------- drawing

function switchTo(name) {
  const conv = client.conversations.get(key(name)) ?? conversation(name);
  client.active = key(conv.name);
  conv.unread = 0;
  conv.mention = false;
  renderConversationList();
  renderTopbar();
  renderMessages();
  renderMembers();
  renderTyping();
  updateTitle();
  markRead(conv);
  if (conv.kind === "query" && !conv.historyAsked && client.registered) {
    conv.historyAsked = true;
    fetchMissed(conv);
  }
}

function closeConversation(conv) {
  client.conversations.delete(key(conv.name));
  if (client.active === key(conv.name)) {
    const next = [...client.conversations.values()].find((c) => c.kind === "channel") ?? serverConversation();
    switchTo(next.name);
  }
  renderConversationList();
}

function moveConversation(step) {
  const index = client.order.indexOf(client.active);
  const next = client.order[(index + step + client.order.length) % client.order.length];
  if (next) switchTo(client.conversations.get(next).name);
}

// ---------------------------------------------------------------- sending

function startReply(message) {
  client.replyTo = message;
  $("reply-text").textContent = `Replying to ${message.nick}: ${stripFormatting(message.text).slice(0, 80)}`;
  $("reply-banner").hidden = false;
  $("message").focus();
}

function cancelReply() {
  client.replyTo = null;
  $("reply-banner").hidden = true;
}

function sendReaction(message, emoji) {
  send("TAGMSG", [activeConversation().name], { "+draft/react": emoji, "+draft/reply": message.msgid });
}

function sendText(target, text, { action = false } = {}) {
  const tags = {};
  if (client.replyTo && has("message-tags")) tags["+draft/reply"] = client.replyTo.msgid;
  const lines = text.split("\n");
  const multiline = client.available.get("draft/multiline");
  if (lines.length > 1 && !action && has("draft/multiline") && has("batch")) {
    const limits = Object.fromEntries((multiline || "").split(",").map((x) => x.split("=")));
    const maxLines = Number(limits["max-lines"]) || 100;
    const maxBytes = Number(limits["max-bytes"]) || 4096;
    if (lines.length <= maxLines && new TextEncoder().encode(text).length <= maxBytes) {
      const ref = Math.random().toString(36).slice(2, 10);
      send("BATCH", [`+${ref}`, "draft/multiline", target], tags);
      for (const line of lines) send("PRIVMSG", [target, line], { batch: ref });
      send("BATCH", [`-${ref}`]);
      finishSend(target, text, false);
      return;
    }
  }
  for (const line of lines) {
    if (!line) continue;
    for (const piece of splitBytes(line, MAX_SEND_BYTES)) {
      send("PRIVMSG", [target, action ? `\x01ACTION ${piece}\x01` : piece], tags);
    }
  }
  finishSend(target, text, action);
}

/** Without echo-message the server sends nothing back: show what was sent. */
function finishSend(target, text, action) {
  if (!has("echo-message")) {
    const conv = conversation(target);
    addMessage(conv, { msgid: null, time: new Date(), nick: client.nick, account: client.account, text, action, notice: false, replyTo: client.replyTo?.msgid ?? null, reactions: new Map(), redacted: false, self: true }, true);
  }
  cancelReply();
  client.lastTyping = 0;
}

function joinChannel(name, channelKey) {
  const channel = isChannel(name, chantypes()) ? name : `#${name}`;
  const conv = conversation(channel, "channel");
  conv.openOnJoin = true;
  if (conv.joined) switchTo(conv.name);
  else send("JOIN", channelKey ? [channel, channelKey] : [channel]);
}

function quit(reason) {
  client.quitting = true;
  client.session = false;
  clearTimeout(client.retryTimer);
  send("QUIT", [reason]);
  setStatus("Disconnected", "error");
}

function submitMessage() {
  const box = $("message");
  const text = box.value;
  if (!text.trim()) return;
  const parsed = parseInput(text);
  box.value = "";
  resizeBox();
  if (parsed) {
    runCommand(parsed.command, parsed.rest, COMMAND_OPS);
    return;
  }
  const conv = activeConversation();
  if (conv.kind === "server") {
    notice(conv, "This is the server's window: join a channel or open a conversation to talk.", "error");
    return;
  }
  sendText(conv.name, text.startsWith("//") ? text.slice(1) : text);
}

function onTypingInput() {
  const conv = activeConversation();
  if (!has("message-tags") || conv.kind === "server" || !client.registered) return;
  const text = $("message").value;
  const now = Date.now();
  if (!text || text.startsWith("/")) {
    if (client.lastTyping) send("TAGMSG", [conv.name], { "+typing": "done" });
    client.lastTyping = 0;
  } else if (now - client.lastTyping > TYPING_EVERY) {
    client.lastTyping = now;
    send("TAGMSG", [conv.name], { "+typing": "active" });
  }
}

function resizeBox() {
  const box = $("message");
  box.rows = Math.min(6, Math.max(1, box.value.split("\n").length));
}

// ---------------------------------------------------------------- screens

function showConnectScreen(error = "") {
  $("chat").hidden = true;
  $("connect-screen").hidden = false;
  const saved = loadSaved();
  $("nick").value = client.wantNick || saved.nick || "";
  $("channels").value = (saved.channels ?? []).join(" ");
  $("connect-error").textContent = error;
  $("nick").focus();
}

function showChat() {
  // Connected: the password is in memory for reconnects, not left in the form.
  $("password").value = "";
  $("register").checked = false;
  $("email-row").hidden = true;
  $("connect-screen").hidden = true;
  $("chat").hidden = false;
  if (!client.active) switchTo(serverConversation().name);
  renderWhoAmI();
}

function start({ nick, password, register, email }) {
  client.wantNick = nick;
  client.password = password || null;
  client.register = register && Boolean(password);
  client.email = email;
  client.retries = 0;
  connect();
}

function wireUp() {
  $("register").addEventListener("change", () => {
    $("email-row").hidden = !$("register").checked;
    $("password").autocomplete = $("register").checked ? "new-password" : "current-password";
  });
  $("connect-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    askNotificationPermission();
    const nick = $("nick").value.trim();
    const password = $("password").value;
    const register = $("register").checked;
    if (!nick || /[\s,*?!@#:]/.test(nick) || /^[0-9-]/.test(nick)) {
      $("connect-error").textContent = "Choose a nickname: letters, digits, - _ [ ] { } | ^ ` and no spaces.";
      return;
    }
    if (register && password.length < 8) {
      $("connect-error").textContent = "To register, choose a password of at least 8 characters.";
      return;
    }
    const channels = $("channels").value.split(/[\s,]+/).filter(Boolean).map((c) => (isChannel(c) ? c : `#${c}`));
    save({ nick, channels });
    $("connect-error").textContent = "";
    client.keys = null;
    start({ nick, password, register, email: $("email").value.trim() });
  });
  $("compose").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitMessage();
  });
  $("message").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submitMessage();
    }
  });
  $("message").addEventListener("focus", hideActions);
  $("message").addEventListener("input", () => {
    resizeBox();
    onTypingInput();
  });
  const messages = $("messages");
  messages.addEventListener("mouseover", (ev) => {
    const row = ev.target.closest?.(".msg[data-msgid]");
    if (row) showActions(row);
  });
  messages.addEventListener("focusin", (ev) => {
    const row = ev.target.closest?.(".msg[data-msgid]");
    if (row) showActions(row);
  });
  // Arrow keys walk the messages; Tab from one reaches its actions.
  messages.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowUp" && ev.key !== "ArrowDown") return;
    const rows = [...messages.querySelectorAll(".msg[data-msgid]")];
    if (!rows.length) return;
    ev.preventDefault();
    const at = rows.indexOf(document.activeElement);
    const next = at < 0 ? rows.length - 1 : Math.min(rows.length - 1, Math.max(0, at + (ev.key === "ArrowUp" ? -1 : 1)));
    rows[next].focus();
    rows[next].scrollIntoView({ block: "nearest" });
  });
  $("messages").addEventListener("scroll", () => {
    hideActions();
    if ($("messages").scrollTop < 60) fetchOlder(activeConversation());
  });
  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("join-channel").value.trim();
    if (!name) return;
    $("join-channel").value = "";
    joinChannel(name);
    closeDrawers();
  });
  $("leave").addEventListener("click", () => {
    const conv = activeConversation();
    if (conv.kind === "channel" && conv.joined) send("PART", [conv.name]);
    else closeConversation(conv);
  });
  $("logout").addEventListener("click", () => {
    save({ keys: null, account: null });
    client.keys = null;
    client.password = null;
    client.account = null;
    quit("Logged out");
    client.conversations.clear();
    client.active = null;
    showConnectScreen();
  });
  $("reply-cancel").addEventListener("click", cancelReply);
  $("show-conversations").addEventListener("click", () => toggleDrawer("conversations", "show-conversations"));
  $("show-members").addEventListener("click", () => toggleDrawer("members", "show-members"));
  $("backdrop").addEventListener("click", closeDrawers);
  document.addEventListener("keydown", (ev) => {
    if (ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) {
      ev.preventDefault();
      moveConversation(ev.key === "ArrowUp" ? -1 : 1);
    } else if (ev.key === "Escape") {
      if (client.replyTo) cancelReply();
      hideActions();
      for (const menu of document.querySelectorAll(".member-menu")) menu.hidden = true;
      client.memberMenu = null;
      closeDrawers();
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && client.active) {
      const conv = activeConversation();
      conv.unread = 0;
      conv.mention = false;
      markRead(conv);
      renderConversationList();
      updateTitle();
    }
  });
}

/** What typed commands may do (commands.js). */
const COMMAND_OPS = {
  notice, send, joinChannel, switchTo, sendText, quit,
  sendRaw: (line) => client.ws?.send(line),
  setProfile: (name, value) => {
    const problem = profileProblem(name, value);
    if (problem) notice(activeConversation(), problem, "error");
    else setProfile(send, name, value);
  },
};

/**
 * The server's [web] settings for this page (settings.json); until they
 * come, or if they cannot be read, the strict ones. Fetched beside the
 * start, not before it: what is drawn meanwhile is drawn again.
 */
async function loadPageSettings() {
  try {
    const answer = await fetch("settings.json", { cache: "no-cache" });
    if (!answer.ok) return;
    client.remoteAvatars = (await answer.json()).remoteAvatars === true;
  } catch {
    return;
  }
  if (client.remoteAvatars && client.active) {
    renderMessages({ keepOffsetFromBottom: true });
    renderMembers();
    renderWhoAmI();
  }
}

hooks.conversationAdded = renderConversationList;
Object.assign(actions, { send, switchTo, startReply, sendReaction });
wireUp();
wireProfile(send);
loadPageSettings();
const saved = loadSaved();
if (saved.nick && saved.keys) {
  // A returning, logged-in user: straight in, with the remembered SCRAM keys.
  client.keys = saved.keys;
  start({ nick: saved.nick, password: null, register: false, email: "" });
} else {
  showConnectScreen();
}

// Pure IRC helpers for the web client: parsing and serialising lines with
// IRCv3 tags, case mapping, ISUPPORT, mIRC formatting and links. No DOM and
// no network here, so the tests can call every function directly.

const TAG_UNESCAPE = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

/** Unescape a tag value (message-tags spec: \: \s \\ \r \n; others drop the backslash). */
export function unescapeTag(value) {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== "\\") {
      out += ch;
    } else if (i + 1 < value.length) {
      const next = value[++i];
      out += TAG_UNESCAPE[next] ?? next;
    }
  }
  return out;
}

export function escapeTag(value) {
  return value.replace(/[\\; \r\n]/g, (ch) => ({ "\\": "\\\\", ";": "\\:", " ": "\\s", "\r": "\\r", "\n": "\\n" })[ch]);
}

/** One line (without CR LF) to {tags, source, command, params}; null when empty. */
export function parseLine(line) {
  let rest = line.replace(/[\r\n]+$/, "");
  const tags = {};
  if (rest.startsWith("@")) {
    const end = rest.indexOf(" ");
    if (end < 0) return null;
    for (const item of rest.slice(1, end).split(";")) {
      if (!item) continue;
      const eq = item.indexOf("=");
      if (eq < 0) tags[item] = "";
      else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
    rest = rest.slice(end + 1).replace(/^ +/, "");
  }
  let source = null;
  if (rest.startsWith(":")) {
    const end = rest.indexOf(" ");
    if (end < 0) return null;
    source = rest.slice(1, end);
    rest = rest.slice(end + 1).replace(/^ +/, "");
  }
  const params = [];
  let command = null;
  while (rest.length) {
    if (command !== null && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const end = rest.indexOf(" ");
    const word = end < 0 ? rest : rest.slice(0, end);
    if (command === null) command = word.toUpperCase();
    else params.push(word);
    if (end < 0) break;
    rest = rest.slice(end + 1).replace(/^ +/, "");
  }
  if (!command) return null;
  return { tags, source, command, params };
}

/** Build a line; the last parameter is made trailing when it needs to be. */
export function buildLine(command, params = [], tags = {}) {
  const parts = [];
  const tagText = Object.entries(tags)
    .map(([key, value]) => (value === "" || value === true ? key : `${key}=${escapeTag(String(value))}`))
    .join(";");
  if (tagText) parts.push("@" + tagText);
  parts.push(command);
  params.forEach((param, index) => {
    const text = String(param).replace(/[\r\n\0]/g, " ");
    const last = index === params.length - 1;
    if (last && (text === "" || text.includes(" ") || text.startsWith(":"))) parts.push(":" + text);
    else parts.push(text);
  });
  return parts.join(" ");
}

/** nick!user@host → {nick, user, host}. */
export function parseSource(source) {
  if (!source) return { nick: "", user: "", host: "" };
  const bang = source.indexOf("!");
  const at = source.indexOf("@");
  if (bang < 0) return { nick: at < 0 ? source : source.slice(0, at), user: "", host: at < 0 ? "" : source.slice(at + 1) };
  return { nick: source.slice(0, bang), user: at < 0 ? source.slice(bang + 1) : source.slice(bang + 1, at), host: at < 0 ? "" : source.slice(at + 1) };
}

/** Fold a name for comparison under the server's CASEMAPPING. */
export function fold(name, casemapping = "rfc1459") {
  let out = name.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  if (casemapping === "rfc1459" || casemapping === "strict-rfc1459") {
    out = out.replace(/[[\]\\]/g, (ch) => ({ "[": "{", "]": "}", "\\": "|" })[ch]);
    if (casemapping === "rfc1459") out = out.replace(/~/g, "^");
  }
  return out;
}

/** ISUPPORT tokens (005 params without the nick and trailing text) into an object. */
export function parseIsupport(tokens, into = {}) {
  for (const token of tokens) {
    if (token.startsWith("-")) {
      delete into[token.slice(1)];
      continue;
    }
    const eq = token.indexOf("=");
    into[eq < 0 ? token : token.slice(0, eq)] = eq < 0 ? "" : unescapeIsupport(token.slice(eq + 1));
  }
  return into;
}

function unescapeIsupport(value) {
  return value.replace(/\\x([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** PREFIX=(qaohv)~&@%+ → [{mode, symbol}] from highest to lowest. */
export function parsePrefix(value = "(ov)@+") {
  const match = /^\(([^)]*)\)(.*)$/.exec(value);
  if (!match) return [];
  return [...match[1]].map((mode, i) => ({ mode, symbol: match[2][i] }));
}

/** "CAP * LS :a b=c" values into a Map of name → value. */
export function parseCaps(text) {
  const caps = new Map();
  for (const item of text.split(" ")) {
    if (!item) continue;
    const eq = item.indexOf("=");
    caps.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? "" : item.slice(eq + 1));
  }
  return caps;
}

const COLOR = /^(\d{1,2})(?:,(\d{1,2}))?/;
const HEX_COLOR = /^([0-9A-Fa-f]{6})(?:,([0-9A-Fa-f]{6}))?/;

/**
 * mIRC formatting into runs of {text, bold, italic, underline, strike, mono,
 * fg, bg}: text stays text, the caller draws each run with textContent.
 */
export function parseFormatting(text) {
  const runs = [];
  let style = {};
  let current = "";
  const flush = () => {
    if (current) runs.push({ text: current, ...style });
    current = "";
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const toggle = { "\x02": "bold", "\x1d": "italic", "\x1f": "underline", "\x1e": "strike", "\x11": "mono", "\x16": "reverse" }[ch];
    if (toggle) {
      flush();
      style = { ...style, [toggle]: !style[toggle] };
    } else if (ch === "\x0f") {
      flush();
      style = {};
    } else if (ch === "\x03") {
      flush();
      const match = COLOR.exec(text.slice(i + 1));
      style = { ...style };
      if (match) {
        style.fg = Number(match[1]) % 100;
        if (match[2] !== undefined) style.bg = Number(match[2]) % 100;
        i += match[0].length;
      } else {
        delete style.fg;
        delete style.bg;
      }
    } else if (ch === "\x04") {
      flush();
      const match = HEX_COLOR.exec(text.slice(i + 1));
      if (match) i += match[0].length; // hex colours: read and ignored (the 16 mIRC colours are drawn)
    } else if (ch < " " && ch !== "\t" && ch !== "\n") {
      // other control characters are not drawn; a line break only comes from a multiline message
    } else {
      current += ch;
    }
  }
  flush();
  return runs;
}

/** Strip all formatting (for notifications and titles). */
export function stripFormatting(text) {
  return parseFormatting(text).map((run) => run.text).join("");
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Split text into [{text, href?}]: only http(s) URLs become links. */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    // Trailing punctuation belongs to the sentence, not the URL.
    while (/[.,;:!?)\]]$/.test(url) && !(url.endsWith(")") && url.includes("("))) url = url.slice(0, -1);
    if (match.index > last) out.push({ text: text.slice(last, match.index) });
    out.push({ text: url, href: safeHref(url) });
    last = match.index + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/** The URL when its scheme is http or https, else null (never javascript:, data:, ...). */
export function safeHref(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Does ``text`` mention ``nick`` as a word? */
export function mentions(text, nick) {
  if (!nick) return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w\\[\\]\\\\^{}|\`-])${escaped}($|[^\\w\\[\\]\\\\^{}|\`-])`, "i").test(stripFormatting(text));
}

/** Split a message into pieces of at most ``maxBytes`` UTF-8 bytes, at character boundaries. */
export function splitBytes(text, maxBytes) {
  const encoder = new TextEncoder();
  const pieces = [];
  let current = "";
  let size = 0;
  for (const ch of text) {
    const length = encoder.encode(ch).length;
    if (size + length > maxBytes && current) {
      pieces.push(current);
      current = "";
      size = 0;
    }
    current += ch;
    size += length;
  }
  if (current || !pieces.length) pieces.push(current);
  return pieces;
}

/** Is this a channel name under the server's CHANTYPES? */
export function isChannel(name, chantypes = "#&") {
  return name.length > 0 && chantypes.includes(name[0]);
}

/** Typed input → {command, args} for slash commands, or null for plain text. "//x" sends "/x". */
export function parseInput(text) {
  if (!text.startsWith("/") || text.startsWith("//")) return null;
  const space = text.indexOf(" ");
  const command = (space < 0 ? text.slice(1) : text.slice(1, space)).toLowerCase();
  const rest = space < 0 ? "" : text.slice(space + 1);
  return { command, rest };
}

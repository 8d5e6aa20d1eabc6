// SASL for the web client: SCRAM-SHA-256 (RFC 5802/7677) with the browser's
// SubtleCrypto, PLAIN as the fallback. SCRAM hands back the salted keys, so
// "remember me" stores those keys, never the password: they log in to this
// server only and do not reveal the password to whoever reads localStorage.

const encoder = new TextEncoder();

export function toBase64(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** The AUTHENTICATE lines carrying ``payload`` (bytes): 400-char chunks, "+" to end. */
export function authenticateChunks(payload) {
  const text = payload.length ? toBase64(payload) : "";
  const chunks = [];
  for (let i = 0; i < text.length; i += 400) chunks.push(text.slice(i, i + 400));
  if (text.length % 400 === 0) chunks.push("+");
  return chunks;
}

export function plainPayload(account, password) {
  return encoder.encode(`${account}\0${account}\0${password}`);
}

export function canScram() {
  return Boolean(globalThis.crypto && crypto.subtle);
}

async function hmac(key, data) {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, typeof data === "string" ? encoder.encode(data) : data));
}

async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

async function pbkdf2(password, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

function saslName(name) {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function parseAttributes(text) {
  const out = {};
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/**
 * One SCRAM-SHA-256 exchange. ``secret`` is {password} or remembered
 * {keys: {salt, iterations, clientKey, serverKey}} (base64 strings).
 */
export class ScramClient {
  constructor(account, secret, nonce = null) {
    this.account = account;
    this.secret = secret;
    const random = crypto.getRandomValues(new Uint8Array(18));
    this.nonce = nonce ?? toBase64(random).replace(/[+/=]/g, "x");
    this.clientFirstBare = `n=${saslName(account)},r=${this.nonce}`;
    this.serverSignature = null;
    this.keys = null;
  }

  clientFirst() {
    return encoder.encode("n,," + this.clientFirstBare);
  }

  async clientFinal(serverFirstBytes) {
    const serverFirst = new TextDecoder().decode(serverFirstBytes);
    const attrs = parseAttributes(serverFirst);
    if (!attrs.r || !attrs.r.startsWith(this.nonce) || !attrs.s || !attrs.i) throw new Error("bad SCRAM server-first message");
    const iterations = Number(attrs.i);
    let clientKey;
    let serverKey;
    const remembered = this.secret.keys;
    if (remembered && remembered.salt === attrs.s && remembered.iterations === iterations) {
      clientKey = fromBase64(remembered.clientKey);
      serverKey = fromBase64(remembered.serverKey);
    } else if (this.secret.password !== undefined) {
      const salted = await pbkdf2(this.secret.password.normalize("NFKC"), fromBase64(attrs.s), iterations);
      clientKey = await hmac(salted, "Client Key");
      serverKey = await hmac(salted, "Server Key");
    } else {
      throw new Error("the remembered login no longer matches: log in with the password");
    }
    this.keys = { salt: attrs.s, iterations, clientKey: toBase64(clientKey), serverKey: toBase64(serverKey) };
    const withoutProof = `c=${btoa("n,,")},r=${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const storedKey = await sha256(clientKey);
    const signature = await hmac(storedKey, authMessage);
    const proof = clientKey.map((byte, i) => byte ^ signature[i]);
    this.serverSignature = toBase64(await hmac(serverKey, authMessage));
    return encoder.encode(`${withoutProof},p=${toBase64(proof)}`);
  }

  /** True when the server proved it knows the keys too. */
  verify(serverFinalBytes) {
    const attrs = parseAttributes(new TextDecoder().decode(serverFinalBytes));
    return attrs.v !== undefined && attrs.v === this.serverSignature;
  }
}

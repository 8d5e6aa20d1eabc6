// Which avatar values (draft/metadata-3 key "avatar") the page loads, and
// the initials shown instead. Any user sets the value, so it is checked here
// before it ever reaches an <img src>: only https: addresses (when the server
// allows remote avatars) and small base64 data: images of the common formats.
// Everything else (javascript:, http:, data:text/html, plain text) gives null.

export const MAX_DATA_AVATAR = 8192; // characters of a data: avatar
export const MAX_URL_AVATAR = 2048; // characters of an https: avatar
const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

/** The URL to load for ``value``, or null. ``remote``: https: addresses allowed. */
export function avatarSource(value, { remote }) {
  if (typeof value !== "string" || !value) return null;
  if (value.startsWith("data:")) return value.length <= MAX_DATA_AVATAR && DATA_IMAGE.test(value) ? value : null;
  if (!remote || value.length > MAX_URL_AVATAR || !value.startsWith("https://")) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  // No user:password@ (a phishing look, and credentials sent by every viewer).
  if (url.protocol !== "https:" || url.username || url.password || !url.hostname) return null;
  return url.href;
}

/** One or two letters for ``name`` (a display name or a nick): "Alice Again" is "AA". */
export function initials(name) {
  const words = String(name).split(/\s+/).map((word) => [...word].find((ch) => /[\p{L}\p{N}]/u.test(ch))).filter(Boolean);
  if (!words.length) return [...String(name)][0]?.toUpperCase() ?? "?";
  return words.slice(0, 2).join("").toUpperCase();
}

// The user's own display name and avatar (draft/metadata-3 keys
// "display-name" and "avatar"): the Profile dialog, and the checks and the
// METADATA SET that /displayname and /avatar share with it.

import { avatarSource } from "./avatar.js";
import { client, has, key } from "./state.js";
import { $, avatarElement, closeDrawers } from "./view.js";

const DEFAULT_MAX_VALUE_BYTES = 300;

/** The most UTF-8 bytes one value may have: the server's max-value-bytes. */
function maxValueBytes() {
  for (const token of (client.available.get("draft/metadata-3") || "").split(",")) {
    const [name, value] = token.split("=");
    if (name === "max-value-bytes" && Number(value) > 0) return Number(value);
  }
  return DEFAULT_MAX_VALUE_BYTES;
}

function ownMetadata() {
  return client.metadata.get(key(client.nick)) ?? {};
}

/** Why ``value`` cannot be one's ``name`` (display-name or avatar), or "" if it can. */
export function profileProblem(name, value) {
  if (!has("draft/metadata-3")) return "This server keeps no display names or avatars.";
  const limit = maxValueBytes();
  if (new TextEncoder().encode(value).length > limit) return `Too long: this server keeps at most ${limit} bytes.`;
  if (name === "avatar" && value && !avatarSource(value, { remote: true })) {
    return "An avatar must be an https: address or a base64 data:image (png, gif, jpeg or webp).";
  }
  return "";
}

/** Send a change of one's ``name``; an empty value clears it. Unchanged: nothing is sent. */
export function setProfile(send, name, value) {
  if (value === (ownMetadata()[name] ?? "")) return;
  send("METADATA", value ? ["*", "SET", name, value] : ["*", "SET", name]);
}

function preview() {
  const typed = { "display-name": $("display-name").value.trim(), avatar: $("avatar-url").value.trim() };
  $("profile-avatar").replaceChildren(avatarElement(client.nick, typed));
  $("profile-nick").textContent = typed["display-name"] ? `${typed["display-name"]} (${client.nick})` : client.nick;
}

function openProfile() {
  closeDrawers();
  const own = ownMetadata();
  $("display-name").value = own["display-name"] ?? "";
  $("avatar-url").value = own.avatar ?? "";
  $("profile-error").textContent = "";
  $("avatar-local-hint").hidden = client.remoteAvatars;
  preview();
  $("profile-dialog").showModal();
}

/** ``send`` is app.js's: METADATA goes out on the page's connection. */
export function wireProfile(send) {
  const dialog = $("profile-dialog");
  $("profile").addEventListener("click", openProfile);
  $("profile-cancel").addEventListener("click", () => dialog.close());
  $("display-name").addEventListener("input", preview);
  $("avatar-url").addEventListener("input", preview);
  $("profile-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const displayName = $("display-name").value.trim();
    const avatar = $("avatar-url").value.trim();
    const problem = profileProblem("display-name", displayName) || profileProblem("avatar", avatar);
    $("profile-error").textContent = problem;
    if (problem) return;
    setProfile(send, "display-name", displayName);
    setProfile(send, "avatar", avatar);
    dialog.close();
    $("message").focus();
  });
}

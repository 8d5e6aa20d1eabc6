// The commands typed in the message box (/join, /msg, /kick, ...): each
// becomes IRC through ``ops`` (send, notice, switchTo, ...) given by app.js.

import { isChannel } from "./irc.js";
import { activeConversation, chantypes, conversation } from "./state.js";

const HELP = [
  "/join #channel [key] – join a channel",
  "/part [#channel] [reason] – leave a channel",
  "/msg nick text – private message",
  "/me action – say an action",
  "/nick newnick – change your nickname",
  "/topic [text] – show or set the topic",
  "/kick nick [reason] – remove someone (operators)",
  "/ban nick|mask – ban from the channel (operators)",
  "/invite nick [#channel] – invite someone",
  "/away [message] – set or clear away",
  "/displayname [name] – set your display name; none clears it",
  "/avatar [url] – set your avatar (an https: address or a data:image); none clears it",
  "/quit [message] – disconnect",
  "/help – this list",
  "Alt+Up/Down switches conversations; Esc closes menus and cancels a reply.",
];

export function runCommand(command, rest, ops) {
  const conv = activeConversation();
  const words = rest.split(" ").filter(Boolean);
  const channel = conv.kind === "channel" ? conv.name : null;
  const needChannel = () => {
    if (!channel) ops.notice(conv, `/${command} works in a channel.`, "error");
    return channel;
  };
  switch (command) {
    case "join":
    case "j":
      if (!words[0]) return ops.notice(conv, "Usage: /join #channel", "error");
      ops.joinChannel(words[0], words[1]);
      break;
    case "part":
    case "leave": {
      const target = words[0] && isChannel(words[0], chantypes()) ? words.shift() : needChannel();
      if (target) ops.send("PART", words.length ? [target, words.join(" ")] : [target]);
      break;
    }
    case "msg":
    case "query": {
      if (!words[0]) return ops.notice(conv, "Usage: /msg nick text", "error");
      const target = words[0];
      const text = rest.slice(rest.indexOf(target) + target.length + 1);
      const dest = conversation(target);
      ops.switchTo(dest.name);
      if (text) ops.sendText(target, text);
      break;
    }
    case "me":
      if (conv.kind === "server") return ops.notice(conv, "/me works in a conversation.", "error");
      ops.sendText(conv.name, rest, { action: true });
      break;
    case "nick":
      if (!words[0]) return ops.notice(conv, "Usage: /nick newnick", "error");
      ops.send("NICK", [words[0]]);
      break;
    case "topic":
      if (!needChannel()) return;
      ops.send("TOPIC", rest ? [channel, rest] : [channel]);
      break;
    case "kick":
      if (!needChannel() || !words[0]) return words[0] || ops.notice(conv, "Usage: /kick nick [reason]", "error");
      ops.send("KICK", words.length > 1 ? [channel, words[0], words.slice(1).join(" ")] : [channel, words[0]]);
      break;
    case "ban":
      if (!needChannel() || !words[0]) return words[0] || ops.notice(conv, "Usage: /ban nick|mask", "error");
      ops.send("MODE", [channel, "+b", /[!@]/.test(words[0]) ? words[0] : `${words[0]}!*@*`]);
      break;
    case "invite": {
      const target = words[1] ?? channel;
      if (!words[0] || !target) return ops.notice(conv, "Usage: /invite nick [#channel]", "error");
      ops.send("INVITE", [words[0], target]);
      break;
    }
    case "away":
      ops.send("AWAY", rest ? [rest] : []);
      break;
    case "quit":
      ops.quit(rest || "Leaving");
      break;
    case "displayname":
      ops.setProfile("display-name", rest.trim());
      break;
    case "avatar":
      ops.setProfile("avatar", rest.trim());
      break;
    case "help":
      for (const line of HELP) ops.notice(conv, line);
      break;
    case "quote":
    case "raw":
      ops.sendRaw(rest);
      break;
    default:
      ops.notice(conv, `Unknown command /${command}: /help lists them.`, "error");
  }
}

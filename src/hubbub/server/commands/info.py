"""Server information: LUSERS, MOTD, VERSION, TIME, ADMIN, INFO, LINKS, HELP, HELPOP."""

from __future__ import annotations

import time

from hubbub.protocol import masks
from hubbub.protocol import numerics as rpl
from hubbub.protocol.message import Message
from hubbub.server.api import Context, NetworkCounts
from hubbub.server.commands.registry import COMMANDS, command
from hubbub.server.isupport import isupport_lines


def send_lusers(ctx: Context) -> None:
    """The LUSERS numerics; in a cluster the network's figures come from
    the ``network_counts`` hook, this server's from its world."""
    world = ctx.server.world
    local = world.registered_count()
    counts = [count() for count in ctx.server.hooks.network_counts]
    if counts:
        network = counts[0]
    else:
        network = NetworkCounts(
            1, local, world.invisible_count(), world.oper_count(), world.max_users
        )
    users, invisible, servers = network.users, network.invisible, network.servers
    ctx.reply(
        rpl.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on {servers} servers",
    )
    ctx.reply(rpl.RPL_LUSEROP, str(network.opers), "operator(s) online")
    ctx.reply(rpl.RPL_LUSERUNKNOWN, str(world.unregistered_count()), "unknown connection(s)")
    ctx.reply(rpl.RPL_LUSERCHANNELS, str(len(world.channels)), "channels formed")
    ctx.reply(rpl.RPL_LUSERME, f"I have {local} clients and {servers - 1} servers")
    peak = str(world.max_users)
    ctx.reply(rpl.RPL_LOCALUSERS, str(local), peak, f"Current local users {local}, max {peak}")
    top = str(network.max_users)
    ctx.reply(rpl.RPL_GLOBALUSERS, str(users), top, f"Current global users {users}, max {top}")


def send_motd(ctx: Context) -> None:
    lines = ctx.server.config.motd_lines()
    if not lines:
        ctx.reply(rpl.ERR_NOMOTD, "MOTD File is missing")
        return
    ctx.reply(rpl.RPL_MOTDSTART, f"- {ctx.server.name} Message of the day - ")
    for line in lines:
        ctx.reply(rpl.RPL_MOTD, f"- {line}"[:400])
    ctx.reply(rpl.RPL_ENDOFMOTD, "End of /MOTD command.")


def _other_server(ctx: Context, msg: Message) -> bool:
    """True (and 402 sent) when the command names a server that is not us."""
    if msg.params and msg.params[0] and msg.params[0].lower() != ctx.server.name.lower():
        ctx.reply(rpl.ERR_NOSUCHSERVER, msg.params[0], "No such server")
        return True
    return False


@command("LUSERS")
def lusers(ctx: Context, msg: Message) -> None:
    """LUSERS: how many users, operators and channels there are."""
    send_lusers(ctx)


@command("MOTD")
def motd(ctx: Context, msg: Message) -> None:
    """MOTD: the message of the day."""
    if not _other_server(ctx, msg):
        send_motd(ctx)


@command("VERSION")
def version(ctx: Context, msg: Message) -> None:
    """VERSION: the server's software version and features."""
    if _other_server(ctx, msg):
        return
    server = ctx.server
    ctx.reply(rpl.RPL_VERSION, server.version, server.name, "hubbub IRC server")
    for group in isupport_lines(server.config):
        ctx.reply(rpl.RPL_ISUPPORT, *group, "are supported by this server")


@command("TIME")
def time_(ctx: Context, msg: Message) -> None:
    """TIME: the server's local time."""
    if _other_server(ctx, msg):
        return
    now = time.time()
    text = time.strftime("%A %B %d %Y -- %H:%M:%S UTC", time.gmtime(now))
    ctx.reply(rpl.RPL_TIME, ctx.server.name, str(int(now)), "0", text)


@command("ADMIN")
def admin(ctx: Context, msg: Message) -> None:
    """ADMIN: who runs this server."""
    if _other_server(ctx, msg):
        return
    section = ctx.server.config.server
    ctx.reply(rpl.RPL_ADMINME, ctx.server.name, "Administrative info")
    ctx.reply(rpl.RPL_ADMINLOC1, section.description)
    ctx.reply(rpl.RPL_ADMINLOC2, section.admin_location)
    ctx.reply(rpl.RPL_ADMINEMAIL, section.admin_email)


@command("INFO")
def info(ctx: Context, msg: Message) -> None:
    """INFO: about this server software."""
    if _other_server(ctx, msg):
        return
    server = ctx.server
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(server.started))
    for line in (
        f"{server.version}: a group chat server that speaks IRC.",
        "Written in Python; https://modern.ircdocs.horse and https://ircv3.net are its rulebook.",
        f"Running since {started}.",
    ):
        ctx.reply(rpl.RPL_INFO, line)
    ctx.reply(rpl.RPL_ENDOFINFO, "End of INFO list")


@command("LINKS")
def links(ctx: Context, msg: Message) -> None:
    """LINKS [[<server>] <mask>]: the servers of this network, this one
    first (hop count 0), then the other live nodes of a cluster, each linked
    to this one (hop count 1): every node hears every other on the bus.
    Every node knows the same network, so ``<server>`` only has to exist."""
    server = ctx.server
    others = [linked for hook in server.hooks.network_links for linked in hook()]
    known = [(server.name, 0, server.config.server.description)]
    known += [(name, 1, description) for name, description in others]
    if len(msg.params) > 1 and not any(masks.match(msg.params[0], name) for name, *_ in known):
        ctx.reply(rpl.ERR_NOSUCHSERVER, msg.params[0], "No such server")
        return
    mask = msg.params[-1] if msg.params else "*"
    for name, hops, description in known:
        if masks.match(mask, name):
            ctx.reply(rpl.RPL_LINKS, name, server.name, f"{hops} {description}")
    ctx.reply(rpl.RPL_ENDOFLINKS, mask, "End of /LINKS list")


@command("HELPOP")
def helpop(ctx: Context, msg: Message) -> None:
    """HELPOP [command]: the same as HELP."""
    help_(ctx, msg)


@command("HELP")
def help_(ctx: Context, msg: Message) -> None:
    """HELP [command]: what a command does."""
    subject = msg.params[0].upper() if msg.params else ""
    if not subject:
        names = sorted(n for n, spec in COMMANDS.items() if not spec.oper or ctx.user.is_oper)
        ctx.reply(rpl.RPL_HELPSTART, "*", "hubbub help: the commands you can use are")
        for i in range(0, len(names), 10):
            ctx.reply(rpl.RPL_HELPTXT, "*", " ".join(names[i : i + 10]))
        ctx.reply(rpl.RPL_ENDOFHELP, "*", "Try HELP <command> for more")
        return
    spec = COMMANDS.get(subject)
    if spec is None:
        ctx.reply(rpl.ERR_HELPNOTFOUND, subject, "No help available on this topic")
        return
    ctx.reply(rpl.RPL_HELPSTART, subject, f"** {subject} **")
    ctx.reply(rpl.RPL_HELPTXT, subject, spec.help or subject)
    ctx.reply(rpl.RPL_ENDOFHELP, subject, "End of /HELP")

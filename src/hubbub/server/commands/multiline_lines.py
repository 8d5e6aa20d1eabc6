"""The lines of a draft/multiline batch as they arrive: PRIVMSG and NOTICE
tagged ``batch=<ref>`` are handed here by ``messaging`` instead of being
relayed, and kept in the ``OpenBatch`` of the connection that sent them until ``BATCH -<ref>``
(``commands/multiline``). A batch that breaks a rule or a limit fails at
once (FAIL BATCH ...) and its remaining lines are dropped."""

from __future__ import annotations

import time

from hubbub.protocol.message import Message, escape_tag_value, serialize_body
from hubbub.server.api import Context
from hubbub.server.delivery import add_tag, render
from hubbub.server.multiline_batch import OpenBatch, Problem
from hubbub.server.multiline_form import CONCAT_TAG


def collect(ctx: Context, msg: Message, command: str) -> None:
    """Take one ``@batch=<ref> PRIVMSG|NOTICE <target> :<text>`` line."""
    batch = ctx.conn.open_batch
    if batch is None or batch.ref != msg.tags["batch"]:
        if batch is None:
            description = "No multiline batch with that reference"
            ctx.fail("BATCH", "MULTILINE_INVALID", description=description)
        elif not batch.failed:
            fail(ctx, batch, ("MULTILINE_INVALID", [], "Line outside the open multiline batch"))
        return
    if batch.failed or expired(ctx, batch):
        return
    text = msg.params[1] if len(msg.params) > 1 else ""
    limits = ctx.server.config.limits
    problem = batch.add(
        command,
        msg.params[0] if msg.params else "",
        text,
        CONCAT_TAG in msg.tags,
        limits.multiline_max_bytes,
        limits.multiline_max_lines,
    )
    if problem is not None:
        fail(ctx, batch, problem)


def expired(ctx: Context, batch: OpenBatch) -> bool:
    """Fail ``batch`` if it has been open longer than ``multiline_timeout``."""
    if time.monotonic() - batch.opened <= ctx.server.config.limits.multiline_timeout:
        return False
    fail(ctx, batch, ("MULTILINE_INVALID", [], "Multiline batch timed out"))
    return True


def fail(ctx: Context, batch: OpenBatch, problem: Problem) -> None:
    """``FAIL BATCH <code> ...``, labeled with the opening BATCH's label (the
    answer that label waits for), and drop the batch's lines."""
    code, params, description = problem
    batch.failed = True
    batch.lines.clear()
    conn = ctx.conn
    body = serialize_body(ctx.server.name, "FAIL", ["BATCH", code, *params, description])
    line = render(body, None, conn.tag_mask)
    if batch.label is not None:
        line = add_tag(line, "label=" + escape_tag_value(batch.label))
    conn.send(line)

"""Store calls that run to the end even when their caller is cancelled.

A cancel that lands inside a query leaves SQLAlchemy's aiosqlite adapter with
a statement half stepped (an ``INSERT ... RETURNING`` whose row was not yet
fetched); the adapter then closes the connection, and SQLite keeps a closed
connection with an unfinished statement alive as a zombie that still holds
the write lock: no one in the process, nor the history writer process, can
write again until the server exits. Callers are cancelled all the time
(``Server.stop`` cancels every background job, a nick change cancels nick
protection), so every public store call runs as a task of its own that the
caller's cancel does not reach; the caller still sees its ``CancelledError``,
once the call is over.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
C = TypeVar("C", bound=type)


def finish_when_cancelled(
    method: Callable[..., Coroutine[Any, Any, T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    @functools.wraps(method)
    async def run(*args: Any, **kwargs: Any) -> T:
        call = asyncio.ensure_future(method(*args, **kwargs))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            if not call.done():
                await asyncio.wait([call])
            raise

    return run


def uncancellable(cls: C) -> C:
    """Wrap each public ``async def`` of ``cls`` in ``finish_when_cancelled``,
    except those given a connection (``conn``): they run inside a caller's
    transaction, which is itself one such call."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.iscoroutinefunction(member):
            continue
        if "conn" in inspect.signature(member).parameters:
            continue
        setattr(cls, name, finish_when_cancelled(member))
    return cls

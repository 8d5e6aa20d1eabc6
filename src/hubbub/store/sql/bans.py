"""Server bans set by operators: K-lines on user@host masks, D-lines on IP
addresses and CIDR ranges, each permanent or with an expiry."""

from __future__ import annotations

import builtins
import ipaddress
from datetime import timedelta
from typing import cast

from sqlalchemy import Delete, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.keys import name_key
from hubbub.store.records import BanKind, ServerBan
from hubbub.store.schema import server_bans
from hubbub.store.sql.uncancellable import uncancellable
from hubbub.store.timeutil import from_ms, to_ms, utcnow


def normalise_mask(kind: BanKind, mask: str) -> str:
    """The mask as stored: D-lines in canonical network form (``10.0.0.0/8``,
    a bare address as ``/32`` or ``/128``), K-lines checked for ``user@host``."""
    if kind == "D":
        try:
            return str(ipaddress.ip_network(mask.strip(), strict=False))
        except ValueError:
            raise ValueError(f"D-line mask must be an IP address or CIDR range: {mask!r}") from None
    if kind == "K":
        user, at, host = mask.partition("@")
        if not (user and at and host) or " " in mask:
            raise ValueError(f"K-line mask must look like user@host: {mask!r}")
        return mask
    raise ValueError(f"unknown ban kind {kind!r}")


@uncancellable
class SqlServerBans:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self,
        kind: BanKind,
        mask: str,
        reason: str,
        setter: str,
        duration: timedelta | None = None,
    ) -> ServerBan:
        mask = normalise_mask(kind, mask)
        set_at = utcnow()
        ban = ServerBan(
            kind=kind,
            mask=mask,
            reason=reason,
            setter=setter,
            set_at=set_at,
            expires_at=None if duration is None else set_at + duration,
        )
        row = {
            "kind": kind,
            "mask": mask,
            "mask_key": name_key(mask),
            "reason": reason,
            "setter": setter,
            "set_at": to_ms(set_at),
            "expires_at": None if ban.expires_at is None else to_ms(ban.expires_at),
        }
        async with self._engine.begin() as conn:
            await conn.execute(self._matching(kind, mask))
            await conn.execute(insert(server_bans), row)
        return ban

    async def remove(self, kind: BanKind, mask: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(self._matching(kind, normalise_mask(kind, mask)))
        return bool(result.rowcount)

    async def list_active(self, kind: BanKind | None = None) -> builtins.list[ServerBan]:
        query = select(server_bans).order_by(server_bans.c.set_at, server_bans.c.id)
        if kind is not None:
            query = query.where(server_bans.c.kind == kind)
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(server_bans).where(server_bans.c.expires_at <= to_ms(utcnow()))
            )
            rows = (await conn.execute(query)).all()
        return [
            ServerBan(
                kind=cast(BanKind, row.kind),
                mask=row.mask,
                reason=row.reason,
                setter=row.setter,
                set_at=from_ms(row.set_at),
                expires_at=None if row.expires_at is None else from_ms(row.expires_at),
            )
            for row in rows
        ]

    @staticmethod
    def _matching(kind: BanKind, mask: str) -> Delete:
        return delete(server_bans).where(
            server_bans.c.kind == kind, server_bans.c.mask_key == name_key(mask)
        )

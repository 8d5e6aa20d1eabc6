"""Errors the store raises, so callers can answer users without parsing SQL messages."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for every error the store raises on purpose."""


class AlreadyExists(StoreError):
    """The name (account, channel, fingerprint, ...) is already taken."""


class NotFound(StoreError):
    """The account or channel the operation needs does not exist."""

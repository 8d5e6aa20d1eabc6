"""The tables, as SQLAlchemy Core metadata the queries are written against.

Alembic migrations in ``migrations/versions`` create and evolve them; a test
checks the migrated database matches this file. Only portable types are used
(times are integer milliseconds, booleans are Boolean) so PostgreSQL can take
the same queries."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT.
RowId = BigInteger().with_variant(Integer(), "sqlite")

accounts = Table(
    "accounts",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("email", String(255)),
    Column("registered_at", BigInteger, nullable=False),
    Column("scram_salt", LargeBinary),
    Column("scram_iterations", Integer),
    Column("scram_stored_key", LargeBinary),
    Column("scram_server_key", LargeBinary),
    # Ids are never reused (migration 0005): private history is keyed by them.
    sqlite_autoincrement=True,
)

account_certfps = Table(
    "account_certfps",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column(
        "account_id",
        RowId,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

# IRCv3 metadata (avatar, display-name, ...) of accounts, so that a user
# finds it again at every login (migration 0007).
account_metadata = Table(
    "account_metadata",
    metadata,
    Column(
        "account_id",
        RowId,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

channels = Table(
    "channels",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("founder", String(64), nullable=False),
    Column("registered_at", BigInteger, nullable=False),
    Column("topic_text", Text),
    Column("topic_setter", String(255)),
    Column("topic_set_at", BigInteger),
    Column("topic_lock", Boolean, nullable=False),
    Column("modes", String(255), nullable=False),
)

channel_lists = Table(
    "channel_lists",
    metadata,
    Column("id", RowId, primary_key=True),
    Column(
        "channel_id",
        RowId,
        ForeignKey("channels.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(1), nullable=False),
    Column("mask", String(255), nullable=False),
    Column("mask_key", String(255), nullable=False),
    Column("setter", String(255), nullable=False),
    Column("set_at", BigInteger, nullable=False),
    UniqueConstraint("channel_id", "kind", "mask_key"),
)

channel_access = Table(
    "channel_access",
    metadata,
    Column(
        "channel_id",
        RowId,
        ForeignKey("channels.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("account_key", String(64), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("level", String(8), nullable=False),
)

server_bans = Table(
    "server_bans",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("kind", String(1), nullable=False),
    Column("mask", String(255), nullable=False),
    Column("mask_key", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("setter", String(255), nullable=False),
    Column("set_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, index=True),
    UniqueConstraint("kind", "mask_key"),
)

# One row per server start (migration 0010): its id is the boot number the
# server's event ids begin with, so msgids are unique across restarts and
# across the cluster nodes that share the database (protocol/msgid.py).
boots = Table(
    "boots",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("started_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

# A message whose msgid is derived from its id (protocol/msgid.py: every
# message of a server since migration 0010) has a NULL msgid; others (older
# rows, imports) keep theirs as text, unique, with ids below
# protocol.msgid.FIRST_ID.
history = Table(
    "history",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("msgid", String(64)),
    Column("target_key", String(255), nullable=False),
    Column("target", String(255), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("sender", String(512), nullable=False),
    Column("account", String(64)),
    Column("command", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("party_a", String(64)),
    Column("party_b", String(64)),
    Index("ix_history_target_time", "target_key", "time_ms", "id"),
    Index(
        "uq_history_msgid",
        "msgid",
        unique=True,
        sqlite_where=column("msgid").isnot(None),
        postgresql_where=column("msgid").isnot(None),
    ),
)

# The private conversations each party (account party key or guest's folded
# nick, see keys.account_party) took part
# in: what CHATHISTORY TARGETS needs, written once per pair instead of
# indexing every private message (migration 0004).
history_parties = Table(
    "history_parties",
    metadata,
    Column("party_key", String(64), primary_key=True),
    Column("conversation_key", String(255), primary_key=True),
)

# Cluster nodes' nick claims (migration 0008; docs/cluster.md): one row per
# nick in use on the network, inserted before a user gets it.
cluster_nicks = Table(
    "cluster_nicks",
    metadata,
    Column("nick_key", String(255), primary_key=True),
    Column("node", String(32), nullable=False, index=True),
    Column("uid", String(128), nullable=False),
    Column("claimed_at", BigInteger, nullable=False),
)

# --- one account, many devices (migration 0009) ---------------------------------
# Every row names its account by id, so deleting the account deletes them
# (foreign keys cascade) and a later account of the same name starts clean.

# draft/read-marker: the last message the account has read, per target
# (folded channel name or nick), only ever moving forward.
read_markers = Table(
    "read_markers",
    metadata,
    Column("account_id", RowId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("target_key", String(255), primary_key=True),
    Column("target", String(255), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
)

# NickServ SET MULTICLIENT / SET ALWAYS-ON; NULL: the server's default.
account_settings = Table(
    "account_settings",
    metadata,
    Column("account_id", RowId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("multiclient", Boolean),
    Column("always_on", Boolean),
)

# Named devices (alice@phone) and when each was last connected: what a
# device missed is replayed from there.
account_devices = Table(
    "account_devices",
    metadata,
    Column("account_id", RowId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("device", String(64), primary_key=True),
    Column("last_seen_ms", BigInteger, nullable=False),
)

# An always-on user as it stands, so it is back after a restart.
always_on_users = Table(
    "always_on_users",
    metadata,
    Column("account_id", RowId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("nick", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("realname", String(255), nullable=False),
    Column("modes", String(32), nullable=False),
    Column("channels", Text, nullable=False),  # JSON: [[channel, prefix], ...]
)

# Secrets the nodes of one network share (migration 0011): the cloak key,
# so that one address is cloaked alike on every node and a K-line on a
# cloak matches it everywhere. The first node to start stores its key.
network_secrets = Table(
    "network_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(256), nullable=False),
)

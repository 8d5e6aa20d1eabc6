"""Private history keyed by account id; nothing outlives a deleted account.

* ``accounts`` gets AUTOINCREMENT, so an id is never handed out twice (plain
  SQLite reuses the highest id after it is deleted); PostgreSQL's sequence
  already never reuses one.
* A private message's party that names an existing account becomes that
  account's party key (``@<id>``, keys.account_party); the conversation key
  is recomputed from the two. Old rows cannot tell a logged-in ``alice``
  from a guest using that nick: they go to the account, which is who could
  read them before. Messages between two guests are deleted: only logged-in
  users are served private history now, so nobody could read them.
* ``history_parties`` is rebuilt from the converted messages.
* Access entries of accounts that no longer exist, and registrations whose
  founder account is gone, left behind by deletions before this revision,
  are deleted, so an account created later under the old name inherits
  nothing.

Runs with foreign keys off (migrate.py): recreating ``accounts`` on SQLite
must not cascade into ``account_certfps``; child rows are deleted by hand.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PARTIES = ("party_a", "party_b")
_CONVERSATION = (
    "CASE WHEN party_a < party_b THEN party_a || ' ' || party_b ELSE party_b || ' ' || party_a END"
)
# lower() folds ASCII only, which is CASEMAPPING=ascii (keys.name_key).
_ORPHAN_CHANNELS = (
    "SELECT id FROM channels WHERE lower(founder) NOT IN (SELECT name_key FROM accounts)"
)


def _recreate_accounts(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "accounts", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def _rebuild_parties() -> None:
    op.execute("DELETE FROM history_parties")
    op.execute(
        "INSERT INTO history_parties (party_key, conversation_key)"
        " SELECT party_a, target_key FROM history WHERE party_a IS NOT NULL"
        " UNION"
        " SELECT party_b, target_key FROM history WHERE party_b IS NOT NULL"
    )


def upgrade() -> None:
    _recreate_accounts(autoincrement=True)
    for column in PARTIES:
        op.execute(
            f"UPDATE history SET {column} ="
            f" '@' || (SELECT id FROM accounts WHERE name_key = history.{column})"
            f" WHERE {column} IN (SELECT name_key FROM accounts)"
        )
    op.execute(
        "DELETE FROM history WHERE party_a IS NOT NULL"
        " AND party_a NOT LIKE '@%' AND party_b NOT LIKE '@%'"
    )
    op.execute(f"UPDATE history SET target_key = {_CONVERSATION} WHERE party_a IS NOT NULL")
    _rebuild_parties()
    op.execute(
        "DELETE FROM channel_access WHERE account_key NOT IN (SELECT name_key FROM accounts)"
    )
    for child in ("channel_lists", "channel_access"):
        op.execute(f"DELETE FROM {child} WHERE channel_id IN ({_ORPHAN_CHANNELS})")
    op.execute(f"DELETE FROM channels WHERE id IN ({_ORPHAN_CHANNELS})")


def downgrade() -> None:
    for column in PARTIES:
        op.execute(
            f"UPDATE history SET {column} ="
            f" (SELECT name_key FROM accounts WHERE '@' || accounts.id = history.{column})"
            f" WHERE {column} LIKE '@%'"
        )
    op.execute(
        "DELETE FROM history WHERE target_key LIKE '% %' AND (party_a IS NULL OR party_b IS NULL)"
    )
    op.execute(f"UPDATE history SET target_key = {_CONVERSATION} WHERE party_a IS NOT NULL")
    _rebuild_parties()
    _recreate_accounts(autoincrement=False)

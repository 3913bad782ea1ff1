"""Usernames unique whatever their letter case: a unique index on lower(username)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The store checks case-insensitively before inserting, but two registrations racing past
    # the check on different connections ("Ada", "ada") both succeeded without this index.
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", table_name="users")

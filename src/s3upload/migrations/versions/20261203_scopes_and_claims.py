"""scopes and claims: what an upload belongs to, and whether the application claimed it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCOPED = "scope IS NOT NULL"
_UNCLAIMED = "claimed_at IS NULL AND claim_deadline IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("scope", sa.String(161), nullable=True))
        batch.add_column(sa.Column("claim_within", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claim_deadline", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    # A scope's files, newest first, whoever uploaded them: flat at any table size.
    op.create_index(
        "ix_uploads_scope_created",
        "uploads",
        ["scope", "created_at", "id"],
        postgresql_where=sa.text(_SCOPED),
        sqlite_where=sa.text(_SCOPED),
    )
    # The sweeper's look for finished files nobody claimed in time.
    op.create_index(
        "ix_uploads_unclaimed",
        "uploads",
        ["claim_deadline"],
        postgresql_where=sa.text(_UNCLAIMED),
        sqlite_where=sa.text(_UNCLAIMED),
    )


def downgrade() -> None:
    op.drop_index("ix_uploads_unclaimed", table_name="uploads")
    op.drop_index("ix_uploads_scope_created", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claim_deadline")
        batch.drop_column("claim_within")
        batch.drop_column("scope")

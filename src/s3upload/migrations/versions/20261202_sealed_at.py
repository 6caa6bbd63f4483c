"""sealed_at: when a verified POST upload was last seen unchanged after its form expired

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNSEALED = (
    "method = 'POST' AND sealed_at IS NULL AND status IN ('uploaded', 'processing', 'completed')"
)


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True))
    # The sweeper's second look at verified POST uploads: few rows, each once.
    op.create_index(
        "ix_uploads_unsealed",
        "uploads",
        ["expires_at"],
        postgresql_where=sa.text(_UNSEALED),
        sqlite_where=sa.text(_UNSEALED),
    )


def downgrade() -> None:
    op.drop_index("ix_uploads_unsealed", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("sealed_at")

"""processing: checked bytes, variants and their lease, public files

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TO_PROCESS = "wants_variants AND status IN ('uploaded', 'processing')"
_TO_PROCESS_SQLITE = "wants_variants = 1 AND status IN ('uploaded', 'processing')"


def upgrade() -> None:
    false = sa.false()
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("sniff", sa.Boolean(), nullable=False, server_default=false))
        batch.add_column(sa.Column("public", sa.Boolean(), nullable=False, server_default=false))
        batch.add_column(
            sa.Column("wants_variants", sa.Boolean(), nullable=False, server_default=false)
        )
        batch.add_column(sa.Column("variants", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    # The processors' look for work: only files waiting for (or in) processing.
    op.create_index(
        "ix_uploads_to_process",
        "uploads",
        ["lease_until"],
        postgresql_where=sa.text(_TO_PROCESS),
        sqlite_where=sa.text(_TO_PROCESS_SQLITE),
    )


def downgrade() -> None:
    op.drop_index("ix_uploads_to_process", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        for column in ("attempts", "lease_until", "variants", "wants_variants", "public", "sniff"):
            batch.drop_column(column)

"""hourly usage for the bytes quota, and an index of pending uploads per owner

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:10:00
"""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    usage = op.create_table(
        "upload_usage",
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "hour", name=op.f("pk_upload_usage")),
    )
    op.create_index(
        "ix_uploads_owner_pending",
        "uploads",
        ["owner"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    # Carry the last day's declared bytes over, so the quota does not reset on upgrade.
    bind = op.get_bind()
    since = datetime.now(UTC) - timedelta(days=1)
    if bind.dialect.name == "sqlite":
        since = since.replace(tzinfo=None)
    rows = bind.execute(
        sa.text(
            "SELECT owner, created_at, file_size FROM uploads "
            "WHERE created_at > :since AND file_size IS NOT NULL"
        ),
        {"since": since},
    )
    totals: Counter[tuple[str, datetime]] = Counter()
    for owner, created_at, size in rows:
        if isinstance(created_at, str):  # SQLite
            created_at = datetime.fromisoformat(created_at)
        totals[owner, created_at.replace(minute=0, second=0, microsecond=0)] += size
    if totals:
        op.bulk_insert(
            usage, [{"owner": o, "hour": h, "bytes": b} for (o, h), b in sorted(totals.items())]
        )


def downgrade() -> None:
    op.drop_index("ix_uploads_owner_pending", table_name="uploads")
    op.drop_table("upload_usage")

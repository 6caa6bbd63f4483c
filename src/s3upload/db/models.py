"""The tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from s3upload.db.states import Status
from s3upload.db.types import UTCDateTime

# Constraint names are fixed so migrations can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_STATUSES = ", ".join(f"'{s.value}'" for s in Status)


UNSEALED = (
    "method = 'POST' AND sealed_at IS NULL AND status IN ('uploaded', 'processing', 'completed')"
)

SCOPED = "scope IS NOT NULL"
TO_PROCESS = "status IN ('uploaded', 'processing')"
UNCLAIMED = "claimed_at IS NULL AND claim_deadline IS NOT NULL"


class Upload(Base):
    """One upload: what was promised, where it goes, and how far it got."""

    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("strategy IN ('single', 'multipart')", name="strategy"),
        CheckConstraint("file_size > 0", name="file_size_positive"),
        # Keyset pagination of one owner's uploads, newest first.
        Index("ix_uploads_owner_created", "owner", "created_at", "id"),
        # The sweeper looks for pending uploads past their window.
        Index("ix_uploads_status_expires", "status", "expires_at"),
        # Processors list every owner's files by status, newest first.
        Index("ix_uploads_status_created", "status", "created_at", "id"),
        # The pending quota counts one owner's pending uploads: a small, bounded index.
        Index(
            "ix_uploads_owner_pending",
            "owner",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_uploads_scope_created",
            "scope",
            "created_at",
            "id",
            postgresql_where=text(SCOPED),
            sqlite_where=text(SCOPED),
        ),
        Index(
            "ix_uploads_unclaimed",
            "claim_deadline",
            postgresql_where=text(UNCLAIMED),
            sqlite_where=text(UNCLAIMED),
        ),
        Index(
            "ix_uploads_to_process",
            "lease_until",
            postgresql_where=text("wants_variants AND " + TO_PROCESS),
            sqlite_where=text("wants_variants = 1 AND " + TO_PROCESS),
        ),
        Index(
            "ix_uploads_unsealed",
            "expires_at",
            postgresql_where=text(UNSEALED),
            sqlite_where=text(UNSEALED),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(255))
    # Null until verified when the client did not declare a size (Uppy's single uploads).
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    # The most bytes this upload may hold (the profile's maximum when it was created).
    size_limit: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    profile: Mapped[str] = mapped_column(String(64))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    checksum_algorithm: Mapped[str | None] = mapped_column(String(16))
    checksum_value: Mapped[str | None] = mapped_column(String(128))
    store_upload_id: Mapped[str | None] = mapped_column(Text)
    part_size: Mapped[int | None] = mapped_column(BigInteger)
    part_count: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(128))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A verified POST upload could be written again until its form expired (no store refuses
    # a second POST): set once the sweeper saw it unchanged after that.
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the file belongs to in the application (`event/1234`), if anything.
    scope: Mapped[str | None] = mapped_column(String(161))
    # Seconds a finished file waits to be claimed (its profile's, when it was created).
    claim_within: Mapped[int | None] = mapped_column(Integer)
    # Set when it is verified, if it needs claiming; cleared once an unclaimed file's object
    # is removed (so a failed removal is tried again).
    claim_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Promises of the profile at create: read the first bytes at verification; serve the file
    # to anyone once finished; make the profile's variants.
    sniff: Mapped[bool] = mapped_column(default=False, server_default=false())
    public: Mapped[bool] = mapped_column(default=False, server_default=false())
    wants_variants: Mapped[bool] = mapped_column(default=False, server_default=false())
    # {name: {width, height, size, contentType, key}} once written.
    variants: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A processor holds the file until then; `attempts` counts tries that hit store errors.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UploadUsage(Base):
    """Bytes one owner declared in one UTC hour: the daily quota sums the last 24 rows."""

    __tablename__ = "upload_usage"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)


# Autoincrementing on both PostgreSQL (BIGINT identity) and SQLite (INTEGER PRIMARY KEY).
_SERIAL = BigInteger().with_variant(Integer, "sqlite")


class WebhookEvent(Base):
    """The outbox: one row per status change, written in the change's own transaction."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        # What the deliverers have not yet fanned out to the endpoints: few rows at a time.
        Index(
            "ix_webhook_events_unfanned",
            "id",
            postgresql_where=text("fanned_out = false"),
            sqlite_where=text("fanned_out = 0"),
        ),
    )

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)  # `webhook-id`, the same on retries
    upload_id: Mapped[uuid.UUID]
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte, on every attempt
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fanned_out: Mapped[bool] = mapped_column(default=False)


class WebhookDelivery(Base):
    """One event to one endpoint: its attempts, its lease, and how it ended."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_known"),
        # Due work, oldest first; and the per-upload order check.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint", "upload_id", "event_pk"),
    )

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_events.id"))
    upload_id: Mapped[uuid.UUID]
    endpoint: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
